// How run statuses and origins from the audit log are named and coloured. The backend sends them
// as strings, so unknown values fall back to a neutral look instead of failing.

export type RunTone = "ok" | "error" | "denied" | "unknown";

type StatusLook = { label: string; icon: string; tone: RunTone; description: string };

export const RUN_STATUSES: Record<string, StatusLook> = {
  ok: { label: "OK", icon: "✅", tone: "ok", description: "The action ran and produced its output" },
  error: { label: "Error", icon: "❌", tone: "error", description: "The action failed" },
  denied: {
    label: "Denied",
    icon: "🛡️",
    tone: "denied",
    description: "The network guard refused a request",
  },
};

export function statusLook(status: string): StatusLook {
  return RUN_STATUSES[status] ?? { label: status, icon: "•", tone: "unknown", description: status };
}

export const ORIGINS: Record<string, { label: string; description: string }> = {
  app: { label: "App", description: "Run from this app" },
  cli: { label: "CLI", description: "Run with the capsmith command" },
  test: { label: "Test", description: "Run as part of the capability's tests" },
};

export function originLook(origin: string) {
  return ORIGINS[origin] ?? { label: origin, description: origin };
}
