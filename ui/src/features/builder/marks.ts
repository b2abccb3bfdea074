// What the canvas paints on nodes and edges of the flow on screen: the compiler's diagnostics
// (targets `node:<id>` / `edge:<id>` of this action) and the last run's per-node traces. Worked
// out once per compile or run, so a node reads its own entry and only nodes whose entry changed
// render again.
import type { CompileView } from "../../generated/CompileView";
import type { FlowDiagnostic } from "../../generated/FlowDiagnostic";
import type { FlowRunView } from "../../generated/FlowRunView";
import type { NodeTrace } from "../../generated/NodeTrace";

export type NodeMark = {
  errors: Array<FlowDiagnostic>;
  warnings: Array<FlowDiagnostic>;
  trace: NodeTrace | null;
};

export type Marks = {
  nodes: ReadonlyMap<string, NodeMark>;
  /** Edges with a diagnostic, and the worst severity. */
  edges: ReadonlyMap<string, "error" | "warning">;
};

export const NO_MARKS: Marks = { nodes: new Map(), edges: new Map() };

/** `node:api_call_1` → ["node", "api_call_1"]; null for a capability-wide finding. */
export function parseTarget(target: string | null): { kind: "node" | "edge"; id: string } | null {
  if (target === null) return null;
  const colon = target.indexOf(":");
  const kind = target.slice(0, colon);
  if (kind !== "node" && kind !== "edge") return null;
  return { kind, id: target.slice(colon + 1) };
}

function entry(map: Map<string, NodeMark>, id: string): NodeMark {
  let mark = map.get(id);
  if (mark === undefined) {
    mark = { errors: [], warnings: [], trace: null };
    map.set(id, mark);
  }
  return mark;
}

export function computeMarks(
  compile: CompileView | null,
  run: { action: string; view: FlowRunView | null } | null,
  action: string,
): Marks {
  const nodes = new Map<string, NodeMark>();
  const edges = new Map<string, "error" | "warning">();
  for (const d of compile?.diagnostics ?? []) {
    if (d.action !== action) continue;
    const target = parseTarget(d.target);
    if (target === null) continue;
    if (target.kind === "node") {
      const mark = entry(nodes, target.id);
      (d.severity === "error" ? mark.errors : mark.warnings).push(d);
    } else if (d.severity === "error" || !edges.has(target.id)) {
      edges.set(target.id, d.severity);
    }
  }
  if (run?.view && run.action === action) {
    for (const trace of run.view.nodes) entry(nodes, trace.node).trace = trace;
  }
  return nodes.size === 0 && edges.size === 0 ? NO_MARKS : { nodes, edges };
}
