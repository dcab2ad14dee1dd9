// Import: a usage file uploaded with XMLHttpRequest (for a real progress
// bar), then the server's summary: what was added, skipped and failed,
// the first errors with their line numbers, and warnings.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import {
  IMPORT_ACCEPT,
  IMPORT_PATH,
  importRequestFor,
  isImportFileName,
  summarizeImport,
  uploadShare,
  UPSTREAM_PATTERN,
  type ImportSummary,
} from './logic';
import type { TKey } from '../../i18n';
import { authHeaders, reportUnauthorized, UploadAborted, uploadWithProgress, type UploadProgress } from '../../api/transport';

type Phase = { kind: 'idle' } | { kind: 'uploading'; progress: UploadProgress } | { kind: 'processing'; total: number };

/** The hint shown under a failed import's summary, by HTTP status. */
function statusHintKey(s: ImportSummary): TKey {
  switch (s.status) {
    case 413:
      return 'importExportPage.import.hint.tooLarge';
    case 415:
      return 'importExportPage.import.hint.encoding';
    case 401:
      return 'importExportPage.import.hint.signedOut';
    case 403:
      return 'importExportPage.import.hint.forbidden';
    case 503:
      return 'importExportPage.import.hint.unavailable';
    case 400:
      return 'importExportPage.import.hint.badRequest';
    default:
      return s.status >= 500 ? 'importExportPage.import.hint.server' : 'importExportPage.import.hint.other';
  }
}

export function ImportCard({ upstreams }: { upstreams: string[] }) {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const queryClient = useQueryClient();
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [upstream, setUpstream] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cancelled, setCancelled] = useState(false);
  const abort = useRef<AbortController | null>(null);

  const upstreamValue = upstream.trim();
  const upstreamInvalid = upstreamValue !== '' && !UPSTREAM_PATTERN.test(upstreamValue);
  const busy = phase.kind !== 'idle';

  const submit = async () => {
    if (!file || upstreamInvalid || busy) return;
    const controller = new AbortController();
    abort.current = controller;
    setSummary(null);
    setError(null);
    setCancelled(false);
    setPhase({ kind: 'uploading', progress: { sent: 0, total: file.size } });
    const req = importRequestFor(file.name);
    const headers: Record<string, string> = { ...authHeaders(api), 'Content-Type': req.contentType };
    if (req.contentEncoding) headers['Content-Encoding'] = req.contentEncoding;
    try {
      const answer = await uploadWithProgress({
        url: api.usageUrl(IMPORT_PATH, { upstream: upstreamValue }),
        body: file,
        headers,
        signal: controller.signal,
        onProgress: (progress) => setPhase((p) => (p.kind === 'processing' ? p : { kind: 'uploading', progress })),
        onUploaded: () => setPhase({ kind: 'processing', total: file.size }),
      });
      if (answer.status === 401) reportUnauthorized(api);
      const s = summarizeImport(answer.status, answer.body);
      setSummary(s);
      if (s.counts && s.counts.added > 0) {
        // New events: every usage view is out of date.
        void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'usage' });
      }
    } catch (e) {
      if (e instanceof UploadAborted) setCancelled(true);
      else setError(e);
    } finally {
      abort.current = null;
      setPhase({ kind: 'idle' });
    }
  };

  const progress =
    phase.kind === 'uploading' ? phase.progress : phase.kind === 'processing' ? { sent: phase.total, total: phase.total } : null;
  const share = progress ? uploadShare(progress.sent, progress.total) : 0;
  const showResult = summary !== null && summary.counts !== null && (summary.outcome !== 'failed' || summary.counts.total > 0);

  return (
    <Card title={t('importExportPage.import.title')} subtitle={t('importExportPage.import.subtitle')} data-testid="import-card">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor={`${id}-file`}>
            {t('importExportPage.import.file')}
          </label>
          <input
            id={`${id}-file`}
            className="ie-file"
            type="file"
            accept={IMPORT_ACCEPT}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setSummary(null);
              setError(null);
              setCancelled(false);
            }}
            disabled={busy}
            aria-describedby={`${id}-file-hint`}
            data-testid="import-file"
          />
          <span id={`${id}-file-hint`} className="field-hint">
            {file
              ? t('importExportPage.import.chosen', { name: file.name, size: f.bytes(file.size) })
              : t('importExportPage.import.fileHint')}
          </span>
          {file && !isImportFileName(file.name) ? (
            <span className="ie-warn" role="status">
              {t('importExportPage.import.unknownType')}
            </span>
          ) : null}
        </div>
        <div className="field ie-narrow">
          <label className="field-label" htmlFor={`${id}-upstream`}>
            {t('importExportPage.import.upstream')}
          </label>
          <input
            id={`${id}-upstream`}
            className="input"
            list={`${id}-upstreams`}
            value={upstream}
            onChange={(e) => setUpstream(e.target.value)}
            placeholder={t('importExportPage.import.upstreamPlaceholder')}
            autoComplete="off"
            spellCheck={false}
            disabled={busy}
            aria-invalid={upstreamInvalid || undefined}
            aria-describedby={`${id}-upstream-hint`}
            data-testid="import-upstream"
          />
          <datalist id={`${id}-upstreams`}>
            {upstreams.map((u) => (
              <option key={u} value={u} />
            ))}
          </datalist>
          <span
            id={`${id}-upstream-hint`}
            className={upstreamInvalid ? 'ie-error' : 'field-hint'}
            role={upstreamInvalid ? 'alert' : undefined}
          >
            {upstreamInvalid ? t('importExportPage.import.upstreamInvalid') : t('importExportPage.import.upstreamHint')}
          </span>
        </div>
        <div className="row">
          <Button
            type="submit"
            variant="primary"
            icon="transfer"
            disabled={!file || upstreamInvalid || busy}
            loading={busy}
            data-testid="import-submit"
          >
            {busy ? t('importExportPage.import.uploading') : t('importExportPage.import.submit')}
          </Button>
          {busy ? (
            <Button onClick={() => abort.current?.abort()} data-testid="import-cancel">
              {t('importExportPage.cancel')}
            </Button>
          ) : null}
        </div>
        {progress ? (
          <div className="ie-progress" aria-live="polite">
            <progress
              value={progress.sent}
              max={Math.max(progress.total, 1)}
              aria-label={t('importExportPage.import.progressLabel')}
              data-testid="import-progress"
            />
            <span className="muted ie-small">
              {phase.kind === 'processing'
                ? t('importExportPage.import.processing')
                : t('importExportPage.import.progress', {
                    sent: f.bytes(progress.sent),
                    total: f.bytes(progress.total),
                    percent: f.percent(share, 0),
                  })}
            </span>
          </div>
        ) : null}
        {cancelled ? (
          <div className="alert alert-warn" role="status" data-testid="import-cancelled">
            <Icon name="info" />
            <span>{t('importExportPage.import.cancelled')}</span>
          </div>
        ) : null}
        {error ? <ErrorBox error={error} title={t('importExportPage.import.failed')} testId="import-error" /> : null}
        {summary && summary.outcome !== 'ok' ? (
          <div className="error-box" role="alert" data-testid="import-error" data-status={summary.status} data-code={summary.code}>
            <Icon name="alert" />
            <div className="error-box-body">
              <div className="error-box-title">
                {summary.outcome === 'partial'
                  ? t('importExportPage.import.partialTitle', { status: summary.status })
                  : t('importExportPage.import.failedTitle', { status: summary.status })}
              </div>
              {summary.message ? <div>{summary.message}</div> : null}
              <div className="muted">{t(statusHintKey(summary))}</div>
            </div>
          </div>
        ) : null}
        {showResult ? <ImportResultView summary={summary} /> : null}
      </form>
    </Card>
  );
}

