import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { SummaryResponse } from '../../api/types';
import { useFormat } from '../../app/format';
import { ErrorBox } from '../../components/ErrorBox';
import { Delta, Stat } from '../../components/Stat';
import { deriveKpis, type KpiKey, type KpiValue } from './kpi';

type Direction = 'up-good' | 'up-bad' | 'neutral';

interface KpiSpec {
  key: KpiKey;
  testId: string;
  direction: Direction;
}

const SPECS: readonly KpiSpec[] = [
  { key: 'requests', testId: 'mon-kpi-requests', direction: 'up-good' },
  { key: 'successRate', testId: 'mon-kpi-success-rate', direction: 'up-good' },
  { key: 'cost', testId: 'mon-kpi-cost', direction: 'neutral' },
  { key: 'tokensInput', testId: 'mon-kpi-tokens-input', direction: 'neutral' },
  { key: 'tokensOutput', testId: 'mon-kpi-tokens-output', direction: 'neutral' },
  { key: 'tokensCached', testId: 'mon-kpi-tokens-cached', direction: 'neutral' },
  { key: 'tokensReasoning', testId: 'mon-kpi-tokens-reasoning', direction: 'neutral' },
  { key: 'latencyAvg', testId: 'mon-kpi-latency-avg', direction: 'up-bad' },
  { key: 'latencyP95', testId: 'mon-kpi-latency-p95', direction: 'up-bad' },
  { key: 'ttftAvg', testId: 'mon-kpi-ttft-avg', direction: 'up-bad' },
  { key: 'ttftP95', testId: 'mon-kpi-ttft-p95', direction: 'up-bad' },
  { key: 'rpm', testId: 'mon-kpi-rpm', direction: 'neutral' },
  { key: 'tpm', testId: 'mon-kpi-tpm', direction: 'neutral' },
];

/** Requests, success rate, tokens, cost, latency, TTFT and rates of the period, each against the period before. */
export function KpiGrid({ query }: { query: UseQueryResult<SummaryResponse> }) {
  const { t } = useTranslation();
  const f = useFormat();
  const d = query.data;
  const loading = d === undefined && query.isPending;

  if (d === undefined && query.error) {
    return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;
  }

  const kpis = d ? deriveKpis(d) : null;
  const c = d?.current;

  const value = (key: KpiKey, v: number | null): string => {
    switch (key) {
      case 'requests':
        return f.number(v);
      case 'successRate':
        return f.percent(v);
      case 'cost':
        return f.usd(v);
      case 'tokensInput':
      case 'tokensOutput':
      case 'tokensCached':
      case 'tokensReasoning':
      case 'tpm':
        return f.tokens(v);
      case 'latencyAvg':
      case 'latencyP95':
      case 'ttftAvg':
      case 'ttftP95':
        return f.duration(v);
      case 'rpm':
        return v === null ? f.number(v) : f.number(v, v < 1 ? 2 : v < 100 ? 1 : 0);
    }
  };

  const exact = (key: KpiKey): string | undefined => {
    if (!c) return undefined;
    switch (key) {
      case 'requests':
        return t('monitoringPage.kpi.requestsTitle', { succeeded: f.number(c.succeeded), failed: f.number(c.failed) });
      case 'tokensInput':
        return t('monitoringPage.kpi.inputTitle', {
          total: f.number(c.tokens.input),
          uncached: f.number(c.tokens.uncached),
          cacheRead: f.number(c.tokens.cacheRead),
          cacheWrite: f.number(c.tokens.cacheWrite),
        });
      case 'tokensOutput':
        return t('monitoringPage.kpi.outputTitle', {
          total: f.number(c.tokens.outputTotal),
          output: f.number(c.tokens.output),
          reasoning: f.number(c.tokens.reasoning),
        });
      case 'tokensCached':
        return f.number(c.tokens.cacheRead);
      case 'tokensReasoning':
        return f.number(c.tokens.reasoning);
      case 'latencyAvg':
      case 'latencyP95':
        return t('monitoringPage.kpi.latencyTitle', { p50: f.duration(c.latencyP50Ms), p99: f.duration(c.latencyP99Ms) });
      case 'ttftAvg':
      case 'ttftP95':
        return t('monitoringPage.kpi.ttftTitle', {
          count: c.ttftCount,
          value: f.number(c.ttftCount),
          p50: f.duration(c.ttftP50Ms),
          p99: f.duration(c.ttftP99Ms),
        });
      default:
        return undefined;
    }
  };

  const foot = (spec: KpiSpec, k: KpiValue): ReactNode => {
    const text =
      k.change === null
        ? t('monitoringPage.kpi.noBase')
        : k.changeKind === 'points'
          ? f.pointChange(k.current, k.previous)
          : f.change(k.change);
    return (
      <>
        <Delta change={k.change} direction={spec.direction} text={text} />
        <span>{t('monitoringPage.kpi.previous', { value: value(spec.key, k.previous) })}</span>
        {spec.key === 'cost' && c && c.unpriced > 0 ? (
          <span data-testid="mon-kpi-cost-unpriced">
            {t('monitoringPage.kpi.unpriced', { count: c.unpriced, value: f.number(c.unpriced) })}
          </span>
        ) : null}
      </>
    );
  };

  return (
    <section className="grid grid-kpi mon-kpis" aria-label={t('monitoringPage.kpi.title')} aria-busy={loading || undefined}>
      {SPECS.map((spec) => {
        const k = kpis?.[spec.key];
        return (
          <Stat
            key={spec.key}
            label={t(`monitoringPage.kpi.${spec.key}`)}
            testId={spec.testId}
            loading={loading}
            value={value(spec.key, k?.current ?? null)}
            title={exact(spec.key)}
            foot={k ? foot(spec, k) : undefined}
          />
        );
      })}
    </section>
  );
}
