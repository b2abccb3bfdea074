// Above the canvas, beside the palette: auto-layout (the backend lays the flow out left to right;
// the UI carries no layout library) and fit view.
import { useReactFlow } from "@xyflow/react";
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { moveNodes } from "./graph";
import type { Position } from "./model";
import { selectFlow } from "./store";
import { useBuilderStore } from "./useBuilder";

export function CanvasToolbar() {
  const store = useBuilderStore();
  const { fitView } = useReactFlow();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const layout = async () => {
    const flow = selectFlow(store.getState());
    if (!flow) return;
    setBusy(true);
    setError(null);
    try {
      const laidOut = await invoke("builder_layout", { flow });
      // Only positions are taken, so an edit made while the call was out is not lost.
      const moves = new Map<string, Position>(laidOut.nodes.map((n) => [n.id, n.position]));
      store.getState().updateFlow((f) => moveNodes(f, moves));
      // After React Flow has the new positions.
      window.requestAnimationFrame(() => void fitView(FIT));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="canvas-tools">
      <button
        type="button"
        className="button button-small"
        data-testid="builder-layout"
        disabled={busy}
        title="Lay the nodes out left to right"
        onClick={() => void layout()}
      >
        {busy ? <span className="spinner" aria-hidden="true" /> : <span aria-hidden="true">🪄</span>} Auto-layout
      </button>
      <button
        type="button"
        className="button button-small"
        data-testid="builder-fit"
        title="Show the whole flow"
        onClick={() => void fitView(FIT)}
      >
        Fit view
      </button>
      {error && <ErrorAlert error={error} testId="layout-error" />}
    </div>
  );
}

const FIT = { duration: 250, maxZoom: 1.2, padding: 0.2 };
