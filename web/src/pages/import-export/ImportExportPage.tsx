// Import and export of usage events: an NDJSON download of a period, and
// an upload of a caddy-cpam export, raw CPA usage records or a
// CPA-Manager export.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useApi } from '../../api/auth';
import { useFormat } from '../../app/format';
import { PageHeader } from '../../components/PageHeader';
import { rangeParams } from '../../lib/time';
import { ExportCard } from './ExportCard';
import { ImportCard } from './ImportCard';
import './importexport.css';

/** The upstreams seen in the last 400 days (the longest period the API takes). */
function useUpstreams(timeZone: string): string[] {
  const api = useApi();
  const q = useQuery({
    queryKey: ['usage', 'filters', 'upstreams-400d', timeZone],
    queryFn: ({ signal }) => {
      const now = Date.now();
      return api.usage<{ upstreams: string[] }>('/api/v1/filters', {
        query: rangeParams({ from: now - 399 * 86_400_000, to: now }, timeZone),
        signal,
      });
    },
    staleTime: 5 * 60_000,
  });
  return q.data?.upstreams ?? [];
}

export function ImportExportPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const upstreams = useUpstreams(f.timeZone);
  return (
    <div className="page" data-testid="importexport-page">
      <PageHeader title={t('importExportPage.title')} description={t('importExportPage.description')} />
      <div className="grid grid-halves ie-cards">
        <ExportCard upstreams={upstreams} />
        <ImportCard upstreams={upstreams} />
      </div>
    </div>
  );
}