function ImportResultView({ summary }: { summary: ImportSummary }) {
  const { t } = useTranslation();
  const f = useFormat();
  const c = summary.counts;
  if (!c) return null;
  const tiles: [string, number, string, 'ok' | 'neutral' | 'warn'][] = [
    [t('importExportPage.import.added'), c.added, 'added', 'ok'],
    [t('importExportPage.import.skipped'), c.skipped, 'skipped', 'neutral'],
    [t('importExportPage.import.failedCount'), c.failed, 'failed', c.failed > 0 ? 'warn' : 'neutral'],
    [t('importExportPage.import.total'), c.total, 'total', 'neutral'],
  ];
  const formats = ['cpam_jsonl', 'cpa_records', 'legacy_usage_export', 'legacy_usage_payload', 'mixed'];
  return (
    <section
      className="stack ie-result"
      aria-labelledby="import-result-title"
      data-testid="import-result"
      data-added={c.added}
      data-skipped={c.skipped}
      data-failed={c.failed}
      data-total={c.total}
      data-format={c.format}
      data-status={summary.status}
    >
      <h3 id="import-result-title" className="row">
        {summary.outcome === 'ok' ? t('importExportPage.import.resultTitle') : t('importExportPage.import.resultPartialTitle')}
        {c.format ? (
          <Badge tone="info">{formats.includes(c.format) ? t(`importExportPage.import.format.${c.format as 'mixed'}`) : c.format}</Badge>
        ) : null}
      </h3>
      <div className="tiles">
        {tiles.map(([label, value, key, tone]) => (
          <div key={key} className={`tile ie-tile-${tone}`}>
            <span className="tile-value" data-testid={`import-${key}`}>
              {f.number(value)}
            </span>
            <span className="tile-label">{label}</span>
          </div>
        ))}
      </div>
      {c.skipped > 0 ? <p className="muted ie-small">{t('importExportPage.import.skippedHint')}</p> : null}
      {summary.issues.length > 0 ? (
        <div className="stack">
          <h4>{t('importExportPage.import.errorsTitle')}</h4>
          <ul className="ie-issues" data-testid="import-issues">
            {summary.issues.map((issue, i) => (
              <li key={i}>
                {issue.where ? (
                  <span className="mono ie-where">
                    {issue.where.kind === 'line'
                      ? t('importExportPage.import.line', { n: issue.where.n })
                      : t('importExportPage.import.index', { n: issue.where.n })}
                  </span>
                ) : null}
                <span>{issue.error}</span>
              </li>
            ))}
          </ul>
          {summary.moreIssues > 0 ? (
            <p className="muted ie-small">{t('importExportPage.import.moreErrors', { count: summary.moreIssues })}</p>
          ) : null}
        </div>
      ) : null}
      {summary.warnings.length > 0 ? (
        <div className="stack">
          <h4>{t('importExportPage.import.warningsTitle')}</h4>
          <ul className="alert-list" data-testid="import-warnings">
            {summary.warnings.map((w, i) => (
              <li key={i} className="alert alert-warn">
                <Icon name="alert" />
                <span>{w}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
