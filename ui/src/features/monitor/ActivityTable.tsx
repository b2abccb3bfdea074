// Rows of the audit log: when, (which capability,) what, from where, how it ended, how long, and
// what went over the network. Used by a capability's Activity tab and the Activity page.
import type { ExecutionView } from "../../generated/ExecutionView";
import { formatBytes, formatDuration, formatExact, formatRelative } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { originLook } from "./registry";
import { RunStatusBadge } from "./RunStatusBadge";

export type CapabilityLabel = { name: string; icon: string | null };

type ActivityTableProps = {
  runs: Array<ExecutionView>;
  caption: string;
  /** Set on the Activity page: adds a capability column and makes rows open the capability. */
  capabilities?: {
    labels: Map<string, CapabilityLabel>;
    /** False when the names could not be listed: then every row stays openable. */
    labelsLoaded: boolean;
    onOpen: (id: string) => void;
  };
};

const RELATIVE_REFRESH_MS = 30_000;

export function ActivityTable({ runs, caption, capabilities }: ActivityTableProps) {
  const now = useNow(RELATIVE_REFRESH_MS);
  return (
    <div className="table-scroll">
      <table className="table activity-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            {capabilities && <th scope="col">Capability</th>}
            <th scope="col">Action</th>
            <th scope="col">Origin</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col" className="num">
              Calls
            </th>
            <th scope="col" className="num">
              In / out
            </th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const origin = originLook(run.origin);
            const label = capabilities?.labels.get(run.capability);
            // A run of a capability no longer in the library has nothing to open.
            const openable = capabilities !== undefined && (label !== undefined || !capabilities.labelsLoaded);
            return (
              <tr
                key={String(run.id)}
                data-testid="activity-row"
                data-id={String(run.id)}
                data-capability={run.capability}
                data-status={run.status}
                data-origin={run.origin}
                className={openable ? "is-clickable" : undefined}
                onClick={openable ? () => capabilities.onOpen(run.capability) : undefined}
              >
                <td className="nowrap">
                  <time dateTime={run.started_at} title={formatExact(run.started_at)}>
                    {formatRelative(run.started_at, now)}
                  </time>
                </td>
                {capabilities && (
                  <td>
                    {openable ? (
                      <button
                        type="button"
                        className="link-button"
                        title={`Open ${label?.name ?? run.capability}`}
                        onClick={(e) => {
                          // The row handles the click too; open once.
                          e.stopPropagation();
                          capabilities.onOpen(run.capability);
                        }}
                      >
                        {label ? (
                          <>
                            <span aria-hidden="true">{label.icon ?? "🧩"} </span>
                            {label.name}
                          </>
                        ) : (
                          <span className="mono">{run.capability}</span>
                        )}
                      </button>
                    ) : (
                      <span className="mono" title="No longer in your library">
                        {run.capability}
                      </span>
                    )}
                    {label ? (
                      <span className="mono muted small block">{run.capability}</span>
                    ) : (
                      !openable && <span className="muted small block">removed</span>
                    )}
                  </td>
                )}
                <td>
                  {run.action ? <code className="mono nowrap">{run.action}</code> : <span className="muted">—</span>}
                  {run.version && <span className="muted small block">v{run.version}</span>}
                </td>
                <td>
                  <span className={`origin origin-${run.origin}`} title={origin.description}>
                    {origin.label}
                  </span>
                </td>
                <td>
                  <RunStatusBadge status={run.status} securityViolation={run.security_violation} />
                  {run.error_kind && (
                    <code className="error-chip block-chip" title={run.error_message ?? undefined} data-testid="activity-error-kind">
                      {run.error_kind}
                    </code>
                  )}
                  {run.error_message && <span className="activity-message small">{run.error_message}</span>}
                </td>
                <td className="num nowrap">
                  {run.duration_ms === null ? <span className="muted">—</span> : formatDuration(run.duration_ms)}
                </td>
                <td className="num">{Number(run.network_calls)}</td>
                <td className="num nowrap">
                  <span title="Received">↓ {formatBytes(Number(run.bytes_in))}</span>
                  <span className="muted"> · </span>
                  <span title="Sent">↑ {formatBytes(Number(run.bytes_out))}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
