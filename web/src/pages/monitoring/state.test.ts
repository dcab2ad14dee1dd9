import { describe, expect, it } from 'vitest';
import {
  autoBucket,
  bucketFits,
  defaultState,
  effectiveBucket,
  filterQuery,
  filterSearch,
  parseInstant,
  parseState,
  queryFromSearch,
  rangeProblem,
  resolveRange,
  serializeState,
  toLocalInput,
  withFilter,
  withoutAllFilters,
  withoutFilter,
  withPreset,
} from './state';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TZ = 'Europe/Berlin';

const parse = (qs: string, tz = TZ) => parseState(new URLSearchParams(qs), tz);
const round = (qs: string, tz = TZ) => serializeState(parse(qs, tz), tz).toString();

describe('URL state', () => {
  it('gives the defaults for an empty query', () => {
    expect(parse('')).toEqual(defaultState());
    expect(serializeState(defaultState(), TZ).toString()).toBe('');
  });

  it('reads presets, bucket, filters, status and tab', () => {
    const s = parse('range=7d&bucket=6h&model=gpt-5&model=claude&api_key=abc123&status=failed&by=account');
    expect(s.preset).toBe('7d');
    expect(s.bucket).toBe('6h');
    expect(s.filters.model).toEqual(['gpt-5', 'claude']);
    expect(s.filters.api_key).toEqual(['abc123']);
    expect(s.filters.upstream).toEqual([]);
    expect(s.status).toBe('failed');
    expect(s.tab).toBe('account');
  });

  it('drops unknown and malformed values', () => {
    const s = parse('range=week&bucket=5m&status=maybe&by=colour&model=&model=a&model=a&unknown=1');
    expect(s.preset).toBe('24h');
    expect(s.bucket).toBeNull();
    expect(s.status).toBe('all');
    expect(s.tab).toBe('model');
    expect(s.filters.model).toEqual(['a']);
  });

  it('serialises in a fixed order and leaves defaults out', () => {
    expect(round('by=model&status=all&range=24h')).toBe('');
    expect(round('status=ok&endpoint=POST+%2Fv1%2Fchat&upstream=b&upstream=a&range=30d')).toBe(
      'range=30d&upstream=b&upstream=a&endpoint=POST+%2Fv1%2Fchat&status=ok',
    );
  });

  it('round-trips a custom period as instants with the zone offset', () => {
    const qs = 'range=custom&from=2026-03-28T10%3A00%3A00%2B01%3A00&to=2026-03-30T10%3A00%3A00%2B02%3A00';
    const s = parse(qs);
    expect(s.from).toBe(Date.parse('2026-03-28T09:00:00Z'));
    expect(s.to).toBe(Date.parse('2026-03-30T08:00:00Z'));
    expect(round(qs)).toBe(qs);
    // The same instants read in another zone stay the same instants.
    expect(parse(qs, 'Asia/Tokyo').from).toBe(s.from);
  });

  it('ignores from and to unless the preset is custom', () => {
    const s = parse('range=7d&from=2026-01-01&to=2026-01-02');
    expect(s.from).toBeNull();
    expect(serializeState(s, TZ).toString()).toBe('range=7d');
  });
});

describe('instants', () => {
  it('reads wall times in the zone and RFC 3339 with a zone', () => {
    expect(parseInstant('2026-07-01T12:30', TZ)).toBe(Date.parse('2026-07-01T10:30:00Z'));
    expect(parseInstant('2026-01-01', TZ)).toBe(Date.parse('2025-12-31T23:00:00Z'));
    expect(parseInstant('2026-07-01T12:30:00Z', TZ)).toBe(Date.parse('2026-07-01T12:30:00Z'));
    expect(parseInstant('2026-07-01T12:30:00-04:00', TZ)).toBe(Date.parse('2026-07-01T16:30:00Z'));
  });

  it('refuses what is not a date', () => {
    for (const v of ['', '  ', 'yesterday', '2026-13-01', '2026-07-01T25:00', '1720000000', 'July 1, 2026', null, undefined]) {
      expect(parseInstant(v, TZ), String(v)).toBeNull();
    }
  });

  it('fills datetime-local inputs in the zone', () => {
    const ms = Date.parse('2026-07-01T10:05:59Z');
    expect(toLocalInput(ms, TZ)).toBe('2026-07-01T12:05');
    expect(toLocalInput(ms, 'America/New_York')).toBe('2026-07-01T06:05');
    expect(parseInstant(toLocalInput(ms, TZ), TZ)).toBe(Date.parse('2026-07-01T10:05:00Z'));
  });
});

