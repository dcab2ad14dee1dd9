import { describe, expect, it } from 'vitest';
import {
  KEY_SECTIONS,
  buildCompat,
  buildKeyEntry,
  compatDraftFrom,
  emptyCompatDraft,
  emptyKeyDraft,
  isHeaderName,
  isKeyDisabled,
  keyDraftFrom,
  listWithAdded,
  maskKey,
  patchValue,
  probeRequest,
  readProbe,
  statusBody,
  stripCompat,
  stripKeyEntry,
  sumUsage,
  usageByAuthIndex,
  validateCompatDraft,
  validateKeyDraft,
  type CompatProvider,
  type KeyEntry,
  type KeySection,
  type UsageRow,
} from './logic';

function section(id: string): KeySection {
  const s = KEY_SECTIONS.find((x) => x.id === id);
  if (!s) throw new Error(id);
  return s;
}
const claude = section('claude');
const xai = section('xai');
const gemini = section('gemini');

describe('maskKey', () => {
  it('shows 4 + … + 4 characters and never the key', () => {
    expect(maskKey('sk-ant-api03-demo-claude-key')).toBe('sk-a…-key');
    expect(maskKey('12345678')).toBe('****');
    expect(maskKey('')).toBe('');
    for (const k of ['abc', 'sk-123456', 'x'.repeat(100)]) expect(maskKey(k)).not.toContain(k);
  });
});

describe('validation', () => {
  const existing: KeyEntry[] = [{ 'api-key': 'sk-one', 'base-url': 'https://a.example/v1/' }];

  it('requires an api key when adding, not when editing', () => {
    expect(validateKeyDraft(emptyKeyDraft(), claude, [], null)).toEqual([{ field: 'apiKey', error: 'apiKeyRequired' }]);
    const orig: KeyEntry = { 'api-key': 'sk-stored' };
    expect(validateKeyDraft(keyDraftFrom(orig), claude, [], orig)).toEqual([]);
  });

  it('checks URLs, numbers and header names', () => {
    const d = {
      ...emptyKeyDraft(),
      apiKey: 'k',
      baseUrl: 'ftp://x',
      proxyUrl: 'nope',
      weight: '-1',
      priority: '1.5',
      headers: [
        { name: 'X Bad', value: '1' },
        { name: 'X-Ok', value: '1' },
        { name: 'x-ok', value: '2' },
        { name: '', value: '' },
      ],
      models: [{ name: '', alias: 'a' }],
    };
    const errors = validateKeyDraft(d, xai, [], null).map((i) => `${i.field}:${i.error}`);
    expect(errors).toEqual([
      'baseUrl:baseUrlInvalid',
      'proxyUrl:proxyUrlInvalid',
      'weight:weightInvalid',
      'priority:priorityInvalid',
      'headers.0:headerNameInvalid',
      'headers.2:headerDuplicate',
      'models.0:modelNameRequired',
    ]);
    // Gemini has no priority or models: those fields are not checked.
    expect(
      validateKeyDraft({ ...emptyKeyDraft(), apiKey: 'k', priority: 'x', models: [{ name: '', alias: 'a' }] }, gemini, [], null),
    ).toEqual([]);
    expect(validateKeyDraft({ ...emptyKeyDraft(), apiKey: 'k', weight: ' 3 ', priority: '-2' }, xai, [], null)).toEqual([]);
  });

  it('refuses a duplicate api-key + base-url, trailing slash or not', () => {
    const d = { ...emptyKeyDraft(), apiKey: 'sk-one', baseUrl: 'https://a.example/v1' };
    expect(validateKeyDraft(d, claude, existing, null)).toEqual([{ field: 'apiKey', error: 'duplicateKey' }]);
    expect(validateKeyDraft({ ...d, baseUrl: 'https://b.example' }, claude, existing, null)).toEqual([]);
  });

  it('checks OpenAI-compatible providers: name, base-url, keys', () => {
    const others: CompatProvider[] = [{ name: 'Mock', 'base-url': 'http://x' }];
    const errs = (d: ReturnType<typeof emptyCompatDraft>) => validateCompatDraft(d, others).map((i) => `${i.field}:${i.error}`);
    expect(errs(emptyCompatDraft())).toEqual(['name:nameRequired', 'baseUrl:baseUrlRequired', 'keys:keysRequired']);
    const ok = {
      ...emptyCompatDraft(),
      name: 'new',
      baseUrl: 'http://127.0.0.1:1/v1',
      keys: [{ original: null, apiKey: 'k1', weight: '', proxyUrl: '' }],
    };
    expect(errs(ok)).toEqual([]);
    expect(errs({ ...ok, name: ' mock ' })).toEqual(['name:nameTaken']);
    expect(errs({ ...ok, baseUrl: 'example.com' })).toEqual(['baseUrl:baseUrlInvalid']);
    expect(
      errs({
        ...ok,
        keys: [
          { original: null, apiKey: 'k1', weight: 'x', proxyUrl: '' },
          { original: null, apiKey: 'k1', weight: '', proxyUrl: 'bad' },
        ],
      }),
    ).toEqual(['keys.0.weight:weightInvalid', 'keys.1:duplicateKey', 'keys.1.proxyUrl:proxyUrlInvalid']);
  });

  it('knows header tokens', () => {
    expect(isHeaderName('X-Api-Key')).toBe(true);
    expect(isHeaderName('a:b')).toBe(false);
    expect(isHeaderName('')).toBe(false);
  });
});

