// The models seen in the last 30 days that need a price (or a recompute).
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { SkeletonLines } from '../../components/Skeleton';
import type { UnpricedModel } from './logic';

export interface UnpricedCardProps {
  models: UnpricedModel[] | undefined;
  error: unknown;
  onRetry: () => void;
  onAdd: (model: string) => void;
  onEdit: (model: string) => void;
  onRecompute: () => void;
  onSyncThese: () => void;
  busy: boolean;
}

export function UnpricedCard({ models, error, onRetry, onAdd, onEdit, onRecompute, onSyncThese, busy }: UnpricedCardProps) {
  const { t } = useTranslation();
  const f = useFormat();
  const missing = models?.filter((m) => m.reason === 'noPrice').length ?? 0;
  let body;
  if (models === undefined) {
    body = error ? <ErrorBox error={error} onRetry={onRetry} /> : <SkeletonLines lines={3} />;
  } else if (models.length === 0) {
    body = (
      <EmptyState title={t('pricingPage.unpriced.emptyTitle')} icon="check">
        {t('pricingPage.unpriced.emptyBody')}
      </EmptyState>
    );
  } else {
    body = (
      <div className="table-wrap">
        <table className="table pricing-unpriced-table">
          <caption className="visually-hidden">{t('pricingPage.unpriced.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('pricingPage.table.model')}</th>
              <th scope="col" className="align-end">
                {t('pricingPage.unpriced.requests')}
              </th>
              <th scope="col" className="align-end">
                {t('pricingPage.unpriced.unpricedRequests')}
              </th>
              <th scope="col">{t('pricingPage.unpriced.state')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('pricingPage.table.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.model} data-testid="pricing-unpriced-row" data-model={m.model} data-reason={m.reason}>
                <td className="cell-main">
                  <span className="mono">{m.model}</span>
                </td>
                <td className="align-end">{f.number(m.attempts)}</td>
                <td className="align-end">{m.unpriced > 0 ? <Badge tone="warn">{f.number(m.unpriced)}</Badge> : f.number(0)}</td>
                <td>
                  {m.reason === 'noPrice' ? (
                    <span>
                      <Badge tone="warn">{t('pricingPage.unpriced.noPrice')}</Badge>{' '}
                      {m.unpriced === 0 ? <span className="muted">{t('pricingPage.unpriced.noPriceButCosted')}</span> : null}
                    </span>
                  ) : (
                    <span>
                      <Badge tone="info">{t('pricingPage.unpriced.stale')}</Badge>{' '}
                      <span className="muted">
                        {m.pricedAs === m.model
                          ? t('pricingPage.unpriced.staleBody')
                          : t('pricingPage.unpriced.staleBodyAs', { name: m.pricedAs ?? '' })}
                      </span>
                    </span>
                  )}
                </td>
                <td>
                  <div className="pricing-actions">
                    {m.reason === 'noPrice' ? (
                      <Button
                        size="sm"
                        variant="primary"
                        onClick={() => onAdd(m.model)}
                        disabled={busy}
                        data-testid="pricing-unpriced-add"
                        aria-label={t('pricingPage.unpriced.addLabel', { model: m.model })}
                      >
                        {t('pricingPage.unpriced.add')}
                      </Button>
                    ) : (
                      <>
                        <Button size="sm" onClick={onRecompute} disabled={busy} data-testid="pricing-unpriced-recompute">
                          {t('pricingPage.recompute.button')}
                        </Button>
                        {m.pricedAs === m.model ? (
                          <Button
                            size="sm"
                            onClick={() => onEdit(m.model)}
                            disabled={busy}
                            aria-label={t('pricingPage.table.editLabel', { model: m.model })}
                          >
                            {t('pricingPage.table.edit')}
                          </Button>
                        ) : null}
                      </>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <Card
      title={t('pricingPage.unpriced.title')}
      subtitle={t('pricingPage.unpriced.subtitle')}
      flush={models !== undefined && models.length > 0}
      data-testid="pricing-unpriced"
      actions={
        missing > 0 ? (
          <Button size="sm" icon="refresh" onClick={onSyncThese} disabled={busy} data-testid="pricing-unpriced-sync">
            {t('pricingPage.unpriced.syncThese', { count: missing })}
          </Button>
        ) : undefined
      }
    >
      {body}
    </Card>
  );
}
