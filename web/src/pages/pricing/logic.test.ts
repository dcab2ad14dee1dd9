import { describe, expect, it } from 'vitest';
import { deletePath } from './api';
import { formatPerMillion, formatThreshold } from './format';
import {
  buildPutBody,
  checkModelName,
  filterPrices,
  findUnpriced,
  formFromPrice,
  openCandidates,
  parseDate,
  parsePriceField,
  readPriceForm,
  recomputeRange,
  requestsByPricedName,
  samePrice,
  sourceKey,
  syncModelsFor,
} from './logic';
import type { PriceEntry } from './types';

function entry(source: string, input: number, output: number, extra: Partial<PriceEntry> = {}): PriceEntry {
  return {
    input,
    output,
    cacheRead: 0,
    cacheWrite: 0,
    tiers: [],
    source,
    updatedAt: source === 'default' ? null : '2026-11-01T00:00:00Z',
    ...extra,
  };
}

describe('parsePriceField', () => {
  it.each([
    ['1.25', 1.25],
    [' 2 ', 2],
    ['0', 0],
    ['.5', 0.5],
    ['3.', 3],
    ['1e-3', 0.001],
    ['+4', 4],
    ['-0', 0],
  ])('reads %j as %d', (raw, want) => {
    expect(parsePriceField(raw, true)).toEqual({ ok: true, value: want });
  });
  it.each([
    ['-1', 'negative'],
    ['-0.01', 'negative'],
    ['abc', 'notNumber'],
    ['1,25', 'notNumber'],
    ['1.2.3', 'notNumber'],
    ['Infinity', 'notNumber'],
    ['1e999', 'notNumber'],
    ['NaN', 'notNumber'],
    ['0x10', 'notNumber'],
    ['--1', 'notNumber'],
    ['-+1', 'notNumber'],
    ['$1', 'notNumber'],
  ])('refuses %j (%s)', (raw, error) => {
    expect(parsePriceField(raw, true)).toEqual({ ok: false, error });
  });
  it('needs required fields and reads empty optional ones as 0', () => {
    expect(parsePriceField('  ', true)).toEqual({ ok: false, error: 'required' });
    expect(parsePriceField('', false)).toEqual({ ok: true, value: 0 });
  });
});

describe('checkModelName', () => {
  const listed = { 'gpt-5': entry('default', 1.25, 10) };
  it('accepts a new trimmed name', () => {
    expect(checkModelName(' my-model ', listed)).toBeNull();
  });
  it('refuses empty, long, control characters and listed names', () => {
    expect(checkModelName('   ', listed)).toBe('required');
    expect(checkModelName('x'.repeat(201), listed)).toBe('tooLong');
    expect(checkModelName('😀'.repeat(200), listed)).toBeNull();
    expect(checkModelName('a\tb', listed)).toBe('control');
    expect(checkModelName('gpt-5', listed)).toBe('exists');
    expect(checkModelName('gpt-5', new Set(['gpt-5']))).toBe('exists');
    expect(checkModelName('toString', listed)).toBeNull();
  });
});

describe('readPriceForm', () => {
  const existing = { 'gpt-5': entry('default', 1.25, 10) };
  it('gives the price of a valid form, cache fields defaulting to 0', () => {
    const r = readPriceForm(
      { model: ' new-model ', input: '1', output: '2.5', cacheRead: '', cacheWrite: '0.3' },
      { isNew: true, existing },
    );
    expect(r).toEqual({ ok: true, model: 'new-model', price: { input: 1, output: 2.5, cacheRead: 0, cacheWrite: 0.3 } });
  });
  it('reports every bad field', () => {
    const r = readPriceForm({ model: 'gpt-5', input: '', output: '-2', cacheRead: 'x', cacheWrite: '' }, { isNew: true, existing });
    expect(r).toEqual({ ok: false, errors: { model: 'exists', input: 'required', output: 'negative', cacheRead: 'notNumber' } });
  });
  it('does not check the name of an edited row, and keeps its tiers', () => {
    const tiers = [{ aboveInputTokens: 200_000, input: 2.5, output: 15, cacheRead: 0, cacheWrite: 0 }];
    const r = readPriceForm(
      { model: 'gpt-5', input: '2', output: '12', cacheRead: '', cacheWrite: '' },
      { isNew: false, existing, keepTiers: tiers },
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.price.tiers).toEqual(tiers);
      expect(r.price.tiers).not.toBe(tiers);
    }
  });
  it('fills the form from a price, leaving unpriced cache fields empty', () => {
    expect(formFromPrice('m', entry('manual', 1.5, 3, { cacheRead: 0.15 }))).toEqual({
      model: 'm',
      input: '1.5',
      output: '3',
      cacheRead: '0.15',
      cacheWrite: '',
    });
    expect(formFromPrice('m', null)).toEqual({ model: 'm', input: '', output: '', cacheRead: '', cacheWrite: '' });
  });
});

