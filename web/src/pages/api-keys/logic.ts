// The API key page's pure logic: masking client keys (never shown in
// full), checking aliases, and joining CPA's key list, the aliases and the
// usage per key hash. No React, no network: unit-tested in logic.test.ts.
//
// The browser cannot hash a key (the server uses a keyed hash), so a CPA
// key is matched to its hash by the mask the usage data shows for each hash
// (only when exactly one hash and one CPA key have that mask), or by the
// hash the server answered when the key was named in this session.
import { maskKey } from '../../lib/mask';

/** Re-exported for the page: the panel's one secret mask. */
export { maskKey };

/** The usage service's alias document entry. */
export interface AliasItem {
  apiKeyHash: string;
  alias: string;
  updatedAt: string | null;
}

export interface AliasesDocument {
  items: AliasItem[];
}

export const MAX_ALIAS = 120;

export type AliasError = 'required' | 'tooLong' | 'control' | 'taken';

// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * An alias as the server takes it: trimmed, 1..120 characters, no control
 * characters, not used by another key (ignoring case). taken is a hint: the
 * server decides, and its 409 message is shown too.
 */
export function validateAlias(raw: string, otherAliases: Iterable<string>): AliasError | null {
  const alias = raw.trim();
  if (alias === '') return 'required';
  if (Array.from(alias).length > MAX_ALIAS) return 'tooLong';
  if (CONTROL.test(alias)) return 'control';
  const lower = alias.toLowerCase();
  for (const other of otherAliases) if (other.trim().toLowerCase() === lower) return 'taken';
  return null;
}

/** The hash the server stored an alias under (aliases are unique ignoring case), or null. */
export function hashForAlias(doc: AliasesDocument, alias: string): string | null {
  const lower = alias.trim().toLowerCase();
  return doc.items.find((i) => i.alias.toLowerCase() === lower)?.apiKeyHash ?? null;
}

/** A row of the usage breakdown by api_key. */
export interface KeyUsageRow {
  /** The key hash. */
  key: string;
  /** The alias, or the mask when the key has none. */
  label: string;
  /** The mask when label is an alias. */
  hint?: string;
  other: boolean;
  attempts: number;
  costUsd: number;
  unpriced: number;
}

export interface KeyUsage {
  attempts: number;
  costUsd: number;
  unpriced: number;
}

export type RowKind = 'named' | 'unnamed' | 'orphan';

export interface KeyRow {
  /** A stable identifier that reveals nothing: "h:<hash>" or "cpa:<index>". */
  id: string;
  kind: RowKind;
  hash: string | null;
  /** The key's mask; "" when unknown. */
  mask: string;
  alias: string | null;
  aliasUpdatedAt: string | null;
  /** Usage in the period (null: none). */
  usage: KeyUsage | null;
  /** The position of the key in CPA's key list, when it is a current CPA key. */
  cpaIndex: number | null;
  /** How a CPA key was tied to its hash. */
  matchedBy: 'learned' | 'mask' | null;
  /**
   * Orphans only: false when the alias may still belong to a CPA key whose
   * hash is unknown (no usage to match it by, and the alias's own key mask is
   * unknown or the same).
   */
  certain: boolean;
}

export interface KeyModel {
  /** Aliases in use (usage in the period, or a current CPA key), by alias. */
  named: KeyRow[];
  /** CPA keys without an alias (in CPA's order), then unnamed keys seen in usage (most used first). */
  unnamed: KeyRow[];
  /**
   * Aliases whose key had no usage in the period and is not a current CPA
   * key as far as can be told (empty while CPA's list is unknown); see
   * KeyRow.certain.
   */
  orphans: KeyRow[];
}

export interface KeyModelInput {
  /** CPA's client keys; null while unknown (not loaded, or CPA unreachable). */
  cpaKeys: readonly string[] | null;
  aliases: readonly AliasItem[];
  /** Breakdown by api_key over the period. */
  usage: readonly KeyUsageRow[];
  /** Hash → mask pairs seen over a longer period (filters' apiKeys). */
  knownMasks?: readonly { hash: string; mask: string }[];
  /** Hashes the server answered for keys named in this session, by key (memory only). */
  learned?: ReadonlyMap<string, string>;
}

