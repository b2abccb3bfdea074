// A Usage window day by day (UTC days, oldest first): runs stacked OK over errors, the p50 and p95
// durations, and the cost. Recharts; its own chunk, loaded when the Activity page first shows usage.
import type { ReactElement } from "react";
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { StatsDay } from "../../generated/StatsDay";
import { formatCost, formatCount, formatDay, formatDuration } from "../../lib/format";

// Recharts paints SVG attributes, so the colours are values here; they match the legend swatches
// in styles.css (`.legend-ok`, `.legend-error`, `.legend-p50`, `.legend-p95`, `.legend-cost`).
const COLOR = {
  ok: "#2fa866",
  error: "#e0524a",
  p50: "#5b4ee6",
  p95: "#e3a02b",
  cost: "#2760c6",
  grid: "#e2e5ee",
  axis: "#636b80",
};

const CHART_HEIGHT = 180;
const MARGIN = { top: 6, right: 8, bottom: 0, left: 0 };
const AXIS_TICK = { fill: COLOR.axis, fontSize: 11 };
const TOOLTIP_STYLE = { borderRadius: 8, borderColor: COLOR.grid, fontSize: 12.5 };

type Point = {
  label: string;
  ok: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  cost: number;
};

function points(daily: Array<StatsDay>): Array<Point> {
  return daily.map((d) => ({
    label: formatDay(d.day),
    ok: d.runs - d.errors,
    errors: d.errors,
    p50: d.p50_ms,
    p95: d.p95_ms,
    cost: d.cost,
  }));
}

/** Recharts hands tooltip values over untyped (a number, a string, or a list of them). */
function shown(format: (n: number) => string) {
  return (value: unknown) => (typeof value === "number" ? format(value) : "—");
}

type LegendItem = { key: string; label: string; value?: string };

/** One chart card: its title, its legend (swatch colours from styles.css), and the chart. */
function ChartFigure({
  testId,
  title,
  legend,
  data,
  children,
}: {
  testId: string;
  title: string;
  legend: Array<LegendItem>;
  data?: Record<string, number>;
  children: ReactElement;
}) {
  const attrs = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return (
    <figure className="chart card-surface" data-testid={testId} {...attrs}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <ul className="chart-legend">
          {legend.map((l) => (
            <li key={l.key} className={`legend legend-${l.key}`}>
              <span className="legend-swatch" aria-hidden="true" />
              {l.label} {l.value !== undefined && <span className="muted">{l.value}</span>}
            </li>
          ))}
        </ul>
      </figcaption>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        {children}
      </ResponsiveContainer>
    </figure>
  );
}

export function UsageCharts({ daily }: { daily: Array<StatsDay> }) {
  const data = points(daily);
  const runs = data.reduce((sum, p) => sum + p.ok + p.errors, 0);
  const errors = data.reduce((sum, p) => sum + p.errors, 0);
  const cost = data.reduce((sum, p) => sum + p.cost, 0);
  const axis = <XAxis dataKey="label" tick={AXIS_TICK} tickLine={false} axisLine={{ stroke: COLOR.grid }} minTickGap={16} />;
  const grid = <CartesianGrid vertical={false} stroke={COLOR.grid} />;

  return (
    <>
      <ChartFigure
        testId="usage-chart-runs"
        title="Runs per day"
        data={{ runs, errors }}
        legend={[
          { key: "ok", label: "OK", value: formatCount(runs - errors) },
          { key: "error", label: "Errors", value: formatCount(errors) },
        ]}
      >
        <BarChart data={data} margin={MARGIN}>
          {grid}
          {axis}
          <YAxis allowDecimals={false} tick={AXIS_TICK} tickLine={false} axisLine={false} width={40} />
          <Tooltip contentStyle={TOOLTIP_STYLE} formatter={shown(formatCount)} cursor={{ fill: "#f0f2f7" }} />
          <Bar dataKey="ok" name="OK" stackId="runs" fill={COLOR.ok} isAnimationActive={false} />
          <Bar dataKey="errors" name="Errors" stackId="runs" fill={COLOR.error} isAnimationActive={false} radius={[3, 3, 0, 0]} />
        </BarChart>
      </ChartFigure>

      <ChartFigure
        testId="usage-chart-duration"
        title="Duration per day"
        legend={[
          { key: "p50", label: "p50" },
          { key: "p95", label: "p95" },
        ]}
      >
        <LineChart data={data} margin={MARGIN}>
          {grid}
          {axis}
          <YAxis tick={AXIS_TICK} tickLine={false} axisLine={false} width={56} tickFormatter={(v: number) => (v === 0 ? "0" : formatDuration(v))} />
          <Tooltip contentStyle={TOOLTIP_STYLE} formatter={shown(formatDuration)} />
          {/* Days without runs have no duration: the line joins the days that have one. */}
          <Line dataKey="p50" name="p50" stroke={COLOR.p50} strokeWidth={2} dot={{ r: 2 }} connectNulls isAnimationActive={false} />
          <Line dataKey="p95" name="p95" stroke={COLOR.p95} strokeWidth={2} dot={{ r: 2 }} connectNulls isAnimationActive={false} />
        </LineChart>
      </ChartFigure>

      <ChartFigure
        testId="usage-chart-cost"
        title="Cost per day"
        legend={[{ key: "cost", label: "Total", value: formatCost(cost) }]}
      >
        <BarChart data={data} margin={MARGIN}>
          {grid}
          {axis}
          <YAxis tick={AXIS_TICK} tickLine={false} axisLine={false} width={56} tickFormatter={(v: number) => (v === 0 ? "0" : formatCost(v))} />
          <Tooltip contentStyle={TOOLTIP_STYLE} formatter={shown(formatCost)} cursor={{ fill: "#f0f2f7" }} />
          <Bar dataKey="cost" name="Cost" fill={COLOR.cost} isAnimationActive={false} radius={[3, 3, 0, 0]} />
        </BarChart>
      </ChartFigure>
    </>
  );
}
