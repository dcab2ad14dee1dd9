import { describe, expect, it } from 'vitest';
import {
  buildRequest,
  buildRequests,
  changedSettings,
  formFromConfig,
  sendAll,
  SETTINGS,
  validateForm,
  validateSetting,
  type FormValues,
  type SettingRequest,
} from './logic';

const CONFIG = {
  debug: true,
  'logging-to-file': true,
  'logs-max-total-size-mb': 512,
  'error-logs-max-files': 10,
  'request-log': false,
  'usage-statistics-enabled': true,
  'redis-usage-queue-retention-seconds': 600,
  'proxy-url': 'socks5://127.0.0.1:1080',
  'ws-auth': false,
  'request-retry': 3,
  'max-retry-credentials': 0,
  'max-retry-interval': 30,
  routing: { strategy: 'ff' },
  'force-model-prefix': false,
  'quota-exceeded': { 'switch-project': true, 'switch-preview-model': false },
  'api-keys': ['sk-secret-1'],
  'claude-api-key': [{ 'api-key': 'sk-ant-secret' }],
};

function loaded(): FormValues {
  return formFromConfig(CONFIG).values;
}

describe('formFromConfig', () => {
  it('maps kebab-case and nested keys to form values', () => {
    const { values, missing, retentionSeconds } = formFromConfig(CONFIG);
    expect(values.debug).toBe(true);
    expect(values['logs-max-total-size-mb']).toBe('512');
    expect(values['proxy-url']).toBe('socks5://127.0.0.1:1080');
    expect(values['routing-strategy']).toBe('fill-first');
    expect(values['quota-exceeded-switch-project']).toBe(true);
    expect(values['quota-exceeded-switch-preview-model']).toBe(false);
    expect(values['max-retry-interval']).toBe('30');
    expect(missing).toEqual([]);
    expect(retentionSeconds).toBe(600);
  });

  it('keeps no secrets', () => {
    const text = JSON.stringify(formFromConfig(CONFIG));
    expect(text).not.toContain('sk-secret-1');
    expect(text).not.toContain('sk-ant-secret');
    expect(Object.keys(formFromConfig(CONFIG).values).sort()).toEqual(SETTINGS.map((s) => s.id).sort());
  });

  it('reports missing or mistyped keys and uses defaults', () => {
    const { values, missing, retentionSeconds } = formFromConfig({ debug: 'yes', routing: null });
    expect(values.debug).toBe(false);
    expect(values['request-retry']).toBe('0');
    expect(values['routing-strategy']).toBe('round-robin');
    expect(missing).toContain('debug');
    expect(missing).toContain('routing-strategy');
    expect(missing).toHaveLength(SETTINGS.length);
    expect(retentionSeconds).toBeNull();
    expect(formFromConfig(null).missing).toHaveLength(SETTINGS.length);
  });
});

describe('changedSettings', () => {
  it('is empty without edits', () => {
    expect(changedSettings(loaded(), loaded())).toEqual([]);
  });

  it('lists edited settings in display order, ignoring equivalent text', () => {
    const cur = { ...loaded(), 'request-retry': ' 03 ', 'routing-strategy': 'ff', debug: false, 'proxy-url': '' };
    expect(changedSettings(loaded(), cur)).toEqual(['debug', 'proxy-url']);
  });

  it('sees a strategy change', () => {
    expect(changedSettings(loaded(), { ...loaded(), 'routing-strategy': 'round-robin' })).toEqual(['routing-strategy']);
  });
});

