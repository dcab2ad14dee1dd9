// Quota: the quota windows of every OAuth account whose provider has a quota
// endpoint, read from the provider through CPA's /api-call when the user
// asks (one account, or all with a concurrency limit, progress and cancel;
// nothing polls providers), next to the passive evidence: the quota headers
// last seen in real traffic.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import { QueryView } from '../../components/QueryView';
import { useNow } from '../../lib/useNow';
import { apiCall, useQuotaAuthFiles, useQuotaEvidence } from './api';
import { BatchActions, BatchProgress, ConcurrencyField } from './BatchControls';
import {
  buildQuotaRequest,
  codexPlanOf,
  latestEvidence,
  otherEvidenceHeaders,
  parseEvidenceHeaders,
  quotaProviderOf,
  readProbe,
  runPool,
  QUOTA_PROVIDERS,
  type EvidenceItem,
  type ProbeErrorKind,
  type QuotaAuthFile,
  type QuotaData,
  type QuotaProvider,
} from './logic';
import { QuotaWindows } from './QuotaWindows';
import './quota.css';

type AccountState =
  | { phase: 'loading' }
  | { phase: 'ok'; status: number; data: QuotaData; at: number }
  | { phase: 'upstream-error'; status: number; kind: ProbeErrorKind; message: string | null; at: number }
  | { phase: 'call-error'; error: unknown; at: number };

interface Account {
  file: QuotaAuthFile;
  key: string;
  provider: QuotaProvider;
}

interface Batch {
  done: number;
  total: number;
  running: boolean;
  cancelled: boolean;
}

const PROVIDER_NAMES: Record<QuotaProvider, string> = {
  codex: 'Codex',
  claude: 'Claude',
  'gemini-cli': 'Gemini CLI',
  antigravity: 'Antigravity',
  kimi: 'Kimi',
  xai: 'xAI',
};

