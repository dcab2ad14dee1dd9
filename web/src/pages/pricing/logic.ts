// The pricing page's pure logic: reading the price form, building the PUT
// body, finding the models that need a price, and the recompute range.
// No React, no network: unit-tested in logic.test.ts.
import { addDays, startOfDay, toZonedRfc3339, type CalendarDate } from '../../lib/time';
import type { Price, PriceEntry, PriceInput, PricesPut, SyncCandidates } from './types';

// ---- the price form ----

export type FieldError = 'required' | 'notNumber' | 'negative';

export type FieldResult = { ok: true; value: number } | { ok: false; error: FieldError };

const NUMBER_PATTERN = /^\+?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * One price field (USD per 1M tokens) as typed: a plain decimal number with
 * a dot, at least 0. An empty optional field (cache read/write) is 0, which
 * the server bills at the input price.
 */
export function parsePriceField(raw: string, required: boolean): FieldResult {
  const s = raw.trim();
  if (s === '') return required ? { ok: false, error: 'required' } : { ok: true, value: 0 };
  const negative = s.startsWith('-');
  const body = negative ? s.slice(1) : s;
  if (!NUMBER_PATTERN.test(body) || (negative && body.startsWith('+'))) return { ok: false, error: 'notNumber' };
  const value = Number(body);
  if (!Number.isFinite(value)) return { ok: false, error: 'notNumber' };
  if (negative && value > 0) return { ok: false, error: 'negative' };
  return { ok: true, value };
}

/** The length of s in characters (code points), as the server counts them. */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export type ModelNameError = 'required' | 'tooLong' | 'control' | 'exists';

/** The longest model name the server takes, in characters. */
export const MAX_MODEL_NAME = 200;

// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A model name for a new price: trimmed, 1..200 characters, no control characters, not listed yet. */
export function checkModelName(raw: string, existing: ReadonlySet<string> | Record<string, unknown>): ModelNameError | null {
  const name = raw.trim();
  if (name === '') return 'required';
  if (charCount(name) > MAX_MODEL_NAME) return 'tooLong';
  if (CONTROL.test(name)) return 'control';
  const has = existing instanceof Set ? existing.has(name) : Object.prototype.hasOwnProperty.call(existing, name);
  if (has) return 'exists';
  return null;
}

export interface PriceForm {
  model: string;
  input: string;
  output: string;
  cacheRead: string;
  cacheWrite: string;
}

export type PriceFormField = keyof PriceForm;

export type PriceFormErrors = Partial<Record<PriceFormField, FieldError | ModelNameError>>;

export type PriceFormResult = { ok: true; model: string; price: PriceInput } | { ok: false; errors: PriceFormErrors };

/** The form of an existing price (numbers as the user sees them). */
export function formFromPrice(model: string, price: Price | null): PriceForm {
  const s = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    model,
    input: s(price?.input),
    output: s(price?.output),
    cacheRead: price && price.cacheRead !== 0 ? s(price.cacheRead) : '',
    cacheWrite: price && price.cacheWrite !== 0 ? s(price.cacheWrite) : '',
  };
}

/**
 * Reads the price form. isNew checks the model name against the listed
 * prices; an edit keeps the tiers of the price it changes (they are shown
 * read-only and would otherwise be lost).
 */
