// Small coloured labels for a capability's kind and status.
import type { CapabilityKind } from "../../generated/CapabilityKind";
import type { CapabilityStatus } from "../../generated/CapabilityStatus";
import { KINDS, STATUSES } from "./registry";

export function KindBadge({ kind }: { kind: CapabilityKind }) {
  const look = KINDS[kind] ?? { label: kind, tone: "gray", description: "" };
  return (
    <span className={`badge badge-${look.tone}`} title={look.description} data-kind={kind}>
      {look.label}
    </span>
  );
}

export function StatusBadge({ status }: { status: CapabilityStatus }) {
  const look = STATUSES[status] ?? { label: status, tone: "gray" };
  return (
    <span className={`badge badge-outline badge-${look.tone}`} data-status={status}>
      <span className="badge-dot" aria-hidden="true" />
      {look.label}
    </span>
  );
}