describe('buildPutBody', () => {
  const tiers = [{ aboveInputTokens: 200_000, input: 2.5, output: 15, cacheRead: 0, cacheWrite: 0 }];
  const prices: Record<string, PriceEntry> = {
    'gpt-5': entry('default', 1.25, 10),
    'mine-a': entry('manual', 1, 2, { cacheRead: 0.1 }),
    'mine-b': entry('manual', 3, 4, { tiers }),
    'synced-x': entry('litellm', 5, 6),
    'synced-y': entry('models.dev', 7, 8),
  };

  it('sends the complete manual set, unchanged, and nothing else', () => {
    expect(buildPutBody(prices, {})).toEqual({
      prices: {
        'mine-a': { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 0 },
        'mine-b': { input: 3, output: 4, cacheRead: 0, cacheWrite: 0, tiers },
      },
    });
  });
  it('adds edited rows: a default or synced row becomes manual', () => {
    const body = buildPutBody(prices, {
      'synced-x': { input: 9, output: 9, cacheRead: 0, cacheWrite: 0 },
      'gpt-5': { input: 1, output: 8, cacheRead: 0, cacheWrite: 0 },
    });
    expect(Object.keys(body.prices)).toEqual(['gpt-5', 'mine-a', 'mine-b', 'synced-x']);
    expect(body.prices['synced-x']).toEqual({ input: 9, output: 9, cacheRead: 0, cacheWrite: 0 });
    expect(body.prices['synced-y']).toBeUndefined();
  });
  it('replaces an edited manual row and leaves removed ones out', () => {
    const body = buildPutBody(prices, { 'mine-a': { input: 2, output: 2, cacheRead: 0, cacheWrite: 0 } }, ['mine-b']);
    expect(body).toEqual({ prices: { 'mine-a': { input: 2, output: 2, cacheRead: 0, cacheWrite: 0 } } });
  });
  it('adds a new model', () => {
    const body = buildPutBody(prices, { brand: { input: 0.5, output: 1, cacheRead: 0, cacheWrite: 0 } });
    expect(Object.keys(body.prices)).toEqual(['brand', 'mine-a', 'mine-b']);
  });
  it('does not share tier arrays with the price document', () => {
    const body = buildPutBody(prices, {});
    expect(body.prices['mine-b']?.tiers).not.toBe(tiers);
  });
});

describe('findUnpriced', () => {
  // priced_as is the server's answer (the breakdown by model).
  const rows = [
    { key: 'gpt-5', attempts: 100, unpriced: 0, other: false, priced_as: 'gpt-5' },
    { key: 'mock-gpt', attempts: 50, unpriced: 50, other: false, priced_as: null },
    { key: 'claude-sonnet-4-5-20250929', attempts: 30, unpriced: 10, other: false, priced_as: 'claude-sonnet-4-5' },
    { key: 'private-model', attempts: 5, unpriced: 0, other: false, priced_as: null },
    { key: 'rare', attempts: 5, unpriced: 5, other: false, priced_as: null },
    { key: 'other', attempts: 999, unpriced: 999, other: true },
    { key: '', attempts: 3, unpriced: 3, other: false, priced_as: null },
  ];
  it('lists models without a price and models with unpriced requests, most unpriced first', () => {
    expect(findUnpriced(rows)).toEqual([
      { model: 'mock-gpt', attempts: 50, unpriced: 50, reason: 'noPrice', pricedAs: null },
      { model: 'claude-sonnet-4-5-20250929', attempts: 30, unpriced: 10, reason: 'staleCost', pricedAs: 'claude-sonnet-4-5' },
      { model: 'rare', attempts: 5, unpriced: 5, reason: 'noPrice', pricedAs: null },
      { model: 'private-model', attempts: 5, unpriced: 0, reason: 'noPrice', pricedAs: null },
    ]);
  });
  it('is empty when every model is priced', () => {
    expect(findUnpriced([{ key: 'gpt-5', attempts: 1, unpriced: 0, other: false, priced_as: 'gpt-5' }])).toEqual([]);
  });
  it('leaves out models the server could not decide for (no price book loaded)', () => {
    expect(findUnpriced([{ key: 'mock-gpt', attempts: 4, unpriced: 4, other: false }])).toEqual([]);
  });
  it('names only the models without a price for a sync, skipping names the server refuses', () => {
    const list = findUnpriced([...rows, { key: ' spaced', attempts: 1, unpriced: 1, other: false, priced_as: null }]);
    expect(syncModelsFor(list)).toEqual(['mock-gpt', 'private-model', 'rare']);
  });
});

describe('requestsByPricedName', () => {
  it('sums the requests of the models priced under each listed name', () => {
    const got = requestsByPricedName([
      { key: 'claude-sonnet-4-5', attempts: 7, unpriced: 0, other: false, priced_as: 'claude-sonnet-4-5' },
      { key: 'claude-sonnet-4-5-20250929', attempts: 3, unpriced: 0, other: false, priced_as: 'claude-sonnet-4-5' },
      { key: 'mock-gpt', attempts: 50, unpriced: 50, other: false, priced_as: null },
      { key: 'x', attempts: 2, unpriced: 0, other: false },
      { key: 'other', attempts: 999, unpriced: 0, other: true, priced_as: 'claude-sonnet-4-5' },
    ]);
    expect([...got]).toEqual([['claude-sonnet-4-5', 10]]);
  });
});