describe('buckets', () => {
  it('follow the length of the period', () => {
    expect(autoBucket(HOUR)).toBe('15m');
    expect(autoBucket(DAY)).toBe('15m');
    // A 25-hour day (end of daylight saving time) is still a day.
    expect(autoBucket(DAY + HOUR)).toBe('15m');
    expect(autoBucket(DAY + 2 * HOUR)).toBe('1h');
    expect(autoBucket(7 * DAY)).toBe('1h');
    expect(autoBucket(7 * DAY + HOUR)).toBe('1h');
    expect(autoBucket(8 * DAY)).toBe('1d');
    expect(autoBucket(30 * DAY)).toBe('1d');
  });

  it('keep the user choice when the series stays within 10000 points', () => {
    expect(bucketFits('15m', 30 * DAY)).toBe(true);
    expect(bucketFits('15m', 400 * DAY)).toBe(false);
    expect(bucketFits('1h', 400 * DAY)).toBe(true);
    expect(effectiveBucket('1d', DAY)).toBe('1d');
    expect(effectiveBucket('15m', 400 * DAY)).toBe('1d');
    expect(effectiveBucket(null, 3 * DAY)).toBe('1h');
  });
});

describe('periods', () => {
  const now = Date.parse('2026-07-15T10:00:00Z');

  it('resolve presets at now', () => {
    expect(resolveRange(parse(''), now, TZ)).toEqual({ from: now - DAY, to: now });
    expect(resolveRange(parse('range=today'), now, TZ)).toEqual({ from: Date.parse('2026-07-14T22:00:00Z'), to: now });
  });

  it('check custom periods', () => {
    expect(rangeProblem(parse('range=custom'))).toBe('missing');
    expect(rangeProblem(parse('range=custom&from=2026-07-02&to=2026-07-01'))).toBe('order');
    expect(rangeProblem(parse('range=custom&from=2025-01-01&to=2026-07-01'))).toBe('tooLong');
    const ok = parse('range=custom&from=2026-07-01&to=2026-07-02');
    expect(rangeProblem(ok)).toBeNull();
    expect(resolveRange(ok, now, TZ)).toEqual({ from: Date.parse('2026-06-30T22:00:00Z'), to: Date.parse('2026-07-01T22:00:00Z') });
    expect(resolveRange(parse('range=custom'), now, TZ)).toBeNull();
  });

  it('start a custom period from the one shown and drop the bucket choice', () => {
    const s = { ...parse('range=7d&bucket=6h') };
    const custom = withPreset(s, 'custom', { from: 1, to: 2 });
    expect(custom).toMatchObject({ preset: 'custom', from: 1, to: 2, bucket: null });
    expect(withPreset(custom, '30d', null)).toMatchObject({ preset: '30d', from: null, to: null });
    expect(withPreset(custom, 'custom', { from: 5, to: 6 })).toBe(custom);
  });
});

describe('filters', () => {
  it('set, remove and clear values', () => {
    let s = withFilter(defaultState(), 'model', 'gpt-5');
    expect(s.filters.model).toEqual(['gpt-5']);
    s = withFilter(s, 'model', 'claude');
    expect(s.filters.model).toEqual(['claude']);
    s = withFilter(s, 'account', '1');
    s = withoutFilter(s, 'model', 'claude');
    expect(s.filters.model).toEqual([]);
    expect(s.filters.account).toEqual(['1']);
    expect(withFilter(s, 'account', '').filters.account).toEqual([]);
    expect(withoutAllFilters({ ...s, status: 'failed' })).toMatchObject({ status: 'all', filters: { account: [] } });
  });

  it('become API parameters, failed= from the status', () => {
    const s = parse('model=a&model=b&upstream=u&status=ok');
    expect(filterQuery(s)).toEqual({ upstream: ['u'], model: ['a', 'b'], failed: 'false' });
    expect(filterQuery(parse('status=failed'))).toEqual({ failed: 'true' });
    expect(filterQuery(s, false)).toEqual({ upstream: ['u'], model: ['a', 'b'] });
    expect(filterSearch(s)).toBe('upstream=u&model=a&model=b&failed=false');
    expect(queryFromSearch(filterSearch(s))).toEqual({ upstream: 'u', model: ['a', 'b'], failed: 'false' });
    expect(filterSearch(parse('range=7d&by=account'))).toBe('');
  });
});
