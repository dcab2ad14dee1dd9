// Reads CPA's main.log with the /logs cursor: the tail first, then (while
// following) only the lines added since, every POLL_MS. Keeps at most
// MAX_LINES lines.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../../api/auth';
import { EMPTY_BUFFER, mergeLogs, nextLogsQuery, type LogBuffer, type LogsResponse } from './logic';

export const POLL_MS = 2500;

export interface LogStream {
  buffer: LogBuffer;
  error: unknown;
  loading: boolean;
  /** Fetches the next page now. */
  poll: () => Promise<void>;
  /** Forgets every line and reads the tail again. */
  restart: () => void;
}

export function useLogStream(follow: boolean): LogStream {
  const api = useApi();
  const [buffer, setBuffer] = useState<LogBuffer>(EMPTY_BUFFER);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const bufRef = useRef<LogBuffer>(EMPTY_BUFFER);
  const inFlight = useRef(false);
  const generation = useRef(0);

  const poll = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    const gen = generation.current;
    try {
      const res = await api.management<LogsResponse | undefined>('/logs', { query: nextLogsQuery(bufRef.current.cursor) });
      if (gen !== generation.current) return;
      const next = mergeLogs(bufRef.current, res ?? {});
      bufRef.current = next;
      setBuffer(next);
      setError(null);
    } catch (e) {
      if (gen === generation.current) setError(e);
    } finally {
      inFlight.current = false;
      if (gen === generation.current) setLoading(false);
    }
  }, [api]);

  const restart = useCallback(() => {
    generation.current++;
    inFlight.current = false;
    bufRef.current = EMPTY_BUFFER;
    setBuffer(EMPTY_BUFFER);
    setLoading(true);
    void poll();
  }, [poll]);

  // The first read.
  useEffect(() => {
    void poll();
  }, [poll]);

  // Following: poll while the tab is visible.
  useEffect(() => {
    if (!follow) return;
    const id = setInterval(() => {
      if (document.visibilityState !== 'hidden') void poll();
    }, POLL_MS);
    return () => clearInterval(id);
  }, [follow, poll]);

  return { buffer, error, loading, poll, restart };
}