describe('building entries', () => {
  it('keeps unknown fields and the disabled mark, drops auth-index and empty fields', () => {
    const orig: KeyEntry = {
      'api-key': 'sk-stored',
      'base-url': 'https://old',
      prefix: 'p',
      'excluded-models': ['a-*', '*'],
      'request-retry': 2,
      'auth-index': 'abc',
      models: [{ name: 'm1', alias: 'x', 'display-name': 'M1' }],
    };
    const d = keyDraftFrom(orig);
    expect(d.excluded).toBe('a-*');
    expect(isKeyDisabled(orig)).toBe(true);
    const built = buildKeyEntry({ ...d, prefix: '', weight: '5', models: [...d.models, { name: 'm2', alias: '' }] }, claude, orig);
    expect(built).toEqual({
      'api-key': 'sk-stored',
      'base-url': 'https://old',
      weight: 5,
      'excluded-models': ['a-*', '*'],
      'request-retry': 2,
      models: [
        { name: 'm1', alias: 'x', 'display-name': 'M1' },
        { name: 'm2', alias: 'm2' },
      ],
    });
  });

  it('builds a new provider with its keys and aliases', () => {
    const p = buildCompat(
      {
        ...emptyCompatDraft(),
        name: ' e2e ',
        baseUrl: 'http://h/v1',
        prefix: 'team',
        headers: [{ name: 'X-T', value: 'v' }],
        models: [{ name: 'up', alias: 'down' }],
        keys: [{ original: null, apiKey: ' sk-new ', weight: '2', proxyUrl: '' }],
      },
      null,
    );
    expect(p).toEqual({
      name: 'e2e',
      'base-url': 'http://h/v1',
      prefix: 'team',
      disabled: false,
      headers: { 'X-T': 'v' },
      models: [{ name: 'up', alias: 'down' }],
      'api-key-entries': [{ 'api-key': 'sk-new', weight: 2 }],
    });
  });

  it('keeps stored keys that were not retyped', () => {
    const orig: CompatProvider = {
      name: 'mock',
      'base-url': 'http://h/v1',
      disabled: true,
      'auth-index': 'i0',
      'api-key-entries': [{ 'api-key': 'sk-a', 'auth-index': 'i1', 'excluded-models': ['*'] }, { 'api-key': 'sk-b' }],
      models: [],
    };
    const d = compatDraftFrom(orig);
    expect(d.keys.map((k) => k.apiKey)).toEqual(['', '']);
    const [first, second] = d.keys;
    if (!first || !second) throw new Error('two key rows expected');
    const built = buildCompat({ ...d, keys: [first, { ...second, apiKey: 'sk-c' }] }, orig);
    expect(built['api-key-entries']).toEqual([{ 'api-key': 'sk-a', 'excluded-models': ['*'] }, { 'api-key': 'sk-c' }]);
    expect(built.disabled).toBe(true);
    expect('auth-index' in built).toBe(false);
  });
});

