import { describe, expect, it } from 'vitest';
import type { BreakdownRow } from '../../api/types';
import { axisStyle, countByStatus, nextSort, sortBreakdownRows, stack, truncate } from './analysis';
import { accountName, apiKeyName } from './format';

function row(key: string, attempts: number, extra: Partial<BreakdownRow> = {}): BreakdownRow {
  return {
    key,
    label: key,
    other: false,
    attempts,
    failed: 0,
    succeeded: attempts,
    failureRate: 0,
    tokens: {
      uncached: 0,
      cacheRead: 0,
      cacheWrite: 0,
      output: 0,
      reasoning: 0,
      unclassified: 0,
      input: 0,
      outputTotal: 0,
      total: attempts * 10,
    },
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
    ...extra,
  };
}

describe('breakdown sorting', () => {
  const rows = [
    row('b', 50, { failureRate: 0.1, costUsd: 3, latencyP95Ms: 900 }),
    row('a', 30, { failureRate: 0.5, costUsd: 9, latencyP95Ms: 100 }),
    row('other', 500, { other: true, label: '' }),
    row('c', 70, { failureRate: 0, costUsd: 1, latencyP95Ms: 400, label: '' }),
  ];
  const keys = (r: BreakdownRow[]) => r.map((x) => x.key);

  it('sorts by each column and keeps the other row last', () => {
    expect(keys(sortBreakdownRows(rows, { key: 'attempts', dir: 'desc' }))).toEqual(['c', 'b', 'a', 'other']);
    expect(keys(sortBreakdownRows(rows, { key: 'attempts', dir: 'asc' }))).toEqual(['a', 'b', 'c', 'other']);
    expect(keys(sortBreakdownRows(rows, { key: 'failureRate', dir: 'desc' }))).toEqual(['a', 'b', 'c', 'other']);
    expect(keys(sortBreakdownRows(rows, { key: 'cost', dir: 'desc' }))).toEqual(['a', 'b', 'c', 'other']);
    expect(keys(sortBreakdownRows(rows, { key: 'latencyP95', dir: 'asc' }))).toEqual(['a', 'c', 'b', 'other']);
    expect(keys(sortBreakdownRows(rows, { key: 'tokens', dir: 'desc' }))).toEqual(['c', 'b', 'a', 'other']);
    // An empty label sorts by its key.
    expect(keys(sortBreakdownRows(rows, { key: 'label', dir: 'asc' }))).toEqual(['a', 'b', 'c', 'other']);
  });

  it('does not change the rows it was given', () => {
    const copy = [...rows];
    sortBreakdownRows(rows, { key: 'label', dir: 'desc' });
    expect(rows).toEqual(copy);
  });

  it('flips the direction on the same column', () => {
    expect(nextSort({ key: 'attempts', dir: 'desc' }, 'attempts')).toEqual({ key: 'attempts', dir: 'asc' });
    expect(nextSort({ key: 'attempts', dir: 'asc' }, 'cost')).toEqual({ key: 'cost', dir: 'desc' });
    expect(nextSort({ key: 'attempts', dir: 'desc' }, 'label')).toEqual({ key: 'label', dir: 'asc' });
  });
});

describe('failures by status', () => {
  it('counts and orders HTTP statuses', () => {
    const list = [429, 500, 429, 0, 429, 500, 401].map((statusCode) => ({ statusCode }));
    expect(countByStatus(list)).toEqual([
      { status: 429, count: 3, share: 3 / 7 },
      { status: 500, count: 2, share: 2 / 7 },
      { status: 0, count: 1, share: 1 / 7 },
      { status: 401, count: 1, share: 1 / 7 },
    ]);
    expect(countByStatus([])).toEqual([]);
  });
});

describe('charts', () => {
  it('stacks series', () => {
    expect(
      stack([
        [1, 2, null],
        [10, 0, 5],
        [100, 100, 100],
      ]),
    ).toEqual([
      [1, 2, 0],
      [11, 2, 5],
      [111, 102, 105],
    ]);
    expect(stack([])).toEqual([]);
  });

  it('labels the time axis by period and bucket', () => {
    expect(axisStyle(24 * 3600, 900)).toBe('time');
    expect(axisStyle(7 * 86_400, 3600)).toBe('dayTime');
    expect(axisStyle(30 * 86_400, 86_400)).toBe('day');
  });
});

describe('text', () => {
  it('truncates on characters', () => {
    expect(truncate('short', 10)).toEqual({ text: 'short', truncated: false });
    expect(truncate('abcdefghij', 5)).toEqual({ text: 'abcd…', truncated: true });
    expect(truncate('😀😀😀😀', 3)).toEqual({ text: '😀😀…', truncated: true });
  });

  it('names accounts and keys', () => {
    expect(accountName({ authIndex: '7', account: { label: 'work', email: 'a***@x.com' } })).toBe('work');
    expect(accountName({ authIndex: '7', account: { label: '', email: 'a***@x.com' } })).toBe('a***@x.com');
    expect(accountName({ authIndex: '7', account: null })).toBe('7');
    expect(accountName({ authIndex: '', account: null })).toBe('—');
    const labels = new Map([['h1', { label: 'ci-bot' }]]);
    expect(apiKeyName({ apiKey: { hash: 'h1', mask: 'sk-1…2' } }, labels)).toBe('ci-bot');
    expect(apiKeyName({ apiKey: { hash: 'h2', mask: 'sk-3…4' } }, labels)).toBe('sk-3…4');
    expect(apiKeyName({ apiKey: null })).toBe('—');
  });
});
