// The panel's connection and sign-in state, in one place. It picks the mode
// (hosted by caddy-cpam, or CPA panel mode), owns the ApiClient, and sends
// the user back to the login page when credentials are refused. Pages use
// useApi() and never see the mode.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiClient, type Connection } from './client';
import { detectPanelConfig, type PanelConfig } from './config';
import { cpaState } from './cpaState';
import { isApiError, type ApiError } from './errors';
import { fetchSession, loginWithAdminKey, loginWithManagementKey, logoutSession } from './session';
import type { SessionInfo } from './types';
import { readStored, STORAGE_KEYS, writeStored } from '../lib/storage';

export type SignedOutReason = 'expired' | 'logout' | null;

export type AuthState =
  | { status: 'checking' }
  | { status: 'signed-out'; reason: SignedOutReason; startupError: ApiError | null }
  | { status: 'signed-in'; client: ApiClient; session: SessionInfo | null };

export interface AuthContextValue {
  config: PanelConfig;
  state: AuthState;
  /** Hosted mode: sign in with the admin key. Throws ApiError. */
  loginHosted(key: string): Promise<void>;
  /** CPA panel mode: sign in with the CPA management key and the usage-service URL. Throws CpaLoginError. */
  loginCpa(usageUrl: string, managementKey: string): Promise<void>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children, config: given }: { children: ReactNode; config?: PanelConfig }) {
  const queryClient = useQueryClient();
  const [config] = useState<PanelConfig>(() => given ?? detectPanelConfig(document));
  const [state, setState] = useState<AuthState>({ status: 'checking' });
  // The newest client; a refused credential of an older one is ignored.
  const current = useRef<ApiClient | null>(null);

  const signOut = useCallback(
    (reason: SignedOutReason, client: ApiClient | null) => {
      if (client !== null && current.current !== client) return;
      current.current = null;
      if (config.mode === 'cpa') writeStored('session', STORAGE_KEYS.managementKey, null);
      queryClient.clear();
      cpaState.reset();
      setState({ status: 'signed-out', reason, startupError: null });
    },
    [config.mode, queryClient],
  );

  const makeClient = useCallback(
    (connection: Connection): ApiClient => {
      const client: ApiClient = new ApiClient(connection, {
        onUnauthorized: () => signOut('expired', client),
      });
      return client;
    },
    [signOut],
  );

  const signIn = useCallback(
    (client: ApiClient, session: SessionInfo | null) => {
      // Nothing cached under an earlier identity survives a sign-in.
      queryClient.clear();
      cpaState.reset();
      current.current = client;
      setState({ status: 'signed-in', client, session });
    },
    [queryClient],
  );

  // Start: is there a session (hosted) or a remembered key (CPA panel mode)?
  useEffect(() => {
    let cancelled = false;
    const start = async () => {
      if (config.mode === 'hosted') {
        const client = makeClient({ mode: 'hosted', apiBase: config.apiBase, managementBase: config.managementBase });
        try {
          const session = await fetchSession(client);
          if (cancelled) return;
          if (session) signIn(client, session);
          else setState({ status: 'signed-out', reason: null, startupError: null });
        } catch (e) {
          if (cancelled) return;
          setState({ status: 'signed-out', reason: null, startupError: isApiError(e) ? e : null });
        }
        return;
      }
      const key = readStored('session', STORAGE_KEYS.managementKey);
      const usageUrl = readStored('local', STORAGE_KEYS.usageUrl);
      if (!key || !usageUrl) {
        setState({ status: 'signed-out', reason: null, startupError: null });
        return;
      }
      const client = makeClient({ mode: 'cpa', usageUrl, managementBase: config.managementBase, managementKey: key });
      try {
        const session = await client.usage<SessionInfo>('/auth/session', { expectUnauthorized: true });
        if (!cancelled) signIn(client, session);
      } catch (e) {
        if (cancelled) return;
        if (isApiError(e) && e.isUnauthorized) writeStored('session', STORAGE_KEYS.managementKey, null);
        setState({ status: 'signed-out', reason: null, startupError: isApiError(e) && !e.isUnauthorized ? e : null });
      }
    };
    void start();
    return () => {
      cancelled = true;
    };
  }, [config, makeClient, signIn]);

  const loginHosted = useCallback(
    async (key: string) => {
      if (config.mode !== 'hosted') throw new Error('not hosted by caddy-cpam');
      const client = makeClient({ mode: 'hosted', apiBase: config.apiBase, managementBase: config.managementBase });
      const session = await loginWithAdminKey(client, key);
      signIn(client, session);
    },
    [config, makeClient, signIn],
  );

  const loginCpa = useCallback(
    async (usageUrl: string, managementKey: string) => {
      if (config.mode !== 'cpa') throw new Error('not in CPA panel mode');
      const result = await loginWithManagementKey(usageUrl, managementKey, config.managementBase);
      writeStored('local', STORAGE_KEYS.usageUrl, usageUrl);
      writeStored('session', STORAGE_KEYS.managementKey, managementKey);
      signIn(makeClient(result.connection), result.session);
    },
    [config, makeClient, signIn],
  );

  const logout = useCallback(async () => {
    const client = current.current;
    if (client && config.mode === 'hosted') {
      try {
        await logoutSession(client);
      } catch (e) {
        // Signed out locally either way; a failed server call only leaves a
        // session that expires on its own.
        console.warn('logout', e);
      }
    }
    signOut('logout', null);
  }, [config.mode, signOut]);

  const value = useMemo<AuthContextValue>(
    () => ({ config, state, loginHosted, loginCpa, logout }),
    [config, state, loginHosted, loginCpa, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}

/** The API client of the signed-in user. Only valid inside the signed-in app. */
export function useApi(): ApiClient {
  const { state } = useAuth();
  if (state.status !== 'signed-in') throw new Error('useApi while not signed in');
  return state.client;
}
