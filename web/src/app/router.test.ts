import { describe, expect, it } from 'vitest';
import { hashFor, matchPath, parseHash } from './router';

describe('parseHash', () => {
  it('splits path and query', () => {
    const l = parseHash('#/monitoring?model=a&model=b');
    expect(l.path).toBe('/monitoring');
    expect(l.query.getAll('model')).toEqual(['a', 'b']);
  });
  it('normalises empty and sloppy hashes', () => {
    expect(parseHash('').path).toBe('/');
    expect(parseHash('#').path).toBe('/');
    expect(parseHash('#dashboard').path).toBe('/dashboard');
    expect(parseHash('#/status/').path).toBe('/status');
  });
  it('builds hashes', () => {
    expect(hashFor('/monitoring', { model: 'gpt 5' })).toBe('#/monitoring?model=gpt+5');
    expect(hashFor('/status')).toBe('#/status');
  });
});

describe('matchPath', () => {
  const routes = [{ path: '/dashboard' }, { path: '/monitoring' }, { path: '/monitoring/live' }];
  it('matches exact paths and sub-paths, longest first', () => {
    expect(matchPath('/dashboard', routes)?.path).toBe('/dashboard');
    expect(matchPath('/monitoring/events', routes)?.path).toBe('/monitoring');
    expect(matchPath('/monitoring/live/x', routes)?.path).toBe('/monitoring/live');
    expect(matchPath('/dashboards', routes)).toBeUndefined();
    expect(matchPath('/', routes)).toBeUndefined();
  });
});
