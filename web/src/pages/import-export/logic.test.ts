import { describe, expect, it } from 'vitest';
import { ApiClient, buildUrl } from '../../api/client';
import {
  buildExportQuery,
  EXPORT_PATH,
  importRequestFor,
  isImportFileName,
  readDate,
  summarizeImport,
  uploadShare,
  UPSTREAM_PATTERN,
} from './logic';
import { authHeaders, withCookies } from '../../api/transport';

const today = { year: 2026, month: 3, day: 2 };

describe('buildExportQuery', () => {
  it('starts presets at a local midnight and leaves the end open', () => {
    expect(buildExportQuery({ kind: 'preset', preset: 'today' }, today, 'Asia/Shanghai')).toEqual({
      ok: true,
      query: { from: '2026-03-02', tz: 'Asia/Shanghai' },
      fileName: 'usage-events-2026-03-02-2026-03-02.jsonl',
    });
    expect(buildExportQuery({ kind: 'preset', preset: '7d' }, today, 'UTC')).toMatchObject({
      ok: true,
      query: { from: '2026-02-24', tz: 'UTC' },
    });
    expect(buildExportQuery({ kind: 'preset', preset: '30d' }, today, 'UTC')).toMatchObject({
      ok: true,
      query: { from: '2026-02-01', tz: 'UTC' },
    });
  });
  it('sends nothing for everything', () => {
    expect(buildExportQuery({ kind: 'preset', preset: 'all' }, today, 'UTC')).toEqual({
      ok: true,
      query: {},
      fileName: 'usage-events-all.jsonl',
    });
  });
  it('includes the last day of a custom range, either end optional', () => {
    expect(buildExportQuery({ kind: 'custom', from: '2026-01-01', to: '2026-01-31' }, today, 'Europe/Berlin')).toEqual({
      ok: true,
      query: { from: '2026-01-01', to: '2026-02-01', tz: 'Europe/Berlin' },
      fileName: 'usage-events-2026-01-01-2026-01-31.jsonl',
    });
    expect(buildExportQuery({ kind: 'custom', from: '', to: '2026-12-31' }, today, 'UTC')).toMatchObject({
      ok: true,
      query: { to: '2027-01-01', tz: 'UTC' },
    });
    expect(buildExportQuery({ kind: 'custom', from: '', to: '' }, today, 'UTC')).toMatchObject({ ok: true, query: {} });
  });
  it('refuses bad or reversed dates', () => {
    expect(buildExportQuery({ kind: 'custom', from: '2026-02-30', to: '' }, today, 'UTC')).toEqual({ ok: false, error: 'invalidDate' });
    expect(buildExportQuery({ kind: 'custom', from: '2026-03-02', to: '2026-03-01' }, today, 'UTC')).toEqual({ ok: false, error: 'order' });
    expect(buildExportQuery({ kind: 'custom', from: '2026-03-01', to: '2026-03-01' }, today, 'UTC').ok).toBe(true);
  });
  it('adds the upstream and builds the download URL under apiBase', () => {
    const r = buildExportQuery({ kind: 'preset', preset: '7d' }, today, 'America/New_York', 'cpa-two');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.fileName).toBe('usage-events-cpa-two-2026-02-24-2026-03-02.jsonl');
    expect(buildUrl('/cpam', EXPORT_PATH, r.query)).toBe(
      '/cpam/v0/management/usage/export?from=2026-02-24&tz=America%2FNew_York&upstream=cpa-two',
    );
    const api = new ApiClient({ mode: 'hosted', apiBase: '/stats', managementBase: '/v0/management' });
    expect(api.usageUrl(EXPORT_PATH, r.query)).toBe(
      '/stats/v0/management/usage/export?from=2026-02-24&tz=America%2FNew_York&upstream=cpa-two',
    );
  });
  it('reads dates strictly', () => {
    expect(readDate('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(readDate('2025-02-29')).toBeNull();
    expect(readDate('2025-1-1')).toBeNull();
  });
});

describe('importRequestFor', () => {
  it.each([
    ['usage-events.jsonl', 'application/x-ndjson', null],
    ['records.NDJSON', 'application/x-ndjson', null],
    ['export.json', 'application/json', null],
    ['usage-events.jsonl.gz', 'application/x-ndjson', 'gzip'],
    ['export.json.gz', 'application/json', 'gzip'],
    ['dump.gz', 'application/x-ndjson', 'gzip'],
    ['noext', 'application/x-ndjson', null],
  ])('%s → %s, %s', (name, contentType, contentEncoding) => {
    expect(importRequestFor(name)).toEqual({ contentType, contentEncoding });
  });
  it('knows the accepted file names', () => {
    expect(isImportFileName('a.jsonl')).toBe(true);
    expect(isImportFileName('a.json.gz')).toBe(true);
    expect(isImportFileName('a.GZ')).toBe(true);
    expect(isImportFileName('a.csv')).toBe(false);
    expect(isImportFileName('jsonl')).toBe(false);
  });
  it('checks upstream names like the server', () => {
    expect(UPSTREAM_PATTERN.test('default')).toBe(true);
    expect(UPSTREAM_PATTERN.test('cpa_2-b')).toBe(true);
    expect(UPSTREAM_PATTERN.test('-x')).toBe(false);
    expect(UPSTREAM_PATTERN.test('Upper')).toBe(false);
    expect(UPSTREAM_PATTERN.test('a'.repeat(65))).toBe(false);
  });
});

describe('authHeaders', () => {
  it('sends the CSRF header, and the CPA key only in CPA panel mode', () => {
    const hosted = new ApiClient({ mode: 'hosted', apiBase: '/cpam', managementBase: '/v0/management' });
    expect(authHeaders(hosted)).toEqual({ Accept: 'application/json', 'X-CPAM-Request': '1' });
    expect(withCookies(hosted)).toBe(true);
    const cpa = new ApiClient({ mode: 'cpa', usageUrl: 'https://u.example/cpam', managementBase: '/v0/management', managementKey: 'k' });
    expect(authHeaders(cpa)).toEqual({ Accept: 'application/json', 'X-CPAM-Request': '1', Authorization: 'Bearer k' });
    expect(withCookies(cpa)).toBe(false);
  });
});

describe('summarizeImport', () => {
  it('summarises a successful import with line numbers', () => {
    const s = summarizeImport(200, {
      format: 'cpam_jsonl',
      added: 10,
      skipped: 3,
      failed: 2,
      total: 15,
      errors: [
        { line: 4, error: 'not JSON' },
        { index: 7, error: 'missing timestamp' },
      ],
      warnings: ['12 legacy details had no token split'],
    });
    expect(s).toEqual({
      outcome: 'ok',
      status: 200,
      counts: { format: 'cpam_jsonl', added: 10, skipped: 3, failed: 2, total: 15 },
      issues: [
        { where: { kind: 'line', n: 4 }, error: 'not JSON' },
        { where: { kind: 'index', n: 7 }, error: 'missing timestamp' },
      ],
      moreIssues: 0,
      warnings: ['12 legacy details had no token split'],
      message: '',
      code: '',
    });
  });
  it('lists at most maxIssues and counts the rest', () => {
    const errors = Array.from({ length: 50 }, (_, i) => ({ line: i + 1, error: 'bad' }));
    const s = summarizeImport(200, { format: 'cpa_records', added: 0, skipped: 0, failed: 120, total: 120, errors, warnings: [] }, 5);
    expect(s.issues).toHaveLength(5);
    expect(s.moreIssues).toBe(115);
  });
  it('keeps the counts of a stopped import (413 with counts)', () => {
    const s = summarizeImport(413, {
      error: 'the body (decompressed) is larger than the import limit of 1048576 bytes',
      code: 'too_large',
      format: 'cpam_jsonl',
      added: 500,
      skipped: 0,
      failed: 0,
      total: 500,
      errors: [],
      warnings: [],
    });
    expect(s.outcome).toBe('partial');
    expect(s.counts?.added).toBe(500);
    expect(s.message).toContain('import limit of 1048576 bytes');
    expect(s.code).toBe('too_large');
  });
  it('handles errors without counts or without a body', () => {
    expect(summarizeImport(413, { error: 'the body is 9 bytes, more than the import limit', code: 'too_large' })).toMatchObject({
      outcome: 'failed',
      counts: null,
      message: 'the body is 9 bytes, more than the import limit',
    });
    expect(summarizeImport(413, null)).toMatchObject({ outcome: 'failed', counts: null, message: '', issues: [], warnings: [] });
    expect(
      summarizeImport(400, {
        error: 'no usage record found',
        code: 'unknown_format',
        format: '',
        added: 0,
        skipped: 0,
        failed: 0,
        total: 0,
      }),
    ).toMatchObject({
      outcome: 'failed',
      counts: { added: 0, total: 0 },
    });
  });
  it('ignores malformed fields', () => {
    const s = summarizeImport(200, { added: '5', skipped: 2, errors: [null, 3, { error: 7 }], warnings: ['w', 1] });
    expect(s.counts).toEqual({ format: '', added: 0, skipped: 2, failed: 0, total: 2 });
    expect(s.issues).toEqual([{ where: null, error: '' }]);
    expect(s.warnings).toEqual(['w']);
  });
  it('computes the upload share', () => {
    expect(uploadShare(50, 200)).toBe(0.25);
    expect(uploadShare(300, 200)).toBe(1);
    expect(uploadShare(0, 0)).toBe(0);
  });
});
