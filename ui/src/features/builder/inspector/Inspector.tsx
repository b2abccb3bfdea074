// The side panel for the selection: one node's form (per kind), its problems and its last run;
// a count and Delete for several; shortcuts when nothing is selected.
import { useCallback, useMemo } from "react";
import { useShallow } from "zustand/react/shallow";

import { JsonBlock } from "../../../components/JsonBlock";
import { MOD_LABEL } from "../../../lib/platform";
import { removeElements, setNodeData } from "../graph";
import { flowInputs, known, setOptional, WORKFLOW_FLOW, type FlowNode, type NodeDataByKind } from "../model";
import { NODE_REGISTRY, UNKNOWN_KIND } from "../nodeKinds";
import { selectFlow } from "../store";
import { ActionSettings } from "../steps/ActionSettings";
import { useBuilder, useBuilderStore } from "../useBuilder";
import { ApiCallForm } from "./ApiCallForm";
import { CallCapabilityForm } from "./CallCapabilityForm";
import { ConditionForm } from "./ConditionForm";
import type { Setter } from "./formKit";
import { InputForm } from "./InputForm";
import { LastRun } from "./LastRun";
import { NodeProblems } from "./NodeProblems";
import { OutputForm } from "./OutputForm";
import { ScriptForm } from "./ScriptForm";
import { SuggestionsContext, templateSuggestions, upstreamKinds } from "./templateSuggestions";
import { TransformForm } from "./TransformForm";

const NO_SET: ReadonlySet<string> = new Set();

export function Inspector() {
  const store = useBuilderStore();
  // Only the selection, not the flow: the inspector must not render on every frame of a drag.
  const selected = useBuilder((s) => s.selectedNodes);
  const only = selected.size === 1 ? [...selected][0] : undefined;

  const removeSelected = () => {
    const s = store.getState();
    s.updateFlow((f) => removeElements(f, s.selectedNodes, s.selectedEdges));
    s.select(NO_SET, NO_SET);
  };

  return (
    <aside className="inspector card-surface" data-testid="inspector" aria-label="Inspector">
      {only !== undefined ? (
        <NodeInspector key={only} id={only} onDelete={removeSelected} />
      ) : selected.size > 1 ? (
        <div className="inspector-multi">
          <h3 className="inspector-title">{selected.size} nodes selected</h3>
          <p className="muted small">
            <kbd>{MOD_LABEL}</kbd> <kbd>C</kbd> copies them, <kbd>{MOD_LABEL}</kbd> <kbd>V</kbd> pastes copies.
          </p>
          <button type="button" className="button button-danger-outline" data-testid="inspector-delete" onClick={removeSelected}>
            Delete {selected.size} nodes
          </button>
        </div>
      ) : (
        <div className="inspector-empty" data-testid="inspector-empty">
          <ActionSettings />
          <p className="muted small">Select a node to edit it. Add nodes from the palette: click, or drag onto the canvas.</p>
          <ul className="shortcut-list small">
            <li>
              Connect: drag from a node’s right port to another’s left port
            </li>
            <li>
              Select several: <kbd>Shift</kbd>-drag a box, or <kbd>{MOD_LABEL}</kbd>-click
            </li>
            <li>
              Delete: <kbd>Delete</kbd> or <kbd>Backspace</kbd>
            </li>
            <li>
              Copy, paste: <kbd>{MOD_LABEL}</kbd> <kbd>C</kbd>, <kbd>{MOD_LABEL}</kbd> <kbd>V</kbd>
            </li>
            <li>
              Undo, redo: <kbd>{MOD_LABEL}</kbd> <kbd>Z</kbd>, <kbd>{MOD_LABEL}</kbd> <kbd>Shift</kbd> <kbd>Z</kbd>
            </li>
          </ul>
        </div>
      )}
    </aside>
  );
}

/** The node's type and data: unlike the node itself, they stay the same while it is dragged. */
function useNodeContent(id: string): Pick<FlowNode, "type" | "data"> | null {
  const type = useBuilder((s) => selectFlow(s)?.nodes.find((n) => n.id === id)?.type);
  const data = useBuilder((s) => selectFlow(s)?.nodes.find((n) => n.id === id)?.data);
  return type === undefined || data === undefined ? null : { type, data };
}

