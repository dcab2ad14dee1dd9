import { describe, expect, it } from 'vitest';
import { checkYaml, lineOfPath } from './yamlCheck';

const DOC = `# header
debug: false
request-retry: 0
routing:
  strategy: "round-robin"
openai-compatibility:
  - name: "mock"
    base-url: "http://127.0.0.1:18080/v1"
  - name: ""
    base-url: "http://x"
`;

describe('checkYaml', () => {
  it('accepts a valid config document', () => {
    expect(checkYaml(DOC)).toEqual([]);
    expect(checkYaml('')).toEqual([]);
  });

  it('reports a syntax error at its line', () => {
    const problems = checkYaml(DOC.replace('request-retry: 0', 'request-retry: 0: x'));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ severity: 'error', line: 3 });
    expect(problems[0]?.message).not.toContain('\n');
  });

  it('reports duplicate keys and tabs used as indentation', () => {
    expect(checkYaml('debug: true\ndebug: false\n')[0]).toMatchObject({ severity: 'error', line: 2 });
    expect(checkYaml('routing:\n\tstrategy: x\n')[0]).toMatchObject({ severity: 'error', line: 2 });
  });

  it('rejects a document that is not a mapping', () => {
    expect(checkYaml('- a\n- b\n')[0]).toMatchObject({ severity: 'error', line: 1 });
    expect(checkYaml('just text\n')[0]).toMatchObject({ severity: 'error' });
  });

  it('keeps offsets inside the text', () => {
    const text = 'a: [1, 2\n';
    for (const p of checkYaml(text)) {
      expect(p.from).toBeGreaterThanOrEqual(0);
      expect(p.to).toBeLessThanOrEqual(text.length);
      expect(p.to).toBeGreaterThanOrEqual(p.from);
    }
  });
});

describe('lineOfPath', () => {
  it('finds the line of a nested key and of a list entry', () => {
    expect(lineOfPath(DOC, ['routing', 'strategy'])).toBe(5);
    expect(lineOfPath(DOC, ['request-retry'])).toBe(3);
    expect(lineOfPath(DOC, ['openai-compatibility', 1])).toBe(9);
  });

  it('gives null for unknown paths and broken documents', () => {
    expect(lineOfPath(DOC, ['nope'])).toBeNull();
    expect(lineOfPath(DOC, ['routing', 'nope'])).toBeNull();
    expect(lineOfPath(DOC, ['openai-compatibility', 5])).toBeNull();
    expect(lineOfPath('a: [\n', ['a'])).toBeNull();
    expect(lineOfPath(DOC, [])).toBeNull();
  });
});
