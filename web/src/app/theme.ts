// Light and dark themes. The default follows the OS (prefers-color-scheme);
// a choice made in the header is kept in localStorage.
import { useSyncExternalStore } from 'react';
import { readStored, STORAGE_KEYS, writeStored } from '../lib/storage';

export const THEME_CHOICES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];
export type Theme = 'light' | 'dark';

export function parseThemeChoice(value: string | null): ThemeChoice {
  return value === 'light' || value === 'dark' ? value : 'system';
}

export function resolveTheme(choice: ThemeChoice, prefersDark: boolean): Theme {
  if (choice === 'system') return prefersDark ? 'dark' : 'light';
  return choice;
}

const listeners = new Set<() => void>();
let choice: ThemeChoice = parseThemeChoice(readStored('local', STORAGE_KEYS.theme));

function darkQuery(): MediaQueryList | null {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function'
    ? window.matchMedia('(prefers-color-scheme: dark)')
    : null;
}

/** Sets data-theme on <html> from the current choice and the OS preference. */
export function applyTheme(): void {
  const theme = resolveTheme(choice, darkQuery()?.matches ?? false);
  document.documentElement.dataset.theme = theme;
  for (const l of listeners) l();
}

/** Call once at start: applies the theme and follows OS changes. */
export function initTheme(): void {
  applyTheme();
  darkQuery()?.addEventListener('change', applyTheme);
}

export function setThemeChoice(next: ThemeChoice): void {
  choice = next;
  writeStored('local', STORAGE_KEYS.theme, next === 'system' ? null : next);
  applyTheme();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useThemeChoice(): ThemeChoice {
  return useSyncExternalStore(
    subscribe,
    () => choice,
    () => choice,
  );
}

/** The theme in effect (light or dark), e.g. to colour charts. */
export function useResolvedTheme(): Theme {
  return useSyncExternalStore(
    subscribe,
    () => (document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light'),
    (): Theme => 'light',
  );
}