function NodeInspector({ id, onDelete }: { id: string; onDelete: () => void }) {
  const content = useNodeContent(id);
  const store = useBuilderStore();
  const action = useBuilder((s) => s.action);
  const configuration = useBuilder((s) => s.doc.capability.configuration);
  const inputs = useBuilder((s) => flowInputs(selectFlow(s)));
  const upstream = useBuilder(useShallow((s) => upstreamKinds(selectFlow(s), id)));
  const mark = useBuilder((s) => s.marks.nodes.get(id));

  const suggestions = useMemo(
    () => templateSuggestions(inputs, configuration ?? [], upstream),
    [inputs, configuration, upstream],
  );

  // Typing in one field of one node is one undo step (see the store's coalescing).
  const set: Setter<Record<string, unknown>> = useCallback(
    (field, value) => {
      store.getState().updateFlow((f) => {
        const current = f.nodes.find((n) => n.id === id);
        return current ? setNodeData(f, id, setOptional(current.data, field, value)) : f;
      }, `data:${id}:${field}`);
    },
    [store, id],
  );

  if (content === null) return null;
  const node: FlowNode = { id, position: { x: 0, y: 0 }, ...content };
  const typed = known(node);
  const look = typed ? NODE_REGISTRY[typed.type] : UNKNOWN_KIND;
  const problems = mark ? [...mark.errors, ...mark.warnings] : [];

  return (
    <SuggestionsContext value={suggestions}>
      <header className="inspector-head">
        <span className="inspector-icon" aria-hidden="true">
          {look.icon}
        </span>
        <div>
          <h3 className="inspector-title">{look.label}</h3>
          <code className="muted small" data-testid="inspector-node-id">
            {id}
          </code>
        </div>
        <button
          type="button"
          className="button button-small button-danger-outline inspector-delete"
          data-testid="inspector-delete"
          onClick={onDelete}
        >
          Delete
        </button>
      </header>
      {typed && <p className="muted small">{NODE_REGISTRY[typed.type].description}.</p>}
      <NodeProblems problems={problems} />
      <form className="inspector-form" onSubmit={(e) => e.preventDefault()} aria-label={`${look.label} ${id}`}>
        {typed ? (
          <KindForm node={typed} set={set} workflow={action === WORKFLOW_FLOW} />
        ) : (
          <>
            <p className="muted small">This build does not know the kind “{node.type}”; its data is kept as it is.</p>
            <JsonBlock value={node.data} compact />
          </>
        )}
      </form>
      {mark?.trace && <LastRun trace={mark.trace} />}
    </SuggestionsContext>
  );
}

type KindFormProps = {
  node: NonNullable<ReturnType<typeof known>>;
  set: Setter<Record<string, unknown>>;
  workflow: boolean;
};

/** The form of the node's kind; `set` is narrowed to that kind's data. */
function KindForm({ node, set, workflow }: KindFormProps) {
  const as = <K extends keyof NodeDataByKind>() => set as unknown as Setter<NodeDataByKind[K]>;
  switch (node.type) {
    case "input":
      return <InputForm nodeId={node.id} data={node.data} set={as<"input">()} workflow={workflow} />;
    case "api_call":
      return <ApiCallForm nodeId={node.id} data={node.data} set={as<"api_call">()} />;
    case "transform":
      return <TransformForm nodeId={node.id} data={node.data} set={as<"transform">()} />;
    case "filter":
      return <ConditionForm nodeId={node.id} data={node.data} set={as<"filter">()} branch={false} />;
    case "branch":
      return <ConditionForm nodeId={node.id} data={node.data} set={as<"branch">()} branch />;
    case "script":
      return <ScriptForm nodeId={node.id} data={node.data} set={as<"script">()} />;
    case "call_capability":
      return <CallCapabilityForm nodeId={node.id} data={node.data} set={as<"call_capability">()} />;
    case "merge":
      return (
        <p className="muted small">
          Nothing to set: the outputs of the branches that ran are merged (objects shallow-merged, otherwise a list).
          Connect two or more nodes to it.
        </p>
      );
    case "output":
      return <OutputForm nodeId={node.id} data={node.data} set={as<"output">()} />;
  }
}
