import { describe, expect, it } from 'vitest';
import {
  buildResult,
  clampThreshold,
  classify,
  codexTargets,
  countActions,
  defaultSelection,
  fromResultWindows,
  isApplicable,
  longWindow,
  parseReason,
  planApply,
  reasonText,
  shortWindow,
  unauthorizedReason,
  type InspectionResult,
} from './logic';

const NOW = Date.parse('2026-11-27T06:00:00Z');

interface WindowSpec {
  used: number | string | null;
  seconds?: number | string | null;
}

/** A wham/usage body string like the simulator's. */
function usage(primary: WindowSpec | null, secondary: WindowSpec | null, extra: Record<string, unknown> = {}): string {
  const win = (w: WindowSpec | null) =>
    w === null
      ? null
      : {
          used_percent: w.used,
          ...(w.seconds === null ? {} : { limit_window_seconds: w.seconds }),
          reset_after_seconds: 600,
          reset_at: Math.floor(NOW / 1000) + 600,
        };
  return JSON.stringify({
    plan_type: 'plus',
    rate_limit: { allowed: true, limit_reached: false, primary_window: win(primary), secondary_window: win(secondary) },
    code_review_rate_limit: { primary_window: { used_percent: 100, limit_window_seconds: 604800 }, secondary_window: null },
    ...extra,
  });
}
const H5 = 18000;
const WEEK = 604800;

const ok = (body: string, disabled = false) => classify({ statusCode: 200, body, disabled }, 100, NOW);

describe('classify: failures', () => {
  it('deletes on 402 deactivated_workspace', () => {
    const c = classify({ statusCode: 402, body: '{"detail":{"code":"deactivated_workspace"}}', disabled: false }, 100, NOW);
    expect(c).toMatchObject({ action: 'delete', reason: 'deactivated_workspace' });
  });
  it('treats another 402 as an error, not a delete', () => {
    const c = classify({ statusCode: 402, body: '{"detail":{"code":"payment_required"}}', disabled: false }, 100, NOW);
    expect(c).toMatchObject({ action: 'error', reason: 'http_status', detail: 'HTTP 402' });
  });
  it('asks for re-authentication on 401, with a refined reason', () => {
    expect(classify({ statusCode: 401, body: '{"error":{"code":"token_expired"}}', disabled: false }, 100, NOW)).toMatchObject({
      action: 'reauth',
      reason: 'token_expired',
    });
    expect(classify({ statusCode: 401, body: '{"error":{"code":"refresh_token_invalidated"}}', disabled: true }, 100, NOW)).toMatchObject({
      action: 'reauth',
      reason: 'token_revoked',
    });
    expect(classify({ statusCode: 401, body: '', disabled: false }, 100, NOW)).toMatchObject({ action: 'reauth', reason: 'unauthorized' });
    expect(unauthorizedReason(undefined)).toBe('unauthorized');
  });
  it('reports a failed call and other statuses as errors', () => {
    expect(classify({ statusCode: null, callError: 'auth token not found', disabled: false }, 100, NOW)).toMatchObject({
      action: 'error',
      reason: 'probe_failed',
      detail: 'auth token not found',
    });
    expect(classify({ statusCode: 500, body: 'oops', disabled: false }, 100, NOW)).toMatchObject({ action: 'error', detail: 'HTTP 500' });
    expect(classify({ statusCode: 429, body: '{}', disabled: true }, 100, NOW)).toMatchObject({ action: 'error' });
  });
});

