import type { UseQueryResult } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { TimeSeriesResponse } from '../../api/types';
import { useFormat } from '../../app/format';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { Skeleton } from '../../components/Skeleton';
import { TimeChart, type ChartSeries } from '../../components/TimeChart';

function ActivityChart({ data }: { data: TimeSeriesResponse }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { starts, ends, series, total, failed } = useMemo(() => {
    const pts = data.points;
    const s: ChartSeries[] = [
      {
        label: t('dashboard.chart.requests'),
        colorVar: '--chart-1',
        kind: 'bars',
        values: pts.map((p) => p.attempts),
        format: (v) => f.number(v),
      },
      {
        label: t('dashboard.chart.failed'),
        colorVar: '--danger',
        kind: 'bars',
        values: pts.map((p) => p.failed),
        format: (v) => f.number(v),
      },
      {
        label: t('dashboard.chart.tokens'),
        colorVar: '--chart-2',
        kind: 'line',
        axis: 'right',
        values: pts.map((p) => p.tokens.total),
        format: (v) => f.tokens(v),
      },
    ];
    return {
      starts: pts.map((p) => Date.parse(p.start) / 1000),
      ends: pts.map((p) => Date.parse(p.end) / 1000),
      series: s,
      total: pts.reduce((n, p) => n + p.attempts, 0),
      failed: pts.reduce((n, p) => n + p.failed, 0),
    };
  }, [data, t, f]);
  const formatTick = useMemo(() => (sec: number) => f.time(sec * 1000), [f]);
  const formatBucket = useMemo(() => (a: number, b: number) => `${f.time(a * 1000)}–${f.time(b * 1000)}`, [f]);

  if (total === 0) {
    return <EmptyState title={t('dashboard.chart.emptyTitle')}>{t('dashboard.chart.emptyBody')}</EmptyState>;
  }
  return (
    <TimeChart
      starts={starts}
      ends={ends}
      series={series}
      formatTick={formatTick}
      formatBucket={formatBucket}
      ariaLabel={t('dashboard.chart.aria', { total: f.number(total), failed: f.number(failed) })}
      timeLabel={t('dashboard.chart.time')}
    />
  );
}

/** Requests, failures and tokens per hour over the last 24 hours. */
export function ActivityCard({ query }: { query: UseQueryResult<TimeSeriesResponse> }) {
  const { t } = useTranslation();
  return (
    <Card title={t('dashboard.chart.title')} subtitle={t('dashboard.chart.subtitle')} data-testid="activity-chart">
      <QueryView query={query} loading={<Skeleton height={240} />}>
        {(data) => <ActivityChart data={data} />}
      </QueryView>
    </Card>
  );
}
