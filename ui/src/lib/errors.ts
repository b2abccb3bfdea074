// Failures as the UI sees them: every rejected backend call becomes an `AppError` whose `kind`
// the UI switches on (never on the message text).
import type { ApiError } from "../generated/ApiError";
import type { ErrorKind } from "../generated/ErrorKind";

/** Kinds only the UI produces: the backend's are `ErrorKind`, generated from Rust. */
export type UiErrorKind =
  | "no_backend" // running in a plain browser, outside the desktop shell
  | "read_failed" // the picked file could not be read in the webview
  | "ipc" // the shell rejected the call itself (unknown command, bad arguments)
  | "unexpected"; // anything that is not an ApiError at all

/** Every kind an `AppError` can have: a switch over it is checked by the compiler. */
export type KnownErrorKind = ErrorKind | UiErrorKind;

export type AppError = Omit<ApiError, "kind"> & { kind: KnownErrorKind };

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
        // The backend sends only `ErrorKind`s (one enum, generated into TypeScript).
        kind: r.kind as ErrorKind,
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

/** A short human title for each kind: the compiler refuses a kind without one. */
const TITLES: Record<KnownErrorKind, string> = {
  agent_not_found: "No such agent",
  ai_answer: "The model's answer was unusable",
  bad_request: "The request could not be built",
  bad_scheme: "This URL scheme is not allowed",
  budget_exceeded: "The agent's budget is spent",
  call_budget_exceeded: "Too many network calls",
  consent_required: "Your consent is needed",
  corrupt_record: "A stored record is damaged",
  data: "The capability's data refused this",
  database: "The library's database failed",
  domain_not_allowed: "This domain is not allowed",
  email: "The email could not be sent",
  extract_failed: "The document could not be read",
  file_not_found: "The file does not exist",
  file_refused: "This file may not be used",
  header_injection: "A header was refused",
  http_status: "The API answered with an error",
  id_taken: "Your library already has a capability with this id",
  in_use: "Still in use",
  insecure_scheme: "Plain HTTP was refused",
  invalid_argument: "This value is not accepted",
  invalid_flow: "The flow cannot run",
  invalid_input: "The input is not valid",
  invalid_manifest: "This capability is not valid",
  invalid_schema: "The schema is not valid",
  io: "A file could not be read or written",
  js_error: "The code threw an error",
  keyring_unavailable: "The system keyring is unavailable",
  listing_mismatch: "The listing does not match the package",
  mapping_empty: "The response did not contain the expected data",
  mapping_path: "The response mapping is invalid",
  market: "The marketplace refused",
  market_forbidden: "The marketplace does not allow this",
  market_not_found: "Not in the marketplace",
  market_unauthorized: "Sign in to the marketplace",
  market_unreachable: "The marketplace cannot be reached",
  migration: "The library could not be upgraded",
  missing_config: "Configuration is missing",
  namespace_taken: "This id belongs to another publisher",
  network: "Network error",
  never_settles: "The code never finished",
  no_default_export: "The module exports nothing",
  no_home_dir: "No place for the library",
  not_configured: "This needs setting up first",
  not_found: "Not found",
  not_json: "The response is not JSON",
  not_runnable: "This kind of capability cannot run here yet",
  oauth: "OAuth2 failed",
  oauth_not_connected: "OAuth2 is not connected",
  out_of_memory: "The code ran out of memory",
  output_too_large: "The output is too large",
  output_type: "The output has the wrong type",
  package_invalid: "The package is not valid",
  package_tampered: "The package was altered",
  payment_required: "This capability is paid",
  permission_denied: "This request needs a permission the capability lacks",
  private_address: "A private address was refused",
  publisher_key_changed: "The publisher's key changed",
  rate_limited: "Too many requests",
  response_headers_too_large: "The response headers are too large",
  response_too_large: "The response is too large",
  revoked: "Revoked by the marketplace",
  sandbox: "The sandbox refused",
  sandbox_crashed: "The sandbox stopped",
  sandbox_unavailable: "The sandbox is not available",
  sandbox_unconfined: "The sandbox could not confine itself",
  schema_mismatch: "The data does not match its schema",
  secret_outside_http: "A secret may only go into a request",
  secrets_withheld: "Save the draft first",
  signature_invalid: "The signature does not verify",
  stack_overflow: "The code recursed too deeply",
  tests_failing: "Tests are failing",
  timeout: "The request timed out",
  too_many_redirects: "Too many redirects",
  unavailable_action: "That action is not available",
  unknown_action: "No such action",
  unresolvable: "The versions cannot be reconciled",
  version_conflict: "This version is already in your library",
  version_exists: "This version is already published",
  yanked: "This version was withdrawn",
  no_backend: "The desktop app is needed",
  read_failed: "Could not read the file",
  ipc: "The app could not run this command",
  unexpected: "Something went wrong",
};

/** A short human title for an error, chosen by kind. */
export function errorTitle(error: AppError): string {
  return TITLES[error.kind] ?? "Something went wrong";
}

/** Kinds fixed by entering configuration (a secret, a token) on the Configure tab. */
export function isConfigurationError(kind: KnownErrorKind): boolean {
  return kind === "missing_config" || kind === "oauth_not_connected" || kind === "oauth";
}

/** "line 3, column 7", "line 3", or null. */
export function describeLocation(line: number | null, column: number | null): string | null {
  if (line === null) return null;
  return column === null ? `line ${line}` : `line ${line}, column ${column}`;
}
