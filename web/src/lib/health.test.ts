import { describe, expect, it } from 'vitest';
import type { CollectorStatus, Status } from '../api/types';
import { collectorHealth, compareVersions, overallHealth, statusAlerts } from './health';

function collector(over: Partial<CollectorStatus> = {}): CollectorStatus {
  return {
    upstream: 'default',
    mode: 'auto',
    transport: 'subscribe',
    connected: true,
    supportRefresh: true,
    lagMs: 100,
    eventsPerSecond1m: 1,
    eventsPerSecond5m: 1,
    received: 10,
    stored: 10,
    duplicates: 0,
    deadLetters: 0,
    stopped: false,
    usageStatisticsEnabled: true,
    spoolDepth: 0,
    ...over,
  };
}

function status(collectors: CollectorStatus[], warnings: Status['warnings'] = []): Status {
  return { service: 'caddy-cpam', version: 'v0', time: '2026-01-01T00:00:00Z', database: null, collectors, warnings };
}

describe('health', () => {
  it('is ok for a connected collector without warnings', () => {
    expect(collectorHealth(collector())).toBe('ok');
    expect(overallHealth(status([collector()]))).toBe('ok');
  });
  it('warns on warnings, statistics off and dead letters', () => {
    expect(collectorHealth(collector({ warnings: ['x'] }))).toBe('warn');
    expect(collectorHealth(collector({ usageStatisticsEnabled: false }))).toBe('warn');
    expect(collectorHealth(collector({ deadLetters: 2 }))).toBe('warn');
    expect(overallHealth(status([]))).toBe('warn');
  });
  it('fails on stopped, disconnected or storage errors; the worst wins', () => {
    expect(collectorHealth(collector({ stopped: true }))).toBe('danger');
    expect(collectorHealth(collector({ connected: false }))).toBe('danger');
    expect(collectorHealth(collector({ ingestError: 'disk full' }))).toBe('danger');
    expect(overallHealth(status([collector(), collector({ upstream: 'b', connected: false })]))).toBe('danger');
    expect(overallHealth(undefined)).toBe('unknown');
  });
});

describe('statusAlerts', () => {
  it('lists warnings, disconnections, statistics off and dead letters, worst first', () => {
    const s = status(
      [
        collector({ upstream: 'a', deadLetters: 3 }),
        collector({ upstream: 'b', connected: false, lastError: 'dial tcp: refused' }),
        collector({ upstream: 'c', usageStatisticsEnabled: false }),
      ],
      [{ upstream: 'a', message: 'CPA counted 10 attempts but only 8 were collected' }],
    );
    const alerts = statusAlerts(s);
    expect(alerts.map((a) => [a.upstream, a.kind, a.tone])).toEqual([
      ['b', 'disconnected', 'danger'],
      ['a', 'warning', 'warn'],
      ['c', 'stats-disabled', 'warn'],
      ['a', 'dead-letters', 'info'],
    ]);
    expect(alerts.find((a) => a.kind === 'dead-letters')?.count).toBe(3);
  });
  it('does not repeat the statistics warning the server already gave', () => {
    const s = status(
      [collector({ usageStatisticsEnabled: false })],
      [{ upstream: 'default', message: "CPA's usage-statistics-enabled is false: …" }],
    );
    expect(statusAlerts(s).map((a) => a.kind)).toEqual(['warning']);
  });
  it('marks stopped collection as danger', () => {
    const s = status(
      [collector({ stopped: true, connected: false })],
      [{ upstream: 'default', message: 'collection stopped (bad key); fix it' }],
    );
    expect(statusAlerts(s)).toEqual([
      { upstream: 'default', kind: 'warning', tone: 'danger', message: 'collection stopped (bad key); fix it' },
    ]);
  });
});

describe('compareVersions', () => {
  it('orders semantic versions', () => {
    expect(compareVersions('v7.2.97', 'v7.2.140')).toBeLessThan(0);
    expect(compareVersions('7.3.0', 'v7.2.140')).toBeGreaterThan(0);
    expect(compareVersions('v7.2.140', 'v7.2.140')).toBe(0);
    expect(compareVersions('dev', 'v7.2.140')).toBe(0);
  });
});
