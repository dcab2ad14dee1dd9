// CPA's auth-file routes (cpa-protocol §3.3), the OAuth model maps (§3.2)
// and the per-account usage of the last 7 days from the usage service.
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { ApiClient } from '../../api/client';
import { isApiError } from '../../api/errors';
import { REFRESH_MS } from '../../api/queries';
import { saveBlob } from '../../lib/download';
import type { BreakdownResponse } from '../../api/types';
import type { AuthFileEntry, AuthFilesResponse, BatchResult, FieldPatch } from './logic';
import { readBatchResult } from './logic';

/** Shared with the OAuth page, which invalidates it after a login. */
export const AUTH_FILES_KEY = ['cpa', 'auth-files'] as const;
export const EXCLUDED_KEY = ['cpa', 'oauth-excluded-models'] as const;
export const ALIAS_KEY = ['cpa', 'oauth-model-alias'] as const;

export function useAuthFiles(): UseQueryResult<AuthFileEntry[]> {
  const api = useApi();
  return useQuery({
    queryKey: [...AUTH_FILES_KEY, 'full'],
    queryFn: async ({ signal }) => {
      const body = await api.management<AuthFilesResponse | undefined>('/auth-files', { signal });
      return (body?.files ?? []).filter((f): f is AuthFileEntry => f !== null && typeof f.name === 'string');
    },
    refetchInterval: REFRESH_MS,
  });
}

/** Account usage of the last 7 days (rows keyed by auth_index). */
export function useAccountUsage(): UseQueryResult<BreakdownResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'breakdown', 'account', 'auth-files-7d'],
    queryFn: ({ signal }) =>
      api.usage<BreakdownResponse>('/api/v1/breakdown', {
        query: { by: 'account', top: 0, from: new Date(Date.now() - 7 * 86_400_000).toISOString() },
        signal,
      }),
    refetchInterval: REFRESH_MS,
  });
}

export function useAuthFileModels(
  name: string | null,
): UseQueryResult<{ id: string; display_name?: string; type?: string; owned_by?: string }[]> {
  const api = useApi();
  return useQuery({
    queryKey: ['cpa', 'auth-files', 'models', name],
    enabled: name !== null,
    queryFn: async ({ signal }) => {
      const body = await api.management<{ models?: { id: string; display_name?: string; type?: string; owned_by?: string }[] } | undefined>(
        '/auth-files/models',
        { query: { name }, signal },
      );
      return body?.models ?? [];
    },
  });
}

export function useExcludedModels(): UseQueryResult {
  const api = useApi();
  return useQuery({ queryKey: EXCLUDED_KEY, queryFn: ({ signal }) => api.management('/oauth-excluded-models', { signal }) });
}

export function useModelAlias(): UseQueryResult {
  const api = useApi();
  return useQuery({ queryKey: ALIAS_KEY, queryFn: ({ signal }) => api.management('/oauth-model-alias', { signal }) });
}

/** A batch call: 200 or 207 answers list what was done and what failed; an error status means every file failed. */
async function batchCall(
  api: ApiClient,
  path: string,
  init: Parameters<ApiClient['managementResponse']>[1],
  sent: string[],
): Promise<BatchResult> {
  try {
    const res = await api.managementResponse(path, init);
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return readBatchResult(body, sent);
  } catch (e) {
    // Every file failed (400 / 404): report each with the server's message.
    if (isApiError(e) && e.kind === 'http')
      return { done: [], failed: sent.map((name) => ({ name, error: e.message || `HTTP ${e.status}` })) };
    throw e;
  }
}

/** Uploads files in one multipart request (200, or 207 partial). */
export function uploadFiles(api: ApiClient, files: readonly File[]): Promise<BatchResult> {
  const form = new FormData();
  for (const f of files) form.append('file', f, f.name);
  return batchCall(
    api,
    '/auth-files',
    { method: 'POST', rawBody: form },
    files.map((f) => f.name),
  );
}

/** Uploads pasted JSON as a file named name. */
export async function uploadJson(api: ApiClient, name: string, json: string): Promise<void> {
  await api.management('/auth-files', { method: 'POST', query: { name }, rawBody: json, contentType: 'application/json' });
}

export function deleteFiles(api: ApiClient, names: readonly string[]): Promise<BatchResult> {
  return batchCall(api, '/auth-files', { method: 'DELETE', body: { names } }, [...names]);
}

export async function setDisabled(api: ApiClient, f: AuthFileEntry, disabled: boolean): Promise<void> {
  await api.management('/auth-files/status', { method: 'PATCH', body: { name: f.name, auth_index: f.auth_index, disabled } });
}

export async function patchFields(api: ApiClient, name: string, patch: FieldPatch): Promise<void> {
  await api.management('/auth-files/fields', { method: 'PATCH', body: { name, ...patch } });
}

export async function resetQuota(api: ApiClient, authIndex: string): Promise<{ models?: string[] }> {
  return api.management<{ models?: string[] }>('/reset-quota', { method: 'POST', body: { auth_index: authIndex } });
}

/** The file's JSON, parsed (for proxy_url and headers, which the list does not report). */
export async function readFileJson(api: ApiClient, name: string, signal?: AbortSignal): Promise<unknown> {
  const res = await api.managementResponse('/auth-files/download', { query: { name }, signal });
  try {
    return JSON.parse(await res.text()) as unknown;
  } catch {
    return null;
  }
}

/** Saves the file through a blob link (works in both panel modes). */
export async function downloadFile(api: ApiClient, name: string): Promise<void> {
  const res = await api.managementResponse('/auth-files/download', { query: { name } });
  saveBlob(await res.blob(), name);
}

export async function patchExcluded(api: ApiClient, provider: string, models: string[]): Promise<void> {
  await api.management('/oauth-excluded-models', { method: 'PATCH', body: { provider, models } });
}

export async function deleteExcluded(api: ApiClient, provider: string): Promise<void> {
  await api.management('/oauth-excluded-models', { method: 'DELETE', query: { provider } });
}

export async function patchAlias(
  api: ApiClient,
  channel: string,
  aliases: { name: string; alias: string; fork: boolean }[],
): Promise<void> {
  await api.management('/oauth-model-alias', {
    method: 'PATCH',
    body: { channel, aliases: aliases.map((a) => (a.fork ? a : { name: a.name, alias: a.alias })) },
  });
}

export async function deleteAlias(api: ApiClient, channel: string): Promise<void> {
  await api.management('/oauth-model-alias', { method: 'DELETE', query: { channel } });
}