describe('filterPrices', () => {
  const prices = { 'gpt-5': entry('default', 1, 2), 'GPT-4o': entry('manual', 1, 2), claude: entry('litellm', 1, 2) };
  it('filters by text (any case) and source, sorted by name', () => {
    expect(filterPrices(prices, 'gpt', '').map((r) => r.model)).toEqual(['gpt-5', 'GPT-4o'].sort((a, b) => a.localeCompare(b)));
    expect(filterPrices(prices, '', 'litellm').map((r) => r.model)).toEqual(['claude']);
    expect(filterPrices(prices, 'gpt', 'litellm')).toEqual([]);
    expect(filterPrices(prices, '  ', '')).toHaveLength(3);
  });
});

describe('sync candidates', () => {
  const a = { source: 'litellm', sourceModelId: 'a/x', price: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0, tiers: [] } };
  const b = { source: 'litellm', sourceModelId: 'b/x', price: { input: 3, output: 4, cacheRead: 0, cacheWrite: 0, tiers: [] } };
  it('compares prices including tiers', () => {
    expect(samePrice(a.price, { ...a.price })).toBe(true);
    expect(samePrice(a.price, b.price)).toBe(false);
    expect(samePrice(a.price, { ...a.price, tiers: [{ aboveInputTokens: 1, input: 1, output: 1, cacheRead: 0, cacheWrite: 0 }] })).toBe(
      false,
    );
  });
  it('drops ambiguous models once one of their candidates is the manual price', () => {
    const candidates = [
      { model: 'x', candidates: [a, b] },
      { model: 'y', candidates: [a, b] },
    ];
    const prices = { x: entry('manual', 3, 4), y: entry('litellm', 3, 4) };
    expect(openCandidates(candidates, prices).map((c) => c.model)).toEqual(['y']);
  });
});

describe('recomputeRange', () => {
  it('covers whole local days, last day included', () => {
    expect(recomputeRange('2026-11-01', '2026-11-30', 'Asia/Shanghai')).toEqual({
      ok: true,
      from: '2026-11-01T00:00:00+08:00',
      to: '2026-12-01T00:00:00+08:00',
      days: 30,
    });
    expect(recomputeRange('2026-03-01', '2026-03-01', 'UTC')).toEqual({
      ok: true,
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-02T00:00:00Z',
      days: 1,
    });
  });
  it('follows DST changes', () => {
    const r = recomputeRange('2026-03-08', '2026-03-08', 'America/New_York');
    expect(r).toEqual({ ok: true, from: '2026-03-08T00:00:00-05:00', to: '2026-03-09T00:00:00-04:00', days: 1 });
  });
  it('refuses bad, reversed and too long ranges', () => {
    expect(recomputeRange('', '2026-01-01', 'UTC')).toEqual({ ok: false, error: 'invalid' });
    expect(recomputeRange('2026-02-30', '2026-03-01', 'UTC')).toEqual({ ok: false, error: 'invalid' });
    expect(recomputeRange('2026-03-02', '2026-03-01', 'UTC')).toEqual({ ok: false, error: 'order' });
    expect(recomputeRange('2025-01-01', '2026-02-05', 'UTC')).toEqual({ ok: false, error: 'tooLong' });
    expect(recomputeRange('2025-01-01', '2026-02-04', 'UTC')).toMatchObject({ ok: true, days: 400 });
  });
  it('parses dates strictly', () => {
    expect(parseDate('2026-12-31')).toEqual({ year: 2026, month: 12, day: 31 });
    expect(parseDate('2026-13-01')).toBeNull();
    expect(parseDate('26-1-1')).toBeNull();
  });
});

describe('deletePath', () => {
  it('keeps slashes and escapes each segment', () => {
    expect(deletePath('gpt-5')).toBe('/v0/management/model-prices/gpt-5');
    expect(deletePath('openai/gpt-5')).toBe('/v0/management/model-prices/openai/gpt-5');
    expect(deletePath('a b?#%')).toBe('/v0/management/model-prices/a%20b%3F%23%25');
  });
  it('refuses names a URL would rewrite', () => {
    expect(deletePath('a//b')).toBeNull();
    expect(deletePath('a/../b')).toBeNull();
    expect(deletePath('/lead')).toBeNull();
  });
});

describe('formatting', () => {
  it('keeps the digits of small prices', () => {
    expect(formatPerMillion(0.075, 'en')).toBe('$0.075');
    expect(formatPerMillion(10, 'en')).toBe('$10.00');
    expect(formatThreshold(200_000, 'en')).toBe('200k');
    expect(formatThreshold(1_000_000, 'en')).toBe('1M');
  });
  it('maps sources to translation keys', () => {
    expect(sourceKey('models.dev')).toBe('modelsDev');
    expect(sourceKey('toString')).toBeNull();
    expect(sourceKey('someday')).toBeNull();
  });
});
