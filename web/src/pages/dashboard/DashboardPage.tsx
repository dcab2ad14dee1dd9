import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useStatus } from '../../api/queries';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { PageHeader } from '../../components/PageHeader';
import { ActivityCard } from './ActivityCard';
import { AlertsCard } from './AlertsCard';
import { CollectorsCard } from './CollectorsCard';
import { CpaCard } from './CpaCard';
import { useLast24Hours, useTodayVsYesterday, useTopModelsToday } from './data';
import { KpiRow } from './KpiRow';
import { TopModelsCard } from './TopModelsCard';

export function DashboardPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const queryClient = useQueryClient();
  const status = useStatus();
  const today = useTodayVsYesterday(f.timeZone);
  const series = useLast24Hours(f.timeZone);
  const models = useTopModelsToday(f.timeZone);
  const refreshing = today.isFetching || series.isFetching || models.isFetching || status.isFetching;

  return (
    <div className="page">
      <PageHeader
        title={t('dashboard.title')}
        description={t('dashboard.description', { tz: f.timeZone })}
        actions={
          <Button
            icon="refresh"
            loading={refreshing}
            onClick={() => void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[1] !== 'latest-version' })}
            data-testid="dashboard-refresh"
          >
            {t('common.refresh')}
          </Button>
        }
      />
      <AlertsCard status={status.data} />
      <KpiRow query={today} />
      <div className="grid grid-2">
        <ActivityCard query={series} />
        <TopModelsCard query={models} />
      </div>
      <div className="grid grid-halves">
        <CpaCard />
        <CollectorsCard query={status} />
      </div>
    </div>
  );
}
