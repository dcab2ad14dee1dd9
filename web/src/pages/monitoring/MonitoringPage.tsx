// Request monitoring: KPIs, charts, breakdowns, failure analysis and a live
// table of the usage store, for a period and filters kept in the URL
// (#/monitoring?range=7d&model=gpt-5&status=failed).
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';
import { rangeParams } from '../../lib/time';
import { useNow } from '../../lib/useNow';
import {
  useMonitoringBreakdown,
  useMonitoringFailures,
  useMonitoringFilters,
  useMonitoringSeries,
  useMonitoringSummary,
  useValueLabels,
  type PeriodQuery,
  type ViewQuery,
} from './api';
import { BreakdownCard } from './BreakdownCard';
import { ChartsSection } from './ChartsSection';
import { FilterBar, PeriodBar, useBucketLabel } from './Controls';
import { EventDetails } from './EventDetails';
import { FailuresCard } from './FailuresCard';
import { KpiGrid } from './KpiGrid';
import { LiveCard } from './LiveCard';
import {
  activeFilterCount,
  effectiveBucket,
  filterSearch,
  rangeProblem,
  resolveRange,
  withFilter,
  withoutAllFilters,
  type FilterDim,
} from './state';
import type { UsageEvent } from './types';
import { useMonitoringState } from './useMonitoringState';
import './monitoring.css';

const DAY_MS = 86_400_000;

export function MonitoringPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const tz = f.timeZone;
  const queryClient = useQueryClient();
  const bucketLabel = useBucketLabel();
  const [state, update] = useMonitoringState(tz);
  const [selected, setSelected] = useState<UsageEvent | null>(null);

  // The period at render time, for the bucket choice and the custom inputs;
  // each query computes its own "now" when it runs.
  const now = useNow(60_000);
  const { preset, from, to } = state;
  const range = useMemo(() => resolveRange({ preset, from, to }, now, tz), [preset, from, to, now, tz]);
  const problem = rangeProblem({ preset, from, to });
  const bucket = effectiveBucket(state.bucket, range ? range.to - range.from : DAY_MS);

  const period = useMemo<PeriodQuery>(
    () => ({
      key: preset === 'custom' ? ['custom', from, to, tz] : [preset, tz],
      params: () => {
        const at = Date.now();
        return rangeParams(resolveRange({ preset, from, to }, at, tz) ?? { from: at - DAY_MS, to: at }, tz);
      },
      enabled: problem === null,
    }),
    [preset, from, to, tz, problem],
  );
  const filters = filterSearch(state);
  const view = useMemo<ViewQuery>(() => ({ ...period, filters }), [period, filters]);
  const failuresHidden = state.status === 'ok';

  const summary = useMonitoringSummary(view);
  const series = useMonitoringSeries(view, bucket);
  const filterValues = useMonitoringFilters(view);
  const breakdown = useMonitoringBreakdown(view, state.tab, { top: 25 });
  const failures = useMonitoringFailures(view, 50, !failuresHidden);
  const failedByModel = useMonitoringBreakdown(view, 'model', { top: 6, failedOnly: true, enabled: !failuresHidden });
  const failedByAccount = useMonitoringBreakdown(view, 'account', { top: 6, failedOnly: true, enabled: !failuresHidden });
  const accountLabels = useValueLabels(period, 'account');
  const keyLabels = useValueLabels(period, 'api_key');
  const labels = useMemo(() => ({ account: accountLabels, api_key: keyLabels }), [accountLabels, keyLabels]);

  const pick = useCallback((dim: FilterDim, key: string) => update((s) => withFilter(s, dim, key)), [update]);
  const closeDetails = useCallback(() => setSelected(null), []);
  const refreshing = summary.isFetching || series.isFetching || breakdown.isFetching || failures.isFetching;
  const noEvents = summary.data?.current.attempts === 0;

  return (
    <div className="page mon-page" data-testid="monitoring-page">
      <PageHeader
        title={t('monitoringPage.title')}
        description={t('monitoringPage.description', { tz, bucket: bucketLabel(bucket) })}
        actions={
          <Button
            icon="refresh"
            loading={refreshing}
            onClick={() =>
              void queryClient.invalidateQueries({
                predicate: (q) => q.queryKey[0] === 'usage' && (q.queryKey[2] === 'monitoring' || q.queryKey[2] === 'monitoring-labels'),
              })
            }
            data-testid="monitoring-refresh"
          >
            {t('common.refresh')}
          </Button>
        }
      />

      <Card className="mon-controls">
        <div className="stack">
          <PeriodBar state={state} update={update} range={range} timeZone={tz} bucket={bucket} />
          <FilterBar state={state} update={update} filters={filterValues} labels={labels} />
        </div>
      </Card>

      {noEvents ? (
        <Card data-testid="monitoring-empty">
          <EmptyState
            title={t('monitoringPage.empty.title')}
            action={
              activeFilterCount(state) > 0 ? (
                <Button size="sm" onClick={() => update(withoutAllFilters)}>
                  {t('monitoringPage.filters.clear')}
                </Button>
              ) : undefined
            }
          >
            {activeFilterCount(state) > 0 ? t('monitoringPage.empty.filtered') : t('monitoringPage.empty.body')}
          </EmptyState>
        </Card>
      ) : null}

      <KpiGrid query={summary} />

      <div className="mon-charts">
        <ChartsSection query={series} />
      </div>

      <BreakdownCard tab={state.tab} onTab={(tab) => update((s) => ({ ...s, tab }))} query={breakdown} onPick={pick} />

      <FailuresCard
        hidden={failuresHidden}
        failures={failures}
        byModel={failedByModel}
        byAccount={failedByAccount}
        onOpen={setSelected}
        onPick={pick}
      />

      {/* A new feed (and table) for other filters. */}
      <LiveCard key={filters} filters={filters} timeZone={tz} onOpen={setSelected} keyLabels={keyLabels} />

      {selected ? <EventDetails event={selected} onClose={closeDetails} keyLabels={keyLabels} /> : null}
    </div>
  );
}
