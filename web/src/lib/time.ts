// Calendar arithmetic in an IANA time zone without a date library, and the
// time-range presets of the panel. Days are calendar days of the zone, so a
// day is 23 or 25 hours long across a DST change and "7 days" always starts
// at a local midnight.

/** The browser's IANA time zone, UTC when it cannot be told. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Whether tz is a time zone this browser knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A wall-clock time: month is 1-12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const partFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(timeZone: string): Intl.DateTimeFormat {
  let f = partFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    partFormats.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time in timeZone at instant ms (epoch milliseconds). */
export function zonedParts(ms: number, timeZone: string): LocalDateTime {
  const out: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  let bc = false;
  for (const p of partsFormat(timeZone).formatToParts(new Date(ms))) {
    switch (p.type) {
      case 'year':
        out.year = Number(p.value);
        break;
      case 'month':
        out.month = Number(p.value);
        break;
      case 'day':
        out.day = Number(p.value);
        break;
      case 'hour':
        out.hour = Number(p.value) % 24;
        break;
      case 'minute':
        out.minute = Number(p.value);
        break;
      case 'second':
        out.second = Number(p.value);
        break;
      case 'era':
        bc = p.value === 'BC' || p.value === 'B';
        break;
      default:
        break;
    }
  }
  if (bc) out.year = 1 - out.year;
  return out;
}

function wallAsUtc(t: LocalDateTime): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, 0);
  return d.getTime();
}

/** The offset of timeZone from UTC at instant ms, in milliseconds (east positive). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(zonedParts(whole, timeZone)) - whole;
}

/**
 * The instant at which the wall clock of timeZone shows local. A time that
 * occurs twice (the hour repeated when DST ends) gives the earlier instant;
 * a time that does not exist (skipped when DST starts) gives the instant the
 * clock jumps past it, e.g. 02:30 on a spring-forward night → 03:30 local, and
 * a skipped midnight → the first instant of that day.
 */
export function zonedToInstant(local: LocalDateTime, timeZone: string): number {
  const asUtc = wallAsUtc(local);
  // Offsets well before and after: a zone changes its offset at most once in
  // such a window, so these are the only candidates.
  const before = zoneOffsetMs(asUtc - 36 * 3_600_000, timeZone);
  const after = zoneOffsetMs(asUtc + 36 * 3_600_000, timeZone);
  const valid: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    const candidate = asUtc - offset;
    if (zoneOffsetMs(candidate, timeZone) === offset) valid.push(candidate);
  }
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: read the wall time with the offset in force before the jump.
  return asUtc - before;
}

/** A calendar date: month is 1-12. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date n days after (or before, n < 0) date. */
export function addDays(date: CalendarDate, n: number): CalendarDate {
  const d = new Date(0);
  d.setUTCFullYear(date.year, date.month - 1, date.day + n);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The calendar date in timeZone at instant ms. */
export function zonedDate(ms: number, timeZone: string): CalendarDate {
  const p = zonedParts(ms, timeZone);
  return { year: p.year, month: p.month, day: p.day };
}

/** The first instant of date in timeZone (local midnight, or later when midnight is skipped). */
export function startOfDay(date: CalendarDate, timeZone: string): number {
  return zonedToInstant({ ...date, hour: 0, minute: 0, second: 0 }, timeZone);
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

/**
 * RFC 3339 for instant ms as the wall clock of timeZone with its offset:
 * 2026-11-27T00:00:00+08:00 (whole seconds; Z for a zero offset).
 */
export function toZonedRfc3339(ms: number, timeZone: string): string {
  const whole = Math.floor(ms / 1000) * 1000;
  const p = zonedParts(whole, timeZone);
  const offsetMinutes = Math.round(zoneOffsetMs(whole, timeZone) / 60_000);
  const year = p.year < 0 ? '-' + pad(p.year, 6) : pad(p.year, 4);
  const base = `${year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
  if (offsetMinutes === 0) return base + 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${base}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** A half-open range of instants [from, to) in epoch milliseconds. */
export interface TimeRange {
  from: number;
  to: number;
}

/** The range presets the panel offers. */
export const RANGE_PRESETS = ['today', 'yesterday', '24h', '7d', '30d'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

export function isRangePreset(value: string): value is RangePreset {
  return (RANGE_PRESETS as readonly string[]).includes(value);
}

/**
 * The range of preset at instant now in timeZone:
 * - today: local midnight → now;
 * - yesterday: yesterday's local midnight → today's local midnight;
 * - 24h: the last 24 hours, exactly;
 * - 7d / 30d: local midnight 6 / 29 calendar days ago → now, i.e. today and
 *   the days before it, whatever their length in hours.
 */
export function presetRange(preset: RangePreset, now: number, timeZone: string): TimeRange {
  const today = zonedDate(now, timeZone);
  switch (preset) {
    case 'today':
      return { from: startOfDay(today, timeZone), to: now };
    case 'yesterday':
      return { from: startOfDay(addDays(today, -1), timeZone), to: startOfDay(today, timeZone) };
    case '24h':
      return { from: now - 24 * 3_600_000, to: now };
    case '7d':
      return { from: startOfDay(addDays(today, -6), timeZone), to: now };
    case '30d':
      return { from: startOfDay(addDays(today, -29), timeZone), to: now };
  }
}

/**
 * The same stretch of the day before: from yesterday's local midnight to the
 * same wall-clock time yesterday as now. Used to compare "today so far" with
 * "yesterday by this time".
 */
export function sameTimeYesterday(now: number, timeZone: string): TimeRange {
  const p = zonedParts(now, timeZone);
  const yesterday = addDays({ year: p.year, month: p.month, day: p.day }, -1);
  const from = startOfDay(yesterday, timeZone);
  const to = zonedToInstant({ ...yesterday, hour: p.hour, minute: p.minute, second: p.second }, timeZone);
  return { from, to: Math.max(from, to) };
}

/** Query parameters of the analytics API for range in timeZone. */
export function rangeParams(range: TimeRange, timeZone: string): { from: string; to: string; tz: string } {
  return { from: toZonedRfc3339(range.from, timeZone), to: toZonedRfc3339(range.to, timeZone), tz: timeZone };
}
