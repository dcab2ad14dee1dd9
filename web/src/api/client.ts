// The typed HTTP client. Pages never build URLs or headers themselves: they
// call api.usage(...) for caddy-cpam's usage service and api.management(...)
// for CPA's management API, and this file applies the mode (hosted by
// caddy-cpam, or CPA panel mode), authentication, CSRF header, timeouts and
// error decoding.
import { cpaState } from './cpaState';
import { ApiError, messageFromBody, parseRetryAfter, type ApiSource } from './errors';

/** The header caddy-cpam requires on cookie-authenticated state-changing requests. */
export const CSRF_HEADER = 'X-CPAM-Request';
/** Selects one CPA upstream of the management proxy (several CPAs behind one site). */
export const UPSTREAM_HEADER = 'X-CPAM-Upstream';
const DEFAULT_TIMEOUT_MS = 30_000;

export type Connection =
  /** Served by caddy-cpam: same origin, session cookie. */
  | { mode: 'hosted'; apiBase: string; managementBase: string }
  /** Served by CPA: management on the page's origin, usage at usageUrl, both with the CPA key as bearer. */
  | { mode: 'cpa'; usageUrl: string; managementBase: string; managementKey: string };

export type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];
export type Query = Record<string, QueryValue>;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  method?: HttpMethod;
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (an upload); give contentType unless it is FormData. */
  rawBody?: BodyInit;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * A 401 is an expected answer of this call (login, session probe): it is
   * thrown to the caller and does not sign the user out.
   */
  expectUnauthorized?: boolean;
}

export interface ClientHooks {
  /** Credentials were refused: the user must sign in again. */
  onUnauthorized?: (source: ApiSource) => void;
}

/** Builds base + path + query; array values repeat the parameter. */
export function buildUrl(base: string, path: string, query?: Query): string {
  const p = path.startsWith('/') ? path : '/' + path;
  const params = new URLSearchParams();
  if (query) {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') continue;
      if (Array.isArray(value)) {
        for (const v of value) params.append(key, String(v));
      } else {
        params.append(key, String(value));
      }
    }
  }
  const qs = params.toString();
  return base + p + (qs ? '?' + qs : '');
}

function isStateChanging(method: HttpMethod): boolean {
  return method !== 'GET';
}

export class ApiClient {
  readonly connection: Connection;
  private readonly hooks: ClientHooks;
  /**
   * CPA panel mode: set after CPA refused the key once. Further management
   * calls fail here instead of reaching CPA, because five refused keys ban
   * the browser's address for 30 minutes.
   */
  private managementHalted = false;

  constructor(connection: Connection, hooks: ClientHooks = {}) {
    this.connection = connection;
    this.hooks = hooks;
  }

  /** The usage service's base URL ("/cpam" or "https://cpam.example.com/cpam"). */
  get usageBase(): string {
    return this.connection.mode === 'hosted' ? this.connection.apiBase : this.connection.usageUrl;
  }

  get managementBase(): string {
    return this.connection.managementBase;
  }

