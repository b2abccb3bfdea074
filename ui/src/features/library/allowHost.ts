// Which HOST:PORT a run refused by the network guard needs allowed for its capability (a grant
// opens a private address or plain http for a host the manifest already names). Used by the
// Run tab's result and the builder's live test, so both offer the same button.
import type { CallTrace } from "../../generated/CallTrace";
import type { AppError } from "../../lib/errors";

/** The refusals a per-capability host grant (`allow_host`) can lift; every other one it cannot. */
export function isHostGrantError(kind: string): boolean {
  return kind === "private_address" || kind === "insecure_scheme";
}

/** The host as the backend compares it: lowercase, an IPv6 address without its brackets. */
function bareHost(host: string): string {
  return host.trim().replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

/** `host:port`, an IPv6 address in brackets so the port stays readable. */
function joinHostPort(host: string, port: string): string {
  const bare = bareHost(host);
  return bare.includes(":") ? `[${bare}]:${port}` : `${bare}:${port}`;
}

function hostOfHostPort(hostPort: string): string {
  return bareHost(hostPort.slice(0, hostPort.lastIndexOf(":")));
}

/**
 * "127.0.0.1:8080" for an http(s) URL, with the scheme's default port (443, 80) when it names
 * none; null when it does not parse (a template in the host, a redacted or other scheme).
 */
export function hostPortOfUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : parsed.protocol === "http:" ? "80" : "");
  if (parsed.hostname === "" || port === "") return null;
  return joinHostPort(parsed.hostname, port);
}

const SCOPE_WITH_PORT = [/^\[(.+)\]:(\d+)$/, /^([^:[\]]+):(\d+)$/];

/** The host of one entry of a manifest's scope: a URL, `host:port` (`[::1]:8080`) or a bare host. */
function hostOfScope(entry: string): string | null {
  if (entry.includes("://")) {
    const hostPort = hostPortOfUrl(entry);
    return hostPort === null ? null : hostOfHostPort(hostPort);
  }
  for (const pattern of SCOPE_WITH_PORT) {
    const m = pattern.exec(entry);
    if (m) return bareHost(m[1] ?? "");
  }
  return entry.trim() === "" ? null : bareHost(entry);
}

/**
 * One entry of the scope as HOST:PORT. A bare host means its scheme's default port, and the
 * scheme is known only from a plain-http refusal: otherwise null (it could be 80 or 443).
 */
function hostPortOfScope(entry: string, kind: string): string | null {
  if (entry.includes("://")) return hostPortOfUrl(entry);
  for (const pattern of SCOPE_WITH_PORT) {
    const m = pattern.exec(entry);
    if (m) return joinHostPort(m[1] ?? "", m[2] ?? "");
  }
  if (entry.trim() === "") return null;
  return kind === "insecure_scheme" ? joinHostPort(entry, "80") : null;
}

/**
 * The HOST:PORT to offer allowing after a run failed with `error`, or null when it is not a
 * refusal a grant lifts or the address cannot be told for sure.
 *
 * The refused URL is among `calls` (with its error) when the guard refused it after resolving
 * its name; a URL that spells a private IP, or plain http, is refused before it is sent and
 * leaves no call. Then the host the message names (its first `quoted` word) is looked up in
 * `scope`: the manifest's `allowed_domains` (`host` or `host:port`) or URLs the capability
 * calls. Never a guess between two candidates: the user allows exactly what was refused, or is
 * not offered the button (the Configure tab still takes any HOST:PORT).
 */
export function hostToAllow(
  error: AppError | null,
  calls: ReadonlyArray<CallTrace>,
  scope: ReadonlyArray<string> = [],
): string | null {
  if (error === null || !isHostGrantError(error.kind)) return null;
  const quoted = /`([^`]+)`/.exec(error.message)?.[1];
  const named = quoted === undefined ? null : bareHost(quoted);

  // A call the guard refused after resolving its name is traced with its error; a call that
  // succeeded is not what was refused, even to the same host (another port, a redirect's source).
  const failed = [...calls]
    .reverse()
    .filter((c) => c.error !== null)
    .sort((a, b) => Number(b.error === error.message) - Number(a.error === error.message))
    .map((c) => hostPortOfUrl(c.url))
    .filter((hp): hp is string => hp !== null);
  const traced = named === null ? failed[0] : failed.find((hp) => hostOfHostPort(hp) === named);
  if (traced) return traced;

  // Not sent, so not traced: the manifest says which port that host is reached on. One entry
  // that cannot say (a bare host, a URL with a template for its host) makes it a guess: none.
  const resolved = scope
    .filter((entry) => named === null || hostOfScope(entry) === named)
    .map((entry) => hostPortOfScope(entry, error.kind));
  if (resolved.some((hp) => hp === null)) return null;
  const candidates = new Set(resolved);
  return candidates.size === 1 ? ([...candidates][0] ?? null) : null;
}