describe('classify: quota', () => {
  it('keeps an active account with quota left, with its evidence', () => {
    const c = ok(usage({ used: 23, seconds: H5 }, { used: 41, seconds: WEEK }));
    expect(c.action).toBe('keep');
    expect(c.reason).toBe('available');
    expect(c.plan).toBe('plus');
    expect(c.windows.map((w) => [w.id, w.usedPercent])).toEqual([
      ['primary', 23],
      ['secondary', 41],
      ['code_review_primary', 100],
    ]);
  });
  it('disables when the weekly window reaches the threshold (edge included)', () => {
    expect(ok(usage({ used: 10, seconds: H5 }, { used: 100, seconds: WEEK }))).toMatchObject({
      action: 'disable',
      reason: 'long_exhausted',
    });
    expect(
      classify({ statusCode: 200, body: usage({ used: 0, seconds: H5 }, { used: 80, seconds: WEEK }), disabled: false }, 80, NOW).action,
    ).toBe('disable');
    expect(
      classify({ statusCode: 200, body: usage({ used: 0, seconds: H5 }, { used: 79.9, seconds: WEEK }), disabled: false }, 80, NOW).action,
    ).toBe('keep');
    expect(ok(usage({ used: 10, seconds: H5 }, { used: 99.99, seconds: WEEK })).action).toBe('keep');
  });
  it('reads percentages given as strings', () => {
    expect(ok(usage({ used: '5', seconds: '18000' }, { used: '100', seconds: '604800' })).action).toBe('disable');
    expect(ok(usage({ used: '5', seconds: H5 }, { used: '40%', seconds: WEEK }), true).action).toBe('enable');
  });
  it('keeps an already disabled account whose weekly window is used up', () => {
    expect(ok(usage({ used: 0, seconds: H5 }, { used: 100, seconds: WEEK }), true)).toMatchObject({
      action: 'keep',
      reason: 'long_exhausted_disabled',
    });
  });
  it('does not disable for the 5-hour window alone', () => {
    expect(ok(usage({ used: 100, seconds: H5 }, { used: 50, seconds: WEEK }))).toMatchObject({ action: 'keep', reason: 'available' });
  });
  it('does not look at model-scoped windows (code review at 100 %)', () => {
    expect(ok(usage({ used: 1, seconds: H5 }, { used: 1, seconds: WEEK })).action).toBe('keep');
  });
  it('enables a disabled account when both windows are under the threshold', () => {
    expect(ok(usage({ used: 20, seconds: H5 }, { used: 50, seconds: WEEK }), true)).toMatchObject({
      action: 'enable',
      reason: 'recovered',
    });
  });
  it('keeps a disabled account while its 5-hour window is used up', () => {
    expect(ok(usage({ used: 100, seconds: H5 }, { used: 50, seconds: WEEK }), true)).toMatchObject({
      action: 'keep',
      reason: 'short_exhausted',
    });
  });
  it('enables a disabled single-window (weekly primary) plan', () => {
    expect(ok(usage({ used: 30, seconds: WEEK }, null), true)).toMatchObject({ action: 'enable', reason: 'recovered' });
    expect(ok(usage({ used: 100, seconds: WEEK }, null))).toMatchObject({ action: 'disable' });
  });
  it('keeps on incomplete data', () => {
    // no rate_limit at all
    expect(ok('{"plan_type":"plus"}', true)).toMatchObject({ action: 'keep', reason: 'incomplete' });
    // a body that is not JSON
    expect(ok('<html>', true)).toMatchObject({ action: 'keep', reason: 'incomplete' });
    // the long window lacks its percentage
    expect(ok(usage({ used: 1, seconds: H5 }, { used: null, seconds: WEEK }), true)).toMatchObject({
      action: 'keep',
      reason: 'incomplete',
    });
    // the short window lacks its percentage
    expect(ok(usage({ used: null, seconds: H5 }, { used: 1, seconds: WEEK }), true)).toMatchObject({
      action: 'keep',
      reason: 'incomplete',
    });
    // only a 5-hour window: no long window to judge by
    expect(ok(usage({ used: 1, seconds: H5 }, null), true)).toMatchObject({ action: 'keep', reason: 'incomplete' });
    // only a secondary (weekly) window and no 5-hour one: not a single-window plan
    expect(ok(usage(null, { used: 1, seconds: WEEK }), true)).toMatchObject({ action: 'keep', reason: 'incomplete' });
  });
  it('falls back to primary = short, secondary = long without window lengths', () => {
    const body = usage({ used: 5, seconds: null }, { used: 100, seconds: null });
    expect(ok(body).action).toBe('disable');
    const c = ok(usage({ used: 5, seconds: null }, { used: 10, seconds: null }), true);
    expect(c.action).toBe('enable');
    expect(longWindow(c.windows)?.id).toBe('secondary');
    expect(shortWindow(c.windows)?.id).toBe('primary');
  });
});

