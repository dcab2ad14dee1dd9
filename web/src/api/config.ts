// Where the panel is and whom it talks to. Two modes, told apart at start:
//
// - hosted: caddy-cpam's cpam_panel served the page and injected
//   <meta name="cpam-config" content='{"apiBase":"/cpam","managementBase":"/v0/management"}'>.
//   The session cookie authenticates both the usage API and the management
//   proxy on the same origin.
// - cpa: CPA serves the page itself at /management.html (no meta tag). The
//   user gives the CPA management key (kept in sessionStorage) and the URL of
//   the usage service (kept in localStorage); both APIs get the key as a bearer.

export const DEFAULT_API_BASE = '/cpam';
export const DEFAULT_MANAGEMENT_BASE = '/v0/management';
export const META_NAME = 'cpam-config';

export interface HostedConfig {
  mode: 'hosted';
  apiBase: string;
  managementBase: string;
}

export interface CpaPanelConfig {
  mode: 'cpa';
  managementBase: string;
}

export type PanelConfig = HostedConfig | CpaPanelConfig;

/**
 * A same-origin base path without a trailing slash ("/cpam/" → "/cpam"), or
 * null when value is not an absolute path (a URL, "//host", relative, blank).
 */
export function normalizeBasePath(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (!v.startsWith('/') || v.startsWith('//') || /[\s\\?#]/.test(v)) return null;
  const trimmed = v.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed;
}

/**
 * The configuration carried by the cpam-config meta tag. A tag that is
 * present but unreadable still means caddy-cpam served the page, so it gives
 * the default base paths; each field falls back on its own.
 */
export function parseCpamConfig(content: string): HostedConfig {
  let raw: unknown = null;
  try {
    raw = JSON.parse(content);
  } catch {
    raw = null;
  }
  const obj = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    mode: 'hosted',
    apiBase: normalizeBasePath(obj.apiBase) ?? DEFAULT_API_BASE,
    managementBase: normalizeBasePath(obj.managementBase) ?? DEFAULT_MANAGEMENT_BASE,
  };
}

/** What detectPanelConfig needs of a document (a real one, or a stand-in in tests). */
export interface MetaSource {
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
}

/** The panel's mode and base paths, from the document it runs in. */
export function detectPanelConfig(doc: MetaSource): PanelConfig {
  const content = doc.querySelector(`meta[name="${META_NAME}"]`)?.getAttribute('content') ?? null;
  if (content === null) return { mode: 'cpa', managementBase: DEFAULT_MANAGEMENT_BASE };
  return parseCpamConfig(content);
}

export type UsageUrlResult = { ok: true; url: string } | { ok: false; reason: 'empty' | 'invalid' | 'scheme' | 'credentials' };

/**
 * Checks and normalises the usage-service URL a user typed in CPA panel mode:
 * http(s) only, no user:password, no query or fragment, no trailing slash
 * ("https://cpam.example.com/cpam/" → "https://cpam.example.com/cpam").
 */
export function normalizeUsageUrl(input: string): UsageUrlResult {
  const v = input.trim();
  if (v === '') return { ok: false, reason: 'empty' };
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'scheme' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials' };
  if (url.search !== '' || url.hash !== '' || v.includes('?') || v.includes('#')) return { ok: false, reason: 'invalid' };
  const path = url.pathname.replace(/\/+$/, '');
  return { ok: true, url: url.origin + path };
}
