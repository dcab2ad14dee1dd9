import { describe, expect, it } from 'vitest';
import {
  authUrlPath,
  flowReducer,
  formatCountdown,
  IDLE,
  isPolling,
  parseCallbackUrl,
  pluginProviders,
  secondsLeft,
  SESSION_TTL_MS,
  type Flow,
} from './logic';

const T0 = 1_800_000_000_000;

function waiting(extra: Partial<Extract<Flow, { phase: 'waiting' }>> = {}): Flow {
  const started = flowReducer(flowReducer(IDLE, { type: 'start' }), {
    type: 'started',
    response: { status: 'ok', url: 'https://auth.example/authorize?state=abc', state: 'abc' },
    now: T0,
  });
  return { ...(started as Extract<Flow, { phase: 'waiting' }>), ...extra };
}

describe('flowReducer', () => {
  it('starts a PKCE flow with the 30-minute session lifetime', () => {
    const f = waiting();
    expect(f).toMatchObject({
      phase: 'waiting',
      state: 'abc',
      device: false,
      userCode: null,
      startedAt: T0,
      expiresAt: T0 + SESSION_TTL_MS,
    });
    expect(isPolling(f)).toBe(true);
  });

  it('starts a device flow with its code and expiry', () => {
    const f = flowReducer(
      { phase: 'starting' },
      {
        type: 'started',
        response: { status: 'ok', url: 'https://kimi/device', state: 's1', flow: 'device', user_code: 'AB12-CD34', expires_in: 600 },
        now: T0,
      },
    );
    expect(f).toMatchObject({ phase: 'waiting', device: true, userCode: 'AB12-CD34', expiresAt: T0 + 600_000 });
  });

  it('caps a device expiry at the session lifetime', () => {
    const f = flowReducer(
      { phase: 'starting' },
      { type: 'started', response: { status: 'ok', url: 'u', state: 's', flow: 'device', expires_in: 99_999 }, now: T0 },
    );
    expect(f.phase === 'waiting' && f.expiresAt).toBe(T0 + SESSION_TTL_MS);
  });

  it('turns an answer without a URL or state into an error', () => {
    expect(flowReducer({ phase: 'starting' }, { type: 'started', response: { status: 'ok' }, now: T0 })).toMatchObject({ phase: 'error' });
    expect(flowReducer({ phase: 'starting' }, { type: 'started', response: { status: 'error', error: 'boom' }, now: T0 })).toEqual({
      phase: 'error',
      message: 'boom',
      state: null,
    });
    expect(flowReducer({ phase: 'starting' }, { type: 'startFailed', message: 'HTTP 404' })).toEqual({
      phase: 'error',
      message: 'HTTP 404',
      state: null,
    });
  });

  it('keeps waiting on "wait" and finishes on "ok"', () => {
    const f = waiting();
    expect(flowReducer(f, { type: 'status', response: { status: 'wait' }, now: T0 + 2000 })).toBe(f);
    expect(flowReducer(f, { type: 'status', response: { status: 'ok' }, now: T0 + 4000 })).toEqual({ phase: 'ok', state: 'abc' });
  });

  it('reports a provider error, and an unknown state after the lifetime as expiry', () => {
    const f = waiting();
    expect(flowReducer(f, { type: 'status', response: { status: 'error', error: 'access_denied' }, now: T0 + 1 })).toEqual({
      phase: 'error',
      message: 'access_denied',
      state: 'abc',
    });
    expect(
      flowReducer(f, { type: 'status', response: { status: 'error', error: 'unknown or expired state' }, now: T0 + 5000 }),
    ).toMatchObject({ phase: 'error' });
    expect(
      flowReducer(f, { type: 'status', response: { status: 'error', error: 'unknown or expired state' }, now: T0 + SESSION_TTL_MS }),
    ).toEqual({ phase: 'expired', state: 'abc' });
  });

  it('expires on a tick past the deadline, not before', () => {
    const f = waiting();
    expect(flowReducer(f, { type: 'tick', now: T0 + SESSION_TTL_MS - 1 })).toBe(f);
    expect(flowReducer(f, { type: 'tick', now: T0 + SESSION_TTL_MS })).toEqual({ phase: 'expired', state: 'abc' });
  });

  it('cancels only a waiting flow and ignores late answers', () => {
    const f = waiting();
    const c = flowReducer(f, { type: 'cancelled' });
    expect(c).toEqual({ phase: 'cancelled', state: 'abc' });
    expect(isPolling(c)).toBe(false);
    expect(flowReducer(c, { type: 'status', response: { status: 'ok' }, now: T0 })).toBe(c);
    expect(flowReducer(IDLE, { type: 'cancelled' })).toBe(IDLE);
    expect(flowReducer(c, { type: 'reset' })).toEqual(IDLE);
  });

  it('does not restart a running flow and ignores a start answer when not starting', () => {
    const f = waiting();
    expect(flowReducer(f, { type: 'start' })).toBe(f);
    expect(flowReducer(IDLE, { type: 'started', response: { status: 'ok', url: 'u', state: 's' }, now: T0 })).toBe(IDLE);
  });
});

