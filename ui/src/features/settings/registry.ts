// What the app knows about each setting beyond the backend's description: a friendly title, how
// its value is typed in, and how it reads. Unknown keys still show, as plain text.
import { formatBytes, formatDuration } from "../../lib/format";

type SettingLook = {
  title: string;
  /** "list": comma-separated text; "number": digits only. */
  input: "list" | "number";
  placeholder?: string;
  /** Extra reading of a number ("30 s", "10 MiB"). */
  unit?: (n: number) => string;
};

export const SETTINGS: Record<string, SettingLook> = {
  "network.allow_hosts": {
    title: "Hosts allowed despite the guard",
    input: "list",
    placeholder: "localhost:8080, 10.0.0.5:443",
  },
  "network.timeout_ms": { title: "Request timeout", input: "number", unit: formatDuration },
  "network.max_calls": { title: "Network calls per run", input: "number" },
  "network.max_response_bytes": { title: "Largest response", input: "number", unit: formatBytes },
};

export function settingLook(key: string): SettingLook {
  return SETTINGS[key] ?? { title: key, input: "list" };
}

/** The value in the text form `set_setting` takes back: lists comma-separated, numbers as digits. */
export function settingText(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