export function QuotaPage() {
  const { t } = useTranslation();
  const api = useApi();
  const id = useId();
  const files = useQuotaAuthFiles();
  const evidence = useQuotaEvidence();
  // Relative times ("in 2 hours") stay current.
  useNow(60_000);

  const [states, setStates] = useState<ReadonlyMap<string, AccountState>>(() => new Map());
  const [concurrency, setConcurrency] = useState(3);
  const [providerFilter, setProviderFilter] = useState<QuotaProvider | ''>('');
  const [batch, setBatch] = useState<Batch | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  useEffect(() => () => abortRef.current?.abort(), []);

  const accounts = useMemo<Account[]>(() => {
    const out: Account[] = [];
    for (const file of files.data?.files ?? []) {
      const provider = quotaProviderOf(file);
      if (!provider || !file.auth_index) continue;
      out.push({ file, key: file.auth_index, provider });
    }
    out.sort((a, b) => QUOTA_PROVIDERS.indexOf(a.provider) - QUOTA_PROVIDERS.indexOf(b.provider) || a.file.name.localeCompare(b.file.name));
    return out;
  }, [files.data]);
  const providersPresent = useMemo(() => QUOTA_PROVIDERS.filter((p) => accounts.some((a) => a.provider === p)), [accounts]);
  const shown = providerFilter ? accounts.filter((a) => a.provider === providerFilter) : accounts;
  const evidenceBy = useMemo(() => latestEvidence(evidence.data?.items ?? []), [evidence.data]);

  const setState = (key: string, state: AccountState) =>
    setStates((prev) => {
      const next = new Map(prev);
      next.set(key, state);
      return next;
    });

  const probe = useCallback(
    async (account: Account, signal?: AbortSignal) => {
      const req = buildQuotaRequest(account.file);
      if (!req) return;
      setState(account.key, { phase: 'loading' });
      try {
        const res = await apiCall(api, req, signal);
        const outcome = readProbe(account.provider, res, Date.now());
        if (outcome.ok) {
          setState(account.key, { phase: 'ok', status: outcome.status, data: outcome.data, at: Date.now() });
        } else {
          setState(account.key, {
            phase: 'upstream-error',
            status: outcome.status,
            kind: outcome.kind,
            message: outcome.message,
            at: Date.now(),
          });
        }
      } catch (e) {
        if (signal?.aborted) {
          setStates((prev) => {
            const next = new Map(prev);
            next.delete(account.key);
            return next;
          });
          return;
        }
        setState(account.key, { phase: 'call-error', error: e, at: Date.now() });
      }
    },
    [api],
  );

  const refreshAll = async () => {
    abortRef.current?.abort();
    const controller = new AbortController();
    abortRef.current = controller;
    const targets = shown;
    setBatch({ done: 0, total: targets.length, running: true, cancelled: false });
    const result = await runPool(
      targets,
      concurrency,
      (a, signal) => probe(a, signal),
      controller.signal,
      (done, total) => setBatch({ done, total, running: true, cancelled: false }),
    );
    if (abortRef.current === controller) abortRef.current = null;
    setBatch({ done: result.done, total: targets.length, running: false, cancelled: result.cancelled });
  };

  const cancel = () => abortRef.current?.abort();
  const running = batch?.running ?? false;

  return (
    <div data-testid="quota-page" className="stack">
      <PageHeader title={t('quotaPage.title')} description={t('quotaPage.description')} />
      <Card>
        <div className="quota-toolbar">
          <div className="field quota-field">
            <label className="field-label" htmlFor={`${id}-provider`}>
              {t('quotaPage.filter.provider')}
            </label>
            <select
              id={`${id}-provider`}
              className="select"
              value={providerFilter}
              onChange={(e) => setProviderFilter(e.target.value as QuotaProvider | '')}
              disabled={running}
              data-testid="quota-provider-filter"
            >
              <option value="">{t('quotaPage.filter.all')}</option>
              {providersPresent.map((p) => (
                <option key={p} value={p}>
                  {PROVIDER_NAMES[p]}
                </option>
              ))}
            </select>
          </div>
          <ConcurrencyField
            id={`${id}-concurrency`}
            label={t('quotaPage.concurrency')}
            value={concurrency}
            fallback={3}
            onChange={setConcurrency}
            disabled={running}
            testId="quota-concurrency"
          />
          <BatchActions running={running} onCancel={cancel} cancelLabel={t('quotaPage.cancel')} cancelTestId="quota-cancel">
            <Button
              variant="primary"
              icon="refresh"
              onClick={() => void refreshAll()}
              loading={running}
              disabled={shown.length === 0}
              data-testid="quota-refresh-all"
            >
              {t('quotaPage.refreshAll', { count: shown.length })}
            </Button>
          </BatchActions>
        </div>
        {batch ? (
          <BatchProgress
            done={batch.done}
            total={batch.total}
            running={batch.running}
            cancelled={batch.cancelled}
            keys={{
              running: 'quotaPage.progress.running',
              cancelled: 'quotaPage.progress.cancelled',
              finished: 'quotaPage.progress.finished',
            }}
            testId="quota-progress"
          />
        ) : (
          <p className="muted quota-explicit">{t('quotaPage.explicit')}</p>
        )}
        {evidence.error ? (
          <p className="muted quota-evidence-missing" data-testid="quota-evidence-error">
            {t('quotaPage.evidence.unavailable')}
          </p>
        ) : null}
      </Card>

      <QueryView query={files}>
        {() =>
          shown.length === 0 ? (
            <Card>
              <EmptyState title={t('quotaPage.empty.title')}>{t('quotaPage.empty.body')}</EmptyState>
            </Card>
          ) : (
            <div className="quota-grid">
              {shown.map((a) => (
                <AccountCard
                  key={a.key}
                  account={a}
                  state={states.get(a.key)}
                  evidence={evidenceBy.get(a.key)}
                  onRefresh={() => void probe(a)}
                />
              ))}
            </div>
          )
        }
      </QueryView>
    </div>
  );
}

