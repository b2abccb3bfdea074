// One node on the canvas: icon, title, id, a one-line summary of its data, its ports, and what
// the compiler and the last run said about it (an error outline and badge, a run status strip).
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";

import { formatDuration } from "../../lib/format";
import type { NodeMark } from "./marks";
import { isNodeKind } from "./model";
import { specOf, UNKNOWN_KIND } from "./nodeKinds";
import type { RfNode } from "./rfElements";
import { useBuilder } from "./useBuilder";

function nodeClass(type: string, mark: NodeMark | undefined): string {
  const classes = ["flow-node", `flow-node-${type}`];
  if (mark?.errors.length) classes.push("node-has-error");
  else if (mark?.warnings.length) classes.push("node-has-warning");
  if (mark?.trace) classes.push(`node-run-${mark.trace.status}`);
  return classes.join(" ");
}

/** Where the i-th of n source handles sits down the right edge. */
function handleTop(i: number, n: number): string | undefined {
  return n <= 1 ? undefined : `${Math.round(((i + 1) * 100) / (n + 1))}%`;
}

function FlowNodeViewInner({ id, data: { type, data } }: NodeProps<RfNode>) {
  const mark = useBuilder((s) => s.marks.nodes.get(id));
  const spec = isNodeKind(type) ? specOf(type) : null;
  const look = spec ?? UNKNOWN_KIND;
  // An unknown kind keeps both ports, so its edges still attach.
  const outputs = spec ? spec.outputs : [null];
  const summary = spec ? spec.summary(data) : `Unknown kind “${type}”`;
  const problems = mark ? [...mark.errors, ...mark.warnings] : [];
  const trace = mark?.trace ?? null;

  return (
    <div className={nodeClass(type, mark)} data-testid={`node-${id}`} data-kind={type}>
      {(spec?.hasInput ?? true) && <Handle type="target" position={Position.Left} />}
      <div className="flow-node-head">
        <span className="flow-node-icon" aria-hidden="true">
          {look.icon}
        </span>
        <span className="flow-node-title">{look.label}</span>
        {problems.length > 0 && (
          <span
            className={`flow-node-badge flow-node-badge-${mark?.errors.length ? "error" : "warning"}`}
            data-testid={`node-badge-${id}`}
            title={problems.map((d) => d.message).join("\n")}
            role="img"
            aria-label={`${problems.length} problem${problems.length === 1 ? "" : "s"}: ${problems.map((d) => d.message).join("; ")}`}
          >
            {problems.length}
          </span>
        )}
      </div>
      <div className="flow-node-id mono">{id}</div>
      <div className="flow-node-summary" title={summary}>
        {summary}
      </div>
      {trace && (
        <div className={`flow-node-trace trace-${trace.status}`} title={trace.error ?? undefined}>
          <span>{trace.status === "ok" ? "✓ ran" : trace.status === "error" ? "✕ failed" : "– skipped"}</span>
          <span>{formatDuration(trace.duration_ms)}</span>
        </div>
      )}
      {outputs.map((handle, i) => (
        <Handle
          key={handle ?? "out"}
          type="source"
          position={Position.Right}
          id={handle ?? undefined}
          style={{ top: handleTop(i, outputs.length) }}
        >
          {handle !== null && <span className="flow-handle-label">{handle}</span>}
        </Handle>
      ))}
    </div>
  );
}

/** Memoised: a node renders again only when its own data, selection or marks change. */
export const FlowNodeView = memo(FlowNodeViewInner);
