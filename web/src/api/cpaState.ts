// What the panel knows about the CPA behind the management API: its version
// (the X-CPA-VERSION header of management answers) and whether the last
// management call reached it. Updated by the API client, read by the header
// and the dashboard.
import { useSyncExternalStore } from 'react';

export type CpaConnection = 'unknown' | 'connected' | 'unreachable';

export interface CpaState {
  connection: CpaConnection;
  version: string | null;
  buildDate: string | null;
  /** Why the last call did not reach CPA. */
  error: string | null;
  updatedAt: number;
}

const initial: CpaState = { connection: 'unknown', version: null, buildDate: null, error: null, updatedAt: 0 };

let state: CpaState = initial;
const listeners = new Set<() => void>();

function set(next: CpaState): void {
  state = next;
  for (const l of listeners) l();
}

export const cpaState = {
  get: (): CpaState => state,
  subscribe: (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** A management answer came from CPA (it carries CPA's headers). */
  reached: (version: string | null, buildDate: string | null): void => {
    if (state.connection === 'connected' && state.version === (version ?? state.version) && state.error === null) return;
    set({
      connection: 'connected',
      version: version ?? state.version,
      buildDate: buildDate ?? state.buildDate,
      error: null,
      updatedAt: Date.now(),
    });
  },
  /** A management call failed before or instead of reaching CPA. */
  unreachable: (error: string): void => {
    set({ ...state, connection: 'unreachable', error, updatedAt: Date.now() });
  },
  reset: (): void => {
    set(initial);
  },
};

export function useCpaState(): CpaState {
  return useSyncExternalStore(cpaState.subscribe, cpaState.get, cpaState.get);
}