describe('parseCallbackUrl', () => {
  it('reads code and state from the query', () => {
    expect(parseCallbackUrl(' http://localhost:1455/auth/callback?code=test&state=abc ', 'abc')).toEqual({
      ok: true,
      value: { code: 'test', state: 'abc', error: null },
    });
  });
  it('reads the fragment too', () => {
    const r = parseCallbackUrl('http://localhost:54545/callback#code=c1&state=abc', null);
    expect(r).toEqual({ ok: true, value: { code: 'c1', state: 'abc', error: null } });
  });
  it('accepts an error redirect', () => {
    expect(parseCallbackUrl('http://localhost/cb?error=access_denied&state=abc', 'abc')).toMatchObject({
      ok: true,
      value: { error: 'access_denied' },
    });
  });
  it('refuses empty, non-URL, code-less and foreign-state URLs', () => {
    expect(parseCallbackUrl('  ', 'abc')).toEqual({ ok: false, problem: 'callbackEmpty' });
    expect(parseCallbackUrl('code=1&state=abc', 'abc')).toEqual({ ok: false, problem: 'callbackInvalid' });
    expect(parseCallbackUrl('javascript:alert(1)?code=1', 'abc')).toEqual({ ok: false, problem: 'callbackInvalid' });
    expect(parseCallbackUrl('http://localhost/cb?state=abc', 'abc')).toEqual({ ok: false, problem: 'callbackNoCode' });
    expect(parseCallbackUrl('http://localhost/cb?code=1&state=zzz', 'abc')).toEqual({ ok: false, problem: 'callbackStateMismatch' });
  });
});

describe('pluginProviders', () => {
  it('lists enabled plugins with OAuth support', () => {
    const body = {
      plugins_enabled: true,
      plugins: [
        { id: 'p1', supports_oauth: true, oauth_provider: 'qwen', effective_enabled: true, metadata: { name: 'Qwen login' } },
        { id: 'p2', supports_oauth: false, oauth_provider: 'nope' },
        { id: 'p3', supports_oauth: true, oauth_provider: 'off', effective_enabled: false },
        { id: 'p4', supports_oauth: true, oauth_provider: 'codex' },
        { id: 'p5', supports_oauth: true, oauth_provider: '../evil' },
        { id: 'p6', supports_oauth: true },
      ],
    };
    expect(pluginProviders(body)).toEqual([
      { id: 'qwen', label: 'Qwen login', kind: 'plugin', callbackProvider: null },
      { id: 'p6', label: 'p6', kind: 'plugin', callbackProvider: null },
    ]);
  });
  it('tolerates odd bodies', () => {
    expect(pluginProviders(null)).toEqual([]);
    expect(pluginProviders('')).toEqual([]);
    expect(pluginProviders({ plugins: null })).toEqual([]);
  });
});

describe('countdown', () => {
  it('counts whole seconds down to zero', () => {
    expect(secondsLeft(T0 + 1500, T0)).toBe(2);
    expect(secondsLeft(T0, T0 + 10)).toBe(0);
  });
  it('formats m:ss and h:mm:ss', () => {
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(65)).toBe('1:05');
    expect(formatCountdown(1800)).toBe('30:00');
    expect(formatCountdown(3661)).toBe('1:01:01');
  });
  it('builds the auth-url route', () => {
    expect(authUrlPath('kimi')).toBe('/kimi-auth-url');
  });
});
