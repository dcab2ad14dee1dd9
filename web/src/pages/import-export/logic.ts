// The import/export page's pure logic: the export query for a preset or
// custom dates, the request headers of an import file, and the summary of
// an import answer. No React, no network: unit-tested in logic.test.ts.
import type { Query } from '../../api/client';
import { addDays, type CalendarDate } from '../../lib/time';

export const EXPORT_PATH = '/v0/management/usage/export';
export const IMPORT_PATH = '/v0/management/usage/import';

export const EXPORT_PRESETS = ['today', '7d', '30d', 'all'] as const;
export type ExportPreset = (typeof EXPORT_PRESETS)[number];

export type ExportSelection = { kind: 'preset'; preset: ExportPreset } | { kind: 'custom'; from: string; to: string };

export type ExportQueryResult = { ok: true; query: Query; fileName: string } | { ok: false; error: 'invalidDate' | 'order' };

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** YYYY-MM-DD. */
export function isoDate(d: CalendarDate): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/** A valid YYYY-MM-DD date, or null. */
export function readDate(s: string): CalendarDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const same = addDays(d, 0);
  return same.year === d.year && same.month === d.month && same.day === d.day ? d : null;
}

/** The upstream name pattern of the import and export routes. */
export const UPSTREAM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * The query of GET usage/export. Days are calendar days of timeZone, sent
 * as bare dates with tz (the server reads them as local midnights): a
 * preset starts at a midnight and has no end (everything up to the moment
 * of the download), a custom range includes its last day. "all" sends
 * neither. upstream narrows to one CPA.
 */
export function buildExportQuery(sel: ExportSelection, today: CalendarDate, timeZone: string, upstream = ''): ExportQueryResult {
  const query: Query = {};
  let label: string;
  if (sel.kind === 'preset') {
    const back = { today: 0, '7d': -6, '30d': -29, all: null }[sel.preset];
    if (back !== null) {
      query.from = isoDate(addDays(today, back));
      query.tz = timeZone;
    }
    label = back === null ? 'all' : `${query.from as string}-${isoDate(today)}`;
  } else {
    const from = sel.from.trim() === '' ? null : readDate(sel.from);
    const to = sel.to.trim() === '' ? null : readDate(sel.to);
    if ((sel.from.trim() !== '' && !from) || (sel.to.trim() !== '' && !to)) return { ok: false, error: 'invalidDate' };
    if (from && to && isoDate(from) > isoDate(to)) return { ok: false, error: 'order' };
    if (from) query.from = isoDate(from);
    // The last day is included: the end is the next midnight.
    if (to) query.to = isoDate(addDays(to, 1));
    if (from || to) query.tz = timeZone;
    label = `${from ? isoDate(from) : 'start'}-${to ? isoDate(to) : 'now'}`;
  }
  const up = upstream.trim();
  if (up !== '') query.upstream = up;
  return { ok: true, query, fileName: `usage-events-${up !== '' ? up + '-' : ''}${label}.jsonl` };
}

export interface ImportRequest {
  contentType: string;
  /** gzip for a .gz file (sent as it is). */
  contentEncoding: 'gzip' | null;
}

/** The accept attribute of the file input. */
export const IMPORT_ACCEPT = '.jsonl,.ndjson,.json,.gz,application/json,application/x-ndjson,application/gzip';

/**
 * The Content-Type (and Content-Encoding) of an import file, by its name:
 * .json → application/json, .jsonl/.ndjson (and anything else) →
 * application/x-ndjson; .gz is sent compressed with Content-Encoding:
 * gzip, typed by the name inside (data.json.gz → application/json).
 */
export function importRequestFor(fileName: string): ImportRequest {
  let name = fileName.trim().toLowerCase();
  let contentEncoding: 'gzip' | null = null;
  if (name.endsWith('.gz')) {
    contentEncoding = 'gzip';
    name = name.slice(0, -3);
  }
  const contentType = name.endsWith('.json') ? 'application/json' : 'application/x-ndjson';
  return { contentType, contentEncoding };
}

/** Whether the file's name has one of the accepted extensions. */
export function isImportFileName(fileName: string): boolean {
  return /\.(jsonl|ndjson|json)(\.gz)?$|\.gz$/i.test(fileName.trim());
}

export interface ImportIssue {
  line?: number;
  index?: number;
  error: string;
}

export interface ImportCounts {
  format: string;
  added: number;
  skipped: number;
  failed: number;
  total: number;
}

export interface ImportSummary {
  /** ok: 2xx; partial: refused or stopped, but counts came back; failed: no counts. */
  outcome: 'ok' | 'partial' | 'failed';
  status: number;
  counts: ImportCounts | null;
  /** The first issues (at most maxIssues), with where they are. */
  issues: { where: { kind: 'line' | 'index'; n: number } | null; error: string }[];
  /** Issues beyond those listed (the server lists the first 50). */
  moreIssues: number;
  warnings: string[];
  /** The server's message (errors); "" when none. */
  message: string;
  code: string;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * What an import answer says, whatever its status: a 2xx ImportResult, or an
 * error that may carry the counts of what was stored before it stopped
 * (ImportFailure), or no body at all (a proxy's 413).
 */
export function summarizeImport(status: number, body: unknown, maxIssues = 10): ImportSummary {
  const o = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const added = num(o.added);
  const skipped = num(o.skipped);
  const failed = num(o.failed);
  let counts: ImportCounts | null = null;
  if (added !== null || skipped !== null || failed !== null) {
    const a = added ?? 0;
    const s = skipped ?? 0;
    const f = failed ?? 0;
    counts = { format: typeof o.format === 'string' ? o.format : '', added: a, skipped: s, failed: f, total: num(o.total) ?? a + s + f };
  }
  const rawIssues = Array.isArray(o.errors) ? o.errors : [];
  const issues: ImportSummary['issues'] = [];
  for (const it of rawIssues) {
    if (issues.length >= maxIssues) break;
    if (typeof it !== 'object' || it === null) continue;
    const i = it as Record<string, unknown>;
    const line = num(i.line);
    const index = num(i.index);
    const where =
      line !== null && line > 0 ? { kind: 'line' as const, n: line } : index !== null ? { kind: 'index' as const, n: index } : null;
    issues.push({ where, error: typeof i.error === 'string' ? i.error : '' });
  }
  const listedFailures = rawIssues.length;
  const moreIssues = Math.max(0, (counts?.failed ?? listedFailures) - issues.length);
  const warnings = Array.isArray(o.warnings) ? o.warnings.filter((w): w is string => typeof w === 'string') : [];
  const ok = status >= 200 && status < 300;
  return {
    outcome: ok ? 'ok' : counts && counts.total > 0 ? 'partial' : 'failed',
    status,
    counts,
    issues,
    moreIssues,
    warnings,
    message: typeof o.error === 'string' ? o.error : '',
    code: typeof o.code === 'string' ? o.code : '',
  };
}

/** The share of an upload sent, 0..1. */
export function uploadShare(sent: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(1, Math.max(0, sent / total));
}
