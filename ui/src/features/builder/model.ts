// The flow document the builder edits (docs/flow-format.md): a capability manifest of `type: flow`
// whose `flows` hold one node graph per action. It crosses to the backend as plain JSON, so these
// types are written here rather than generated. Every update spreads the objects it changes, so
// fields the builder does not know (permissions, examples, auth…) round-trip untouched.

export const NODE_KINDS = [
  "input",
  "api_call",
  "transform",
  "filter",
  "branch",
  "script",
  "call_capability",
  "merge",
  "output",
] as const;

export type NodeKind = (typeof NODE_KINDS)[number];

export function isNodeKind(value: string): value is NodeKind {
  return (NODE_KINDS as ReadonlyArray<string>).includes(value);
}

export const FIELD_TYPES = ["string", "number", "integer", "boolean", "object", "array", "file", "any"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** An input of the Input node or an output of the Output node. */
export type FlowField = {
  name: string;
  type: FieldType;
  required?: boolean;
  description?: string;
  default?: unknown;
  enum?: Array<unknown>;
};

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** `{name: template}` maps: headers, query, mapping, call input. Order is the author's. */
export type TemplateMap = Record<string, string>;

export type InputData = {
  inputs?: Array<FlowField>;
  // Workflow-level flows only.
  trigger?: string;
  schedule?: string;
  filter?: string;
  error_handling?: { on_error?: string; retry?: number; backoff_ms?: number };
};

export type ApiCallData = {
  method?: HttpMethod;
  url?: string;
  headers?: TemplateMap;
  query?: TemplateMap;
  body?: unknown;
  timeout_ms?: number;
};

export type TransformData = { mapping?: TemplateMap; expression?: string };
export type ConditionData = { condition?: string };
export type ScriptData = { code?: string };

export type CallCapabilityData = {
  capability?: string;
  action?: string;
  version?: string;
  input?: TemplateMap;
  // Kept from workflow steps the backend imported.
  params?: Record<string, unknown>;
  output?: string;
  when?: string;
  retry?: number;
};

export type MergeData = Record<string, never>;
export type OutputData = { outputs?: Array<FlowField>; mapping?: TemplateMap };

export type NodeDataByKind = {
  input: InputData;
  api_call: ApiCallData;
  transform: TransformData;
  filter: ConditionData;
  branch: ConditionData;
  script: ScriptData;
  call_capability: CallCapabilityData;
  merge: MergeData;
  output: OutputData;
};

export type Position = { x: number; y: number };

/**
 * A node as stored. `type` is a string because a document may name a kind this build does not
 * know (the backend reports it); `known` gives the typed view.
 */
export type FlowNode = { id: string; type: string; position: Position; data: Record<string, unknown> };

/** One node per kind, with that kind's data: what the inspector's forms switch on. */
export type KnownNode = {
  [K in NodeKind]: { id: string; type: K; position: Position; data: NodeDataByKind[K] };
}[NodeKind];

export function known(node: FlowNode): KnownNode | null {
  return isNodeKind(node.type) ? (node as KnownNode) : null;
}

export type FlowEdge = {
  id: string;
  source: string;
  source_handle?: string | null;
  target: string;
  target_handle?: string | null;
};

export type Viewport = { x: number; y: number; zoom: number };

export type Flow = { action: string; nodes: Array<FlowNode>; edges: Array<FlowEdge>; viewport?: Viewport };

export type FlowAction = { id: string; name?: string; description?: string };

export const CONFIG_TYPES = ["secret", "string", "number", "boolean"] as const;
export type ConfigType = (typeof CONFIG_TYPES)[number];

export type ConfigItem = {
  key: string;
  label?: string;
  type?: ConfigType;
  required?: boolean;
  help_url?: string;
  description?: string;
  default?: unknown;
};

export type TestCase = {
  name?: string;
  action?: string;
  input: unknown;
  expected_output?: unknown;
  assert?: string;
};

export type FlowCapability = {
  id: string;
  name: string;
  icon?: string;
  version?: string;
  description?: string;
  category?: string;
  tags?: Array<string>;
  type?: string;
  actions?: Array<FlowAction>;
  flows: Array<Flow>;
  configuration?: Array<ConfigItem>;
  tests?: Array<TestCase>;
};

export type FlowDoc = { format_version?: number; capability: FlowCapability };

/** The action name a workflow without actions uses for its one flow. */
export const WORKFLOW_FLOW = "workflow";

/** A capability id: lowercase letters, digits and single dashes. */
export function slugify(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** `api_call_3` when `api_call_1` and `api_call_2` are taken (never reuses a gap's number). */
export function nextNodeId(kind: string, nodes: ReadonlyArray<{ id: string }>, taken: ReadonlySet<string> = new Set()): string {
  const prefix = `${kind}_`;
  let max = 0;
  for (const node of nodes) {
    if (!node.id.startsWith(prefix)) continue;
    const n = Number(node.id.slice(prefix.length));
    if (Number.isInteger(n) && n > max) max = n;
  }
  for (const id of taken) {
    const n = id.startsWith(prefix) ? Number(id.slice(prefix.length)) : NaN;
    if (Number.isInteger(n) && n > max) max = n;
  }
  return `${prefix}${max + 1}`;
}

/** `e7` after the highest `e<n>` in the flow. */
export function nextEdgeId(edges: ReadonlyArray<{ id: string }>): string {
  let max = 0;
  for (const edge of edges) {
    const n = /^e(\d+)$/.exec(edge.id)?.[1];
    if (n !== undefined) max = Math.max(max, Number(n));
  }
  return `e${max + 1}`;
}

/** A node `starterFlow` places between the Input and Output nodes. */
export type StarterStep = { type: NodeKind; data: Record<string, unknown> };

/** How far apart, left to right, a starter flow's nodes stand. */
const STARTER_SPACING = 420;

/**
 * A fresh flow for an action: an Input node feeding an Output node, with `steps` chained in
 * between (ids from the usual counter: input_1, api_call_1, output_1).
 */
export function starterFlow(action: string, steps: ReadonlyArray<StarterStep> = []): Flow {
  const chain: Array<StarterStep> = [
    { type: "input", data: { inputs: [] } },
    ...steps,
    { type: "output", data: { outputs: [], mapping: {} } },
  ];
  const nodes: Array<FlowNode> = [];
  for (const [i, step] of chain.entries()) {
    nodes.push({ id: nextNodeId(step.type, nodes), type: step.type, position: { x: i * STARTER_SPACING, y: 80 }, data: step.data });
  }
  const edges: Array<FlowEdge> = [];
  for (let i = 1; i < nodes.length; i++) {
    edges.push({ id: nextEdgeId(edges), source: nodes[i - 1].id, target: nodes[i].id });
  }
  return { action, nodes, edges };
}

/** The action a new capability starts with. */
export const FIRST_ACTION = "run";

/** The document "New capability" starts from: one action, `run`, with `flow` (Input → Output by default). */
export function newDoc(name: string, id: string, flow: Flow = starterFlow(FIRST_ACTION)): FlowDoc {
  return {
    capability: {
      id,
      name,
      version: "0.1.0",
      type: "flow",
      actions: [{ id: flow.action, name: "Run" }],
      flows: [flow],
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Makes what `builder_open` returned safe to edit: arrays where the editor expects them, a data
 * object on every node, and a flow for every action (a flow document always has one).
 */
export function normaliseDoc(raw: unknown): FlowDoc {
  const root = isRecord(raw) ? raw : {};
  const cap = isRecord(root.capability) ? root.capability : {};
  const flows = (Array.isArray(cap.flows) ? cap.flows : []).filter(isRecord).map((f): Flow => ({
    ...f,
    action: typeof f.action === "string" ? f.action : "",
    nodes: (Array.isArray(f.nodes) ? f.nodes : []).filter(isRecord).map((n) => ({
      ...n,
      id: String(n.id),
      type: String(n.type),
      position: isRecord(n.position)
        ? { x: Number(n.position.x) || 0, y: Number(n.position.y) || 0 }
        : { x: 0, y: 0 },
      data: isRecord(n.data) ? n.data : {},
    })),
    edges: (Array.isArray(f.edges) ? f.edges : []).filter(isRecord) as Array<FlowEdge>,
  }));
  const actions = Array.isArray(cap.actions) ? (cap.actions as Array<FlowAction>) : undefined;
  for (const action of actions ?? []) {
    if (!flows.some((f) => f.action === action.id)) flows.push(starterFlow(action.id));
  }
  if (flows.length === 0) flows.push(starterFlow(actions?.[0]?.id ?? "run"));
  return {
    ...root,
    capability: {
      ...cap,
      id: typeof cap.id === "string" ? cap.id : "",
      name: typeof cap.name === "string" ? cap.name : "",
      actions,
      flows,
    },
  };
}

/** The flow of an action, if the document has one. */
export function flowOf(doc: FlowDoc, action: string): Flow | undefined {
  return doc.capability.flows.find((f) => f.action === action);
}

/** Replaces the flow of `action` (a no-op returning `doc` when the recipe changed nothing). */
export function withFlow(doc: FlowDoc, action: string, recipe: (flow: Flow) => Flow): FlowDoc {
  const flows = doc.capability.flows;
  const index = flows.findIndex((f) => f.action === action);
  const current = flows[index];
  if (current === undefined) return doc;
  const next = recipe(current);
  if (next === current) return doc;
  return { ...doc, capability: { ...doc.capability, flows: flows.map((f, i) => (i === index ? next : f)) } };
}

/** Sets `key` on an object, leaving it out when the value is empty (so the manifest stays tidy). */
export function setOptional<T extends object, K extends keyof T>(object: T, key: K, value: T[K] | undefined | ""): T {
  const next = { ...object };
  if (value === undefined || value === "") delete next[key];
  else next[key] = value;
  return next;
}

const NO_FIELDS: Array<FlowField> = [];

/**
 * The fields the Input node of a flow declares (the action's inputs): the document's own array,
 * or one shared empty array, so a store selector can return it without rendering every time.
 */
export function flowInputs(flow: Flow | undefined): ReadonlyArray<FlowField> {
  const node = flow?.nodes.find((n) => n.type === "input");
  const inputs = node ? (node.data as InputData).inputs : undefined;
  return Array.isArray(inputs) ? inputs : NO_FIELDS;
}

/** The document with action `from` called `to`: its entry, its flow and its tests. */
export function renameActionIn(doc: FlowDoc, from: string, to: string): FlowDoc {
  if (from === to) return doc;
  const cap = doc.capability;
  return {
    ...doc,
    capability: {
      ...cap,
      actions: cap.actions?.map((a) => (a.id === from ? { ...a, id: to } : a)),
      flows: cap.flows.map((f) => (f.action === from ? { ...f, action: to } : f)),
      tests: cap.tests?.map((t) => (t.action === from ? { ...t, action: to } : t)),
    },
  };
}
