import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type SyntheticEvent } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useAuth, type SignedOutReason } from '../../api/auth';
import { normalizeUsageUrl } from '../../api/config';
import { isApiError, type ApiError } from '../../api/errors';
import { CpaLoginError, probeUsageService } from '../../api/session';
import { LanguageSwitch, ThemeSwitch } from '../../app/Switches';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { describeError, ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { readStored, STORAGE_KEYS } from '../../lib/storage';
import { useNow } from '../../lib/useNow';

interface LoginProblem {
  title: string;
  detail: string;
  hint?: string | null;
}

function LockNotice({ until, onDone }: { until: number; onDone: () => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const now = useNow(1000);
  const left = until - now;
  const over = left <= 0;
  useEffect(() => {
    if (over) onDone();
  }, [over, onDone]);
  if (over) return null;
  return (
    <div className="error-box" role="alert" data-testid="login-error" data-kind="locked">
      <Icon name="alert" />
      <div className="error-box-body">
        <div className="error-box-title">{t('login.lockedTitle')}</div>
        <div>{t('login.locked', { duration: f.duration(Math.ceil(left / 1000) * 1000), time: f.time(until) })}</div>
      </div>
    </div>
  );
}

function ProblemBox({ problem }: { problem: LoginProblem }) {
  return (
    <div className="error-box" role="alert" data-testid="login-error">
      <Icon name="alert" />
      <div className="error-box-body">
        <div className="error-box-title">{problem.title}</div>
        {problem.detail ? <div>{problem.detail}</div> : null}
        {problem.hint ? <div className="muted">{problem.hint}</div> : null}
      </div>
    </div>
  );
}

function HostedHelp() {
  return (
    <div className="login-help">
      <p>
        <Trans i18nKey="login.helpConfigured" components={{ code: <code /> }} />
      </p>
      <p>
        <Trans i18nKey="login.helpGenerated" components={{ code: <code /> }} />
      </p>
      <p>
        <Trans i18nKey="login.helpReset" components={{ code: <code /> }} />
      </p>
    </div>
  );
}

function CpaHelp() {
  return (
    <div className="login-help">
      <p>
        <Trans i18nKey="login.cpaHelpKey" components={{ code: <code /> }} />
      </p>
      <p>
        <Trans i18nKey="login.cpaHelpUsage" components={{ code: <code /> }} />
      </p>
      <p>
        <Trans i18nKey="login.cpaHelpBan" />
      </p>
    </div>
  );
}

export function LoginPage({ reason, startupError }: { reason: SignedOutReason; startupError: ApiError | null }) {
  const { t } = useTranslation();
  const auth = useAuth();
  const { config } = auth;
  const ids = useId();
  const [key, setKey] = useState('');
  const [usageUrl, setUsageUrl] = useState(() => readStored('local', STORAGE_KEYS.usageUrl) ?? '');
  const [probeUrl, setProbeUrl] = useState<string | null>(() => {
    const stored = readStored('local', STORAGE_KEYS.usageUrl);
    const n = stored ? normalizeUsageUrl(stored) : null;
    return n?.ok ? n.url : null;
  });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<LoginProblem | null>(null);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const isCpa = config.mode === 'cpa';

  const probe = useQuery({
    queryKey: ['login', 'probe', probeUrl],
    queryFn: ({ signal }) => probeUsageService(probeUrl ?? '', signal),
    enabled: isCpa && probeUrl !== null,
    retry: false,
    staleTime: 30_000,
  });

  const urlCheck = normalizeUsageUrl(usageUrl);
  const urlError = usageUrl.trim() !== '' && !urlCheck.ok ? t(`login.usageUrlInvalid.${urlCheck.reason}`) : null;

  const fromApiError = (e: ApiError, wrongKeyTitle: string): LoginProblem => {
    if (e.isRateLimited) {
      setLockedUntil(Date.now() + (e.retryAfterSeconds ?? 60) * 1000);
      return { title: '', detail: '' };
    }
    if (e.isUnauthorized) return { title: wrongKeyTitle, detail: e.message };
    const d = describeError(t, e);
    return { title: d.title, detail: d.message, hint: d.hint };
  };

  const submit = async (ev: SyntheticEvent) => {
    ev.preventDefault();
    if (busy || lockedUntil !== null) return;
    setProblem(null);
    if (key.trim() === '') {
      setProblem({ title: t('login.keyMissing'), detail: '' });
      return;
    }
    setBusy(true);
    try {
      if (config.mode === 'hosted') {
        await auth.loginHosted(key.trim());
      } else {
        if (!urlCheck.ok) {
          setProblem({ title: t('login.usageUrlMissing'), detail: urlError ?? '' });
          return;
        }
        setProbeUrl(urlCheck.url);
        await auth.loginCpa(urlCheck.url, key.trim());
      }
    } catch (e) {
      let p: LoginProblem;
      if (e instanceof CpaLoginError) {
        const title =
          e.step === 'usage-service'
            ? t('login.cpaStepUsageService')
            : e.step === 'usage-auth'
              ? t('login.cpaStepUsageAuth')
              : t('login.cpaStepManagement');
        p = fromApiError(e.cause, title);
        if (!e.cause.isUnauthorized && !e.cause.isRateLimited) p = { ...p, title: `${title} ${p.title}` };
        if (e.step === 'management' && e.cause.status === 403) p = { ...p, hint: t('login.cpaForbiddenHint') };
      } else if (isApiError(e)) {
        p = fromApiError(e, t('login.wrongKey'));
      } else {
        const d = describeError(t, e);
        p = { title: d.title, detail: d.message };
      }
      if (p.title) setProblem(p);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="card login-card">
        <div className="card-body">
          <div className="login-top">
            <div className="brand">
              <span className="brand-mark" aria-hidden="true">
                CP
              </span>
              <span>{t('app.name')}</span>
            </div>
            <div className="row">
              <LanguageSwitch />
              <ThemeSwitch />
            </div>
          </div>
          <form className="login-form" onSubmit={(e) => void submit(e)} noValidate>
            <div>
              <h1>{t('login.title')}</h1>
              <p className="muted">{isCpa ? t('login.cpaSubtitle') : t('login.subtitle')}</p>
            </div>
            {reason === 'expired' ? (
              <div className="alert alert-info" role="status" data-testid="login-expired">
                <Icon name="info" />
                <span>{t('login.expired')}</span>
              </div>
            ) : null}
            {startupError ? <ErrorBox error={startupError} onRetry={() => window.location.reload()} /> : null}

            {isCpa ? (
              <div className="field">
                <label className="field-label" htmlFor={ids + 'url'}>
                  {t('login.usageUrl')}
                </label>
                <input
                  id={ids + 'url'}
                  className="input"
                  type="url"
                  inputMode="url"
                  autoComplete="url"
                  spellCheck={false}
                  placeholder="https://cpam.example.com/cpam"
                  value={usageUrl}
                  onChange={(e) => setUsageUrl(e.target.value)}
                  onBlur={() => setProbeUrl(urlCheck.ok ? urlCheck.url : null)}
                  aria-invalid={urlError ? true : undefined}
                  aria-describedby={ids + 'url-hint'}
                  data-testid="login-usage-url-input"
                />
                <span className="field-hint" id={ids + 'url-hint'} data-testid="login-usage-probe">
                  {urlError ??
                    (probe.data
                      ? t('login.probeOk', { service: probe.data.service, version: probe.data.version, instance: probe.data.instanceId })
                      : probe.error
                        ? describeError(t, probe.error).message
                        : probe.isFetching
                          ? t('login.probing')
                          : t('login.usageUrlHint'))}
                </span>
              </div>
            ) : null}

            <div className="field">
              <label className="field-label" htmlFor={ids + 'key'}>
                {isCpa ? t('login.managementKey') : t('login.adminKey')}
              </label>
              <input
                id={ids + 'key'}
                className="input"
                type="password"
                autoComplete="current-password"
                spellCheck={false}
                value={key}
                onChange={(e) => setKey(e.target.value)}
                aria-describedby={ids + 'key-hint'}
                data-testid="login-key-input"
                autoFocus
              />
              <span className="field-hint" id={ids + 'key-hint'}>
                {isCpa ? t('login.managementKeyHint') : t('login.adminKeyHint')}
              </span>
            </div>

            {lockedUntil !== null ? <LockNotice until={lockedUntil} onDone={() => setLockedUntil(null)} /> : null}
            {problem ? <ProblemBox problem={problem} /> : null}

            <Button type="submit" variant="primary" block loading={busy} disabled={lockedUntil !== null} data-testid="login-submit">
              {busy ? t('login.signingIn') : t('login.submit')}
            </Button>
            {isCpa ? <CpaHelp /> : <HostedHelp />}
          </form>
        </div>
      </div>
    </main>
  );
}
