// The price routes of the usage service ({apiBase}/v0/management/model-prices*).
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { ApiClient } from '../../api/client';
import { ApiError } from '../../api/errors';
import { messageFromBody } from '../../api/errors';
import { usageJson } from '../../api/transport';
import type { PricesDocument, PricesPut, RecomputeRequest, RecomputeResult, SyncRequest, SyncResult, SyncSource } from './types';

export const PRICES_PATH = '/v0/management/model-prices';
export const PRICES_KEY = ['usage', 'model-prices'] as const;

export function usePrices(): UseQueryResult<PricesDocument> {
  const api = useApi();
  return useQuery({
    queryKey: PRICES_KEY,
    queryFn: ({ signal }) => api.usage<PricesDocument>(PRICES_PATH, { signal }),
  });
}

export function putPrices(api: ApiClient, body: PricesPut): Promise<PricesDocument> {
  return api.usage<PricesDocument>(PRICES_PATH, { method: 'PUT', body });
}

/**
 * The path of DELETE model-prices/{model}: slashes stay (openai/gpt-5), each
 * segment is escaped. null when the name has segments a URL cannot carry
 * as they are ("", ".", ".."): browsers and the server would rewrite them.
 */
export function deletePath(model: string): string | null {
  const segments = model.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return null;
  return PRICES_PATH + '/' + segments.map(encodeURIComponent).join('/');
}

export function deletePrice(api: ApiClient, path: string): Promise<PricesDocument> {
  return api.usage<PricesDocument>(path, { method: 'DELETE' });
}

export function recomputeCosts(api: ApiClient, body: RecomputeRequest): Promise<RecomputeResult> {
  // Re-pricing a long period takes a while.
  return api.usage<RecomputeResult>(PRICES_PATH + '/recompute', { method: 'POST', body, timeoutMs: 10 * 60_000 });
}

export type SyncOutcome =
  { ok: true; result: SyncResult } | { ok: false; status: number; code: string; message: string; sources: SyncSource[] };

function isSyncResult(body: unknown): body is SyncResult {
  return (
    typeof body === 'object' &&
    body !== null &&
    Array.isArray((body as SyncResult).sources) &&
    typeof (body as SyncResult).imported === 'number'
  );
}

/**
 * POST sync. A failure (502: no catalogue could be read, 409: a sync runs,
 * 503: no source enabled…) resolves too, with the server's message and, for
 * 502, each source's error. Only a missing answer throws.
 */
export async function syncPrices(api: ApiClient, body: SyncRequest, signal?: AbortSignal): Promise<SyncOutcome> {
  const answer = await usageJson(api, PRICES_PATH + '/sync', { method: 'POST', body, signal });
  if (answer.status >= 200 && answer.status < 300 && isSyncResult(answer.body)) {
    return { ok: true, result: answer.body };
  }
  if (answer.status === 401) {
    throw new ApiError({ kind: 'http', source: 'usage', status: 401, message: 'not signed in', url: api.usageUrl(PRICES_PATH + '/sync') });
  }
  const { message, code } = messageFromBody(answer.body);
  const raw = (answer.body as { sources?: unknown } | null)?.sources;
  return { ok: false, status: answer.status, code, message, sources: Array.isArray(raw) ? (raw as SyncSource[]) : [] };
}
