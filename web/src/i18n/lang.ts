// Which language the panel speaks: the user's stored choice, else the first
// browser language the panel has, else English.

export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

/** The supported language for a BCP 47 tag, or null: zh, zh-CN, zh-Hans-SG → zh-CN; en-GB → en. */
export function matchLanguage(tag: string | null | undefined): Language | null {
  if (!tag) return null;
  const t = tag.trim().toLowerCase().replace(/_/g, '-');
  if (t === '') return null;
  const exact = LANGUAGES.find((l) => l.toLowerCase() === t);
  if (exact) return exact;
  const primary = t.split('-')[0];
  if (primary === 'zh') {
    // Traditional Chinese readers get Simplified Chinese rather than English:
    // it is the closer of the two languages the panel has.
    return 'zh-CN';
  }
  if (primary === 'en') return 'en';
  return null;
}

/** The language to start with. */
export function pickLanguage(stored: string | null, browserLanguages: readonly string[]): Language {
  const fromStore = matchLanguage(stored);
  if (fromStore) return fromStore;
  for (const tag of browserLanguages) {
    const l = matchLanguage(tag);
    if (l) return l;
  }
  return DEFAULT_LANGUAGE;
}
