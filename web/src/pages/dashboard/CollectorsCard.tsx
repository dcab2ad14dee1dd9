import type { UseQueryResult } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { CollectorStatus, Status } from '../../api/types';
import { useFormat } from '../../app/format';
import { Link } from '../../app/router';
import { StatusDot, type Tone } from '../../components/Badge';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { Table, type Column } from '../../components/Table';
import { collectorHealth, type Health } from '../../lib/health';

const tone: Record<Health, Tone> = { ok: 'ok', warn: 'warn', danger: 'danger', unknown: 'neutral' };

/** One line per CPA upstream: state, lag, rate, stored events, last event. */
export function CollectorsCard({ query }: { query: UseQueryResult<Status> }) {
  const { t } = useTranslation();
  const f = useFormat();
  const columns: Column<CollectorStatus>[] = [
    {
      key: 'upstream',
      header: t('status.collector.upstream'),
      main: true,
      render: (c) => {
        const h = collectorHealth(c);
        return (
          <span className="row">
            <StatusDot tone={tone[h]} label={t(`health.${h}`)} />
            <span data-testid={`collector-${c.upstream}`}>{c.upstream}</span>
          </span>
        );
      },
    },
    {
      key: 'transport',
      header: t('status.collector.transport'),
      render: (c) => (c.stopped ? t('status.collector.stopped') : c.connected ? c.transport || c.mode : t('status.collector.disconnected')),
    },
    { key: 'lag', header: t('status.collector.lag'), align: 'end', render: (c) => (c.connected ? f.duration(c.lagMs) : '—') },
    { key: 'rate', header: t('status.collector.rate1m'), align: 'end', render: (c) => f.number(c.eventsPerSecond1m, 2) },
    { key: 'stored', header: t('status.collector.stored'), align: 'end', render: (c) => f.number(c.stored) },
    {
      key: 'last',
      header: t('status.collector.lastEvent'),
      render: (c) => (c.lastEventAt ? <span title={f.dateTime(c.lastEventAt)}>{f.relative(c.lastEventAt)}</span> : '—'),
    },
  ];
  return (
    <Card
      title={t('dashboard.collectors.title')}
      actions={<Link to="/status">{t('dashboard.collectors.details')}</Link>}
      flush
      data-testid="collectors-card"
    >
      <div className={query.data ? undefined : 'card-pad'}>
        <QueryView query={query}>
          {(s) => (
            <Table
              caption={t('dashboard.collectors.title')}
              columns={columns}
              rows={s.collectors}
              rowKey={(c) => c.upstream}
              empty={
                <div className="card-pad">
                  <EmptyState title={t('dashboard.collectors.emptyTitle')}>{t('dashboard.collectors.emptyBody')}</EmptyState>
                </div>
              }
            />
          )}
        </QueryView>
      </div>
    </Card>
  );
}
