import { useTranslation } from 'react-i18next';
import { useCpaState } from '../../api/cpaState';
import { useCpaApiKeys, useCpaAuthFiles, useCpaLatestVersion, useCpaPing, useCpaProviderCounts } from '../../api/queries';
import { useFormat } from '../../app/format';
import { Badge, StatusDot } from '../../components/Badge';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { Skeleton } from '../../components/Skeleton';
import { compareVersions } from '../../lib/health';
import type { ReactNode } from 'react';

function Tile({
  label,
  value,
  testId,
  loading,
  sub,
}: {
  label: string;
  value: ReactNode;
  testId: string;
  loading: boolean;
  sub?: ReactNode;
}) {
  return (
    <div className="tile">
      {loading ? (
        <Skeleton height={26} width="50%" />
      ) : (
        <span className="tile-value" data-testid={testId}>
          {value}
        </span>
      )}
      <span className="tile-label">{label}</span>
      {sub !== undefined && !loading ? <span className="tile-label">{sub}</span> : null}
    </div>
  );
}

function LatestVersion({ current }: { current: string | null }) {
  const { t } = useTranslation();
  const latest = useCpaLatestVersion();
  if (latest.isPending) return <Skeleton width={120} />;
  if (latest.isError) {
    return (
      <span className="muted" data-testid="kpi-cpa-latest-version" data-state="unknown" title={latest.error.message}>
        {t('dashboard.cpa.latestUnknown')}
      </span>
    );
  }
  const version = latest.data['latest-version'];
  const dev = current === null || !/^v?\d/.test(current);
  const older = !dev && compareVersions(current, version) < 0;
  return (
    <span className="row">
      <span className="mono" data-testid="kpi-cpa-latest-version">
        {version}
      </span>
      {dev ? null : older ? (
        <Badge tone="warn">{t('dashboard.cpa.updateAvailable')}</Badge>
      ) : (
        <Badge tone="ok">{t('dashboard.cpa.upToDate')}</Badge>
      )}
    </span>
  );
}

/** CPA: connection, version against the newest release, and counts of its keys and credentials. */
export function CpaCard() {
  const { t } = useTranslation();
  const f = useFormat();
  const cpa = useCpaState();
  const ping = useCpaPing();
  const apiKeys = useCpaApiKeys();
  const authFiles = useCpaAuthFiles();
  const providers = useCpaProviderCounts();

  const files = authFiles.data?.files ?? [];
  const disabled = files.filter((x) => x.disabled === true || x.status === 'disabled').length;
  const errored = files.filter((x) => x.status === 'error' || x.unavailable === true).length;
  const providerSummary = providers.lists
    .filter((c) => c.available && c.entries > 0)
    .map((c) => `${c.list.label} ${f.number(c.entries)}`)
    .join(' · ');
  const stats = ping.data?.['usage-statistics-enabled'];
  const connTone = cpa.connection === 'connected' ? 'ok' : cpa.connection === 'unreachable' ? 'danger' : 'neutral';
  const firstError = apiKeys.error ?? authFiles.error ?? providers.error ?? (cpa.connection === 'unreachable' ? ping.error : null);

  return (
    <Card title={t('dashboard.cpa.title')} data-testid="cpa-card">
      <div className="stack">
        <dl className="dl">
          <dt>{t('dashboard.cpa.connection')}</dt>
          <dd className="row">
            <StatusDot tone={connTone} label={t(`cpa.connection.${cpa.connection}`)} />
            <span data-testid="kpi-cpa-connection" data-state={cpa.connection}>
              {t(`cpa.connection.${cpa.connection}`)}
            </span>
          </dd>
          <dt>{t('dashboard.cpa.version')}</dt>
          <dd className="mono" data-testid="kpi-cpa-version">
            {cpa.version ?? '—'}
          </dd>
          <dt>{t('dashboard.cpa.latest')}</dt>
          <dd>
            <LatestVersion current={cpa.version} />
          </dd>
          <dt>{t('dashboard.cpa.usageStatistics')}</dt>
          <dd data-testid="kpi-cpa-usage-statistics">
            {stats === undefined ? '—' : stats ? <Badge tone="ok">{t('common.on')}</Badge> : <Badge tone="danger">{t('common.off')}</Badge>}
          </dd>
        </dl>
        {firstError ? (
          <ErrorBox
            error={firstError}
            onRetry={() => {
              void apiKeys.refetch();
              void authFiles.refetch();
              providers.refetch();
            }}
          />
        ) : null}
        <div className="tiles">
          <Tile
            label={t('dashboard.cpa.apiKeys')}
            testId="kpi-api-keys"
            loading={apiKeys.isPending}
            value={apiKeys.data ? f.number(apiKeys.data['api-keys'].length) : '—'}
          />
          <Tile
            label={t('dashboard.cpa.authFiles')}
            testId="kpi-auth-files"
            loading={authFiles.isPending}
            value={authFiles.data ? f.number(files.length) : '—'}
            sub={
              files.length > 0 ? t('dashboard.cpa.authFilesSub', { disabled: f.number(disabled), errored: f.number(errored) }) : undefined
            }
          />
          <Tile
            label={t('dashboard.cpa.providers')}
            testId="kpi-provider-entries"
            loading={providers.isPending}
            value={providers.lists.length > 0 ? f.number(providers.totalEntries) : '—'}
            sub={providerSummary || undefined}
          />
        </div>
      </div>
    </Card>
  );
}
