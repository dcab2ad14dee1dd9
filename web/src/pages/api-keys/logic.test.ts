import { describe, expect, it } from 'vitest';
import { aliasPutItem, buildKeyModel, hashForAlias, maskKey, validateAlias, type KeyUsageRow } from './logic';

const H1 = '1'.repeat(32);
const H2 = '2'.repeat(32);
const H3 = '3'.repeat(32);
const H4 = '4'.repeat(32);
const H5 = '5'.repeat(32);

function usageRow(key: string, label: string, attempts: number, hint?: string): KeyUsageRow {
  return { key, label, hint, other: false, attempts, costUsd: attempts / 100, unpriced: 0 };
}

describe('maskKey', () => {
  it('masks like the server: 4 + … + 4 characters', () => {
    expect(maskKey('sk-cpa-test-1')).toBe('sk-c…st-1');
    expect(maskKey('abcdefghi')).toBe('abcd…fghi');
    expect(maskKey('12345678')).toBe('****');
    expect(maskKey('x')).toBe('****');
    expect(maskKey('')).toBe('');
  });
  it('counts characters, not UTF-16 units', () => {
    expect(maskKey('🔑🔑🔑🔑-middle-🗝️🗝️')).toBe('🔑🔑🔑🔑…🗝️🗝️');
  });
  it('never gives the full key', () => {
    const keys = ['sk-1', 'sk-12345', 'sk-123456', 'sk-live-0123456789abcdef', 'a'.repeat(200), 'short', '🔑'.repeat(9)];
    for (const key of keys) {
      const mask = maskKey(key);
      expect(mask).not.toBe(key);
      expect(mask.includes(key)).toBe(false);
      expect(Array.from(mask.replace('…', '')).length).toBeLessThan(Math.max(Array.from(key).length, 5));
    }
  });
});

describe('validateAlias', () => {
  it('accepts a trimmed name of at most 120 characters', () => {
    expect(validateAlias('  ci-runner ', [])).toBeNull();
    expect(validateAlias('x'.repeat(120), [])).toBeNull();
    expect(validateAlias('名'.repeat(120), [])).toBeNull();
  });
  it('refuses empty, too long, control characters and taken names', () => {
    expect(validateAlias('   ', [])).toBe('required');
    expect(validateAlias('x'.repeat(121), [])).toBe('tooLong');
    expect(validateAlias('a\nb', [])).toBe('control');
    expect(validateAlias('CI-Runner', ['ci-runner'])).toBe('taken');
    expect(validateAlias('ci', ['ci-runner'])).toBeNull();
  });
  it('finds the hash the server stored an alias under', () => {
    const doc = { items: [{ apiKeyHash: H1, alias: 'Alice', updatedAt: null }] };
    expect(hashForAlias(doc, ' alice ')).toBe(H1);
    expect(hashForAlias(doc, 'bob')).toBeNull();
  });
});

