import { useCallback, useMemo } from 'react';
import { navigate, parseHash, useLocation } from '../../app/router';
import { parseState, serializeState, type MonitoringState } from './state';

/**
 * The page's state, read from the hash query, and a function to change it.
 * Changes replace the history entry (like the shared setQuery), so Back
 * leaves the page instead of stepping through every filter.
 */
export function useMonitoringState(timeZone: string): [MonitoringState, (next: (s: MonitoringState) => MonitoringState) => void] {
  const loc = useLocation();
  const search = loc.query.toString();
  const state = useMemo(() => parseState(new URLSearchParams(search), timeZone), [search, timeZone]);
  const update = useCallback(
    (next: (s: MonitoringState) => MonitoringState) => {
      // Read the newest URL, not the state of the last render: two updates
      // in one event both apply.
      const current = parseHash(window.location.hash);
      const updated = next(parseState(current.query, timeZone));
      const query = serializeState(updated, timeZone);
      if (query.toString() === current.query.toString()) return;
      navigate(current.path, { query, replace: true });
    },
    [timeZone],
  );
  return [state, update];
}
