import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  indicator,
  initialLiveState,
  LIVE_CAP,
  liveReducer,
  MAX_BACKOFF_MS,
  mergeEvents,
  parseCloseFrame,
  parseEventsFrame,
  parseGapFrame,
  SERVER_RETRY_MS,
  type LiveAction,
  type LiveState,
} from './live';
import type { UsageEvent } from './types';

function ev(id: number): UsageEvent {
  return { id, requestId: `req-${id}` } as UsageEvent;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));
const ids = (list: readonly UsageEvent[]) => list.map((e) => e.id);
const run = (actions: LiveAction[], start: LiveState = initialLiveState) => actions.reduce(liveReducer, start);

describe('mergeEvents', () => {
  it('keeps one row per id, newest first', () => {
    expect(ids(mergeEvents([ev(5), ev(3)], [ev(4), ev(6), ev(5)]))).toEqual([6, 5, 4, 3]);
  });

  it('caps the table', () => {
    const merged = mergeEvents(range(1, 150), range(151, 300));
    expect(merged).toHaveLength(LIVE_CAP);
    expect(merged[0]?.id).toBe(300);
    expect(merged[LIVE_CAP - 1]?.id).toBe(101);
    expect(ids(mergeEvents(range(1, 5), [], 3))).toEqual([5, 4, 3]);
  });
});

describe('liveReducer', () => {
  it('adds events newest on top and remembers the last id', () => {
    const s = run([
      { type: 'events', events: [ev(1), ev(2)] },
      { type: 'events', events: [ev(3)] },
    ]);
    expect(ids(s.rows)).toEqual([3, 2, 1]);
    expect(s.lastId).toBe(3);
  });

  it('holds events back while paused and counts the new ones', () => {
    const s = run([
      { type: 'events', events: range(1, 3) },
      { type: 'pause' },
      { type: 'events', events: [ev(4), ev(5)] },
      { type: 'events', events: [ev(6)] },
    ]);
    expect(ids(s.rows)).toEqual([3, 2, 1]);
    expect(s.newCount).toBe(3);
    expect(ids(s.held)).toEqual([6, 5, 4]);
    expect(s.lastId).toBe(6);
  });

  it('does not count an event twice, nor one already shown or older (a refill)', () => {
    const s = run([
      { type: 'events', events: range(10, 12) },
      { type: 'pause' },
      { type: 'events', events: [ev(13), ev(13)] },
      { type: 'events', events: [ev(13), ev(12), ev(14)] },
      // A poll or a refill after a gap brings back older stored events.
      { type: 'events', events: [ev(5), ev(11)] },
    ]);
    expect(s.newCount).toBe(2);
    expect(ids(s.held)).toEqual([14, 13, 5]);
    expect(ids(s.rows)).toEqual([12, 11, 10]);
  });

  it('merges what was held on resume and resets the count', () => {
    const s = run([
      { type: 'events', events: range(1, 2) },
      { type: 'pause' },
      { type: 'events', events: range(3, 5) },
      { type: 'resume' },
    ]);
    expect(s.paused).toBe(false);
    expect(s.newCount).toBe(0);
    expect(s.held).toEqual([]);
    expect(ids(s.rows)).toEqual([5, 4, 3, 2, 1]);
  });

  it('counts every new event while paused even beyond the cap', () => {
    const s = run([{ type: 'events', events: [ev(1)] }, { type: 'pause' }, { type: 'events', events: range(2, 301) }]);
    expect(s.newCount).toBe(300);
    expect(s.held).toHaveLength(LIVE_CAP);
    const resumed = liveReducer(s, { type: 'resume' });
    expect(resumed.rows).toHaveLength(LIVE_CAP);
    expect(resumed.rows[0]?.id).toBe(301);
  });

  it('keeps the state object when nothing changes', () => {
    const s = run([{ type: 'events', events: [ev(1)] }]);
    expect(liveReducer(s, { type: 'events', events: [] })).toBe(s);
    expect(liveReducer(s, { type: 'resume' })).toBe(s);
    expect(liveReducer(s, { type: 'clearGap' })).toBe(s);
  });

  it('records gaps until dismissed and starts over on reset, still paused', () => {
    const gap = { skippedAfter: 10, skippedTo: 900, reason: 'more than 500' };
    let s = run([{ type: 'events', events: [ev(1)] }, { type: 'pause' }, { type: 'gap', gap }]);
    expect(s.gap).toEqual(gap);
    s = liveReducer(s, { type: 'clearGap' });
    expect(s.gap).toBeNull();
    s = liveReducer(s, { type: 'reset' });
    expect(s).toEqual({ ...initialLiveState, paused: true });
  });
});

describe('frames', () => {
  it('reads events frames', () => {
    expect(ids(parseEventsFrame('[{"id":7,"model":"m"},{"id":8}]') ?? [])).toEqual([7, 8]);
    expect(parseEventsFrame('[]')).toEqual([]);
    expect(ids(parseEventsFrame('[{"id":"x"},null,{"id":9}]') ?? [])).toEqual([9]);
    expect(parseEventsFrame('{"id":1}')).toBeNull();
    expect(parseEventsFrame('not json')).toBeNull();
  });

  it('reads gap and close frames', () => {
    expect(parseGapFrame('{"skippedAfter":1,"skippedTo":600,"reason":"r"}')).toEqual({ skippedAfter: 1, skippedTo: 600, reason: 'r' });
    expect(parseGapFrame('{"skippedAfter":1}')).toBeNull();
    expect(parseGapFrame('')).toBeNull();
    expect(parseCloseFrame('{"reason":"server stopping"}')).toEqual({ reason: 'server stopping' });
    expect(parseCloseFrame('garbage')).toEqual({ reason: '' });
  });
});

describe('connection', () => {
  it('shows paused over any connection state', () => {
    expect(indicator('open', false)).toBe('live');
    expect(indicator('open', true)).toBe('paused');
    expect(indicator('polling', false)).toBe('polling');
    expect(indicator('polling', true)).toBe('paused');
    expect(indicator('connecting', false)).toBe('reconnecting');
    expect(indicator('reconnecting', false)).toBe('reconnecting');
  });

  it('backs off from the server retry delay up to a limit', () => {
    expect(backoffDelay(1)).toBe(SERVER_RETRY_MS);
    expect(backoffDelay(2)).toBe(2 * SERVER_RETRY_MS);
    expect(backoffDelay(3)).toBe(4 * SERVER_RETRY_MS);
    expect(backoffDelay(10)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(1000)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(0)).toBe(SERVER_RETRY_MS);
  });

  it('adds at most 20 % jitter and honours a longer Retry-After', () => {
    expect(backoffDelay(1, null, 1)).toBe(3_600);
    expect(backoffDelay(1, null, 0.5)).toBe(3_300);
    expect(backoffDelay(1, 30)).toBe(30_000);
    expect(backoffDelay(5, 1)).toBe(16 * SERVER_RETRY_MS);
    expect(backoffDelay(1, 120)).toBe(120_000);
  });
});
