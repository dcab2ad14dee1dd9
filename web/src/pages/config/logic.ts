// The pure logic of the configuration page: which of CPA's scalar settings
// the visual editor shows, how GET /config maps to form values (only these
// keys are read: /config also carries api-keys and provider keys, which the
// page never keeps), which settings an edit changed, validation, and the
// management call that saves each changed setting.

/** The settings the editor shows; the id is also the test id suffix (config-field-<id>). */
export const SETTING_IDS = [
  'debug',
  'logging-to-file',
  'logs-max-total-size-mb',
  'error-logs-max-files',
  'request-log',
  'usage-statistics-enabled',
  'proxy-url',
  'ws-auth',
  'request-retry',
  'max-retry-credentials',
  'max-retry-interval',
  'routing-strategy',
  'force-model-prefix',
  'quota-exceeded-switch-project',
  'quota-exceeded-switch-preview-model',
] as const;

export type SettingId = (typeof SETTING_IDS)[number];
export type SettingKind = 'bool' | 'int' | 'url' | 'strategy';
export type GroupId = 'logging' | 'usage' | 'network' | 'retries' | 'quota';

export interface SettingDef {
  id: SettingId;
  kind: SettingKind;
  group: GroupId;
  /** Where the value sits in GET /config (nested sections are a path). */
  configPath: readonly string[];
  /** The management route (relative to the management base). */
  route: string;
}

function def(id: SettingId, kind: SettingKind, group: GroupId, configPath: readonly string[], route: string): SettingDef {
  return { id, kind, group, configPath, route };
}

export const SETTINGS: readonly SettingDef[] = [
  def('debug', 'bool', 'logging', ['debug'], '/debug'),
  def('logging-to-file', 'bool', 'logging', ['logging-to-file'], '/logging-to-file'),
  def('logs-max-total-size-mb', 'int', 'logging', ['logs-max-total-size-mb'], '/logs-max-total-size-mb'),
  def('error-logs-max-files', 'int', 'logging', ['error-logs-max-files'], '/error-logs-max-files'),
  def('request-log', 'bool', 'logging', ['request-log'], '/request-log'),
  def('usage-statistics-enabled', 'bool', 'usage', ['usage-statistics-enabled'], '/usage-statistics-enabled'),
  def('proxy-url', 'url', 'network', ['proxy-url'], '/proxy-url'),
  def('ws-auth', 'bool', 'network', ['ws-auth'], '/ws-auth'),
  def('request-retry', 'int', 'retries', ['request-retry'], '/request-retry'),
  def('max-retry-credentials', 'int', 'retries', ['max-retry-credentials'], '/max-retry-credentials'),
  def('max-retry-interval', 'int', 'retries', ['max-retry-interval'], '/max-retry-interval'),
  def('routing-strategy', 'strategy', 'retries', ['routing', 'strategy'], '/routing/strategy'),
  def('force-model-prefix', 'bool', 'retries', ['force-model-prefix'], '/force-model-prefix'),
  def('quota-exceeded-switch-project', 'bool', 'quota', ['quota-exceeded', 'switch-project'], '/quota-exceeded/switch-project'),
  def(
    'quota-exceeded-switch-preview-model',
    'bool',
    'quota',
    ['quota-exceeded', 'switch-preview-model'],
    '/quota-exceeded/switch-preview-model',
  ),
];

export const GROUPS: readonly GroupId[] = ['logging', 'usage', 'network', 'retries', 'quota'];

/** CPA's routing strategies (canonical names; CPA also accepts rr, wrr, ff). */
export const STRATEGIES = ['round-robin', 'weighted-round-robin', 'fill-first'] as const;

/** Form values: booleans for switches, the typed text for everything else. */
export type FormValues = Record<SettingId, boolean | string>;

export interface LoadedConfig {
  values: FormValues;
  /** Settings GET /config did not carry (shown with their default). */
  missing: SettingId[];
  /** redis-usage-queue-retention-seconds: read-only here (CPA has no route for it), null when absent. */
  retentionSeconds: number | null;
}

