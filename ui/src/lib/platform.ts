// What the keyboard looks like on this machine, for shortcut hints and checks.
export const IS_MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.userAgent);

/** The label of the primary modifier: ⌘ on macOS, Ctrl elsewhere. */
export const MOD_LABEL = IS_MAC ? "⌘" : "Ctrl";

/** Whether the primary modifier (⌘ on macOS, Ctrl elsewhere) is held, and only it. */
export function primaryModifierOnly(e: KeyboardEvent): boolean {
  const primary = IS_MAC ? e.metaKey : e.ctrlKey;
  const other = IS_MAC ? e.ctrlKey : e.metaKey;
  return primary && !other && !e.altKey && !e.shiftKey;
}

/** True when keystrokes go to a text field, so single-key shortcuts must stay out of the way. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "submit", "reset", "file"].includes(target.type);
  }
  return false;
}
