// The CodeMirror 6 editor of the Edit tab. It is loaded on demand (React.lazy, its own chunk), so
// the main bundle does not carry CodeMirror. The editor owns its text and history; the props sync
// it from outside: a new `value` that the editor did not produce itself (Revert) replaces the text
// as one undoable change, and `findings` become lint diagnostics when they were made for the text
// on screen (findings for an older text are left for the next check).
import { indentWithTab, isolateHistory } from "@codemirror/commands";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useEffectEvent, useRef } from "react";

import type { Diagnostic } from "../../generated/Diagnostic";
import type { SourceFormatView } from "../../generated/SourceFormatView";
import { toLintDiagnostics } from "./editorDiagnostics";
import { loadedLanguage, loadLanguage } from "./editorLanguages";

/** What the validator found, and the exact text it checked. */
export type EditorFindings = { content: string; findings: ReadonlyArray<Diagnostic> };

export type CodeEditorProps = {
  value: string;
  format: SourceFormatView;
  findings: EditorFindings | null;
  readOnly: boolean;
  /** The accessible name of the text area. */
  label: string;
  onChange: (value: string) => void;
};

// Compartments are only keys into an editor's configuration; every editor can share them.
const languageConf = new Compartment();
const readOnlyConf = new Compartment();

const theme = EditorView.theme({
  "&": { height: "100%", backgroundColor: "#fbfbfd", fontSize: "12.5px" },
  "&.cm-focused": { outline: "none" },
  ".cm-scroller": { fontFamily: "var(--font-mono)", lineHeight: "1.6" },
  ".cm-content": { padding: "10px 0" },
  ".cm-gutters": {
    backgroundColor: "var(--surface-sunken)",
    color: "#9aa1b2",
    borderRight: "1px solid var(--border)",
  },
  ".cm-activeLine": { backgroundColor: "rgba(91, 78, 230, 0.04)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--accent-soft)", color: "var(--text)" },
  ".cm-tooltip": { borderRadius: "var(--radius-sm)", boxShadow: "var(--shadow)", overflow: "hidden" },
  ".cm-diagnostic": { maxWidth: "560px", fontFamily: "var(--font)", fontSize: "13px", lineHeight: "1.45" },
  ".cm-panels": { fontFamily: "var(--font)" },
});

/** The smallest change that turns `from` into `to`, so a revert keeps what it can in place. */
function diff(from: string, to: string): { from: number; to: number; insert: string } {
  let start = 0;
  const shorter = Math.min(from.length, to.length);
  while (start < shorter && from.charCodeAt(start) === to.charCodeAt(start)) start++;
  let end = 0;
  while (
    end < shorter - start &&
    from.charCodeAt(from.length - 1 - end) === to.charCodeAt(to.length - 1 - end)
  ) {
    end++;
  }
  return { from: start, to: from.length - end, insert: to.slice(start, to.length - end) };
}

export default function CodeEditor({ value, format, findings, readOnly, label, onChange }: CodeEditorProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<EditorView | null>(null);
  // The last text the editor reported: a `value` equal to it is our own echo, not a new text.
  const emittedRef = useRef<string | null>(null);

  const initial = useEffectEvent(() => ({ value, format, readOnly, label }));
  const emit = useEffectEvent((text: string) => onChange(text));

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const start = initial();
    const view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: start.value,
        extensions: [
          basicSetup,
          // Tab indents; Esc then Tab (or Ctrl/⌘+M) moves focus on, as CodeMirror documents.
          keymap.of([indentWithTab]),
          lintGutter(),
          languageConf.of(loadedLanguage(start.format) ?? []),
          readOnlyConf.of(EditorState.readOnly.of(start.readOnly)),
          EditorView.contentAttributes.of({ "aria-label": start.label }),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            const text = update.state.doc.toString();
            emittedRef.current = text;
            emit(text);
          }),
          theme,
        ],
      }),
    });
    viewRef.current = view;
    return () => {
      viewRef.current = null;
      view.destroy();
    };
  }, []);

  useEffect(() => {
    const view = viewRef.current;
    if (!view || value === emittedRef.current) return;
    const current = view.state.doc.toString();
    // Its own undo step, never merged into the typing just before it.
    if (current !== value) view.dispatch({ changes: diff(current, value), annotations: isolateHistory.of("full") });
  }, [value]);

  useEffect(() => {
    let live = true;
    loadLanguage(format).then(
      (extension) => {
        if (live) viewRef.current?.dispatch({ effects: languageConf.reconfigure(extension) });
      },
      (reason: unknown) => console.warn(`Capsmith: no ${format} highlighting`, reason),
    );
    return () => {
      live = false;
    };
  }, [format]);

  useEffect(() => {
    viewRef.current?.dispatch({ effects: readOnlyConf.reconfigure(EditorState.readOnly.of(readOnly)) });
  }, [readOnly]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view || findings === null || view.state.doc.toString() !== findings.content) return;
    view.dispatch(setDiagnostics(view.state, toLintDiagnostics(view.state.doc, findings.findings)));
  }, [findings]);

  return <div ref={hostRef} className="code-editor" data-testid="code-editor" data-format={format} />;
}
