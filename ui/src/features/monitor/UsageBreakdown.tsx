// Where a Usage window's runs went: failures by error kind as horizontal bars, and the figures per
// capability as a table whose names open the capability.
import type { StatsRow } from "../../generated/StatsRow";
import { formatCost, formatCount, formatDuration, formatPercent } from "../../lib/format";
import type { CapabilityLabel } from "./ActivityTable";

export function ErrorsByKind({ errors }: { errors: Array<[string, number]> }) {
  const max = Math.max(1, ...errors.map(([, count]) => count));
  return (
    <section className="chart card-surface usage-errors" data-testid="usage-errors" aria-labelledby="usage-errors-title">
      <div className="chart-head">
        <h3 id="usage-errors-title" className="chart-title">
          Errors by kind
        </h3>
      </div>
      {errors.length === 0 ? (
        <p className="muted small">No failed runs in this period.</p>
      ) : (
        <ul className="usage-bars">
          {errors.map(([kind, count]) => (
            <li key={kind} className="usage-bar-row" data-testid="usage-error-kind" data-kind={kind} data-count={count}>
              <code className="error-chip usage-bar-label" title={kind}>
                {kind}
              </code>
              <span className="usage-bar-track" aria-hidden="true">
                <span className="usage-bar" style={{ width: `${(count / max) * 100}%` }} />
              </span>
              <span className="usage-bar-count">{formatCount(count)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

type CapabilityTableProps = {
  rows: Array<StatsRow>;
  labels: Map<string, CapabilityLabel>;
  onOpen: (id: string) => void;
};

const NUMBER_COLUMNS = ["Runs", "Success", "p50", "p95", "Calls", "Tokens", "Cost"];

export function UsageByCapability({ rows, labels, onOpen }: CapabilityTableProps) {
  return (
    <div className="table-scroll">
      <table className="table usage-table" data-testid="usage-by-capability">
        <caption className="visually-hidden">Usage per capability, most runs first</caption>
        <thead>
          <tr>
            <th scope="col">Capability</th>
            {NUMBER_COLUMNS.map((c) => (
              <th key={c} scope="col" className="num">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ capability, totals: t }) => {
            const label = labels.get(capability);
            return (
              <tr key={capability} data-testid="usage-capability-row" data-capability={capability}>
                <td>
                  {label ? (
                    <button type="button" className="link-button" title={`Open ${label.name}`} onClick={() => onOpen(capability)}>
                      <span aria-hidden="true">{label.icon ?? "🧩"} </span>
                      {label.name}
                    </button>
                  ) : (
                    <span className="mono">{capability}</span>
                  )}
                </td>
                <td className="num">{formatCount(t.runs)}</td>
                <td className="num">{t.success_rate === null ? "—" : formatPercent(t.success_rate)}</td>
                <td className="num nowrap">{t.p50_ms === null ? "—" : formatDuration(t.p50_ms)}</td>
                <td className="num nowrap">{t.p95_ms === null ? "—" : formatDuration(t.p95_ms)}</td>
                <td className="num">{formatCount(t.network_calls)}</td>
                <td className="num">{formatCount(t.tokens)}</td>
                <td className="num">{formatCost(t.cost)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
