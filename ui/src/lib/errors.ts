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
  | "unexpected" // anything that is not an ApiError at all
  | "invalid_argument" // a setting or configuration value the backend refused
  | "in_use" // a capability another one (or an agent) still needs
  | "consent_required" // adding to an agent (or running an installed version) needs more consent
  | "unresolvable" // no versions satisfy every dependency; the message explains
  | "tests_failing" // publishing refused while a test fails
  | "secrets_withheld" // a builder run would use secrets beyond the saved version
  | "unavailable_action" // a step calls something this version does not provide
  | "keyring_unavailable" // no OS keyring to keep secrets in; the message says how to fix it
  // The marketplace: the server, the package and its signature.
  | "market_unreachable" // the marketplace cannot be reached; the cache still works
  | "market" // the marketplace answered with an error (its code is in the message)
  | "market_unauthorized" // no token, or one the marketplace does not know: sign in
  | "market_forbidden" // the account may not do this (not the publisher, not an org admin)
  | "market_not_found" // the marketplace has no such capability or version (for you)
  | "payment_required" // a paid capability without an entitlement
  | "namespace_taken" // another publisher owns this id
  | "version_exists" // versions are immutable: bump it
  | "rate_limited" // too many requests; try again shortly
  | "signature_invalid" // the package's signature does not verify
  | "package_tampered" // the archive does not match its published checksum
  | "package_invalid" // the archive is not a valid capability package
  | "publisher_key_changed" // signed with another key than the one pinned at the last install
  | "yanked" // the publisher withdrew this version
  | "listing_mismatch" // the marketplace's listing does not match the signed package; the message says how
  | "id_taken" // the library already holds this id from another source: replace it or keep it
  | "revoked" // the marketplace revoked this version (a security problem): it does not run
  // A run that failed (RunReport.error): the action's own failures…
  | "missing_config"
  | "oauth_not_connected"
  | "oauth" // obtaining or refreshing an OAuth2 token failed
  | "invalid_input"
  | "unknown_action"
  | "not_runnable"
  | "http_status"
  | "not_json"
  | "mapping_empty"
  | "mapping_path"
  | "output_type"
  | "timeout"
  | "network"
  | "bad_request"
  // …and the network guard's refusals (security violations).
  | "domain_not_allowed"
  | "permission_denied"
  | "call_budget_exceeded"
  | "insecure_scheme"
  | "private_address"
  | "too_many_redirects"
  | "header_injection"
  | "response_too_large"
  | "response_headers_too_large"
  | "bad_scheme";

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
    case "in_use":
      return "Still in use";
    case "consent_required":
      return "Your consent is needed";
    case "unresolvable":
      return "The versions cannot be reconciled";
    case "secrets_withheld":
      return "Save the draft first";
    case "unavailable_action":
      return "That action is not available";
    case "tests_failing":
      return "Tests are failing";
    case "not_found":
      return "Not found";
    case "read_failed":
      return "Could not read the file";
    case "ipc":
      return "The app could not run this command";
    case "unexpected":
      return "Something went wrong";
    case "invalid_argument":
      return "This value is not accepted";
    case "keyring_unavailable":
      return "The system keyring is unavailable";
    case "market_unreachable":
      return "The marketplace cannot be reached";
    case "market":
      return "The marketplace refused";
    case "market_unauthorized":
      return "Sign in to the marketplace";
    case "market_forbidden":
      return "The marketplace does not allow this";
    case "market_not_found":
      return "Not in the marketplace";
    case "payment_required":
      return "This capability is paid";
    case "namespace_taken":
      return "This id belongs to another publisher";
    case "version_exists":
      return "This version is already published";
    case "rate_limited":
      return "Too many requests";
    case "signature_invalid":
      return "The signature does not verify";
    case "package_tampered":
      return "The package was altered";
    case "package_invalid":
      return "The package is not valid";
    case "publisher_key_changed":
      return "The publisher's key changed";
    case "yanked":
      return "This version was withdrawn";
    case "listing_mismatch":
      return "The listing does not match the package";
    case "id_taken":
      return "Your library already has a capability with this id";
    case "revoked":
      return "Revoked by the marketplace";
    case "missing_config":
      return "Configuration is missing";
    case "oauth_not_connected":
      return "OAuth2 is not connected";
    case "oauth":
      return "OAuth2 failed";
    case "invalid_input":
      return "The input is not valid";
    case "unknown_action":
      return "No such action";
    case "not_runnable":
      return "This kind of capability cannot run here yet";
    case "http_status":
      return "The API answered with an error";
    case "not_json":
      return "The response is not JSON";
    case "mapping_empty":
      return "The response did not contain the expected data";
    case "mapping_path":
      return "The response mapping is invalid";
    case "output_type":
      return "The output has the wrong type";
    case "timeout":
      return "The request timed out";
    case "network":
      return "Network error";
    case "bad_request":
      return "The request could not be built";
    case "domain_not_allowed":
      return "This domain is not allowed";
    case "permission_denied":
      return "This request needs a permission the capability lacks";
    case "call_budget_exceeded":
      return "Too many network calls";
    case "insecure_scheme":
      return "Plain HTTP was refused";
    case "private_address":
      return "A private address was refused";
    case "too_many_redirects":
      return "Too many redirects";
    case "header_injection":
      return "A header was refused";
    case "response_too_large":
      return "The response is too large";
    case "response_headers_too_large":
      return "The response headers are too large";
    case "bad_scheme":
      return "This URL scheme is not allowed";
    default:
      return "Something went wrong";
  }
}

/** Kinds fixed by entering configuration (a secret, a token) on the Configure tab. */
export function isConfigurationError(kind: string): boolean {
  return kind === "missing_config" || kind === "oauth_not_connected" || kind === "oauth";
}

/** "line 3, column 7", "line 3", or null. */
export function describeLocation(line: number | null, column: number | null): string | null {
  if (line === null) return null;
  return column === null ? `line ${line}` : `line ${line}, column ${column}`;
}
