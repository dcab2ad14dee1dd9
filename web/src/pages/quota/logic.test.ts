import { describe, expect, it } from 'vitest';
import {
  ANTIGRAVITY_QUOTA_URL,
  buildQuotaRequest,
  clampConcurrency,
  CLAUDE_USAGE_URL,
  CODEX_USAGE_URL,
  codexAccountId,
  codexPlanOf,
  decodeJwtPayload,
  errorKindOf,
  GEMINI_QUOTA_URL,
  kindOfSeconds,
  latestEvidence,
  mask,
  num,
  parseClaudeUsage,
  parseCodexUsage,
  otherEvidenceHeaders,
  parseEvidenceHeaders,
  parseGeminiQuota,
  parseKimiUsage,
  parseXaiBilling,
  quotaProviderOf,
  readProbe,
  runPool,
  toIso,
  upstreamMessage,
  usageTone,
} from './logic';

const NOW = Date.parse('2026-11-27T06:00:00Z');
const unix = (seconds: number) => Math.floor(NOW / 1000) + seconds;
const iso = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();

function jwt(claims: object): string {
  const b64 = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${b64('{"alg":"RS256","typ":"JWT"}')}.${b64(JSON.stringify(claims))}.c2ln`;
}

/** wham/usage as the simulator (and ChatGPT) answer it. */
const codexBody = {
  user_id: 'user-sim-codex',
  account_id: 'acc-sim-5f0c1d2e',
  email: 'demo@example.com',
  plan_type: 'plus',
  rate_limit: {
    allowed: true,
    limit_reached: false,
    primary_window: { used_percent: 23, limit_window_seconds: 18000, reset_after_seconds: 9000, reset_at: unix(9000) },
    secondary_window: { used_percent: 41, limit_window_seconds: 604800, reset_after_seconds: 302400, reset_at: unix(302400) },
  },
  code_review_rate_limit: {
    allowed: true,
    limit_reached: false,
    primary_window: { used_percent: 0, limit_window_seconds: 604800, reset_after_seconds: 604800, reset_at: unix(604800) },
    secondary_window: null,
  },
  credits: { has_credits: false, unlimited: false, balance: '0' },
};

describe('num and toIso', () => {
  it('reads numbers and numeric strings', () => {
    expect(num(23)).toBe(23);
    expect(num('23')).toBe(23);
    expect(num(' 23.5% ')).toBe(23.5);
    expect(num('')).toBeNull();
    expect(num('abc')).toBeNull();
    expect(num(null)).toBeNull();
    expect(num(Number.NaN)).toBeNull();
  });
  it('reads RFC 3339, unix seconds and milliseconds', () => {
    expect(toIso('2026-11-27T06:00:00Z')).toBe('2026-11-27T06:00:00.000Z');
    expect(toIso(NOW / 1000)).toBe('2026-11-27T06:00:00.000Z');
    expect(toIso(NOW)).toBe('2026-11-27T06:00:00.000Z');
    expect(toIso(String(NOW / 1000))).toBe('2026-11-27T06:00:00.000Z');
    expect(toIso('soon')).toBeNull();
    expect(toIso(0)).toBeNull();
    expect(toIso(undefined)).toBeNull();
  });
});

describe('kindOfSeconds', () => {
  it('names the usual windows', () => {
    expect(kindOfSeconds(18000)).toBe('five_hour');
    expect(kindOfSeconds(86400)).toBe('daily');
    expect(kindOfSeconds(604800)).toBe('weekly');
    expect(kindOfSeconds(30 * 86400)).toBe('monthly');
    expect(kindOfSeconds(3 * 3600)).toBe('hours');
    expect(kindOfSeconds(14 * 86400)).toBe('days');
    expect(kindOfSeconds(null)).toBe('other');
    expect(kindOfSeconds(0)).toBe('other');
  });
});

describe('accounts', () => {
  it('maps auth-file providers to quota providers', () => {
    expect(quotaProviderOf({ name: 'a', provider: 'codex' })).toBe('codex');
    expect(quotaProviderOf({ name: 'a', type: 'gemini' })).toBe('gemini-cli');
    expect(quotaProviderOf({ name: 'a', provider: 'gemini-cli', type: 'gemini' })).toBe('gemini-cli');
    expect(quotaProviderOf({ name: 'a', provider: 'antigravity' })).toBe('antigravity');
    expect(quotaProviderOf({ name: 'a', provider: 'Kimi' })).toBe('kimi');
    expect(quotaProviderOf({ name: 'a', provider: 'vertex' })).toBeNull();
    expect(quotaProviderOf({ name: 'a' })).toBeNull();
  });
  it('finds the ChatGPT account id in the decoded id_token, the JWT, or account_id', () => {
    expect(codexAccountId({ name: 'a', id_token: { chatgpt_account_id: 'acc-1', plan_type: 'plus' } })).toBe('acc-1');
    const token = jwt({ email: 'x@y', 'https://api.openai.com/auth': { chatgpt_account_id: 'acc-2', chatgpt_plan_type: 'pro' } });
    expect(codexAccountId({ name: 'a', id_token: token })).toBe('acc-2');
    expect(codexPlanOf({ name: 'a', id_token: token })).toBe('pro');
    expect(codexAccountId({ name: 'a', account_id: 'acc-3' })).toBe('acc-3');
    expect(codexAccountId({ name: 'a', id_token: 'not-a-jwt' })).toBeNull();
    expect(decodeJwtPayload('a.!!!.c')).toBeNull();
  });
  it('builds the /api-call request of each provider', () => {
    const codex = buildQuotaRequest({ name: 'c.json', provider: 'codex', auth_index: 'i1', id_token: { chatgpt_account_id: 'acc-1' } });
    expect(codex).toEqual({
      auth_index: 'i1',
      method: 'GET',
      url: CODEX_USAGE_URL,
      header: { Authorization: 'Bearer $TOKEN$', Accept: 'application/json', 'Chatgpt-Account-Id': 'acc-1' },
    });
    const noAccount = buildQuotaRequest({ name: 'c.json', provider: 'codex', auth_index: 'i1' });
    expect(noAccount?.header).not.toHaveProperty('Chatgpt-Account-Id');

    const claude = buildQuotaRequest({ name: 'x', provider: 'claude', auth_index: 'i2' });
    expect(claude?.url).toBe(CLAUDE_USAGE_URL);
    expect(claude?.header['anthropic-beta']).toBe('oauth-2025-04-20');

    const gemini = buildQuotaRequest({ name: 'x', provider: 'gemini-cli', auth_index: 'i3', project_id: 'p-1' });
    expect(gemini?.method).toBe('POST');
    expect(gemini?.url).toBe(GEMINI_QUOTA_URL);
    expect(JSON.parse(gemini?.data ?? '')).toEqual({ project: 'p-1' });

    const anti = buildQuotaRequest({ name: 'x', provider: 'antigravity', auth_index: 'i4' });
    expect(anti?.url).toBe(ANTIGRAVITY_QUOTA_URL);
    expect(anti?.data).toBe('{}');

    expect(buildQuotaRequest({ name: 'x', provider: 'vertex', auth_index: 'i5' })).toBeNull();
    expect(buildQuotaRequest({ name: 'x', provider: 'codex' })).toBeNull();
  });
});

describe('parseCodexUsage', () => {
  it('reads the primary and secondary windows, the plan and the code-review window', () => {
    const d = parseCodexUsage(codexBody, NOW);
    expect(d.plan).toBe('plus');
    expect(d.windows.map((w) => [w.id, w.kind, w.usedPercent, w.windowSeconds])).toEqual([
      ['primary', 'five_hour', 23, 18000],
      ['secondary', 'weekly', 41, 604800],
      ['code_review_primary', 'model', 0, 604800],
    ]);
    expect(d.windows[0]?.resetAt).toBe(iso(9000));
    expect(d.windows[2]?.scope).toBe('code review');
  });
  it('takes percentages as strings and computes reset_at from reset_after_seconds', () => {
    const d = parseCodexUsage(
      { rate_limit: { primary_window: { used_percent: '100', limit_window_seconds: '604800', reset_after_seconds: 60 } } },
      NOW,
    );
    expect(d.windows).toEqual([{ id: 'primary', kind: 'weekly', scope: null, usedPercent: 100, windowSeconds: 604800, resetAt: iso(60) }]);
  });
  it('survives a missing rate_limit', () => {
    expect(parseCodexUsage({ plan_type: 'free' }, NOW)).toEqual({ plan: 'free', windows: [] });
    expect(parseCodexUsage(null, NOW)).toEqual({ plan: null, windows: [] });
  });
});

describe('parseClaudeUsage', () => {
  it('reads the windows the simulator gives, skipping null ones', () => {
    const body = {
      five_hour: { utilization: 18, resets_at: iso(3 * 3600) },
      seven_day: { utilization: 42, resets_at: iso(4 * 86400) },
      seven_day_oauth_apps: null,
      seven_day_opus: { utilization: 5, resets_at: iso(4 * 86400) },
      seven_day_sonnet: { utilization: 37, resets_at: iso(4 * 86400) },
      extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null },
    };
    const d = parseClaudeUsage(body);
    expect(d.windows.map((w) => [w.id, w.kind, w.scope, w.usedPercent])).toEqual([
      ['five_hour', 'five_hour', null, 18],
      ['seven_day', 'weekly', null, 42],
      ['seven_day_opus', 'model', 'Opus', 5],
      ['seven_day_sonnet', 'model', 'Sonnet', 37],
    ]);
    expect(d.windows[0]?.resetAt).toBe(iso(3 * 3600));
  });
});

describe('parseGeminiQuota', () => {
  it('turns remaining fractions of buckets into used percentages', () => {
    const d = parseGeminiQuota({
      buckets: [
        { modelId: 'gemini-2.5-pro', tokenType: 'REQUESTS', remainingFraction: 0.82, resetTime: iso(20 * 3600) },
        { modelId: 'gemini-2.5-flash-lite', tokenType: 'REQUESTS', remainingFraction: 1, resetTime: iso(20 * 3600) },
      ],
    });
    expect(d.windows.map((w) => [w.id, w.scope, w.usedPercent])).toEqual([
      ['gemini-2.5-pro', 'gemini-2.5-pro', 18],
      ['gemini-2.5-flash-lite', 'gemini-2.5-flash-lite', 0],
    ]);
  });
  it('reads fetchAvailableModels too', () => {
    const d = parseGeminiQuota({
      models: {
        'gemini-3-pro-preview': { displayName: 'Gemini 3 Pro', quotaInfo: { remainingFraction: 0.76, resetTime: iso(5 * 3600) } },
        bare: {},
      },
    });
    expect(d.windows).toEqual([
      { id: 'gemini-3-pro-preview', kind: 'model', scope: 'Gemini 3 Pro', usedPercent: 24, windowSeconds: null, resetAt: iso(5 * 3600) },
    ]);
  });
});

describe('parseKimiUsage', () => {
  it('reads the 5-hour limit and the weekly usage from string counts', () => {
    const d = parseKimiUsage({
      usage: { limit: '100', used: '12', remaining: '88', resetTime: iso(6 * 86400) },
      limits: [
        {
          window: { duration: 300, timeUnit: 'TIME_UNIT_MINUTE' },
          detail: { limit: '50', used: '4', remaining: '46', resetTime: iso(3 * 3600) },
        },
      ],
    });
    expect(d.windows.map((w) => [w.id, w.kind, w.usedPercent, w.resetAt])).toEqual([
      ['limit_0', 'five_hour', 8, iso(3 * 3600)],
      ['usage', 'weekly', 12, iso(6 * 86400)],
    ]);
  });
  it('derives used from remaining', () => {
    const d = parseKimiUsage({ usage: { limit: 10, remaining: 7 } });
    expect(d.windows[0]?.usedPercent).toBe(30);
  });
});

describe('parseXaiBilling', () => {
  it('reads the monthly usage, limits and the plan', () => {
    const d = parseXaiBilling({
      plan: 'SuperGrok',
      currency: 'USD',
      usage: { used_percent: 27.5, window: 'monthly', resets_at: iso(12 * 86400) },
      limits: [{ name: 'requests', used: 275, limit: 1000, resets_at: iso(12 * 86400) }],
    });
    expect(d.plan).toBe('SuperGrok');
    expect(d.windows.map((w) => [w.id, w.kind, w.scope, w.usedPercent])).toEqual([
      ['usage', 'monthly', null, 27.5],
      ['limit_requests', 'model', 'requests', 27.5],
    ]);
  });
});

describe('readProbe', () => {
  it('parses the string body of a 200', () => {
    const out = readProbe('codex', { status_code: 200, header: {}, body: JSON.stringify(codexBody) }, NOW);
    expect(out.ok).toBe(true);
    if (out.ok) expect(out.data.windows[1]?.usedPercent).toBe(41);
  });
  it('names failures readably', () => {
    const expired = readProbe(
      'codex',
      { status_code: 401, body: '{"error":{"type":"authentication_error","message":"missing or invalid access token"}}' },
      NOW,
    );
    expect(expired).toMatchObject({ ok: false, status: 401, kind: 'reauth', message: 'missing or invalid access token' });
    const gone = readProbe('codex', { status_code: 402, body: '{"detail":{"code":"deactivated_workspace"}}' }, NOW);
    expect(gone).toMatchObject({ ok: false, kind: 'deactivated', message: 'deactivated_workspace' });
    expect(readProbe('claude', { status_code: 200, body: 'oops' }, NOW)).toMatchObject({ ok: false, kind: 'bad_body' });
    expect(readProbe('claude', { status_code: 200, body: '' }, NOW)).toMatchObject({ ok: false, kind: 'bad_body' });
  });
  it('maps statuses to kinds', () => {
    expect(errorKindOf(402, { error: 'payment' })).toBe('payment');
    expect(errorKindOf(403, null)).toBe('forbidden');
    expect(errorKindOf(404, null)).toBe('not_found');
    expect(errorKindOf(429, null)).toBe('rate_limited');
    expect(errorKindOf(503, null)).toBe('upstream');
    expect(errorKindOf(418, null)).toBe('status');
  });
  it('finds the upstream message in the usual shapes', () => {
    expect(upstreamMessage({ error: 'x' })).toBe('x');
    expect(upstreamMessage({ detail: 'y' })).toBe('y');
    expect(upstreamMessage({ message: 'z' })).toBe('z');
    expect(upstreamMessage({ error: { code: 'c' } })).toBe('c');
    expect(upstreamMessage(42)).toBeNull();
  });
});

describe('passive evidence', () => {
  it('reads Codex quota headers, case-insensitively', () => {
    const w = parseEvidenceHeaders(
      {
        'X-Codex-Primary-Used-Percent': '23',
        'X-Codex-Primary-Window-Minutes': '300',
        'x-codex-primary-reset-after-seconds': '600',
        'X-Codex-Secondary-Used-Percent': '41',
        'X-Codex-Secondary-Window-Minutes': '10080',
      },
      iso(0),
    );
    expect(w.map((x) => [x.id, x.kind, x.usedPercent, x.resetAt])).toEqual([
      ['primary', 'five_hour', 23, iso(600)],
      ['secondary', 'weekly', 41, null],
    ]);
    expect(parseEvidenceHeaders({ 'Content-Type': 'application/json' }, iso(0))).toEqual([]);
  });
  it('lists the other quota headers by name', () => {
    expect(
      otherEvidenceHeaders({
        'X-Ratelimit-Remaining-Requests': '98',
        'X-Codex-Primary-Used-Percent': '23',
        'Anthropic-Ratelimit-Tokens-Remaining': '1000',
        'X-Codex-Credits-Balance': '0',
      }),
    ).toEqual([
      ['Anthropic-Ratelimit-Tokens-Remaining', '1000'],
      ['X-Codex-Credits-Balance', '0'],
      ['X-Ratelimit-Remaining-Requests', '98'],
    ]);
  });
  it('keeps the latest item per account', () => {
    const m = latestEvidence([
      { account: 'a', observed_at: iso(-60), headers: { x: '1' } },
      { account: 'a', observed_at: iso(-10), headers: { x: '2' } },
      { account: 'b', observed_at: iso(-30), headers: {} },
      { account: 'a', observed_at: iso(-90), headers: { x: '3' } },
    ]);
    expect(m.get('a')?.headers.x).toBe('2');
    expect(m.size).toBe(2);
  });
});

describe('helpers', () => {
  it('tones, masks and clamps', () => {
    expect(usageTone(null)).toBe('neutral');
    expect(usageTone(69.9)).toBe('ok');
    expect(usageTone(70)).toBe('warn');
    expect(usageTone(90)).toBe('danger');
    expect(mask('sim-codex-demo-access-token')).toBe('sim-…oken');
    expect(mask('short')).toBe('sh…');
    expect(clampConcurrency('5', 3)).toBe(5);
    expect(clampConcurrency(0, 3)).toBe(1);
    expect(clampConcurrency(99, 3)).toBe(8);
    expect(clampConcurrency('x', 3)).toBe(3);
  });
});

describe('runPool', () => {
  it('never runs more than the limit at once and reports progress', async () => {
    let active = 0;
    let peak = 0;
    const progress: number[] = [];
    const res = await runPool(
      [1, 2, 3, 4, 5, 6, 7],
      3,
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      },
      new AbortController().signal,
      (done) => progress.push(done),
    );
    expect(peak).toBe(3);
    expect(res).toEqual({ done: 7, cancelled: false });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
  it('starts nothing more once cancelled, and counts a failing worker as done', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const res = await runPool(
      [1, 2, 3, 4, 5],
      2,
      async (n) => {
        started.push(n);
        await new Promise((r) => setTimeout(r, n === 1 ? 30 : 5));
        if (n === 2) controller.abort();
        if (n === 1) throw new Error('boom');
      },
      controller.signal,
    );
    expect(started).toEqual([1, 2]);
    expect(res).toEqual({ done: 2, cancelled: true });
  });
});
