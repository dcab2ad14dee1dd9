// Pure logic of the AI providers page: CPA's provider credential lists
// (gemini/codex/claude/vertex/xai/interactions API keys and the
// OpenAI-compatible providers), the editor drafts and their validation, the
// bodies of the list writes, the connectivity probe sent through /api-call,
// and the join of each credential (auth-index) with the usage store's
// account breakdown.

// ---- sections ----

export type KeySectionId = 'gemini' | 'codex' | 'claude' | 'vertex' | 'xai' | 'interactions';
export type SectionId = KeySectionId | 'compat';

export interface KeySection {
  id: KeySectionId;
  /** Management route and the JSON key of its answer. */
  route: string;
  field: string;
  label: string;
  /** The entry has a models list (name + alias). */
  models: boolean;
  /** The entry has a priority. */
  priority: boolean;
  /** Where the provider's API lives when the entry names no base-url. */
  defaultBaseUrl: string;
}

export const KEY_SECTIONS: readonly KeySection[] = [
  {
    id: 'gemini',
    route: '/gemini-api-key',
    field: 'gemini-api-key',
    label: 'Gemini',
    models: false,
    priority: false,
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  },
  {
    id: 'codex',
    route: '/codex-api-key',
    field: 'codex-api-key',
    label: 'Codex',
    models: true,
    priority: false,
    defaultBaseUrl: 'https://api.openai.com/v1',
  },
  {
    id: 'claude',
    route: '/claude-api-key',
    field: 'claude-api-key',
    label: 'Claude',
    models: true,
    priority: false,
    defaultBaseUrl: 'https://api.anthropic.com',
  },
  {
    id: 'vertex',
    route: '/vertex-api-key',
    field: 'vertex-api-key',
    label: 'Vertex',
    models: true,
    priority: false,
    defaultBaseUrl: 'https://aiplatform.googleapis.com',
  },
  {
    id: 'xai',
    route: '/xai-api-key',
    field: 'xai-api-key',
    label: 'xAI',
    models: true,
    priority: true,
    defaultBaseUrl: 'https://api.x.ai/v1',
  },
  {
    id: 'interactions',
    route: '/interactions-api-key',
    field: 'interactions-api-key',
    label: 'Interactions',
    models: false,
    priority: false,
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  },
];

export const COMPAT_ROUTE = '/openai-compatibility';
export const COMPAT_FIELD = 'openai-compatibility';

// ---- CPA shapes ----

export interface ModelAlias {
  name: string;
  alias?: string;
  [extra: string]: unknown;
}

/** An entry of a key section as GET returns it (unknown fields are kept on writes). */
export interface KeyEntry {
  'api-key': string;
  'base-url'?: string;
  prefix?: string;
  'proxy-url'?: string;
  weight?: number | null;
  priority?: number | null;
  headers?: Record<string, string> | null;
  models?: ModelAlias[] | null;
  'excluded-models'?: string[] | null;
  'auth-index'?: string;
  [extra: string]: unknown;
}

export interface CompatKey {
  'api-key': string;
  weight?: number | null;
  'proxy-url'?: string;
  'excluded-models'?: string[] | null;
  'auth-index'?: string;
  [extra: string]: unknown;
}

export interface CompatProvider {
  name: string;
  'base-url': string;
  prefix?: string;
  priority?: number | null;
  disabled?: boolean;
  headers?: Record<string, string> | null;
  models?: ModelAlias[] | null;
  'api-key-entries'?: CompatKey[] | null;
  'auth-index'?: string;
  [extra: string]: unknown;
}

// ---- display ----

/** First 4 + … + last 4 characters; short keys are fully hidden. Never the key itself. */
export { maskKey } from '../../lib/mask';

/** Whether CPA skips this config credential: the "*" pattern in its excluded-models (set by PATCH /auth-files/status). */
export function isKeyDisabled(entry: { 'excluded-models'?: string[] | null }): boolean {
  return (entry['excluded-models'] ?? []).includes('*');
}

/** The excluded-models a user edits: without the "*" that marks a disabled credential. */
export function visibleExcluded(entry: { 'excluded-models'?: string[] | null }): string[] {
  return (entry['excluded-models'] ?? []).filter((m) => m !== '*');
}

// ---- drafts (what the editor holds) ----

export interface HeaderRow {
  name: string;
  value: string;
}

export interface ModelRow {
  name: string;
  alias: string;
}

export interface KeyDraft {
  /** Empty while editing means "keep the stored key". */
  apiKey: string;
  baseUrl: string;
  prefix: string;
  proxyUrl: string;
  weight: string;
  priority: string;
  headers: HeaderRow[];
  models: ModelRow[];
  /** Comma- or newline-separated model patterns. */
  excluded: string;
}

