// Placeholder until the page is built.
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';

export function SystemPage() {
  const { t } = useTranslation();
  return (
    <>
      <PageHeader title={t('systemPage.title')} />
      <EmptyState title={t('systemPage.title')} icon="info">
        {t('systemPage.placeholder')}
      </EmptyState>
    </>
  );
}
