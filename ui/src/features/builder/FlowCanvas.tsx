// The canvas of the flow on screen (React Flow, controlled), with the palette and the layout tools
// beside it: the document is the truth, React Flow's changes become store edits (moves
// coalesced per drag into one undo step), selection and measured sizes live beside the document. Delete/Backspace removes, Ctrl+C/Ctrl+V copy and paste
// nodes with new ids, Ctrl+A selects every node.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  type NodeTypes,
  type OnDelete,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useEffectEvent, useMemo, useRef } from "react";

import { isTypingTarget } from "../../lib/platform";
import { CanvasToolbar } from "./CanvasToolbar";
import { FlowNodeView } from "./FlowNodeView";
import { connect, copySelection, moveNodes, paste, removeElements, type Clipboard } from "./graph";
import { NODE_KINDS, type Position } from "./model";
import { Palette } from "./Palette";
import { rfType, toRfEdges, toRfNodes, type RfNode } from "./rfElements";
import { selectFlow, type Dims } from "./store";
import { useBuilder, useBuilderStore } from "./useBuilder";

// Module scope, as React Flow asks: a new object each render would remount every node.
const NODE_TYPES: NodeTypes = Object.fromEntries([...NODE_KINDS, "unknown"].map((kind) => [rfType(kind), FlowNodeView]));
const DELETE_KEYS = ["Delete", "Backspace"];
// A large flow opens readable (zoomed to at least half size) rather than shrunk to fit whole;
// only what is in view is rendered, so a 500-node flow paints as little as a small one.
const FIT_VIEW_OPTIONS = { maxZoom: 1.2, minZoom: 0.5, padding: 0.2 };

/** Shared by every flow of every open document, so nodes can be pasted into another action. */
let clipboard: Clipboard | null = null;
let dragSeq = 0;

const isValidConnection: IsValidConnection = (c) => c.source !== c.target;

function sameDims(a: Dims | undefined, b: Dims): boolean {
  return a !== undefined && a.width === b.width && a.height === b.height;
}