export interface CompatKeyRow {
  /** The stored key this row edits (never shown); null for a new row. */
  original: string | null;
  /** Empty on an existing row means "keep the stored key". */
  apiKey: string;
  weight: string;
  proxyUrl: string;
}

export interface CompatDraft {
  name: string;
  baseUrl: string;
  prefix: string;
  priority: string;
  headers: HeaderRow[];
  models: ModelRow[];
  keys: CompatKeyRow[];
}

function headerRows(h: Record<string, string> | null | undefined): HeaderRow[] {
  return Object.entries(h ?? {}).map(([name, value]) => ({ name, value }));
}

function modelRows(m: ModelAlias[] | null | undefined): ModelRow[] {
  return (m ?? []).map((x) => ({ name: x.name, alias: x.alias ?? '' }));
}

/** The typed key, or else the stored one (an empty input keeps the stored key). */
function keyOf(typed: string, stored: string | null | undefined): string {
  const t = typed.trim();
  return t !== '' ? t : (stored ?? '');
}

function numText(n: number | null | undefined): string {
  return typeof n === 'number' ? String(n) : '';
}

export function emptyKeyDraft(): KeyDraft {
  return { apiKey: '', baseUrl: '', prefix: '', proxyUrl: '', weight: '', priority: '', headers: [], models: [], excluded: '' };
}

export function keyDraftFrom(e: KeyEntry): KeyDraft {
  return {
    apiKey: '',
    baseUrl: e['base-url'] ?? '',
    prefix: e.prefix ?? '',
    proxyUrl: e['proxy-url'] ?? '',
    weight: numText(e.weight),
    priority: numText(e.priority),
    headers: headerRows(e.headers),
    models: modelRows(e.models),
    excluded: visibleExcluded(e).join(', '),
  };
}

export function emptyCompatDraft(): CompatDraft {
  return {
    name: '',
    baseUrl: '',
    prefix: '',
    priority: '',
    headers: [],
    models: [{ name: '', alias: '' }],
    keys: [{ original: null, apiKey: '', weight: '', proxyUrl: '' }],
  };
}

export function compatDraftFrom(p: CompatProvider): CompatDraft {
  return {
    name: p.name,
    baseUrl: p['base-url'],
    prefix: p.prefix ?? '',
    priority: numText(p.priority),
    headers: headerRows(p.headers),
    models: modelRows(p.models),
    keys: (p['api-key-entries'] ?? []).map((k) => ({
      original: k['api-key'],
      apiKey: '',
      weight: numText(k.weight),
      proxyUrl: k['proxy-url'] ?? '',
    })),
  };
}

// ---- validation ----

export type FieldError =
  | 'apiKeyRequired'
  | 'baseUrlInvalid'
  | 'baseUrlRequired'
  | 'proxyUrlInvalid'
  | 'weightInvalid'
  | 'priorityInvalid'
  | 'headerNameInvalid'
  | 'headerDuplicate'
  | 'modelNameRequired'
  | 'duplicateKey'
  | 'nameRequired'
  | 'nameTaken'
  | 'keysRequired';

export interface DraftIssue {
  /** The field, e.g. "baseUrl", "headers.1", "keys.0". */
  field: string;
  error: FieldError;
}

/** http(s) URL with a host. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** A proxy URL CPA accepts: http(s) or socks5(h). */
export function isProxyUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return ['http:', 'https:', 'socks5:', 'socks5h:'].includes(u.protocol) && u.host !== '';
  } catch {
    return false;
  }
}

