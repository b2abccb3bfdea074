// The node kinds as a registry: what the palette offers, how a node looks and which ports it has,
// what data a new one starts with, and its one-line summary. One entry per kind, so a new kind in
// `NODE_KINDS` fails to compile until it is described here.
import type { NodeDataByKind, NodeKind } from "./model";

export type NodeKindSpec<K extends NodeKind> = {
  label: string;
  icon: string;
  description: string;
  /** Has a target handle (receives a value). */
  hasInput: boolean;
  /** Source handle ids: `null` is the default handle; none for the Output node. */
  outputs: ReadonlyArray<string | null>;
  create: () => NodeDataByKind[K];
  summary: (data: NodeDataByKind[K]) => string;
};

type Registry = { [K in NodeKind]: NodeKindSpec<K> };

function firstLine(text: string | undefined, empty: string): string {
  const line = (text ?? "").split("\n").find((l) => l.trim() !== "");
  return line === undefined ? empty : line.trim();
}

function fieldList(fields: ReadonlyArray<{ name: string }> | undefined, noun: string): string {
  const names = (fields ?? []).map((f) => f.name).filter((n) => n !== "");
  if (names.length === 0) return `No ${noun}s`;
  return `${names.length} ${noun}${names.length === 1 ? "" : "s"}: ${names.join(", ")}`;
}

/** "api.example.com/v1/users" from a URL template, or the template itself. */
function shortUrl(url: string | undefined): string {
  if (!url) return "No URL yet";
  return url.replace(/^https?:\/\//, "");
}

function mappingSize(mapping: Record<string, string> | undefined): number {
  return mapping ? Object.keys(mapping).length : 0;
}

export const NODE_REGISTRY: Registry = {
  input: {
    label: "Input",
    icon: "📥",
    description: "The action's inputs, where the flow starts",
    hasInput: false,
    outputs: [null],
    create: () => ({ inputs: [] }),
    summary: (d) => fieldList(d.inputs, "input"),
  },
  api_call: {
    label: "API call",
    icon: "🌐",
    description: "An HTTP request",
    hasInput: true,
    outputs: [null],
    create: () => ({ method: "GET", url: "" }),
    summary: (d) => `${d.method ?? "GET"} ${shortUrl(d.url)}`,
  },
  transform: {
    label: "Transform",
    icon: "🔀",
    description: "Reshape a value: a mapping or a JavaScript expression",
    hasInput: true,
    outputs: [null],
    create: () => ({ mapping: {} }),
    summary: (d) =>
      d.expression
        ? firstLine(d.expression, "Expression")
        : mappingSize(d.mapping) === 0
          ? "No mapping yet"
          : `Maps ${mappingSize(d.mapping)} field${mappingSize(d.mapping) === 1 ? "" : "s"}`,
  },
  filter: {
    label: "Filter",
    icon: "🚦",
    description: "Stops the flow when the condition is false",
    hasInput: true,
    outputs: [null],
    create: () => ({ condition: "" }),
    summary: (d) => firstLine(d.condition, "No condition yet"),
  },
  branch: {
    label: "Branch",
    icon: "🔱",
    description: "Goes one way when the condition holds, the other otherwise",
    hasInput: true,
    outputs: ["true", "false"],
    create: () => ({ condition: "" }),
    summary: (d) => firstLine(d.condition, "No condition yet"),
  },
  script: {
    label: "Script",
    icon: "📜",
    description: "A sandboxed JavaScript function body",
    hasInput: true,
    outputs: [null],
    create: () => ({ code: "return input;" }),
    summary: (d) => firstLine(d.code, "Empty script"),
  },
  call_capability: {
    label: "Call capability",
    icon: "🧩",
    description: "Runs an action of another capability",
    hasInput: true,
    outputs: [null],
    create: () => ({ capability: "", action: "", version: "", input: {} }),
    summary: (d) =>
      d.capability ? `${d.capability}${d.action ? `.${d.action}` : ""}${d.version ? `@${d.version}` : ""}` : "No capability yet",
  },
  merge: {
    label: "Merge",
    icon: "🪢",
    description: "Joins the branches that ran",
    hasInput: true,
    outputs: [null],
    create: () => ({}),
    summary: () => "Merges its inputs",
  },
  output: {
    label: "Output",
    icon: "📤",
    description: "The action's result",
    hasInput: true,
    outputs: [],
    create: () => ({ outputs: [], mapping: {} }),
    summary: (d) => fieldList(d.outputs, "output"),
  },
};

/** The registry entry of a kind, typed loosely for code that handles every kind alike. */
export function specOf(kind: NodeKind): NodeKindSpec<NodeKind> {
  return NODE_REGISTRY[kind] as unknown as NodeKindSpec<NodeKind>;
}

/** A node kind this build does not know (from a newer document): shown, never offered. */
export const UNKNOWN_KIND = { label: "Unknown", icon: "❓" };
