// Compiles the document 300 ms after it stops changing, so diagnostics and the compiled manifest
// follow the edits. An answer for an older document than the latest asked about is dropped.
import { useEffect } from "react";

import { invoke } from "../../lib/backend";
import { toAppError } from "../../lib/errors";
import { useDebouncedValue } from "../../lib/useDebouncedValue";
import { useBuilder, useBuilderStore } from "./useBuilder";

const COMPILE_DEBOUNCE_MS = 300;

export function useLiveCompile() {
  const store = useBuilderStore();
  const doc = useBuilder((s) => s.doc);
  const settled = useDebouncedValue(doc, COMPILE_DEBOUNCE_MS);

  useEffect(() => {
    let live = true;
    const before = store.getState();
    before.setCompile(before.compile, { status: "busy", at: before.compileState.at, error: null });
    invoke("builder_compile", { doc: settled }).then(
      (view) => {
        if (live) store.getState().setCompile(view, { status: "done", at: Date.now(), error: null });
      },
      (reason: unknown) => {
        if (!live) return;
        const s = store.getState();
        s.setCompile(s.compile, { status: "error", at: Date.now(), error: toAppError(reason) });
      },
    );
    return () => {
      live = false;
    };
  }, [store, settled]);
}
