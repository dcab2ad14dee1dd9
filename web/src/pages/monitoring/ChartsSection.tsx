import type { UseQueryResult } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Bucket, TimeSeriesResponse } from '../../api/types';
import { useFormat } from '../../app/format';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { QueryView } from '../../components/QueryView';
import { Skeleton } from '../../components/Skeleton';
import { useBucketLabel } from './Controls';
import { StackChart, type StackSeries } from './StackChart';
import { BUCKETS } from './state';

interface Prepared {
  starts: number[];
  ends: number[];
  requests: StackSeries[];
  tokens: StackSeries[];
  cost: StackSeries[];
  totalAttempts: number;
  totalFailed: number;
  totalTokens: number;
  totalCost: number;
}

function usePrepared(data: TimeSeriesResponse): Prepared {
  const { t } = useTranslation();
  return useMemo(() => {
    const pts = data.points;
    return {
      starts: pts.map((p) => Date.parse(p.start) / 1000),
      ends: pts.map((p) => Date.parse(p.end) / 1000),
      requests: [
        { label: t('monitoringPage.charts.succeeded'), colorVar: '--ok', values: pts.map((p) => p.succeeded) },
        { label: t('monitoringPage.charts.failed'), colorVar: '--danger', values: pts.map((p) => p.failed) },
      ],
      tokens: [
        { label: t('monitoringPage.charts.uncached'), colorVar: '--chart-1', values: pts.map((p) => p.tokens.uncached) },
        { label: t('monitoringPage.charts.cacheRead'), colorVar: '--chart-5', values: pts.map((p) => p.tokens.cacheRead) },
        { label: t('monitoringPage.charts.cacheWrite'), colorVar: '--chart-3', values: pts.map((p) => p.tokens.cacheWrite) },
        { label: t('monitoringPage.charts.output'), colorVar: '--chart-2', values: pts.map((p) => p.tokens.output) },
        { label: t('monitoringPage.charts.reasoning'), colorVar: '--chart-4', values: pts.map((p) => p.tokens.reasoning) },
      ],
      cost: [{ label: t('monitoringPage.charts.cost'), colorVar: '--chart-1', values: pts.map((p) => p.costUsd) }],
      totalAttempts: pts.reduce((n, p) => n + p.attempts, 0),
      totalFailed: pts.reduce((n, p) => n + p.failed, 0),
      totalTokens: pts.reduce((n, p) => n + p.tokens.total, 0),
      totalCost: pts.reduce((n, p) => n + p.costUsd, 0),
    };
  }, [data, t]);
}

function Charts({ data }: { data: TimeSeriesResponse }) {
  const { t } = useTranslation();
  const f = useFormat();
  const p = usePrepared(data);
  const fmtNumber = useMemo(() => (v: number) => f.number(v), [f]);
  const fmtTokens = useMemo(() => (v: number) => f.tokens(v), [f]);
  const fmtUsd = useMemo(() => (v: number) => f.usd(v), [f]);
  const empty = <EmptyState title={t('monitoringPage.charts.emptyTitle')}>{t('monitoringPage.charts.emptyBody')}</EmptyState>;
  const common = { starts: p.starts, ends: p.ends, locale: f.locale, timeZone: f.timeZone, timeLabel: t('monitoringPage.charts.time') };
  const bucketLabel = useBucketLabel();
  const bucket = (BUCKETS as readonly string[]).includes(data.bucket) ? bucketLabel(data.bucket as Bucket) : data.bucket;
  return (
    <>
      <Card
        title={t('monitoringPage.charts.requestsTitle')}
        subtitle={t('monitoringPage.charts.perBucket', { bucket })}
        className="mon-chart-card mon-chart-wide"
        data-testid="mon-chart-requests"
      >
        {p.totalAttempts === 0 ? (
          empty
        ) : (
          <StackChart
            {...common}
            series={p.requests}
            format={fmtNumber}
            totalLabel={t('monitoringPage.charts.total')}
            ariaLabel={t('monitoringPage.charts.requestsAria', { total: f.number(p.totalAttempts), failed: f.number(p.totalFailed) })}
          />
        )}
      </Card>
      <Card
        title={t('monitoringPage.charts.tokensTitle')}
        subtitle={t('monitoringPage.charts.perBucket', { bucket })}
        className="mon-chart-card"
        data-testid="mon-chart-tokens"
      >
        {p.totalTokens === 0 ? (
          empty
        ) : (
          <StackChart
            {...common}
            series={p.tokens}
            format={fmtTokens}
            totalLabel={t('monitoringPage.charts.total')}
            ariaLabel={t('monitoringPage.charts.tokensAria', { total: f.tokens(p.totalTokens) })}
          />
        )}
      </Card>
      <Card
        title={t('monitoringPage.charts.costTitle')}
        subtitle={t('monitoringPage.charts.perBucket', { bucket })}
        className="mon-chart-card"
        data-testid="mon-chart-cost"
      >
        {p.totalAttempts === 0 ? (
          empty
        ) : p.totalCost === 0 ? (
          <EmptyState title={t('monitoringPage.charts.noCostTitle')}>{t('monitoringPage.charts.noCostBody')}</EmptyState>
        ) : (
          <StackChart
            {...common}
            series={p.cost}
            stacked={false}
            format={fmtUsd}
            ariaLabel={t('monitoringPage.charts.costAria', { total: f.usd(p.totalCost) })}
          />
        )}
      </Card>
    </>
  );
}

/** Requests (succeeded / failed), tokens by kind and cost per bucket. */
export function ChartsSection({ query }: { query: UseQueryResult<TimeSeriesResponse> }) {
  const { t } = useTranslation();
  if (query.data === undefined) {
    // One card per chart while loading or failing, so the layout does not jump.
    return (
      <>
        {(['requests', 'tokens', 'cost'] as const).map((k) => (
          <Card
            key={k}
            title={t(`monitoringPage.charts.${k}Title`)}
            className={k === 'requests' ? 'mon-chart-card mon-chart-wide' : 'mon-chart-card'}
            data-testid={`mon-chart-${k}`}
          >
            <QueryView query={query} loading={<Skeleton height={240} />}>
              {() => null}
            </QueryView>
          </Card>
        ))}
      </>
    );
  }
  return <Charts data={query.data} />;
}
