import { describe, expect, it } from 'vitest';
import {
  aliasEntries,
  checkFileName,
  checkJson,
  checkUploads,
  cleanAliases,
  distinctValues,
  draftOf,
  excludedEntries,
  fieldPatch,
  filterFiles,
  nameParts,
  NO_FILTERS,
  normalizePastedName,
  parsePatterns,
  providerOf,
  pruneSelection,
  readBatchResult,
  statusOf,
  usageByAuthIndex,
  withFileFields,
  type AuthFileEntry,
} from './logic';

const files: AuthFileEntry[] = [
  { name: 'claude-demo@example.com.json', provider: 'claude', email: 'demo@example.com', status: 'active', disabled: false },
  { name: 'codex-alice@corp.com-plus.json', type: 'codex', email: 'alice@corp.com', label: 'Alice', status: 'active' },
  { name: 'gemini-bob.json', provider: 'gemini', label: 'Bob project', status: 'disabled', disabled: true },
  { name: 'odd.json', status: 'error' },
];

describe('filterFiles', () => {
  it('returns everything without filters', () => {
    expect(filterFiles(files, NO_FILTERS)).toHaveLength(4);
  });
  it('searches name, email and label, case-insensitively, all terms', () => {
    expect(filterFiles(files, { ...NO_FILTERS, search: 'ALICE' }).map((f) => f.name)).toEqual(['codex-alice@corp.com-plus.json']);
    expect(filterFiles(files, { ...NO_FILTERS, search: 'bob project' }).map((f) => f.name)).toEqual(['gemini-bob.json']);
    expect(filterFiles(files, { ...NO_FILTERS, search: 'example.com' }).map((f) => f.name)).toEqual(['claude-demo@example.com.json']);
    expect(filterFiles(files, { ...NO_FILTERS, search: 'alice nobody' })).toEqual([]);
  });
  it('filters by provider (falling back to type), status and disabled', () => {
    expect(filterFiles(files, { ...NO_FILTERS, provider: 'codex' })).toHaveLength(1);
    expect(filterFiles(files, { ...NO_FILTERS, provider: 'unknown' }).map((f) => f.name)).toEqual(['odd.json']);
    expect(filterFiles(files, { ...NO_FILTERS, status: 'active' })).toHaveLength(2);
    expect(filterFiles(files, { ...NO_FILTERS, disabled: 'disabled' }).map((f) => f.name)).toEqual(['gemini-bob.json']);
    expect(filterFiles(files, { ...NO_FILTERS, disabled: 'enabled' })).toHaveLength(3);
  });
  it('derives provider, status and filter options', () => {
    expect(providerOf(files[1] ?? { name: '' })).toBe('codex');
    expect(statusOf({ name: 'x.json', status: 'active', disabled: true })).toBe('disabled');
    expect(statusOf({ name: 'x.json' })).toBe('unknown');
    expect(distinctValues(files, providerOf)).toEqual(['claude', 'codex', 'gemini', 'unknown']);
  });
  it('prunes a selection to existing names', () => {
    expect([...pruneSelection(new Set(['gemini-bob.json', 'gone.json']), files)]).toEqual(['gemini-bob.json']);
  });
});

describe('usageByAuthIndex', () => {
  it('maps rows by key and skips the other row', () => {
    const m = usageByAuthIndex([
      { key: 'idx1', other: false, attempts: 10, failed: 2, tokens: { total: 1234 }, costUsd: 0.5, unpriced: 0 },
      { key: '', other: true, attempts: 3, failed: 0, tokens: { total: 1 }, costUsd: 0, unpriced: 0 },
      { key: 'idx2', other: false, attempts: 1, failed: 0, tokens: null, costUsd: 0, unpriced: 1 },
    ]);
    expect(m.size).toBe(2);
    expect(m.get('idx1')).toEqual({ attempts: 10, failed: 2, tokens: 1234, costUsd: 0.5, unpriced: 0 });
    expect(m.get('idx2')?.tokens).toBe(0);
  });
});

