import { useTranslation } from 'react-i18next';
import { useFormat } from '../../app/format';
import { ErrorBox } from '../../components/ErrorBox';
import { Delta, Stat } from '../../components/Stat';
import { relativeChange } from '../../lib/format';
import type { TodayVsYesterday } from './data';
import type { UseQueryResult } from '@tanstack/react-query';

/** Today's requests, success rate, tokens and cost, each against yesterday by the same time. */
export function KpiRow({ query }: { query: UseQueryResult<TodayVsYesterday> }) {
  const { t } = useTranslation();
  const f = useFormat();
  const d = query.data;
  const loading = d === undefined && query.isPending;

  if (d === undefined && query.error) {
    return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;
  }

  const today = d?.today;
  const yesterday = d?.yesterday;
  const successRate = (s: typeof today) => (s && s.attempts > 0 ? s.succeeded / s.attempts : null);
  const vs = (cur: number | undefined, prev: number | undefined, text: string, direction: 'up-good' | 'up-bad' | 'neutral' = 'up-good') => {
    const change = relativeChange(cur, prev);
    return (
      <>
        <Delta change={change} direction={direction} text={change === null ? t('dashboard.noBase') : f.change(change)} />
        <span>{text}</span>
      </>
    );
  };
  const todayRate = successRate(today);
  const yesterdayRate = successRate(yesterday);

  return (
    <div className="grid grid-kpi" aria-busy={loading || undefined}>
      <Stat
        label={t('dashboard.kpi.requests')}
        testId="kpi-requests"
        loading={loading}
        value={f.number(today?.attempts)}
        title={t('dashboard.kpi.requestsTitle', { failed: f.number(today?.failed) })}
        foot={vs(today?.attempts, yesterday?.attempts, t('dashboard.vsYesterday', { value: f.number(yesterday?.attempts) }))}
      />
      <Stat
        label={t('dashboard.kpi.successRate')}
        testId="kpi-success-rate"
        loading={loading}
        value={f.percent(todayRate)}
        foot={
          <>
            <Delta
              change={todayRate !== null && yesterdayRate !== null ? todayRate - yesterdayRate : null}
              text={todayRate !== null && yesterdayRate !== null ? f.pointChange(todayRate, yesterdayRate) : t('dashboard.noBase')}
            />
            <span>{t('dashboard.failedToday', { count: today?.failed ?? 0, value: f.number(today?.failed) })}</span>
          </>
        }
      />
      <Stat
        label={t('dashboard.kpi.tokens')}
        testId="kpi-tokens"
        loading={loading}
        value={f.tokens(today?.tokens.total)}
        title={f.number(today?.tokens.total)}
        foot={vs(
          today?.tokens.total,
          yesterday?.tokens.total,
          t('dashboard.vsYesterday', { value: f.tokens(yesterday?.tokens.total) }),
          'neutral',
        )}
      />
      <Stat
        label={t('dashboard.kpi.cost')}
        testId="kpi-cost"
        loading={loading}
        value={f.usd(today?.costUsd)}
        foot={
          <>
            {vs(today?.costUsd, yesterday?.costUsd, t('dashboard.vsYesterday', { value: f.usd(yesterday?.costUsd) }), 'neutral')}
            {today && today.unpriced > 0 ? (
              <span data-testid="kpi-cost-unpriced">
                {t('dashboard.unpriced', { count: today.unpriced, value: f.number(today.unpriced) })}
              </span>
            ) : null}
          </>
        }
      />
    </div>
  );
}
