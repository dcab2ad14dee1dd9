// Hash routing (#/dashboard, #/monitoring?model=x): the page works at any
// path, including CPA's own /management.html, and needs no server rewrites.
import { useSyncExternalStore, type AnchorHTMLAttributes } from 'react';

export interface HashLocation {
  /** "/dashboard" (always starts with "/"). */
  path: string;
  /** The query after "?" in the hash. */
  query: URLSearchParams;
}

/** Splits a location hash ("#/a/b?x=1") into path and query. */
export function parseHash(hash: string): HashLocation {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = raw.indexOf('?');
  let path = q >= 0 ? raw.slice(0, q) : raw;
  const search = q >= 0 ? raw.slice(q + 1) : '';
  if (!path.startsWith('/')) path = '/' + path;
  if (path.length > 1) path = path.replace(/\/+$/, '');
  return { path, query: new URLSearchParams(search) };
}

/** The hash for path and optional query: "#/monitoring?model=x". */
export function hashFor(path: string, query?: URLSearchParams | Record<string, string>): string {
  const qs = query === undefined ? '' : (query instanceof URLSearchParams ? query : new URLSearchParams(query)).toString();
  return '#' + path + (qs ? '?' + qs : '');
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

function snapshot(): string {
  return window.location.hash;
}

/** The current hash location; re-renders on navigation. */
export function useLocation(): HashLocation {
  const hash = useSyncExternalStore(subscribe, snapshot, () => '');
  return parseHash(hash);
}

/** Goes to path (with an optional query). replace keeps the history entry. */
export function navigate(path: string, options: { query?: URLSearchParams | Record<string, string>; replace?: boolean } = {}): void {
  const hash = hashFor(path, options.query);
  if (options.replace) {
    const url = window.location.pathname + window.location.search + hash;
    window.history.replaceState(window.history.state, '', url);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

/** Replaces the query of the current route (for page filters), keeping the path. */
export function setQuery(params: Record<string, string | null | undefined>, options: { replace?: boolean } = { replace: true }): void {
  const loc = parseHash(window.location.hash);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') loc.query.delete(k);
    else loc.query.set(k, v);
  }
  navigate(loc.path, { query: loc.query, replace: options.replace ?? true });
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** A link to a route: a real <a href="#/…"> so it opens in a new tab too. */
export function Link({ to, ...rest }: LinkProps) {
  return <a href={'#' + to} {...rest} />;
}

/**
 * The entry of list for a hash path: the exact path, or the longest entry
 * that is a parent of it ("/monitoring/events" → "/monitoring").
 */
export function matchPath<T extends { path: string }>(path: string, list: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const r of list) {
    if (path === r.path || path.startsWith(r.path + '/')) {
      if (!best || r.path.length > best.path.length) best = r;
    }
  }
  return best;
}
