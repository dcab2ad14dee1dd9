// The live table's feed. Hosted by caddy-cpam, the page reads the
// Server-Sent Events stream /api/v1/live (the session cookie signs it in). In
// CPA panel mode the usage service wants an Authorization header, which
// EventSource cannot send, so the page polls /api/v1/events every POLL_MS
// instead. Either way the table starts with the newest stored events.
//
// Reconnection is ours, not EventSource's: after any error the stream is
// closed and opened again after a backoff (the server's retry delay,
// doubling up to a minute), resuming with after=<last id>. "event: close"
// (the server stops or reloads) reconnects after the retry delay; "event: gap"
// (more than 500 missed events) refills the table from /api/v1/events.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useApi } from '../../api/auth';
import type { Query } from '../../api/client';
import { isApiError } from '../../api/errors';
import {
  backoffDelay,
  indicator,
  initialLiveState,
  LIVE_CAP,
  liveReducer,
  parseCloseFrame,
  parseEventsFrame,
  parseGapFrame,
  POLL_MS,
  SERVER_RETRY_MS,
  type Connection,
  type LiveIndicator,
  type LiveState,
} from './live';
import { queryFromSearch } from './state';
import type { EventsResponse, UsageEvent } from './types';

/** Events shown when the table starts (the stream itself only sends what comes next). */
const INITIAL_EVENTS = 50;

export interface LiveFeed {
  state: LiveState;
  mode: 'stream' | 'poll';
  connection: Connection;
  indicator: LiveIndicator;
  /** Why the last attempt failed (an ApiError with the server's message), or null. */
  error: unknown;
  /** The reason of the server's last "event: close". */
  closeReason: string | null;
  /** The next reconnection attempt, while waiting for one: when (epoch ms) and after how long a wait. */
  retry: { at: number; delayMs: number } | null;
  pause: () => void;
  resume: () => void;
  /** Reconnects (or polls) at once instead of waiting. */
  retryNow: () => void;
  dismissGap: () => void;
}

/**
 * filters: the filter parameters as a query string (filterSearch). The feed
 * restarts when they change, but its table does not empty itself: give the
 * component that calls this hook a key that changes with the filters.
 */
