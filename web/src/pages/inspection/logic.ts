// Codex inspection: classify each Codex account from its wham/usage probe
// into a suggested action, build the run record the usage service keeps,
// and the CPA calls that apply the chosen actions. Pure functions.
import {
  decodeBody,
  isDeactivatedWorkspace,
  kindOfSeconds,
  num,
  parseCodexUsage,
  type QuotaAuthFile,
  type QuotaWindow,
} from '../quota/logic';

export const ACTIONS = ['keep', 'enable', 'disable', 'reauth', 'delete', 'error'] as const;
export type InspectionAction = (typeof ACTIONS)[number];

/** Actions applied through CPA (reauth needs the user; keep and error need nothing). */
export const APPLICABLE: readonly InspectionAction[] = ['enable', 'disable', 'delete'];

export const DEFAULT_THRESHOLD = 100;
export const DEFAULT_CONCURRENCY = 4;

/** Why an action was suggested; the page translates these. */
export const REASONS = [
  'deactivated_workspace',
  'token_expired',
  'token_revoked',
  'unauthorized',
  'long_exhausted',
  'long_exhausted_disabled',
  'recovered',
  'short_exhausted',
  'available',
  'incomplete',
  'http_status',
  'probe_failed',
] as const;
export type ReasonCode = (typeof REASONS)[number];

/** What one probe gave: the upstream status and body, or the failure of the call itself. */
export interface ProbeInput {
  /** null when /api-call itself failed. */
  statusCode: number | null;
  /** The /api-call body string. */
  body?: string;
  callError?: string;
  disabled: boolean;
}

export interface Classification {
  action: InspectionAction;
  reason: ReasonCode;
  detail: string | null;
  plan: string | null;
  windows: QuotaWindow[];
}

/** The stored form of a window. */
export interface ResultWindow {
  id: string;
  used_percent: number | null;
  window_seconds: number | null;
  reset_at: string | null;
}

export interface AppliedOutcome {
  action: string;
  ok: boolean;
  error?: string | null;
  at?: string;
}

/** One account of a run, as POST /api/v1/inspections stores it. */
export interface InspectionResult {
  auth_index: string;
  name: string;
  email: string;
  plan: string;
  status_code: number | null;
  action: InspectionAction;
  reason: string;
  disabled: boolean;
  windows: ResultWindow[];
  /** Only in a stored run (GET /{id}). */
  applied?: AppliedOutcome | null;
}

export interface InspectionSettings {
  concurrency: number;
  threshold: number;
}

export interface InspectionRun {
  provider: 'codex';
  upstream: string;
  started_at: string;
  finished_at: string;
  settings: InspectionSettings;
  results: InspectionResult[];
}

export type ActionCounts = Record<InspectionAction, number>;

export interface RunSummary {
  id: string | number;
  provider: string;
  upstream?: string;
  started_at: string;
  finished_at: string;
  total: number;
  counts: Partial<ActionCounts>;
  applied?: number | boolean | null;
}

export interface RunDetail extends RunSummary {
  settings?: Partial<InspectionSettings>;
  results: InspectionResult[];
}

/** The windows of rate_limit (not the model-scoped ones). */
function mainWindows(windows: readonly QuotaWindow[]): QuotaWindow[] {
  return windows.filter((w) => w.id === 'primary' || w.id === 'secondary');
}

const DAY = 86400;

/**
 * The long window (weekly, or monthly on some plans): the longest window
 * over a day; without lengths, the secondary one.
 */
export function longWindow(windows: readonly QuotaWindow[]): QuotaWindow | null {
  const main = mainWindows(windows);
  const long = main.filter((w) => w.windowSeconds !== null && w.windowSeconds > DAY);
  if (long.length > 0) return long.reduce((a, b) => ((b.windowSeconds ?? 0) > (a.windowSeconds ?? 0) ? b : a));
  if (main.some((w) => w.windowSeconds !== null)) return null;
  return main.find((w) => w.id === 'secondary') ?? null;
}

