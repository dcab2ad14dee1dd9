import { describe, expect, it } from 'vitest';
import {
  DEFAULT_API_BASE,
  DEFAULT_MANAGEMENT_BASE,
  detectPanelConfig,
  normalizeBasePath,
  normalizeUsageUrl,
  parseCpamConfig,
  type MetaSource,
} from './config';

/** A stand-in for document with an optional cpam-config meta tag. */
function docWith(content: string | null | undefined): MetaSource {
  return {
    querySelector: (selector: string) => {
      if (content === undefined || selector !== 'meta[name="cpam-config"]') return null;
      return { getAttribute: (name: string) => (name === 'content' ? content : null) };
    },
  };
}

describe('detectPanelConfig', () => {
  it('is hosted when caddy-cpam injected the meta tag', () => {
    expect(detectPanelConfig(docWith('{"apiBase":"/cpam","managementBase":"/v0/management"}'))).toEqual({
      mode: 'hosted',
      apiBase: '/cpam',
      managementBase: '/v0/management',
    });
  });
  it('takes custom base paths', () => {
    expect(detectPanelConfig(docWith('{"apiBase":"/stats/","managementBase":"/cpa/two/v0/management"}'))).toEqual({
      mode: 'hosted',
      apiBase: '/stats',
      managementBase: '/cpa/two/v0/management',
    });
  });
  it('is CPA panel mode without the tag', () => {
    expect(detectPanelConfig(docWith(undefined))).toEqual({ mode: 'cpa', managementBase: DEFAULT_MANAGEMENT_BASE });
  });
  it('is CPA panel mode when the tag has no content attribute', () => {
    expect(detectPanelConfig(docWith(null)).mode).toBe('cpa');
  });
  it('stays hosted with defaults when the tag is unreadable', () => {
    expect(detectPanelConfig(docWith('{not json'))).toEqual({
      mode: 'hosted',
      apiBase: DEFAULT_API_BASE,
      managementBase: DEFAULT_MANAGEMENT_BASE,
    });
  });
});

describe('parseCpamConfig', () => {
  it('falls back per field', () => {
    expect(parseCpamConfig('{"apiBase":"/usage"}')).toEqual({ mode: 'hosted', apiBase: '/usage', managementBase: DEFAULT_MANAGEMENT_BASE });
    expect(parseCpamConfig('{"managementBase":42}').managementBase).toBe(DEFAULT_MANAGEMENT_BASE);
    expect(parseCpamConfig('[]')).toEqual({ mode: 'hosted', apiBase: DEFAULT_API_BASE, managementBase: DEFAULT_MANAGEMENT_BASE });
    expect(parseCpamConfig('null').apiBase).toBe(DEFAULT_API_BASE);
  });
  it('refuses base paths that would leave the origin', () => {
    expect(parseCpamConfig('{"apiBase":"https://evil.example/cpam"}').apiBase).toBe(DEFAULT_API_BASE);
    expect(parseCpamConfig('{"apiBase":"//evil.example/cpam"}').apiBase).toBe(DEFAULT_API_BASE);
    expect(parseCpamConfig('{"apiBase":"javascript:alert(1)"}').apiBase).toBe(DEFAULT_API_BASE);
  });
});

describe('normalizeBasePath', () => {
  it.each([
    ['/cpam', '/cpam'],
    ['/cpam/', '/cpam'],
    [' /cpam ', '/cpam'],
    ['/', ''],
    ['cpam', null],
    ['', null],
    ['/a b', null],
    ['/cpam?x=1', null],
    [null, null],
  ])('%s → %s', (input, want) => {
    expect(normalizeBasePath(input)).toBe(want);
  });
});

describe('normalizeUsageUrl', () => {
  it('accepts http(s) URLs and drops trailing slashes', () => {
    expect(normalizeUsageUrl('https://cpam.example.com/cpam/')).toEqual({ ok: true, url: 'https://cpam.example.com/cpam' });
    expect(normalizeUsageUrl('  http://127.0.0.1:8080/cpam ')).toEqual({ ok: true, url: 'http://127.0.0.1:8080/cpam' });
    expect(normalizeUsageUrl('https://cpam.example.com')).toEqual({ ok: true, url: 'https://cpam.example.com' });
    expect(normalizeUsageUrl('https://CPAM.example.com:443/cpam')).toEqual({ ok: true, url: 'https://cpam.example.com/cpam' });
  });
  it('refuses what cannot be a usage service URL', () => {
    expect(normalizeUsageUrl('')).toEqual({ ok: false, reason: 'empty' });
    expect(normalizeUsageUrl('cpam.example.com/cpam')).toEqual({ ok: false, reason: 'invalid' });
    expect(normalizeUsageUrl('ftp://cpam.example.com/cpam')).toEqual({ ok: false, reason: 'scheme' });
    expect(normalizeUsageUrl('javascript:alert(1)')).toEqual({ ok: false, reason: 'scheme' });
    expect(normalizeUsageUrl('https://user:pw@cpam.example.com/cpam')).toEqual({ ok: false, reason: 'credentials' });
    expect(normalizeUsageUrl('https://cpam.example.com/cpam?x=1')).toEqual({ ok: false, reason: 'invalid' });
    expect(normalizeUsageUrl('https://cpam.example.com/cpam#x')).toEqual({ ok: false, reason: 'invalid' });
  });
});
