// Signing in and out, in both modes. The AuthProvider (auth.tsx) calls these;
// pages never do.
import { ApiClient, type Connection } from './client';
import { ApiError, isApiError } from './errors';
import type { ServiceInfo, SessionInfo } from './types';

/** Hosted mode: the current session, or null when signed out. */
export async function fetchSession(client: ApiClient): Promise<SessionInfo | null> {
  try {
    const s = await client.usage<SessionInfo>('/auth/session', { expectUnauthorized: true });
    return s.authenticated ? s : null;
  } catch (e) {
    if (isApiError(e) && e.isUnauthorized) return null;
    throw e;
  }
}

/** Hosted mode: sign in with the admin key; the server sets the session cookie. */
export function loginWithAdminKey(client: ApiClient, key: string): Promise<SessionInfo> {
  return client.usage<SessionInfo>('/auth/login', { method: 'POST', body: { key }, expectUnauthorized: true });
}

/** Hosted mode: end the session. */
export async function logoutSession(client: ApiClient): Promise<void> {
  await client.usage<undefined>('/auth/logout', { method: 'POST', expectUnauthorized: true });
}

/** Which step of the CPA panel mode sign-in failed. */
export type CpaLoginStep = 'usage-service' | 'usage-auth' | 'management';

export class CpaLoginError extends Error {
  override readonly name = 'CpaLoginError';
  readonly step: CpaLoginStep;
  override readonly cause: ApiError;
  constructor(step: CpaLoginStep, cause: ApiError) {
    super(cause.message);
    this.step = step;
    this.cause = cause;
  }
}

/** The public description of a usage service (no authentication). */
export function probeUsageService(usageUrl: string, signal?: AbortSignal): Promise<ServiceInfo> {
  const probe = new ApiClient({ mode: 'cpa', usageUrl, managementBase: '', managementKey: '' });
  return probe.usage<ServiceInfo>('/usage-service/info', { signal, headers: {}, expectUnauthorized: true, timeoutMs: 10_000 });
}

export interface CpaLoginResult {
  connection: Connection;
  session: SessionInfo;
  service: ServiceInfo;
}

/**
 * CPA panel mode: checks the usage service and the management key, in an
 * order that protects the user from CPA's IP ban: the key is first checked by
 * the usage service (which accepts the management key of the CPA it
 * collects from), and CPA sees it only once that succeeded.
 */
export async function loginWithManagementKey(usageUrl: string, managementKey: string, managementBase: string): Promise<CpaLoginResult> {
  const connection: Connection = { mode: 'cpa', usageUrl, managementBase, managementKey };
  const client = new ApiClient(connection);
  let service: ServiceInfo;
  try {
    service = await client.usage<ServiceInfo>('/usage-service/info', { expectUnauthorized: true, timeoutMs: 10_000 });
  } catch (e) {
    throw new CpaLoginError('usage-service', toApiError(e, 'usage'));
  }
  let session: SessionInfo;
  try {
    session = await client.usage<SessionInfo>('/auth/session', { expectUnauthorized: true });
  } catch (e) {
    throw new CpaLoginError('usage-auth', toApiError(e, 'usage'));
  }
  try {
    await client.management<unknown>('/usage-statistics-enabled', { expectUnauthorized: true });
  } catch (e) {
    throw new CpaLoginError('management', toApiError(e, 'management'));
  }
  return { connection, session, service };
}

function toApiError(e: unknown, source: 'usage' | 'management'): ApiError {
  if (isApiError(e)) return e;
  return new ApiError({ kind: 'network', source, message: e instanceof Error ? e.message : String(e) });
}
