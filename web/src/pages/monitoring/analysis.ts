// Pure helpers of the page's tables and charts: sorting breakdown rows,
// counting failures by HTTP status, stacking chart series and choosing how
// the time axis reads.
import type { BreakdownRow } from '../../api/types';
import type { UsageEvent } from './types';

export const BREAKDOWN_SORT_KEYS = ['label', 'attempts', 'failureRate', 'tokens', 'cost', 'latencyP95'] as const;
export type BreakdownSortKey = (typeof BREAKDOWN_SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

export interface BreakdownSort {
  key: BreakdownSortKey;
  dir: SortDir;
}

export const DEFAULT_BREAKDOWN_SORT: BreakdownSort = { key: 'attempts', dir: 'desc' };

function sortValue(r: BreakdownRow, key: Exclude<BreakdownSortKey, 'label'>): number {
  switch (key) {
    case 'attempts':
      return r.attempts;
    case 'failureRate':
      return r.failureRate;
    case 'tokens':
      return r.tokens.total;
    case 'cost':
      return r.costUsd;
    case 'latencyP95':
      return r.latencyP95Ms;
  }
}

/** The label a row shows: its label, else its key. */
export function rowLabel(r: Pick<BreakdownRow, 'label' | 'key'>): string {
  return r.label !== '' ? r.label : r.key;
}

/**
 * Breakdown rows sorted by a column. The "other" row (the values beyond
 * top, summed) stays last whatever the order; ties keep the server's order.
 */
export function sortBreakdownRows(rows: readonly BreakdownRow[], sort: BreakdownSort): BreakdownRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const indexed = rows.map((r, i) => ({ r, i }));
  indexed.sort((a, b) => {
    if (a.r.other !== b.r.other) return a.r.other ? 1 : -1;
    let c: number;
    if (sort.key === 'label') c = rowLabel(a.r).localeCompare(rowLabel(b.r));
    else c = sortValue(a.r, sort.key) - sortValue(b.r, sort.key);
    return c !== 0 ? sign * c : a.i - b.i;
  });
  return indexed.map((x) => x.r);
}

/** The next sort after a click on column key: a new column starts descending (labels ascending), the same one flips. */
export function nextSort(current: BreakdownSort, key: BreakdownSortKey): BreakdownSort {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: key === 'label' ? 'asc' : 'desc' };
}

export interface StatusCount {
  /** HTTP status; 0 when the attempt got no answer. */
  status: number;
  count: number;
  /** count / all failures counted. */
  share: number;
}

/** Failures per HTTP status, most frequent first (then by status). */
export function countByStatus(failures: readonly Pick<UsageEvent, 'statusCode'>[]): StatusCount[] {
  const counts = new Map<number, number>();
  for (const f of failures) counts.set(f.statusCode, (counts.get(f.statusCode) ?? 0) + 1);
  const total = failures.length;
  return [...counts.entries()]
    .map(([status, count]) => ({ status, count, share: total > 0 ? count / total : 0 }))
    .sort((a, b) => b.count - a.count || a.status - b.status);
}

/**
 * Cumulative sums of series for a stacked chart: out[i][j] is the sum of
 * series 0..i at point j. Missing values count as 0.
 */
export function stack(series: readonly (readonly (number | null)[])[]): number[][] {
  const out: number[][] = [];
  let prev: number[] | null = null;
  for (const s of series) {
    const row: number[] = s.map((v, j) => (v ?? 0) + (prev?.[j] ?? 0));
    out.push(row);
    prev = row;
  }
  return out;
}

/** How the time axis labels its ticks for a chart spanning spanSeconds with buckets of bucketSeconds. */
export type AxisStyle = 'time' | 'dayTime' | 'day';

export function axisStyle(spanSeconds: number, bucketSeconds: number): AxisStyle {
  if (bucketSeconds >= 86_400) return 'day';
  if (spanSeconds <= 26 * 3600) return 'time';
  return 'dayTime';
}

/** Intl options for an axis style (the zone is added by the caller). */
export function axisFormatOptions(style: AxisStyle): Intl.DateTimeFormatOptions {
  switch (style) {
    case 'time':
      return { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    case 'dayTime':
      return { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    case 'day':
      return { month: 'short', day: 'numeric' };
  }
}

/** Truncates text to max characters (on a code point boundary), with an ellipsis. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  const chars = Array.from(text);
  if (chars.length <= max) return { text, truncated: false };
  return { text: chars.slice(0, Math.max(0, max - 1)).join('') + '…', truncated: true };
}