/** Joins CPA's keys, the aliases and the usage into the three lists of the page. */
export function buildKeyModel(input: KeyModelInput): KeyModel {
  const usageByHash = new Map<string, KeyUsage>();
  const maskByHash = new Map<string, string>();
  for (const m of input.knownMasks ?? []) if (m.hash !== '' && m.mask !== '') maskByHash.set(m.hash, m.mask);
  for (const r of input.usage) {
    if (r.other || r.key === '') continue;
    const prev = usageByHash.get(r.key);
    usageByHash.set(r.key, {
      attempts: (prev?.attempts ?? 0) + r.attempts,
      costUsd: (prev?.costUsd ?? 0) + r.costUsd,
      unpriced: (prev?.unpriced ?? 0) + r.unpriced,
    });
    const mask = r.hint !== undefined && r.hint !== '' ? r.hint : r.label;
    if (mask !== '') maskByHash.set(r.key, mask);
  }
  const hashesByMask = new Map<string, Set<string>>();
  for (const [hash, mask] of maskByHash) {
    let set = hashesByMask.get(mask);
    if (!set) hashesByMask.set(mask, (set = new Set()));
    set.add(hash);
  }
  const aliasByHash = new Map<string, AliasItem>();
  for (const a of input.aliases) aliasByHash.set(a.apiKeyHash, a);

  // CPA keys → hashes.
  const cpaKeys = input.cpaKeys ?? [];
  const cpaMasks = cpaKeys.map(maskKey);
  const maskUses = new Map<string, number>();
  for (const m of cpaMasks) maskUses.set(m, (maskUses.get(m) ?? 0) + 1);
  const cpaHash: (string | null)[] = [];
  const matchedBy: ('learned' | 'mask' | null)[] = [];
  cpaKeys.forEach((key, i) => {
    const learned = key === '' ? undefined : input.learned?.get(key);
    if (learned !== undefined) {
      cpaHash.push(learned);
      matchedBy.push('learned');
      return;
    }
    const mask = cpaMasks[i] ?? '';
    const hashes = hashesByMask.get(mask);
    if (mask !== '' && maskUses.get(mask) === 1 && hashes?.size === 1) {
      cpaHash.push([...hashes][0] ?? null);
      matchedBy.push('mask');
      return;
    }
    cpaHash.push(null);
    matchedBy.push(null);
  });
  // A hash claimed twice (a learned hash and a mask match) goes to the learned key only.
  const cpaIndexByHash = new Map<string, number>();
  cpaHash.forEach((hash, i) => {
    if (hash === null) return;
    const j = cpaIndexByHash.get(hash);
    if (j === undefined) {
      cpaIndexByHash.set(hash, i);
    } else if (matchedBy[i] === 'learned' && matchedBy[j] !== 'learned') {
      cpaHash[j] = null;
      matchedBy[j] = null;
      cpaIndexByHash.set(hash, i);
    } else {
      cpaHash[i] = null;
      matchedBy[i] = null;
    }
  });

  // CPA keys whose hash is unknown, by mask: an alias may belong to one of them.
  const unmatchedMasks: string[] = [];
  cpaKeys.forEach((key, i) => {
    if (key !== '' && cpaHash[i] === null) unmatchedMasks.push(cpaMasks[i] ?? '');
  });

  const named: KeyRow[] = [];
  const orphans: KeyRow[] = [];
  for (const a of input.aliases) {
    const cpaIndex = cpaIndexByHash.get(a.apiKeyHash) ?? null;
    const usage = usageByHash.get(a.apiKeyHash) ?? null;
    const mask = maskByHash.get(a.apiKeyHash) ?? (cpaIndex !== null ? (cpaMasks[cpaIndex] ?? '') : '');
    const used = usage !== null && usage.attempts > 0;
    const kind: RowKind = used || cpaIndex !== null || input.cpaKeys === null ? 'named' : 'orphan';
    const knownMask = maskByHash.get(a.apiKeyHash);
    const certain = kind === 'orphan' && !unmatchedMasks.some((m) => knownMask === undefined || knownMask === m);
    const row: KeyRow = {
      id: 'h:' + a.apiKeyHash,
      kind,
      hash: a.apiKeyHash,
      mask,
      alias: a.alias,
      aliasUpdatedAt: a.updatedAt,
      usage,
      cpaIndex,
      matchedBy: cpaIndex !== null ? (matchedBy[cpaIndex] ?? null) : null,
      certain,
    };
    (kind === 'named' ? named : orphans).push(row);
  }

  const unnamed: KeyRow[] = [];
  cpaKeys.forEach((key, i) => {
    if (key === '') return;
    const hash = cpaHash[i] ?? null;
    if (hash !== null && aliasByHash.has(hash)) return;
    unnamed.push({
      id: `cpa:${i}`,
      kind: 'unnamed',
      hash,
      mask: cpaMasks[i] ?? '',
      alias: null,
      aliasUpdatedAt: null,
      usage: hash !== null ? (usageByHash.get(hash) ?? null) : null,
      cpaIndex: i,
      matchedBy: matchedBy[i] ?? null,
      certain: false,
    });
  });
  const usageOnly: KeyRow[] = [];
  for (const [hash, usage] of usageByHash) {
    if (aliasByHash.has(hash) || cpaIndexByHash.has(hash)) continue;
    usageOnly.push({
      id: 'h:' + hash,
      kind: 'unnamed',
      hash,
      mask: maskByHash.get(hash) ?? '',
      alias: null,
      aliasUpdatedAt: null,
      usage,
      cpaIndex: null,
      matchedBy: null,
      certain: false,
    });
  }
  usageOnly.sort((a, b) => (b.usage?.attempts ?? 0) - (a.usage?.attempts ?? 0) || a.mask.localeCompare(b.mask));

  const byAlias = (a: KeyRow, b: KeyRow) => (a.alias ?? '').localeCompare(b.alias ?? '');
  return { named: named.sort(byAlias), unnamed: [...unnamed, ...usageOnly], orphans: orphans.sort(byAlias) };
}

/** The PUT item naming a row: a current CPA key by its raw key (the server hashes it), any other by its hash. */
export function aliasPutItem(
  row: KeyRow,
  alias: string,
  cpaKeys: readonly string[] | null,
):
  | { ok: true; item: { apiKey: string; alias: string } | { apiKeyHash: string; alias: string } }
  | { ok: false; error: 'changed' | 'noKey' } {
  const value = alias.trim();
  if (row.cpaIndex !== null) {
    const key = cpaKeys?.[row.cpaIndex];
    // CPA's list changed since the row was drawn: do not name the wrong key.
    if (key === undefined || maskKey(key) !== row.mask) return { ok: false, error: 'changed' };
    return { ok: true, item: { apiKey: key, alias: value } };
  }
  if (row.hash === null) return { ok: false, error: 'noKey' };
  return { ok: true, item: { apiKeyHash: row.hash, alias: value } };
}
