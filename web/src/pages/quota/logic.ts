// Provider quota probes and their answers. Each provider's usage endpoint is
// called through CPA's /api-call (CPA puts the credential's token in place
// of $TOKEN$); its answer is parsed here into the same shape: a list of
// windows with a used percentage and a reset time. Pure functions, so every
// answer shape is unit tested.
import type { AuthFileEntry } from '../auth-files/logic';

/** Providers with a quota endpoint, as CPA names them in /auth-files. */
export const QUOTA_PROVIDERS = ['codex', 'claude', 'gemini-cli', 'antigravity', 'kimi', 'xai'] as const;
export type QuotaProvider = (typeof QUOTA_PROVIDERS)[number];

/** The fields of an /auth-files entry the quota views read. */
export type QuotaAuthFile = Pick<
  AuthFileEntry,
  'name' | 'auth_index' | 'type' | 'provider' | 'label' | 'email' | 'account' | 'status' | 'disabled' | 'project_id'
> & {
  account_id?: string;
  /** Codex: the decoded id_token summary (or, from some versions, the JWT itself). */
  id_token?: unknown;
};

/** What a window measures, for its name. */
export type WindowKind = 'five_hour' | 'daily' | 'weekly' | 'monthly' | 'hours' | 'days' | 'model' | 'other';

export interface QuotaWindow {
  /** Stable id within the answer ("primary", "seven_day", "gemini-2.5-pro"). */
  id: string;
  kind: WindowKind;
  /** The model or limit a scoped window applies to. */
  scope: string | null;
  /** 0–100 (may exceed 100 when over the limit); null when unknown. */
  usedPercent: number | null;
  /** Length of the window. */
  windowSeconds: number | null;
  /** RFC 3339. */
  resetAt: string | null;
}

export interface QuotaData {
  plan: string | null;
  windows: QuotaWindow[];
}

/** The body of POST /api-call. */
export interface ApiCallRequest {
  auth_index: string;
  method: 'GET' | 'POST';
  url: string;
  header: Record<string, string>;
  data?: string;
}

/** The answer of /api-call: the upstream's status, headers and body (a string). */
export interface ApiCallResponse {
  status_code: number;
  header?: Record<string, string[] | string>;
  body?: string;
}

export const CODEX_USAGE_URL = 'https://chatgpt.com/backend-api/wham/usage';
export const CLAUDE_USAGE_URL = 'https://api.anthropic.com/api/oauth/usage';
export const GEMINI_QUOTA_URL = 'https://cloudcode-pa.googleapis.com/v1internal:retrieveUserQuota';
export const ANTIGRAVITY_QUOTA_URL = 'https://cloudcode-pa.googleapis.com/v1internal:retrieveUserQuotaSummary';
export const KIMI_USAGE_URL = 'https://api.kimi.com/coding/v1/usages';
export const XAI_BILLING_URL = 'https://cli-chat-proxy.grok.com/v1/billing';

const BEARER = 'Bearer $TOKEN$';

// ---- small readers of unknown JSON ----

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj | null {
  return isObj(v) ? v : null;
}

/** A number from a number or a numeric string ("23", "23.5%", " 7 "); null otherwise. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const s = v.trim().replace(/%$/, '').trim();
    if (s === '') return null;
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/** RFC 3339 from an RFC 3339 string, unix seconds or unix milliseconds; null otherwise. */
export function toIso(v: unknown): string | null {
  if (typeof v === 'string') {
    const n = num(v);
    if (n !== null) return toIso(n);
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
    // Seconds until year 5138; larger numbers are milliseconds.
    const ms = v < 1e11 ? v * 1000 : v;
    return new Date(ms).toISOString();
  }
  return null;
}

function clampPercent(n: number | null): number | null {
  if (n === null) return null;
  return Math.max(0, Math.round(n * 100) / 100);
}