describe('records', () => {
  const file = {
    name: 'codex-full@example.com.json',
    auth_index: 'i-full',
    provider: 'codex',
    email: 'codex-full@example.com',
    disabled: false,
  };

  it('builds the stored result with the reason and windows', () => {
    const c = ok(usage({ used: 3, seconds: H5 }, { used: 100, seconds: WEEK }));
    const r = buildResult(file, 200, c);
    expect(r).toMatchObject({
      auth_index: 'i-full',
      name: 'codex-full@example.com.json',
      email: 'codex-full@example.com',
      plan: 'plus',
      status_code: 200,
      action: 'disable',
      reason: 'long_exhausted',
      disabled: false,
    });
    expect(r.windows[1]).toEqual({
      id: 'secondary',
      used_percent: 100,
      window_seconds: WEEK,
      reset_at: new Date(NOW + 600_000).toISOString(),
    });
    const back = fromResultWindows(r.windows);
    expect(back.map((w) => [w.id, w.kind, w.usedPercent])).toEqual([
      ['primary', 'five_hour', 3],
      ['secondary', 'weekly', 100],
      ['code_review_primary', 'model', 100],
    ]);
    expect(fromResultWindows(null)).toEqual([]);
  });
  it('keeps the detail in the reason text and reads it back', () => {
    expect(reasonText({ reason: 'http_status', detail: 'HTTP 500' })).toBe('http_status: HTTP 500');
    expect(parseReason('http_status: HTTP 500')).toEqual({ code: 'http_status', detail: 'HTTP 500' });
    expect(parseReason('recovered')).toEqual({ code: 'recovered', detail: null });
    expect(parseReason('something else')).toEqual({ code: null, detail: 'something else' });
  });
  it('probes only Codex files with an auth_index, by name', () => {
    const t = codexTargets([
      { name: 'b.json', provider: 'codex', auth_index: '2' },
      { name: 'a.json', type: 'codex', auth_index: '1' },
      { name: 'c.json', provider: 'claude', auth_index: '3' },
      { name: 'd.json', provider: 'codex' },
    ]);
    expect(t.map((f) => f.name)).toEqual(['a.json', 'b.json']);
  });
});

describe('selection and apply', () => {
  const r = (auth_index: string, action: InspectionResult['action']): InspectionResult => ({
    auth_index,
    name: `${auth_index}.json`,
    email: '',
    plan: '',
    status_code: 200,
    action,
    reason: '',
    disabled: false,
    windows: [],
  });
  const results = [r('k', 'keep'), r('e', 'enable'), r('d', 'disable'), r('x', 'delete'), r('a', 'reauth'), r('z', 'error')];

  it('ticks enable and disable by default, never delete', () => {
    expect([...defaultSelection(results)].sort()).toEqual(['d', 'e']);
  });
  it('counts actions', () => {
    expect(countActions(results)).toEqual({ keep: 1, enable: 1, disable: 1, reauth: 1, delete: 1, error: 1 });
  });
  it('applies only enable, disable and delete', () => {
    expect(results.filter((x) => isApplicable(x.action)).map((x) => x.action)).toEqual(['enable', 'disable', 'delete']);
  });
  it('plans the CPA calls of the selected suggestions only', () => {
    expect(planApply(results, new Set(['e', 'd', 'x', 'k', 'a']))).toEqual([
      {
        auth_index: 'e',
        name: 'e.json',
        action: 'enable',
        method: 'PATCH',
        path: '/auth-files/status',
        body: { name: 'e.json', disabled: false },
      },
      {
        auth_index: 'd',
        name: 'd.json',
        action: 'disable',
        method: 'PATCH',
        path: '/auth-files/status',
        body: { name: 'd.json', disabled: true },
      },
      { auth_index: 'x', name: 'x.json', action: 'delete', method: 'DELETE', path: '/auth-files', query: { name: 'x.json' } },
    ]);
    expect(planApply(results, new Set(['d']))).toHaveLength(1);
    expect(planApply(results, new Set())).toEqual([]);
  });
  it('clamps the threshold', () => {
    expect(clampThreshold('80')).toBe(80);
    expect(clampThreshold(0)).toBe(1);
    expect(clampThreshold(150)).toBe(100);
    expect(clampThreshold('')).toBe(100);
  });
});