export function readPriceForm(
  form: PriceForm,
  options: { isNew: boolean; existing: Record<string, PriceEntry>; keepTiers?: Price['tiers'] },
): PriceFormResult {
  const errors: PriceFormErrors = {};
  const model = form.model.trim();
  if (options.isNew) {
    const e = checkModelName(form.model, options.existing);
    if (e) errors.model = e;
  }
  const fields: [Exclude<PriceFormField, 'model'>, boolean][] = [
    ['input', true],
    ['output', true],
    ['cacheRead', false],
    ['cacheWrite', false],
  ];
  const values: Partial<Record<Exclude<PriceFormField, 'model'>, number>> = {};
  for (const [field, required] of fields) {
    const r = parsePriceField(form[field], required);
    if (r.ok) values[field] = r.value;
    else errors[field] = r.error;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const price: PriceInput = {
    input: values.input ?? 0,
    output: values.output ?? 0,
    cacheRead: values.cacheRead ?? 0,
    cacheWrite: values.cacheWrite ?? 0,
  };
  if (options.keepTiers && options.keepTiers.length > 0) price.tiers = options.keepTiers.map((t) => ({ ...t }));
  return { ok: true, model, price };
}

// ---- the PUT body ----

/** The stored form of a listed price (tiers only when there are some). */
export function toPriceInput(p: Price): PriceInput {
  const out: PriceInput = { input: p.input, output: p.output, cacheRead: p.cacheRead, cacheWrite: p.cacheWrite };
  if (p.tiers.length > 0) out.tiers = p.tiers.map((t) => ({ ...t }));
  return out;
}

export const MANUAL = 'manual';
export const DEFAULT_SOURCE = 'default';

/** Whether the price is stored (manual or synced), i.e. can be deleted. */
export function isStored(entry: PriceEntry): boolean {
  return entry.source !== DEFAULT_SOURCE;
}

/**
 * The body of PUT model-prices: the complete manual set (every listed price
 * whose source is manual, unchanged) with changes laid over it. The PUT
 * replaces the manual set, so leaving a manual price out deletes it; synced
 * and built-in prices are sent only when changed (then they become manual).
 * remove leaves manual prices out on purpose.
 */
export function buildPutBody(
  prices: Record<string, PriceEntry>,
  changes: Record<string, PriceInput>,
  remove: readonly string[] = [],
): PricesPut {
  const out: Record<string, PriceInput> = {};
  for (const [model, entry] of Object.entries(prices)) {
    if (entry.source === MANUAL) out[model] = toPriceInput(entry);
  }
  for (const [model, price] of Object.entries(changes)) out[model] = price;
  for (const model of remove) Reflect.deleteProperty(out, model);
  const sorted: Record<string, PriceInput> = {};
  for (const model of Object.keys(out).sort()) {
    const p = out[model];
    if (p) sorted[model] = p;
  }
  return { prices: sorted };
}

// ---- models that need a price ----

/** A row of the model breakdown (GET /api/v1/breakdown?by=model). */
export interface UsageModelRow {
  key: string;
  attempts: number;
  unpriced: number;
  other: boolean;
  /**
   * The listed name whose price new requests of the model get, null when
   * none applies; absent when the server has no price book loaded.
   */
  priced_as?: string | null;
}

export interface UnpricedModel {
  model: string;
  attempts: number;
  unpriced: number;
  /**
   * noPrice: no listed price applies to this name (new requests stay
   * unpriced unless the requested alias has one); staleCost: a price
   * applies now, but earlier requests were stored without a cost
   * (recompute fixes them).
   */
  reason: 'noPrice' | 'staleCost';
  /** staleCost: the listed name whose price applies. */
  pricedAs: string | null;
}

/**
 * The models seen in usage that need attention: those no listed price
 * applies to, and those with unpriced requests although a price applies
 * now. The server decides which price applies (priced_as); rows it could
 * not decide for are left out. Most unpriced requests first.
 */
export function findUnpriced(rows: readonly UsageModelRow[]): UnpricedModel[] {
  const out: UnpricedModel[] = [];
  for (const r of rows) {
    if (r.other || r.key === '' || r.priced_as === undefined) continue;
    const name = r.priced_as;
    if (name === null) out.push({ model: r.key, attempts: r.attempts, unpriced: r.unpriced, reason: 'noPrice', pricedAs: null });
    else if (r.unpriced > 0) out.push({ model: r.key, attempts: r.attempts, unpriced: r.unpriced, reason: 'staleCost', pricedAs: name });
  }
  return out.sort((a, b) => b.unpriced - a.unpriced || b.attempts - a.attempts || a.model.localeCompare(b.model));
}

/** Requests per listed price name, summed over the models priced under it. */
export function requestsByPricedName(rows: readonly UsageModelRow[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (r.other || typeof r.priced_as !== 'string') continue;
    out.set(r.priced_as, (out.get(r.priced_as) ?? 0) + r.attempts);
  }
  return out;
}

/** The model names a "sync the unpriced models" request may send (valid names only, at most 5000). */
export function syncModelsFor(unpriced: readonly UnpricedModel[]): string[] {
  const names = new Set<string>();
  for (const u of unpriced) {
    if (u.reason !== 'noPrice') continue;
    const n = u.model;
    if (n.trim() !== n || n === '' || charCount(n) > MAX_MODEL_NAME || CONTROL.test(n)) continue;
    names.add(n);
  }
  return [...names].sort().slice(0, 5000);
}

// ---- filtering the table ----

export interface PriceRow {
  model: string;
  entry: PriceEntry;
}

/** The listed prices as sorted rows, filtered by a case-insensitive search text and a source. */
export function filterPrices(prices: Record<string, PriceEntry>, search: string, source: string): PriceRow[] {
  const q = search.trim().toLowerCase();
  return Object.entries(prices)
    .filter(([model, entry]) => (source === '' || entry.source === source) && (q === '' || model.toLowerCase().includes(q)))
    .map(([model, entry]) => ({ model, entry }))
    .sort((a, b) => a.model.localeCompare(b.model));
}

// ---- sync candidates ----

/** Whether two prices are the same (tiers included). */
export function samePrice(a: Price | PriceInput, b: Price | PriceInput): boolean {
  const ta = a.tiers ?? [];
  const tb = b.tiers ?? [];
  if (a.input !== b.input || a.output !== b.output || a.cacheRead !== b.cacheRead || a.cacheWrite !== b.cacheWrite) return false;
  if (ta.length !== tb.length) return false;
  return ta.every((t, i) => {
    const u = tb[i];
    if (u === undefined) return false;
    return (
      t.aboveInputTokens === u.aboveInputTokens &&
      t.input === u.input &&
      t.output === u.output &&
      t.cacheRead === u.cacheRead &&
      t.cacheWrite === u.cacheWrite
    );
  });
}

/** The ambiguous models of a sync that still have no listed price equal to one of their candidates. */
export function openCandidates(candidates: readonly SyncCandidates[], prices: Record<string, PriceEntry>): SyncCandidates[] {
  return candidates.filter((c) => {
    const listed = prices[c.model];
    return !(listed?.source === MANUAL && c.candidates.some((m) => samePrice(m.price, listed)));
  });
}

// ---- the recompute range ----

export type RecomputeRangeResult =
  { ok: true; from: string; to: string; days: number } | { ok: false; error: 'invalid' | 'order' | 'tooLong' };

/** The most days one recompute may cover (the server allows 400). */
export const MAX_RECOMPUTE_DAYS = 400;

/** A YYYY-MM-DD date, or null. */
export function parseDate(s: string): CalendarDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const check = addDays(date, 0);
  if (check.year !== date.year || check.month !== date.month || check.day !== date.day) return null;
  return date;
}

