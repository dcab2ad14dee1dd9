import { useTranslation } from 'react-i18next';
import { useAuth } from '../../api/auth';
import { useCpaState } from '../../api/cpaState';
import { useServiceInfo, useStatus } from '../../api/queries';
import type { CollectorStatus, Status } from '../../api/types';
import { useFormat, type Formatters } from '../../app/format';
import { Badge, StatusDot, type Tone } from '../../components/Badge';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { PageHeader } from '../../components/PageHeader';
import { QueryView } from '../../components/QueryView';
import { SkeletonLines } from '../../components/Skeleton';
import { collectorHealth, type Health } from '../../lib/health';
import type { TFunction } from 'i18next';
import type { ReactNode } from 'react';

const tone: Record<Health, Tone> = { ok: 'ok', warn: 'warn', danger: 'danger', unknown: 'neutral' };

function YesNo({ value, good = true }: { value: boolean | null | undefined; good?: boolean }) {
  const { t } = useTranslation();
  if (value === null || value === undefined) return <span className="muted">{t('common.unknown')}</span>;
  return <Badge tone={value === good ? 'ok' : 'danger'}>{value ? t('common.yes') : t('common.no')}</Badge>;
}

function Rows({ rows }: { rows: [string, ReactNode, string?][] }) {
  return (
    <dl className="dl">
      {rows.map(([label, value, testId]) => (
        <div key={label} className="dl-row">
          <dt>{label}</dt>
          <dd data-testid={testId}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function when(f: Formatters, v: string | undefined): ReactNode {
  if (!v) return '—';
  return (
    <span>
      {f.dateTime(v)} <span className="muted">({f.relative(v)})</span>
    </span>
  );
}

function text(v: string | undefined): ReactNode {
  return v === undefined || v === '' ? '—' : v;
}

function CollectorCard({ c, t, f }: { c: CollectorStatus; t: TFunction; f: Formatters }) {
  const h = collectorHealth(c);
  const warnings = [...(c.warnings ?? [])];
  const rows: [string, ReactNode, string?][] = [
    [t('status.collector.mode'), c.mode],
    [t('status.collector.transport'), c.transport || <span className="muted">{t('status.collector.noTransport')}</span>],
    [t('status.collector.connected'), <YesNo key="c" value={c.connected} />],
    [t('status.collector.stoppedLabel'), <YesNo key="s" value={c.stopped} good={false} />],
    [t('status.collector.supportRefresh'), <YesNo key="r" value={c.supportRefresh} />],
    [t('status.collector.lastEvent'), when(f, c.lastEventAt)],
    [t('status.collector.lag'), f.duration(c.lagMs)],
    [
      t('status.collector.rate'),
      t('status.collector.rateValue', { m1: f.number(c.eventsPerSecond1m, 2), m5: f.number(c.eventsPerSecond5m, 2) }),
    ],
    [t('status.collector.received'), f.number(c.received)],
    [t('status.collector.stored'), f.number(c.stored), `status-stored-${c.upstream}`],
    [t('status.collector.duplicates'), f.number(c.duplicates)],
    [t('status.collector.deadLetters'), c.deadLetters > 0 ? <Badge tone="warn">{f.number(c.deadLetters)}</Badge> : f.number(c.deadLetters)],
    [t('status.collector.spoolDepth'), f.number(c.spoolDepth)],
    [
      t('status.collector.cpaVersion'),
      <span key="v" className="mono">
        {text(c.cpaVersion)}
      </span>,
    ],
    [t('status.collector.usageStatistics'), <YesNo key="u" value={c.usageStatisticsEnabled} />],
    [t('status.collector.retention'), c.retentionSeconds ? f.duration(c.retentionSeconds * 1000) : '—'],
    [t('status.collector.lastError'), c.lastError ? <span className="mono">{c.lastError}</span> : '—'],
    [t('status.collector.lastErrorStage'), text(c.lastErrorStage)],
    [t('status.collector.lastErrorAt'), when(f, c.lastErrorAt)],
    [t('status.collector.ingestError'), c.ingestError ? <span className="mono">{c.ingestError}</span> : '—'],
    [t('status.collector.lossWarning'), text(c.lossWarning)],
    [t('status.collector.restartWarning'), text(c.restartWarning)],
    [
      t('status.collector.warnings'),
      warnings.length === 0 ? (
        t('status.none')
      ) : (
        <ul className="alert-list">
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ),
    ],
  ];
  return (
    <Card
      title={
        <span className="row">
          <StatusDot tone={tone[h]} label={t(`health.${h}`)} />
          {c.upstream}
        </span>
      }
      subtitle={t(`health.${h}`)}
      level={3}
      data-testid={`status-collector-${c.upstream}`}
    >
      <Rows rows={rows} />
    </Card>
  );
}

function StatusBody({ s }: { s: Status }) {
  const { t } = useTranslation();
  const f = useFormat();
  const db = s.database;
  return (
    <>
      <Card title={t('status.warningsTitle')} data-testid="status-warnings">
        {s.warnings.length === 0 ? (
          <div className="row muted">
            <Icon name="check" />
            {t('status.noWarnings')}
          </div>
        ) : (
          <ul className="alert-list">
            {s.warnings.map((w, i) => (
              <li key={i} className="alert alert-warn">
                <Icon name="alert" />
                <div>
                  <strong>{w.upstream}</strong>: {w.message}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={t('status.database.title')} data-testid="status-database">
        {db ? (
          <Rows
            rows={[
              [
                t('status.database.path'),
                <span key="p" className="mono">
                  {db.path}
                </span>,
                'status-db-path',
              ],
              [t('status.database.size'), f.bytes(db.sizeBytes), 'status-db-size'],
              [t('status.database.file'), f.bytes(db.fileBytes)],
              [t('status.database.wal'), f.bytes(db.walBytes)],
              [t('status.database.schema'), f.number(db.schemaVersion)],
              [
                t('status.database.retention'),
                db.retentionSeconds ? (
                  f.duration(db.retentionSeconds * 1000)
                ) : (
                  <span className="muted">{t('status.database.retentionUnknown')}</span>
                ),
              ],
            ]}
          />
        ) : (
          <EmptyState title={t('status.database.none')} />
        )}
      </Card>
      <section className="stack" aria-labelledby="collectors-heading">
        <h2 id="collectors-heading">{t('status.collectorsTitle')}</h2>
        {s.collectors.length === 0 ? (
          <Card>
            <EmptyState title={t('dashboard.collectors.emptyTitle')}>{t('dashboard.collectors.emptyBody')}</EmptyState>
          </Card>
        ) : (
          <div className="grid grid-halves">
            {s.collectors.map((c) => (
              <CollectorCard key={c.upstream} c={c} t={t} f={f} />
            ))}
          </div>
        )}
      </section>
    </>
  );
}

export function StatusPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const { config, state } = useAuth();
  const status = useStatus();
  const info = useServiceInfo();
  const cpa = useCpaState();
  const conn = state.status === 'signed-in' ? state.client.connection : null;

  return (
    <div className="page">
      <PageHeader title={t('status.title')} description={t('status.description')} />
      <Card title={t('status.service.title')} data-testid="status-service">
        {status.data || info.data ? (
          <Rows
            rows={[
              [t('status.service.name'), text(status.data?.service ?? info.data?.service)],
              [
                t('status.service.version'),
                <span key="v" className="mono">
                  {text(status.data?.version ?? info.data?.version)}
                </span>,
                'status-version',
              ],
              [
                t('status.service.instance'),
                <span key="i" className="mono">
                  {text(info.data?.instanceId)}
                </span>,
              ],
              [t('status.service.started'), when(f, info.data?.startedAt)],
              [t('status.service.generation'), info.data ? f.number(info.data.configGeneration) : '—'],
              [t('status.service.configured'), <YesNo key="c" value={info.data?.configured} />],
              [t('status.service.time'), when(f, status.data?.time)],
              [
                t('status.service.panel'),
                <span key="p" className="mono">
                  {__PANEL_VERSION__}
                </span>,
              ],
              [
                t('status.service.cpaVersion'),
                <span key="c" className="mono">
                  {cpa.version ?? '—'}
                </span>,
              ],
              [
                t('status.service.mode'),
                config.mode === 'hosted'
                  ? t('status.service.modeHosted')
                  : t('status.service.modeCpa', { url: conn?.mode === 'cpa' ? conn.usageUrl : '' }),
              ],
              [t('status.service.timeZone'), f.timeZone],
            ]}
          />
        ) : (
          <SkeletonLines lines={6} />
        )}
      </Card>
      <QueryView query={status} loading={<SkeletonLines lines={8} />}>
        {(s) => <StatusBody s={s} />}
      </QueryView>
    </div>
  );
}
