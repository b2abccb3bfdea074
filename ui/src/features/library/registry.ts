// How each capability kind and status is named and coloured, one entry per variant so a new
// variant in the generated types fails to compile until it is described here.
import type { CapabilityKind } from "../../generated/CapabilityKind";
import type { CapabilityStatus } from "../../generated/CapabilityStatus";
import type { Severity } from "../../generated/Severity";

type BadgeLook = { label: string; tone: "blue" | "violet" | "teal" | "amber" | "pink" | "green" | "gray" | "red" };

export const KINDS: Record<CapabilityKind, BadgeLook & { description: string }> = {
  declarative: { label: "Declarative", tone: "blue", description: "Described entirely in YAML or JSON" },
  code: { label: "Code", tone: "violet", description: "A sandboxed JavaScript module" },
  "api-connector": { label: "API connector", tone: "teal", description: "Calls an external HTTP API" },
  workflow: { label: "Workflow", tone: "amber", description: "Runs a sequence of steps" },
  flow: { label: "Flow", tone: "pink", description: "Built visually in the flow builder" },
};

export const STATUSES: Record<CapabilityStatus, BadgeLook> = {
  draft: { label: "Draft", tone: "gray" },
  published: { label: "Published", tone: "green" },
  deprecated: { label: "Deprecated", tone: "red" },
};

export const SEVERITIES: Record<Severity, { icon: string; label: string }> = {
  error: { icon: "❌", label: "Error" },
  warning: { icon: "⚠️", label: "Warning" },
};

/** The emoji shown when a manifest has no icon. */
export const FALLBACK_ICON = "🧩";
