// Calls the shared ApiClient cannot make: an upload with progress events
// (XMLHttpRequest), and JSON calls whose error bodies carry more than a
// message (the per-source errors of a failed price sync, the counts of a
// failed import). They follow the client's rules: the mode's credentials
// (session cookie, or the CPA key as bearer in CPA panel mode), the CSRF
// header, and a 401 hands over to the client, which signs the user out.
// Used by the import/export and pricing pages; shared here so pages do not import each other.
import { CSRF_HEADER, type ApiClient, type Query } from './client';
import { ApiError } from './errors';

/** Accept, the CSRF header and, in CPA panel mode, the bearer. */
export function authHeaders(api: ApiClient): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json', [CSRF_HEADER]: '1' };
  const conn = api.connection;
  if (conn.mode === 'cpa' && conn.managementKey !== '') h.Authorization = `Bearer ${conn.managementKey}`;
  return h;
}

/** Cookies go to the same origin (hosted); CPA panel mode authenticates by bearer only. */
export function withCookies(api: ApiClient): boolean {
  return api.connection.mode === 'hosted';
}

/**
 * Lets the client see the refused credentials: a plain call that answers
 * 401 again signs the user out and keeps the route for after the sign-in.
 */
export function reportUnauthorized(api: ApiClient): void {
  api.usage<unknown>('/auth/session').catch(() => undefined);
}

export interface RawAnswer {
  status: number;
  /** The decoded JSON body, or null. */
  body: unknown;
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * A JSON call to the usage service that resolves with any HTTP answer
 * (status and decoded body); only a missing answer (network, timeout)
 * throws an ApiError.
 */
export async function usageJson(
  api: ApiClient,
  path: string,
  options: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown; query?: Query; signal?: AbortSignal; timeoutMs?: number },
): Promise<RawAnswer> {
  const url = api.usageUrl(path, options.query);
  const headers = authHeaders(api);
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const controller = new AbortController();
  const timeout = { fired: false };
  const timer = setTimeout(
    () => {
      timeout.fired = true;
      controller.abort();
    },
    options.timeoutMs ?? 5 * 60_000,
  );
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await fetch(url, {
      method: options.method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: controller.signal,
      cache: 'no-store',
      credentials: withCookies(api) ? 'same-origin' : 'omit',
    });
    const body = parseBody(await res.text());
    if (res.status === 401) reportUnauthorized(api);
    return { status: res.status, body };
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new ApiError({
      kind: timeout.fired ? 'timeout' : 'network',
      source: 'usage',
      message: timeout.fired ? 'the server did not answer in time' : e instanceof Error ? e.message : String(e),
      url: api.usageUrl(path),
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export interface UploadProgress {
  sent: number;
  total: number;
}

export interface UploadOptions {
  url: string;
  body: Blob;
  headers: Record<string, string>;
  onProgress: (p: UploadProgress) => void;
  /** Called once the body is sent and the server is working on it. */
  onUploaded?: () => void;
  signal?: AbortSignal;
}

export class UploadAborted extends Error {
  override readonly name = 'UploadAborted';
}

/**
 * POSTs body with XMLHttpRequest, reporting upload progress. Resolves with
 * the status and decoded body of any HTTP answer; rejects with an ApiError
 * when no answer came and with UploadAborted when signal aborted it.
 */
export function uploadWithProgress(options: UploadOptions): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', options.url);
    // Same-origin requests send cookies anyway; cross-origin ones (CPA panel mode) must not.
    xhr.withCredentials = false;
    for (const [k, v] of Object.entries(options.headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      options.onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : options.body.size });
    };
    xhr.upload.onload = () => {
      options.onProgress({ sent: options.body.size, total: options.body.size });
      options.onUploaded?.();
    };
    xhr.onload = () => resolve({ status: xhr.status, body: parseBody(xhr.responseText) });
    xhr.onerror = () =>
      reject(
        new ApiError({
          kind: 'network',
          source: 'usage',
          message: 'the upload failed: no answer from the server',
          url: options.url.split('?')[0] ?? '',
        }),
      );
    xhr.ontimeout = () =>
      reject(
        new ApiError({
          kind: 'timeout',
          source: 'usage',
          message: 'the server did not answer in time',
          url: options.url.split('?')[0] ?? '',
        }),
      );
    xhr.onabort = () => reject(new UploadAborted('cancelled'));
    if (options.signal) {
      if (options.signal.aborted) {
        reject(new UploadAborted('cancelled'));
        return;
      }
      options.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(options.body);
  });
}
