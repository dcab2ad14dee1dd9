// Calls of the AI providers page: CPA's provider lists and their writes,
// /auth-files/status, /api-call and /vertex/import (management API), and
// the usage store's account breakdown of the last 7 days.
import { useQueries, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { ApiClient } from '../../api/client';
import { REFRESH_MS } from '../../api/queries';
import type { BreakdownResponse } from '../../api/types';
import {
  COMPAT_FIELD,
  COMPAT_ROUTE,
  KEY_SECTIONS,
  listOf,
  readProbe,
  statusBody,
  type ApiCallResponse,
  type CompatProvider,
  type KeyEntry,
  type ProbeRequest,
  type ProbeResult,
} from './logic';

export const LIST_KEY = ['cpa', 'providers-page'] as const;

export interface SectionData<T> {
  items: T[] | undefined;
  error: unknown;
  isPending: boolean;
  isFetching: boolean;
  refetch: () => void;
}

/** Every key section's list, one query each (in KEY_SECTIONS order). */
export function useKeySections(): SectionData<KeyEntry>[] {
  const api = useApi();
  const results = useQueries({
    queries: KEY_SECTIONS.map((s) => ({
      queryKey: [...LIST_KEY, s.route],
      queryFn: async ({ signal }: { signal: AbortSignal }) => listOf<KeyEntry>(await api.management<unknown>(s.route, { signal }), s.field),
      refetchInterval: REFRESH_MS,
    })),
  });
  return results.map((r) => ({
    items: r.data,
    error: r.error,
    isPending: r.isPending,
    isFetching: r.isFetching,
    refetch: () => void r.refetch(),
  }));
}

export function useCompat(): UseQueryResult<CompatProvider[]> {
  const api = useApi();
  return useQuery({
    queryKey: [...LIST_KEY, COMPAT_ROUTE],
    queryFn: async ({ signal }) => listOf<CompatProvider>(await api.management<unknown>(COMPAT_ROUTE, { signal }), COMPAT_FIELD),
    refetchInterval: REFRESH_MS,
  });
}

/** Requests per credential (key = auth_index) since local midnight 6 days ago. */
export function useAccountUsage(from: string, timeZone: string): UseQueryResult<BreakdownResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'breakdown', 'providers-7d', from, timeZone],
    queryFn: ({ signal }) =>
      api.usage<BreakdownResponse>('/api/v1/breakdown', { query: { by: 'account', from, tz: timeZone, top: 0 }, signal }),
    refetchInterval: REFRESH_MS,
  });
}

export function putList(api: ApiClient, route: string, items: unknown[]): Promise<unknown> {
  return api.management(route, { method: 'PUT', body: items });
}

export function patchKeyEntry(api: ApiClient, route: string, index: number, value: Record<string, unknown>): Promise<unknown> {
  return api.management(route, { method: 'PATCH', body: { index, value } });
}

export function deleteKeyEntry(api: ApiClient, route: string, index: number): Promise<unknown> {
  return api.management(route, { method: 'DELETE', query: { index } });
}

export function patchCompat(api: ApiClient, name: string, value: Record<string, unknown>): Promise<unknown> {
  return api.management(COMPAT_ROUTE, { method: 'PATCH', body: { name, value } });
}

export function deleteCompat(api: ApiClient, name: string): Promise<unknown> {
  return api.management(COMPAT_ROUTE, { method: 'DELETE', query: { name } });
}

export function setCredentialDisabled(api: ApiClient, authIndex: string, disabled: boolean): Promise<unknown> {
  return api.management('/auth-files/status', { method: 'PATCH', body: statusBody(authIndex, disabled) });
}

/** Runs a probe through CPA's /api-call and reads the answer. */
export async function runProbe(api: ApiClient, req: ProbeRequest): Promise<ProbeResult> {
  const started = performance.now();
  const r = await api.management<ApiCallResponse>('/api-call', { method: 'POST', body: req, timeoutMs: 65_000 });
  return readProbe(r, performance.now() - started);
}

export interface VertexImportResult {
  status: string;
  'auth-file'?: string;
  project_id?: string;
  email?: string;
  location?: string;
}

export function importVertex(api: ApiClient, file: File, location: string): Promise<VertexImportResult> {
  const form = new FormData();
  form.append('file', file, file.name);
  if (location.trim() !== '') form.append('location', location.trim());
  return api.management<VertexImportResult>('/vertex/import', { method: 'POST', rawBody: form });
}
