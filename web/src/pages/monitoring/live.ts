// The live table's state, as a pure reducer: events arrive from the live
// feed (/api/v1/live, Server-Sent Events) or from polling /api/v1/events,
// are merged newest first (by row id) into a table of at most LIVE_CAP rows,
// and are held back while the user has paused the table.
import type { LiveClose, LiveGap, UsageEvent } from './types';

/** The most rows the live table keeps. */
export const LIVE_CAP = 200;
/** The reconnection delay the live feed asks for ("retry: 3000"); EventSource does not expose it. */
export const SERVER_RETRY_MS = 3_000;
/** The longest wait between two reconnection attempts. */
export const MAX_BACKOFF_MS = 60_000;
/** How often CPA panel mode polls /api/v1/events instead of streaming. */
export const POLL_MS = 5_000;

/** What the status indicator shows (data-state of live-status). */
export type LiveIndicator = 'live' | 'reconnecting' | 'paused' | 'polling';
/** Where the connection stands, paused or not. */
export type Connection = 'connecting' | 'open' | 'reconnecting' | 'polling';

export interface LiveState {
  /** The table, newest first, at most LIVE_CAP rows. */
  rows: UsageEvent[];
  /** Events received while paused, newest first, at most LIVE_CAP. */
  held: UsageEvent[];
  /** New events received while paused (may exceed held.length). */
  newCount: number;
  paused: boolean;
  /** The highest event id received: the feed resumes after it. */
  lastId: number | null;
  /** The last gap frame, until the table is refilled. */
  gap: LiveGap | null;
}

export const initialLiveState: LiveState = { rows: [], held: [], newCount: 0, paused: false, lastId: null, gap: null };

export type LiveAction =
  /** Events from a frame, a poll or a refill, in any order. */
  | { type: 'events'; events: readonly UsageEvent[] }
  | { type: 'gap'; gap: LiveGap }
  | { type: 'clearGap' }
  | { type: 'pause' }
  | { type: 'resume' }
  /** Filters changed: start over. */
  | { type: 'reset' };

/**
 * Merges events into a newest-first list: one row per id, sorted by id
 * descending, at most cap rows.
 */
export function mergeEvents(list: readonly UsageEvent[], incoming: readonly UsageEvent[], cap: number = LIVE_CAP): UsageEvent[] {
  const byId = new Map<number, UsageEvent>();
  for (const e of list) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, cap);
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'events': {
      if (action.events.length === 0) return state;
      const lastId = action.events.reduce((m, e) => Math.max(m, e.id), state.lastId ?? -1);
      if (!state.paused) {
        return { ...state, rows: mergeEvents(state.rows, action.events), lastId };
      }
      // Paused: the table stands still; count what is new (newer than
      // anything received before) and keep it for the resume.
      const known = new Set<number>();
      for (const e of state.rows) known.add(e.id);
      for (const e of state.held) known.add(e.id);
      const unseen = action.events.filter((e) => !known.has(e.id));
      const fresh = unseen.filter((e) => state.lastId === null || e.id > state.lastId);
      const uniqueFresh = new Set(fresh.map((e) => e.id)).size;
      return { ...state, held: mergeEvents(state.held, unseen), newCount: state.newCount + uniqueFresh, lastId };
    }
    case 'gap':
      return { ...state, gap: action.gap };
    case 'clearGap':
      return state.gap === null ? state : { ...state, gap: null };
    case 'pause':
      return state.paused ? state : { ...state, paused: true };
    case 'resume':
      if (!state.paused) return state;
      return { ...state, paused: false, rows: mergeEvents(state.rows, state.held), held: [], newCount: 0 };
    case 'reset':
      return { ...initialLiveState, paused: state.paused };
  }
}

/** The status indicator for a connection state. */
export function indicator(connection: Connection, paused: boolean): LiveIndicator {
  if (paused) return 'paused';
  if (connection === 'open') return 'live';
  if (connection === 'polling') return 'polling';
  return 'reconnecting';
}

/**
 * The wait before reconnection attempt number failures (1 for the first
 * failure): the server's retry delay, doubling with every failure in a
 * row, up to MAX_BACKOFF_MS (before jitter); a Retry-After the server sent
 * wins when longer.
 * jitter (0..1) spreads clients that lost the same server apart by up to 20 %.
 */
export function backoffDelay(failures: number, retryAfterSeconds: number | null = null, jitter = 0): number {
  const n = Math.max(1, failures);
  const base = Math.min(MAX_BACKOFF_MS, SERVER_RETRY_MS * 2 ** Math.min(n - 1, 16));
  const withJitter = Math.round(base * (1 + 0.2 * Math.min(1, Math.max(0, jitter))));
  const server = retryAfterSeconds !== null && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
  return Math.max(withJitter, server);
}

/** The events of an "event: events" frame, or null when the data is not an array of events. */
export function parseEventsFrame(data: string): UsageEvent[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return null;
  }
  if (!Array.isArray(raw)) return null;
  const out: UsageEvent[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'number') {
      out.push(item as UsageEvent);
    }
  }
  return out;
}

/** The data of an "event: gap" frame, or null when malformed. */
export function parseGapFrame(data: string): LiveGap | null {
  try {
    const raw = JSON.parse(data) as unknown;
    if (typeof raw !== 'object' || raw === null) return null;
    const o = raw as Record<string, unknown>;
    if (typeof o.skippedAfter !== 'number' || typeof o.skippedTo !== 'number') return null;
    return { skippedAfter: o.skippedAfter, skippedTo: o.skippedTo, reason: typeof o.reason === 'string' ? o.reason : '' };
  } catch {
    return null;
  }
}

/** The data of an "event: close" frame (a reason is optional). */
export function parseCloseFrame(data: string): LiveClose {
  try {
    const raw = JSON.parse(data) as unknown;
    if (typeof raw === 'object' && raw !== null && typeof (raw as { reason?: unknown }).reason === 'string') {
      return { reason: (raw as { reason: string }).reason };
    }
  } catch {
    // An unreadable reason still closes the stream.
  }
  return { reason: '' };
}
