// Pure logic of the auth files page: the entry shape CPA answers with, the
// usage join, search and filters, upload validation, the answers of batch
// uploads and deletes, the field edit diff, and the two OAuth model maps.

/** An entry of GET /auth-files (cpa-protocol §8.1); every field but name may be missing. */
export interface AuthFileEntry {
  name: string;
  id?: string;
  auth_index?: string;
  type?: string;
  provider?: string;
  label?: string;
  email?: string;
  account?: string;
  status?: string;
  status_message?: string;
  disabled?: boolean;
  unavailable?: boolean;
  runtime_only?: boolean;
  source?: string;
  size?: number;
  success?: number;
  failed?: number;
  project_id?: string;
  priority?: number | null;
  weight?: number | null;
  note?: string;
  proxy_url?: string;
  headers?: Record<string, string>;
  websockets?: boolean;
  last_refresh?: string;
  next_retry_after?: string;
  modtime?: string;
  created_at?: string;
  updated_at?: string;
}

export interface AuthFilesResponse {
  files?: (AuthFileEntry | null)[] | null;
}

/** Usage of one account (auth_index) in the usage store. */
export interface AccountUsage {
  attempts: number;
  failed: number;
  tokens: number;
  costUsd: number;
  unpriced: number;
}

/** The part of a breakdown row the page reads. */
export interface UsageRowLike {
  key: string;
  other: boolean;
  attempts: number;
  failed: number;
  tokens: { total?: number } | null | undefined;
  costUsd: number;
  unpriced: number;
}

/** Usage by auth_index (the "other" row and empty keys are dropped). */
export function usageByAuthIndex(rows: readonly UsageRowLike[]): Map<string, AccountUsage> {
  const out = new Map<string, AccountUsage>();
  for (const r of rows) {
    if (r.other || r.key === '') continue;
    out.set(r.key, {
      attempts: r.attempts,
      failed: r.failed,
      tokens: r.tokens?.total ?? 0,
      costUsd: r.costUsd,
      unpriced: r.unpriced,
    });
  }
  return out;
}

/** The provider shown for an entry: provider, else type, else "unknown". */
export function providerOf(f: AuthFileEntry): string {
  return (f.provider ?? f.type ?? '').trim().toLowerCase() || 'unknown';
}

/** The status shown for an entry; a disabled file counts as "disabled". */
export function statusOf(f: AuthFileEntry): string {
  if (f.disabled) return 'disabled';
  return (f.status ?? '').trim().toLowerCase() || 'unknown';
}

export type StatusTone = 'ok' | 'warn' | 'danger' | 'neutral' | 'info';

export function statusTone(status: string): StatusTone {
  switch (status) {
    case 'active':
      return 'ok';
    case 'error':
      return 'danger';
    case 'pending':
    case 'refreshing':
      return 'info';
    case 'disabled':
      return 'warn';
    default:
      return 'neutral';
  }
}

export interface Filters {
  search: string;
  /** '' = all. */
  provider: string;
  /** '' = all. */
  status: string;
  /** all, enabled or disabled. */
  disabled: 'all' | 'enabled' | 'disabled';
}

export const NO_FILTERS: Filters = { search: '', provider: '', status: '', disabled: 'all' };

/** The entries matching the search (name, email, label, account; case-insensitive) and the filters. */
export function filterFiles(files: readonly AuthFileEntry[], filters: Filters): AuthFileEntry[] {
  const terms = filters.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return files.filter((f) => {
    if (filters.provider && providerOf(f) !== filters.provider) return false;
    if (filters.status && statusOf(f) !== filters.status) return false;
    if (filters.disabled === 'enabled' && f.disabled) return false;
    if (filters.disabled === 'disabled' && !f.disabled) return false;
    if (terms.length === 0) return true;
    const hay = [f.name, f.email, f.label, f.account].filter(Boolean).join(' ').toLowerCase();
    return terms.every((t) => hay.includes(t));
  });
}

/** Distinct sorted values for a filter's options. */
export function distinctValues(files: readonly AuthFileEntry[], of: (f: AuthFileEntry) => string): string[] {
  return [...new Set(files.map(of))].sort((a, b) => a.localeCompare(b));
}

/** Keeps only the selected names that still exist. */
export function pruneSelection(selected: ReadonlySet<string>, files: readonly AuthFileEntry[]): Set<string> {
  const names = new Set(files.map((f) => f.name));
  return new Set([...selected].filter((n) => names.has(n)));
}

/** The first non-empty text, or ''. */
export function firstText(...values: (string | null | undefined)[]): string {
  for (const v of values) if (v !== undefined && v !== null && v !== '') return v;
  return '';
}

/** Removes key from a record (a new object). */
export function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(record)) if (k !== key) out[k] = v;
  return out;
}

/**
 * A file name split for a middle ellipsis: the head may be shortened in the
 * table, the tail (about the last tailLength characters, starting after a
 * '-', '.', '@' or '_' when one is near) always shows, so names that differ
 * only at the end ("…-plus.json", "…-team.json") stay apart.
 */
