// The monitoring page's queries of the usage API. The period is computed
// inside each query function, so "now" is the time of the fetch (a refresh
// every REFRESH_MS moves a "last 24 hours" view along); the query key names
// the period (the preset, or the custom bounds) and the filters.
import { keepPreviousData, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { Query } from '../../api/client';
import { REFRESH_MS, type AnalyticsParams } from '../../api/queries';
import type { BreakdownDimension, BreakdownResponse, Bucket, SummaryResponse, TimeSeriesResponse } from '../../api/types';
import { queryFromSearch } from './state';
import type { FailuresResponse, FiltersResponse } from './types';

export interface PeriodQuery {
  /** Names the period in query keys: ['24h', tz] or ['custom', from, to, tz]. */
  key: readonly unknown[];
  /** from, to and tz at the time of the fetch. */
  params: () => AnalyticsParams;
  /** False while the custom period is unusable. */
  enabled: boolean;
}

export interface ViewQuery extends PeriodQuery {
  /** Dimension filters and failed=, as a query string (filterSearch): stable, so it is also the query key. */
  filters: string;
}

const common = { refetchInterval: REFRESH_MS, placeholderData: keepPreviousData } as const;

export function useMonitoringSummary(v: ViewQuery): UseQueryResult<SummaryResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'summary', 'monitoring', ...v.key, v.filters],
    queryFn: ({ signal }) =>
      api.usage<SummaryResponse>('/api/v1/summary', { query: { ...v.params(), ...queryFromSearch(v.filters) }, signal }),
    enabled: v.enabled,
    ...common,
  });
}

export function useMonitoringSeries(v: ViewQuery, bucket: Bucket): UseQueryResult<TimeSeriesResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'timeseries', 'monitoring', bucket, ...v.key, v.filters],
    queryFn: ({ signal }) =>
      api.usage<TimeSeriesResponse>('/api/v1/timeseries', { query: { ...v.params(), ...queryFromSearch(v.filters), bucket }, signal }),
    enabled: v.enabled,
    ...common,
  });
}

export function useMonitoringBreakdown(
  v: ViewQuery,
  by: BreakdownDimension,
  options: { top: number; failedOnly?: boolean; enabled?: boolean },
): UseQueryResult<BreakdownResponse> {
  const api = useApi();
  const failedOnly = options.failedOnly ?? false;
  return useQuery({
    queryKey: ['usage', 'breakdown', 'monitoring', by, options.top, failedOnly, ...v.key, v.filters],
    queryFn: ({ signal }) => {
      const query: Query = { ...v.params(), ...queryFromSearch(v.filters), by, top: options.top };
      if (failedOnly) query.failed = 'true';
      return api.usage<BreakdownResponse>('/api/v1/breakdown', { query, signal });
    },
    enabled: v.enabled && (options.enabled ?? true),
    ...common,
  });
}

/** The newest failed attempts of the period (failed= is implied: the filters must not carry it). */
export function useMonitoringFailures(v: ViewQuery, limit: number, enabled = true): UseQueryResult<FailuresResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'failures', 'monitoring', limit, ...v.key, v.filters],
    queryFn: ({ signal }) => {
      const filters = queryFromSearch(v.filters);
      delete filters.failed;
      return api.usage<FailuresResponse>('/api/v1/failures', { query: { ...v.params(), ...filters, limit }, signal });
    },
    enabled: v.enabled && enabled,
    ...common,
  });
}

/** The values of every dimension in the period (each list ignores its own filter). */
export function useMonitoringFilters(v: ViewQuery): UseQueryResult<FiltersResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'filters', 'monitoring', ...v.key, v.filters],
    queryFn: ({ signal }) =>
      api.usage<FiltersResponse>('/api/v1/filters', { query: { ...v.params(), ...queryFromSearch(v.filters) }, signal }),
    enabled: v.enabled,
    ...common,
  });
}

export interface ValueLabel {
  label: string;
  hint?: string;
}

/**
 * Display names of the values of dim in the period, from an unfiltered
 * breakdown: API key aliases (else masks) and account names (else the
 * auth_index). The filter lists only carry the raw values.
 */
export function useValueLabels(p: PeriodQuery, dim: 'account' | 'api_key'): Map<string, ValueLabel> {
  const api = useApi();
  const q = useQuery({
    queryKey: ['usage', 'breakdown', 'monitoring-labels', dim, ...p.key],
    queryFn: ({ signal }) => api.usage<BreakdownResponse>('/api/v1/breakdown', { query: { ...p.params(), by: dim, top: 0 }, signal }),
    enabled: p.enabled,
    select: labelsOf,
    ...common,
  });
  return q.data ?? EMPTY_LABELS;
}

const EMPTY_LABELS = new Map<string, ValueLabel>();

function labelsOf(data: BreakdownResponse): Map<string, ValueLabel> {
  const m = new Map<string, ValueLabel>();
  for (const r of data.rows) if (!r.other && r.key !== '') m.set(r.key, { label: r.label || r.key, hint: r.hint });
  return m;
}
