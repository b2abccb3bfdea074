// Runs one action of the document as it is on screen (builder_run), keeping the outcome in the
// store so the canvas shows each node's trace whichever step started the run.
import { useCallback } from "react";

import { invoke } from "../../lib/backend";
import { toAppError } from "../../lib/errors";
import { useBuilderStore } from "./useBuilder";

export function useFlowRun() {
  const store = useBuilderStore();
  return useCallback(
    async (action: string, input: unknown) => {
      const s = store.getState();
      if (s.run?.running) return;
      // The last result stays on screen, dimmed, while the new run is out.
      s.setRun({ action, input, running: true, view: s.run?.action === action ? s.run.view : null, failure: null });
      try {
        const view = await invoke("builder_run", { doc: s.doc, action, input });
        store.getState().setRun({ action, input, running: false, view, failure: null });
      } catch (reason) {
        store.getState().setRun({ action, input, running: false, view: null, failure: toAppError(reason) });
      }
    },
    [store],
  );
}
