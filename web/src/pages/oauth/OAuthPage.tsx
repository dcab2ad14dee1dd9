import { useTranslation } from 'react-i18next';
import { PageHeader } from '../../components/PageHeader';

/** OAuth login (being built). */
export function OAuthPage() {
  const { t } = useTranslation();
  return (
    <div data-testid="oauth-page" className="stack">
      <PageHeader title={t('oauthPage.title')} description={t('oauthPage.description')} />
    </div>
  );
}
