// Formatting helpers for numbers, tokens, money, durations, percentages,
// sizes and dates. Every function takes the locale (and time zone where it
// matters) explicitly, so results are predictable in tests; components pass
// the UI language and the browser's zone (see useFormat in ../app/format.ts).

/** Placeholder shown for a missing value. */
export const DASH = '—';

const numberFormats = new Map<string, Intl.NumberFormat>();

function nf(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = locale + JSON.stringify(options);
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, options);
    numberFormats.set(key, f);
  }
  return f;
}

function isNumber(n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/** A whole or fractional number with grouping: 12,345 or 1,234.5. */
export function formatNumber(n: number | null | undefined, locale: string, maxFractionDigits = 0): string {
  if (!isNumber(n)) return DASH;
  return nf(locale, { maximumFractionDigits: maxFractionDigits }).format(n);
}

const tokenUnits: readonly [number, string][] = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/**
 * A token count in k/M/B/T with three significant digits: 950, 1.23k, 45.6k,
 * 7.8M. The units are the same in every language, as in model price lists.
 */
export function formatTokens(n: number | null | undefined, locale: string): string {
  if (!isNumber(n)) return DASH;
  const abs = Math.abs(n);
  for (const [size, unit] of tokenUnits) {
    // Round first, so 999,950 shows as 1M rather than 1000k.
    const scaled = abs / size;
    if (Number(scaled.toPrecision(3)) >= 1) {
      const digits = scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
      const text = nf(locale, { maximumFractionDigits: digits }).format(Number((n / size).toFixed(digits)));
      return text + unit;
    }
  }
  return nf(locale, { maximumFractionDigits: 0 }).format(n);
}

/**
 * US dollars. Amounts of a cent or more get two decimals; smaller ones get up
 * to four significant decimals ($0.0042), and anything still below $0.0001
 * shows as "<$0.0001" so that a tiny cost never reads as free.
 */
export function formatUsd(n: number | null | undefined, locale: string): string {
  if (!isNumber(n)) return DASH;
  const abs = Math.abs(n);
  if (abs === 0) return nf(locale, { style: 'currency', currency: 'USD' }).format(0);
  if (abs < 0.0001) {
    return (n < 0 ? '-' : '') + '<' + nf(locale, { style: 'currency', currency: 'USD', maximumFractionDigits: 4 }).format(0.0001);
  }
  if (abs < 0.01) {
    return nf(locale, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(n);
  }
  return nf(locale, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
}

/** A ratio (0..1) as a percentage: 0.9734 → 97.3%. */
export function formatPercent(ratio: number | null | undefined, locale: string, fractionDigits = 1): string {
  if (!isNumber(ratio)) return DASH;
  return nf(locale, { style: 'percent', minimumFractionDigits: 0, maximumFractionDigits: fractionDigits }).format(ratio);
}

/**
 * The relative change from previous to current, or null when there is no
 * base to compare with (previous is 0 or missing).
 */
export function relativeChange(current: number | null | undefined, previous: number | null | undefined): number | null {
  if (!isNumber(current) || !isNumber(previous) || previous === 0) return null;
  return (current - previous) / Math.abs(previous);
}

/** A signed percentage change: +12.5%, −3%, 0%. */
export function formatChange(change: number | null, locale: string): string {
  if (change === null || !Number.isFinite(change)) return DASH;
  return nf(locale, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(change);
}

/** A change in percentage points between two ratios: +1.2 pp. */
export function formatPointChange(current: number | null | undefined, previous: number | null | undefined, locale: string): string {
  if (!isNumber(current) || !isNumber(previous)) return DASH;
  const pp = (current - previous) * 100;
  return nf(locale, { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(pp) + ' pp';
}

/**
 * A duration given in milliseconds: 850 ms, 1.2 s, 2 min 5 s, 3 h 12 min,
 * 2 d 4 h. Unit abbreviations are the SI/ISO ones, understood in both
 * languages of the panel.
 */
export function formatDuration(ms: number | null | undefined, locale: string): string {
  if (!isNumber(ms)) return DASH;
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const n = (v: number, digits = 0) => nf(locale, { maximumFractionDigits: digits }).format(v);
  if (abs < 1000) return `${sign}${n(Math.round(abs))} ms`;
  if (abs < 60_000) {
    const s = abs / 1000;
    return `${sign}${n(s, s < 10 ? 2 : 1)} s`;
  }
  const totalSeconds = Math.round(abs / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return s ? `${sign}${n(m)} min ${n(s)} s` : `${sign}${n(m)} min`;
  }
  const totalMinutes = Math.round(abs / 60_000);
  if (totalMinutes < 24 * 60) {
    const h = Math.floor(totalMinutes / 60);
    const m = totalMinutes % 60;
    return m ? `${sign}${n(h)} h ${n(m)} min` : `${sign}${n(h)} h`;
  }
  const totalHours = Math.round(abs / 3_600_000);
  const d = Math.floor(totalHours / 24);
  const h = totalHours % 24;
  return h ? `${sign}${n(d)} d ${n(h)} h` : `${sign}${n(d)} d`;
}

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A size in bytes with binary units: 512 B, 1.5 MiB. */
export function formatBytes(n: number | null | undefined, locale: string): string {
  if (!isNumber(n)) return DASH;
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < byteUnits.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? '-' : ''}${nf(locale, { maximumFractionDigits: digits }).format(v)} ${byteUnits[i] ?? 'B'}`;
}

function toDate(value: Date | string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Date and time in timeZone: "Nov 27, 2026, 14:05:09". */
export function formatDateTime(value: Date | string | number | null | undefined, locale: string, timeZone: string): string {
  const d = toDate(value);
  if (!d) return DASH;
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}

/** Time of day in timeZone: "14:05". */
export function formatTime(value: Date | string | number | null | undefined, locale: string, timeZone: string): string {
  const d = toDate(value);
  if (!d) return DASH;
  return new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

/** How long ago (or ahead) value is from now: "3 minutes ago", "in 2 hours". */
export function formatRelative(value: Date | string | number | null | undefined, now: Date, locale: string): string {
  const d = toDate(value);
  if (!d) return DASH;
  const seconds = Math.round((d.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (abs < 45) return rtf.format(seconds, 'second');
  if (abs < 45 * 60) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 22 * 3600) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}