describe('upload validation', () => {
  it('checks file names', () => {
    expect(checkFileName('a.json')).toBeNull();
    expect(checkFileName('A.JSON')).toBeNull();
    expect(checkFileName(' ')).toBe('nameRequired');
    expect(checkFileName('dir/a.json')).toBe('nameInvalid');
    expect(checkFileName('..')).toBe('nameInvalid');
    expect(checkFileName('a.txt')).toBe('nameNotJson');
    expect(checkFileName('.json')).toBe('nameNotJson');
  });
  it('checks JSON content is an object', () => {
    expect(checkJson('{"type":"claude"}')).toBeNull();
    expect(checkJson('  ')).toBe('jsonEmpty');
    expect(checkJson('{"a":')).toBe('jsonInvalid');
    expect(checkJson('[1,2]')).toBe('jsonNotObject');
    expect(checkJson('null')).toBe('jsonNotObject');
    expect(checkJson('"x"')).toBe('jsonNotObject');
  });
  it('adds .json to a pasted name', () => {
    expect(normalizePastedName(' my-file ')).toBe('my-file.json');
    expect(normalizePastedName('x.JSON')).toBe('x.JSON');
    expect(normalizePastedName('')).toBe('');
  });
  it('checks a batch and flags duplicates', () => {
    expect(
      checkUploads([
        { name: 'a.json', text: '{}' },
        { name: 'b.txt', text: '{}' },
        { name: 'c.json', text: 'nope' },
        { name: 'a.json', text: '{"x":1}' },
      ]),
    ).toEqual([
      { name: 'a.json', problem: null },
      { name: 'b.txt', problem: 'nameNotJson' },
      { name: 'c.json', problem: 'jsonInvalid' },
      { name: 'a.json', problem: 'duplicate' },
    ]);
  });
});

describe('readBatchResult', () => {
  it('reads a full success', () => {
    expect(readBatchResult({ status: 'ok', uploaded: 2, files: ['a.json', 'b.json'] }, ['a.json', 'b.json'])).toEqual({
      done: ['a.json', 'b.json'],
      failed: [],
    });
  });
  it('reads a single-file {"status":"ok"}', () => {
    expect(readBatchResult({ status: 'ok' }, ['a.json'])).toEqual({ done: ['a.json'], failed: [] });
  });
  it('reads a 207 partial answer', () => {
    expect(
      readBatchResult({ status: 'partial', deleted: 1, files: ['a.json'], failed: [{ name: 'b.json', error: 'file not found' }] }, [
        'a.json',
        'b.json',
      ]),
    ).toEqual({ done: ['a.json'], failed: [{ name: 'b.json', error: 'file not found' }] });
  });
  it('reads an all-failed answer without files', () => {
    expect(readBatchResult({ status: 'error', failed: [{ name: 'a.json', error: 'x' }] }, ['a.json', 'b.json'])).toEqual({
      done: ['b.json'],
      failed: [{ name: 'a.json', error: 'x' }],
    });
    expect(readBatchResult('garbage', ['a.json'])).toEqual({ done: [], failed: [] });
  });
});