export function nameParts(name: string, tailLength = 12): { head: string; tail: string } {
  if (name.length <= tailLength + 8) return { head: name, tail: '' };
  const cut = name.length - tailLength;
  let at = cut;
  for (let i = cut - 4; i <= cut + 4; i++) {
    if ('-.@_'.includes(name.charAt(i - 1))) {
      at = i;
      break;
    }
  }
  return { head: name.slice(0, at), tail: name.slice(at) };
}

// ---- Upload validation ----

export type NameProblem = 'nameRequired' | 'nameInvalid' | 'nameNotJson';
export type JsonProblem = 'jsonEmpty' | 'jsonInvalid' | 'jsonNotObject';

/** A file name CPA accepts: a plain name (no path) ending in .json. */
export function checkFileName(raw: string): NameProblem | null {
  const name = raw.trim();
  if (name === '') return 'nameRequired';
  if (name === '.' || name === '..' || /[/\\]/.test(name)) return 'nameInvalid';
  if (!name.toLowerCase().endsWith('.json') || name.length <= 5) return 'nameNotJson';
  return null;
}

/** CPA stores auth files as JSON objects. */
export function checkJson(text: string): JsonProblem | null {
  if (text.trim() === '') return 'jsonEmpty';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'jsonInvalid';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'jsonNotObject';
  return null;
}

/** Adds .json to a pasted name without an extension. */
export function normalizePastedName(raw: string): string {
  const name = raw.trim();
  if (name === '' || name.toLowerCase().endsWith('.json')) return name;
  return name + '.json';
}

export interface FileCheck {
  name: string;
  problem: NameProblem | JsonProblem | 'duplicate' | null;
}

/** Checks files picked for upload (name and content); duplicates after the first are refused. */
export function checkUploads(files: readonly { name: string; text: string }[]): FileCheck[] {
  const seen = new Set<string>();
  return files.map((f) => {
    const problem = checkFileName(f.name) ?? checkJson(f.text);
    if (problem) return { name: f.name, problem };
    if (seen.has(f.name)) return { name: f.name, problem: 'duplicate' };
    seen.add(f.name);
    return { name: f.name, problem: null };
  });
}

export interface BatchFailure {
  name: string;
  error: string;
}

export interface BatchResult {
  done: string[];
  failed: BatchFailure[];
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function failuresOf(v: unknown): BatchFailure[] {
  if (!Array.isArray(v)) return [];
  const out: BatchFailure[] = [];
  for (const item of v) {
    const r = asRecord(item);
    if (!r) continue;
    out.push({ name: typeof r.name === 'string' ? r.name : '', error: typeof r.error === 'string' ? r.error : '' });
  }
  return out;
}

/**
 * Reads the answer of a multipart upload or a batch delete: 200 with
 * "files", 207 partial (or an error status) with "failed". sent are the
 * names sent; a plain {"status":"ok"} means all of them.
 */
export function readBatchResult(body: unknown, sent: readonly string[]): BatchResult {
  const r = asRecord(body) ?? {};
  const failed = failuresOf(r.failed);
  let done: string[];
  if (Array.isArray(r.files)) {
    done = r.files.filter((x): x is string => typeof x === 'string');
  } else if (r.status === 'ok') {
    done = [...sent];
  } else {
    const failedNames = new Set(failed.map((f) => f.name));
    done = sent.filter((n) => !failedNames.has(n));
    if (failed.length === 0) done = [];
  }
  return { done, failed };
}

// ---- Field edit ----

export interface HeaderRow {
  key: string;
  value: string;
}

export interface FieldDraft {
  priority: string;
  weight: string;
  note: string;
  proxyUrl: string;
  headers: HeaderRow[];
  websockets: boolean;
}

export function draftOf(f: AuthFileEntry): FieldDraft {
  return {
    priority: f.priority === undefined || f.priority === null ? '' : String(f.priority),
    weight: f.weight === undefined || f.weight === null ? '' : String(f.weight),
    note: f.note ?? '',
    proxyUrl: f.proxy_url ?? '',
    headers: Object.entries(f.headers ?? {}).map(([key, value]) => ({ key, value })),
    websockets: f.websockets ?? false,
  };
}

/**
 * CPA's list does not report proxy_url and headers; the file itself holds
 * them. Returns the entry with the values read from the downloaded JSON
 * (the tokens in it are not kept).
 */
export function withFileFields(entry: AuthFileEntry, raw: unknown): AuthFileEntry {
  const r = asRecord(raw);
  if (!r) return entry;
  const out: AuthFileEntry = { ...entry };
  if (typeof r.proxy_url === 'string') out.proxy_url = r.proxy_url;
  const h = asRecord(r.headers);
  if (h) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) if (typeof v === 'string') headers[k] = v;
    out.headers = headers;
  }
  if (out.note === undefined && typeof r.note === 'string') out.note = r.note;
  if (out.websockets === undefined && typeof r.websockets === 'boolean') out.websockets = r.websockets;
  return out;
}

export type FieldProblem = 'priorityInteger' | 'weightInteger' | 'headerKey' | 'headerDuplicate' | 'proxyUrl' | 'noChanges';

