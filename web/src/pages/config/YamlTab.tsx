// The config.yaml tab: CPA's config file in a code editor, checked while
// typing, reviewed as a line diff and saved with PUT /config.yaml. Loaded
// lazily (React.lazy) with CodeMirror and the YAML parser. The text holds
// the secret's bcrypt hash and provider keys: it is shown to the admin and
// never logged.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { isApiError } from '../../api/errors';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorBox } from '../../components/ErrorBox';
import { SkeletonLines } from '../../components/Skeleton';
import { CONFIG_KEY, CONFIG_YAML_KEY, fetchConfigYaml, putConfigYaml } from './api';
import { DiffView } from './DiffView';
import { diffLines, diffStats, keyPathFromMessage, lineFromMessage, splitLines, type DiffLine } from './logic';
import { checkYaml, lineOfPath } from './yamlCheck';
import { createYamlEditor, type YamlEditor } from './yamlEditor';

interface ServerError {
  status: number;
  code: string;
  message: string;
  line: number | null;
}

interface Review {
  /** The edit against the text loaded. */
  diff: DiffLine[];
  /** What changed on CPA since the text was loaded (null when nothing did). */
  remote: DiffLine[] | null;
}

export interface YamlTabProps {
  onDirtyChange: (dirty: boolean) => void;
}

