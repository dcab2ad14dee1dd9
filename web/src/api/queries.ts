// React Query hooks for the data several pages share. Page-specific queries
// can live next to their page; use the same key prefixes ('usage', 'cpa') so
// signing out clears them and the refresh rules apply alike.
import { useQueries, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from './auth';
import { isApiError } from './errors';
import type {
  BreakdownDimension,
  BreakdownResponse,
  Bucket,
  CpaApiKeys,
  CpaAuthFiles,
  CpaCompatProvider,
  CpaLatestVersion,
  CpaProviderKey,
  CpaUsageStatisticsEnabled,
  ServiceInfo,
  Status,
  SummaryResponse,
  TimeSeriesResponse,
} from './types';
import type { Query } from './client';

/** How often live views refresh. React Query pauses it while the tab is hidden. */
export const REFRESH_MS = 30_000;

/** Query parameters of an analytics call: from, to, tz and filters. */
export type AnalyticsParams = Query & { from: string; to: string; tz: string };

export function useServiceInfo(): UseQueryResult<ServiceInfo> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'service-info'],
    queryFn: ({ signal }) => api.usage<ServiceInfo>('/usage-service/info', { signal }),
    staleTime: 5 * 60_000,
  });
}

export function useStatus(): UseQueryResult<Status> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'status'],
    queryFn: ({ signal }) => api.usage<Status>('/status', { signal }),
    refetchInterval: REFRESH_MS,
  });
}

/**
 * An analytics summary. params is a function so that "now" is read when the
 * query runs, not when the component rendered; key names the range.
 */
export function useSummary(key: readonly unknown[], params: () => AnalyticsParams): UseQueryResult<SummaryResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'summary', ...key],
    queryFn: ({ signal }) => api.usage<SummaryResponse>('/api/v1/summary', { query: params(), signal }),
    refetchInterval: REFRESH_MS,
  });
}

export function useTimeSeries(key: readonly unknown[], bucket: Bucket, params: () => AnalyticsParams): UseQueryResult<TimeSeriesResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'timeseries', bucket, ...key],
    queryFn: ({ signal }) => api.usage<TimeSeriesResponse>('/api/v1/timeseries', { query: { ...params(), bucket }, signal }),
    refetchInterval: REFRESH_MS,
  });
}

export function useBreakdown(
  key: readonly unknown[],
  by: BreakdownDimension,
  options: { top?: number; sort?: 'attempts' | 'cost' },
  params: () => AnalyticsParams,
): UseQueryResult<BreakdownResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'breakdown', by, options.top ?? null, options.sort ?? null, ...key],
    queryFn: ({ signal }) =>
      api.usage<BreakdownResponse>('/api/v1/breakdown', { query: { ...params(), by, top: options.top, sort: options.sort }, signal }),
    refetchInterval: REFRESH_MS,
  });
}

// ---- CPA management API ----

/** A light management call whose answer tells whether CPA is reachable (and its version, by header). */
export function useCpaPing(): UseQueryResult<CpaUsageStatisticsEnabled> {
  const api = useApi();
  return useQuery({
    queryKey: ['cpa', 'usage-statistics-enabled'],
    queryFn: ({ signal }) => api.management<CpaUsageStatisticsEnabled>('/usage-statistics-enabled', { signal }),
    refetchInterval: REFRESH_MS,
  });
}

/** CPA's newest release (CPA asks GitHub; fails without internet access). */
export function useCpaLatestVersion(): UseQueryResult<CpaLatestVersion> {
  const api = useApi();
  return useQuery({
    queryKey: ['cpa', 'latest-version'],
    queryFn: ({ signal }) => api.management<CpaLatestVersion>('/latest-version', { signal }),
    staleTime: 60 * 60_000,
    retry: false,
  });
}

export function useCpaApiKeys(): UseQueryResult<CpaApiKeys> {
  const api = useApi();
  return useQuery({
    queryKey: ['cpa', 'api-keys'],
    queryFn: ({ signal }) => api.management<CpaApiKeys>('/api-keys', { signal }),
    refetchInterval: REFRESH_MS,
  });
}

export function useCpaAuthFiles(): UseQueryResult<CpaAuthFiles> {
  const api = useApi();
  return useQuery({
    queryKey: ['cpa', 'auth-files'],
    queryFn: ({ signal }) => api.management<CpaAuthFiles>('/auth-files', { signal }),
    refetchInterval: REFRESH_MS,
  });
}

/** CPA's provider credential lists, by route and the JSON key of their answer. */
export const PROVIDER_LISTS = [
  { route: '/gemini-api-key', field: 'gemini-api-key', label: 'Gemini' },
  { route: '/claude-api-key', field: 'claude-api-key', label: 'Claude' },
  { route: '/codex-api-key', field: 'codex-api-key', label: 'Codex' },
  { route: '/vertex-api-key', field: 'vertex-api-key', label: 'Vertex' },
  { route: '/xai-api-key', field: 'xai-api-key', label: 'xAI' },
  { route: '/interactions-api-key', field: 'interactions-api-key', label: 'Interactions' },
  { route: '/openai-compatibility', field: 'openai-compatibility', label: 'OpenAI-compatible' },
] as const;

export type ProviderList = (typeof PROVIDER_LISTS)[number];

export interface ProviderCount {
  list: ProviderList;
  /** Entries; for openai-compatibility the providers. */
  entries: number;
  /** Keys: entries, or the api-key-entries of the OpenAI-compatible providers. */
  keys: number;
  /** False when this CPA has no such route (older versions answer 404). */
  available: boolean;
}

export interface ProviderCounts {
  lists: ProviderCount[];
  totalEntries: number;
  totalKeys: number;
  isPending: boolean;
  error: unknown;
  refetch: () => void;
}

/** Counts of every provider list, each its own query; a 404 counts as "not in this CPA version". */
export function useCpaProviderCounts(): ProviderCounts {
  const api = useApi();
  const results = useQueries({
    queries: PROVIDER_LISTS.map((list) => ({
      queryKey: ['cpa', 'provider-list', list.route],
      queryFn: async ({ signal }: { signal: AbortSignal }): Promise<ProviderCount> => {
        try {
          const body = await api.management<Record<string, unknown>>(list.route, { signal });
          const items = Array.isArray(body[list.field]) ? (body[list.field] as unknown[]) : [];
          let keys = items.length;
          if (list.field === 'openai-compatibility') {
            keys = (items as CpaCompatProvider[]).reduce((n, p) => n + (p['api-key-entries']?.length ?? 0), 0);
          } else {
            keys = (items as CpaProviderKey[]).length;
          }
          return { list, entries: items.length, keys, available: true };
        } catch (e) {
          if (isApiError(e) && e.isNotFound) return { list, entries: 0, keys: 0, available: false };
          throw e;
        }
      },
      refetchInterval: REFRESH_MS,
    })),
  });
  const lists = results.flatMap((r) => (r.data ? [r.data] : []));
  return {
    lists,
    totalEntries: lists.reduce((n, c) => n + c.entries, 0),
    totalKeys: lists.reduce((n, c) => n + c.keys, 0),
    isPending: results.some((r) => r.isPending),
    error: results.find((r) => r.error)?.error ?? null,
    refetch: () => {
      for (const r of results) void r.refetch();
    },
  };
}
