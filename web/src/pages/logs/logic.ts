// Pure logic of the Logs page: the level of a main.log line, the panel's own
// management-API noise, merging the pages of CPA's /logs cursor into a capped
// buffer, the next /logs query, filtering, and request ids.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** At most this many lines stay in memory; the oldest are dropped. */
export const MAX_LINES = 5000;
/** Lines read on the first request (tail). */
export const INITIAL_LINES = 500;

export interface LogLine {
  /** Stable key for rendering; grows with every line received. */
  id: number;
  text: string;
  level: LogLevel;
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const LEVEL_WORDS: Record<string, LogLevel> = {
  debug: 'debug',
  dbug: 'debug',
  trace: 'debug',
  info: 'info',
  information: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  fatal: 'error',
  panic: 'error',
};

/**
 * The level of a main.log line. CPA writes "[2026-01-02 03:04:05] [info ] …";
 * "level=warn" (logfmt) and a bare upper-case word ("ERROR") are understood
 * too. Lines without a level count as info.
 */
export function parseLevel(line: string): LogLevel {
  const bracket = /\[\s*(debug|dbug|trace|info|information|warn|warning|error|err|fatal|panic)\s*\]/i.exec(line);
  if (bracket?.[1]) return LEVEL_WORDS[bracket[1].toLowerCase()] ?? 'info';
  const kv = /\blevel=["']?(debug|trace|info|warn|warning|error|fatal|panic)\b/i.exec(line);
  if (kv?.[1]) return LEVEL_WORDS[kv[1].toLowerCase()] ?? 'info';
  const upper = /\b(DEBUG|INFO|WARN|WARNING|ERROR|FATAL|PANIC)\b/.exec(line);
  if (upper?.[1]) return LEVEL_WORDS[upper[1].toLowerCase()] ?? 'info';
  return 'info';
}

/** A line about a request to CPA's management API (mostly the panel's own polling). */
export function isManagementNoise(line: string): boolean {
  return /\/v0\/management(?:[/?"'\s]|$)/.test(line);
}

/** One answer of GET /logs. */
export interface LogsResponse {
  lines?: string[] | null;
  'line-count'?: number;
  'latest-timestamp'?: number;
  'next-cursor'?: string;
  'cursor-reset'?: boolean;
}

/** Where the reader stands in main.log. */
export interface LogCursor {
  /** CPA's opaque cursor (v7.2.6+). */
  cursor: string | null;
  /** The newest line's unix time seen so far (older CPA: after=). */
  latest: number;
}

export const START_CURSOR: LogCursor = { cursor: null, latest: 0 };

/**
 * The query of the next GET /logs: the cursor when CPA gave one; else lines
 * newer than the latest timestamp seen (older CPA); else the tail.
 */
export function nextLogsQuery(c: LogCursor): Record<string, string | number> {
  if (c.cursor) return { cursor: c.cursor };
  if (c.latest > 0) return { after: c.latest };
  return { limit: INITIAL_LINES };
}

export interface LogBuffer {
  lines: LogLine[];
  cursor: LogCursor;
  nextId: number;
  /** Lines dropped because of the cap (or a reset) since the view started. */
  dropped: number;
}

export const EMPTY_BUFFER: LogBuffer = { lines: [], cursor: START_CURSOR, nextId: 0, dropped: 0 };

/**
 * Adds one /logs answer to the buffer. A cursor reset (main.log rotated or was
 * cleared) replaces the view; a first read (no cursor yet) also replaces it.
 * Keeps at most max lines, dropping the oldest.
 */
export function mergeLogs(buf: LogBuffer, res: LogsResponse, max = MAX_LINES): LogBuffer {
  const incoming = res.lines ?? [];
  const replace = res['cursor-reset'] === true || (buf.cursor.cursor === null && buf.cursor.latest === 0);
  let nextId = buf.nextId;
  const added: LogLine[] = incoming.map((text) => ({ id: nextId++, text, level: parseLevel(text) }));
  const base = replace ? [] : buf.lines;
  let dropped = buf.dropped + (replace ? buf.lines.length : 0);
  let lines = base.concat(added);
  if (lines.length > max) {
    dropped += lines.length - max;
    lines = lines.slice(lines.length - max);
  }
  const latest = Math.max(res['latest-timestamp'] ?? 0, replace ? 0 : buf.cursor.latest);
  const nc = res['next-cursor'];
  const cursor: LogCursor = { cursor: nc !== undefined && nc !== '' ? nc : null, latest };
  return { lines, cursor, nextId, dropped };
}

export interface LogFilter {
  text: string;
  /** The lowest level shown; '' for all. */
  level: LogLevel | '';
  hideManagement: boolean;
}

/** The lines that pass the filter, in order. */
export function filterLines(lines: readonly LogLine[], f: LogFilter): LogLine[] {
  const needle = f.text.trim().toLowerCase();
  const min = f.level === '' ? -1 : SEVERITY[f.level];
  return lines.filter(
    (l) =>
      SEVERITY[l.level] >= min &&
      (!f.hideManagement || !isManagementNoise(l.text)) &&
      (needle === '' || l.text.toLowerCase().includes(needle)),
  );
}

/** A usage record's request_id: 8 hex digits (normalised to lower case), or null. */
export function normalizeRequestId(value: string): string | null {
  const v = value.trim().toLowerCase();
  return /^[0-9a-f]{8}$/.test(v) ? v : null;
}

/** The file name a Content-Disposition header gives, or fallback. */
export function fileNameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      // fall through
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1]?.trim() ?? fallback;
}