describe('validateSetting', () => {
  it('accepts non-negative integers only', () => {
    expect(validateSetting('request-retry', '0')).toBeNull();
    expect(validateSetting('request-retry', ' 12 ')).toBeNull();
    expect(validateSetting('request-retry', '-1')).toBe('integer');
    expect(validateSetting('request-retry', '1.5')).toBe('integer');
    expect(validateSetting('request-retry', '')).toBe('integer');
    expect(validateSetting('request-retry', 'abc')).toBe('integer');
    expect(validateSetting('max-retry-interval', '99999999999')).toBe('tooLarge');
  });

  it('checks proxy URLs; empty clears the proxy', () => {
    expect(validateSetting('proxy-url', '')).toBeNull();
    expect(validateSetting('proxy-url', 'http://proxy.local:3128')).toBeNull();
    expect(validateSetting('proxy-url', 'socks5://user:pw@10.0.0.1:1080')).toBeNull();
    expect(validateSetting('proxy-url', 'proxy.local:3128')).toBe('urlScheme');
    expect(validateSetting('proxy-url', 'not a url')).toBe('url');
    expect(validateSetting('proxy-url', 'ftp://x')).toBe('urlScheme');
  });

  it('checks booleans and strategies', () => {
    expect(validateSetting('debug', true)).toBeNull();
    expect(validateSetting('debug', 'true')).toBe('type');
    expect(validateSetting('routing-strategy', 'weighted-round-robin')).toBeNull();
    expect(validateSetting('routing-strategy', 'random')).toBe('strategy');
  });

  it('validates a whole form', () => {
    expect(validateForm(loaded())).toEqual({});
    expect(validateForm({ ...loaded(), 'request-retry': '-2', 'proxy-url': 'x' })).toEqual({
      'request-retry': 'integer',
      'proxy-url': 'url',
    });
  });
});

describe('buildRequest', () => {
  it('sends booleans and integers as {"value": …} with PUT', () => {
    expect(buildRequest('debug', false)).toEqual({ id: 'debug', method: 'PUT', path: '/debug', body: { value: false } });
    expect(buildRequest('request-retry', ' 5 ')).toEqual({
      id: 'request-retry',
      method: 'PUT',
      path: '/request-retry',
      body: { value: 5 },
    });
    expect(buildRequest('quota-exceeded-switch-preview-model', true)).toEqual({
      id: 'quota-exceeded-switch-preview-model',
      method: 'PUT',
      path: '/quota-exceeded/switch-preview-model',
      body: { value: true },
    });
  });

  it('deletes an empty proxy URL and puts a set one', () => {
    expect(buildRequest('proxy-url', '  ')).toEqual({ id: 'proxy-url', method: 'DELETE', path: '/proxy-url' });
    expect(buildRequest('proxy-url', ' http://p:1 ')).toEqual({
      id: 'proxy-url',
      method: 'PUT',
      path: '/proxy-url',
      body: { value: 'http://p:1' },
    });
  });

  it('sends the canonical routing strategy', () => {
    expect(buildRequest('routing-strategy', 'wrr')).toEqual({
      id: 'routing-strategy',
      method: 'PUT',
      path: '/routing/strategy',
      body: { value: 'weighted-round-robin' },
    });
  });

  it('refuses invalid values', () => {
    expect(() => buildRequest('request-retry', '-1')).toThrow();
  });

  it('builds only the changed settings', () => {
    const cur = { ...loaded(), debug: false, 'request-retry': '4' };
    expect(buildRequests(loaded(), cur).map((r) => [r.method, r.path, r.body])).toEqual([
      ['PUT', '/debug', { value: false }],
      ['PUT', '/request-retry', { value: 4 }],
    ]);
  });
});

describe('sendAll', () => {
  it('sends one by one and reports each outcome', async () => {
    const sent: string[] = [];
    const reqs: SettingRequest[] = [buildRequest('debug', true), buildRequest('routing-strategy', 'ff'), buildRequest('ws-auth', true)];
    const results = await sendAll(reqs, (r) => {
      sent.push(r.path);
      if (r.path === '/routing/strategy') return Promise.reject(new Error('invalid strategy'));
      return Promise.resolve({ status: 'ok' });
    });
    expect(sent).toEqual(['/debug', '/routing/strategy', '/ws-auth']);
    expect(results).toEqual([
      { id: 'debug', ok: true },
      { id: 'routing-strategy', ok: false, message: 'invalid strategy' },
      { id: 'ws-auth', ok: true },
    ]);
  });
});
