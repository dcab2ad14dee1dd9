// The KPIs of the monitoring page, derived from one /api/v1/summary answer:
// its current period and the equally long period just before ("previous").
import type { Summary, SummaryResponse } from '../../api/types';
import { relativeChange } from '../../lib/format';

export const KPI_KEYS = [
  'requests',
  'successRate',
  'tokensInput',
  'tokensOutput',
  'tokensCached',
  'tokensReasoning',
  'cost',
  'latencyAvg',
  'latencyP95',
  'ttftAvg',
  'ttftP95',
  'rpm',
  'tpm',
] as const;
export type KpiKey = (typeof KPI_KEYS)[number];

export interface KpiValue {
  current: number | null;
  previous: number | null;
  /**
   * Relative change (0.1 = +10 %), or for a ratio (success rate) the
   * difference of the two ratios (0.01 = +1 percentage point); null when
   * there is nothing to compare with.
   */
  change: number | null;
  changeKind: 'relative' | 'points';
}

export type Kpis = Record<KpiKey, KpiValue>;

/** Minutes between two RFC 3339 instants, or null when unreadable or not positive. */
export function periodMinutes(from: string, to: string): number | null {
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (Number.isNaN(a) || Number.isNaN(b) || b <= a) return null;
  return (b - a) / 60_000;
}

/** count per minute over minutes, or null without a period. */
export function perMinute(count: number, minutes: number | null): number | null {
  if (minutes === null || minutes <= 0) return null;
  return count / minutes;
}

/** succeeded / attempts, or null without attempts. */
export function successRate(s: Pick<Summary, 'attempts' | 'succeeded'>): number | null {
  return s.attempts > 0 ? s.succeeded / s.attempts : null;
}

/** A latency only means something when there were attempts (the API answers 0 otherwise). */
function latency(s: Summary, value: number): number | null {
  return s.attempts > 0 ? value : null;
}

/** Time to first token covers the attempts where it was measured; none measured → null. */
function ttft(s: Summary, value: number): number | null {
  return s.ttftCount > 0 ? value : null;
}

function relative(current: number | null, previous: number | null): KpiValue {
  return { current, previous, change: relativeChange(current, previous), changeKind: 'relative' };
}

function points(current: number | null, previous: number | null): KpiValue {
  return { current, previous, change: current !== null && previous !== null ? current - previous : null, changeKind: 'points' };
}

/** Every KPI of a summary answer with its change against the previous period. */
export function deriveKpis(r: SummaryResponse): Kpis {
  const c = r.current;
  const p = r.previous;
  const minutes = periodMinutes(r.from, r.to);
  // The previous period is as long as the current one; use its own bounds all the same.
  const prevMinutes = periodMinutes(p.from, p.to) ?? minutes;
  return {
    requests: relative(c.attempts, p.attempts),
    successRate: points(successRate(c), successRate(p)),
    tokensInput: relative(c.tokens.input, p.tokens.input),
    tokensOutput: relative(c.tokens.outputTotal, p.tokens.outputTotal),
    tokensCached: relative(c.tokens.cacheRead, p.tokens.cacheRead),
    tokensReasoning: relative(c.tokens.reasoning, p.tokens.reasoning),
    cost: relative(c.costUsd, p.costUsd),
    latencyAvg: relative(latency(c, c.latencyAvgMs), latency(p, p.latencyAvgMs)),
    latencyP95: relative(latency(c, c.latencyP95Ms), latency(p, p.latencyP95Ms)),
    ttftAvg: relative(ttft(c, c.ttftAvgMs), ttft(p, p.ttftAvgMs)),
    ttftP95: relative(ttft(c, c.ttftP95Ms), ttft(p, p.ttftP95Ms)),
    rpm: relative(perMinute(c.attempts, minutes), perMinute(p.attempts, prevMinutes)),
    tpm: relative(perMinute(c.tokens.total, minutes), perMinute(p.tokens.total, prevMinutes)),
  };
}
