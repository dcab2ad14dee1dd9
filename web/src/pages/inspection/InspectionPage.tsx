import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/PageHeader';

/** Codex inspection (being built). */
export function InspectionPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="inspection-page" className="stack">
      <PageHeader title={t('inspectionPage.title')} description={t('inspectionPage.description')} />
    </div>
  );
}
