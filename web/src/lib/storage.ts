// Safe access to localStorage and sessionStorage: private modes and
// sandboxed frames throw on access, and the panel must still work there.

type Area = 'local' | 'session';

function area(which: Area): Storage | null {
  try {
    return which === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return null;
  }
}

export function readStored(which: Area, key: string): string | null {
  try {
    return area(which)?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export function writeStored(which: Area, key: string, value: string | null): void {
  try {
    const s = area(which);
    if (!s) return;
    if (value === null) s.removeItem(key);
    else s.setItem(key, value);
  } catch {
    // Storage full or denied: the choice is kept for this page only.
  }
}

/** Keys the panel stores. Secrets go to sessionStorage only. */
export const STORAGE_KEYS = {
  theme: 'cpam.theme',
  language: 'cpam.language',
  /** CPA panel mode: the usage service URL (localStorage). */
  usageUrl: 'cpam.usageUrl',
  /** CPA panel mode: the CPA management key (sessionStorage only, never localStorage). */
  managementKey: 'cpam.managementKey',
} as const;