export default function YamlTab({ onDirtyChange }: YamlTabProps) {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: CONFIG_YAML_KEY,
    queryFn: ({ signal }) => fetchConfigYaml(api, signal),
    refetchOnWindowFocus: false,
  });

  // loaded: the text the edit started from; text: the editor's content.
  const [loaded, setLoaded] = useState<string | null>(null);
  const [text, setText] = useState('');
  const dirty = loaded !== null && text !== loaded;
  // A newer file from CPA is taken over while there is no edit (the
  // conflict check at save time covers the other case).
  if (query.data !== undefined && query.data !== loaded && !dirty) {
    setLoaded(query.data);
    setText(query.data);
  }

  const [review, setReview] = useState<Review | null>(null);
  const [reviewing, setReviewing] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<ServerError | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [reloadOpen, setReloadOpen] = useState(false);
  const [reloading, setReloading] = useState(false);

  const checked = useDeferredValue(text);
  const problems = useMemo(() => checkYaml(checked), [checked]);
  const errors = problems.filter((p) => p.severity === 'error');
  const stale = checked !== text;

  useEffect(() => {
    onDirtyChange(dirty);
  }, [dirty, onDirtyChange]);
  useEffect(() => () => onDirtyChange(false), [onDirtyChange]);

  // The CodeMirror view, created once the first text is there. It lives as
  // long as the tab; a language change only affects new editors' label.
  const hostRef = useRef<HTMLDivElement>(null);
  const editorRef = useRef<YamlEditor | null>(null);
  const ready = loaded !== null;
  const label = t('configPage.yaml.editorLabel');
  const latest = useRef({ label, text });
  useEffect(() => {
    latest.current = { label, text };
  });
  useEffect(() => {
    const host = hostRef.current;
    if (!ready || !host || editorRef.current) return;
    editorRef.current = createYamlEditor(host, {
      text: latest.current.text,
      label: latest.current.label,
      onChange: (v) => {
        setText(v);
        setSaved(false);
        setServerError(null);
      },
    });
    return () => {
      editorRef.current?.destroy();
      editorRef.current = null;
    };
  }, [ready]);
  // A new load replaces the editor's text (and its undo history).
  useEffect(() => {
    const ed = editorRef.current;
    if (ed && loaded !== null && ed.text() !== loaded && text === loaded) ed.reset(loaded);
  }, [loaded, text]);

  /** Takes fresh as the loaded text, dropping any edit. */
  const adopt = (fresh: string) => {
    queryClient.setQueryData(CONFIG_YAML_KEY, fresh);
    setLoaded(fresh);
    setText(fresh);
    editorRef.current?.reset(fresh);
  };

  const discard = () => {
    if (loaded === null) return;
    setText(loaded);
    setServerError(null);
    editorRef.current?.reset(loaded);
  };

  const reload = async () => {
    setReloading(true);
    setActionError(null);
    try {
      adopt(await fetchConfigYaml(api));
      setServerError(null);
      setSaved(false);
    } catch (e) {
      setActionError(e);
    } finally {
      setReloading(false);
      setReloadOpen(false);
    }
  };

  const openReview = async () => {
    if (loaded === null) return;
    setReviewing(true);
    setActionError(null);
    try {
      // A fresh copy: was the file changed on CPA since it was loaded?
      const fresh = await fetchConfigYaml(api);
      const remote = fresh === loaded ? null : diffLines(splitLines(loaded), splitLines(fresh));
      setReview({ diff: diffLines(splitLines(loaded), splitLines(text)), remote });
    } catch (e) {
      setActionError(e);
    } finally {
      setReviewing(false);
    }
  };

  const save = async () => {
    const submitted = text;
    setSaving(true);
    setActionError(null);
    setServerError(null);
    try {
      await putConfigYaml(api, submitted);
    } catch (e) {
      setSaving(false);
      setReview(null);
      if (isApiError(e) && (e.status === 400 || e.status === 422)) {
        const message = e.message;
        let line = lineFromMessage(message);
        if (line === null) {
          const path = keyPathFromMessage(message);
          line = path ? lineOfPath(submitted, path) : null;
        }
        setServerError({ status: e.status, code: e.code, message, line });
        editorRef.current?.markServerError(line, message);
      } else {
        setActionError(e);
      }
      return;
    }
    try {
      adopt(await fetchConfigYaml(api));
      setSaved(true);
    } catch (e) {
      setActionError(e);
    } finally {
      setSaving(false);
      setReview(null);
      // The visual editor shows the same configuration.
      void queryClient.invalidateQueries({ queryKey: CONFIG_KEY, exact: true });
    }
  };

  if (query.isError && loaded === null) return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;

  const stats = review ? diffStats(review.diff) : null;
  const firstError = errors[0];
  return (
    <div className="stack" data-testid="config-yaml-tab" data-dirty={dirty} data-loaded={ready}>
      <Card title={t('configPage.yaml.title')} subtitle={t('configPage.yaml.subtitle')} data-testid="config-yaml-card">
        <div className="stack">
          {ready ? (
            <div className="config-toolbar">
              <span className="muted config-pending" data-testid="config-yaml-state" data-dirty={dirty}>
                {dirty ? t('configPage.yaml.unsaved') : t('configPage.noChanges')}
              </span>
              <Button onClick={() => (dirty ? setReloadOpen(true) : void reload())} loading={reloading} data-testid="config-yaml-reload">
                {t('configPage.yaml.reload')}
              </Button>
              <Button onClick={discard} disabled={!dirty || saving} data-testid="config-yaml-discard">
                {t('configPage.discard')}
              </Button>
              <Button
                variant="primary"
                onClick={() => void openReview()}
                disabled={!dirty || errors.length > 0 || stale || saving}
                loading={reviewing}
                data-testid="config-yaml-review"
              >
                {t('configPage.yaml.review')}
              </Button>
            </div>
          ) : null}
          <div className="alert alert-warn config-yaml-secret">{t('configPage.yaml.secretNote')}</div>
          {saved ? (
            <div className="alert alert-info" role="status" data-testid="config-yaml-saved">
              {t('configPage.yaml.saved')}
            </div>
          ) : null}
          {serverError ? (
            <div
              className="error-box"
              role="alert"
              data-testid="config-yaml-server-error"
              data-code={serverError.code}
              data-line={serverError.line ?? ''}
            >
              <div className="error-box-body">
                <div className="error-box-title">
                  {serverError.status === 400 ? t('configPage.yaml.rejectedSyntax') : t('configPage.yaml.rejectedConfig')}
                  {serverError.line !== null ? ' · ' + t('configPage.yaml.atLine', { line: serverError.line }) : null}
                </div>
                <pre className="config-yaml-message">{serverError.message}</pre>
              </div>
              {serverError.line !== null ? (
                <Button size="sm" onClick={() => editorRef.current?.focusLine(serverError.line ?? 1)}>
                  {t('configPage.yaml.goToLine')}
                </Button>
              ) : null}
            </div>
          ) : null}
          {actionError ? <ErrorBox error={actionError} testId="config-yaml-action-error" /> : null}
          {ready ? <div className="config-yaml-editor" ref={hostRef} data-testid="config-yaml-editor" /> : <SkeletonLines lines={10} />}
          {ready ? (
            <div
              className={errors.length > 0 ? 'config-yaml-status is-error' : 'config-yaml-status'}
              data-testid="config-yaml-check"
              data-errors={errors.length}
              data-line={firstError ? firstError.line : ''}
              role={errors.length > 0 ? 'alert' : undefined}
            >
              {errors.length === 0 ? (
                t('configPage.yaml.valid')
              ) : (
                <ul className="config-yaml-problems">
                  {errors.slice(0, 5).map((p) => (
                    <li key={`${p.from}-${p.message}`} data-testid="config-yaml-problem" data-line={p.line}>
                      <button type="button" className="config-yaml-goto" onClick={() => editorRef.current?.focusLine(p.line)}>
                        {t('configPage.yaml.lineCol', { line: p.line, col: p.col })}
                      </button>{' '}
                      {p.message}
                    </li>
                  ))}
                  {errors.length > 5 ? <li>{t('configPage.yaml.moreErrors', { count: errors.length - 5 })}</li> : null}
                </ul>
              )}
            </div>
          ) : null}
        </div>
      </Card>

      <ConfirmDialog
        open={review !== null}
        title={t('configPage.yaml.reviewTitle')}
        confirmLabel={review?.remote ? t('configPage.yaml.overwrite') : t('configPage.yaml.saveFile')}
        tone={review?.remote ? 'danger' : 'primary'}
        busy={saving}
        onConfirm={() => void save()}
        onClose={() => setReview(null)}
        confirmTestId="config-yaml-save"
        testId="config-yaml-review-dialog"
        wide
      >
        {review && stats ? (
          <div className="stack">
            {review.remote ? (
              <div className="alert alert-warn" role="alert" data-testid="config-yaml-conflict">
                <div className="stack">
                  <p>{t('configPage.yaml.conflict')}</p>
                  <details>
                    <summary>{t('configPage.yaml.conflictShow')}</summary>
                    <DiffView lines={review.remote} testId="config-yaml-remote-diff" />
                  </details>
                </div>
              </div>
            ) : null}
            <p data-testid="config-yaml-diff-stats" data-added={stats.added} data-deleted={stats.deleted}>
              {t('configPage.yaml.diffSummary', { added: stats.added, deleted: stats.deleted })}
            </p>
            <DiffView lines={review.diff} testId="config-yaml-diff" />
            <p className="muted">{t('configPage.yaml.reviewNote')}</p>
          </div>
        ) : null}
      </ConfirmDialog>

      <ConfirmDialog
        open={reloadOpen}
        title={t('configPage.yaml.reloadTitle')}
        confirmLabel={t('configPage.yaml.reloadConfirm')}
        tone="danger"
        busy={reloading}
        onConfirm={() => void reload()}
        onClose={() => setReloadOpen(false)}
        confirmTestId="config-yaml-reload-confirm"
        testId="config-yaml-reload-dialog"
      >
        <p>{t('configPage.yaml.reloadBody')}</p>
      </ConfirmDialog>
    </div>
  );
}
