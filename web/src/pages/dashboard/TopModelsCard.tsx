import type { UseQueryResult } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { BreakdownResponse, BreakdownRow } from '../../api/types';
import { useFormat } from '../../app/format';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { Table, type Column } from '../../components/Table';

function TopModelsTable({ data }: { data: BreakdownResponse }) {
  const { t } = useTranslation();
  const f = useFormat();
  const total = data.rows.reduce((n, r) => n + r.attempts, 0);
  const columns: Column<BreakdownRow>[] = [
    {
      key: 'model',
      header: t('dashboard.models.model'),
      main: true,
      render: (r) =>
        r.other ? <span className="muted">{t('dashboard.models.other')}</span> : <span title={r.hint}>{r.label || r.key}</span>,
    },
    { key: 'requests', header: t('dashboard.models.requests'), align: 'end', render: (r) => f.number(r.attempts) },
    {
      key: 'tokens',
      header: t('dashboard.models.tokens'),
      align: 'end',
      render: (r) => <span title={f.number(r.tokens.total)}>{f.tokens(r.tokens.total)}</span>,
    },
    {
      key: 'cost',
      header: t('dashboard.models.cost'),
      align: 'end',
      render: (r) =>
        r.attempts > 0 && r.unpriced === r.attempts ? (
          <span className="muted" title={t('dashboard.models.unpricedTitle')}>
            {t('dashboard.models.unpriced')}
          </span>
        ) : (
          <span title={r.unpriced > 0 ? t('dashboard.unpriced', { count: r.unpriced, value: f.number(r.unpriced) }) : undefined}>
            {f.usd(r.costUsd)}
            {r.unpriced > 0 ? '*' : ''}
          </span>
        ),
    },
    {
      key: 'share',
      header: t('dashboard.models.share'),
      render: (r) => {
        const share = total > 0 ? r.attempts / total : 0;
        return (
          <div className="share" role="img" aria-label={f.percent(share)} title={f.percent(share)}>
            <span style={{ width: `${(share * 100).toFixed(1)}%` }} />
          </div>
        );
      },
    },
  ];
  return (
    <Table
      caption={t('dashboard.models.title')}
      columns={columns}
      rows={data.rows}
      rowKey={(r) => (r.other ? '\u0000other' : r.key)}
      empty={<EmptyState title={t('dashboard.models.emptyTitle')}>{t('dashboard.models.emptyBody')}</EmptyState>}
    />
  );
}

/** Today's five most requested models, and the rest summed. */
export function TopModelsCard({ query }: { query: UseQueryResult<BreakdownResponse> }) {
  const { t } = useTranslation();
  return (
    <Card title={t('dashboard.models.title')} subtitle={t('dashboard.models.subtitle')} flush data-testid="top-models">
      <div className={query.data ? undefined : 'card-pad'}>
        <QueryView query={query}>{(data) => <TopModelsTable data={data} />}</QueryView>
      </div>
    </Card>
  );
}
