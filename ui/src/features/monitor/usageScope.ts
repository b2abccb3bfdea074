// What the Usage figures cover: everything, one capability or one agent, over 7, 30 or 90 days.
// The scope select encodes a scope as its option value (`all`, `capability:<id>`, `agent:<id>`).
import type { Commands } from "../../lib/backend";

export type UsageScope = { kind: "all" } | { kind: "capability"; id: string } | { kind: "agent"; id: string };

export const EVERYTHING: UsageScope = { kind: "all" };

export const USAGE_DAYS = [7, 30, 90] as const;
export type UsageDays = (typeof USAGE_DAYS)[number];

export function scopeValue(scope: UsageScope): string {
  return scope.kind === "all" ? "all" : `${scope.kind}:${scope.id}`;
}

export function parseScope(value: string): UsageScope {
  const colon = value.indexOf(":");
  const kind = value.slice(0, colon);
  const id = value.slice(colon + 1);
  if (colon > 0 && id !== "" && (kind === "capability" || kind === "agent")) return { kind, id };
  return EVERYTHING;
}

export function statsArgs(scope: UsageScope, days: number): Commands["stats"]["args"] {
  return {
    capability: scope.kind === "capability" ? scope.id : null,
    agent: scope.kind === "agent" ? scope.id : null,
    days,
  };
}
