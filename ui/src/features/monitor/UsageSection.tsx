// "Usage" on the Activity page: the `stats` figures for everything, one capability or one agent
// over 7, 30 or 90 days — tiles, the agent's budget, charts by day, errors by kind, and a table per
// capability. Reloads with the page's `refresh` (a visit, the Refresh button).
import { lazy, Suspense, useState } from "react";

import { RetryAlert } from "../../components/ErrorAlert";
import type { AgentView } from "../../generated/AgentView";
import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import type { StatsView } from "../../generated/StatsView";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";
import type { CapabilityLabel } from "./ActivityTable";
import { BudgetMeter } from "./BudgetMeter";
import { ErrorsByKind, UsageByCapability } from "./UsageBreakdown";
import { UsageKpis } from "./UsageKpis";
import { EVERYTHING, parseScope, scopeValue, USAGE_DAYS, type UsageDays, type UsageScope } from "./usageScope";
import { useStats } from "./useStats";

// Recharts is its own chunk: the rest of the page does not wait for it.
const UsageCharts = lazy(() => import("./UsageCharts").then((m) => ({ default: m.UsageCharts })));

type UsageSectionProps = {
  refresh: number;
  /** The library, for the scope picker; null while it loads or when it could not be listed. */
  capabilities: Array<CapabilitySummary> | null;
  labels: Map<string, CapabilityLabel>;
  onOpenCapability: (id: string) => void;
};

export function UsageSection({ refresh, capabilities, labels, onOpenCapability }: UsageSectionProps) {
  const [scope, setScope] = useState<UsageScope>(EVERYTHING);
  const [days, setDays] = useState<UsageDays>(30);
  // Agents are a nicety of the picker: without them only capabilities are offered.
  const agents = useBackendQuery<Array<AgentView>>(`usage-agents:${refresh}`, () => invoke("list_agents", {}));
  const { state, reload } = useStats(scope, days, refresh);
  const stats = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;

  return (
    <section className="usage" data-testid="usage-section" aria-labelledby="usage-heading" aria-busy={state.status === "loading"}>
      <div className="usage-head">
        <h2 id="usage-heading" className="usage-title">
          Usage
        </h2>
        <div className="page-tools">
          <label className="field-inline">
            <span>Scope</span>
            <select
              className="select"
              data-testid="usage-scope"
              value={scopeValue(scope)}
              onChange={(e) => setScope(parseScope(e.currentTarget.value))}
            >
              <option value="all">Everything</option>
              {capabilities !== null && capabilities.length > 0 && (
                <optgroup label="Capabilities">
                  {capabilities.map((c) => (
                    <option key={c.id} value={scopeValue({ kind: "capability", id: c.id })}>
                      {c.name}
                    </option>
                  ))}
                </optgroup>
              )}
              {agents.status === "ready" && agents.value.length > 0 && (
                <optgroup label="Agents">
                  {agents.value.map((a) => (
                    <option key={a.id} value={scopeValue({ kind: "agent", id: a.id })}>
                      {a.name}
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          </label>
          <label className="field-inline">
            <span>Period</span>
            <select
              className="select"
              data-testid="usage-days"
              value={days}
              onChange={(e) => setDays(USAGE_DAYS.find((d) => String(d) === e.currentTarget.value) ?? 30)}
            >
              {USAGE_DAYS.map((d) => (
                <option key={d} value={d}>
                  Last {d} days
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>

      {state.status === "error" ? (
        <RetryAlert error={state.error} testId="usage-error" onRetry={reload} />
      ) : stats === null ? (
        <div role="status" aria-label="Loading usage" data-testid="usage-loading">
          <span className="skeleton usage-skeleton" />
        </div>
      ) : (
        <div className={`usage-body${state.status === "loading" ? " is-stale" : ""}`}>
          <UsageFigures stats={stats} labels={labels} onOpenCapability={onOpenCapability} />
        </div>
      )}
    </section>
  );
}

type UsageFiguresProps = {
  stats: StatsView;
  labels: Map<string, CapabilityLabel>;
  onOpenCapability: (id: string) => void;
};

function UsageFigures({ stats, labels, onOpenCapability }: UsageFiguresProps) {
  // An agent's month can have cost something even when this window had no runs.
  const budget =
    stats.budget !== null && stats.spent_this_month !== null ? (
      <BudgetMeter spent={stats.spent_this_month} budget={stats.budget} testId="usage-budget" />
    ) : null;

  if (stats.totals.runs === 0) {
    return (
      <>
        {budget}
        <p className="panel-empty" data-testid="usage-empty">
          No runs in the last {stats.days} days — run a capability from the Library or an agent.
        </p>
      </>
    );
  }
  return (
    <>
      <UsageKpis totals={stats.totals} />
      {budget}
      <div className="usage-grid">
        <Suspense fallback={<ChartsLoading />}>
          <UsageCharts daily={stats.daily} />
        </Suspense>
        <ErrorsByKind errors={stats.errors_by_kind} />
      </div>
      {stats.capability === null && (
        <UsageByCapability rows={stats.by_capability} labels={labels} onOpen={onOpenCapability} />
      )}
    </>
  );
}

function ChartsLoading() {
  return (
    <>
      <span className="skeleton usage-chart-skeleton" role="status" aria-label="Loading charts" />
      <span className="skeleton usage-chart-skeleton" aria-hidden="true" />
      <span className="skeleton usage-chart-skeleton" aria-hidden="true" />
    </>
  );
}
