import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/PageHeader';

/** Auth files (being built). */
export function AuthFilesPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="auth-files-page" className="stack">
      <PageHeader title={t('authFilesPage.title')} description={t('authFilesPage.description')} />
    </div>
  );
}