/** An optional integer ≥ 0 (weight) or any integer (priority); empty is fine. */
export function isIntText(s: string, min: number | null): boolean {
  const t = s.trim();
  if (t === '') return true;
  if (!/^-?\d+$/.test(t)) return false;
  const n = Number(t);
  return Number.isSafeInteger(n) && (min === null || n >= min);
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An HTTP header name (RFC 9110 token). */
export function isHeaderName(s: string): boolean {
  return TOKEN.test(s);
}

function checkHeaders(rows: HeaderRow[], out: DraftIssue[]): void {
  const seen = new Set<string>();
  rows.forEach((h, i) => {
    const name = h.name.trim();
    if (name === '' && h.value.trim() === '') return; // an empty row is ignored
    if (!isHeaderName(name)) out.push({ field: `headers.${i}`, error: 'headerNameInvalid' });
    else if (seen.has(name.toLowerCase())) out.push({ field: `headers.${i}`, error: 'headerDuplicate' });
    seen.add(name.toLowerCase());
  });
}

function checkModels(rows: ModelRow[], out: DraftIssue[]): void {
  rows.forEach((m, i) => {
    if (m.name.trim() === '' && m.alias.trim() !== '') out.push({ field: `models.${i}`, error: 'modelNameRequired' });
  });
}

/** Base URLs compare without trailing slashes. */
function sameBase(a: string | undefined, b: string | undefined): boolean {
  const n = (s: string | undefined) => (s ?? '').trim().replace(/\/+$/, '');
  return n(a) === n(b);
}

/**
 * Checks a key-section draft. others are the section's other entries (the
 * edited one left out); original is the edited entry (null when adding).
 */
export function validateKeyDraft(d: KeyDraft, section: KeySection, others: KeyEntry[], original: KeyEntry | null): DraftIssue[] {
  const out: DraftIssue[] = [];
  const key = keyOf(d.apiKey, original?.['api-key']);
  if (key === '') out.push({ field: 'apiKey', error: 'apiKeyRequired' });
  const base = d.baseUrl.trim();
  if (base !== '' && !isHttpUrl(base)) out.push({ field: 'baseUrl', error: 'baseUrlInvalid' });
  if (d.proxyUrl.trim() !== '' && !isProxyUrl(d.proxyUrl.trim())) out.push({ field: 'proxyUrl', error: 'proxyUrlInvalid' });
  if (!isIntText(d.weight, 0)) out.push({ field: 'weight', error: 'weightInvalid' });
  if (section.priority && !isIntText(d.priority, null)) out.push({ field: 'priority', error: 'priorityInvalid' });
  checkHeaders(d.headers, out);
  if (section.models) checkModels(d.models, out);
  if (key !== '' && others.some((o) => o['api-key'] === key && sameBase(o['base-url'], base))) {
    out.push({ field: 'apiKey', error: 'duplicateKey' });
  }
  return out;
}

/** Checks an OpenAI-compatible provider draft against the other providers (the edited one left out). */
export function validateCompatDraft(d: CompatDraft, others: CompatProvider[]): DraftIssue[] {
  const out: DraftIssue[] = [];
  const name = d.name.trim();
  if (name === '') out.push({ field: 'name', error: 'nameRequired' });
  else if (others.some((p) => p.name.trim().toLowerCase() === name.toLowerCase())) out.push({ field: 'name', error: 'nameTaken' });
  const base = d.baseUrl.trim();
  if (base === '') out.push({ field: 'baseUrl', error: 'baseUrlRequired' });
  else if (!isHttpUrl(base)) out.push({ field: 'baseUrl', error: 'baseUrlInvalid' });
  if (!isIntText(d.priority, null)) out.push({ field: 'priority', error: 'priorityInvalid' });
  checkHeaders(d.headers, out);
  checkModels(d.models, out);
  const keys = d.keys.filter((k) => k.original !== null || k.apiKey.trim() !== '');
  if (keys.length === 0) out.push({ field: 'keys', error: 'keysRequired' });
  const seen = new Set<string>();
  d.keys.forEach((k, i) => {
    const key = keyOf(k.apiKey, k.original);
    if (key === '') return;
    if (seen.has(key)) out.push({ field: `keys.${i}`, error: 'duplicateKey' });
    seen.add(key);
    if (!isIntText(k.weight, 0)) out.push({ field: `keys.${i}.weight`, error: 'weightInvalid' });
    if (k.proxyUrl.trim() !== '' && !isProxyUrl(k.proxyUrl.trim())) out.push({ field: `keys.${i}.proxyUrl`, error: 'proxyUrlInvalid' });
  });
  return out;
}

// ---- building entries and bodies ----

function headersOf(rows: HeaderRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of rows) {
    const name = h.name.trim();
    if (name !== '') out[name] = h.value.trim();
  }
  return out;
}

function modelsOf(rows: ModelRow[], original: ModelAlias[] | null | undefined): ModelAlias[] {
  const out: ModelAlias[] = [];
  for (const m of rows) {
    const name = m.name.trim();
    if (name === '') continue;
    // Keep extra fields (display-name, …) of a model that is still there.
    const prev = (original ?? []).find((o) => o.name === name);
    out.push({ ...(prev ?? {}), name, alias: m.alias.trim() || name });
  }
  return out;
}

function intOrNull(s: string): number | null {
  const t = s.trim();
  return t === '' ? null : Number(t);
}

function splitList(s: string): string[] {
  const out: string[] = [];
  for (const part of s.split(/[\n,]/)) {
    const v = part.trim();
    if (v !== '' && v !== '*' && !out.includes(v)) out.push(v);
  }
  return out;
}

