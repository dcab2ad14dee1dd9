// One error type for every failed call, whatever answered: the usage API
// ({"error","code"}), CPA ({"error"} or {"error":"<code>","message"}), a
// proxy in between (empty body), or nobody (network error, timeout).

export type ApiErrorKind = 'http' | 'network' | 'timeout';
export type ApiSource = 'usage' | 'management';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly kind: ApiErrorKind;
  readonly source: ApiSource;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The server's code word (usage API) when it sent one. */
  readonly code: string;
  /** Seconds to wait, from Retry-After. */
  readonly retryAfterSeconds: number | null;
  /** The URL that failed (without query), for messages. */
  readonly url: string;

  constructor(init: {
    kind: ApiErrorKind;
    source: ApiSource;
    status?: number;
    code?: string;
    message: string;
    retryAfterSeconds?: number | null;
    url?: string;
  }) {
    super(init.message);
    this.kind = init.kind;
    this.source = init.source;
    this.status = init.status ?? 0;
    this.code = init.code ?? '';
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
    this.url = init.url ?? '';
  }

  get isUnauthorized(): boolean {
    return this.kind === 'http' && this.status === 401;
  }

  get isRateLimited(): boolean {
    return this.kind === 'http' && this.status === 429;
  }

  get isNotFound(): boolean {
    return this.kind === 'http' && this.status === 404;
  }

  /** Whether trying again later may help (network trouble, 5xx, 429). */
  get isTransient(): boolean {
    return this.kind !== 'http' || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/**
 * The human message in an error body of the usage API or of CPA, or '' when
 * the body carries none.
 */
export function messageFromBody(body: unknown): { message: string; code: string } {
  if (typeof body !== 'object' || body === null) return { message: '', code: '' };
  const o = body as Record<string, unknown>;
  const error = typeof o.error === 'string' ? o.error : '';
  const message = typeof o.message === 'string' ? o.message : '';
  const code = typeof o.code === 'string' ? o.code : '';
  // CPA's {"error":"<code>","message":"<detail>"} shape: the detail is the message.
  if (message !== '') return { message, code: code || error };
  return { message: error, code };
}

/** Seconds from a Retry-After value (delta seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
