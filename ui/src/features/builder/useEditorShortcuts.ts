// Editor-wide keys: Ctrl/⌘+S saves the draft (from anywhere, text fields included); Ctrl/⌘+Z
// undoes, Ctrl/⌘+Shift+Z and Ctrl+Y redo, outside text fields (where the field's own undo is
// what the user expects).
import { useEffect, useEffectEvent } from "react";

import { IS_MAC, isTypingTarget } from "../../lib/platform";
import { useBuilderStore } from "./useBuilder";

export function useEditorShortcuts(onSave: () => void) {
  const store = useBuilderStore();
  const onKeyDown = useEffectEvent((e: KeyboardEvent) => {
    const primary = IS_MAC ? e.metaKey : e.ctrlKey;
    if (e.defaultPrevented || !primary || e.altKey || document.querySelector("dialog[open]")) return;
    const key = e.key.toLowerCase();
    if (key === "s" && !e.shiftKey) {
      e.preventDefault();
      onSave();
      return;
    }
    if (isTypingTarget(e.target)) return;
    if (key === "z" && !e.shiftKey) {
      e.preventDefault();
      store.getState().undo();
    } else if ((key === "z" && e.shiftKey) || (key === "y" && !e.shiftKey)) {
      e.preventDefault();
      store.getState().redo();
    }
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKeyDown(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);
}
