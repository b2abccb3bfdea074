// The marketplace's keys: "/" focuses the search, Ctrl/Cmd+R syncs (instead of reloading the
// window), Esc leaves the detail view. None of them act while a dialog is open.
import { useEffect, useEffectEvent } from "react";

import { isTypingTarget, primaryModifierOnly } from "../../lib/platform";

type Shortcuts = {
  focusSearch: () => void;
  sync: () => void;
  /** Null when there is nothing to go back from. */
  back: (() => void) | null;
};

function anyModalOpen(): boolean {
  return document.querySelector("dialog[open]") !== null;
}

export function useMarketShortcuts({ focusSearch, sync, back }: Shortcuts) {
  const onKeyDown = useEffectEvent((e: KeyboardEvent) => {
    if (e.defaultPrevented) return;
    const reload = e.key.toLowerCase() === "r" && primaryModifierOnly(e);
    // Reloading the window would throw away the page (and an open dialog); on this page it syncs.
    if (reload) e.preventDefault();
    if (anyModalOpen()) return;
    if (reload) {
      sync();
    } else if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isTypingTarget(e.target)) {
      e.preventDefault();
      focusSearch();
    } else if (e.key === "Escape" && back !== null && !isTypingTarget(e.target)) {
      e.preventDefault();
      back();
    }
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKeyDown(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);
}
