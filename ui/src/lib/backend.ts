// The one door to the desktop shell: typed Tauri commands and native file drops.
// Nothing else in the UI imports @tauri-apps/api (eslint enforces it), so a different shell or a
// test double only has to replace this file.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import { getCurrentWebview } from "@tauri-apps/api/webview";

import type { CapabilityDetail } from "../generated/CapabilityDetail";
import type { CapabilitySummary } from "../generated/CapabilitySummary";
import type { ImportOutcome } from "../generated/ImportOutcome";
import type { ValidationReport } from "../generated/ValidationReport";
import { NO_BACKEND } from "./errors";

export type ExportFormat = "yaml" | "json";

/** Every command the UI calls: its arguments (camelCase, as Tauri expects) and its result. */
export type Commands = {
  list_capabilities: { args: { query: string | null }; result: Array<CapabilitySummary> };
  validate_source: { args: { fileName: string; content: string }; result: ValidationReport };
  validate_file: { args: { path: string }; result: ValidationReport };
  import_source: { args: { fileName: string; content: string }; result: ImportOutcome };
  import_file: { args: { path: string }; result: ImportOutcome };
  get_capability: { args: { id: string; version: string | null }; result: CapabilityDetail };
  remove_capability: { args: { id: string; version: string | null }; result: number };
  export_capability: {
    args: { id: string; version: string | null; format: ExportFormat };
    result: string;
  };
  export_capability_file: {
    args: { id: string; version: string | null; format: ExportFormat };
    result: string;
  };
};

export type Command = keyof Commands;

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

/** True inside the desktop app; false in a plain browser (e.g. `npm run dev` opened directly). */
export function hasBackend(): boolean {
  return typeof window !== "undefined" && window.__TAURI_INTERNALS__ !== undefined;
}

/**
 * Calls a Tauri command. Rejects with whatever the shell rejected with (an `ApiError` object for
 * our commands); turn it into an `AppError` with `toAppError`. Without a shell it rejects with
 * `{ kind: "no_backend" }` instead of pretending.
 */
export function invoke<C extends Command>(
  cmd: C,
  args: Commands[C]["args"],
): Promise<Commands[C]["result"]> {
  if (!hasBackend()) {
    // Rejecting with the ApiError shape on purpose: callers treat every failure alike.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject({ ...NO_BACKEND });
  }
  return tauriInvoke<Commands[C]["result"]>(cmd, args);
}

/** A native drag of files over the window (paths are absolute paths on disk). */
export type FileDropEvent =
  | { type: "enter"; paths: Array<string> }
  | { type: "over" }
  | { type: "drop"; paths: Array<string> }
  | { type: "leave" };

/**
 * Subscribes to native file drags over the window. Returns an unsubscribe function that is safe to
 * call at once (e.g. from a React effect cleanup), before the subscription has settled.
 * Without a shell there are no native drops and this does nothing.
 */
export function onFileDrop(callback: (event: FileDropEvent) => void): () => void {
  if (!hasBackend()) return () => {};
  let disposed = false;
  let unlisten: (() => void) | null = null;
  getCurrentWebview()
    .onDragDropEvent(({ payload }) => {
      if (disposed) return;
      switch (payload.type) {
        case "enter":
          callback({ type: "enter", paths: payload.paths });
          break;
        case "over":
          callback({ type: "over" });
          break;
        case "drop":
          callback({ type: "drop", paths: payload.paths });
          break;
        case "leave":
          callback({ type: "leave" });
          break;
      }
    })
    .then(
      (stop) => {
        if (disposed) stop();
        else unlisten = stop;
      },
      (reason: unknown) => {
        // Most likely the window lacks the event permission; drops then simply do nothing.
        console.warn("Capsmith: native file drops unavailable", reason);
      },
    );
  return () => {
    disposed = true;
    unlisten?.();
  };
}
