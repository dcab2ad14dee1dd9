import { describe, expect, it } from 'vitest';
import {
  DASH,
  formatBytes,
  formatChange,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatPercent,
  formatPointChange,
  formatRelative,
  formatTime,
  formatTokens,
  formatUsd,
  relativeChange,
} from './format';

describe('formatNumber', () => {
  it('groups thousands per locale', () => {
    expect(formatNumber(1234567, 'en')).toBe('1,234,567');
    expect(formatNumber(1234.5678, 'en', 2)).toBe('1,234.57');
    expect(formatNumber(0, 'en')).toBe('0');
  });
  it('shows a dash for missing values', () => {
    expect(formatNumber(null, 'en')).toBe(DASH);
    expect(formatNumber(undefined, 'en')).toBe(DASH);
    expect(formatNumber(Number.NaN, 'en')).toBe(DASH);
  });
});

describe('formatTokens', () => {
  it.each([
    [0, '0'],
    [950, '950'],
    [999, '999'],
    [1000, '1k'],
    [1234, '1.23k'],
    [45_600, '45.6k'],
    [999_400, '999k'],
    [999_950, '1M'],
    [1_500_000, '1.5M'],
    [7_812_345, '7.81M'],
    [123_456_789, '123M'],
    [2_100_000_000, '2.1B'],
    [3e12, '3T'],
    [-1234, '-1.23k'],
  ])('%d → %s', (n, want) => {
    expect(formatTokens(n, 'en')).toBe(want);
  });
  it('uses k/M in Chinese too', () => {
    expect(formatTokens(1_500_000, 'zh-CN')).toBe('1.5M');
  });
});

describe('formatUsd', () => {
  it.each([
    [0, '$0.00'],
    [1234.5, '$1,234.50'],
    [0.5, '$0.50'],
    [0.01, '$0.01'],
    [0.0042, '$0.0042'],
    [0.001, '$0.001'],
    [0.00004, '<$0.0001'],
    [-2.5, '-$2.50'],
  ])('%d → %s', (n, want) => {
    expect(formatUsd(n, 'en')).toBe(want);
  });
  it('never shows a tiny cost as free', () => {
    expect(formatUsd(1e-9, 'en')).not.toBe('$0.00');
  });
});

describe('percentages and changes', () => {
  it('formats ratios', () => {
    expect(formatPercent(0.9734, 'en')).toBe('97.3%');
    expect(formatPercent(1, 'en')).toBe('100%');
    expect(formatPercent(null, 'en')).toBe(DASH);
  });
  it('computes relative change, null without a base', () => {
    expect(relativeChange(150, 100)).toBe(0.5);
    expect(relativeChange(50, 100)).toBe(-0.5);
    expect(relativeChange(5, 0)).toBeNull();
    expect(relativeChange(undefined, 3)).toBeNull();
  });
  it('signs changes', () => {
    expect(formatChange(0.125, 'en')).toBe('+12.5%');
    expect(formatChange(-0.03, 'en')).toBe('-3%');
    expect(formatChange(0, 'en')).toBe('0%');
    expect(formatChange(null, 'en')).toBe(DASH);
  });
  it('formats percentage points', () => {
    expect(formatPointChange(0.98, 0.96, 'en')).toBe('+2 pp');
    expect(formatPointChange(0.9, 0.95, 'en')).toBe('-5 pp');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [1234, '1.23 s'],
    [12_340, '12.3 s'],
    [60_000, '1 min'],
    [125_000, '2 min 5 s'],
    [3_600_000, '1 h'],
    [11_520_000, '3 h 12 min'],
    [86_400_000, '1 d'],
    [187_200_000, '2 d 4 h'],
  ])('%d ms → %s', (ms, want) => {
    expect(formatDuration(ms, 'en')).toBe(want);
  });
  it('shows a dash for missing values', () => {
    expect(formatDuration(undefined, 'en')).toBe(DASH);
  });
});

describe('formatBytes', () => {
  it.each([
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [123.4 * 1024 * 1024 * 1024, '123 GiB'],
  ])('%d → %s', (n, want) => {
    expect(formatBytes(n, 'en')).toBe(want);
  });
});

describe('dates in a time zone', () => {
  const instant = '2026-03-08T10:30:00Z';
  it('shows the wall clock of the given zone', () => {
    expect(formatTime(instant, 'en', 'UTC')).toBe('10:30');
    expect(formatTime(instant, 'en', 'Asia/Shanghai')).toBe('18:30');
    expect(formatTime(instant, 'en', 'Asia/Kolkata')).toBe('16:00');
    expect(formatTime(instant, 'en', 'America/New_York')).toBe('06:30');
  });
  it('formats date and time', () => {
    expect(formatDateTime(instant, 'en', 'Asia/Tokyo')).toBe('Mar 8, 2026, 19:30:00');
    expect(formatDateTime('not a date', 'en', 'UTC')).toBe(DASH);
    expect(formatDateTime(undefined, 'en', 'UTC')).toBe(DASH);
  });
  it('says how long ago', () => {
    const now = new Date('2026-03-08T12:00:00Z');
    expect(formatRelative('2026-03-08T11:57:00Z', now, 'en')).toBe('3 minutes ago');
    expect(formatRelative('2026-03-08T14:00:00Z', now, 'en')).toBe('in 2 hours');
    expect(formatRelative('2026-03-07T12:00:00Z', now, 'en')).toBe('yesterday');
  });
});
