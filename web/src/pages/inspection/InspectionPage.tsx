// Codex inspection: probe every Codex account's wham/usage through CPA's
// /api-call (concurrency limit, progress, cancel), classify each into a
// suggested action with its evidence, apply the chosen ones through CPA
// (disable / enable / delete; re-authentication links to the OAuth page),
// and keep each run and its applied outcomes in the usage service.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { isApiError } from '../../api/errors';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { useNow } from '../../lib/useNow';
import { apiCall, QUOTA_FILES_KEY, useQuotaAuthFiles } from '../quota/api';
import { BatchActions, BatchProgress, ConcurrencyField } from '../quota/BatchControls';
import { buildQuotaRequest, runPool, type QuotaAuthFile } from '../quota/logic';
import { HISTORY_KEY, recordApplied, saveRun, type OutcomeBody } from './api';
import { HistoryCard } from './HistoryCard';
import {
  buildResult,
  classify,
  clampThreshold,
  codexTargets,
  countActions,
  defaultSelection,
  DEFAULT_CONCURRENCY,
  DEFAULT_THRESHOLD,
  isApplicable,
  planApply,
  ACTIONS,
  type ApplyStep,
  type InspectionResult,
} from './logic';
import { AccountCell, ActionBadge, Outcome, ResultHead, SuggestionCell, WindowsCell } from './ResultParts';
import '../quota/quota.css';
import './inspection.css';

interface RunState {
  targets: QuotaAuthFile[];
  results: ReadonlyMap<string, InspectionResult>;
  done: number;
  running: boolean;
  cancelled: boolean;
  startedAt: string;
  finishedAt: string | null;
  settings: { concurrency: number; threshold: number };
}

interface ApplyOutcome {
  action: string;
  ok: boolean;
  error: string | null;
}