/** The short (5-hour) window: the shortest window up to a day; without lengths, the primary one. */
export function shortWindow(windows: readonly QuotaWindow[]): QuotaWindow | null {
  const main = mainWindows(windows);
  const short = main.filter((w) => w.windowSeconds !== null && w.windowSeconds <= DAY);
  if (short.length > 0) return short.reduce((a, b) => ((b.windowSeconds ?? 0) < (a.windowSeconds ?? 0) ? b : a));
  if (main.some((w) => w.windowSeconds !== null)) return null;
  return main.find((w) => w.id === 'primary') ?? null;
}

/** The 401 reason: expired, revoked, or just refused. */
export function unauthorizedReason(body: string | undefined): ReasonCode {
  const text = (body ?? '').toLowerCase();
  if (/revoked|invalidated|deactivated_user|token_invalid/.test(text)) return 'token_revoked';
  if (text.includes('expired')) return 'token_expired';
  return 'unauthorized';
}

/**
 * Classifies one Codex account:
 * 402 + deactivated_workspace → delete; 401 → reauth; other failures → error;
 * long window used ≥ threshold → disable (keep when already disabled);
 * disabled, long window under the threshold and 5-hour window under the
 * threshold → enable; anything else, or incomplete data → keep.
 */
export function classify(input: ProbeInput, threshold: number, nowMs: number): Classification {
  const none = { plan: null, windows: [] as QuotaWindow[] };
  if (input.statusCode === null) {
    return { action: 'error', reason: 'probe_failed', detail: input.callError ?? null, ...none };
  }
  const status = input.statusCode;
  const body = decodeBody(input.body);
  if (status === 402 && isDeactivatedWorkspace(body)) {
    return { action: 'delete', reason: 'deactivated_workspace', detail: null, ...none };
  }
  if (status === 401) {
    return { action: 'reauth', reason: unauthorizedReason(input.body), detail: null, ...none };
  }
  if (status < 200 || status > 299) {
    return { action: 'error', reason: 'http_status', detail: `HTTP ${status}`, ...none };
  }
  const data = parseCodexUsage(body, nowMs);
  const base = { plan: data.plan, windows: data.windows, detail: null };
  const long = longWindow(data.windows);
  const short = shortWindow(data.windows);
  const longUsed = long?.usedPercent ?? null;
  const shortUsed = short?.usedPercent ?? null;

  if (longUsed !== null && longUsed >= threshold) {
    return input.disabled
      ? { action: 'keep', reason: 'long_exhausted_disabled', ...base }
      : { action: 'disable', reason: 'long_exhausted', ...base };
  }
  if (longUsed === null) return { action: 'keep', reason: 'incomplete', ...base };
  if (!input.disabled) return { action: 'keep', reason: 'available', ...base };
  // Disabled, long window available: the 5-hour window decides. A plan with
  // one (long) primary window has no 5-hour window at all.
  if (short === null) {
    return long?.id === 'primary' ? { action: 'enable', reason: 'recovered', ...base } : { action: 'keep', reason: 'incomplete', ...base };
  }
  if (shortUsed === null) return { action: 'keep', reason: 'incomplete', ...base };
  if (shortUsed >= threshold) return { action: 'keep', reason: 'short_exhausted', ...base };
  return { action: 'enable', reason: 'recovered', ...base };
}

/** A reason as stored: the code, then ": detail" when there is one. */
export function reasonText(c: Pick<Classification, 'reason' | 'detail'>): string {
  return c.detail ? `${c.reason}: ${c.detail}` : c.reason;
}

/** Splits a stored reason; code is null when it is not one of ours. */
export function parseReason(text: string): { code: ReasonCode | null; detail: string | null } {
  const i = text.indexOf(': ');
  const head = i >= 0 ? text.slice(0, i) : text;
  const detail = i >= 0 ? text.slice(i + 2) : null;
  if ((REASONS as readonly string[]).includes(head)) return { code: head as ReasonCode, detail };
  return { code: null, detail: text };
}

