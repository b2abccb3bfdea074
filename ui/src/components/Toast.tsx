// A short-lived notice at the bottom of the window ("Saved weather-lookup@1.0.0").
import { useEffect } from "react";

export type ToastMessage = { id: number; text: string; tone: "success" | "error" };

type ToastProps = { toast: ToastMessage | null; onDismiss: (id: number) => void };

const VISIBLE_MS = 4500;

export function Toast({ toast, onDismiss }: ToastProps) {
  useEffect(() => {
    if (!toast) return;
    const timer = window.setTimeout(() => onDismiss(toast.id), VISIBLE_MS);
    return () => window.clearTimeout(timer);
  }, [toast, onDismiss]);

  return (
    <div className="toast-region" role="status" aria-live="polite">
      {toast && (
        <div className={`toast toast-${toast.tone}`} data-testid="toast" key={toast.id}>
          <span aria-hidden="true">{toast.tone === "success" ? "✅" : "❌"}</span>
          <span>{toast.text}</span>
          <button
            type="button"
            className="icon-button toast-close"
            aria-label="Dismiss"
            onClick={() => onDismiss(toast.id)}
          >
            ✕
          </button>
        </div>
      )}
    </div>
  );
}
