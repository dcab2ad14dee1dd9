// The alias routes of the usage service ({apiBase}/v0/management/api-key-aliases*)
// and the usage data the API key page joins with them.
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { ApiClient } from '../../api/client';
import { REFRESH_MS } from '../../api/queries';
import { rangeParams } from '../../lib/time';
import type { AliasesDocument } from './logic';

export const ALIASES_PATH = '/v0/management/api-key-aliases';
export const ALIASES_KEY = ['usage', 'api-key-aliases'] as const;

export function useAliases(): UseQueryResult<AliasesDocument> {
  const api = useApi();
  return useQuery({
    queryKey: ALIASES_KEY,
    queryFn: ({ signal }) => api.usage<AliasesDocument>(ALIASES_PATH, { signal }),
    refetchInterval: REFRESH_MS,
  });
}

export interface KeyMasks {
  apiKeys: { hash: string; mask: string }[];
}

/** The mask of every key hash seen in the last 400 days (the longest period the API takes). */
export function useKnownKeyMasks(timeZone: string): UseQueryResult<KeyMasks> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'filters', 'api-keys-400d', timeZone],
    queryFn: ({ signal }) => {
      const now = Date.now();
      return api.usage<KeyMasks>('/api/v1/filters', { query: rangeParams({ from: now - 399 * 86_400_000, to: now }, timeZone), signal });
    },
    staleTime: 5 * 60_000,
  });
}

export type AliasPutItem = { apiKey: string; alias: string } | { apiKeyHash: string; alias: string };

/** Sets aliases; the answer lists every alias after the change. */
export function putAliases(api: ApiClient, items: AliasPutItem[]): Promise<AliasesDocument> {
  return api.usage<AliasesDocument>(ALIASES_PATH, { method: 'PUT', body: { items } });
}

export function deleteAlias(api: ApiClient, hash: string): Promise<{ ok: boolean }> {
  return api.usage<{ ok: boolean }>(ALIASES_PATH + '/' + encodeURIComponent(hash), { method: 'DELETE' });
}
