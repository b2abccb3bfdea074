// The actions of the capability, one flow each: pick the one on the canvas, or add one. (The
// picked action's name, id and removal are in the inspector when no node is selected.)
import { useShallow } from "zustand/react/shallow";

import { starterFlow, WORKFLOW_FLOW, type FlowDoc } from "../model";
import { useBuilder, useBuilderStore } from "../useBuilder";

function addAction(doc: FlowDoc): { doc: FlowDoc; id: string } {
  const taken = new Set(doc.capability.flows.map((f) => f.action));
  let n = doc.capability.flows.length + 1;
  while (taken.has(`action-${n}`)) n += 1;
  const id = `action-${n}`;
  const cap = doc.capability;
  return {
    id,
    doc: {
      ...doc,
      capability: {
        ...cap,
        actions: [...(cap.actions ?? []), { id, name: `Action ${n}` }],
        flows: [...cap.flows, starterFlow(id)],
      },
    },
  };
}

export function ActionTabs() {
  const store = useBuilderStore();
  // The action names only: the flows themselves change on every edit (every frame of a drag).
  const flowActions = useBuilder(useShallow((s) => s.doc.capability.flows.map((f) => f.action)));
  const actions = useBuilder((s) => s.doc.capability.actions);
  const current = useBuilder((s) => s.action);

  const add = () => {
    const s = store.getState();
    const added = addAction(s.doc);
    s.commit(() => added.doc);
    s.selectAction(added.id);
  };

  return (
    <div className="action-tabs" role="tablist" aria-label="Actions">
      {flowActions.map((flowAction) => {
        const action = actions?.find((a) => a.id === flowAction);
        const selected = flowAction === current;
        return (
          <button
            key={flowAction}
            type="button"
            role="tab"
            aria-selected={selected}
            className={`action-tab${selected ? " is-current" : ""}`}
            data-testid={`action-tab-${flowAction}`}
            onClick={() => store.getState().selectAction(flowAction)}
          >
            {action?.name || (flowAction === WORKFLOW_FLOW ? "Workflow" : flowAction)}
            <span className="mono muted small">{flowAction}</span>
          </button>
        );
      })}
      <button type="button" className="button button-small button-ghost" data-testid="action-add" onClick={add}>
        + Add action
      </button>
    </div>
  );
}