/** YYYY-MM-DD. */
export function formatDate(d: CalendarDate): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.year, 4)}-${p(d.month)}-${p(d.day)}`;
}

/**
 * The recompute period for the dates a user picked, both inclusive, in
 * timeZone: from the first day's local midnight to the midnight after the
 * last day, as RFC 3339 with the zone's offset.
 */
export function recomputeRange(fromDate: string, toDate: string, timeZone: string): RecomputeRangeResult {
  const from = parseDate(fromDate);
  const to = parseDate(toDate);
  if (!from || !to) return { ok: false, error: 'invalid' };
  const fromMs = startOfDay(from, timeZone);
  const toMs = startOfDay(addDays(to, 1), timeZone);
  if (toMs <= fromMs) return { ok: false, error: 'order' };
  const days = Math.round((Date.UTC(to.year, to.month - 1, to.day) - Date.UTC(from.year, from.month - 1, from.day)) / 86_400_000) + 1;
  // The server's limit is on the length: 400 days of 24 hours.
  if (toMs - fromMs > MAX_RECOMPUTE_DAYS * 86_400_000) return { ok: false, error: 'tooLong' };
  return { ok: true, from: toZonedRfc3339(fromMs, timeZone), to: toZonedRfc3339(toMs, timeZone), days };
}

/** The known price sources, in the order the filter lists them. */
export const KNOWN_SOURCES = ['default', 'manual', 'models.dev', 'litellm', 'openrouter'] as const;

const SOURCE_KEYS = {
  default: 'default',
  manual: 'manual',
  'models.dev': 'modelsDev',
  litellm: 'litellm',
  openrouter: 'openrouter',
} as const;

/** The translation key (under pricingPage.source) of a known source, or null. */
export function sourceKey(source: string): (typeof SOURCE_KEYS)[keyof typeof SOURCE_KEYS] | null {
  return Object.prototype.hasOwnProperty.call(SOURCE_KEYS, source) ? SOURCE_KEYS[source as keyof typeof SOURCE_KEYS] : null;
}

/** The badge tone of a price source. */
export function sourceTone(source: string): 'neutral' | 'info' | 'ok' {
  if (source === MANUAL) return 'info';
  if (source === DEFAULT_SOURCE) return 'neutral';
  return 'ok';
}
