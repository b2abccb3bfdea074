// The API call's "Auth" helper as pure functions over the document. It writes one template into
// the node's headers or query (`X-Api-Key: ${API_KEY}`, `api_key: ${API_KEY}` or
// `Authorization: Bearer ${API_KEY}`) and makes sure the capability declares that key as a secret.
// Nothing else is stored: what the helper shows is read back from the node's data, recognised by
// a value being exactly a template it writes.
import { setNodeData } from "../graph";
import { flowOf, setOptional, withFlow, type ApiCallData, type ConfigItem, type FlowDoc, type TemplateMap } from "../model";

export const AUTH_KINDS = [
  { kind: "none", label: "None" },
  { kind: "api_key_header", label: "API key in a header" },
  { kind: "api_key_query", label: "API key in the query" },
  { kind: "bearer", label: "Bearer token" },
] as const;

export type AuthKind = (typeof AUTH_KINDS)[number]["kind"];

/** Where the template goes (`name`: the header or query parameter) and which configuration key it names. */
export type Auth = { kind: AuthKind; name: string; key: string };

export const DEFAULT_AUTH_KEY = "API_KEY";

/** The header or query parameter each kind writes unless the author names another. */
export const DEFAULT_AUTH_NAME: Record<AuthKind, string> = {
  none: "",
  api_key_header: "X-Api-Key",
  api_key_query: "api_key",
  bearer: "Authorization",
};

const NO_AUTH: Auth = { kind: "none", name: "", key: DEFAULT_AUTH_KEY };

const KEY = "[A-Z][A-Z0-9_]*";
const KEY_PATTERN = new RegExp(`^${KEY}$`);
const PLAIN_TEMPLATE = new RegExp(`^\\$\\{(${KEY})\\}$`);
const BEARER_TEMPLATE = new RegExp(`^Bearer \\$\\{(${KEY})\\}$`);

/** A configuration key as the helper writes it: UPPER_SNAKE_CASE, starting with a letter. */
export function isAuthKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** What is typed in the key field, as a key: upper case, spaces and dashes as underscores. */
export function normaliseAuthKey(text: string): string {
  return text.toUpperCase().replace(/[\s-]+/g, "_");
}

/** `API_KEY` → "API key", `WEATHER_API_KEY` → "Weather API key". */
export function secretLabel(key: string): string {
  const acronyms = new Set(["API", "URL", "ID", "HTTP", "JWT"]);
  return key
    .split("_")
    .filter((w) => w !== "")
    .map((w, i) => (acronyms.has(w) ? w : i === 0 ? w.charAt(0) + w.slice(1).toLowerCase() : w.toLowerCase()))
    .join(" ");
}

function placeOf(kind: AuthKind): "headers" | "query" | null {
  if (kind === "api_key_query") return "query";
  return kind === "none" ? null : "headers";
}

function templateOf(kind: AuthKind, key: string): string {
  return kind === "bearer" ? `Bearer \${${key}}` : `\${${key}}`;
}

