import { useTranslation } from 'react-i18next';
import type { TKey } from '../i18n';
import { Card } from './Card';
import { EmptyState } from './EmptyState';
import { PageHeader } from './PageHeader';

/** A page that is planned but not built yet. */
export function ComingSoon({ titleKey, bodyKey }: { titleKey: TKey; bodyKey: TKey }) {
  const { t } = useTranslation();
  return (
    <div className="page">
      <PageHeader title={t(titleKey)} />
      <Card>
        <EmptyState title={t('soon.title')} icon="info">
          {t(bodyKey)}
        </EmptyState>
      </Card>
    </div>
  );
}
