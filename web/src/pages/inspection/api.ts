// Inspection runs kept by the usage service (/api/v1/inspections).
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useApi } from '../../api/auth';
import type { ApiClient } from '../../api/client';
import type { InspectionRun, RunDetail, RunSummary } from './logic';

export const HISTORY_KEY = ['usage', 'inspections'] as const;
const BASE = '/api/v1/inspections';

export function useInspectionHistory(): UseQueryResult<{ items: RunSummary[] }> {
  const api = useApi();
  return useQuery({
    queryKey: HISTORY_KEY,
    queryFn: async ({ signal }) => {
      const doc = await api.usage<{ items?: RunSummary[] } | undefined>(BASE, { query: { limit: 20 }, signal });
      return { items: Array.isArray(doc?.items) ? doc.items : [] };
    },
  });
}

export function useInspectionRun(id: string | null): UseQueryResult<RunDetail> {
  const api = useApi();
  return useQuery({
    queryKey: [...HISTORY_KEY, 'run', id],
    queryFn: ({ signal }) => api.usage<RunDetail>(`${BASE}/${encodeURIComponent(id ?? '')}`, { signal }),
    enabled: id !== null,
  });
}

export function saveRun(api: ApiClient, run: InspectionRun): Promise<{ id: string | number }> {
  return api.usage<{ id: string | number }>(BASE, { method: 'POST', body: run });
}

export interface OutcomeBody {
  auth_index: string;
  action: string;
  ok: boolean;
  error: string | null;
}

export function recordApplied(api: ApiClient, id: string, outcomes: OutcomeBody[]): Promise<{ applied: number; unmatched?: unknown[] }> {
  return api.usage<{ applied: number; unmatched?: unknown[] }>(`${BASE}/${encodeURIComponent(id)}/applied`, {
    method: 'POST',
    body: { outcomes },
  });
}