describe('fieldPatch', () => {
  const entry: AuthFileEntry = { name: 'a.json', priority: 3, note: 'old', websockets: false };
  it('sends only changed fields', () => {
    const d = { ...draftOf(entry), note: 'new note' };
    expect(fieldPatch(entry, d)).toEqual({ ok: true, patch: { note: 'new note' } });
  });
  it('reports no changes', () => {
    expect(fieldPatch(entry, draftOf(entry))).toEqual({ ok: false, problem: 'noChanges' });
  });
  it('validates integers', () => {
    expect(fieldPatch(entry, { ...draftOf(entry), weight: '1.5' })).toEqual({ ok: false, problem: 'weightInteger' });
    expect(fieldPatch(entry, { ...draftOf(entry), priority: 'high' })).toEqual({ ok: false, problem: 'priorityInteger' });
    expect(fieldPatch(entry, { ...draftOf(entry), weight: ' 7 ', priority: '-2' })).toEqual({
      ok: true,
      patch: { weight: 7, priority: -2 },
    });
  });
  it('sends null for cleared values', () => {
    expect(fieldPatch(entry, { ...draftOf(entry), priority: '', note: '' })).toEqual({ ok: true, patch: { priority: null, note: null } });
  });
  it('builds headers from rows, skipping empty rows and refusing bad keys', () => {
    const rows = [
      { key: 'X-Team', value: 'a' },
      { key: '', value: '' },
    ];
    expect(fieldPatch(entry, { ...draftOf(entry), headers: rows })).toEqual({ ok: true, patch: { headers: { 'X-Team': 'a' } } });
    expect(fieldPatch(entry, { ...draftOf(entry), headers: [{ key: 'bad key', value: '1' }] })).toEqual({
      ok: false,
      problem: 'headerKey',
    });
    expect(
      fieldPatch(entry, {
        ...draftOf(entry),
        headers: [
          { key: 'X-A', value: '1' },
          { key: 'x-a', value: '2' },
        ],
      }),
    ).toEqual({ ok: false, problem: 'headerDuplicate' });
    const withHeaders = { ...entry, headers: { 'X-A': '1' } };
    expect(fieldPatch(withHeaders, { ...draftOf(withHeaders), headers: [] })).toEqual({ ok: true, patch: { headers: null } });
  });
  it('validates the proxy URL and toggles websockets', () => {
    expect(fieldPatch(entry, { ...draftOf(entry), proxyUrl: 'not a url' })).toEqual({ ok: false, problem: 'proxyUrl' });
    expect(fieldPatch(entry, { ...draftOf(entry), proxyUrl: 'socks5://127.0.0.1:1080', websockets: true })).toEqual({
      ok: true,
      patch: { proxy_url: 'socks5://127.0.0.1:1080', websockets: true },
    });
  });
  it('takes proxy_url and headers from the file, not its tokens', () => {
    const merged = withFileFields(entry, { access_token: 'secret', proxy_url: 'http://p:8080', headers: { 'X-A': '1', n: 2 } });
    expect(merged.proxy_url).toBe('http://p:8080');
    expect(merged.headers).toEqual({ 'X-A': '1' });
    expect(JSON.stringify(merged)).not.toContain('secret');
    expect(withFileFields(entry, null)).toBe(entry);
  });
});

describe('OAuth model maps', () => {
  it('parses patterns from lines and commas', () => {
    expect(parsePatterns('gpt-5*, claude-3\n\n  gpt-5* ,o1')).toEqual(['gpt-5*', 'claude-3', 'o1']);
    expect(parsePatterns('  ')).toEqual([]);
  });
  it('reads the excluded-models map', () => {
    expect(excludedEntries({ 'oauth-excluded-models': { gemini: ['a', 2, 'b'], codex: ['x'] } })).toEqual([
      { provider: 'codex', models: ['x'] },
      { provider: 'gemini', models: ['a', 'b'] },
    ]);
    expect(excludedEntries({})).toEqual([]);
  });
  it('reads the alias map', () => {
    expect(aliasEntries({ 'oauth-model-alias': { codex: [{ name: 'gpt-5', alias: 'g5', fork: true }, 'junk'] } })).toEqual([
      { channel: 'codex', aliases: [{ name: 'gpt-5', alias: 'g5', fork: true }] },
    ]);
  });
  it('cleans alias rows', () => {
    expect(
      cleanAliases([
        { name: ' gpt-5 ', alias: ' g5 ', fork: false },
        { name: '', alias: '', fork: false },
      ]),
    ).toEqual({ ok: true, aliases: [{ name: 'gpt-5', alias: 'g5', fork: false }] });
    expect(cleanAliases([{ name: 'a', alias: '', fork: false }])).toEqual({ ok: false, problem: 'aliasIncomplete' });
    expect(
      cleanAliases([
        { name: 'a', alias: 'X', fork: false },
        { name: 'b', alias: 'x', fork: true },
      ]),
    ).toEqual({ ok: false, problem: 'aliasDuplicate' });
    expect(cleanAliases([])).toEqual({ ok: false, problem: 'aliasEmpty' });
  });
});

describe('nameParts', () => {
  it('keeps short names whole', () => {
    expect(nameParts('claude-a@b.c.json')).toEqual({ head: 'claude-a@b.c.json', tail: '' });
  });
  it('keeps the end of long names, split after a separator', () => {
    const name = 'codex-gone@example.com-team.json';
    const p = nameParts(name);
    expect(p.head + p.tail).toBe(name);
    expect(p.tail).toBe('com-team.json');
    expect(nameParts('codex-demo@example.com-plus.json').tail).toBe('com-plus.json');
  });
  it('cuts at the length when no separator is near', () => {
    const name = 'a'.repeat(30) + '.json';
    const p = nameParts(name);
    expect(p.head + p.tail).toBe(name);
    expect(p.tail.length).toBe(12);
  });
});
