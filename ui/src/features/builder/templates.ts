// The starting points "New capability" offers: a blank flow (Input → Output), an API connector
// (Input → API call → Output) and a script (Input → Script → Output). A template with a middle
// node opens with that node selected, so its settings are the first thing in the inspector.
import { FIRST_ACTION, newDoc, starterFlow, type FlowDoc, type NodeKind } from "./model";
import { NODE_REGISTRY } from "./nodeKinds";

export type StarterTemplate = {
  /** Names the test hook: template-<key>. */
  key: "blank" | "api" | "script";
  label: string;
  icon: string;
  description: string;
  /** The node between Input and Output, if any. */
  middle: NodeKind | null;
};

export const STARTER_TEMPLATES: ReadonlyArray<StarterTemplate> = [
  { key: "blank", label: "Blank flow", icon: "✨", description: "Input → Output. Add the nodes you need from the palette.", middle: null },
  {
    key: "api",
    label: "API connector",
    icon: NODE_REGISTRY.api_call.icon,
    description: "Input → API call → Output: call an HTTP API (URL, method, auth) and map its response.",
    middle: "api_call",
  },
  {
    key: "script",
    label: "Script",
    icon: NODE_REGISTRY.script.icon,
    description: "Input → Script → Output: a sandboxed JavaScript function computes the result.",
    middle: "script",
  },
];

/** A new document from a template, and the node to select when it opens (null: none). */
export function templateDoc(template: StarterTemplate, name: string, id: string): { doc: FlowDoc; selected: string | null } {
  const middle = template.middle;
  const flow = starterFlow(FIRST_ACTION, middle === null ? [] : [{ type: middle, data: NODE_REGISTRY[middle].create() }]);
  const selected = middle === null ? null : (flow.nodes.find((n) => n.type === middle)?.id ?? null);
  return { doc: newDoc(name, id, flow), selected };
}
