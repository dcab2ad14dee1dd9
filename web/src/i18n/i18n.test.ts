import { describe, expect, it } from 'vitest';
import { en, zhCN } from './index';
import { matchLanguage, pickLanguage } from './lang';

interface Tree {
  [key: string]: string | Tree;
}

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

// Plural forms differ by language (English: _one/_other, Chinese: _other).
const base = (key: string) => key.replace(/_(zero|one|two|few|many|other)$/, '');
const placeholders = (s: string) => [...s.matchAll(/{{\s*(\w+)\s*}}/g)].map((m) => m[1]).sort();

describe('translations', () => {
  const enLeaves = leaves(en);
  const zhLeaves = leaves(zhCN);

  it('have the same keys in English and Chinese', () => {
    const enKeys = [...new Set([...enLeaves.keys()].map(base))].sort();
    const zhKeys = [...new Set([...zhLeaves.keys()].map(base))].sort();
    expect(zhKeys).toEqual(enKeys);
  });
  it('have no empty strings', () => {
    for (const [k, v] of [...enLeaves, ...zhLeaves]) expect(v.trim(), k).not.toBe('');
  });
  it('use the same placeholders in both languages', () => {
    for (const [k, v] of zhLeaves) {
      const enValue = enLeaves.get(k) ?? enLeaves.get(base(k) + '_other') ?? enLeaves.get(base(k));
      expect(enValue, k).toBeDefined();
      expect(placeholders(v), k).toEqual(placeholders(enValue ?? ''));
    }
  });
  it('have an _other form for every plural', () => {
    for (const leaves of [enLeaves, zhLeaves]) {
      for (const k of leaves.keys()) {
        if (base(k) !== k) expect(leaves.has(base(k) + '_other'), k).toBe(true);
      }
    }
  });
});

describe('language choice', () => {
  it('matches browser tags', () => {
    expect(matchLanguage('zh')).toBe('zh-CN');
    expect(matchLanguage('zh-Hans-SG')).toBe('zh-CN');
    expect(matchLanguage('zh_TW')).toBe('zh-CN');
    expect(matchLanguage('en-GB')).toBe('en');
    expect(matchLanguage('fr-FR')).toBeNull();
    expect(matchLanguage('')).toBeNull();
  });
  it('prefers the stored choice, then the browser, then English', () => {
    expect(pickLanguage('en', ['zh-CN'])).toBe('en');
    expect(pickLanguage(null, ['fr', 'zh-CN', 'en'])).toBe('zh-CN');
    expect(pickLanguage('xx', ['de'])).toBe('en');
    expect(pickLanguage(null, [])).toBe('en');
  });
});