/** Drops the read-only auth-index (and, for providers, the one of each key). */
export function stripKeyEntry(e: KeyEntry): KeyEntry {
  const out = { ...e };
  delete out['auth-index'];
  return out;
}

export function stripCompat(p: CompatProvider): CompatProvider {
  const out = { ...p };
  delete out['auth-index'];
  const keys = out['api-key-entries'];
  if (keys) {
    out['api-key-entries'] = keys.map((k) => {
      const kr = { ...k };
      delete kr['auth-index'];
      return kr;
    });
  }
  return out;
}

/** Sets key to v, or removes it when v is empty (empty string, null, empty list or map). */
function put(o: Record<string, unknown>, key: string, v: unknown): void {
  const empty = v === null || v === '' || (typeof v === 'object' && Object.keys(v).length === 0);
  if (empty) Reflect.deleteProperty(o, key);
  else o[key] = v;
}

/**
 * The stored entry a key draft describes: the original's other fields are
 * kept, and so is its disabled mark ("*" in excluded-models).
 */
export function buildKeyEntry(d: KeyDraft, section: KeySection, original: KeyEntry | null): KeyEntry {
  const out: KeyEntry = { ...(original ? stripKeyEntry(original) : {}), 'api-key': keyOf(d.apiKey, original?.['api-key']) };
  put(out, 'base-url', d.baseUrl.trim());
  put(out, 'prefix', d.prefix.trim());
  put(out, 'proxy-url', d.proxyUrl.trim());
  put(out, 'weight', intOrNull(d.weight));
  if (section.priority) put(out, 'priority', intOrNull(d.priority));
  put(out, 'headers', headersOf(d.headers));
  if (section.models) put(out, 'models', modelsOf(d.models, original?.models));
  const excluded = splitList(d.excluded);
  if (original && isKeyDisabled(original)) excluded.push('*');
  put(out, 'excluded-models', excluded);
  return out;
}

/** The stored provider a draft describes; other fields of the original are kept. */
export function buildCompat(d: CompatDraft, original: CompatProvider | null): CompatProvider {
  const base: CompatProvider = original ? stripCompat(original) : { name: '', 'base-url': '' };
  const prevKeys = base['api-key-entries'] ?? [];
  const keys: CompatKey[] = [];
  for (const row of d.keys) {
    const key = keyOf(row.apiKey, row.original);
    if (key === '') continue;
    const prev = row.original !== null ? prevKeys.find((k) => k['api-key'] === row.original) : undefined;
    const k: CompatKey = { ...(prev ?? {}), 'api-key': key };
    put(k, 'weight', intOrNull(row.weight));
    put(k, 'proxy-url', row.proxyUrl.trim());
    keys.push(k);
  }
  const out: CompatProvider = { ...base, name: d.name.trim(), 'base-url': d.baseUrl.trim(), 'api-key-entries': keys };
  out.disabled = original?.disabled ?? false;
  put(out, 'prefix', d.prefix.trim());
  put(out, 'priority', intOrNull(d.priority));
  put(out, 'headers', headersOf(d.headers));
  out.models = modelsOf(d.models, original?.models);
  return out;
}

/** PUT body adding an entry: the loaded list (without auth-index) plus the new one. */
export function listWithAdded<T extends Record<string, unknown>>(loaded: T[], strip: (e: T) => T, added: T): T[] {
  return [...loaded.map(strip), added];
}

/**
 * The PATCH value editing one entry: the fields of next that differ from
 * original (stripped). A field present before and gone now is sent as null
 * (or an empty value), which clears it.
 */
export function patchValue(original: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (k === 'auth-index') continue;
    if (JSON.stringify(original[k]) !== JSON.stringify(v)) out[k] = v;
  }
  for (const [k, v] of Object.entries(original)) {
    if (k === 'auth-index' || k in next) continue;
    if (typeof v === 'string') out[k] = '';
    else if (Array.isArray(v)) out[k] = [];
    else if (typeof v === 'object' && v !== null) out[k] = {};
    else out[k] = null;
  }
  return out;
}

// ---- enable / disable ----

/** PATCH /auth-files/status body for a config API-key credential (CPA marks it in excluded-models). */
export function statusBody(authIndex: string, disabled: boolean): { name: string; auth_index: string; disabled: boolean } {
  return { name: '', auth_index: authIndex, disabled };
}

// ---- connectivity test ----

export interface ProbeRequest {
  auth_index: string;
  method: 'GET';
  url: string;
  header: Record<string, string>;
}

