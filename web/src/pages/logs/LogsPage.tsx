// Placeholder until the page is built.
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';

export function LogsPage() {
  const { t } = useTranslation();
  return (
    <>
      <PageHeader title={t('logsPage.title')} />
      <EmptyState title={t('logsPage.title')} icon="info">
        {t('logsPage.placeholder')}
      </EmptyState>
    </>
  );
}