/** The kind of a window from its length. */
export function kindOfSeconds(seconds: number | null): WindowKind {
  if (seconds === null || seconds <= 0) return 'other';
  const hour = 3600;
  if (Math.abs(seconds - 5 * hour) <= 60) return 'five_hour';
  if (Math.abs(seconds - 24 * hour) <= 60) return 'daily';
  if (Math.abs(seconds - 7 * 24 * hour) <= 3600) return 'weekly';
  if (seconds >= 28 * 24 * hour && seconds <= 31 * 24 * hour) return 'monthly';
  if (seconds < 2 * 24 * hour) return 'hours';
  return 'days';
}

// ---- accounts ----

/** The provider of an auth file, when it has a quota endpoint. */
export function quotaProviderOf(file: QuotaAuthFile): QuotaProvider | null {
  const raw = (file.provider ?? file.type ?? '').toLowerCase();
  const p = raw === 'gemini' ? 'gemini-cli' : raw === 'grok' ? 'xai' : raw;
  return (QUOTA_PROVIDERS as readonly string[]).includes(p) ? (p as QuotaProvider) : null;
}

/** Decodes a JWT's payload; null when it is not one. */
export function decodeJwtPayload(token: string): Obj | null {
  const parts = token.split('.');
  if (parts.length < 2) return null;
  const part = parts[1] ?? '';
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return obj(parsed);
  } catch {
    return null;
  }
}

/** The id_token claims of a Codex entry: the decoded summary, or the JWT's OpenAI auth claims. */
function codexClaims(file: QuotaAuthFile): Obj | null {
  let claims: Obj | null = null;
  if (typeof file.id_token === 'string') claims = decodeJwtPayload(file.id_token);
  else claims = obj(file.id_token);
  if (!claims) return null;
  return obj(claims['https://api.openai.com/auth']) ?? claims;
}

/** The ChatGPT account id of a Codex entry (header Chatgpt-Account-Id); null when unknown. */
export function codexAccountId(file: QuotaAuthFile): string | null {
  const fromToken = str(codexClaims(file)?.chatgpt_account_id);
  return fromToken ?? str(file.account_id);
}

/** The plan recorded in a Codex entry's id_token. */
export function codexPlanOf(file: QuotaAuthFile): string | null {
  const c = codexClaims(file);
  return str(c?.plan_type) ?? str(c?.chatgpt_plan_type);
}

/** The /api-call request that reads an account's quota; null for providers without one. */
export function buildQuotaRequest(file: QuotaAuthFile): ApiCallRequest | null {
  const provider = quotaProviderOf(file);
  const index = file.auth_index ?? '';
  if (!provider || index === '') return null;
  switch (provider) {
    case 'codex': {
      const header: Record<string, string> = { Authorization: BEARER, Accept: 'application/json' };
      const account = codexAccountId(file);
      if (account) header['Chatgpt-Account-Id'] = account;
      return { auth_index: index, method: 'GET', url: CODEX_USAGE_URL, header };
    }
    case 'claude':
      return {
        auth_index: index,
        method: 'GET',
        url: CLAUDE_USAGE_URL,
        header: { Authorization: BEARER, 'anthropic-beta': 'oauth-2025-04-20', Accept: 'application/json' },
      };
    case 'gemini-cli':
    case 'antigravity': {
      const body: Obj = {};
      if (file.project_id) body.project = file.project_id;
      return {
        auth_index: index,
        method: 'POST',
        url: provider === 'gemini-cli' ? GEMINI_QUOTA_URL : ANTIGRAVITY_QUOTA_URL,
        header: { Authorization: BEARER, 'Content-Type': 'application/json' },
        data: JSON.stringify(body),
      };
    }
    case 'kimi':
      return { auth_index: index, method: 'GET', url: KIMI_USAGE_URL, header: { Authorization: BEARER } };
    case 'xai':
      return { auth_index: index, method: 'GET', url: XAI_BILLING_URL, header: { Authorization: BEARER } };
  }
}

// ---- parsers: one per answer shape ----