function join(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** The /api-call request that lists the models of a credential at its provider. */
export function probeRequest(section: SectionId, authIndex: string, baseUrl: string | undefined): ProbeRequest {
  const def = section === 'compat' ? '' : (KEY_SECTIONS.find((s) => s.id === section)?.defaultBaseUrl ?? '');
  const base = (baseUrl ?? '').trim() || def;
  let url: string;
  let header: Record<string, string>;
  switch (section) {
    case 'claude':
      url = join(base, '/v1/models');
      header = { 'x-api-key': '$TOKEN$', 'anthropic-version': '2023-06-01' };
      break;
    case 'gemini':
    case 'interactions':
      url = join(base, '/v1beta/models');
      header = { 'x-goog-api-key': '$TOKEN$' };
      break;
    case 'vertex':
      url = join(base, '/v1beta1/publishers/google/models');
      header = { 'x-goog-api-key': '$TOKEN$' };
      break;
    default:
      url = join(base, '/models');
      header = { Authorization: 'Bearer $TOKEN$' };
  }
  return { auth_index: authIndex, method: 'GET', url, header };
}

export interface ApiCallResponse {
  status_code: number;
  header?: Record<string, string[]>;
  body?: string;
}

export interface ProbeResult {
  status: number;
  ok: boolean;
  latencyMs: number;
  /** Models listed by the answer (data[], models[]), when it parses. */
  models: number | null;
  /** The start of the answer's body when it is not a success. */
  error: string | null;
}

const ERROR_LIMIT = 300;

/** Reads an /api-call answer: status, model count, or the (truncated) error body. */
export function readProbe(r: ApiCallResponse, latencyMs: number): ProbeResult {
  const status = r.status_code;
  const ok = status >= 200 && status < 300;
  const body = r.body ?? '';
  let models: number | null = null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>;
      const list = Array.isArray(o.data) ? o.data : Array.isArray(o.models) ? o.models : null;
      if (list) models = list.length;
    }
  } catch {
    // not JSON: shown as text below
  }
  let error: string | null = null;
  if (!ok) {
    const text = body.trim();
    error = text.length > ERROR_LIMIT ? text.slice(0, ERROR_LIMIT) + '…' : text;
  }
  return { status, ok, latencyMs: Math.round(latencyMs), models: ok ? models : null, error };
}

// ---- usage ----

export interface UsageRow {
  key: string;
  other: boolean;
  attempts: number;
  succeeded: number;
  failed: number;
  costUsd: number;
  unpriced: number;
  tokens: { total: number };
}

export interface CredentialUsage {
  attempts: number;
  succeeded: number;
  /** succeeded / attempts; null without attempts. */
  successRate: number | null;
  tokens: number;
  costUsd: number;
  unpriced: number;
}

/** Indexes an account breakdown (key = auth_index) by auth-index; the "other" row is left out. */
export function usageByAuthIndex(rows: readonly UsageRow[]): Map<string, CredentialUsage> {
  const out = new Map<string, CredentialUsage>();
  for (const r of rows) {
    if (r.other || r.key === '') continue;
    const prev = out.get(r.key);
    const attempts = (prev?.attempts ?? 0) + r.attempts;
    const succeeded = (prev?.succeeded ?? 0) + r.succeeded;
    out.set(r.key, {
      attempts,
      succeeded,
      successRate: attempts > 0 ? succeeded / attempts : null,
      tokens: (prev?.tokens ?? 0) + r.tokens.total,
      costUsd: (prev?.costUsd ?? 0) + r.costUsd,
      unpriced: (prev?.unpriced ?? 0) + r.unpriced,
    });
  }
  return out;
}

/** Sums the usage of several credentials (an OpenAI-compatible provider's keys). */
export function sumUsage(items: (CredentialUsage | undefined)[]): CredentialUsage | undefined {
  const present = items.filter((x): x is CredentialUsage => x !== undefined);
  if (present.length === 0) return undefined;
  const attempts = present.reduce((n, u) => n + u.attempts, 0);
  const succeeded = present.reduce((n, u) => n + u.succeeded, 0);
  return {
    attempts,
    succeeded,
    successRate: attempts > 0 ? succeeded / attempts : null,
    tokens: present.reduce((n, u) => n + u.tokens, 0),
    costUsd: present.reduce((n, u) => n + u.costUsd, 0),
    unpriced: present.reduce((n, u) => n + u.unpriced, 0),
  };
}

/** Reads a list answer {"<field>": [...]}; anything else is an empty list. */
export function listOf<T>(body: unknown, field: string): T[] {
  if (body && typeof body === 'object') {
    const v = (body as Record<string, unknown>)[field];
    if (Array.isArray(v)) return v as T[];
  }
  return [];
}