/** The entry names of a map compare like this: headers ignore case, query parameters do not. */
function sameName(place: "headers" | "query", a: string, b: string): boolean {
  return place === "headers" ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/**
 * The auth the node's data holds, read back from the templates the helper writes. A `${KEY}` that
 * the capability declares as a non-secret item (a tenant id, a base URL…) is not auth.
 */
export function authOf(data: ApiCallData, configuration: ReadonlyArray<ConfigItem>): Auth {
  const secretOrUndeclared = (key: string) => {
    const item = configuration.find((c) => c.key === key);
    return item === undefined || item.type === "secret";
  };
  const find = (kind: AuthKind, map: TemplateMap | undefined, pattern: RegExp, named?: string): Auth | null => {
    for (const [name, value] of Object.entries(map ?? {})) {
      if (named !== undefined && name.toLowerCase() !== named.toLowerCase()) continue;
      const key = typeof value === "string" ? pattern.exec(value)?.[1] : undefined;
      if (key !== undefined && secretOrUndeclared(key)) return { kind, name, key };
    }
    return null;
  };
  return (
    find("bearer", data.headers, BEARER_TEMPLATE, DEFAULT_AUTH_NAME.bearer) ??
    find("api_key_header", data.headers, PLAIN_TEMPLATE) ??
    find("api_key_query", data.query, PLAIN_TEMPLATE) ??
    NO_AUTH
  );
}

/**
 * `map` without the entry `remove` and with `add` (in the removed entry's place when there was
 * one, so renaming keeps the order; an entry of the same name is replaced). Empty: undefined.
 */
function replaceEntry(
  place: "headers" | "query",
  map: TemplateMap | undefined,
  remove: string | null,
  add: { name: string; value: string } | null,
): TemplateMap | undefined {
  const next: TemplateMap = {};
  let placed = false;
  for (const [name, value] of Object.entries(map ?? {})) {
    const replaced = add !== null && sameName(place, name, add.name);
    if (name === remove || replaced) {
      if (add !== null && !placed) {
        next[add.name] = add.value;
        placed = true;
      }
      continue;
    }
    next[name] = value;
  }
  if (add !== null && !placed) next[add.name] = add.value;
  return Object.keys(next).length > 0 ? next : undefined;
}

/** The node's data with the entry written for `from` taken out and the one for `to` put in. */
export function withAuth(data: ApiCallData, from: Auth, to: Auth): ApiCallData {
  let next = data;
  for (const place of ["headers", "query"] as const) {
    const remove = placeOf(from.kind) === place ? from.name : null;
    const add = placeOf(to.kind) === place ? { name: to.name, value: templateOf(to.kind, to.key) } : null;
    if (remove !== null || add !== null) next = setOptional(next, place, replaceEntry(place, next[place], remove, add));
  }
  return next;
}

/** The configuration with `key` as a secret: added (required) when missing, made a secret when not one. */
export function withSecret(configuration: ReadonlyArray<ConfigItem>, key: string): Array<ConfigItem> {
  const index = configuration.findIndex((c) => c.key === key);
  if (index < 0) return [...configuration, { key, label: secretLabel(key), type: "secret", required: true }];
  const item = configuration[index];
  if (item.type === "secret") return [...configuration];
  // A secret has no default (the backend refuses one).
  return configuration.map((c, i) => (i === index ? setOptional({ ...c, type: "secret" as const }, "default", undefined) : c));
}

/** The item the helper adds for `key`, untouched since (its label, type and required as written). */
function isHelperSecret(item: ConfigItem, key: string): boolean {
  return (
    item.key === key &&
    item.label === secretLabel(key) &&
    item.type === "secret" &&
    item.required === true &&
    Object.keys(item).length === 4
  );
}

/** Whether anything of the capability but its configuration names `${key}`. */
function isReferenced(doc: FlowDoc, key: string): boolean {
  return JSON.stringify({ ...doc.capability, configuration: undefined }).includes(`\${${key}}`);
}

/**
 * The document with node `nodeId` of `action`'s flow set to `to`, as one edit: the node's
 * template, and the secret it names declared. A key the helper stops using leaves the
 * configuration too when its item is still exactly as the helper added it and nothing else
 * names it (so typing a key, or choosing None, leaves no stray items behind).
 */
export function applyAuth(doc: FlowDoc, action: string, nodeId: string, to: Auth): FlowDoc {
  const node = flowOf(doc, action)?.nodes.find((n) => n.id === nodeId);
  if (node === undefined || node.type !== "api_call") return doc;
  const from = authOf(node.data, doc.capability.configuration ?? []);
  if (from.kind === to.kind && from.name === to.name && from.key === to.key) return doc;

  const data = withAuth(node.data, from, to);
  const next = withFlow(doc, action, (f) => setNodeData(f, nodeId, data));
  let configuration = next.capability.configuration ?? [];
  if (to.kind !== "none") configuration = withSecret(configuration, to.key);
  const dropped = from.kind !== "none" && (to.kind === "none" || to.key !== from.key) ? from.key : null;
  if (dropped !== null && !isReferenced(next, dropped)) {
    configuration = configuration.filter((c) => !isHelperSecret(c, dropped));
  }
  return {
    ...next,
    capability: { ...next.capability, configuration: configuration.length > 0 ? configuration : undefined },
  };
}

/** Why `name` cannot be the header or query parameter (null: it can). `others`: the entries besides the helper's. */
export function authNameProblem(kind: AuthKind, name: string, others: ReadonlyArray<string>): string | null {
  const place = placeOf(kind);
  if (place === null) return null;
  if (name === "") return place === "headers" ? "Name the header." : "Name the query parameter.";
  if (place === "headers" && !/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) {
    return "Letters, digits and - _ . ! # $ % & ' * + ^ ` | ~ only.";
  }
  if (place === "query" && /[\s&=#?]/.test(name)) return "No spaces or & = # ? in a query parameter name.";
  if (others.some((o) => sameName(place, o, name))) return `The node already has “${name}”.`;
  return null;
}