export function toResultWindows(windows: readonly QuotaWindow[]): ResultWindow[] {
  return windows.map((w) => ({ id: w.id, used_percent: w.usedPercent, window_seconds: w.windowSeconds, reset_at: w.resetAt }));
}

/** Back from the stored form (for showing a saved run). */
export function fromResultWindows(windows: readonly ResultWindow[] | null | undefined): QuotaWindow[] {
  return (windows ?? []).map((w) => {
    const seconds = num(w.window_seconds);
    const codeReview = w.id.startsWith('code_review_');
    return {
      id: w.id,
      kind: codeReview ? 'model' : kindOfSeconds(seconds),
      scope: codeReview ? 'code review' : null,
      usedPercent: num(w.used_percent),
      windowSeconds: seconds,
      resetAt: w.reset_at,
    };
  });
}

/** The result record of one account. */
export function buildResult(file: QuotaAuthFile, statusCode: number | null, c: Classification): InspectionResult {
  return {
    auth_index: file.auth_index ?? '',
    name: file.name,
    email: file.email ?? file.account ?? '',
    plan: c.plan ?? '',
    status_code: statusCode,
    action: c.action,
    reason: reasonText(c),
    disabled: file.disabled ?? false,
    windows: toResultWindows(c.windows),
  };
}

/** The accounts an inspection probes: every Codex auth file with an auth_index. */
export function codexTargets(files: readonly QuotaAuthFile[]): QuotaAuthFile[] {
  return files
    .filter((f) => (f.provider ?? f.type ?? '').toLowerCase() === 'codex' && (f.auth_index ?? '') !== '')
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function countActions(results: readonly Pick<InspectionResult, 'action'>[]): ActionCounts {
  const counts: ActionCounts = { keep: 0, enable: 0, disable: 0, reauth: 0, delete: 0, error: 0 };
  for (const r of results) counts[r.action]++;
  return counts;
}

/** Suggestions ticked by default: every applicable one except delete, which must be ticked by hand. */
export function defaultSelection(results: readonly InspectionResult[]): Set<string> {
  return new Set(results.filter((r) => r.action === 'enable' || r.action === 'disable').map((r) => r.auth_index));
}

export function isApplicable(action: InspectionAction): boolean {
  return APPLICABLE.includes(action);
}

/** One CPA call that applies a suggestion. */
export type ApplyStep =
  | {
      auth_index: string;
      name: string;
      action: 'enable' | 'disable';
      method: 'PATCH';
      path: '/auth-files/status';
      body: { name: string; disabled: boolean };
    }
  | { auth_index: string; name: string; action: 'delete'; method: 'DELETE'; path: '/auth-files'; query: { name: string } };

/** The calls for the selected applicable results, in list order. */
export function planApply(results: readonly InspectionResult[], selected: ReadonlySet<string>): ApplyStep[] {
  const steps: ApplyStep[] = [];
  for (const r of results) {
    if (!selected.has(r.auth_index)) continue;
    if (r.action === 'enable' || r.action === 'disable') {
      steps.push({
        auth_index: r.auth_index,
        name: r.name,
        action: r.action,
        method: 'PATCH',
        path: '/auth-files/status',
        body: { name: r.name, disabled: r.action === 'disable' },
      });
    } else if (r.action === 'delete') {
      steps.push({
        auth_index: r.auth_index,
        name: r.name,
        action: 'delete',
        method: 'DELETE',
        path: '/auth-files',
        query: { name: r.name },
      });
    }
  }
  return steps;
}

/** A threshold clamped to 1–100 (the default when not a number). */
export function clampThreshold(value: unknown): number {
  const n = num(value);
  if (n === null) return DEFAULT_THRESHOLD;
  return Math.max(1, Math.min(100, n));
}
