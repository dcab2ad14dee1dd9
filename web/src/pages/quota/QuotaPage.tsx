import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/PageHeader';

/** Quota (being built). */
export function QuotaPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="quota-page" className="stack">
      <PageHeader title={t('quotaPage.title')} description={t('quotaPage.description')} />
    </div>
  );
}