/** One Codex window ({used_percent, limit_window_seconds, reset_after_seconds, reset_at}). */
function codexWindow(id: string, raw: unknown, scope: string | null, nowMs: number): QuotaWindow | null {
  const w = obj(raw);
  if (!w) return null;
  const seconds = num(w.limit_window_seconds) ?? num(w.window_seconds) ?? (num(w.window_minutes) ?? NaN) * 60;
  const windowSeconds = Number.isFinite(seconds) ? seconds : null;
  let resetAt = toIso(w.reset_at);
  const after = num(w.reset_after_seconds);
  if (resetAt === null && after !== null) resetAt = new Date(nowMs + after * 1000).toISOString();
  return {
    id,
    kind: scope ? 'model' : kindOfSeconds(windowSeconds),
    scope,
    usedPercent: clampPercent(num(w.used_percent)),
    windowSeconds,
    resetAt,
  };
}

function codexLimitWindows(prefix: string, raw: unknown, scope: string | null, nowMs: number): QuotaWindow[] {
  const limit = obj(raw);
  if (!limit) return [];
  const out: QuotaWindow[] = [];
  for (const which of ['primary', 'secondary'] as const) {
    const w = codexWindow(prefix + which, limit[`${which}_window`], scope, nowMs);
    if (w) out.push(w);
  }
  return out;
}

/** Codex wham/usage: rate_limit.{primary,secondary}_window, plus model-scoped limits. */
export function parseCodexUsage(body: unknown, nowMs: number): QuotaData {
  const b = obj(body) ?? {};
  const windows = codexLimitWindows('', b.rate_limit, null, nowMs);
  windows.push(...codexLimitWindows('code_review_', b.code_review_rate_limit, 'code review', nowMs));
  const extra = Array.isArray(b.additional_rate_limits) ? b.additional_rate_limits : [];
  for (const item of extra) {
    const e = obj(item);
    if (!e) continue;
    const name = str(e.limit_name) ?? str(e.metered_feature) ?? 'additional';
    windows.push(...codexLimitWindows(`${name}_`, e.rate_limit, name, nowMs));
  }
  return { plan: str(b.plan_type), windows };
}

const CLAUDE_WINDOWS: Record<string, { kind: WindowKind; seconds: number; scope: string | null }> = {
  five_hour: { kind: 'five_hour', seconds: 5 * 3600, scope: null },
  seven_day: { kind: 'weekly', seconds: 7 * 86400, scope: null },
  seven_day_opus: { kind: 'model', seconds: 7 * 86400, scope: 'Opus' },
  seven_day_sonnet: { kind: 'model', seconds: 7 * 86400, scope: 'Sonnet' },
  seven_day_oauth_apps: { kind: 'model', seconds: 7 * 86400, scope: 'OAuth apps' },
};

/** Claude oauth/usage: {five_hour:{utilization, resets_at}, seven_day:…, seven_day_opus:…}; null windows are skipped. */
export function parseClaudeUsage(body: unknown): QuotaData {
  const b = obj(body) ?? {};
  const windows: QuotaWindow[] = [];
  for (const [id, value] of Object.entries(b)) {
    const w = obj(value);
    if (!w || !('utilization' in w)) continue;
    const used = num(w.utilization);
    if (used === null && id === 'extra_usage') continue;
    const known = CLAUDE_WINDOWS[id];
    windows.push({
      id,
      kind: known?.kind ?? (id.startsWith('seven_day') ? 'model' : 'other'),
      scope: known ? known.scope : id.startsWith('seven_day_') ? id.slice('seven_day_'.length) : id,
      usedPercent: clampPercent(used),
      windowSeconds: known?.seconds ?? (id.startsWith('seven_day') ? 7 * 86400 : null),
      resetAt: toIso(w.resets_at),
    });
  }
  const order = (w: QuotaWindow) => (w.id === 'five_hour' ? 0 : w.id === 'seven_day' ? 1 : 2);
  windows.sort((a, b2) => order(a) - order(b2));
  return { plan: null, windows };
}

