// A run's outcome as a small coloured label: OK, Error or Denied, with a shield for guard refusals.
import { statusLook } from "./registry";

type RunStatusBadgeProps = { status: string; securityViolation: boolean };

export function RunStatusBadge({ status, securityViolation }: RunStatusBadgeProps) {
  const look = statusLook(status);
  return (
    <span className={`run-status run-status-${look.tone}`} data-status={status} title={look.description}>
      <span className="run-status-dot" aria-hidden="true" />
      {look.label}
      {securityViolation && (
        <span role="img" aria-label="Security violation" title="Blocked by the network guard">
          🛡️
        </span>
      )}
    </span>
  );
}
