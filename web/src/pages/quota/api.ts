// Calls of the quota views: auth files and /api-call on CPA, passive
// evidence on the usage service.
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { ApiClient } from '../../api/client';
import type { ApiCallRequest, ApiCallResponse, EvidenceItem, QuotaAuthFile } from './logic';

export const QUOTA_FILES_KEY = ['cpa', 'auth-files', 'quota'] as const;

/** The auth files with the fields the quota views read. */
export function useQuotaAuthFiles(): UseQueryResult<{ files: QuotaAuthFile[] }> {
  const api = useApi();
  return useQuery({
    queryKey: QUOTA_FILES_KEY,
    queryFn: async ({ signal }) => {
      const doc = await api.management<{ files?: QuotaAuthFile[] }>('/auth-files', { signal });
      return { files: Array.isArray(doc.files) ? doc.files : [] };
    },
  });
}

/** CPA makes the request with the credential (its token replaces $TOKEN$). */
export function apiCall(api: ApiClient, req: ApiCallRequest, signal?: AbortSignal): Promise<ApiCallResponse> {
  // CPA waits up to 60 s for the upstream.
  return api.management<ApiCallResponse>('/api-call', { method: 'POST', body: req, signal, timeoutMs: 65_000 });
}

export interface EvidenceResponse {
  items: EvidenceItem[];
}

/** Quota headers from real traffic in the last 7 days (our database; providers are not called). */
export function useQuotaEvidence(): UseQueryResult<EvidenceResponse> {
  const api = useApi();
  return useQuery({
    queryKey: ['usage', 'quota-evidence'],
    queryFn: async ({ signal }) => {
      const to = new Date();
      const from = new Date(to.getTime() - 7 * 86400_000);
      const doc = await api.usage<Partial<EvidenceResponse> | undefined>('/api/v1/quota-evidence', {
        query: { from: from.toISOString(), to: to.toISOString() },
        signal,
      });
      return { items: Array.isArray(doc?.items) ? doc.items : [] };
    },
    retry: false,
  });
}
