import { describe, expect, it } from 'vitest';
import { mergeCatalog, searchModels } from './logic';

describe('mergeCatalog', () => {
  it('merges channels by model id and sorts', () => {
    const m = mergeCatalog([
      { channel: 'gemini', models: [{ id: 'gemini-2.5-pro', display_name: 'Gemini 2.5 Pro' }] },
      { channel: 'claude', models: [{ id: 'claude-sonnet-4-5' }] },
      { channel: 'vertex', models: [{ id: 'gemini-2.5-pro' }, { id: '' }] },
    ]);
    expect(m.map((x) => x.id)).toEqual(['claude-sonnet-4-5', 'gemini-2.5-pro']);
    expect(m[1]?.channels).toEqual(['gemini', 'vertex']);
    expect(m[1]?.name).toBe('Gemini 2.5 Pro');
    expect(m[0]?.name).toBe('claude-sonnet-4-5');
  });
});

describe('searchModels', () => {
  const m = mergeCatalog([{ channel: 'claude', models: [{ id: 'claude-opus-4-1' }, { id: 'claude-haiku-4-5' }] }]);
  it('matches every word', () => {
    expect(searchModels(m, 'HAIKU').map((x) => x.id)).toEqual(['claude-haiku-4-5']);
    expect(searchModels(m, 'claude 4-1').map((x) => x.id)).toEqual(['claude-opus-4-1']);
    expect(searchModels(m, '')).toHaveLength(2);
    expect(searchModels(m, 'gpt')).toHaveLength(0);
  });
});
