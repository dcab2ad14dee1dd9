// Calls to the running stack from Node: the usage API and the management
// proxy with the admin key as bearer (or with a given cookie), over HTTPS
// verified against the test Caddy's own internal root CA.
import https from 'node:https';

/**
 * @typedef {object} ApiResponse
 * @property {number} status
 * @property {import('node:http').IncomingHttpHeaders} headers
 * @property {string} text
 * @property {() => any} json
 */

/**
 * @typedef {object} RequestOptions
 * @property {string} [method]
 * @property {Record<string, string | number | boolean | undefined | (string | number)[]>} [query]
 * @property {unknown} [body] JSON-encoded unless a string or Buffer
 * @property {Record<string, string>} [headers]
 * @property {boolean} [bearer] send the admin key (default true)
 * @property {string} [cookie] a Cookie header to send instead
 * @property {number} [timeout] ms (default 15000)
 */

/**
 * @param {{ origin: string, adminKey: string, ca: Buffer }} options
 */
export function createApi({ origin, adminKey, ca }) {
  const base = new URL(origin);

  /**
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<ApiResponse>}
   */
  function request(path, { method = 'GET', query, body, headers = {}, bearer = true, cookie, timeout = 15_000 } = {}) {
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
    }
    /** @type {Record<string, string>} */
    const h = { Accept: 'application/json', ...headers };
    if (cookie !== undefined) h.Cookie = cookie;
    else if (bearer) h.Authorization = `Bearer ${adminKey}`;
    /** @type {Buffer | undefined} */
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        payload = Buffer.from(body);
      } else {
        payload = Buffer.from(JSON.stringify(body));
        h['Content-Type'] ??= 'application/json';
      }
      h['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers: h, ca, servername: url.hostname, timeout }, (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => {
              try {
                return JSON.parse(text);
              } catch {
                throw new Error(`${method} ${url.pathname}: answer is not JSON (${res.statusCode}): ${text.slice(0, 300)}`);
              }
            },
          });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeout} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * A request that must answer 2xx; returns the parsed JSON (or the text when
   * the answer is not JSON).
   * @param {string} path
   * @param {RequestOptions} [options]
   */
  async function ok(path, options = {}) {
    const res = await request(path, options);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${options.method ?? 'GET'} ${path}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    }
    const type = String(res.headers['content-type'] ?? '');
    return type.includes('json') && !type.includes('ndjson') ? res.json() : res.text;
  }

  /**
   * The summary's current period for a range and filters. `to` defaults to
   * now in whole seconds, like the panel's own requests, so an answer read
   * before the panel's is never for a longer range than the panel's.
   * @param {{ from: string, to?: string, tz: string, [filter: string]: string | string[] | undefined }} params
   * @returns {Promise<{ attempts: number, failed: number, succeeded: number }>}
   */
  async function summary(params) {
    const doc = await ok('/cpam/api/v1/summary', {
      query: { to: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(), ...params },
    });
    return doc.current;
  }

  return { request, ok, summary, origin };
}

/** @typedef {ReturnType<typeof createApi>} Api */
