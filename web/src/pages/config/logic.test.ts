import { describe, expect, it } from 'vitest';
import {
  buildRequest,
  buildRequests,
  changedSettings,
  diffLines,
  diffRows,
  diffStats,
  formFromConfig,
  keyPathFromMessage,
  lineFromMessage,
  splitLines,
  sendAll,
  SETTINGS,
  validateForm,
  validateSetting,
  type DiffLine,
  type FormValues,
  type SettingRequest,
  spanParts,
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

/** Rebuilds both sides from a diff: the old text from same+del, the new from same+add. */
function sides(d: readonly DiffLine[]): { a: string[]; b: string[] } {
  return {
    a: d.filter((l) => l.kind !== 'add').map((l) => l.text),
    b: d.filter((l) => l.kind !== 'del').map((l) => l.text),
  };
}

/** The length of a longest common subsequence (dynamic programming), to check minimality. */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = dp[i] ?? [];
      row[j] = a[i] === b[j] ? (dp[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(dp[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  return dp[0]?.[0] ?? 0;
}

describe('splitLines', () => {
  it('splits on any newline and ignores a final one', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\r\nb')).toEqual(['a', 'b']);
    expect(splitLines('a\n\n')).toEqual(['a', '']);
  });
});

describe('diffLines', () => {
  it('reports one changed line as a delete and an add with line numbers', () => {
    const d = diffLines(['debug: false', 'request-retry: 0', 'proxy-url: ""'], ['debug: false', 'request-retry: 3', 'proxy-url: ""']);
    expect(d).toEqual([
      { kind: 'same', oldNo: 1, newNo: 1, text: 'debug: false' },
      { kind: 'del', oldNo: 2, newNo: null, text: 'request-retry: 0' },
      { kind: 'add', oldNo: null, newNo: 2, text: 'request-retry: 3' },
      { kind: 'same', oldNo: 3, newNo: 3, text: 'proxy-url: ""' },
    ]);
  });

  it('numbers lines after an insertion on both sides', () => {
    const d = diffLines(['a', 'b', 'c'], ['a', 'x', 'y', 'b', 'c']);
    expect(d.filter((l) => l.kind === 'add').map((l) => l.newNo)).toEqual([2, 3]);
    expect(d.find((l) => l.text === 'c')).toEqual({ kind: 'same', oldNo: 3, newNo: 5, text: 'c' });
  });

  it('handles empty sides', () => {
    expect(diffLines([], [])).toEqual([]);
    expect(diffLines([], ['a']).map((l) => l.kind)).toEqual(['add']);
    expect(diffLines(['a', 'b'], []).map((l) => l.kind)).toEqual(['del', 'del']);
  });

  it('is a minimal edit script that rebuilds both sides (random cases)', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: rand(12) }, () => 'abcd'[rand(4)] ?? 'a');
      const b = Array.from({ length: rand(12) }, () => 'abcd'[rand(4)] ?? 'a');
      const d = diffLines(a, b);
      expect(sides(d)).toEqual({ a, b });
      expect(d.filter((l) => l.kind === 'same').length).toBe(lcsLength(a, b));
    }
  });

  it('stays fast on a large file with a small edit', () => {
    const a = Array.from({ length: 20000 }, (_, i) => `key-${i}: ${i}`);
    const b = [...a];
    b[10000] = 'key-10000: changed';
    const started = performance.now();
    const d = diffLines(a, b);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(diffStats(d)).toEqual({ added: 1, deleted: 1 });
  });

  it('falls back to replacing everything when the sides share nothing and are huge', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`);
    const d = diffLines(a, b);
    expect(sides(d)).toEqual({ a, b });
    expect(diffStats(d)).toEqual({ added: 3000, deleted: 3000 });
  });
});

describe('diffRows', () => {
  const a = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
  it('keeps context lines around a change and folds the rest', () => {
    const b = [...a];
    b[14] = 'changed';
    const rows = diffRows(diffLines(a, b), 3);
    expect(rows[0]).toEqual({ type: 'gap', start: 0, count: 11 });
    const shown = rows.flatMap((r) => (r.type === 'line' ? [r.line.newNo ?? r.line.oldNo] : []));
    expect(shown).toEqual([12, 13, 14, 15, 15, 16, 17, 18]);
    expect(rows[rows.length - 1]).toEqual({ type: 'gap', start: 19, count: 12 });
  });

  it('merges nearby changes into one block and folds an unchanged file', () => {
    const b = [...a];
    b[2] = 'x';
    b[6] = 'y';
    const rows = diffRows(diffLines(a, b), 3);
    expect(rows.filter((r) => r.type === 'gap')).toEqual([{ type: 'gap', start: 12, count: 20 }]);
    expect(diffRows(diffLines(a, a))).toEqual([{ type: 'gap', start: 0, count: 30 }]);
  });
});

describe('error locations', () => {
  it('finds the line a YAML message names', () => {
    expect(lineFromMessage('yaml: line 3: did not find expected key')).toBe(3);
    expect(lineFromMessage('yaml: unmarshal errors:\n  line 22: cannot unmarshal !!str `abc` into int')).toBe(22);
    expect(lineFromMessage('routing.strategy: unknown strategy "x"')).toBeNull();
    expect(lineFromMessage('line 0: nothing')).toBeNull();
  });

  it('reads the key path a semantic message starts with', () => {
    expect(keyPathFromMessage('routing.strategy: unknown strategy "bogus"')).toEqual(['routing', 'strategy']);
    expect(keyPathFromMessage('openai-compatibility[1]: name is required')).toEqual(['openai-compatibility', 1]);
    expect(keyPathFromMessage('port: 70000 out of range')).toEqual(['port']);
    expect(keyPathFromMessage('config root must be a mapping')).toBeNull();
  });
});

describe('spanParts', () => {
  it('picks the largest exact unit', () => {
    expect(spanParts(90 * 86400)).toEqual({ n: 90, unit: 'd' });
    expect(spanParts(12 * 3600)).toEqual({ n: 12, unit: 'h' });
    expect(spanParts(36 * 3600)).toEqual({ n: 36, unit: 'h' });
    expect(spanParts(1800)).toEqual({ n: 30, unit: 'min' });
    expect(spanParts(90)).toEqual({ n: 90, unit: 's' });
    expect(spanParts(0)).toEqual({ n: 0, unit: 's' });
    expect(spanParts(-5)).toEqual({ n: 0, unit: 's' });
  });
});