function errorText(e: unknown): string {
  if (isApiError(e)) return e.status ? `HTTP ${e.status}: ${e.message}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

export function InspectionPage() {
  const { t } = useTranslation();
  const api = useApi();
  const queryClient = useQueryClient();
  const id = useId();
  const files = useQuotaAuthFiles();
  useNow(60_000);

  const [thresholdText, setThresholdText] = useState(String(DEFAULT_THRESHOLD));
  const [concurrency, setConcurrency] = useState(DEFAULT_CONCURRENCY);
  const [run, setRun] = useState<RunState | null>(null);
  const [saved, setSaved] = useState<{ id: string } | { error: unknown } | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const [outcomes, setOutcomes] = useState<ReadonlyMap<string, ApplyOutcome>>(() => new Map());
  const [applying, setApplying] = useState(false);
  const [recordError, setRecordError] = useState<unknown>(null);
  const [confirmSteps, setConfirmSteps] = useState<ApplyStep[] | null>(null);
  const [openRun, setOpenRun] = useState<string | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  useEffect(() => () => abortRef.current?.abort(), []);

  const targets = useMemo(() => codexTargets(files.data?.files ?? []), [files.data]);
  const threshold = clampThreshold(thresholdText);
  const running = run?.running ?? false;

  const results = useMemo(() => {
    if (!run) return [];
    return run.targets.flatMap((f) => {
      const r = run.results.get(f.auth_index ?? '');
      return r ? [r] : [];
    });
  }, [run]);
  const counts = countActions(results);
  // The run is being saved: its outcomes can be recorded once it has an id.
  const saving = run !== null && !run.running && results.length > 0 && saved === null;

  const start = async () => {
    abortRef.current?.abort();
    const controller = new AbortController();
    abortRef.current = controller;
    const list = targets;
    const settings = { concurrency, threshold };
    const startedAt = new Date().toISOString();
    const collected = new Map<string, InspectionResult>();
    setSaved(null);
    setSelected(new Set());
    setOutcomes(new Map());
    setRecordError(null);
    setRun({ targets: list, results: collected, done: 0, running: true, cancelled: false, startedAt, finishedAt: null, settings });

    const probe = async (file: QuotaAuthFile, signal: AbortSignal) => {
      const req = buildQuotaRequest(file);
      let statusCode: number | null = null;
      let body: string | undefined;
      let callError: string | undefined;
      if (!req) {
        callError = 'no auth_index';
      } else {
        try {
          const res = await apiCall(api, req, signal);
          statusCode = typeof res.status_code === 'number' ? res.status_code : null;
          body = res.body;
          if (statusCode === null) callError = 'no status_code in the /api-call answer';
        } catch (e) {
          if (signal.aborted) return;
          callError = errorText(e);
        }
      }
      const c = classify({ statusCode, body, callError, disabled: file.disabled ?? false }, threshold, Date.now());
      collected.set(file.auth_index ?? '', buildResult(file, statusCode, c));
    };

    const result = await runPool(list, concurrency, probe, controller.signal, (done) =>
      setRun((prev) => (prev?.startedAt === startedAt ? { ...prev, done, results: new Map(collected) } : prev)),
    );
    if (abortRef.current === controller) abortRef.current = null;
    const finishedAt = new Date().toISOString();
    const final = list.flatMap((f) => {
      const r = collected.get(f.auth_index ?? '');
      return r ? [r] : [];
    });
    setRun((prev) =>
      prev?.startedAt === startedAt
        ? { ...prev, done: result.done, results: new Map(collected), running: false, cancelled: result.cancelled, finishedAt }
        : prev,
    );
    setSelected(defaultSelection(final));
    if (final.length === 0) return;
    try {
      const doc = await saveRun(api, {
        provider: 'codex',
        upstream: '',
        started_at: startedAt,
        finished_at: finishedAt,
        settings,
        results: final,
      });
      setSaved({ id: String(doc.id) });
      void queryClient.invalidateQueries({ queryKey: HISTORY_KEY });
    } catch (e) {
      setSaved({ error: e });
    }
  };

  const toggle = (authIndex: string) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(authIndex)) next.delete(authIndex);
      else next.add(authIndex);
      return next;
    });

  const pending = results.filter((r) => selected.has(r.auth_index) && isApplicable(r.action) && !outcomes.get(r.auth_index)?.ok);
  const steps = planApply(pending, selected);

  const askApply = () => {
    if (steps.length === 0) return;
    if (steps.some((s) => s.action === 'delete')) setConfirmSteps(steps);
    else void apply(steps);
  };

  const apply = async (list: ApplyStep[]) => {
    setApplying(true);
    setRecordError(null);
    const done: OutcomeBody[] = [];
    for (const step of list) {
      let outcome: ApplyOutcome;
      try {
        if (step.method === 'PATCH') await api.management(step.path, { method: 'PATCH', body: step.body });
        else await api.management(step.path, { method: 'DELETE', query: step.query });
        outcome = { action: step.action, ok: true, error: null };
      } catch (e) {
        outcome = { action: step.action, ok: false, error: errorText(e) };
      }
      done.push({ auth_index: step.auth_index, ...outcome });
      setOutcomes((prev) => new Map(prev).set(step.auth_index, outcome));
    }
    setConfirmSteps(null);
    void queryClient.invalidateQueries({ queryKey: ['cpa', 'auth-files'] });
    void queryClient.invalidateQueries({ queryKey: QUOTA_FILES_KEY });
    if (saved && 'id' in saved) {
      try {
        await recordApplied(api, saved.id, done);
        void queryClient.invalidateQueries({ queryKey: HISTORY_KEY });
      } catch (e) {
        setRecordError(e);
      }
    } else {
      setRecordError(new Error(t('inspectionPage.apply.notSaved')));
    }
    setApplying(false);
  };

  const deleteSteps = confirmSteps?.filter((s) => s.action === 'delete') ?? [];

  return (
    <div data-testid="inspection-page" className="stack inspection-page">
      <PageHeader title={t('inspectionPage.title')} description={t('inspectionPage.description')} />

      <Card title={t('inspectionPage.run.title')} subtitle={t('inspectionPage.run.subtitle', { count: targets.length })}>
        <div className="quota-toolbar">
          <div className="field quota-field">
            <label className="field-label" htmlFor={`${id}-threshold`}>
              {t('inspectionPage.run.threshold')}
            </label>
            <input
              id={`${id}-threshold`}
              className="input inspection-threshold"
              type="number"
              min={1}
              max={100}
              step={1}
              value={thresholdText}
              onChange={(e) => setThresholdText(e.target.value)}
              disabled={running}
              aria-describedby={`${id}-threshold-hint`}
              data-testid="inspection-threshold"
            />
            <span id={`${id}-threshold-hint`} className="field-hint">
              {t('inspectionPage.run.thresholdHint', { threshold })}
            </span>
          </div>
          <ConcurrencyField
            id={`${id}-concurrency`}
            label={t('inspectionPage.run.concurrency')}
            value={concurrency}
            fallback={DEFAULT_CONCURRENCY}
            onChange={setConcurrency}
            disabled={running}
            testId="inspection-concurrency"
          />
          <BatchActions
            running={running}
            onCancel={() => abortRef.current?.abort()}
            cancelLabel={t('inspectionPage.run.cancel')}
            cancelTestId="inspection-cancel"
          >
            <Button
              variant="primary"
              icon="inspect"
              onClick={() => void start()}
              loading={running}
              disabled={targets.length === 0 || applying}
              data-testid="inspection-run"
            >
              {t('inspectionPage.run.start')}
            </Button>
          </BatchActions>
        </div>
        {files.error ? <ErrorBox error={files.error} onRetry={() => void files.refetch()} /> : null}
        {run ? (
          <BatchProgress
            done={run.done}
            total={run.targets.length}
            running={run.running}
            cancelled={run.cancelled}
            keys={{
              running: 'inspectionPage.run.progress',
              cancelled: 'inspectionPage.run.cancelled',
              finished: 'inspectionPage.run.finished',
            }}
            testId="inspection-progress"
          />
        ) : null}
      </Card>

      {run ? (
        <Card
          title={t('inspectionPage.results.title')}
          subtitle={
            <span className="inspection-counts">
              {ACTIONS.filter((a) => counts[a] > 0).map((a) => (
                <span key={a} data-testid="inspection-count" data-action={a} data-count={counts[a]}>
                  <ActionBadge action={a} /> {counts[a]}
                </span>
              ))}
            </span>
          }
          actions={
            <Button
              variant="primary"
              onClick={askApply}
              disabled={running || saving || applying || steps.length === 0}
              loading={applying}
              data-testid="inspection-apply"
            >
              {t('inspectionPage.apply.button', { count: steps.length })}
            </Button>
          }
          flush
          data-testid="inspection-results"
        >
          <div className="inspection-notes">
            {saved && 'id' in saved ? (
              <p className="muted" data-testid="inspection-saved" data-id={saved.id}>
                {t('inspectionPage.results.saved', { id: saved.id })}
              </p>
            ) : null}
            {saved && 'error' in saved ? (
              <ErrorBox error={saved.error} title={t('inspectionPage.results.saveFailed')} testId="inspection-save-error" />
            ) : null}
            {recordError ? (
              <ErrorBox error={recordError} title={t('inspectionPage.apply.recordFailed')} testId="inspection-record-error" />
            ) : null}
            {!running && results.length > 0 ? <p className="muted">{t('inspectionPage.apply.hint')}</p> : null}
          </div>
          {results.length === 0 ? (
            running ? null : (
              <EmptyState title={t('inspectionPage.results.emptyTitle')}>{t('inspectionPage.results.emptyBody')}</EmptyState>
            )
          ) : (
            <div className="table-wrap">
              <table className="table inspection-table">
                <caption className="visually-hidden">{t('inspectionPage.results.title')}</caption>
                <ResultHead selectable />
                <tbody>
                  {results.map((r) => {
                    const outcome = outcomes.get(r.auth_index);
                    const canSelect = isApplicable(r.action) && !outcome?.ok;
                    return (
                      <tr
                        key={r.auth_index}
                        data-testid="inspection-result"
                        data-name={r.name}
                        data-action={r.action}
                        data-reason={r.reason}
                      >
                        <td>
                          {isApplicable(r.action) ? (
                            <input
                              type="checkbox"
                              className="inspection-check"
                              checked={selected.has(r.auth_index)}
                              disabled={!canSelect || applying || running}
                              onChange={() => toggle(r.auth_index)}
                              aria-label={t('inspectionPage.table.selectOne', {
                                name: r.name,
                                action: t(`inspectionPage.action.${r.action}`),
                              })}
                              data-testid="inspection-select"
                            />
                          ) : null}
                        </td>
                        <AccountCell result={r} />
                        <td className="num" data-testid="inspection-status">
                          {r.status_code ?? '—'}
                        </td>
                        <WindowsCell result={r} />
                        <SuggestionCell result={r}>
                          {r.action === 'reauth' ? (
                            <a href="#/oauth" data-testid="inspection-reauth-link">
                              {t('inspectionPage.reauthLink')}
                            </a>
                          ) : null}
                        </SuggestionCell>
                        <td>
                          {outcome ? (
                            <Outcome ok={outcome.ok} error={outcome.error} action={outcome.action} />
                          ) : (
                            <span className="faint">—</span>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      ) : null}

      <HistoryCard openId={openRun} onOpen={setOpenRun} />

      <ConfirmDialog
        open={confirmSteps !== null}
        title={t('inspectionPage.apply.confirmTitle')}
        confirmLabel={t('inspectionPage.apply.confirm', { count: confirmSteps?.length ?? 0 })}
        tone="danger"
        busy={applying}
        onConfirm={() => confirmSteps && void apply(confirmSteps)}
        onClose={() => setConfirmSteps(null)}
        confirmTestId="inspection-apply-confirm"
        testId="inspection-apply-dialog"
        wide
      >
        <p>{t('inspectionPage.apply.confirmBody', { count: deleteSteps.length })}</p>
        <ul className="inspection-delete-list" data-testid="inspection-delete-list">
          {deleteSteps.map((s) => (
            <li key={s.auth_index} className="mono">
              {s.name}
            </li>
          ))}
        </ul>
        {confirmSteps && confirmSteps.length > deleteSteps.length ? (
          <p className="muted">{t('inspectionPage.apply.alsoOthers', { count: confirmSteps.length - deleteSteps.length })}</p>
        ) : null}
      </ConfirmDialog>
    </div>
  );
}