export function useLiveFeed(filters: string, timeZone: string): LiveFeed {
  const api = useApi();
  const mode = api.connection.mode === 'hosted' ? 'stream' : 'poll';
  const [state, dispatch] = useReducer(liveReducer, initialLiveState);
  const [connection, setConnection] = useState<Connection>(mode === 'poll' ? 'polling' : 'connecting');
  const [error, setError] = useState<unknown>(null);
  const [closeReason, setCloseReason] = useState<string | null>(null);
  const [retry, setRetry] = useState<{ at: number; delayMs: number } | null>(null);
  const retryRef = useRef<() => void>(() => undefined);

  useEffect(() => {
    const query: Query = { ...queryFromSearch(filters), tz: timeZone };
    // Read through a function: the type checker would otherwise narrow the
    // flag after the first check and miss the change made by the cleanup.
    const life = { disposed: false };
    const gone = () => life.disposed;
    let source: EventSource | null = null;
    let timer: number | undefined;
    let failures = 0;
    let lastId: number | null = null;
    const aborts = new Set<AbortController>();

    const receive = (events: readonly UsageEvent[]) => {
      for (const e of events) lastId = Math.max(lastId ?? -1, e.id);
      dispatch({ type: 'events', events });
    };

    const fetchEvents = async (limit: number): Promise<UsageEvent[]> => {
      const ac = new AbortController();
      aborts.add(ac);
      try {
        const r = await api.usage<EventsResponse>('/api/v1/events', { query: { ...query, limit }, signal: ac.signal });
        return r.events;
      } finally {
        aborts.delete(ac);
      }
    };

    const clearTimer = () => {
      if (timer !== undefined) window.clearTimeout(timer);
      timer = undefined;
    };

    if (mode === 'poll') {
      const poll = async () => {
        clearTimer();
        if (gone()) return;
        if (!document.hidden) {
          try {
            const events = await fetchEvents(LIVE_CAP);
            if (gone()) return;
            receive(events);
            setError(null);
          } catch (e) {
            if (gone()) return;
            setError(e);
          }
        }
        if (!gone()) {
          // A "retry now" during a poll started a second one: keep one timer.
          clearTimer();
          timer = window.setTimeout(() => void poll(), POLL_MS);
        }
      };
      retryRef.current = () => void poll();
      void poll();
      return () => {
        life.disposed = true;
        clearTimer();
        for (const ac of aborts) ac.abort();
      };
    }

    // Stream mode.
    const schedule = (ms: number) => {
      clearTimer();
      if (gone()) return;
      setConnection('reconnecting');
      setRetry({ at: Date.now() + ms, delayMs: ms });
      timer = window.setTimeout(connect, ms);
    };

    // EventSource does not tell why it failed: ask the route once with
    // fetch, which gives the status and the server's message (and signs
    // the user out on 401). Returns the Retry-After of a refusal.
    const diagnose = async (): Promise<number | null> => {
      const ac = new AbortController();
      aborts.add(ac);
      try {
        const res = await api.usageResponse('/api/v1/live', {
          query: { ...query, ...(lastId !== null ? { after: lastId } : {}) },
          signal: ac.signal,
          timeoutMs: 10_000,
        });
        // It answers now: drop the probe's stream, the reconnection will follow.
        void res.body?.cancel().catch(() => undefined);
        return null;
      } catch (e) {
        if (!gone()) setError(e);
        return isApiError(e) ? e.retryAfterSeconds : null;
      } finally {
        aborts.delete(ac);
      }
    };

    function connect() {
      clearTimer();
      if (gone()) return;
      source?.close();
      setRetry(null);
      setConnection(failures === 0 && lastId === null ? 'connecting' : 'reconnecting');
      const url = api.usageUrl('/api/v1/live', { ...query, ...(lastId !== null ? { after: lastId } : {}) });
      const es = new EventSource(url, { withCredentials: true });
      source = es;
      let opened = false;
      es.onopen = () => {
        if (source !== es) return;
        opened = true;
        failures = 0;
        setConnection('open');
        setError(null);
      };
      es.addEventListener('events', (ev: MessageEvent<string>) => {
        if (source !== es) return;
        const events = parseEventsFrame(ev.data);
        if (events) receive(events);
      });
      es.addEventListener('gap', (ev: MessageEvent<string>) => {
        if (source !== es) return;
        const gap = parseGapFrame(ev.data);
        if (!gap) return;
        dispatch({ type: 'gap', gap });
        // The skipped events are stored: refill the table with the newest of them.
        fetchEvents(LIVE_CAP).then(
          (events) => {
            if (!gone()) receive(events);
          },
          (e: unknown) => {
            if (!gone()) setError(e);
          },
        );
      });
      es.addEventListener('close', (ev: MessageEvent<string>) => {
        if (source !== es) return;
        setCloseReason(parseCloseFrame(ev.data).reason);
        es.close();
        source = null;
        schedule(SERVER_RETRY_MS);
      });
      es.onerror = () => {
        if (source !== es) return;
        es.close();
        source = null;
        failures++;
        if (opened) {
          schedule(backoffDelay(failures, null, Math.random()));
          return;
        }
        setConnection('reconnecting');
        void diagnose().then((retryAfter) => {
          // Unless "retry now" connected again in the meantime.
          if (source === null) schedule(backoffDelay(failures, retryAfter, Math.random()));
        });
      };
    }

    retryRef.current = connect;

    // Start with the newest stored events, then stream what follows them.
    fetchEvents(INITIAL_EVENTS).then(
      (events) => {
        if (gone()) return;
        receive(events);
        connect();
      },
      (e: unknown) => {
        if (gone()) return;
        setError(e);
        connect();
      },
    );

    return () => {
      life.disposed = true;
      clearTimer();
      source?.close();
      source = null;
      for (const ac of aborts) ac.abort();
    };
  }, [api, mode, filters, timeZone]);

  const pause = useCallback(() => dispatch({ type: 'pause' }), []);
  const resume = useCallback(() => dispatch({ type: 'resume' }), []);
  const retryNow = useCallback(() => retryRef.current(), []);
  const dismissGap = useCallback(() => dispatch({ type: 'clearGap' }), []);

  return {
    state,
    mode,
    connection,
    indicator: indicator(connection, state.paused),
    error,
    closeReason,
    retry,
    pause,
    resume,
    retryNow,
    dismissGap,
  };
}
