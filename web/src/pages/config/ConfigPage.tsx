// Placeholder until the page is built.
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';

export function ConfigPage() {
  const { t } = useTranslation();
  return (
    <>
      <PageHeader title={t('configPage.title')} />
      <EmptyState title={t('configPage.title')} icon="info">
        {t('configPage.placeholder')}
      </EmptyState>
    </>
  );
}
