// What the app knows about each setting beyond the backend's description: a friendly title, how
// its value is typed in, how it reads, and the section it belongs to (by key prefix). Unknown keys
// still show, as plain text, in an "Other" section.
import type { SettingView } from "../../generated/SettingView";
import { formatBytes, formatDuration } from "../../lib/format";

type SettingChoice = { value: string; label: string };

export type SettingLook = {
  title: string;
  /**
   * "list": comma-separated text; "number": digits only; "text", "url", "path": one line, empty
   * clears it; "choice": one of `choices`; "secret": kept in the OS keyring, never shown.
   */
  input: "list" | "number" | "text" | "url" | "path" | "choice" | "secret";
  placeholder?: string;
  /** Extra reading of a number ("30 s", "10 MiB"). */
  unit?: (n: number) => string;
  /** The values of a "choice". */
  choices?: Array<SettingChoice>;
  /** A line under the input: what the value changes beyond the description. */
  hint?: string;
};

export const SETTINGS: Record<string, SettingLook> = {
  "network.timeout_ms": { title: "Request timeout", input: "number", unit: formatDuration },
  "network.max_calls": { title: "Network calls per run", input: "number" },
  "network.max_response_bytes": { title: "Largest response", input: "number", unit: formatBytes },
  "ai.base_url": { title: "Endpoint URL", input: "url", placeholder: "https://api.openai.com/v1" },
  "ai.model": { title: "Model", input: "text", placeholder: "gpt-4o-mini" },
  "ai.api_key": { title: "API key", input: "secret" },
  "email.smtp_host": { title: "SMTP server", input: "text", placeholder: "smtp.example.com:587" },
  "email.security": {
    title: "Connection security",
    input: "choice",
    choices: [
      { value: "starttls", label: "STARTTLS (port 587)" },
      { value: "tls", label: "TLS (port 465)" },
      { value: "none", label: "None (loopback only)" },
    ],
    hint: "None sends mail unencrypted, so it is accepted only for a server on this machine (a loopback address).",
  },
  "email.from": { title: "Sender", input: "text", placeholder: "Capsmith <bot@example.com>" },
  "email.username": { title: "User name", input: "text" },
  "email.password": { title: "Password", input: "secret" },
  "knowledge.folder": { title: "Documents folder", input: "path", placeholder: "/home/me/Documents/notes" },
  "sandbox.allow_unconfined": {
    title: "Run code without full confinement",
    input: "choice",
    choices: [
      { value: "false", label: "No: refuse code when the sandbox cannot confine itself" },
      { value: "true", label: "Yes: run it anyway (this kernel lacks Landlock or seccomp)" },
    ],
    hint: "Only for a machine whose kernel cannot confine the sandbox. While it is on, every run and the app's header say so.",
  },
  "sandbox.memory_mb": { title: "JavaScript memory", input: "number", unit: (mb) => formatBytes(mb * 1024 * 1024) },
};

export function settingLook(key: string): SettingLook {
  return SETTINGS[key] ?? { title: key, input: "list" };
}

type SectionLook = { name: string; title: string; description: string };

/** The sections of the Settings page, in order; a setting belongs to the one named by its key's prefix. */
export const SECTIONS: Array<SectionLook> = [
  // Private hosts and plain http used to be allowed here for every capability; now each one is
  // granted its own, so the section says where.
  {
    name: "network",
    title: "Network",
    description:
      "How capabilities may use the network. A service on this machine or network is allowed per capability, on its Configure tab.",
  },
  { name: "ai", title: "AI endpoint", description: "The OpenAI-compatible endpoint behind ai.call." },
  { name: "email", title: "Email", description: "The SMTP server behind email.send." },
  { name: "knowledge", title: "Knowledge", description: "The documents knowledge.search looks through." },
  { name: "sandbox", title: "Sandbox", description: "Limits of code capabilities." },
];

const OTHER: SectionLook = { name: "other", title: "Other", description: "Settings this version of the app does not describe." };

export type SettingSection = SectionLook & { settings: Array<SettingView> };

/** The settings grouped into sections (in the order of SECTIONS, then "Other"); empty sections are left out. */
export function groupSettings(settings: Array<SettingView>): Array<SettingSection> {
  const sections: Array<SettingSection> = [...SECTIONS, OTHER].map((s) => ({ ...s, settings: [] }));
  for (const setting of settings) {
    const prefix = setting.key.split(".", 1)[0];
    const section = sections.find((s) => s.name === prefix) ?? sections[sections.length - 1];
    section?.settings.push(setting);
  }
  return sections.filter((s) => s.settings.length > 0);
}

/** The value in the text form `set_setting` takes back: lists comma-separated, numbers as digits. */
export function settingText(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
