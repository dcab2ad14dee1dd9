// Pure logic of the OAuth login page: the providers, the login flow state
// machine driven by CPA's answers, callback URL parsing and the countdown.

export type FlowKind = 'pkce' | 'device' | 'plugin';

export interface OAuthProvider {
  /** Used in the route /<id>-auth-url and as the card's test id. */
  id: string;
  /** Name shown on the card. */
  label: string;
  kind: FlowKind;
  /** The provider value POST /oauth-callback takes, when a redirect URL can be pasted. */
  callbackProvider: string | null;
}

/** CPA's built-in login flows (cpa-protocol §3.4). */
export const BUILTIN_PROVIDERS: readonly OAuthProvider[] = [
  { id: 'codex', label: 'Codex (OpenAI)', kind: 'pkce', callbackProvider: 'codex' },
  { id: 'anthropic', label: 'Claude (Anthropic)', kind: 'pkce', callbackProvider: 'anthropic' },
  { id: 'antigravity', label: 'Antigravity', kind: 'pkce', callbackProvider: 'antigravity' },
  { id: 'kimi', label: 'Kimi', kind: 'device', callbackProvider: null },
  { id: 'xai', label: 'xAI (Grok)', kind: 'device', callbackProvider: null },
];

/** How long CPA keeps a login session pollable. */
export const SESSION_TTL_MS = 30 * 60_000;
/** Poll interval of GET /get-auth-status. */
export const POLL_MS = 2000;

/** A plugin of GET /plugins (only the fields read here). */
export interface PluginInfo {
  id?: string;
  supports_oauth?: boolean;
  oauth_provider?: string;
  effective_enabled?: boolean;
  enabled?: boolean;
  metadata?: { name?: string } | null;
}

const ROUTE_SAFE = /^[a-z0-9][a-z0-9_-]*$/i;

/** Login flows that enabled plugins add; skips names of built-ins and unsafe route names. */
export function pluginProviders(body: unknown): OAuthProvider[] {
  if (body === null || typeof body !== 'object') return [];
  const plugins = (body as { plugins?: unknown }).plugins;
  if (!Array.isArray(plugins)) return [];
  const builtin = new Set(BUILTIN_PROVIDERS.map((p) => p.id));
  const out: OAuthProvider[] = [];
  for (const raw of plugins as (PluginInfo | null)[]) {
    if (raw === null || typeof raw !== 'object' || raw.supports_oauth !== true) continue;
    if (raw.effective_enabled === false || (raw.effective_enabled === undefined && raw.enabled === false)) continue;
    const id = (raw.oauth_provider ?? raw.id ?? '').trim();
    if (!ROUTE_SAFE.test(id) || builtin.has(id.toLowerCase()) || out.some((p) => p.id === id)) continue;
    const name = raw.metadata?.name?.trim() ?? '';
    out.push({ id, label: name === '' ? id : name, kind: 'plugin', callbackProvider: null });
  }
  return out;
}

/** GET /<provider>-auth-url answer. */
export interface AuthUrlResponse {
  status?: string;
  url?: string;
  state?: string;
  flow?: string;
  user_code?: string;
  expires_in?: number;
  error?: string;
}

export interface StatusResponse {
  status?: string;
  error?: string;
}

export type Flow =
  | { phase: 'idle' }
  | { phase: 'starting' }
  | {
      phase: 'waiting';
      state: string;
      url: string;
      device: boolean;
      userCode: string | null;
      startedAt: number;
      /** When CPA drops the session (or the device code expires). */
      expiresAt: number;
    }
  | { phase: 'ok'; state: string }
  | { phase: 'error'; message: string; state: string | null }
  | { phase: 'cancelled'; state: string }
  | { phase: 'expired'; state: string };

export type FlowEvent =
  | { type: 'start' }
  | { type: 'started'; response: AuthUrlResponse; now: number }
  | { type: 'startFailed'; message: string }
  | { type: 'status'; response: StatusResponse; now: number }
  | { type: 'tick'; now: number }
  | { type: 'callbackAccepted' }
  | { type: 'cancelled' }
  | { type: 'reset' };

