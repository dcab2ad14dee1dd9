import { describe, expect, it } from 'vitest';
import {
  addDays,
  isValidTimeZone,
  presetRange,
  rangeParams,
  sameTimeYesterday,
  startOfDay,
  toZonedRfc3339,
  zonedParts,
  zonedToInstant,
  zoneOffsetMs,
} from './time';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);

describe('zone offsets', () => {
  it('knows fixed and DST zones', () => {
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'UTC')).toBe(0);
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * H);
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'Asia/Kathmandu')).toBe(5.75 * H);
    expect(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'America/New_York')).toBe(-5 * H);
    expect(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-4 * H);
  });
  it('reads the wall clock', () => {
    expect(zonedParts(at('2026-03-08T06:59:59Z'), 'America/New_York')).toEqual({
      year: 2026,
      month: 3,
      day: 8,
      hour: 1,
      minute: 59,
      second: 59,
    });
    expect(zonedParts(at('2026-03-08T07:00:00Z'), 'America/New_York')).toEqual({
      year: 2026,
      month: 3,
      day: 8,
      hour: 3,
      minute: 0,
      second: 0,
    });
  });
  it('tells valid zones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('zonedToInstant', () => {
  it('maps ordinary wall times', () => {
    expect(zonedToInstant({ year: 2026, month: 1, day: 15, hour: 9, minute: 0, second: 0 }, 'Asia/Shanghai')).toBe(
      at('2026-01-15T01:00:00Z'),
    );
  });
  it('moves a skipped time past the spring-forward gap', () => {
    // 02:30 does not exist in New York on 2026-03-08; the clock reads 03:30 then.
    expect(zonedToInstant({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, 'America/New_York')).toBe(
      at('2026-03-08T07:30:00Z'),
    );
  });
  it('picks the first of a repeated time', () => {
    // 01:30 happens twice in New York on 2026-11-01: first in EDT (05:30Z), then in EST (06:30Z).
    expect(zonedToInstant({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, 'America/New_York')).toBe(
      at('2026-11-01T05:30:00Z'),
    );
  });
  it('gives the first instant of a day whose midnight is skipped', () => {
    // Chile springs forward at 24:00 → 01:00 (2026-09-06 has no 00:00 in Santiago).
    const start = startOfDay({ year: 2026, month: 9, day: 6 }, 'America/Santiago');
    expect(zonedParts(start, 'America/Santiago')).toMatchObject({ day: 6, hour: 1, minute: 0 });
    expect(zonedParts(start - 1000, 'America/Santiago')).toMatchObject({ day: 5, hour: 23 });
  });
});

describe('calendar days', () => {
  it('adds days across months and years', () => {
    expect(addDays({ year: 2026, month: 1, day: 31 }, 1)).toEqual({ year: 2026, month: 2, day: 1 });
    expect(addDays({ year: 2026, month: 3, day: 1 }, -1)).toEqual({ year: 2026, month: 2, day: 28 });
    expect(addDays({ year: 2024, month: 3, day: 1 }, -1)).toEqual({ year: 2024, month: 2, day: 29 });
    expect(addDays({ year: 2026, month: 12, day: 31 }, 1)).toEqual({ year: 2027, month: 1, day: 1 });
  });
  it('starts days at local midnight', () => {
    expect(startOfDay({ year: 2026, month: 5, day: 4 }, 'Asia/Kolkata')).toBe(at('2026-05-03T18:30:00Z'));
    expect(startOfDay({ year: 2026, month: 5, day: 4 }, 'UTC')).toBe(at('2026-05-04T00:00:00Z'));
  });
});

describe('presetRange', () => {
  const tz = 'America/New_York';
  it('today runs from local midnight to now', () => {
    const now = at('2026-07-10T15:20:00Z'); // 11:20 EDT
    expect(presetRange('today', now, tz)).toEqual({ from: at('2026-07-10T04:00:00Z'), to: now });
  });
  it('today after midnight UTC but before local midnight is still the local day', () => {
    const now = at('2026-07-11T02:00:00Z'); // 22:00 EDT on the 10th
    expect(presetRange('today', now, tz).from).toBe(at('2026-07-10T04:00:00Z'));
  });
  it('24h is exactly 24 hours', () => {
    const now = at('2026-03-08T12:00:00Z');
    const r = presetRange('24h', now, tz);
    expect(r.to - r.from).toBe(24 * H);
  });
  it('today on the spring-forward day started 23 h before the next midnight', () => {
    const now = at('2026-03-09T03:59:00Z'); // 23:59 EDT on 2026-03-08
    const r = presetRange('today', now, tz);
    expect(r.from).toBe(at('2026-03-08T05:00:00Z'));
    expect(presetRange('yesterday', at('2026-03-09T12:00:00Z'), tz)).toEqual({
      from: at('2026-03-08T05:00:00Z'),
      to: at('2026-03-09T04:00:00Z'),
    });
  });
  it('yesterday across fall-back is 25 hours long', () => {
    const r = presetRange('yesterday', at('2026-11-02T12:00:00Z'), tz);
    expect(r.to - r.from).toBe(25 * H);
  });
  it('7d starts at local midnight six calendar days back, across DST', () => {
    const now = at('2026-03-10T16:00:00Z'); // 12:00 EDT on 2026-03-10
    const r = presetRange('7d', now, tz);
    expect(r.from).toBe(at('2026-03-04T05:00:00Z')); // midnight EST on 2026-03-04
    expect(zonedParts(r.from, tz)).toMatchObject({ day: 4, hour: 0, minute: 0 });
    expect(r.to - r.from).toBe(6 * 24 * H + 12 * H - H);
  });
  it('30d starts at local midnight 29 days back', () => {
    const now = at('2026-04-15T10:00:00Z');
    const r = presetRange('30d', now, 'Asia/Kolkata');
    expect(r.from).toBe(at('2026-03-16T18:30:00Z')); // 2026-03-17 00:00 IST
    expect(r.to).toBe(now);
  });
});

describe('sameTimeYesterday', () => {
  it('compares today so far with yesterday by the same wall time', () => {
    const now = at('2026-07-10T15:20:30Z'); // 11:20:30 EDT
    expect(sameTimeYesterday(now, 'America/New_York')).toEqual({ from: at('2026-07-09T04:00:00Z'), to: at('2026-07-09T15:20:30Z') });
  });
  it('keeps the wall time when yesterday was a DST day', () => {
    const now = at('2026-03-09T16:00:00Z'); // 12:00 EDT on 03-09; 03-08 was 23 h long
    const r = sameTimeYesterday(now, 'America/New_York');
    expect(r.from).toBe(at('2026-03-08T05:00:00Z'));
    expect(zonedParts(r.to, 'America/New_York')).toMatchObject({ day: 8, hour: 12, minute: 0 });
  });
});

describe('RFC 3339 in a zone', () => {
  it('writes the local time with its offset', () => {
    expect(toZonedRfc3339(at('2026-11-26T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-27T00:00:00+08:00');
    expect(toZonedRfc3339(at('2026-11-26T18:30:00Z'), 'Asia/Kolkata')).toBe('2026-11-27T00:00:00+05:30');
    expect(toZonedRfc3339(at('2026-11-27T05:00:00Z'), 'America/New_York')).toBe('2026-11-27T00:00:00-05:00');
    expect(toZonedRfc3339(at('2026-11-27T05:00:00.750Z'), 'UTC')).toBe('2026-11-27T05:00:00Z');
  });
  it('gives analytics parameters', () => {
    expect(rangeParams({ from: at('2026-01-01T00:00:00Z'), to: at('2026-01-02T00:00:00Z') }, 'Europe/Berlin')).toEqual({
      from: '2026-01-01T01:00:00+01:00',
      to: '2026-01-02T01:00:00+01:00',
      tz: 'Europe/Berlin',
    });
  });
});