  /** A call to caddy-cpam's usage service; resolves to the decoded JSON (undefined for 204). */
  usage<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('usage', path, options);
  }

  /** A call to CPA's management API; resolves to the decoded JSON (or text for non-JSON answers). */
  management<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('management', path, options);
  }

  /** The raw Response of a usage call (downloads, streams); errors are still thrown as ApiError. */
  usageResponse(path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send('usage', path, options);
  }

  /** The raw Response of a management call. */
  managementResponse(path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send('management', path, options);
  }

  /** The URL a usage call would go to (for links, EventSource). */
  usageUrl(path: string, query?: Query): string {
    return buildUrl(this.usageBase, path, query);
  }

  private async request<T>(source: ApiSource, path: string, options: RequestOptions): Promise<T> {
    const res = await this.send(source, path, options);
    if (res.status === 204 || res.status === 205) return undefined as T;
    const text = await res.text();
    if (text === '') return undefined as T;
    const type = res.headers.get('Content-Type') ?? '';
    if (type.includes('json') || /^[[{]/.test(text.trimStart())) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError({
          kind: 'http',
          source,
          status: res.status,
          code: 'bad_json',
          message: 'the server sent malformed JSON',
          url: res.url,
        });
      }
    }
    return text as T;
  }

  private headersFor(source: ApiSource, method: HttpMethod, options: RequestOptions): Headers {
    const h = new Headers(options.headers);
    h.set('Accept', 'application/json');
    const conn = this.connection;
    if (conn.mode === 'cpa' && conn.managementKey !== '') {
      h.set('Authorization', `Bearer ${conn.managementKey}`);
    }
    if (isStateChanging(method) && (source === 'usage' || conn.mode === 'hosted')) {
      h.set(CSRF_HEADER, '1');
    }
    if (options.body !== undefined) {
      h.set('Content-Type', 'application/json');
    } else if (options.rawBody !== undefined && options.contentType) {
      h.set('Content-Type', options.contentType);
    } else if (isStateChanging(method) && source === 'usage') {
      h.set('Content-Type', 'application/json');
    }
    return h;
  }

  private async send(source: ApiSource, path: string, options: RequestOptions): Promise<Response> {
    const method = options.method ?? 'GET';
    const base = source === 'usage' ? this.usageBase : this.managementBase;
    const url = buildUrl(base, path, options.query);
    const shownUrl = base + (path.startsWith('/') ? path : '/' + path);

    if (source === 'management' && this.managementHalted) {
      throw new ApiError({
        kind: 'http',
        source,
        status: 401,
        code: 'halted',
        message: 'CPA refused the management key; sign in again',
        url: shownUrl,
      });
    }

    const controller = new AbortController();
    // An object, so that the type checker sees the change made by the timer.
    const timeout = { fired: false };
    const timer = setTimeout(() => {
      timeout.fired = true;
      controller.abort();
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    let body: BodyInit | undefined;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    else if (options.rawBody !== undefined) body = options.rawBody;

    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: this.headersFor(source, method, options),
        body,
        signal: controller.signal,
        cache: 'no-store',
        credentials: this.connection.mode === 'cpa' && source === 'usage' ? 'omit' : 'same-origin',
        redirect: 'follow',
      });
    } catch (e) {
      if (options.signal?.aborted) throw e;
      const err = new ApiError({
        kind: timeout.fired ? 'timeout' : 'network',
        source,
        message: timeout.fired ? 'the server did not answer in time' : e instanceof Error ? e.message : String(e),
        url: shownUrl,
      });
      if (source === 'management') cpaState.unreachable(err.message);
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }

    const fromCpa = source === 'management' && res.headers.has('X-CPA-VERSION');
    if (fromCpa) {
      cpaState.reached(res.headers.get('X-CPA-VERSION'), res.headers.get('X-CPA-BUILD-DATE'));
    } else if (source === 'management' && (res.status === 502 || res.status === 503 || res.status === 504)) {
      cpaState.unreachable(`HTTP ${res.status}`);
    }

    if (res.ok) return res;
    throw await this.failure(source, res, shownUrl, fromCpa, options);
  }

  private async failure(source: ApiSource, res: Response, url: string, fromCpa: boolean, options: RequestOptions): Promise<ApiError> {
    let parsed: unknown = null;
    try {
      const text = await res.text();
      parsed = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      parsed = null;
    }
    const { message, code } = messageFromBody(parsed);
    const err = new ApiError({
      kind: 'http',
      source,
      status: res.status,
      code,
      message,
      retryAfterSeconds: parseRetryAfter(res.headers.get('Retry-After')),
      url,
    });
    if (res.status === 401 && !options.expectUnauthorized) {
      // Hosted mode: a 401 carrying CPA's headers came from CPA, which refused
      // the key caddy-cpam holds; the panel session itself is fine.
      const panelSignedOut = this.connection.mode === 'cpa' || !fromCpa;
      if (panelSignedOut) {
        if (source === 'management' && this.connection.mode === 'cpa') this.managementHalted = true;
        this.hooks.onUnauthorized?.(source);
      }
    }
    return err;
  }
}