export function FlowCanvas() {
  const canvasRef = useRef<HTMLDivElement>(null);
  const store = useBuilderStore();
  const flow = useBuilder(selectFlow);
  const selectedNodes = useBuilder((s) => s.selectedNodes);
  const selectedEdges = useBuilder((s) => s.selectedEdges);
  const measured = useBuilder((s) => s.measured);
  const edgeMarks = useBuilder((s) => s.marks.edges);
  const focus = useBuilder((s) => s.focus);
  const { fitView } = useReactFlow();
  // The undo group of the drag in progress.
  const dragKey = useRef<string | null>(null);

  const flowNodes = flow?.nodes;
  const flowEdges = flow?.edges;
  const nodes = useMemo(() => toRfNodes(flowNodes ?? [], selectedNodes, measured), [flowNodes, selectedNodes, measured]);
  const edges = useMemo(() => toRfEdges(flowEdges ?? [], selectedEdges, edgeMarks), [flowEdges, selectedEdges, edgeMarks]);

  const onNodesChange = useCallback(
    (changes: Array<NodeChange<RfNode>>) => {
      const s = store.getState();
      const moves = new Map<string, Position>();
      let dragging: boolean | null = null;
      let nextMeasured: Map<string, Dims> | null = null;
      let nextSelected: Set<string> | null = null;
      for (const change of changes) {
        if (change.type === "position" && change.position) {
          moves.set(change.id, change.position);
          dragging = change.dragging ?? false;
        } else if (change.type === "dimensions" && change.dimensions) {
          if (sameDims(s.measured.get(change.id), change.dimensions)) continue;
          nextMeasured ??= new Map(s.measured);
          nextMeasured.set(change.id, change.dimensions);
        } else if (change.type === "select") {
          nextSelected ??= new Set(s.selectedNodes);
          if (change.selected) nextSelected.add(change.id);
          else nextSelected.delete(change.id);
        }
        // "remove" is handled once, nodes and edges together, in onDelete.
      }
      if (nextMeasured) s.setMeasured(nextMeasured);
      if (nextSelected) s.select(nextSelected, s.selectedEdges);
      if (moves.size > 0) {
        let key: string;
        if (dragging) {
          if (dragKey.current === null) {
            dragSeq += 1;
            dragKey.current = `drag:${dragSeq}`;
          }
          key = dragKey.current;
        } else {
          // The last move of a drag closes its group; a move with no drag is an arrow-key nudge.
          key = dragKey.current ?? "nudge";
          dragKey.current = null;
        }
        s.updateFlow((f) => moveNodes(f, moves), key);
      }
    },
    [store],
  );

  const onEdgesChange = useCallback(
    (changes: Array<EdgeChange>) => {
      const s = store.getState();
      let next: Set<string> | null = null;
      for (const change of changes) {
        if (change.type !== "select") continue;
        next ??= new Set(s.selectedEdges);
        if (change.selected) next.add(change.id);
        else next.delete(change.id);
      }
      if (next) s.select(s.selectedNodes, next);
    },
    [store],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      store.getState().updateFlow((f) =>
        connect(f, { source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target, targetHandle: c.targetHandle ?? null }),
      );
    },
    [store],
  );

  const onDelete: OnDelete = useCallback(
    ({ nodes: gone, edges: goneEdges }) => {
      const s = store.getState();
      const nodeIds = new Set(gone.map((n) => n.id));
      const edgeIds = new Set(goneEdges.map((e) => e.id));
      s.updateFlow((f) => removeElements(f, nodeIds, edgeIds));
      s.select(
        new Set([...s.selectedNodes].filter((id) => !nodeIds.has(id))),
        new Set([...s.selectedEdges].filter((id) => !edgeIds.has(id))),
      );
    },
    [store],
  );

  // Copy, paste and select all, when the keys are not meant for a text field.
  const onKeyDown = useEffectEvent((e: KeyboardEvent) => {
    if (e.defaultPrevented || !(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
    if (isTypingTarget(e.target) || document.querySelector("dialog[open]")) return;
    const key = e.key.toLowerCase();
    const s = store.getState();
    const current = selectFlow(s);
    if (!current) return;
    if (key === "c") {
      // Text the user selected on the page is theirs to copy.
      if ((window.getSelection()?.toString() ?? "") !== "") return;
      const copied = copySelection(current, s.selectedNodes);
      if (copied === null) return;
      clipboard = copied;
      e.preventDefault();
    } else if (key === "v" && clipboard !== null) {
      e.preventDefault();
      const pasted = paste(current, clipboard);
      s.updateFlow(() => pasted.flow);
      s.select(new Set(pasted.ids), new Set());
      // Pasting again offsets again, rather than stacking copies on one spot.
      clipboard = { ...clipboard, nodes: clipboard.nodes.map((n) => ({ ...n, position: { x: n.position.x + 40, y: n.position.y + 40 } })) };
    } else if (key === "a" && canvasRef.current?.contains(document.activeElement)) {
      e.preventDefault();
      s.select(new Set(current.nodes.map((n) => n.id)), new Set(current.edges.map((ed) => ed.id)));
    }
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKeyDown(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);

  // A problem clicked in the list: centre its node.
  useEffect(() => {
    if (focus === null) return;
    void fitView({ nodes: [{ id: focus.node }], duration: 250, maxZoom: 1.2, padding: 0.4 });
  }, [focus, fitView]);

  const viewport = flow?.viewport;
  return (
    <div className="canvas-frame">
      {/* Beside the canvas, not over it, so no node ever hides under the palette. */}
      <div className="canvas-side">
        <Palette canvasRef={canvasRef} />
        <CanvasToolbar />
      </div>
      <div className="flow-canvas" data-testid="flow-canvas" ref={canvasRef}>
        <ReactFlow<RfNode>
          nodes={nodes}
          edges={edges}
          nodeTypes={NODE_TYPES}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          onDelete={onDelete}
          isValidConnection={isValidConnection}
          deleteKeyCode={DELETE_KEYS}
          defaultViewport={viewport}
          fitView={viewport === undefined}
          fitViewOptions={FIT_VIEW_OPTIONS}
          minZoom={0.1}
          maxZoom={2}
          onlyRenderVisibleElements
        >
          <Background gap={20} size={1} />
          <MiniMap pannable zoomable ariaLabel="Overview of the flow" />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </div>
  );
}
