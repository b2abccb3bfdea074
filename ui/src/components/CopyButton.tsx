// A Copy button that says "Copied" for a moment, or says so when the clipboard refuses (no
// permission, no clipboard in this webview) so the user selects the text instead.
import { useEffect, useState } from "react";

type CopyState = "idle" | "copied" | "failed";

type CopyButtonProps = { text: string; testId: string; label?: string };

const CONFIRM_MS = 2000;

export function CopyButton({ text, testId, label = "Copy" }: CopyButtonProps) {
  const [state, setState] = useState<CopyState>("idle");

  useEffect(() => {
    if (state !== "copied") return;
    const timer = window.setTimeout(() => setState("idle"), CONFIRM_MS);
    return () => window.clearTimeout(timer);
  }, [state]);

  const copy = async () => {
    try {
      // Missing outside a secure context; typed as always present.
      if (typeof navigator.clipboard?.writeText !== "function") throw new Error("No clipboard");
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  };

  return (
    <span className="copy">
      <button
        type="button"
        className="button button-small"
        data-testid={testId}
        data-state={state}
        onClick={() => void copy()}
      >
        <span aria-hidden="true">{state === "copied" ? "✓" : "📋"}</span>
        {state === "copied" ? "Copied" : label}
      </button>
      <span className="copy-status small" role="status" aria-live="polite">
        {state === "copied" && <span className="visually-hidden">Copied to the clipboard</span>}
        {state === "failed" && <span className="field-error">Could not copy: select the text and copy it.</span>}
      </span>
    </span>
  );
}
