import { describe, expect, it } from 'vitest';
import type { Summary, SummaryResponse, Tokens } from '../../api/types';
import { deriveKpis, periodMinutes, perMinute, successRate } from './kpi';

function tokens(t: Partial<Tokens> = {}): Tokens {
  const base = { uncached: 0, cacheRead: 0, cacheWrite: 0, output: 0, reasoning: 0, unclassified: 0, ...t };
  const input = base.uncached + base.cacheRead + base.cacheWrite;
  const outputTotal = base.output + base.reasoning;
  return { ...base, input, outputTotal, total: input + outputTotal + base.unclassified };
}

function summary(s: Partial<Summary> = {}): Summary {
  return {
    attempts: 0,
    failed: 0,
    succeeded: 0,
    failureRate: 0,
    tokens: tokens(),
    costMicroUsd: 0,
    costUsd: 0,
    unpriced: 0,
    latencyAvgMs: 0,
    latencyP50Ms: 0,
    latencyP95Ms: 0,
    latencyP99Ms: 0,
    ttftCount: 0,
    ttftAvgMs: 0,
    ttftP50Ms: 0,
    ttftP95Ms: 0,
    ttftP99Ms: 0,
    ...s,
  };
}

function response(current: Summary, previous: Summary, hours = 24): SummaryResponse {
  const to = Date.parse('2026-07-15T10:00:00Z');
  const from = to - hours * 3_600_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    from: iso(from),
    to: iso(to),
    tz: 'UTC',
    current,
    previous: { ...previous, from: iso(from - (to - from)), to: iso(from) },
  };
}

describe('rates', () => {
  it('count minutes between instants', () => {
    expect(periodMinutes('2026-07-15T00:00:00+02:00', '2026-07-15T01:30:00+02:00')).toBe(90);
    expect(periodMinutes('2026-07-15T00:00:00Z', '2026-07-15T00:00:00Z')).toBeNull();
    expect(periodMinutes('soon', '2026-07-15T00:00:00Z')).toBeNull();
  });

  it('divide by minutes', () => {
    expect(perMinute(120, 60)).toBe(2);
    expect(perMinute(5, null)).toBeNull();
    expect(perMinute(5, 0)).toBeNull();
  });

  it('give no success rate without attempts', () => {
    expect(successRate({ attempts: 0, succeeded: 0 })).toBeNull();
    expect(successRate({ attempts: 200, succeeded: 190 })).toBe(0.95);
  });
});

describe('deriveKpis', () => {
  const cur = summary({
    attempts: 1440,
    succeeded: 1368,
    failed: 72,
    tokens: tokens({ uncached: 1000, cacheRead: 3000, cacheWrite: 200, output: 700, reasoning: 300 }),
    costUsd: 12.5,
    latencyAvgMs: 900,
    latencyP95Ms: 2400,
    ttftCount: 10,
    ttftAvgMs: 300,
    ttftP95Ms: 800,
  });
  const prev = summary({
    attempts: 960,
    succeeded: 950,
    failed: 10,
    tokens: tokens({ uncached: 500, cacheRead: 1000, output: 400, reasoning: 100 }),
    costUsd: 10,
    latencyAvgMs: 1000,
    latencyP95Ms: 2000,
  });
  const k = deriveKpis(response(cur, prev));

  it('takes the API figures as they are', () => {
    expect(k.requests.current).toBe(1440);
    expect(k.tokensInput.current).toBe(4200);
    expect(k.tokensOutput.current).toBe(1000);
    expect(k.tokensCached.current).toBe(3000);
    expect(k.tokensReasoning.current).toBe(300);
    expect(k.cost.current).toBe(12.5);
    expect(k.latencyP95.current).toBe(2400);
  });

  it('compares with the previous period', () => {
    expect(k.requests.change).toBeCloseTo(0.5);
    expect(k.cost.change).toBeCloseTo(0.25);
    expect(k.latencyAvg.change).toBeCloseTo(-0.1);
    expect(k.tokensOutput.change).toBeCloseTo(1);
    expect(k.requests.changeKind).toBe('relative');
  });

  it('compares success rates in points', () => {
    expect(k.successRate.current).toBeCloseTo(0.95);
    expect(k.successRate.previous).toBeCloseTo(950 / 960);
    expect(k.successRate.changeKind).toBe('points');
    expect(k.successRate.change).toBeCloseTo(0.95 - 950 / 960);
  });

  it('computes RPM and TPM over the period', () => {
    expect(k.rpm.current).toBe(1);
    expect(k.rpm.previous).toBeCloseTo(960 / 1440);
    expect(k.tpm.current).toBeCloseTo(5200 / 1440);
    const short = deriveKpis(response(cur, prev, 2));
    expect(short.rpm.current).toBe(12);
  });

  it('shows no TTFT when none was measured and no latency without attempts', () => {
    expect(k.ttftAvg.current).toBe(300);
    expect(k.ttftAvg.previous).toBeNull();
    expect(k.ttftAvg.change).toBeNull();
    const empty = deriveKpis(response(summary(), summary()));
    expect(empty.latencyP95.current).toBeNull();
    expect(empty.successRate.current).toBeNull();
    expect(empty.requests.current).toBe(0);
    // Nothing to compare with: no change rather than "+∞ %".
    expect(empty.requests.change).toBeNull();
    expect(deriveKpis(response(cur, summary())).requests.change).toBeNull();
  });
});