export function settingDef(id: SettingId): SettingDef {
  const d = SETTINGS.find((s) => s.id === id);
  if (!d) throw new Error(`unknown setting ${id}`);
  return d;
}

function lookup(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function defaultValue(kind: SettingKind): boolean | string {
  switch (kind) {
    case 'bool':
      return false;
    case 'int':
      return '0';
    case 'url':
      return '';
    case 'strategy':
      return 'round-robin';
  }
}

/** Canonical strategy name for CPA's spellings; "" means round-robin; null when unknown. */
export function normalizeStrategy(v: string): string | null {
  const s = v.trim().toLowerCase();
  if (s === '' || s === 'rr' || s === 'round-robin') return 'round-robin';
  if (s === 'wrr' || s === 'weighted-round-robin') return 'weighted-round-robin';
  if (s === 'ff' || s === 'fill-first') return 'fill-first';
  return null;
}

function readValue(kind: SettingKind, raw: unknown): boolean | string | undefined {
  switch (kind) {
    case 'bool':
      return typeof raw === 'boolean' ? raw : undefined;
    case 'int':
      return typeof raw === 'number' && Number.isFinite(raw) ? String(Math.trunc(raw)) : undefined;
    case 'url':
      return typeof raw === 'string' ? raw : raw === null ? '' : undefined;
    case 'strategy':
      return typeof raw === 'string' ? (normalizeStrategy(raw) ?? raw) : undefined;
  }
}

/**
 * Form values from GET /config. Only the scalar keys of SETTINGS are read;
 * nothing else of the document (keys, secrets) is kept.
 */
export function formFromConfig(config: unknown): LoadedConfig {
  const values = {} as FormValues;
  const missing: SettingId[] = [];
  for (const s of SETTINGS) {
    const v = readValue(s.kind, lookup(config, s.configPath));
    if (v === undefined) {
      missing.push(s.id);
      values[s.id] = defaultValue(s.kind);
    } else {
      values[s.id] = v;
    }
  }
  const r = lookup(config, ['redis-usage-queue-retention-seconds']);
  return { values, missing, retentionSeconds: typeof r === 'number' && Number.isFinite(r) ? r : null };
}

/** The value as it would be sent: trimmed text, numbers parsed. */
function canonical(kind: SettingKind, v: boolean | string): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = v.trim();
  if (kind === 'int' && /^\d+$/.test(s)) return String(Number(s));
  if (kind === 'strategy') return normalizeStrategy(s) ?? s;
  return s;
}

/** The settings whose current value differs from the loaded one, in display order. */
export function changedSettings(initial: FormValues, current: FormValues): SettingId[] {
  return SETTINGS.filter((s) => canonical(s.kind, initial[s.id]) !== canonical(s.kind, current[s.id])).map((s) => s.id);
}

export type ValidationError = 'integer' | 'tooLarge' | 'url' | 'urlScheme' | 'strategy' | 'type';

const MAX_INT = 2_147_483_647;
const PROXY_SCHEMES = ['http:', 'https:', 'socks5:', 'socks5h:'];

/** Checks one value; null when it can be saved. Empty proxy URL is valid (it clears the proxy). */
export function validateSetting(id: SettingId, value: boolean | string): ValidationError | null {
  const { kind } = settingDef(id);
  if (kind === 'bool') return typeof value === 'boolean' ? null : 'type';
  if (typeof value !== 'string') return 'type';
  const v = value.trim();
  switch (kind) {
    case 'int':
      if (!/^\d+$/.test(v)) return 'integer';
      return Number(v) > MAX_INT ? 'tooLarge' : null;
    case 'url': {
      if (v === '') return null;
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        return 'url';
      }
      if (!PROXY_SCHEMES.includes(url.protocol)) return 'urlScheme';
      return url.hostname === '' ? 'url' : null;
    }
    case 'strategy':
      return normalizeStrategy(v) === null || v === '' ? 'strategy' : null;
  }
}

/** The invalid settings of a form and why. */
export function validateForm(values: FormValues): Partial<Record<SettingId, ValidationError>> {
  const errors: Partial<Record<SettingId, ValidationError>> = {};
  for (const s of SETTINGS) {
    const e = validateSetting(s.id, values[s.id]);
    if (e !== null) errors[s.id] = e;
  }
  return errors;
}

