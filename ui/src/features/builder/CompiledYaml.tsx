// The manifest the flow compiles to, read-only and highlighted: the library's CodeMirror editor,
// loaded on demand as its own chunk.
import { lazy, Suspense } from "react";

import { useBuilder } from "./useBuilder";

const CodeEditor = lazy(() => import("../library/CodeEditor"));

const ignore = () => {};

export function CompiledYaml() {
  const compile = useBuilder((s) => s.compile);
  return (
    <section className="compiled card-surface" aria-label="Compiled manifest">
      <header className="pane-head">
        <h3 className="pane-title">Compiled manifest</h3>
        {compile?.kind && <span className="muted small" data-testid="compiled-kind">{compile.kind}</span>}
      </header>
      <div className="compiled-body" data-testid="compiled-yaml" data-ok={compile?.ok ?? false}>
        {compile === null ? (
          <p className="muted small pane-empty">Compiling…</p>
        ) : compile.yaml === "" ? (
          <p className="muted small pane-empty">Nothing compiled yet: fix the problems first.</p>
        ) : (
          <Suspense fallback={<pre className="json json-compact">{compile.yaml}</pre>}>
            <CodeEditor value={compile.yaml} format="yaml" findings={null} readOnly label="Compiled manifest (YAML)" onChange={ignore} />
          </Suspense>
        )}
      </div>
    </section>
  );
}
