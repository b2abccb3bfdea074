// The last runs' durations as bars, the newest on the right, coloured by how each run ended, with the
// median as a dashed line. Plain SVG: the numbers are in the table below for anyone who reads.
import type { ExecutionView } from "../../generated/ExecutionView";
import { formatDuration, formatExact, plural } from "../../lib/format";
import { RUN_STATUSES, statusLook, type RunTone } from "./registry";

type DurationChartProps = {
  /** Newest first, as the audit log returns them. */
  runs: Array<ExecutionView>;
  labels: Map<string, { name: string }>;
};

const WIDTH = 1000;
const HEIGHT = 160;
const GAP = 4;
/** A run without a duration still gets a visible stub, so the count of bars stays honest. */
const MIN_BAR = 2;
export const CHART_RUNS = 50;

function median(values: Array<number>): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function DurationChart({ runs, labels }: DurationChartProps) {
  const recent = runs.slice(0, CHART_RUNS).reverse();
  const durations = recent.map((r) => r.duration_ms).filter((d): d is number => d !== null);
  const max = Math.max(0, ...durations);
  const mid = median(durations);
  const slot = WIDTH / CHART_RUNS;
  const scale = (ms: number) => (max === 0 ? MIN_BAR : Math.max(MIN_BAR, (ms / max) * (HEIGHT - 8)));

  const counts = new Map<RunTone, number>();
  for (const r of recent) {
    const tone = statusLook(r.status).tone;
    counts.set(tone, (counts.get(tone) ?? 0) + 1);
  }
  const summary = [
    `Durations of the last ${plural(recent.length, "run")}, oldest first`,
    ...Object.entries(RUN_STATUSES).map(([, look]) => `${counts.get(look.tone) ?? 0} ${look.label.toLowerCase()}`),
    mid === null ? null : `median ${formatDuration(mid)}`,
    max === 0 ? null : `slowest ${formatDuration(max)}`,
  ]
    .filter(Boolean)
    .join(", ");

  return (
    <figure className="chart card-surface" data-testid="activity-chart">
      <figcaption className="chart-head">
        <span className="chart-title">Last {plural(recent.length, "run")}</span>
        <ul className="chart-legend">
          {Object.entries(RUN_STATUSES).map(([status, look]) => (
            <li key={status} className={`legend legend-${look.tone}`}>
              <span className="legend-swatch" aria-hidden="true" />
              {look.label} <span className="muted">{counts.get(look.tone) ?? 0}</span>
            </li>
          ))}
          {mid !== null && (
            <li className="legend legend-median">
              <span className="legend-line" aria-hidden="true" />
              Median <span className="muted">{formatDuration(mid)}</span>
            </li>
          )}
        </ul>
      </figcaption>
      <div className="chart-body">
        <span className="chart-axis" aria-hidden="true">
          <span>{formatDuration(max)}</span>
          <span>0</span>
        </span>
        <svg
          className="chart-svg"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={summary}
        >
          <line className="chart-baseline" x1={0} x2={WIDTH} y1={HEIGHT - 0.5} y2={HEIGHT - 0.5} />
          {recent.map((run, i) => {
            const h = run.duration_ms === null ? MIN_BAR : scale(run.duration_ms);
            const look = statusLook(run.status);
            const name = labels.get(run.capability)?.name ?? run.capability;
            return (
              <rect
                key={String(run.id)}
                className={`chart-bar bar-${look.tone}`}
                data-testid="chart-bar"
                data-status={run.status}
                x={(CHART_RUNS - recent.length + i) * slot + GAP / 2}
                y={HEIGHT - h}
                width={slot - GAP}
                height={h}
                rx={2}
              >
                <title>
                  {`${name}${run.action ? ` · ${run.action}` : ""} — ${look.label}${
                    run.error_kind ? ` (${run.error_kind})` : ""
                  }, ${run.duration_ms === null ? "no duration recorded" : formatDuration(run.duration_ms)}\n${formatExact(
                    run.started_at,
                  )}`}
                </title>
              </rect>
            );
          })}
          {mid !== null && max > 0 && (
            <line
              className="chart-median"
              x1={0}
              x2={WIDTH}
              y1={HEIGHT - scale(mid)}
              y2={HEIGHT - scale(mid)}
              vectorEffect="non-scaling-stroke"
            />
          )}
        </svg>
      </div>
    </figure>
  );
}