/** Gemini / Antigravity: {buckets:[{modelId, remainingFraction, resetTime}]} or {models:{id:{quotaInfo}}}. */
export function parseGeminiQuota(body: unknown): QuotaData {
  const b = obj(body) ?? {};
  const windows: QuotaWindow[] = [];
  const fromFraction = (f: number | null) => (f === null ? null : clampPercent((1 - f) * 100));
  if (Array.isArray(b.buckets)) {
    for (const item of b.buckets) {
      const k = obj(item);
      if (!k) continue;
      const model = str(k.modelId) ?? str(k.model) ?? 'model';
      const type = str(k.tokenType);
      windows.push({
        id: type && type !== 'REQUESTS' ? `${model}:${type}` : model,
        kind: 'model',
        scope: model,
        usedPercent: fromFraction(num(k.remainingFraction)),
        windowSeconds: null,
        resetAt: toIso(k.resetTime),
      });
    }
  }
  const models = obj(b.models);
  if (models) {
    for (const [id, value] of Object.entries(models)) {
      const m = obj(value);
      const info = obj(m?.quotaInfo);
      if (!info) continue;
      windows.push({
        id,
        kind: 'model',
        scope: str(m?.displayName) ?? id,
        usedPercent: fromFraction(num(info.remainingFraction)),
        windowSeconds: null,
        resetAt: toIso(info.resetTime),
      });
    }
  }
  return { plan: null, windows };
}

const TIME_UNIT_SECONDS: Record<string, number> = {
  TIME_UNIT_SECOND: 1,
  TIME_UNIT_MINUTE: 60,
  TIME_UNIT_HOUR: 3600,
  TIME_UNIT_DAY: 86400,
};

function usedPercentOf(d: Obj): number | null {
  const limit = num(d.limit);
  let used = num(d.used);
  const remaining = num(d.remaining);
  if (used === null && limit !== null && remaining !== null) used = limit - remaining;
  if (limit === null || used === null || limit <= 0) return null;
  return clampPercent((used / limit) * 100);
}

/** Kimi coding/v1/usages: usage {limit, used, remaining, resetTime} (weekly) and limits[{window, detail}]. */
export function parseKimiUsage(body: unknown): QuotaData {
  const b = obj(body) ?? {};
  const windows: QuotaWindow[] = [];
  const limits = Array.isArray(b.limits) ? b.limits : [];
  limits.forEach((item, i) => {
    const l = obj(item);
    const detail = obj(l?.detail);
    if (!l || !detail) return;
    const win = obj(l.window);
    const duration = num(win?.duration);
    const unit = TIME_UNIT_SECONDS[str(win?.timeUnit) ?? 'TIME_UNIT_MINUTE'] ?? 60;
    const seconds = duration === null ? null : duration * unit;
    windows.push({
      id: `limit_${i}`,
      kind: kindOfSeconds(seconds),
      scope: null,
      usedPercent: usedPercentOf(detail),
      windowSeconds: seconds,
      resetAt: toIso(detail.resetTime),
    });
  });
  const usage = obj(b.usage);
  if (usage) {
    windows.push({
      id: 'usage',
      kind: 'weekly',
      scope: null,
      usedPercent: usedPercentOf(usage),
      windowSeconds: 7 * 86400,
      resetAt: toIso(usage.resetTime),
    });
  }
  return { plan: null, windows };
}

const NAMED_WINDOWS: Record<string, WindowKind> = { monthly: 'monthly', weekly: 'weekly', daily: 'daily' };

