// The CodeMirror 6 editor of config.yaml: YAML highlighting, line numbers,
// search (Ctrl/Cmd-F), undo history, a lint gutter fed by checkYaml, and a
// mark for the line CPA's error names. Colours come from the panel's CSS
// variables (config.css), so the editor follows the light/dark theme.
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, linter, lintKeymap, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { highlightSelectionMatches, search, searchKeymap } from '@codemirror/search';
import { EditorState, StateEffect, StateField, type Extension } from '@codemirror/state';
import {
  Decoration,
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  type DecorationSet,
} from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { checkYaml } from './yamlCheck';

const panelHighlight = HighlightStyle.define([
  { tag: tags.definition(tags.propertyName), color: 'var(--cm-key)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--cm-string)' },
  { tag: tags.content, color: 'var(--cm-value)' },
  { tag: tags.lineComment, color: 'var(--cm-comment)', fontStyle: 'italic' },
  { tag: [tags.labelName, tags.typeName, tags.keyword], color: 'var(--cm-special)' },
  { tag: [tags.meta, tags.separator], color: 'var(--cm-punct)' },
]);

const panelTheme = EditorView.theme({
  '&': { color: 'var(--text)', backgroundColor: 'var(--bg-elevated)', fontSize: 'var(--text-sm)' },
  '.cm-content': { fontFamily: 'var(--font-mono)', caretColor: 'var(--text)' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.55' },
  '.cm-gutters': { backgroundColor: 'var(--bg-sunken)', color: 'var(--text-faint)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--cm-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--bg-hover)', color: 'var(--text)' },
  '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--cm-selection)' },
  '.cm-selectionMatch': { backgroundColor: 'var(--cm-match)' },
  '.cm-searchMatch': { backgroundColor: 'var(--cm-match)', outline: '1px solid var(--warn)' },
  '.cm-searchMatch.cm-searchMatch-selected': { backgroundColor: 'var(--cm-selection)' },
  '.cm-panels': { backgroundColor: 'var(--bg-sunken)', color: 'var(--text)' },
  '.cm-panels.cm-panels-top': { borderBottom: '1px solid var(--border)' },
  '.cm-panel input, .cm-panel button': { fontSize: 'var(--text-xs)' },
  '.cm-tooltip': { backgroundColor: 'var(--bg-elevated)', color: 'var(--text)', border: '1px solid var(--border)' },
  '.cm-cpa-error-line': { backgroundColor: 'var(--danger-soft)', boxShadow: 'inset 3px 0 0 var(--danger)' },
  '&.cm-focused': { outline: 'none' },
});

/** Marks one line (1-based) as the one CPA's error names; null clears it. */
const setServerLine = StateEffect.define<number | null>();

const serverLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (!e.is(setServerLine)) continue;
      if (e.value === null || e.value > tr.state.doc.lines) return Decoration.none;
      const line = tr.state.doc.line(e.value);
      return Decoration.set([
        Decoration.line({ class: 'cm-cpa-error-line', attributes: { 'data-line': String(e.value) } }).range(line.from),
      ]);
    }
    // An edit makes the server's line number stale.
    return tr.docChanged ? Decoration.none : deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface YamlEditorOptions {
  text: string;
  label: string;
  onChange: (text: string) => void;
}

export interface YamlEditor {
  readonly view: EditorView;
  text(): string;
  /** Replaces the whole text and the undo history (a fresh load). */
  reset(text: string): void;
  /** Marks line (1-based) with CPA's message, scrolls it into view; null clears. */
  markServerError(line: number | null, message: string): void;
  focusLine(line: number): void;
  destroy(): void;
}

function extensions(options: YamlEditorOptions): Extension[] {
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    search({ top: true }),
    yaml(),
    syntaxHighlighting(panelHighlight),
    panelTheme,
    lintGutter(),
    linter(
      (view): Diagnostic[] =>
        checkYaml(view.state.doc.toString()).map((p) => ({
          from: p.from,
          to: p.to,
          severity: p.severity,
          message: p.message,
          source: 'YAML',
        })),
      { delay: 250 },
    ),
    serverLineField,
    EditorState.tabSize.of(2),
    keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, ...lintKeymap, indentWithTab]),
    EditorView.contentAttributes.of({ 'aria-label': options.label, 'data-testid': 'config-yaml-content' }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) options.onChange(u.state.doc.toString());
    }),
  ];
}

/** Creates the editor in parent. */
export function createYamlEditor(parent: HTMLElement, options: YamlEditorOptions): YamlEditor {
  const make = (text: string) => EditorState.create({ doc: text, extensions: extensions(options) });
  const view = new EditorView({ state: make(options.text), parent });
  return {
    view,
    text: () => view.state.doc.toString(),
    reset(text) {
      view.setState(make(text));
    },
    markServerError(line, message) {
      const effects: StateEffect<unknown>[] = [setServerLine.of(line)];
      if (line !== null && line >= 1 && line <= view.state.doc.lines) {
        const l = view.state.doc.line(line);
        effects.push(EditorView.scrollIntoView(l.from, { y: 'center' }));
        view.dispatch(setDiagnostics(view.state, [{ from: l.from, to: l.to, severity: 'error', message, source: 'CPA' }]));
      }
      view.dispatch({ effects });
    },
    focusLine(line) {
      if (line < 1 || line > view.state.doc.lines) return;
      const l = view.state.doc.line(line);
      view.dispatch({ selection: { anchor: l.from }, effects: EditorView.scrollIntoView(l.from, { y: 'center' }) });
      view.focus();
    },
    destroy: () => view.destroy(),
  };
}
