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
