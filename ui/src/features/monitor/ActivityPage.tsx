// "Activity": usage figures over a window of days (`UsageSection`), then every run of every
// capability, newest first, with a chart of the latest durations. A row opens its capability.
import { useMemo, useState } from "react";

import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { invoke } from "../../lib/backend";
import { plural } from "../../lib/format";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { LoadFailed } from "../library/LibraryStates";
import { ActivityTable, type CapabilityLabel } from "./ActivityTable";
import { DurationChart } from "./DurationChart";
import { RUN_STATUSES } from "./registry";
import { UsageSection } from "./UsageSection";
import { useRuns } from "./useRuns";

const PAGE_LIMIT = 200;

type ActivityPageProps = { onOpenCapability: (id: string) => void };

export function ActivityPage({ onOpenCapability }: ActivityPageProps) {
  // The page is mounted afresh on every visit (after running something elsewhere); Refresh bumps
  // this to read the runs and the usage figures again.
  const [refresh, setRefresh] = useState(0);
  const reload = () => setRefresh((r) => r + 1);
  const { state } = useRuns(null, PAGE_LIMIT, refresh);
  const [status, setStatus] = useState<string>("all");
  // Names are a nicety: without them (a removed capability, a failed listing) rows show the id.
  const names = useBackendQuery<Array<CapabilitySummary>>("names", () => invoke("list_capabilities", { query: null }));
  const labels = useMemo(() => {
    const map = new Map<string, CapabilityLabel>();
    if (names.status === "ready") {
      for (const c of names.value) map.set(c.id, { name: c.name, icon: c.icon });
    }
    return map;
  }, [names]);

  const runs = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;
  const refreshing = state.status === "loading" && runs !== null;
  const shown = runs === null ? [] : status === "all" ? runs : runs.filter((r) => r.status === status);

  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <h1>Activity</h1>
          <p className="muted">Usage over time, and every run of every capability from the app, the CLI and tests.</p>
        </div>
        <div className="page-tools">
          <label className="field-inline">
            <span>Status</span>
            <select
              className="select"
              data-testid="activity-filter"
              value={status}
              onChange={(e) => setStatus(e.currentTarget.value)}
            >
              <option value="all">All</option>
              {Object.entries(RUN_STATUSES).map(([key, look]) => (
                <option key={key} value={key}>
                  {look.label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="button"
            data-testid="activity-refresh"
            onClick={reload}
            disabled={state.status === "loading"}
          >
            {state.status === "loading" ? <span className="spinner" aria-hidden="true" /> : <span aria-hidden="true">↻</span>}
            Refresh
          </button>
        </div>
      </header>

      <main className="page-body" aria-busy={state.status === "loading"}>
        {/* When the audit log cannot be read, its error alone says so. */}
        {state.status !== "error" && (
          <UsageSection
            refresh={refresh}
            capabilities={names.status === "ready" ? names.value : null}
            labels={labels}
            onOpenCapability={onOpenCapability}
          />
        )}
        {state.status === "error" ? (
          <LoadFailed error={state.error} onRetry={reload} />
        ) : runs === null ? (
          <ActivitySkeleton />
        ) : runs.length === 0 ? (
          <div className="state" data-testid="activity-empty">
            <div className="state-art" aria-hidden="true">
              📈
            </div>
            <h2>No runs yet</h2>
            <p>
              Open a capability and run one of its actions or its tests; every run, from this app or from{" "}
              <code>capsmith run</code>, is recorded here.
            </p>
          </div>
        ) : (
          <div className={`activity-page${refreshing ? " is-stale" : ""}`}>
            <h2 className="section-title">Recent runs</h2>
            <DurationChart runs={runs} labels={labels} />
            <p className="result-count muted small" aria-live="polite">
              {status === "all"
                ? runs.length >= PAGE_LIMIT
                  ? `The latest ${plural(runs.length, "run")}`
                  : plural(runs.length, "run")
                : `${plural(shown.length, "run")} of ${runs.length} with status “${status}”`}
            </p>
            {shown.length === 0 ? (
              <p className="panel-empty" data-testid="activity-no-match">
                No runs with this status among the latest {plural(runs.length, "run")}.
              </p>
            ) : (
              <ActivityTable
                runs={shown}
                caption="Runs of every capability, newest first"
                capabilities={{ labels, labelsLoaded: names.status === "ready", onOpen: onOpenCapability }}
              />
            )}
          </div>
        )}
      </main>
    </div>
  );
}

function ActivitySkeleton() {
  return (
    <div role="status" aria-label="Loading activity" data-testid="loading">
      <span className="skeleton skeleton-chart" />
      <span className="skeleton skeleton-block" />
    </div>
  );
}