function AccountCard({
  account,
  state,
  evidence,
  onRefresh,
}: {
  account: Account;
  state: AccountState | undefined;
  evidence: EvidenceItem | undefined;
  onRefresh: () => void;
}) {
  const { t } = useTranslation();
  const f = useFormat();
  const { file, provider } = account;
  const title = file.email ?? file.label ?? file.account ?? file.name;
  const plan =
    state?.phase === 'ok'
      ? (state.data.plan ?? (provider === 'codex' ? codexPlanOf(file) : null))
      : provider === 'codex'
        ? codexPlanOf(file)
        : null;
  const phase = state?.phase ?? 'idle';

  return (
    <section
      className="card quota-account"
      data-testid="quota-account"
      data-name={file.name}
      data-auth-index={account.key}
      data-provider={provider}
      data-state={phase}
      aria-labelledby={`quota-${account.key}`}
    >
      <div className="card-head quota-account-head">
        <div className="quota-account-title">
          <h2 id={`quota-${account.key}`} title={file.name}>
            {title}
          </h2>
          <div className="row quota-badges">
            <Badge tone="info">{PROVIDER_NAMES[provider]}</Badge>
            {plan ? (
              <span data-testid="quota-plan">
                <Badge>{t('quotaPage.plan', { plan })}</Badge>
              </span>
            ) : null}
            {file.disabled ? <Badge tone="warn">{t('quotaPage.disabled')}</Badge> : null}
          </div>
          <div className="quota-file mono faint">{file.name}</div>
        </div>
        <Button
          size="sm"
          icon="refresh"
          onClick={onRefresh}
          loading={phase === 'loading'}
          aria-label={t('quotaPage.refreshOne', { name: title })}
          data-testid="quota-refresh-one"
        >
          {t('quotaPage.refresh')}
        </Button>
      </div>
      <div className="card-body stack">
        <div className="quota-section-label">{t('quotaPage.live')}</div>
        {state === undefined ? <p className="muted quota-none">{t('quotaPage.notRead')}</p> : null}
        {state?.phase === 'loading' ? <p className="muted quota-none">{t('quotaPage.reading')}</p> : null}
        {state?.phase === 'ok' ? (
          <>
            <QuotaWindows windows={state.data.windows} />
            <div className="faint quota-read-at">{t('quotaPage.readAt', { time: f.relative(state.at) })}</div>
          </>
        ) : null}
        {state?.phase === 'upstream-error' ? <UpstreamError state={state} /> : null}
        {state?.phase === 'call-error' ? <ErrorBox error={state.error} title={t('quotaPage.error.call')} testId="quota-error" /> : null}
        {evidence ? <Evidence item={evidence} /> : null}
      </div>
    </section>
  );
}

function UpstreamError({ state }: { state: Extract<AccountState, { phase: 'upstream-error' }> }) {
  const { t } = useTranslation();
  return (
    <div className="error-box quota-error" role="alert" data-testid="quota-error" data-status={state.status} data-kind={state.kind}>
      <div className="error-box-body">
        <div className="error-box-title">{t(`quotaPage.error.${state.kind}`, { status: state.status })}</div>
        <div>{t(`quotaPage.errorHint.${state.kind}`)}</div>
        {state.message ? <div className="muted mono">{state.message}</div> : null}
        {state.kind === 'reauth' ? (
          <a href="#/oauth" data-testid="quota-reauth-link">
            {t('quotaPage.reauthLink')}
          </a>
        ) : null}
      </div>
    </div>
  );
}

function Evidence({ item }: { item: EvidenceItem }) {
  const { t } = useTranslation();
  const f = useFormat();
  const windows = parseEvidenceHeaders(item.headers, item.observed_at);
  const others = otherEvidenceHeaders(item.headers);
  return (
    <div className="quota-evidence" data-testid="quota-evidence" data-observed-at={item.observed_at}>
      <div className="quota-evidence-head">
        <Badge>{t('quotaPage.evidence.badge')}</Badge>
        <span className="muted" title={f.dateTime(item.observed_at)}>
          {t('quotaPage.evidence.seen', { relative: f.relative(item.observed_at), absolute: f.dateTime(item.observed_at) })}
        </span>
      </div>
      {windows.length > 0 ? <QuotaWindows windows={windows} testId="quota-evidence-window" /> : null}
      {others.length > 0 ? (
        <dl className="quota-evidence-headers">
          {others.map(([k, v]) => (
            <div key={k}>
              <dt className="mono">{k}</dt>
              <dd className="mono">{v}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      <div className="faint quota-evidence-note">{t('quotaPage.evidence.note')}</div>
    </div>
  );
}
