// OAuth login: one card per provider CPA can sign in with. PKCE flows show
// the provider's URL and take the redirect URL pasted back (for a CPA on
// another machine, whose localhost callback the browser cannot reach);
// device flows show the code to enter. Each started login is polled until
// CPA reports success or an error; the new auth file then appears on the
// auth files page.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useReducer, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { isApiError } from '../../api/errors';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { PageHeader } from '../../components/PageHeader';
import {
  authUrlPath,
  BUILTIN_PROVIDERS,
  flowReducer,
  formatCountdown,
  IDLE,
  parseCallbackUrl,
  pluginProviders,
  POLL_MS,
  secondsLeft,
  type AuthUrlResponse,
  type CallbackProblem,
  type OAuthProvider,
  type StatusResponse,
} from './logic';
import './oauth.css';

export function OAuthPage() {
  const { t } = useTranslation();
  const api = useApi();
  const plugins = useQuery({
    queryKey: ['cpa', 'plugins'],
    queryFn: async ({ signal }) => {
      try {
        return pluginProviders(await api.management<unknown>('/plugins', { signal }));
      } catch (e) {
        // Older CPAs (404) or a disabled plugin system: no plugin logins.
        if (isApiError(e) && e.kind === 'http' && (e.status === 404 || e.status === 403 || e.status === 501)) return [];
        throw e;
      }
    },
    retry: false,
    staleTime: 5 * 60_000,
  });
  const providers = [...BUILTIN_PROVIDERS, ...(plugins.data ?? [])];

  return (
    <div className="page oauth-page" data-testid="oauth-page">
      <PageHeader title={t('oauthPage.title')} description={t('oauthPage.description')} />
      <div className="alert alert-info" role="note">
        <span>{t('oauthPage.intro')}</span>
      </div>
      <div className="oauth-grid">
        {providers.map((p) => (
          <ProviderCard key={p.id} provider={p} />
        ))}
      </div>
      {plugins.error ? <ErrorBox error={plugins.error} title={t('oauthPage.pluginsFailed')} testId="oauth-plugins-error" /> : null}
    </div>
  );
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function ProviderCard({ provider }: { provider: OAuthProvider }) {
  const { t } = useTranslation();
  const api = useApi();
  const qc = useQueryClient();
  const id = useId();
  const [flow, dispatch] = useReducer(flowReducer, IDLE);
  const [pollTrouble, setPollTrouble] = useState<unknown>(null);
  const [callback, setCallback] = useState('');
  const [callbackProblem, setCallbackProblem] = useState<CallbackProblem | null>(null);
  const [callbackError, setCallbackError] = useState<unknown>(null);
  const [callbackSent, setCallbackSent] = useState(false);
  const [sending, setSending] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [copied, setCopied] = useState<'url' | 'code' | null>(null);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  const waiting = flow.phase === 'waiting';
  const state = waiting ? flow.state : null;
  const now = useNow(waiting);

  useEffect(() => {
    if (waiting) dispatch({ type: 'tick', now });
  }, [now, waiting]);

  // Polls the login's status every POLL_MS while it waits; stops on unmount.
  useEffect(() => {
    if (state === null) return;
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await api.management<StatusResponse | undefined>('/get-auth-status', { query: { state }, signal: ctrl.signal });
        if (ctrl.signal.aborted) return;
        setPollTrouble(null);
        dispatch({ type: 'status', response: r ?? {}, now: Date.now() });
      } catch (e) {
        if (ctrl.signal.aborted) return;
        if (isApiError(e) && e.kind === 'http' && e.status >= 400 && e.status < 500 && e.status !== 429) {
          dispatch({ type: 'status', response: { status: 'error', error: e.message || `HTTP ${e.status}` }, now: Date.now() });
          return;
        }
        // Network trouble or 5xx: keep trying, and say so.
        setPollTrouble(e);
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    timer = setTimeout(() => void poll(), POLL_MS);
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [api, state]);

  // Success: the new auth file shows on the auth files page.
  useEffect(() => {
    if (flow.phase === 'ok') void qc.invalidateQueries({ queryKey: ['cpa', 'auth-files'] });
  }, [flow.phase, qc]);

  const start = async () => {
    dispatch({ type: 'start' });
    setCallback('');
    setCallbackProblem(null);
    setCallbackError(null);
    setCallbackSent(false);
    setPollTrouble(null);
    try {
      const r = await api.management<AuthUrlResponse | undefined>(authUrlPath(provider.id), {
        query: provider.kind === 'device' ? undefined : { is_webui: true },
      });
      if (alive.current) dispatch({ type: 'started', response: r ?? {}, now: Date.now() });
    } catch (e) {
      if (!alive.current) return;
      const message =
        isApiError(e) && e.isNotFound
          ? t('oauthPage.notSupported')
          : e instanceof Error && e.message !== ''
            ? e.message
            : t('oauthPage.startFailed');
      dispatch({ type: 'startFailed', message });
    }
  };

  const cancel = async () => {
    if (state === null) return;
    setCancelling(true);
    try {
      await api.management('/oauth-session', { method: 'DELETE', query: { state } });
    } catch {
      // An older CPA without the route: stop polling anyway; the session expires on its own.
    } finally {
      if (alive.current) {
        setCancelling(false);
        dispatch({ type: 'cancelled' });
      }
    }
  };

  const sendCallback = async () => {
    if (!waiting || provider.callbackProvider === null) return;
    const parsed = parseCallbackUrl(callback, flow.state);
    if (!parsed.ok) {
      setCallbackProblem(parsed.problem);
      return;
    }
    setCallbackProblem(null);
    setCallbackError(null);
    setSending(true);
    try {
      await api.management('/oauth-callback', {
        method: 'POST',
        body: { provider: provider.callbackProvider, redirect_url: callback.trim() },
      });
      if (alive.current) setCallbackSent(true);
    } catch (e) {
      if (alive.current) setCallbackError(e);
    } finally {
      if (alive.current) setSending(false);
    }
  };

  const copy = async (what: 'url' | 'code', text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
      setTimeout(() => {
        if (alive.current) setCopied(null);
      }, 1500);
    } catch {
      setCopied(null);
    }
  };

  const kindLabel =
    provider.kind === 'device'
      ? t('oauthPage.kind.device')
      : provider.kind === 'plugin'
        ? t('oauthPage.kind.plugin')
        : t('oauthPage.kind.pkce');

  let statusBadge;
  switch (flow.phase) {
    case 'idle':
      statusBadge = null;
      break;
    case 'starting':
      statusBadge = <Badge tone="info">{t('oauthPage.phase.starting')}</Badge>;
      break;
    case 'waiting':
      statusBadge = <Badge tone="info">{t('oauthPage.phase.waiting')}</Badge>;
      break;
    case 'ok':
      statusBadge = <Badge tone="ok">{t('oauthPage.phase.ok')}</Badge>;
      break;
    case 'error':
      statusBadge = <Badge tone="danger">{t('oauthPage.phase.error')}</Badge>;
      break;
    case 'cancelled':
      statusBadge = <Badge>{t('oauthPage.phase.cancelled')}</Badge>;
      break;
    case 'expired':
      statusBadge = <Badge tone="warn">{t('oauthPage.phase.expired')}</Badge>;
      break;
  }

  return (
    <Card
      title={provider.label}
      subtitle={kindLabel}
      actions={
        <span data-testid="oauth-status" data-phase={flow.phase} aria-live="polite">
          {statusBadge}
        </span>
      }
      className="oauth-card"
      data-testid={`oauth-card-${provider.id}`}
    >
      <div className="stack" data-provider={provider.id}>
        {flow.phase === 'idle' || flow.phase === 'starting' ? (
          <div>
            <Button variant="primary" onClick={() => void start()} loading={flow.phase === 'starting'} data-testid="oauth-start">
              {t('oauthPage.start')}
            </Button>
          </div>
        ) : null}

        {waiting ? (
          <>
            {flow.device ? (
              <div className="oauth-device">
                <span className="muted">{t('oauthPage.device.enterCode')}</span>
                {flow.userCode !== null ? (
                  <div className="row">
                    <span className="oauth-code mono" data-testid="oauth-user-code">
                      {flow.userCode}
                    </span>
                    <Button size="sm" onClick={() => void copy('code', flow.userCode ?? '')} data-testid="oauth-copy-code">
                      {copied === 'code' ? t('oauthPage.copied') : t('oauthPage.copy')}
                    </Button>
                  </div>
                ) : (
                  <span className="muted">{t('oauthPage.device.codeInUrl')}</span>
                )}
              </div>
            ) : (
              <p className="muted oauth-p">{t('oauthPage.pkce.instructions')}</p>
            )}
            <div className="field">
              <span className="field-label">{flow.device ? t('oauthPage.device.verifyUrl') : t('oauthPage.pkce.url')}</span>
              <div className="oauth-url-row">
                <a
                  className="oauth-url mono"
                  href={flow.url}
                  target="_blank"
                  rel="noopener noreferrer"
                  data-testid="oauth-url"
                  title={flow.url}
                >
                  {flow.url}
                </a>
              </div>
              <div className="row">
                <a className="btn btn-primary btn-sm" href={flow.url} target="_blank" rel="noopener noreferrer" data-testid="oauth-open">
                  {t('oauthPage.open')}
                </a>
                <Button size="sm" onClick={() => void copy('url', flow.url)} data-testid="oauth-copy-url">
                  {copied === 'url' ? t('oauthPage.copied') : t('oauthPage.copyUrl')}
                </Button>
              </div>
            </div>
            <dl className="dl oauth-dl">
              <div className="dl-row">
                <dt>{t('oauthPage.state')}</dt>
                <dd className="mono" data-testid="oauth-state">
                  {flow.state}
                </dd>
              </div>
              <div className="dl-row">
                <dt>{t('oauthPage.expiresIn')}</dt>
                <dd data-testid="oauth-countdown">{formatCountdown(secondsLeft(flow.expiresAt, Math.max(now, flow.startedAt)))}</dd>
              </div>
            </dl>

            {provider.callbackProvider !== null ? (
              <form
                className="stack oauth-callback"
                onSubmit={(e) => {
                  e.preventDefault();
                  void sendCallback();
                }}
              >
                <div className="field">
                  <label className="field-label" htmlFor={`${id}-cb`}>
                    {t('oauthPage.callback.label')}
                  </label>
                  <input
                    id={`${id}-cb`}
                    className="input mono"
                    value={callback}
                    placeholder="http://localhost:…/callback?code=…&state=…"
                    onChange={(e) => {
                      setCallback(e.target.value);
                      setCallbackProblem(null);
                    }}
                    aria-invalid={callbackProblem ? true : undefined}
                    aria-describedby={`${id}-cbh`}
                    data-testid="oauth-callback-input"
                  />
                  <span id={`${id}-cbh`} className="field-hint">
                    {t('oauthPage.callback.hint')}
                  </span>
                </div>
                {callbackProblem ? (
                  <span className="oauth-error" role="alert" data-testid="oauth-callback-problem">
                    {t(`oauthPage.callback.problem.${callbackProblem}`)}
                  </span>
                ) : null}
                {callbackError ? (
                  <ErrorBox error={callbackError} title={t('oauthPage.callback.failed')} testId="oauth-callback-error" />
                ) : null}
                {callbackSent ? (
                  <span role="status" className="muted" data-testid="oauth-callback-sent">
                    {t('oauthPage.callback.sent')}
                  </span>
                ) : null}
                <div>
                  <Button type="submit" loading={sending} data-testid="oauth-callback-submit">
                    {t('oauthPage.callback.submit')}
                  </Button>
                </div>
              </form>
            ) : null}

            {pollTrouble ? <ErrorBox error={pollTrouble} title={t('oauthPage.pollTrouble')} /> : null}
            <div className="row">
              <span className="muted oauth-waiting">{t('oauthPage.waitingHint')}</span>
              <span className="spacer" />
              <Button variant="danger" onClick={() => void cancel()} loading={cancelling} data-testid="oauth-cancel">
                {t('oauthPage.cancel')}
              </Button>
            </div>
          </>
        ) : null}

        {flow.phase === 'ok' ? (
          <p className="oauth-result oauth-ok" role="status" data-testid="oauth-success">
            {t('oauthPage.result.ok')}{' '}
            <a href="#/auth-files" data-testid="oauth-to-files">
              {t('oauthPage.result.toFiles')}
            </a>
          </p>
        ) : null}
        {flow.phase === 'error' ? (
          <p className="oauth-result oauth-err" role="alert" data-testid="oauth-error">
            {flow.message || t('oauthPage.result.errorUnknown')}
          </p>
        ) : null}
        {flow.phase === 'cancelled' ? (
          <p className="oauth-result muted" data-testid="oauth-cancelled">
            {t('oauthPage.result.cancelled')}
          </p>
        ) : null}
        {flow.phase === 'expired' ? (
          <p className="oauth-result oauth-err" role="alert" data-testid="oauth-expired">
            {t('oauthPage.result.expired')}
          </p>
        ) : null}
        {flow.phase === 'ok' || flow.phase === 'error' || flow.phase === 'cancelled' || flow.phase === 'expired' ? (
          <div>
            <Button onClick={() => dispatch({ type: 'reset' })} data-testid="oauth-again">
              {t('oauthPage.again')}
            </Button>
          </div>
        ) : null}
      </div>
    </Card>
  );
}
