// The wizard's steps, in order.
export const STEPS = [
  { key: "basics", label: "Basics" },
  { key: "actions", label: "Actions" },
  { key: "configuration", label: "Configuration" },
  { key: "test", label: "Test" },
] as const;

export type Step = (typeof STEPS)[number]["key"];

/** The wizard step a finding without a target belongs to, from its document path. */
export function stepOfPath(path: string | null): Step {
  if (path === null) return "basics";
  if (path.startsWith("capability.configuration")) return "configuration";
  if (path.startsWith("capability.tests") || path.startsWith("capability.examples")) return "test";
  if (path.startsWith("capability.actions") || path.startsWith("capability.flows")) return "actions";
  return "basics";
}
