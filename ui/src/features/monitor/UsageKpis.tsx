// The headline figures of a Usage window as tiles: runs, success rate, p50/p95, calls, tokens, cost.
import type { StatsTotals } from "../../generated/StatsTotals";
import { formatCost, formatCount, formatDuration, formatPercent } from "../../lib/format";

type Kpi = { key: string; label: string; value: string; detail?: string };

function kpis(t: StatsTotals): Array<Kpi> {
  const failed = t.runs - t.ok;
  return [
    { key: "runs", label: "Runs", value: formatCount(t.runs), detail: `${formatCount(failed)} failed` },
    {
      key: "success",
      label: "Success rate",
      value: t.success_rate === null ? "—" : formatPercent(t.success_rate),
      detail: `${formatCount(t.ok)} OK`,
    },
    { key: "p50", label: "p50 duration", value: t.p50_ms === null ? "—" : formatDuration(t.p50_ms) },
    { key: "p95", label: "p95 duration", value: t.p95_ms === null ? "—" : formatDuration(t.p95_ms) },
    { key: "calls", label: "Network calls", value: formatCount(t.network_calls) },
    { key: "tokens", label: "AI tokens", value: formatCount(t.tokens) },
    { key: "cost", label: "Cost", value: formatCost(t.cost) },
  ];
}

export function UsageKpis({ totals }: { totals: StatsTotals }) {
  return (
    <dl className="usage-kpis">
      {kpis(totals).map((kpi) => (
        <div key={kpi.key} className="usage-kpi card-surface" data-testid={`usage-kpi-${kpi.key}`}>
          <dt className="usage-kpi-label">{kpi.label}</dt>
          <dd className="usage-kpi-value">{kpi.value}</dd>
          {kpi.detail && <dd className="usage-kpi-detail muted small">{kpi.detail}</dd>}
        </div>
      ))}
    </dl>
  );
}
