import { describe, expect, it } from 'vitest';
import { maskKey } from './mask';

describe('maskKey', () => {
  it('keeps the first and last 4 characters of a long secret', () => {
    expect(maskKey('sk-0123456789abcdef')).toBe('sk-0…cdef');
    expect(maskKey('abcdefghi')).toBe('abcd…fghi');
  });
  it('hides a short secret entirely and leaves an empty one empty', () => {
    expect(maskKey('12345678')).toBe('****');
    expect(maskKey('short')).toBe('****');
    expect(maskKey('')).toBe('');
  });
  it('never contains the whole secret', () => {
    for (const k of ['abc', 'sk-123456', 'x'.repeat(100)]) expect(maskKey(k)).not.toContain(k);
  });
});
