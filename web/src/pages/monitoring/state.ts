// The monitoring page's view state and how it lives in the URL hash query:
// #/monitoring?range=24h&model=gpt-5&status=failed&by=account. Everything a
// user picks (period, bucket, filters, breakdown tab) is kept there, so a
// view can be shared and survives a reload. Pure functions only; the page
// reads them through useMonitoringState().
import type { Bucket } from '../../api/types';
import type { Query } from '../../api/client';
import { presetRange, toZonedRfc3339, zonedParts, zonedToInstant, type TimeRange } from '../../lib/time';

/** The dimensions a filter can name, in the order of the filter bar and the URL. */
export const FILTER_DIMS = ['upstream', 'model', 'alias', 'provider', 'account', 'api_key', 'endpoint'] as const;
export type FilterDim = (typeof FILTER_DIMS)[number];

export const STATUS_FILTERS = ['all', 'ok', 'failed'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export const PRESETS = ['today', '24h', '7d', '30d', 'custom'] as const;
export type Preset = (typeof PRESETS)[number];
export const DEFAULT_PRESET: Preset = '24h';

export const BUCKETS: readonly Bucket[] = ['15m', '30m', '1h', '6h', '1d'];

/** The breakdown tabs (by= values of /api/v1/breakdown). */
export const BREAKDOWN_TABS = ['model', 'account', 'api_key', 'provider', 'endpoint', 'upstream', 'alias'] as const;
export type BreakdownTab = (typeof BREAKDOWN_TABS)[number];
export const DEFAULT_TAB: BreakdownTab = 'model';

export type Filters = Record<FilterDim, string[]>;

export interface MonitoringState {
  preset: Preset;
  /** Custom period, epoch milliseconds; null while not (validly) given. */
  from: number | null;
  to: number | null;
  /** A bucket the user picked; null follows the period (autoBucket). */
  bucket: Bucket | null;
  filters: Filters;
  status: StatusFilter;
  tab: BreakdownTab;
}

export function emptyFilters(): Filters {
  return { upstream: [], model: [], alias: [], provider: [], account: [], api_key: [], endpoint: [] };
}

export function defaultState(): MonitoringState {
  return { preset: DEFAULT_PRESET, from: null, to: null, bucket: null, filters: emptyFilters(), status: 'all', tab: DEFAULT_TAB };
}

function isOneOf<T extends string>(list: readonly T[], value: string | null): value is T {
  return value !== null && (list as readonly string[]).includes(value);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BUCKET_MS: Record<Bucket, number> = { '15m': 15 * 60_000, '30m': 30 * 60_000, '1h': HOUR, '6h': 6 * HOUR, '1d': DAY };
/** The time series answers at most 10000 points; keep a margin for the alignment of both ends. */
export const MAX_POINTS = 9_990;

export function bucketMs(bucket: Bucket): number {
  return BUCKET_MS[bucket];
}

/**
 * The bucket for a period of spanMs: 15 minutes up to a day, an hour up to a
 * week, a day beyond. An hour of slack keeps a day (or week) that contains
 * the end of daylight saving time, 25 hours long, in its usual bucket.
 */
export function autoBucket(spanMs: number): Bucket {
  if (spanMs <= DAY + HOUR) return '15m';
  if (spanMs <= 7 * DAY + HOUR) return '1h';
  return '1d';
}

/** Whether a series of spanMs in bucket stays within the points the server answers. */
export function bucketFits(bucket: Bucket, spanMs: number): boolean {
  return Math.ceil(spanMs / BUCKET_MS[bucket]) <= MAX_POINTS;
}

/** The bucket in effect: the user's choice when it fits the period, else the automatic one. */
export function effectiveBucket(choice: Bucket | null, spanMs: number): Bucket {
  if (choice !== null && bucketFits(choice, spanMs)) return choice;
  return autoBucket(spanMs);
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * An instant from the URL or a datetime-local input: RFC 3339 with a zone
 * ("2026-11-27T10:00:00+08:00", "…Z"), or a wall time without one
 * ("2026-11-27T10:00", "2026-11-27"), read in timeZone. null when unreadable.
 */
export function parseInstant(value: string | null | undefined, timeZone: string): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  const m = WALL_TIME.exec(v);
  if (m) {
    const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
    return zonedToInstant({ year, month, day, hour, minute, second }, timeZone);
  }
  // Only full RFC 3339 date-times with a zone; Date.parse alone accepts far more.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The value of a datetime-local input for instant ms in timeZone: "2026-11-27T10:05". */
export function toLocalInput(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  return `${String(p.year).padStart(4, '0')}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** Reads the hash query into a state; anything unknown or malformed falls back to the default. */
export function parseState(query: URLSearchParams, timeZone: string): MonitoringState {
  const s = defaultState();
  const range = query.get('range');
  if (isOneOf(PRESETS, range)) s.preset = range;
  if (s.preset === 'custom') {
    s.from = parseInstant(query.get('from'), timeZone);
    s.to = parseInstant(query.get('to'), timeZone);
  }
  const bucket = query.get('bucket');
  if (isOneOf(BUCKETS, bucket)) s.bucket = bucket;
  for (const dim of FILTER_DIMS) {
    const seen = new Set<string>();
    for (const v of query.getAll(dim)) {
      if (v !== '' && !seen.has(v)) {
        seen.add(v);
        s.filters[dim].push(v);
      }
    }
  }
  const status = query.get('status');
  if (isOneOf(STATUS_FILTERS, status)) s.status = status;
  const tab = query.get('by');
  if (isOneOf(BREAKDOWN_TABS, tab)) s.tab = tab;
  return s;
}

/**
 * The hash query of a state, defaults left out, in a fixed order so the
 * same view always gives the same URL.
 */
export function serializeState(s: MonitoringState, timeZone: string): URLSearchParams {
  const q = new URLSearchParams();
  if (s.preset !== DEFAULT_PRESET) q.set('range', s.preset);
  if (s.preset === 'custom') {
    if (s.from !== null) q.set('from', toZonedRfc3339(s.from, timeZone));
    if (s.to !== null) q.set('to', toZonedRfc3339(s.to, timeZone));
  }
  if (s.bucket !== null) q.set('bucket', s.bucket);
  for (const dim of FILTER_DIMS) for (const v of s.filters[dim]) q.append(dim, v);
  if (s.status !== 'all') q.set('status', s.status);
  if (s.tab !== DEFAULT_TAB) q.set('by', s.tab);
  return q;
}

/** Why a custom period cannot be queried, or null when it can. */
export type RangeProblem = 'missing' | 'order' | 'tooLong';

/** The longest period the analytics API answers. */
export const MAX_RANGE_MS = 400 * DAY;

/** The period part of a state. */
export type PeriodState = Pick<MonitoringState, 'preset' | 'from' | 'to'>;

export function rangeProblem(s: PeriodState): RangeProblem | null {
  if (s.preset !== 'custom') return null;
  if (s.from === null || s.to === null) return 'missing';
  if (s.to <= s.from) return 'order';
  if (s.to - s.from > MAX_RANGE_MS) return 'tooLong';
  return null;
}

/** The period of a state at instant now, or null for an unusable custom period. */
export function resolveRange(s: PeriodState, now: number, timeZone: string): TimeRange | null {
  if (s.preset !== 'custom') return presetRange(s.preset, now, timeZone);
  if (rangeProblem(s) !== null || s.from === null || s.to === null) return null;
  return { from: s.from, to: s.to };
}

/** The dimension filters and the status as query parameters of the analytics API. */
export function filterQuery(s: Pick<MonitoringState, 'filters' | 'status'>, withStatus = true): Query {
  const q: Query = {};
  for (const dim of FILTER_DIMS) if (s.filters[dim].length > 0) q[dim] = s.filters[dim];
  if (withStatus && s.status !== 'all') q.failed = s.status === 'failed' ? 'true' : 'false';
  return q;
}

/**
 * The filter parameters of a state as a query string ("model=a&failed=true"):
 * stable for the same filters, so it serves as a query key, and turned back
 * into parameters by queryFromSearch.
 */
export function filterSearch(s: Pick<MonitoringState, 'filters' | 'status'>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filterQuery(s))) {
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else if (v !== undefined && v !== null) q.append(k, String(v));
  }
  return q.toString();
}

/** Query parameters from a query string; repeated names give arrays. */
export function queryFromSearch(search: string): Query {
  const params = new URLSearchParams(search);
  const out: Query = {};
  for (const k of new Set(params.keys())) {
    const all = params.getAll(k);
    out[k] = all.length === 1 ? (all[0] ?? '') : all;
  }
  return out;
}

export function activeFilterCount(s: Pick<MonitoringState, 'filters' | 'status'>): number {
  return FILTER_DIMS.reduce((n, d) => n + s.filters[d].length, 0) + (s.status === 'all' ? 0 : 1);
}

/** The state with dim filtered to value alone (a select, a click on a breakdown row); '' clears it. */
export function withFilter(s: MonitoringState, dim: FilterDim, value: string): MonitoringState {
  return { ...s, filters: { ...s.filters, [dim]: value === '' ? [] : [value] } };
}

/** The state without one value of dim (a chip's remove button). */
export function withoutFilter(s: MonitoringState, dim: FilterDim, value: string): MonitoringState {
  return { ...s, filters: { ...s.filters, [dim]: s.filters[dim].filter((v) => v !== value) } };
}

export function withoutAllFilters(s: MonitoringState): MonitoringState {
  return { ...s, filters: emptyFilters(), status: 'all' };
}

/**
 * The state with another preset, following its bucket again. Switching to
 * custom starts from the period shown so far (range), so the two inputs
 * never start empty.
 */
export function withPreset(s: MonitoringState, preset: Preset, range: TimeRange | null): MonitoringState {
  if (preset === s.preset) return s;
  // A bucket picked for one period rarely suits another: follow the new one.
  if (preset !== 'custom') return { ...s, preset, from: null, to: null, bucket: null };
  return { ...s, preset, from: range?.from ?? null, to: range?.to ?? null, bucket: null };
}
