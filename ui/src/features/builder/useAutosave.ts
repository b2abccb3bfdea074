// Keeps the document in the registry's builder drafts: 800 ms after it stops changing, and once
// more when the editor closes with changes not saved yet. When the id changed since the last
// save, the draft moves: the one under the old id is discarded.
import { useEffect } from "react";

import { invoke } from "../../lib/backend";
import { toAppError } from "../../lib/errors";
import { useDebouncedValue } from "../../lib/useDebouncedValue";
import type { FlowDoc } from "./model";
import type { BuilderStore } from "./store";
import { useBuilder, useBuilderStore } from "./useBuilder";

const AUTOSAVE_DEBOUNCE_MS = 800;

async function autosave(store: BuilderStore, doc: FlowDoc): Promise<void> {
  const before = store.getState();
  if (doc === before.savedDoc) return;
  before.setAutosave({ status: "busy", at: before.autosave.at, error: null });
  try {
    await invoke("builder_autosave", { doc });
    const previousId = store.getState().savedId;
    store.getState().setAutosave({ status: "done", at: Date.now(), error: null }, doc);
    if (previousId !== null && previousId !== doc.capability.id) {
      // Best effort: a stale draft left behind is harmless, and listed for discarding.
      invoke("builder_discard", { id: previousId }).catch(() => {});
    }
  } catch (reason) {
    const s = store.getState();
    s.setAutosave({ status: "error", at: s.autosave.at, error: toAppError(reason) });
  }
}

export function useAutosave() {
  const store = useBuilderStore();
  const doc = useBuilder((s) => s.doc);
  const settled = useDebouncedValue(doc, AUTOSAVE_DEBOUNCE_MS);

  useEffect(() => {
    void autosave(store, settled);
  }, [store, settled]);

  // Closing the editor (or leaving the page) within the debounce still saves the last edits.
  useEffect(
    () => () => {
      void autosave(store, store.getState().doc);
    },
    [store],
  );
}
