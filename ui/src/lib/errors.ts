// Failures as the UI sees them: every rejected backend call becomes an `AppError` whose `kind`
// the UI switches on (never on the message text).
import type { ApiError } from "../generated/ApiError";

/**
 * Kinds the UI gives special treatment. The backend may send others; they are shown with their
 * kind and message as they are.
 */
export type KnownErrorKind =
  | "no_backend" // running in a plain browser, outside the desktop shell
  | "invalid_manifest"
  | "version_conflict"
  | "not_found"
  | "read_failed" // the picked file could not be read in the webview
  | "ipc" // the shell rejected the call itself (unknown command, bad arguments)
  | "unexpected"; // anything that is not an ApiError at all

export type AppError = ApiError;

export const NO_BACKEND: AppError = {
  kind: "no_backend",
  message: "Open Capsmith in the desktop app",
  path: null,
  line: null,
  column: null,
  report: null,
};

function plain(kind: KnownErrorKind, message: string): AppError {
  return { kind, message, path: null, line: null, column: null, report: null };
}

function optionalString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function optionalNumber(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}

/** Turns whatever a rejected call produced into an `AppError`. */
export function toAppError(reason: unknown): AppError {
  if (typeof reason === "object" && reason !== null && "kind" in reason) {
    const r = reason as Record<string, unknown>;
    if (typeof r.kind === "string") {
      return {
        kind: r.kind,
        message: typeof r.message === "string" ? r.message : r.kind,
        path: optionalString(r.path),
        line: optionalNumber(r.line),
        column: optionalNumber(r.column),
        report: typeof r.report === "object" && r.report !== null ? (r.report as AppError["report"]) : null,
      };
    }
  }
  // Tauri rejects with a bare string when the call never reached a command.
  if (typeof reason === "string") return plain("ipc", reason);
  if (reason instanceof Error) return plain("unexpected", reason.message);
  return plain("unexpected", String(reason));
}

export function readFailed(fileName: string, reason: unknown): AppError {
  const detail = reason instanceof Error ? `: ${reason.message}` : "";
  return plain("read_failed", `Could not read ${fileName}${detail}`);
}

/** A short human title for an error, chosen by kind. */
export function errorTitle(error: AppError): string {
  switch (error.kind as KnownErrorKind) {
    case "no_backend":
      return "The desktop app is needed";
    case "invalid_manifest":
      return "This capability is not valid";
    case "version_conflict":
      return "This version is already in your library";
    case "not_found":
      return "Not found";
    case "read_failed":
      return "Could not read the file";
    case "ipc":
      return "The app could not run this command";
    case "unexpected":
      return "Something went wrong";
    default:
      return "Something went wrong";
  }
}

/** "line 3, column 7", "line 3", or null. */
export function describeLocation(line: number | null, column: number | null): string | null {
  if (line === null) return null;
  return column === null ? `line ${line}` : `line ${line}, column ${column}`;
}
