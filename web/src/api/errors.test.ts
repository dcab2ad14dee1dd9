import { describe, expect, it } from 'vitest';
import { ApiError, messageFromBody, parseRetryAfter } from './errors';
import { buildUrl } from './client';

describe('messageFromBody', () => {
  it('reads the usage API shape', () => {
    expect(messageFromBody({ error: 'sign in first', code: 'unauthorized' })).toEqual({ message: 'sign in first', code: 'unauthorized' });
  });
  it("reads CPA's shapes", () => {
    expect(messageFromBody({ error: 'invalid management key' })).toEqual({ message: 'invalid management key', code: '' });
    expect(messageFromBody({ error: 'request_failed', message: 'dial tcp: no route' })).toEqual({
      message: 'dial tcp: no route',
      code: 'request_failed',
    });
    expect(messageFromBody({ status: 'error', error: 'unknown or expired state' }).message).toBe('unknown or expired state');
  });
  it('copes with no body', () => {
    expect(messageFromBody(null)).toEqual({ message: '', code: '' });
    expect(messageFromBody('text')).toEqual({ message: '', code: '' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and dates', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('2026-10-21T07:27:30Z'))).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });
});

describe('ApiError', () => {
  it('classifies', () => {
    const locked = new ApiError({ kind: 'http', source: 'usage', status: 429, message: 'too many', retryAfterSeconds: 60 });
    expect(locked.isRateLimited).toBe(true);
    expect(locked.isTransient).toBe(true);
    expect(new ApiError({ kind: 'http', source: 'usage', status: 401, message: '' }).isTransient).toBe(false);
    expect(new ApiError({ kind: 'network', source: 'management', message: 'x' }).isTransient).toBe(true);
  });
});

describe('buildUrl', () => {
  it('joins base, path and query; repeats arrays; skips empty values', () => {
    expect(
      buildUrl('/cpam', '/api/v1/summary', {
        from: '2026-01-01T00:00:00+08:00',
        tz: 'Asia/Shanghai',
        model: ['a', 'b'],
        top: 5,
        x: undefined,
        y: '',
      }),
    ).toBe('/cpam/api/v1/summary?from=2026-01-01T00%3A00%3A00%2B08%3A00&tz=Asia%2FShanghai&model=a&model=b&top=5');
    expect(buildUrl('https://cpam.example.com/cpam', 'status')).toBe('https://cpam.example.com/cpam/status');
  });
});