describe('write bodies', () => {
  it('PUT adds to the loaded list without auth-index', () => {
    const loaded: KeyEntry[] = [{ 'api-key': 'a', 'auth-index': '1' }];
    expect(listWithAdded(loaded, stripKeyEntry, { 'api-key': 'b' })).toEqual([{ 'api-key': 'a' }, { 'api-key': 'b' }]);
    const compat: CompatProvider[] = [
      { name: 'm', 'base-url': 'u', 'auth-index': 'x', 'api-key-entries': [{ 'api-key': 'k', 'auth-index': 'y' }] },
    ];
    expect(listWithAdded(compat, stripCompat, { name: 'n', 'base-url': 'v' })).toEqual([
      { name: 'm', 'base-url': 'u', 'api-key-entries': [{ 'api-key': 'k' }] },
      { name: 'n', 'base-url': 'v' },
    ]);
    // the loaded objects are not changed
    expect(compat[0]?.['auth-index']).toBe('x');
  });

  it('PATCH sends the changed fields and clears removed ones', () => {
    const orig = { 'api-key': 'k', prefix: 'old', weight: 3, headers: { A: '1' }, models: [{ name: 'm' }], 'auth-index': 'z' };
    const next = { 'api-key': 'k', prefix: 'new', models: [{ name: 'm' }] };
    expect(patchValue(orig, next)).toEqual({ prefix: 'new', weight: null, headers: {} });
  });

  it('disables a config credential by auth index', () => {
    expect(statusBody('abc', true)).toEqual({ name: '', auth_index: 'abc', disabled: true });
  });
});

describe('connectivity probe', () => {
  it('uses each provider’s model listing and $TOKEN$', () => {
    expect(probeRequest('compat', 'i', 'http://127.0.0.1:9/v1/')).toEqual({
      auth_index: 'i',
      method: 'GET',
      url: 'http://127.0.0.1:9/v1/models',
      header: { Authorization: 'Bearer $TOKEN$' },
    });
    expect(probeRequest('claude', 'i', '')).toMatchObject({
      url: 'https://api.anthropic.com/v1/models',
      header: { 'x-api-key': '$TOKEN$', 'anthropic-version': '2023-06-01' },
    });
    expect(probeRequest('gemini', 'i', undefined)).toMatchObject({
      url: 'https://generativelanguage.googleapis.com/v1beta/models',
      header: { 'x-goog-api-key': '$TOKEN$' },
    });
    expect(probeRequest('codex', 'i', undefined).url).toBe('https://api.openai.com/v1/models');
  });

  it('reads the answer: body is JSON inside a string', () => {
    expect(readProbe({ status_code: 200, body: '{"object":"list","data":[{"id":"a"},{"id":"b"}]}' }, 12.4)).toEqual({
      status: 200,
      ok: true,
      latencyMs: 12,
      models: 2,
      error: null,
    });
    expect(readProbe({ status_code: 200, body: '{"models":[{}]}' }, 1).models).toBe(1);
    const bad = readProbe({ status_code: 401, body: 'x'.repeat(500) }, 3);
    expect(bad.ok).toBe(false);
    expect(bad.models).toBeNull();
    expect(bad.error).toHaveLength(301);
    expect(readProbe({ status_code: 404, body: 'not json' }, 1).error).toBe('not json');
  });
});

describe('usage join', () => {
  const row = (key: string, attempts: number, succeeded: number, other = false): UsageRow => ({
    key,
    other,
    attempts,
    succeeded,
    failed: attempts - succeeded,
    costUsd: attempts / 10,
    unpriced: 0,
    tokens: { total: attempts * 100 },
  });

  it('indexes by auth_index and skips the other row', () => {
    const m = usageByAuthIndex([row('a', 10, 9), row('b', 4, 4), row('', 1, 1, true)]);
    expect(m.size).toBe(2);
    expect(m.get('a')).toEqual({ attempts: 10, succeeded: 9, successRate: 0.9, tokens: 1000, costUsd: 1, unpriced: 0 });
    expect(m.get('missing')).toBeUndefined();
  });

  it('sums a provider’s keys', () => {
    const m = usageByAuthIndex([row('a', 10, 5), row('b', 10, 10)]);
    expect(sumUsage([m.get('a'), m.get('b'), m.get('c')])).toMatchObject({ attempts: 20, succeeded: 15, successRate: 0.75 });
    expect(sumUsage([undefined])).toBeUndefined();
  });
});
