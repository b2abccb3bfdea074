// Small text formatting shared by the pages: dates, counts, durations, sizes, JSON.

/** The last segment of a path, for either separator. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "Nov 25, 2026", or the raw text when it is not a date. */
export function formatDate(iso: string, withTime = false): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (withTime ? DATE_TIME : DATE).format(date);
}

/** "1 error", "3 warnings". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const RELATIVE_STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
  ["week", 4.35],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

/** "just now", "5 minutes ago", "yesterday"; the raw text when it is not a date. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) return iso;
  let value = (time - now) / 1000;
  if (Math.abs(value) < 45) return "just now";
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(value) < size) return RELATIVE.format(Math.round(value), unit);
    value /= size;
  }
  return formatDate(iso, true);
}

const EXACT = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

/** The full local date and time, for a tooltip; the raw text when it is not a date. */
export function formatExact(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : EXACT.format(date);
}

/** "0.4 ms", "123 ms", "1.25 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB"];

/** "0 B", "512 B", "1.5 KiB", "10 MiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** JSON as people read it: indented, `undefined` shown as the absence it is. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return "(nothing)";
  try {
    // Values from the backend are JSON, so stringify only fails on something the UI made up.
    return JSON.stringify(value, null, 2) ?? "(not JSON)";
  } catch {
    return "(not JSON)";
  }
}

const COUNT = new Intl.NumberFormat(undefined);

/** "12,345": runs, calls, tokens. */
export function formatCount(value: number): string {
  return COUNT.format(value);
}

const PERCENT = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

/** A 0..1 ratio as "97.5%". */
export function formatPercent(ratio: number): string {
  return PERCENT.format(ratio);
}

const COST_SMALL = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
const COST = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * A cost in the user's own unit (prices carry no currency): "0.00", "0.0125", "12.50". Amounts
 * under 1 keep up to four decimals, as a per-token price adds up in fractions of a cent.
 */
export function formatCost(value: number): string {
  return (Math.abs(value) < 1 ? COST_SMALL : COST).format(value);
}

const DAY = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** A UTC calendar day (`YYYY-MM-DD`) as "Mar 5"; the raw text when it is not a date. */
export function formatDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : DAY.format(date);
}
