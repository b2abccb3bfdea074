// The nine node kinds. Click one to add it at the centre of the view, or press on it and release
// over the canvas to drop it there (pointer events; see usePaletteDrag).
import { useReactFlow } from "@xyflow/react";
import type { RefObject } from "react";

import { addNode } from "./graph";
import { NODE_KINDS, type Flow, type NodeKind, type Position } from "./model";
import { NODE_REGISTRY } from "./nodeKinds";
import { selectFlow } from "./store";
import { useBuilderStore } from "./useBuilder";
import { usePaletteDrag } from "./usePaletteDrag";

/** About a node's size on screen (see .flow-node), to centre a new node on the point. */
const NODE_SIZE = { width: 200, height: 84 };
const NUDGE = 32;

/** `at`, moved down and right until no node's corner sits within a nudge of it. */
function freeSpot(flow: Flow, at: Position): Position {
  let spot = at;
  for (let i = 0; i < 50; i++) {
    const taken = flow.nodes.some(
      (n) => Math.abs(n.position.x - spot.x) < NUDGE / 2 && Math.abs(n.position.y - spot.y) < NUDGE / 2,
    );
    if (!taken) break;
    spot = { x: spot.x + NUDGE, y: spot.y + NUDGE };
  }
  return spot;
}

/** Whether a release at (x, y) lands on the canvas (the ghost lets pointer hits through). */
function overCanvas(canvas: HTMLElement | null, x: number, y: number): boolean {
  const target = document.elementFromPoint(x, y);
  return canvas !== null && target !== null && canvas.contains(target);
}

export function Palette({ canvasRef }: { canvasRef: RefObject<HTMLDivElement | null> }) {
  const store = useBuilderStore();
  const { screenToFlowPosition } = useReactFlow();

  /** Adds a node centred on a point of the screen, and selects it. */
  const placeAt = (kind: NodeKind, clientX: number, clientY: number) => {
    const s = store.getState();
    const flow = selectFlow(s);
    if (!flow) return;
    const point = screenToFlowPosition({ x: clientX, y: clientY });
    const corner = { x: Math.round(point.x - NODE_SIZE.width / 2), y: Math.round(point.y - NODE_SIZE.height / 2) };
    const added = addNode(flow, kind, freeSpot(flow, corner));
    s.updateFlow(() => added.flow);
    s.select(new Set([added.id]), new Set());
  };

  const { ghost, onPointerDown, swallowClick } = usePaletteDrag((kind, x, y) => {
    if (!overCanvas(canvasRef.current, x, y)) return false;
    placeAt(kind, x, y);
    return true;
  });

  const addAtCentre = (kind: NodeKind) => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const r = canvas.getBoundingClientRect();
    placeAt(kind, r.left + r.width / 2, r.top + r.height / 2);
  };

  return (
    <div className="palette" role="toolbar" aria-label="Add a node" data-testid="palette">
      {NODE_KINDS.map((kind) => {
        const spec = NODE_REGISTRY[kind];
        return (
          <button
            key={kind}
            type="button"
            className="palette-item"
            data-testid={`palette-${kind}`}
            title={`${spec.description}. Click to add, or drag onto the canvas.`}
            onPointerDown={(e) => onPointerDown(kind, e)}
            onClick={() => {
              if (!swallowClick()) addAtCentre(kind);
            }}
          >
            <span aria-hidden="true">{spec.icon}</span>
            {spec.label}
          </button>
        );
      })}
      {ghost && (
        <div className="palette-ghost" style={{ left: ghost.x, top: ghost.y }} aria-hidden="true">
          {NODE_REGISTRY[ghost.kind].icon} {NODE_REGISTRY[ghost.kind].label}
        </div>
      )}
    </div>
  );
}