export interface SettingRequest {
  id: SettingId;
  method: 'PUT' | 'DELETE';
  path: string;
  /** {"value": V}; absent for DELETE. */
  body?: { value: boolean | number | string };
}

/** The management call that saves one setting (an empty proxy URL is a DELETE). */
export function buildRequest(id: SettingId, value: boolean | string): SettingRequest {
  const s = settingDef(id);
  const err = validateSetting(id, value);
  if (err !== null) throw new Error(`invalid ${id}: ${err}`);
  switch (s.kind) {
    case 'bool':
      return { id, method: 'PUT', path: s.route, body: { value: value as boolean } };
    case 'int':
      return { id, method: 'PUT', path: s.route, body: { value: Number((value as string).trim()) } };
    case 'url': {
      const v = (value as string).trim();
      return v === '' ? { id, method: 'DELETE', path: s.route } : { id, method: 'PUT', path: s.route, body: { value: v } };
    }
    case 'strategy':
      return { id, method: 'PUT', path: s.route, body: { value: normalizeStrategy(value as string) ?? '' } };
  }
}

/** The calls that save every changed setting, in display order. */
export function buildRequests(initial: FormValues, current: FormValues): SettingRequest[] {
  return changedSettings(initial, current).map((id) => buildRequest(id, current[id]));
}

export type SaveResult = { id: SettingId; ok: true } | { id: SettingId; ok: false; message: string };

/**
 * Sends the calls one by one (CPA saves and reloads its config after each)
 * and reports each outcome; a failure does not stop the rest.
 */
export async function sendAll(requests: readonly SettingRequest[], send: (r: SettingRequest) => Promise<unknown>): Promise<SaveResult[]> {
  const results: SaveResult[] = [];
  for (const r of requests) {
    try {
      await send(r);
      results.push({ id: r.id, ok: true });
    } catch (e) {
      results.push({ id: r.id, ok: false, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}

// ---------------------------------------------------------------------------
// config.yaml editor: a line diff for the review step and the line CPA's
// error message names.

export type DiffKind = 'same' | 'add' | 'del';

/** One line of a diff: oldNo/newNo are 1-based line numbers (null where the line does not exist). */
export interface DiffLine {
  kind: DiffKind;
  oldNo: number | null;
  newNo: number | null;
  text: string;
}

/** Splits text into lines; a final newline does not add an empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The shortest edit script between the lines a and b (Myers' O((N+M)·D)
 * algorithm), as a list of kept, deleted and added lines in order. The
 * common head and tail are taken off first, so small edits of a large file
 * stay cheap.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;

  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', oldNo: i + 1, newNo: i + 1, text: a[i] ?? '' });
  for (const op of myers(a.slice(head, a.length - tail), b.slice(head, b.length - tail))) {
    const oldNo = op.kind === 'add' ? null : head + op.ai + 1;
    const newNo = op.kind === 'del' ? null : head + op.bi + 1;
    out.push({ kind: op.kind, oldNo, newNo, text: (op.kind === 'add' ? b[head + op.bi] : a[head + op.ai]) ?? '' });
  }
  for (let k = tail; k > 0; k--) {
    out.push({ kind: 'same', oldNo: a.length - k + 1, newNo: b.length - k + 1, text: a[a.length - k] ?? '' });
  }
  return out;
}

interface EditOp {
  kind: DiffKind;
  ai: number;
  bi: number;
}

function cell(v: Int32Array, i: number): number {
  return v[i] ?? 0;
}

/** Bounds the memory of the diff trace (Int32 cells, 4 bytes each). */
const MAX_TRACE_CELLS = 8_000_000;

function myers(a: readonly string[], b: readonly string[]): EditOp[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((_, bi) => ({ kind: 'add', ai: 0, bi }));
  if (m === 0) return a.map((_, ai) => ({ kind: 'del', ai, bi: 0 }));
  const max = n + m;
  const offset = max;
  // v[k + offset] = the furthest x on diagonal k; trace keeps v after each step d.
  let v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    if ((d + 1) * v.length > MAX_TRACE_CELLS) {
      // Too different to trace cheaply: everything old goes, everything new comes.
      return [...a.map((_, ai): EditOp => ({ kind: 'del', ai, bi: 0 })), ...b.map((_, bi): EditOp => ({ kind: 'add', ai: n, bi }))];
    }
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      const left = cell(v, k - 1 + offset);
      const right = cell(v, k + 1 + offset);
      let x = k === -d || (k !== d && left < right) ? right : left + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[k + offset] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
  }
  // Walk the trace back from (n, m) to (0, 0).
  const ops: EditOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const pv = trace[d] ?? v;
    const k = x - y;
    const down = k === -d || (k !== d && cell(pv, k - 1 + offset) < cell(pv, k + 1 + offset));
    const prevK = down ? k + 1 : k - 1;
    const prevX = cell(pv, prevK + offset);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: 'same', ai: x, bi: y });
    }
    if (down) {
      y--;
      ops.push({ kind: 'add', ai: x, bi: y });
    } else {
      x--;
      ops.push({ kind: 'del', ai: x, bi: y });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    ops.push({ kind: 'same', ai: x, bi: y });
  }
  return ops.reverse();
}