describe('buildKeyModel', () => {
  const cpaKeys = ['sk-cpa-test-1', 'sk-cpa-test-2', 'sk-new-unused-key'];
  const usage = [
    usageRow(H1, 'alice', 40, 'sk-c…st-1'), // aliased CPA key 1
    usageRow(H2, 'sk-c…st-2', 30), // CPA key 2, no alias
    usageRow(H3, 'old-x…ey-9', 5), // not a CPA key, no alias
  ];
  const aliases = [
    { apiKeyHash: H1, alias: 'alice', updatedAt: '2026-11-01T00:00:00Z' },
    { apiKeyHash: H4, alias: 'gone', updatedAt: null },
  ];

  it('puts aliases in use, unnamed keys and orphans in their lists', () => {
    const m = buildKeyModel({ cpaKeys, aliases, usage });
    expect(m.named.map((r) => [r.alias, r.hash, r.mask, r.cpaIndex, r.usage?.attempts])).toEqual([['alice', H1, 'sk-c…st-1', 0, 40]]);
    expect(m.unnamed.map((r) => [r.id, r.hash, r.mask, r.cpaIndex])).toEqual([
      ['cpa:1', H2, 'sk-c…st-2', 1],
      ['cpa:2', null, 'sk-n…-key', 2],
      ['h:' + H3, H3, 'old-x…ey-9', null],
    ]);
    // Key 3 has no usage, so its hash is unknown: "gone" may be its alias.
    expect(m.orphans.map((r) => [r.alias, r.hash, r.certain])).toEqual([['gone', H4, false]]);
  });

  it('is certain about an orphan when every CPA key is matched, or its mask rules them out', () => {
    const allMatched = buildKeyModel({ cpaKeys: ['sk-cpa-test-1', 'sk-cpa-test-2'], aliases, usage });
    expect(allMatched.orphans.map((r) => [r.alias, r.certain])).toEqual([['gone', true]]);
    // "gone" was used with another mask over the longer period: not key 3.
    const otherMask = buildKeyModel({ cpaKeys, aliases, usage, knownMasks: [{ hash: H4, mask: 'sk-o…ld-4' }] });
    expect(otherMask.orphans.map((r) => [r.alias, r.mask, r.certain])).toEqual([['gone', 'sk-o…ld-4', true]]);
  });

  it('never puts a raw key in a row', () => {
    const m = buildKeyModel({ cpaKeys, aliases, usage });
    const text = JSON.stringify(m);
    for (const key of cpaKeys) expect(text.includes(key)).toBe(false);
  });

  it('does not call an alias orphaned while its key is used or is a CPA key', () => {
    // H4 used in the period: named, although no CPA key matches.
    const used = buildKeyModel({ cpaKeys, aliases, usage: [...usage, usageRow(H4, 'gone', 1, 'sk-o…ld-4')] });
    expect(used.orphans).toEqual([]);
    expect(used.named.find((r) => r.hash === H4)?.cpaIndex).toBeNull();
    // H4 learned as the hash of a CPA key: named.
    const learned = buildKeyModel({ cpaKeys, aliases, usage, learned: new Map([['sk-new-unused-key', H4]]) });
    expect(learned.orphans).toEqual([]);
    expect(learned.named.find((r) => r.hash === H4)).toMatchObject({ cpaIndex: 2, matchedBy: 'learned' });
    expect(learned.unnamed.map((r) => r.id)).not.toContain('cpa:2');
  });

  it('matches a CPA key through masks seen over a longer period', () => {
    const m = buildKeyModel({ cpaKeys, aliases, usage, knownMasks: [{ hash: H4, mask: 'sk-n…-key' }] });
    expect(m.orphans).toEqual([]);
    expect(m.named.find((r) => r.hash === H4)).toMatchObject({ cpaIndex: 2, matchedBy: 'mask', mask: 'sk-n…-key' });
  });

  it('does not match ambiguous masks', () => {
    // Two hashes with the CPA key's mask: unknown which one it is.
    const twoHashes = buildKeyModel({
      cpaKeys: ['sk-cpa-test-2'],
      aliases: [],
      usage: [usageRow(H2, 'sk-c…st-2', 3), usageRow(H5, 'sk-c…st-2', 1)],
    });
    expect(twoHashes.unnamed.find((r) => r.id === 'cpa:0')?.hash).toBeNull();
    // Two CPA keys with one mask.
    const twoKeys = buildKeyModel({
      cpaKeys: ['sk-cpa-AAAA-test-2', 'sk-cpa-BBBB-test-2'],
      aliases: [],
      usage: [usageRow(H2, 'sk-c…st-2', 3)],
    });
    expect(twoKeys.unnamed.filter((r) => r.cpaIndex !== null).map((r) => r.hash)).toEqual([null, null]);
    expect(twoKeys.unnamed.find((r) => r.id === 'h:' + H2)).toBeDefined();
  });

  it('marks nothing orphaned while CPA keys are unknown', () => {
    const m = buildKeyModel({ cpaKeys: null, aliases, usage });
    expect(m.orphans).toEqual([]);
    expect(m.named.map((r) => r.alias)).toEqual(['alice', 'gone']);
  });

  it('ignores the other row and empty keys', () => {
    const m = buildKeyModel({
      cpaKeys: [''],
      aliases: [],
      usage: [{ ...usageRow('other', '', 9), other: true }, usageRow('', '', 3)],
    });
    expect(m).toEqual({ named: [], unnamed: [], orphans: [] });
  });
});

describe('aliasPutItem', () => {
  const cpaKeys = ['sk-cpa-test-1'];
  const base = { kind: 'unnamed' as const, alias: null, aliasUpdatedAt: null, usage: null, matchedBy: null, certain: false };
  it('names a CPA key by the key itself', () => {
    const row = { ...base, id: 'cpa:0', hash: null, mask: 'sk-c…st-1', cpaIndex: 0 };
    expect(aliasPutItem(row, ' alice ', cpaKeys)).toEqual({ ok: true, item: { apiKey: 'sk-cpa-test-1', alias: 'alice' } });
  });
  it('refuses when CPA key list changed under the row', () => {
    const row = { ...base, id: 'cpa:0', hash: null, mask: 'sk-c…st-9', cpaIndex: 0 };
    expect(aliasPutItem(row, 'a', cpaKeys)).toEqual({ ok: false, error: 'changed' });
    expect(aliasPutItem(row, 'a', null)).toEqual({ ok: false, error: 'changed' });
  });
  it('names other keys by hash', () => {
    const row = { ...base, id: 'h:' + H3, hash: H3, mask: 'x', cpaIndex: null };
    expect(aliasPutItem(row, 'old', cpaKeys)).toEqual({ ok: true, item: { apiKeyHash: H3, alias: 'old' } });
    expect(aliasPutItem({ ...row, hash: null }, 'old', cpaKeys)).toEqual({ ok: false, error: 'noKey' });
  });
});
