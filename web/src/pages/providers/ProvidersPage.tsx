import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/PageHeader';

/** AI providers (being built). */
export function ProvidersPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="providers-page" className="stack">
      <PageHeader title={t('providersPage.title')} description={t('providersPage.description')} />
    </div>
  );
}