export const IDLE: Flow = { phase: 'idle' };

/**
 * The flow's next state. Answers for another state than the current one,
 * or arriving after the flow ended, are ignored.
 */
export function flowReducer(flow: Flow, ev: FlowEvent): Flow {
  switch (ev.type) {
    case 'start':
      return flow.phase === 'waiting' || flow.phase === 'starting' ? flow : { phase: 'starting' };
    case 'started': {
      if (flow.phase !== 'starting') return flow;
      const r = ev.response;
      if (r.status === 'error' || !r.state || !r.url) {
        return { phase: 'error', message: r.error ?? 'CPA did not return a login URL', state: r.state ?? null };
      }
      const device = r.flow === 'device';
      const ttl = typeof r.expires_in === 'number' && r.expires_in > 0 ? Math.min(r.expires_in * 1000, SESSION_TTL_MS) : SESSION_TTL_MS;
      return {
        phase: 'waiting',
        state: r.state,
        url: r.url,
        device,
        userCode: device && r.user_code ? r.user_code : null,
        startedAt: ev.now,
        expiresAt: ev.now + ttl,
      };
    }
    case 'startFailed':
      return flow.phase === 'starting' ? { phase: 'error', message: ev.message, state: null } : flow;
    case 'status': {
      if (flow.phase !== 'waiting') return flow;
      const s = ev.response.status;
      if (s === 'ok') return { phase: 'ok', state: flow.state };
      if (s === 'error') {
        const message = ev.response.error ?? '';
        if (/unknown or expired state/i.test(message) && ev.now >= flow.expiresAt) return { phase: 'expired', state: flow.state };
        return { phase: 'error', message, state: flow.state };
      }
      return ev.now >= flow.expiresAt ? { phase: 'expired', state: flow.state } : flow;
    }
    case 'tick':
      return flow.phase === 'waiting' && ev.now >= flow.expiresAt ? { phase: 'expired', state: flow.state } : flow;
    case 'callbackAccepted':
      // The flow completes on the next poll; nothing changes until then.
      return flow;
    case 'cancelled':
      return flow.phase === 'waiting' ? { phase: 'cancelled', state: flow.state } : flow;
    case 'reset':
      return IDLE;
  }
}

/** Whether the flow needs polling. */
export function isPolling(flow: Flow): boolean {
  return flow.phase === 'waiting';
}

/** Seconds left until expiresAt (0 when past). */
export function secondsLeft(expiresAt: number, now: number): number {
  return Math.max(0, Math.ceil((expiresAt - now) / 1000));
}

/** m:ss, or h:mm:ss from an hour. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export type CallbackProblem = 'callbackEmpty' | 'callbackInvalid' | 'callbackNoCode' | 'callbackStateMismatch';

export interface ParsedCallback {
  code: string | null;
  state: string | null;
  error: string | null;
}

/**
 * Reads the redirect URL the provider sent the browser to (query or
 * fragment). A URL with neither code nor error is refused, and so is one
 * for another login than expectedState.
 */
export function parseCallbackUrl(
  text: string,
  expectedState: string | null,
): { ok: true; value: ParsedCallback } | { ok: false; problem: CallbackProblem } {
  const raw = text.trim();
  if (raw === '') return { ok: false, problem: 'callbackEmpty' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'callbackInvalid' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, problem: 'callbackInvalid' };
  const params = new URLSearchParams(url.search);
  const frag = new URLSearchParams(url.hash.replace(/^#/, ''));
  const get = (k: string): string | null => {
    const v = params.get(k);
    if (v !== null && v !== '') return v;
    const w = frag.get(k);
    return w !== null && w !== '' ? w : null;
  };
  const value = { code: get('code'), state: get('state'), error: get('error') };
  if (!value.code && !value.error) return { ok: false, problem: 'callbackNoCode' };
  if (expectedState && value.state && value.state !== expectedState) return { ok: false, problem: 'callbackStateMismatch' };
  return { ok: true, value };
}

/** The auth-url route of a provider. */
export function authUrlPath(providerId: string): string {
  return `/${providerId}-auth-url`;
}
