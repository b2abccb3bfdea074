// The Activity tab: this capability's runs from the audit log, newest first; reloaded after every
// run or test started here.
import { RetryAlert } from "../../components/ErrorAlert";
import { RunsToolbar } from "../../components/RunsToolbar";
import { ActivityTable } from "../monitor/ActivityTable";
import { useRuns } from "../monitor/useRuns";

const LIMIT = 100;

type ActivityPanelProps = { capabilityId: string; refresh: number };

export function ActivityPanel({ capabilityId, refresh }: ActivityPanelProps) {
  const { state, reload } = useRuns(capabilityId, LIMIT, refresh);
  if (state.status === "error") {
    return (
      <RetryAlert error={state.error} testId="activity-error" onRetry={reload} />
    );
  }
  const runs = state.status === "ready" ? state.value : state.previous;
  if (runs === null) {
    return (
      <div role="status" aria-label="Loading activity" data-testid="loading">
        <span className="skeleton skeleton-block" />
      </div>
    );
  }
  if (runs.length === 0) {
    return (
      <p className="panel-empty" data-testid="activity-empty">
        No runs yet. Runs from the Run and Tests tabs, and from <code>capsmith run</code>, show up here.
      </p>
    );
  }
  return (
    <div className={state.status === "loading" ? "is-stale" : undefined}>
      <RunsToolbar count={runs.length} limit={LIMIT} testId="activity-refresh" onReload={reload} />
      <ActivityTable runs={runs} caption="Runs of this capability, newest first" />
    </div>
  );
}
