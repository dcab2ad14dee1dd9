// Client-side checks of config.yaml while it is edited (the `yaml`
// package), and finding the line a key path of CPA's error names. Kept out
// of logic.ts so the parser loads only with the config.yaml tab.
import { isNode, LineCounter, parseDocument } from 'yaml';

export interface YamlProblem {
  severity: 'error' | 'warning';
  /** 1-based line and column of the start. */
  line: number;
  col: number;
  /** Character offsets in the text. */
  from: number;
  to: number;
  message: string;
}

/** The syntax errors and warnings of text as a YAML document (empty when it parses). */
export function checkYaml(text: string): YamlProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: YamlProblem[] = [];
  const add = (severity: YamlProblem['severity'], e: { pos: [number, number]; message: string }) => {
    const from = Math.max(0, Math.min(e.pos[0], text.length));
    const to = Math.max(from, Math.min(e.pos[1], text.length));
    const { line, col } = lineCounter.linePos(from);
    out.push({ severity, line, col, from, to, message: e.message.split('\n')[0] ?? e.message });
  };
  for (const e of doc.errors) add('error', e);
  for (const w of doc.warnings) add('warning', w);
  if (doc.errors.length === 0 && doc.contents !== null && !isMapDocument(doc.contents)) {
    out.push({
      severity: 'error',
      line: 1,
      col: 1,
      from: 0,
      to: Math.min(text.length, 1),
      message: 'config.yaml must be a mapping of keys',
    });
  }
  return out.sort((x, y) => x.from - y.from);
}

function isMapDocument(contents: unknown): boolean {
  if (!isNode(contents)) return true;
  const n = contents as { items?: unknown; type?: unknown };
  // A YAMLMap has items of pairs; a scalar or a sequence is not a config document.
  return Array.isArray(n.items) && n.items.every((p) => typeof p === 'object' && p !== null && 'key' in p);
}

/** The 1-based line where the node at path (["routing", "strategy"], ["openai-compatibility", 0]) starts, or null. */
export function lineOfPath(text: string, path: readonly (string | number)[]): number | null {
  if (path.length === 0) return null;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) return null;
  // The pair's key gives the line of "strategy:" even when the value is empty.
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  const last = path[path.length - 1];
  if (last === undefined) return null;
  const start = rangeStart(parent, last);
  return start === null ? null : lineCounter.linePos(start).line;
}

function rangeStart(parent: unknown, key: string | number): number | null {
  if (!isNode(parent)) return null;
  const items = (parent as { items?: unknown }).items;
  if (!Array.isArray(items)) return null;
  if (typeof key === 'number') {
    const item: unknown = items[key];
    return nodeStart(item);
  }
  for (const pair of items) {
    if (typeof pair !== 'object' || pair === null || !('key' in pair)) continue;
    const k = (pair as { key: unknown }).key;
    const name = isNode(k) ? (k as { value?: unknown }).value : k;
    if (name === key) return nodeStart(k) ?? nodeStart((pair as { value: unknown }).value);
  }
  return null;
}

function nodeStart(node: unknown): number | null {
  if (!isNode(node)) return null;
  const range = node.range;
  return range ? range[0] : null;
}
