import { describe, expect, it } from 'vitest';
import {
  EMPTY_BUFFER,
  fileNameFrom,
  filterLines,
  isManagementNoise,
  mergeLogs,
  nextLogsQuery,
  normalizeRequestId,
  parseLevel,
  type LogBuffer,
} from './logic';

describe('parseLevel', () => {
  it('reads CPA bracketed levels', () => {
    expect(parseLevel('[2026-01-02 03:04:05] [info ] [abcd1234] 200 | POST /v1/chat')).toBe('info');
    expect(parseLevel('[2026-01-02 03:04:05] [error] boom')).toBe('error');
    expect(parseLevel('[2026-01-02 03:04:05] [warn ] slow')).toBe('warn');
    expect(parseLevel('[2026-01-02 03:04:05] [warning] slow')).toBe('warn');
    expect(parseLevel('[2026-01-02 03:04:05] [debug] x')).toBe('debug');
  });
  it('reads logfmt and upper-case words, defaults to info', () => {
    expect(parseLevel('time=1 level=error msg=x')).toBe('error');
    expect(parseLevel('2026/01/02 WARN something')).toBe('warn');
    expect(parseLevel('plain text')).toBe('info');
    // a lower-case word inside the message is not a level
    expect(parseLevel('[2026-01-02 03:04:05] [info ] no error here')).toBe('info');
  });
});

describe('isManagementNoise', () => {
  it('detects management API requests', () => {
    expect(isManagementNoise('[info ] 200 | 1ms | 127.0.0.1 | GET "/v0/management/logs?cursor=x"')).toBe(true);
    expect(isManagementNoise('GET /v0/management')).toBe(true);
    expect(isManagementNoise('[info ] [abcd1234] 200 | POST /v1/chat/completions')).toBe(false);
    expect(isManagementNoise('GET /v0/managementx')).toBe(false);
  });
});

describe('nextLogsQuery', () => {
  it('prefers the cursor, then after, then the tail', () => {
    expect(nextLogsQuery({ cursor: 'abc', latest: 5 })).toEqual({ cursor: 'abc' });
    expect(nextLogsQuery({ cursor: null, latest: 5 })).toEqual({ after: 5 });
    expect(nextLogsQuery({ cursor: null, latest: 0 })).toEqual({ limit: 500 });
  });
});

describe('mergeLogs', () => {
  it('replaces on first read, appends with a cursor', () => {
    let b = mergeLogs(EMPTY_BUFFER, { lines: ['[info ] a', '[error] b'], 'latest-timestamp': 10, 'next-cursor': 'c1' });
    expect(b.lines.map((l) => l.text)).toEqual(['[info ] a', '[error] b']);
    expect(b.lines[1]?.level).toBe('error');
    expect(b.cursor).toEqual({ cursor: 'c1', latest: 10 });
    b = mergeLogs(b, { lines: ['[warn ] c'], 'latest-timestamp': 12, 'next-cursor': 'c2' });
    expect(b.lines.map((l) => l.text)).toEqual(['[info ] a', '[error] b', '[warn ] c']);
    expect(new Set(b.lines.map((l) => l.id)).size).toBe(3);
    expect(b.cursor).toEqual({ cursor: 'c2', latest: 12 });
    // An empty page keeps the latest timestamp.
    b = mergeLogs(b, { lines: [], 'next-cursor': 'c3' });
    expect(b.cursor).toEqual({ cursor: 'c3', latest: 12 });
    expect(b.lines).toHaveLength(3);
  });
  it('restarts the view on a cursor reset', () => {
    const b0 = mergeLogs(EMPTY_BUFFER, { lines: ['x', 'y'], 'latest-timestamp': 10, 'next-cursor': 'c1' });
    const b = mergeLogs(b0, { lines: ['z'], 'latest-timestamp': 11, 'next-cursor': 'c9', 'cursor-reset': true });
    expect(b.lines.map((l) => l.text)).toEqual(['z']);
    expect(b.dropped).toBe(2);
  });
  it('caps the buffer, dropping the oldest', () => {
    let b: LogBuffer = mergeLogs(EMPTY_BUFFER, { lines: ['l0', 'l1', 'l2'], 'next-cursor': 'c' }, 4);
    b = mergeLogs(b, { lines: ['l3', 'l4', 'l5'], 'next-cursor': 'd' }, 4);
    expect(b.lines.map((l) => l.text)).toEqual(['l2', 'l3', 'l4', 'l5']);
    expect(b.dropped).toBe(2);
    const many = Array.from({ length: 6000 }, (_, i) => `m${i}`);
    const big = mergeLogs(EMPTY_BUFFER, { lines: many, 'next-cursor': 'c' });
    expect(big.lines).toHaveLength(5000);
    expect(big.lines[0]?.text).toBe('m1000');
    expect(big.lines[4999]?.text).toBe('m5999');
  });
});

describe('filterLines', () => {
  const b = mergeLogs(EMPTY_BUFFER, {
    lines: ['[debug] d', '[info ] GET /v0/management/logs', '[warn ] mock-gpt slow', '[error] mock-fail'],
    'next-cursor': 'c',
  });
  it('filters by minimum level, text and management noise', () => {
    expect(filterLines(b.lines, { text: '', level: '', hideManagement: false })).toHaveLength(4);
    expect(filterLines(b.lines, { text: '', level: 'warn', hideManagement: false }).map((l) => l.text)).toEqual([
      '[warn ] mock-gpt slow',
      '[error] mock-fail',
    ]);
    expect(filterLines(b.lines, { text: 'MOCK', level: '', hideManagement: false })).toHaveLength(2);
    expect(filterLines(b.lines, { text: '', level: '', hideManagement: true }).map((l) => l.text)).not.toContain(
      '[info ] GET /v0/management/logs',
    );
  });
});

describe('normalizeRequestId', () => {
  it('accepts 8 hex digits only', () => {
    expect(normalizeRequestId(' ABCD1234 ')).toBe('abcd1234');
    expect(normalizeRequestId('abcd123')).toBeNull();
    expect(normalizeRequestId('abcd12345')).toBeNull();
    expect(normalizeRequestId('abcd123g')).toBeNull();
    expect(normalizeRequestId('../x')).toBeNull();
  });
});

describe('fileNameFrom', () => {
  it('reads Content-Disposition', () => {
    expect(fileNameFrom('attachment; filename=error-x-abcd1234.log', 'f')).toBe('error-x-abcd1234.log');
    expect(fileNameFrom('attachment; filename="a b.log"', 'f')).toBe('a b.log');
    expect(fileNameFrom(null, 'f')).toBe('f');
  });
});
