// The one door to the desktop shell: typed Tauri commands, native file drops and progress events.
// Nothing else in the UI imports @tauri-apps/api (eslint enforces it), so a different shell or a
// test double only has to replace this file.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";

import type { Account } from "../generated/Account";
import type { AddPlan } from "../generated/AddPlan";
import type { AgentTool } from "../generated/AgentTool";
import type { AgentView } from "../generated/AgentView";
import type { CapabilityDetail } from "../generated/CapabilityDetail";
import type { CapabilityStatus } from "../generated/CapabilityStatus";
import type { CapabilitySummary } from "../generated/CapabilitySummary";
import type { CompileView } from "../generated/CompileView";
import type { ConfigEntryView } from "../generated/ConfigEntryView";
import type { CostView } from "../generated/CostView";
import type { DraftView } from "../generated/DraftView";
import type { ExecutionView } from "../generated/ExecutionView";
import type { FlowRunView } from "../generated/FlowRunView";
import type { ImportOutcome } from "../generated/ImportOutcome";
import type { InstallOutcome } from "../generated/InstallOutcome";
import type { InstallPlan } from "../generated/InstallPlan";
import type { MarketDetail } from "../generated/MarketDetail";
import type { MarketPage } from "../generated/MarketPage";
import type { MarketProgress } from "../generated/MarketProgress";
import type { MarketQuery } from "../generated/MarketQuery";
import type { MarketStatus } from "../generated/MarketStatus";
import type { PublishView } from "../generated/PublishView";
import type { Review } from "../generated/Review";
import type { RunConsent } from "../generated/RunConsent";
import type { RunReport } from "../generated/RunReport";
import type { SaveView } from "../generated/SaveView";
import type { SettingView } from "../generated/SettingView";
import type { StatsView } from "../generated/StatsView";
import type { SyncReport } from "../generated/SyncReport";
import type { TestReport } from "../generated/TestReport";
import type { TriggerStatus } from "../generated/TriggerStatus";
import type { ValidationReport } from "../generated/ValidationReport";
import type { WorkflowRunView } from "../generated/WorkflowRunView";
// Type-only: the flow document is plain JSON whose shape the builder owns (docs/flow-format.md).
import type { Flow, FlowDoc } from "../features/builder/model";
import { NO_BACKEND } from "./errors";

export type ExportFormat = "yaml" | "json";