/** xAI billing: {plan, usage:{used_percent, window, resets_at}, limits:[{name, used, limit, resets_at}]}. */
export function parseXaiBilling(body: unknown): QuotaData {
  const b = obj(body) ?? {};
  const windows: QuotaWindow[] = [];
  const usage = obj(b.usage);
  if (usage) {
    const name = (str(usage.window) ?? '').toLowerCase();
    const kind = NAMED_WINDOWS[name] ?? 'other';
    windows.push({
      id: 'usage',
      kind,
      scope: kind === 'other' && name !== '' ? name : null,
      usedPercent: clampPercent(num(usage.used_percent) ?? usedPercentOf(usage)),
      windowSeconds: kind === 'monthly' ? 30 * 86400 : kind === 'weekly' ? 7 * 86400 : kind === 'daily' ? 86400 : null,
      resetAt: toIso(usage.resets_at),
    });
  }
  const limits = Array.isArray(b.limits) ? b.limits : [];
  limits.forEach((item, i) => {
    const l = obj(item);
    if (!l) return;
    windows.push({
      id: `limit_${str(l.name) ?? String(i)}`,
      kind: 'model',
      scope: str(l.name) ?? String(i),
      usedPercent: num(l.used_percent) ?? usedPercentOf(l),
      windowSeconds: null,
      resetAt: toIso(l.resets_at),
    });
  });
  return { plan: str(b.plan), windows };
}

/** Parses a provider's decoded answer. */
export function parseQuota(provider: QuotaProvider, body: unknown, nowMs: number): QuotaData {
  switch (provider) {
    case 'codex':
      return parseCodexUsage(body, nowMs);
    case 'claude':
      return parseClaudeUsage(body);
    case 'gemini-cli':
    case 'antigravity':
      return parseGeminiQuota(body);
    case 'kimi':
      return parseKimiUsage(body);
    case 'xai':
      return parseXaiBilling(body);
  }
}

// ---- /api-call answers ----

/** Why a probe failed, for a readable message. */
export type ProbeErrorKind =
  'reauth' | 'deactivated' | 'payment' | 'forbidden' | 'not_found' | 'rate_limited' | 'upstream' | 'bad_body' | 'status';

export type ProbeOutcome =
  | { ok: true; status: number; data: QuotaData; body: unknown }
  | { ok: false; status: number; kind: ProbeErrorKind; message: string | null; body: unknown };

