// The document's nodes and edges as React Flow's. Document objects are immutable, so each one's
// React Flow counterpart is cached against it (with the selection, size and marking it was made
// with): an edit that changes one node yields one new React Flow node, and React Flow skips the
// rest by identity. That is what keeps a 500-node flow smooth while dragging.
import type { Edge, Node } from "@xyflow/react";

import { isNodeKind, type FlowEdge, type FlowNode } from "./model";
import type { Dims } from "./store";

/** React Flow's node data: the document node's type (unknown kinds keep theirs) and data. */
export type RfNodeData = { type: string; data: Record<string, unknown> };
export type RfNode = Node<RfNodeData, string>;

type NodeEntry = { selected: boolean; dims: Dims | undefined; rf: RfNode };
const nodeCache = new WeakMap<FlowNode, NodeEntry>();

/**
 * The React Flow node type of a document node: `kind-<kind>`, or `kind-unknown`. Prefixed because
 * React Flow's stylesheet styles its own built-in "input" and "output" types by class name.
 */
export function rfType(type: string): string {
  return `${RF_TYPE_PREFIX}${isNodeKind(type) ? type : "unknown"}`;
}

const RF_TYPE_PREFIX = "kind-";

export function toRfNodes(
  nodes: ReadonlyArray<FlowNode>,
  selected: ReadonlySet<string>,
  measured: ReadonlyMap<string, Dims>,
): Array<RfNode> {
  return nodes.map((node) => {
    const isSelected = selected.has(node.id);
    const dims = measured.get(node.id);
    const cached = nodeCache.get(node);
    if (cached && cached.selected === isSelected && cached.dims === dims) return cached.rf;
    const rf: RfNode = {
      id: node.id,
      type: rfType(node.type),
      position: node.position,
      data: { type: node.type, data: node.data },
      selected: isSelected,
      // Without its measured size React Flow would measure a re-created node again.
      ...(dims ? { measured: dims } : {}),
    };
    nodeCache.set(node, { selected: isSelected, dims, rf });
    return rf;
  });
}

type EdgeEntry = { selected: boolean; mark: string | undefined; rf: Edge };
const edgeCache = new WeakMap<FlowEdge, EdgeEntry>();

export function toRfEdges(
  edges: ReadonlyArray<FlowEdge>,
  selected: ReadonlySet<string>,
  marks: ReadonlyMap<string, "error" | "warning">,
): Array<Edge> {
  return edges.map((edge) => {
    const isSelected = selected.has(edge.id);
    const mark = marks.get(edge.id);
    const cached = edgeCache.get(edge);
    if (cached && cached.selected === isSelected && cached.mark === mark) return cached.rf;
    const rf: Edge = {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      sourceHandle: edge.source_handle ?? null,
      targetHandle: edge.target_handle ?? null,
      selected: isSelected,
      className: mark ? `edge-has-${mark}` : undefined,
      // Branch edges say which way they go.
      label: edge.source_handle === "true" || edge.source_handle === "false" ? edge.source_handle : undefined,
    };
    edgeCache.set(edge, { selected: isSelected, mark, rf });
    return rf;
  });
}