/** Every command the UI calls: its arguments (camelCase, as Tauri expects) and its result. */
export type Commands = {
  list_capabilities: { args: { query: string | null }; result: Array<CapabilitySummary> };
  validate_source: { args: { fileName: string; content: string }; result: ValidationReport };
  validate_file: { args: { path: string }; result: ValidationReport };
  import_source: { args: { fileName: string; content: string }; result: ImportOutcome };
  import_file: { args: { path: string }; result: ImportOutcome };
  get_capability: { args: { id: string; version: string | null }; result: CapabilityDetail };
  remove_capability: { args: { id: string; version: string | null }; result: number };
  export_capability: {
    args: { id: string; version: string | null; format: ExportFormat };
    result: string;
  };
  export_capability_file: {
    args: { id: string; version: string | null; format: ExportFormat };
    result: string;
  };
  /** A failed action still resolves (`ok: false`, `error`); it rejects only when it cannot start. */
  run_action: {
    args: { id: string; version: string | null; action: string; input: unknown };
    result: RunReport;
  };
  /** Secret values never come back: `set` says whether the keyring holds one. */
  config_list: { args: { id: string }; result: Array<ConfigEntryView> };
  /** Secrets go to the OS keyring (rejects with `keyring_unavailable` when there is none). */
  config_set: { args: { id: string; key: string; value: string }; result: ConfigEntryView };
  /** True when something was removed. */
  config_unset: { args: { id: string; key: string }; result: boolean };
  test_capability: { args: { id: string; version: string | null }; result: TestReport };
  /** The audit log, newest first; `id: null` for every capability. */
  list_runs: { args: { id: string | null; limit: number }; result: Array<ExecutionView> };
  get_settings: { args: Record<string, never>; result: Array<SettingView> };
  /** The text form of the value (validated: `invalid_argument`); null restores the default. */
  set_setting: { args: { key: string; value: string | null }; result: SettingView };
    oauth_connect: { args: { id: string }; result: null };
  set_status: { args: { id: string; version: string | null; status: CapabilityStatus }; result: CapabilitySummary };
  import_openapi: { args: { source: string; id: string | null }; result: ImportOutcome };
  import_openapi_text: { args: { fileName: string; content: string; id: string | null }; result: ImportOutcome };
  // The builder (docs/flow-format.md). The document travels as plain JSON.
  /** The flow document: the autosaved draft when there is one (`version: null` asks for it). */
  builder_open: { args: { id: string; version: string | null }; result: FlowDoc };
  builder_compile: { args: { doc: FlowDoc }; result: CompileView };
  /** The flow with its nodes laid out left to right. */
  builder_layout: { args: { flow: Flow }; result: Flow };
  builder_autosave: { args: { doc: FlowDoc }; result: null };
  builder_drafts: { args: Record<string, never>; result: Array<DraftView> };
  /** True when a draft was removed. */
  builder_discard: { args: { id: string }; result: boolean };
  /** Saved as a Draft capability when it compiles without errors (`summary` null otherwise). */
  builder_save: { args: { doc: FlowDoc }; result: SaveView };
  /** A failing flow still resolves (`ok: false`); it rejects only when it cannot start. */
  builder_run: { args: { doc: FlowDoc; action: string; input: unknown }; result: FlowRunView };
  // Agents (crates/core/src/api/agents.rs). `agent` is the agent's id (or its name).
  list_agents: { args: Record<string, never>; result: Array<AgentView> };
  create_agent: { args: { name: string; description: string | null }; result: AgentView };
  /** What adding would bring and which permissions need consent; rejects `unresolvable` or `not_found`. */
  agent_plan: { args: { agent: string; capability: string; version: string | null }; result: AddPlan };
  /** Rejects `consent_required` unless `consent` lists every permission of the plan. */
  agent_add: {
    args: { agent: string; capability: string; version: string | null; consent: Array<string> };
    result: AgentView;
  };
  /** Rejects `in_use` while another capability of the agent needs it. */
  agent_remove: { args: { agent: string; capability: string }; result: AgentView };
  /** `action` is qualified (`capability.action`); a failed action still resolves (`ok: false`). */
  agent_run: { args: { agent: string; action: string; input: unknown }; result: RunReport };
  /** Turn a capability on/off for the agent or change its priority (higher first); live at once. */
  agent_update: {
    args: { agent: string; capability: string; enabled: boolean | null; priority: number | null };
    result: AgentView;
  };
  /** The agent's enabled actions as MCP tools (what `capsmith mcp serve --agent` lists). */
  agent_tools: { args: { agent: string }; result: Array<AgentTool> };
  /** The bearer token MCP clients send to `capsmith mcp serve --agent … --http`. */
  agent_mcp_token: { args: { agent: string }; result: string };
  /** HOST:PORT pairs on this machine or network that one capability (or draft) may reach. */
  allowed_hosts: { args: { id: string }; result: Array<string> };
  allow_host: { args: { id: string; hostPort: string }; result: Array<string> };
  disallow_host: { args: { id: string; hostPort: string }; result: Array<string> };
  /** A monthly cost cap for the agent's paid calls; `monthly: null` removes it. */
  agent_budget: { args: { agent: string; monthly: number | null }; result: null };
  // Monitoring and cost (crates/core/src/api/stats.rs).
  /** Figures over the last `days` days for one capability, one agent, or everything (both null). */
  stats: { args: { capability: string | null; agent: string | null; days: number }; result: StatsView };
  set_cost: { args: { capability: string; perCall: number; per1kTokens: number }; result: CostView };
  // Workflows (crates/core/src/api/workflows.rs).
  /** Starts a `file_upload` workflow with a file from disk; resolves with the recorded run. */
  workflow_upload: { args: { capability: string; path: string }; result: WorkflowRunView };
  workflow_runs: { args: { capability: string | null; limit: number }; result: Array<WorkflowRunView> };
  /** Carries on an `interrupted` or `error` run from its first unfinished step; rejects otherwise. */
  workflow_resume: { args: { runId: number }; result: WorkflowRunView };
  // Triggers (crates/core/src/api/triggers.rs): webhooks on loopback and schedules, while the app runs.
  triggers_status: { args: Record<string, never>; result: TriggerStatus };
  /** `listen` is HOST:PORT on loopback (e.g. 127.0.0.1:8787); restarts if already running. */
  triggers_start: { args: { listen: string }; result: TriggerStatus };
  triggers_stop: { args: Record<string, never>; result: TriggerStatus };
  /** The agent's own configuration of one of its capabilities; secrets say only whether they are set. */
  agent_config: { args: { agent: string; capability: string }; result: Array<ConfigEntryView> };
  /** `value: null` removes the agent's value (the capability's own applies again). */
  agent_config_set: {
    args: { agent: string; capability: string; key: string; value: string | null };
    result: Array<ConfigEntryView>;
  };
  // The marketplace client (crates/core/src/api/market.rs). Browsing reads the offline cache.
  /** Offline, from the cache; cheap. */
  market_status: { args: Record<string, never>; result: MarketStatus };
  /** Rejects `market_unreachable` when offline; emits `market-progress` while it runs. */
  market_sync: { args: { full: boolean }; result: SyncReport };
  /** Offline, from the cache. */
  market_search: { args: { query: MarketQuery }; result: MarketPage };
  /** Tries the server for fresh reviews, falls back to the cache (`offline: true`). */
  market_detail: { args: { id: string }; result: MarketDetail };
  /** `spec` is `id` or `id@version`: what the consent screen shows. */
  market_install_plan: { args: { spec: string }; result: InstallPlan };
  /**
   * Rejects `consent_required` when `consent` misses a permission, a host or a capability;
   * `id_taken` when the plan's `id_taken` is set and `replace` is not true (replacing removes the
   * existing capability, its secrets and its agent links first); `signature_invalid`,
   * `package_tampered`, `package_invalid`, `listing_mismatch`, `publisher_key_changed`, `revoked`,
   * `yanked`, `market`, `market_unreachable` when the package or the server says no.
   */
  market_install: {
    args: { spec: string; consent: Array<string>; agent: string | null; replace?: boolean | null };
    result: InstallOutcome;
  };
  /** Asking for more permissions or domains is refused with `consent_required` until `consent` lists them. */
  market_update: { args: { id: string; consent: Array<string> }; result: InstallOutcome };
  /**
   * What an installed version needs beyond what its user consented to, and whether it was revoked
   * (`version: null` for the newest stored one). Offline; `installed: false` for local capabilities.
   */
  market_run_consent: { args: { id: string; version: string | null }; result: RunConsent };
  /**
   * Consents to what a stored version additionally asks, so it runs again. `consent` must list every
   * name in `missing_permissions`, `missing_domains` and `missing_capabilities` (else `consent_required`);
   * a revoked version rejects `revoked`.
   */
  market_grant_consent: {
    args: { id: string; version: string | null; consent: Array<string> };
    result: RunConsent;
  };
  market_rollback: { args: { id: string }; result: InstallOutcome };
  /** Also removes its secrets and agent links. */
  market_uninstall: { args: { id: string }; result: null };
  /** Runs the tests first (rejects `tests_failing`); emits `market-progress`. */
  market_publish: {
    args: { spec: string; visibility: string | null; org: string | null; priceCents: number | null };
    result: PublishView;
  };
  market_login: { args: { url: string; token: string }; result: Account };
  market_logout: { args: Record<string, never>; result: null };
  market_review: { args: { id: string; stars: number; text: string }; result: Review };
};

