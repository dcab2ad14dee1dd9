// Re-pricing stored requests: a dialog that picks the days (last 30 by
// default) and says what changes, and a card with the counts afterwards.
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { Button } from '../../components/Button';
import { Card } from '../../components/Card';
import { ErrorBox } from '../../components/ErrorBox';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { recomputeRange } from './logic';
import type { RecomputeResult } from './types';

export interface RecomputeDialogProps {
  open: boolean;
  from: string;
  to: string;
  onFrom: (v: string) => void;
  onTo: (v: string) => void;
  busy: boolean;
  error: unknown;
  onConfirm: () => void;
  onClose: () => void;
}

export function RecomputeDialog({ open, from, to, onFrom, onTo, busy, error, onConfirm, onClose }: RecomputeDialogProps) {
  const { t } = useTranslation();
  const f = useFormat();
  const id = useId();
  const range = recomputeRange(from, to, f.timeZone);
  return (
    <ConfirmDialog
      open={open}
      title={t('pricingPage.recompute.title')}
      confirmLabel={t('pricingPage.recompute.confirm')}
      tone="danger"
      busy={busy}
      confirmDisabled={!range.ok}
      onConfirm={onConfirm}
      onClose={onClose}
      confirmTestId="pricing-recompute-confirm"
      testId="pricing-recompute-dialog"
    >
      <p>{t('pricingPage.recompute.explain')}</p>
      <p className="muted">{t('pricingPage.recompute.explain2')}</p>
      <div className="pricing-dates">
        <label className="field" htmlFor={`${id}-from`}>
          <span className="field-label">{t('pricingPage.recompute.from')}</span>
          <input
            id={`${id}-from`}
            className="input"
            type="date"
            value={from}
            max={to || undefined}
            onChange={(e) => onFrom(e.target.value)}
            disabled={busy}
            data-testid="pricing-recompute-from"
          />
        </label>
        <label className="field" htmlFor={`${id}-to`}>
          <span className="field-label">{t('pricingPage.recompute.to')}</span>
          <input
            id={`${id}-to`}
            className="input"
            type="date"
            value={to}
            min={from || undefined}
            onChange={(e) => onTo(e.target.value)}
            disabled={busy}
            data-testid="pricing-recompute-to"
          />
        </label>
      </div>
      <p className={range.ok ? 'muted' : 'pricing-field-error'} role={range.ok ? undefined : 'alert'}>
        {range.ok
          ? t('pricingPage.recompute.days', { count: range.days, tz: f.timeZone })
          : t(`pricingPage.recompute.error.${range.error}`)}
      </p>
      {busy ? <p className="muted">{t('pricingPage.recompute.running')}</p> : null}
      {error ? <ErrorBox error={error} title={t('pricingPage.recompute.failed')} /> : null}
    </ConfirmDialog>
  );
}

export function RecomputeResultCard({ result, onDismiss }: { result: RecomputeResult; onDismiss: () => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const tiles: [string, number, string][] = [
    [t('pricingPage.recompute.events'), result.events, 'events'],
    [t('pricingPage.recompute.repriced'), result.repriced, 'repriced'],
    [t('pricingPage.recompute.buckets'), result.buckets, 'buckets'],
    [t('pricingPage.recompute.skippedBuckets'), result.skippedBuckets, 'skipped'],
  ];
  return (
    <Card
      title={t('pricingPage.recompute.resultTitle')}
      subtitle={t('pricingPage.recompute.period', { from: f.dateTime(result.from), to: f.dateTime(result.to) })}
      actions={<Button size="sm" variant="ghost" icon="close" onClick={onDismiss} aria-label={t('pricingPage.sync.dismiss')} />}
      data-testid="pricing-recompute-result"
    >
      <div className="stack" data-events={result.events} data-repriced={result.repriced}>
        <div className="tiles">
          {tiles.map(([label, value, key]) => (
            <div key={key} className="tile">
              <span className="tile-value" data-testid={`pricing-recompute-${key}`}>
                {f.number(value)}
              </span>
              <span className="tile-label">{label}</span>
            </div>
          ))}
        </div>
        {result.skippedBuckets > 0 ? <p className="muted">{t('pricingPage.recompute.skippedHint')}</p> : null}
      </div>
    </Card>
  );
}