/** The body of an /api-call answer, JSON-decoded when it is JSON (else the text, or null). */
export function decodeBody(text: string | undefined): unknown {
  if (text === undefined || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The upstream's own error message, from the usual error shapes. */
export function upstreamMessage(body: unknown): string | null {
  if (typeof body === 'string') return str(body.slice(0, 300));
  const b = obj(body);
  if (!b) return null;
  const err = b.error;
  if (typeof err === 'string') return str(err);
  const e = obj(err);
  if (e) return str(e.message) ?? str(e.code) ?? str(e.type);
  const detail = b.detail;
  if (typeof detail === 'string') return str(detail);
  const d = obj(detail);
  if (d) return str(d.message) ?? str(d.code);
  return str(b.message);
}

/** Whether a body says the workspace was deactivated (Codex 402). */
export function isDeactivatedWorkspace(body: unknown): boolean {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  return text.includes('deactivated_workspace');
}

/** The failure kind of a non-2xx upstream status. */
export function errorKindOf(status: number, body: unknown): ProbeErrorKind {
  if (status === 401) return 'reauth';
  if (status === 402) return isDeactivatedWorkspace(body) ? 'deactivated' : 'payment';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'upstream';
  return 'status';
}

/** Reads an /api-call answer for a provider. */
export function readProbe(provider: QuotaProvider, res: ApiCallResponse, nowMs: number): ProbeOutcome {
  const status = typeof res.status_code === 'number' ? res.status_code : 0;
  const body = decodeBody(res.body);
  if (status < 200 || status > 299) {
    return { ok: false, status, kind: errorKindOf(status, body), message: upstreamMessage(body), body };
  }
  if (!isObj(body)) return { ok: false, status, kind: 'bad_body', message: null, body };
  return { ok: true, status, data: parseQuota(provider, body, nowMs), body };
}

// ---- display helpers ----

/** A used percentage's tone: ok below 70, warn below 90, danger from 90. */
export function usageTone(used: number | null): 'ok' | 'warn' | 'danger' | 'neutral' {
  if (used === null) return 'neutral';
  if (used >= 90) return 'danger';
  if (used >= 70) return 'warn';
  return 'ok';
}

/** Whole hours or days of a window length, for "3-hour window" / "14-day window". */
export function windowLength(seconds: number | null): { hours: number; days: number } {
  const s = seconds ?? 0;
  return { hours: Math.round(s / 3600), days: Math.round(s / 86400) };
}

/** Masks an identifier: first 4 + … + last 4 (short ones: first 2 + …). */
export function mask(value: string): string {
  if (value.length <= 10) return value.slice(0, 2) + '…';
  return `${value.slice(0, 4)}…${value.slice(-4)}`;
}

// ---- passive evidence (quota headers seen in real traffic) ----

export interface EvidenceItem {
  account: string;
  name?: string;
  provider?: string;
  observed_at: string;
  request_id?: string;
  headers: Record<string, string>;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The windows in Codex quota headers (X-Codex-Primary-Used-Percent, …-Window-Minutes, …-Reset-After-Seconds). */
export function parseEvidenceHeaders(headers: Record<string, string>, observedAt: string): QuotaWindow[] {
  const out: QuotaWindow[] = [];
  const base = Date.parse(observedAt);
  for (const which of ['Primary', 'Secondary'] as const) {
    const used = num(header(headers, `X-Codex-${which}-Used-Percent`));
    const minutes = num(header(headers, `X-Codex-${which}-Window-Minutes`));
    const after = num(header(headers, `X-Codex-${which}-Reset-After-Seconds`));
    const at = toIso(header(headers, `X-Codex-${which}-Reset-At`));
    if (used === null && minutes === null) continue;
    const seconds = minutes === null ? null : minutes * 60;
    out.push({
      id: which.toLowerCase(),
      kind: kindOfSeconds(seconds),
      scope: null,
      usedPercent: clampPercent(used),
      windowSeconds: seconds,
      resetAt: at ?? (after !== null && !Number.isNaN(base) ? new Date(base + after * 1000).toISOString() : null),
    });
  }
  return out;
}

/** The quota headers other than Codex's windows (x-ratelimit-*, anthropic-ratelimit-*, …), sorted by name. */
export function otherEvidenceHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers)
    .filter(([k]) => !/^x-codex-(primary|secondary)-/i.test(k))
    .sort(([a], [b]) => a.localeCompare(b));
}

/** The latest evidence per account (auth_index). */
export function latestEvidence(items: readonly EvidenceItem[]): Map<string, EvidenceItem> {
  const out = new Map<string, EvidenceItem>();
  for (const item of items) {
    const prev = out.get(item.account);
    if (!prev || Date.parse(item.observed_at) > Date.parse(prev.observed_at)) out.set(item.account, item);
  }
  return out;
}

// ---- batch runs ----

/**
 * Runs worker over items with at most `concurrency` at a time, in order of
 * start. Stops starting new items once signal aborts (running ones get the
 * signal). onDone is called after each item; resolves when all started ones
 * finished.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
  onDone?: (done: number, total: number) => void,
): Promise<{ done: number; cancelled: boolean }> {
  const limit = Math.max(1, Math.min(Math.floor(concurrency) || 1, 16));
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (!signal.aborted && next < items.length) {
      const item = items[next++] as T;
      try {
        await worker(item, signal);
      } catch {
        // The worker records its own failure.
      }
      done++;
      onDone?.(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return { done, cancelled: signal.aborted && done < items.length };
}

/** A concurrency setting clamped to 1–8 (default when not a number). */
export function clampConcurrency(value: unknown, fallback: number): number {
  const n = num(value);
  if (n === null) return fallback;
  return Math.max(1, Math.min(8, Math.round(n)));
}