/** A diff row to show: a line, or a run of unchanged lines folded away. */
export type DiffRow = { type: 'line'; line: DiffLine } | { type: 'gap'; start: number; count: number };

/**
 * The rows of a diff showing every change with `context` unchanged lines
 * around it; longer runs of unchanged lines become gaps (start is the
 * index in lines of the first hidden line). A diff without changes is a
 * single gap.
 */
export function diffRows(lines: readonly DiffLine[], context = 3): DiffRow[] {
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((l, i) => {
    if (l.kind === 'same') return;
    for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++) keep[j] = true;
  });
  const rows: DiffRow[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (keep[i] && line) {
      rows.push({ type: 'line', line });
      i++;
      continue;
    }
    const start = i;
    while (i < lines.length && !keep[i]) i++;
    rows.push({ type: 'gap', start, count: i - start });
  }
  return rows;
}

/** Counts of added and deleted lines. */
export function diffStats(lines: readonly DiffLine[]): { added: number; deleted: number } {
  let added = 0;
  let deleted = 0;
  for (const l of lines) {
    if (l.kind === 'add') added++;
    else if (l.kind === 'del') deleted++;
  }
  return { added, deleted };
}

/** The first line number an error message names ("yaml: line 3: …", "line 12: cannot unmarshal"), or null. */
export function lineFromMessage(message: string): number | null {
  const m = /\bline (\d+)\b/i.exec(message);
  if (!m) return null;
  const n = Number(m[1] ?? '');
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * The key path a semantic error message starts with ("routing.strategy: …",
 * "openai-compatibility[0]: name is required") as path segments, or null.
 */
export function keyPathFromMessage(message: string): (string | number)[] | null {
  const m = /^([A-Za-z0-9_-]+(?:\[\d+\]|\.[A-Za-z0-9_-]+)*):\s/.exec(message.trim());
  const spec = m?.[1];
  if (spec === undefined) return null;
  const path: (string | number)[] = [];
  for (const part of spec.matchAll(/([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    if (part[2] !== undefined) path.push(Number(part[2]));
    else if (part[1] !== undefined) path.push(part[1]);
  }
  return path;
}

/** A whole span of seconds in its largest exact unit: 7776000 → {n: 90, unit: 'd'}; 0 → {n: 0, unit: 's'}. */
export function spanParts(seconds: number): { n: number; unit: 'd' | 'h' | 'min' | 's' } {
  const s = Math.max(0, Math.round(seconds));
  if (s > 0 && s % 86400 === 0) return { n: s / 86400, unit: 'd' };
  if (s > 0 && s % 3600 === 0) return { n: s / 3600, unit: 'h' };
  if (s > 0 && s % 60 === 0) return { n: s / 60, unit: 'min' };
  return { n: s, unit: 's' };
}