export type Command = keyof Commands;

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

/** True inside the desktop app; false in a plain browser (e.g. `npm run dev` opened directly). */
export function hasBackend(): boolean {
  return typeof window !== "undefined" && window.__TAURI_INTERNALS__ !== undefined;
}

/**
 * Calls a Tauri command. Rejects with whatever the shell rejected with (an `ApiError` object for
 * our commands); turn it into an `AppError` with `toAppError`. Without a shell it rejects with
 * `{ kind: "no_backend" }` instead of pretending.
 */
export function invoke<C extends Command>(
  cmd: C,
  args: Commands[C]["args"],
): Promise<Commands[C]["result"]> {
  if (!hasBackend()) {
    // Rejecting with the ApiError shape on purpose: callers treat every failure alike.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject({ ...NO_BACKEND });
  }
  return tauriInvoke<Commands[C]["result"]>(cmd, args);
}

/** A native drag of files over the window (paths are absolute paths on disk). */
export type FileDropEvent =
  | { type: "enter"; paths: Array<string> }
  | { type: "over" }
  | { type: "drop"; paths: Array<string> }
  | { type: "leave" };

/**
 * Subscribes to native file drags over the window. Returns an unsubscribe function that is safe to
 * call at once (e.g. from a React effect cleanup), before the subscription has settled.
 * Without a shell there are no native drops and this does nothing.
 */
export function onFileDrop(callback: (event: FileDropEvent) => void): () => void {
  if (!hasBackend()) return () => {};
  let disposed = false;
  let unlisten: (() => void) | null = null;
  getCurrentWebview()
    .onDragDropEvent(({ payload }) => {
      if (disposed) return;
      switch (payload.type) {
        case "enter":
          callback({ type: "enter", paths: payload.paths });
          break;
        case "over":
          callback({ type: "over" });
          break;
        case "drop":
          callback({ type: "drop", paths: payload.paths });
          break;
        case "leave":
          callback({ type: "leave" });
          break;
      }
    })
    .then(
      (stop) => {
        if (disposed) stop();
        else unlisten = stop;
      },
      (reason: unknown) => {
        // Most likely the window lacks the event permission; drops then simply do nothing.
        console.warn("Capsmith: native file drops unavailable", reason);
      },
    );
  return () => {
    disposed = true;
    unlisten?.();
  };
}

/**
 * Subscribes to the progress of long marketplace work (sync, publish, install). Returns an
 * unsubscribe function that is safe to call at once. Without a shell nothing ever reports.
 */
export function onMarketProgress(callback: (progress: MarketProgress) => void): () => void {
  if (!hasBackend()) return () => {};
  let disposed = false;
  let unlisten: (() => void) | null = null;
  listen<MarketProgress>("market-progress", ({ payload }) => {
    if (!disposed) callback(payload);
  }).then(
    (stop) => {
      if (disposed) stop();
      else unlisten = stop;
    },
    (reason: unknown) => {
      // Most likely the window lacks the event permission; progress bars then stay indeterminate.
      console.warn("Capsmith: marketplace progress unavailable", reason);
    },
  );
  return () => {
    disposed = true;
    unlisten?.();
  };
}
