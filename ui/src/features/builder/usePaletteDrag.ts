// Dragging a palette item onto the canvas, on pointer events: press on the item, move, release
// over the canvas. HTML5 drag and drop (draggable + dataTransfer) is avoided on purpose: WebDriver
// in WebKitGTK never delivers its dragover/drop, while pointer events work with a mouse, touch and
// WebDriver alike. A press released where it started is a click, handled by the item's onClick.
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from "react";

import type { NodeKind } from "./model";

export type Ghost = { kind: NodeKind; x: number; y: number };

/** Moves shorter than this are a click that wobbled, not a drag. */
const DRAG_THRESHOLD_PX = 4;

/**
 * `drop(kind, x, y)` is called on release, with client coordinates; it returns whether it placed
 * a node (the release was over the canvas). A placed node swallows the click that may follow.
 */
export function usePaletteDrag(drop: (kind: NodeKind, clientX: number, clientY: number) => boolean) {
  const [ghost, setGhost] = useState<Ghost | null>(null);
  const stopRef = useRef<(() => void) | null>(null);
  const swallowClickRef = useRef(false);

  // A drag in progress when the palette goes away must not leave listeners on the window.
  useEffect(() => () => stopRef.current?.(), []);

  const onPointerDown = (kind: NodeKind, e: ReactPointerEvent) => {
    if (e.button !== 0) return;
    stopRef.current?.();
    swallowClickRef.current = false;
    const startX = e.clientX;
    const startY = e.clientY;
    let moved = false;

    const move = (ev: PointerEvent) => {
      if (!moved && Math.hypot(ev.clientX - startX, ev.clientY - startY) < DRAG_THRESHOLD_PX) return;
      moved = true;
      setGhost({ kind, x: ev.clientX, y: ev.clientY });
    };
    const up = (ev: PointerEvent) => {
      stop();
      // WebDriver may jump straight from press to release elsewhere, without a move between.
      if (drop(kind, ev.clientX, ev.clientY)) swallowClickRef.current = true;
    };
    const stop = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", stop);
      stopRef.current = null;
      setGhost(null);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", stop);
    stopRef.current = stop;
  };

  /** True when this click ends a drag that already placed a node. */
  const swallowClick = (): boolean => {
    const swallow = swallowClickRef.current;
    swallowClickRef.current = false;
    return swallow;
  };

  return { ghost, onPointerDown, swallowClick };
}
