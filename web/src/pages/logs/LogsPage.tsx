// Logs: CPA's main log read incrementally with the /logs cursor (follow,
// pause, level and text filters, management-API noise hidden by default,
// clearing), the request error log files, a request's log by its id
// (#/logs?request=<id>, linked from monitoring), and the request-log switch.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { REFRESH_MS } from '../../api/queries';
import { setQuery, useLocation } from '../../app/router';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { QueryView } from '../../components/QueryView';
import { saveBlob } from '../../lib/download';
import { fileNameFrom, filterLines, LOG_LEVELS, MAX_LINES, normalizeRequestId, type LogLevel } from './logic';
import { useLogStream } from './useLogStream';
import './logs.css';

/** Lines rendered at most (the newest that pass the filter). */
const RENDER_LINES = 1000;

export function LogsPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="logs-page" className="stack">
      <PageHeader title={t('logsPage.title')} description={t('logsPage.description')} />
      <MainLogCard />
      <RequestLogCard />
      <ErrorFilesCard />
    </div>
  );
}

function MainLogCard() {
  const { t } = useTranslation();
  const api = useApi();
  const id = useId();
  const [follow, setFollow] = useState(true);
  const [text, setText] = useState('');
  const [level, setLevel] = useState<LogLevel | ''>('');
  const [hideManagement, setHideManagement] = useState(true);
  const [clearOpen, setClearOpen] = useState(false);
  const [clearing, setClearing] = useState(false);
  const [clearError, setClearError] = useState<unknown>(null);
  const stream = useLogStream(follow);
  const { buffer } = stream;

  const shown = useMemo(() => filterLines(buffer.lines, { text, level, hideManagement }), [buffer.lines, text, level, hideManagement]);
  const visible = shown.length > RENDER_LINES ? shown.slice(shown.length - RENDER_LINES) : shown;

  // Stick to the bottom while following, unless the reader scrolled up.
  const boxRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (box && follow && atBottom.current) box.scrollTop = box.scrollHeight;
  }, [visible, follow]);

  const clear = async () => {
    setClearing(true);
    setClearError(null);
    try {
      await api.management('/logs', { method: 'DELETE' });
      setClearOpen(false);
      stream.restart();
    } catch (e) {
      setClearError(e);
    } finally {
      setClearing(false);
    }
  };

  return (
    <Card
      title={t('logsPage.main.title')}
      subtitle={t('logsPage.main.subtitle', { max: MAX_LINES })}
      actions={
        <>
          <Button
            size="sm"
            variant={follow ? 'primary' : 'default'}
            aria-pressed={follow}
            data-testid="logs-follow"
            onClick={() => setFollow((v) => !v)}
          >
            {follow ? t('logsPage.main.following') : t('logsPage.main.paused')}
          </Button>
          <Button size="sm" icon="refresh" onClick={() => void stream.poll()}>
            {t('common.refresh')}
          </Button>
          <Button size="sm" variant="danger" data-testid="logs-clear" onClick={() => setClearOpen(true)}>
            {t('logsPage.main.clear')}
          </Button>
        </>
      }
    >
      <div className="logs-controls row">
        <label className="field" htmlFor={id + '-text'}>
          <span className="field-label">{t('logsPage.main.filterText')}</span>
          <input
            id={id + '-text'}
            className="input"
            type="search"
            value={text}
            placeholder={t('logsPage.main.filterTextHint')}
            data-testid="logs-filter-text"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <label className="field" htmlFor={id + '-level'}>
          <span className="field-label">{t('logsPage.main.filterLevel')}</span>
          <select
            id={id + '-level'}
            className="select"
            value={level}
            data-testid="logs-filter-level"
            onChange={(e) => setLevel(e.target.value as LogLevel | '')}
          >
            <option value="">{t('logsPage.main.levelAll')}</option>
            {LOG_LEVELS.map((l) => (
              <option key={l} value={l}>
                {t(`logsPage.level.${l}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="logs-check">
          <input
            type="checkbox"
            checked={hideManagement}
            data-testid="logs-hide-management"
            onChange={(e) => setHideManagement(e.target.checked)}
          />
          {t('logsPage.main.hideManagement')}
        </label>
      </div>
      {stream.error ? <ErrorBox error={stream.error} onRetry={() => void stream.poll()} /> : null}
      <div className="logs-count muted" aria-live="polite">
        {t('logsPage.main.count', { shown: shown.length, total: buffer.lines.length })}
        {shown.length > visible.length ? ' · ' + t('logsPage.main.rendered', { n: visible.length }) : null}
      </div>
      <div
        ref={boxRef}
        className="logs-lines mono"
        data-testid="logs-lines"
        role="log"
        aria-label={t('logsPage.main.title')}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {visible.length === 0 ? (
          <div className="logs-empty muted">{stream.loading ? t('common.loading') : t('logsPage.main.empty')}</div>
        ) : (
          visible.map((l) => (
            <div key={l.id} className={'logs-line logs-' + l.level} data-testid="logs-line" data-level={l.level}>
              {l.text}
            </div>
          ))
        )}
      </div>
      <ConfirmDialog
        open={clearOpen}
        title={t('logsPage.main.clearTitle')}
        confirmLabel={t('logsPage.main.clear')}
        tone="danger"
        busy={clearing}
        onConfirm={() => void clear()}
        onClose={() => setClearOpen(false)}
        confirmTestId="logs-clear-confirm"
      >
        <p>{t('logsPage.main.clearBody')}</p>
        {clearError ? <ErrorBox error={clearError} /> : null}
      </ConfirmDialog>
    </Card>
  );
}

interface BoolSetting {
  'request-log'?: boolean;
  'logging-to-file'?: boolean;
}

function RequestLogCard() {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const loc = useLocation();
  const id = useId();
  const requestParam = loc.query.get('request') ?? '';

  const requestLog = useQuery({
    queryKey: ['cpa', 'request-log'],
    queryFn: ({ signal }) => api.management<BoolSetting>('/request-log', { signal }),
    refetchInterval: REFRESH_MS,
  });
  const toFile = useQuery({
    queryKey: ['cpa', 'logging-to-file'],
    queryFn: ({ signal }) => api.management<BoolSetting>('/logging-to-file', { signal }),
    refetchInterval: REFRESH_MS,
  });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const toggle = async (value: boolean) => {
    setSaving(true);
    setSaveError(null);
    try {
      await api.management('/request-log', { method: 'PUT', body: { value } });
      await queryClient.invalidateQueries({ queryKey: ['cpa', 'request-log'] });
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving(false);
    }
  };

  const [input, setInput] = useState(requestParam);
  const [opened, setOpened] = useState<{ id: string; text: string; name: string } | null>(null);
  const [openError, setOpenError] = useState<unknown>(null);
  const [opening, setOpening] = useState(false);
  const valid = normalizeRequestId(input);

  const open = async (rid: string) => {
    setOpening(true);
    setOpenError(null);
    setOpened(null);
    try {
      const res = await api.managementResponse('/request-log-by-id/' + encodeURIComponent(rid));
      const body = await res.text();
      setOpened({ id: rid, text: body, name: fileNameFrom(res.headers.get('Content-Disposition'), `request-${rid}.log`) });
    } catch (e) {
      setOpenError(e);
    } finally {
      setOpening(false);
    }
  };

  // #/logs?request=<id> opens that request's log.
  const paramId = normalizeRequestId(requestParam);
  const [seenParam, setSeenParam] = useState(paramId);
  if (seenParam !== paramId) {
    setSeenParam(paramId);
    if (paramId) setInput(paramId);
  }
  useEffect(() => {
    if (!paramId) return;
    const timer = setTimeout(() => void open(paramId), 0);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- open only uses the stable api client; the id alone triggers it
  }, [paramId]);

  const submit = () => {
    if (!valid) return;
    if (valid === paramId) void open(valid);
    else setQuery({ request: valid });
  };

  const on = requestLog.data?.['request-log'];
  return (
    <Card title={t('logsPage.request.title')} subtitle={t('logsPage.request.subtitle')}>
      <div className="stack">
        <div className="row logs-settings">
          <span>
            {t('logsPage.request.requestLog')}:{' '}
            <QueryView query={requestLog} loading={<span className="muted">…</span>}>
              {(d) => <Badge tone={d['request-log'] ? 'info' : 'neutral'}>{d['request-log'] ? t('common.on') : t('common.off')}</Badge>}
            </QueryView>
          </span>
          {on !== undefined ? (
            <Button size="sm" loading={saving} data-testid="logs-request-log-toggle" aria-pressed={on} onClick={() => void toggle(!on)}>
              {on ? t('logsPage.request.turnOff') : t('logsPage.request.turnOn')}
            </Button>
          ) : null}
          <span>
            {t('logsPage.request.loggingToFile')}:{' '}
            <QueryView query={toFile} loading={<span className="muted">…</span>}>
              {(d) => <Badge tone={d['logging-to-file'] ? 'ok' : 'warn'}>{d['logging-to-file'] ? t('common.on') : t('common.off')}</Badge>}
            </QueryView>
          </span>
        </div>
        <p className="muted logs-note">{t('logsPage.request.note')}</p>
        {saveError ? <ErrorBox error={saveError} /> : null}
        <form
          className="row logs-controls"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <label className="field" htmlFor={id + '-rid'}>
            <span className="field-label">{t('logsPage.request.id')}</span>
            <input
              id={id + '-rid'}
              className="input mono"
              value={input}
              maxLength={8}
              placeholder="abcd1234"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={input !== '' && !valid}
              data-testid="logs-request-id"
              onChange={(e) => setInput(e.target.value)}
            />
            <span className="field-hint">{t('logsPage.request.idHint')}</span>
          </label>
          <Button type="submit" variant="primary" disabled={!valid} loading={opening} data-testid="logs-request-open">
            {t('logsPage.request.open')}
          </Button>
        </form>
        {openError ? <ErrorBox error={openError} title={t('logsPage.request.notFound')} /> : null}
        {opened ? (
          <div className="stack">
            <div className="row">
              <span className="mono">{opened.name}</span>
              <Button size="sm" onClick={() => saveBlob(new Blob([opened.text], { type: 'text/plain' }), opened.name)}>
                {t('logsPage.download')}
              </Button>
            </div>
            <pre className="logs-text mono" data-testid="logs-request-text" data-request={opened.id}>
              {opened.text}
            </pre>
          </div>
        ) : null}
      </div>
    </Card>
  );
}

interface ErrorFile {
  name: string;
  size: number;
  modified: number;
}

function ErrorFilesCard() {
  const { t } = useTranslation();
  const api = useApi();
  const f = useFormat();
  const files = useQuery({
    queryKey: ['cpa', 'request-error-logs'],
    queryFn: ({ signal }) => api.management<{ files?: ErrorFile[] | null }>('/request-error-logs', { signal }),
    refetchInterval: REFRESH_MS,
  });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const download = async (name: string) => {
    setBusy(name);
    setError(null);
    try {
      const res = await api.managementResponse('/request-error-logs/' + encodeURIComponent(name));
      saveBlob(await res.blob(), name);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <Card
      title={t('logsPage.errors.title')}
      subtitle={t('logsPage.errors.subtitle')}
      actions={
        <Button size="sm" icon="refresh" onClick={() => void files.refetch()}>
          {t('common.refresh')}
        </Button>
      }
    >
      {error ? <ErrorBox error={error} /> : null}
      <QueryView query={files}>
        {(d) => {
          const list = d.files ?? [];
          if (list.length === 0) return <EmptyState title={t('logsPage.errors.empty')} icon="inbox" />;
          return (
            <div className="table-wrap logs-files">
              <table className="table" data-testid="logs-error-files">
                <caption className="visually-hidden">{t('logsPage.errors.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('logsPage.errors.name')}</th>
                    <th scope="col" className="align-end">
                      {t('logsPage.errors.size')}
                    </th>
                    <th scope="col">{t('logsPage.errors.modified')}</th>
                    <th scope="col">
                      <span className="visually-hidden">{t('logsPage.download')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((file) => (
                    <tr key={file.name} data-testid="logs-error-file" data-name={file.name}>
                      <td className="cell-main mono">{file.name}</td>
                      <td className="align-end">{f.bytes(file.size)}</td>
                      <td>{f.dateTime(file.modified * 1000)}</td>
                      <td>
                        <Button size="sm" loading={busy === file.name} onClick={() => void download(file.name)}>
                          {t('logsPage.download')}
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </QueryView>
    </Card>
  );
}
