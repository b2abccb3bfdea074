// Edits of one flow's graph as pure functions (flow in, flow out), so the store can keep each
// result as an undo step: add, connect, remove, move, copy and paste; and what lies upstream of
// a node, which is what its templates may name.
import { nextEdgeId, nextNodeId, type Flow, type FlowEdge, type FlowNode, type NodeKind, type Position } from "./model";
import { NODE_REGISTRY } from "./nodeKinds";

/** Nodes from which `id` can be reached, nearest first (walking the edges backwards). */
export function upstreamOf(flow: Flow, id: string): Array<FlowNode> {
  const incoming = new Map<string, Array<string>>();
  for (const edge of flow.edges) {
    const list = incoming.get(edge.target);
    if (list) list.push(edge.source);
    else incoming.set(edge.target, [edge.source]);
  }
  const seen = new Set<string>([id]);
  const order: Array<string> = [];
  let frontier = [id];
  while (frontier.length > 0) {
    const next: Array<string> = [];
    for (const node of frontier) {
      for (const source of incoming.get(node) ?? []) {
        if (seen.has(source)) continue;
        seen.add(source);
        order.push(source);
        next.push(source);
      }
    }
    frontier = next;
  }
  const byId = new Map(flow.nodes.map((n) => [n.id, n]));
  return order.map((nodeId) => byId.get(nodeId)).filter((n): n is FlowNode => n !== undefined);
}

/** A new node of `kind` at `position` (its top-left corner), with a fresh id. */
export function addNode(flow: Flow, kind: NodeKind, position: Position): { flow: Flow; id: string } {
  const id = nextNodeId(kind, flow.nodes);
  const node: FlowNode = { id, type: kind, position, data: NODE_REGISTRY[kind].create() };
  return { flow: { ...flow, nodes: [...flow.nodes, node] }, id };
}

export type Connection = { source: string; sourceHandle: string | null; target: string; targetHandle: string | null };

/** Adds an edge unless it is a loop onto itself or already there. */
export function connect(flow: Flow, c: Connection): Flow {
  if (c.source === c.target) return flow;
  const same = flow.edges.some(
    (e) =>
      e.source === c.source &&
      e.target === c.target &&
      (e.source_handle ?? null) === c.sourceHandle &&
      (e.target_handle ?? null) === c.targetHandle,
  );
  if (same) return flow;
  const edge: FlowEdge = { id: nextEdgeId(flow.edges), source: c.source, target: c.target };
  // Default handles stay out of the document, as the format's examples write them.
  if (c.sourceHandle !== null) edge.source_handle = c.sourceHandle;
  if (c.targetHandle !== null) edge.target_handle = c.targetHandle;
  return { ...flow, edges: [...flow.edges, edge] };
}

/** Removes nodes (with their edges) and edges. */
export function removeElements(flow: Flow, nodeIds: ReadonlySet<string>, edgeIds: ReadonlySet<string>): Flow {
  if (nodeIds.size === 0 && edgeIds.size === 0) return flow;
  const nodes = flow.nodes.filter((n) => !nodeIds.has(n.id));
  const edges = flow.edges.filter((e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target));
  if (nodes.length === flow.nodes.length && edges.length === flow.edges.length) return flow;
  return { ...flow, nodes, edges };
}

/** Moves nodes; positions of nodes not in `moves` (and their objects) stay as they are. */
export function moveNodes(flow: Flow, moves: ReadonlyMap<string, Position>): Flow {
  if (moves.size === 0) return flow;
  let changed = false;
  const nodes = flow.nodes.map((node) => {
    const to = moves.get(node.id);
    if (to === undefined || (to.x === node.position.x && to.y === node.position.y)) return node;
    changed = true;
    return { ...node, position: { x: to.x, y: to.y } };
  });
  return changed ? { ...flow, nodes } : flow;
}

/** Replaces one node's data. */
export function setNodeData(flow: Flow, id: string, data: Record<string, unknown>): Flow {
  let changed = false;
  const nodes = flow.nodes.map((node) => {
    if (node.id !== id || node.data === data) return node;
    changed = true;
    return { ...node, data };
  });
  return changed ? { ...flow, nodes } : flow;
}

/** What Ctrl+C keeps: the selected nodes and the edges between them. */
export type Clipboard = { nodes: Array<FlowNode>; edges: Array<FlowEdge> };

export function copySelection(flow: Flow, selected: ReadonlySet<string>): Clipboard | null {
  const nodes = flow.nodes.filter((n) => selected.has(n.id));
  if (nodes.length === 0) return null;
  const edges = flow.edges.filter((e) => selected.has(e.source) && selected.has(e.target));
  return { nodes, edges };
}

const PASTE_OFFSET = 40;

/**
 * Pastes a clipboard into a flow: every node gets a new id of its kind (the counter goes on from
 * the flow's), edges between pasted nodes are re-pointed to the copies, and the copies sit a
 * little below and to the right of the originals.
 */
export function paste(flow: Flow, clip: Clipboard): { flow: Flow; ids: Array<string> } {
  const renamed = new Map<string, string>();
  const taken = new Set<string>();
  const nodes = clip.nodes.map((node) => {
    const id = nextNodeId(node.type, flow.nodes, taken);
    taken.add(id);
    renamed.set(node.id, id);
    return {
      ...node,
      id,
      position: { x: node.position.x + PASTE_OFFSET, y: node.position.y + PASTE_OFFSET },
      data: structuredClone(node.data),
    };
  });
  let edges = flow.edges;
  for (const edge of clip.edges) {
    const source = renamed.get(edge.source);
    const target = renamed.get(edge.target);
    if (source === undefined || target === undefined) continue;
    edges = [...edges, { ...edge, id: nextEdgeId(edges), source, target }];
  }
  return { flow: { ...flow, nodes: [...flow.nodes, ...nodes], edges }, ids: [...renamed.values()] };
}