export type FieldPatch = Record<string, string | number | boolean | Record<string, string> | null>;

function parseInteger(text: string): number | null | 'bad' {
  const s = text.trim();
  if (s === '') return null;
  if (!/^[-+]?\d+$/.test(s)) return 'bad';
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : 'bad';
}

function headersObject(rows: readonly HeaderRow[]): Record<string, string> | FieldProblem {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const row of rows) {
    const key = row.key.trim();
    if (key === '' && row.value.trim() === '') continue;
    if (key === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) return 'headerKey';
    if (seen.has(key.toLowerCase())) return 'headerDuplicate';
    seen.add(key.toLowerCase());
    out[key] = row.value;
  }
  return out;
}

function sameHeaders(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * The PATCH /auth-files/fields body for the changed fields only (without
 * "name"), or the first problem. A cleared number or text is sent as null,
 * which removes the key.
 */
export function fieldPatch(
  original: AuthFileEntry,
  draft: FieldDraft,
): { ok: true; patch: FieldPatch } | { ok: false; problem: FieldProblem } {
  const before = draftOf(original);
  const patch: FieldPatch = {};
  const priority = parseInteger(draft.priority);
  if (priority === 'bad') return { ok: false, problem: 'priorityInteger' };
  const weight = parseInteger(draft.weight);
  if (weight === 'bad') return { ok: false, problem: 'weightInteger' };
  if (draft.proxyUrl.trim() !== '' && !/^(https?|socks5h?):\/\/[^\s]+$/i.test(draft.proxyUrl.trim())) {
    return { ok: false, problem: 'proxyUrl' };
  }
  const headers = headersObject(draft.headers);
  if (typeof headers === 'string') return { ok: false, problem: headers };

  if (draft.priority.trim() !== before.priority) patch.priority = priority;
  if (draft.weight.trim() !== before.weight) patch.weight = weight;
  if (draft.note !== before.note) patch.note = draft.note === '' ? null : draft.note;
  if (draft.proxyUrl.trim() !== before.proxyUrl) patch.proxy_url = draft.proxyUrl.trim() === '' ? null : draft.proxyUrl.trim();
  if (!sameHeaders(headers, original.headers ?? {})) patch.headers = Object.keys(headers).length === 0 ? null : headers;
  if (draft.websockets !== before.websockets) patch.websockets = draft.websockets;
  if (Object.keys(patch).length === 0) return { ok: false, problem: 'noChanges' };
  return { ok: true, patch };
}

// ---- OAuth excluded models and model aliases ----

/** Model patterns from a text: one per line or comma separated, trimmed, without duplicates. */
export function parsePatterns(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\n,]/)) {
    const p = part.trim();
    if (p !== '' && !out.includes(p)) out.push(p);
  }
  return out;
}

/** A provider or channel key as CPA stores it (lower case, trimmed). */
export function normalizeKey(raw: string): string {
  return raw.trim().toLowerCase();
}

/** The excluded-models map of GET /oauth-excluded-models, sorted by provider. */
export function excludedEntries(body: unknown): { provider: string; models: string[] }[] {
  const m = asRecord(asRecord(body)?.['oauth-excluded-models']);
  if (!m) return [];
  return Object.entries(m)
    .map(([provider, v]) => ({ provider, models: Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [] }))
    .sort((a, b) => a.provider.localeCompare(b.provider));
}

export interface AliasRow {
  name: string;
  alias: string;
  fork: boolean;
}

/** The alias map of GET /oauth-model-alias, sorted by channel. */
export function aliasEntries(body: unknown): { channel: string; aliases: AliasRow[] }[] {
  const m = asRecord(asRecord(body)?.['oauth-model-alias']);
  if (!m) return [];
  return Object.entries(m)
    .map(([channel, v]) => ({
      channel,
      aliases: (Array.isArray(v) ? v : []).flatMap((item): AliasRow[] => {
        const r = asRecord(item);
        if (!r) return [];
        return [
          { name: typeof r.name === 'string' ? r.name : '', alias: typeof r.alias === 'string' ? r.alias : '', fork: r.fork === true },
        ];
      }),
    }))
    .sort((a, b) => a.channel.localeCompare(b.channel));
}

export type AliasProblem = 'aliasIncomplete' | 'aliasDuplicate' | 'aliasEmpty';

/** Cleans alias rows for a PATCH: drops empty rows, needs name and alias, no alias twice. */
export function cleanAliases(rows: readonly AliasRow[]): { ok: true; aliases: AliasRow[] } | { ok: false; problem: AliasProblem } {
  const out: AliasRow[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const name = r.name.trim();
    const alias = r.alias.trim();
    if (name === '' && alias === '') continue;
    if (name === '' || alias === '') return { ok: false, problem: 'aliasIncomplete' };
    const key = alias.toLowerCase();
    if (seen.has(key)) return { ok: false, problem: 'aliasDuplicate' };
    seen.add(key);
    out.push(r.fork ? { name, alias, fork: true } : { name, alias, fork: false });
  }
  if (out.length === 0) return { ok: false, problem: 'aliasEmpty' };
  return { ok: true, aliases: out };
}
