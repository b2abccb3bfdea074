// One capability in full: header, version switcher, actions, configuration, permissions,
// domains, dependencies and source; editing the source; export and removal; and working with it:
// configure, run, test, its recorded workflow runs, and its activity.
import { useEffect, useRef, useState } from "react";

import { ErrorAlert, RetryAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import type { ActionView } from "../../generated/ActionView";
import type { CapabilityDetail } from "../../generated/CapabilityDetail";
import type { CapabilityKind } from "../../generated/CapabilityKind";
import type { FieldView } from "../../generated/FieldView";
import type { ImportOutcome } from "../../generated/ImportOutcome";
import { invoke, type ExportFormat } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatDate, plural } from "../../lib/format";
import { ActivityPanel } from "./ActivityPanel";
import { KindBadge, StatusBadge } from "./Badges";
import { ConfigurePanel } from "./ConfigurePanel";
import { EditPanel } from "./EditPanel";
import { FALLBACK_ICON } from "./registry";
import { RunPanel } from "./RunPanel";
import { SourceView } from "./SourceView";
import { Tabs, type TabSpec } from "./Tabs";
import { TestsPanel } from "./TestsPanel";
import { useCapabilityDetail } from "./useCapabilityDetail";
import { useCapabilitySession, type CapabilitySession } from "./useCapabilitySession";
import { WorkflowRunsPanel } from "./WorkflowRunsPanel";

export type DetailTab =
  | "actions"
  | "configuration"
  | "permissions"
  | "domains"
  | "dependencies"
  | "source"
  | "edit"
  | "configure"
  | "run"
  | "runs"
  | "tests"
  | "activity";

type CapabilityDetailViewProps = {
  id: string;
  onBack: () => void;
  /** After a removal, with the text for a notice ("Removed weather-lookup@1.0.0"). */
  onRemoved: (notice: string) => void;
  onNotice: (notice: string) => void;
  /** The tab to open on (the Activity page opens a capability on its Activity tab). */
  initialTab?: DetailTab;
  /** Opens this capability in the visual builder (offered for the kinds it can open). */
  onOpenInBuilder?: (id: string, version: string) => void;
};

export function CapabilityDetailView({
  id,
  onBack,
  onRemoved,
  onNotice,
  initialTab = "actions",
  onOpenInBuilder,
}: CapabilityDetailViewProps) {
  const [version, setVersion] = useState<string | null>(null);
  // Kept here, not in the body, so switching versions stays on the same tab.
  const [tab, setTab] = useState<DetailTab>(initialTab);
  const { state, reload } = useCapabilityDetail(id, version);
  // Run forms, results and test reports outlive tab switches and version switches.
  const session = useCapabilitySession(id);
  const backRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    backRef.current?.focus();
  }, []);

  const detail = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;

  return (
    <section className="detail" data-testid="capability-detail" data-id={id} aria-busy={state.status === "loading"}>
      <div className="detail-topbar">
        <button type="button" className="button button-ghost" onClick={onBack} ref={backRef} data-testid="back">
          ← Back <kbd>Esc</kbd>
        </button>
      </div>

      {state.status === "error" && (
        <RetryAlert error={state.error} testId="detail-error" onRetry={reload} />
      )}

      {detail === null && state.status === "loading" && <DetailSkeleton />}

      {detail && (
        <DetailBody
          key={`${detail.summary.id}@${detail.version}`}
          detail={detail}
          stale={state.status === "loading"}
          tab={tab}
          onTabChange={setTab}
          onVersionChange={setVersion}
          onRemoved={onRemoved}
          onNotice={onNotice}
          session={session}
          onOpenInBuilder={onOpenInBuilder}
        />
      )}
    </section>
  );
}

type DetailBodyProps = {
  detail: CapabilityDetail;
  stale: boolean;
  tab: DetailTab;
  onTabChange: (tab: DetailTab) => void;
  onVersionChange: (version: string) => void;
  onRemoved: (notice: string) => void;
  onNotice: (notice: string) => void;
  session: CapabilitySession;
  onOpenInBuilder?: (id: string, version: string) => void;
};

/** The kinds the builder opens as flows. */
const BUILDABLE: ReadonlyArray<CapabilityKind> = ["declarative", "workflow", "flow"];

/** The kinds whose runs are recorded step by step (the Runs tab). */
const RECORDED: ReadonlyArray<CapabilityKind> = ["workflow", "flow"];

function DetailBody({ detail, stale, tab, onTabChange, onVersionChange, onRemoved, onNotice, session, onOpenInBuilder }: DetailBodyProps) {
  const { summary } = detail;
  const [publishing, setPublishing] = useState(false);
  const [publishError, setPublishError] = useState<AppError | null>(null);
  const [status, setStatus] = useState(summary.status);
  // Publishing runs the capability's tests first; a failing one refuses it (kind tests_failing).
  const publish = async () => {
    setPublishing(true);
    setPublishError(null);
    try {
      await invoke("set_status", { id: summary.id, version: detail.version, status: "published" });
      setStatus("published");
      onNotice(`Published ${summary.id}@${detail.version}`);
    } catch (reason) {
      setPublishError(toAppError(reason));
    } finally {
      setPublishing(false);
    }
  };
  const [exporting, setExporting] = useState<ExportFormat | null>(null);
  const [exportError, setExportError] = useState<AppError | null>(null);
  const [confirmingRemove, setConfirmingRemove] = useState(false);

  const exportAs = async (format: ExportFormat) => {
    setExporting(format);
    setExportError(null);
    try {
      // The shell writes the file (a webview cannot save downloads by itself) and says where.
      const path = await invoke("export_capability_file", { id: summary.id, version: detail.version, format });
      onNotice(`Exported to ${path}`);
    } catch (reason) {
      setExportError(toAppError(reason));
    } finally {
      setExporting(null);
    }
  };

  const undeclared = detail.inferred_permissions.filter((p) => !detail.permissions.includes(p));
  const recorded = RECORDED.includes(summary.kind);
  // Another version may be of a kind without recorded runs: its Runs tab falls back to Actions.
  const shownTab: DetailTab = tab === "runs" && !recorded ? "actions" : tab;
  const tabs: Array<TabSpec<DetailTab>> = [
    { key: "actions", label: "Actions", count: detail.actions.length },
    { key: "configuration", label: "Configuration", count: detail.configuration.length },
    { key: "permissions", label: "Permissions", count: detail.permissions.length + undeclared.length },
    { key: "domains", label: "Allowed domains", count: detail.allowed_domains.length },
    { key: "dependencies", label: "Dependencies", count: detail.dependencies.length },
    { key: "source", label: "Source" },
    { key: "edit", label: "Edit" },
    configureTab(session),
    { key: "run", label: "Run" },
    ...(recorded ? [{ key: "runs" as const, label: "Runs" }] : []),
    { key: "tests", label: "Tests" },
    { key: "activity", label: "Activity" },
  ];
  const openConfigure = () => onTabChange("configure");
  // A new version of this capability opens at once (on the Edit tab); another id is only told.
  const onSourceSaved = (outcome: ImportOutcome) => {
    onNotice(`Saved ${outcome.id}@${outcome.version}`);
    if (outcome.id === summary.id && outcome.version !== detail.version) {
      session.setDraft(detail.version, null);
      onVersionChange(outcome.version);
    }
  };

  return (
    <div className={stale ? "is-stale" : undefined}>
      <header className="detail-header card-surface">
        <span className="detail-icon" aria-hidden="true">
          {summary.icon ?? FALLBACK_ICON}
        </span>
        <div className="detail-heading">
          <div className="detail-title-row">
            <h2 className="detail-title" data-testid="detail-name">
              {summary.name}
            </h2>
            <span className="version" data-testid="detail-version">
              v{detail.version}
            </span>
            <KindBadge kind={summary.kind} />
            <StatusBadge status={summary.status} />
          </div>
          <p className="detail-meta">
            <span className="mono">{summary.id}</span>
            {summary.author && <span>by {summary.author}</span>}
            {summary.category && <span>{summary.category}</span>}
            <span>Added {formatDate(detail.created_at)}</span>
          </p>
          {summary.description && <p className="detail-description">{summary.description}</p>}
          {summary.tags.length > 0 && (
            <ul className="tags" aria-label="Tags">
              {summary.tags.map((tag) => (
                <li key={tag} className="tag">
                  #{tag}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="detail-actions">
          {summary.versions.length > 1 && (
            <label className="field-inline">
              <span>Version</span>
              <select
                className="select"
                data-testid="version-select"
                value={detail.version}
                onChange={(e) => onVersionChange(e.currentTarget.value)}
              >
                {summary.versions.map((v) => (
                  <option key={v} value={v}>
                    {v}
                    {v === summary.version ? " (latest)" : ""}
                  </option>
                ))}
              </select>
            </label>
          )}
          <div className="button-row">
            {onOpenInBuilder && BUILDABLE.includes(summary.kind) && (
              <button
                type="button"
                className="button"
                data-testid="open-in-builder"
                title="Edit this capability as a flow in the visual builder"
                onClick={() => onOpenInBuilder(summary.id, detail.version)}
              >
                <span aria-hidden="true">🛠️</span> Open in builder
              </button>
            )}
            <button
              type="button"
              className="button"
              data-testid="export-yaml"
              disabled={exporting !== null}
              onClick={() => void exportAs("yaml")}
            >
              {exporting === "yaml" ? "Exporting…" : "Export YAML"}
            </button>
            <button
              type="button"
              className="button"
              data-testid="export-json"
              disabled={exporting !== null}
              onClick={() => void exportAs("json")}
            >
              {exporting === "json" ? "Exporting…" : "Export JSON"}
            </button>
                        {status !== "published" && (
              <button
                type="button"
                className="button button-primary"
                data-testid="publish"
                disabled={publishing}
                title="Runs the tests first; publishing needs them all to pass"
                onClick={() => void publish()}
              >
                {publishing ? "Testing…" : "Publish"}
              </button>
            )}
            <button
              type="button"
              className="button button-danger"
              data-testid="remove-capability"
              onClick={() => setConfirmingRemove(true)}
            >
              Remove…
            </button>
          </div>
        </div>
      </header>

            {exportError && <ErrorAlert error={exportError} testId="export-error" />}
      {publishError && <ErrorAlert error={publishError} testId="publish-error" />}

      <Tabs tabs={tabs} active={shownTab} onChange={onTabChange} label="Capability details">
        {shownTab === "actions" && <ActionsPanel actions={detail.actions} />}
        {shownTab === "configuration" && <ConfigurationPanel detail={detail} />}
        {shownTab === "permissions" && <PermissionsPanel detail={detail} undeclared={undeclared} />}
        {shownTab === "domains" && <DomainsPanel domains={detail.allowed_domains} />}
        {shownTab === "dependencies" && <DependenciesPanel detail={detail} />}
        {shownTab === "source" && <SourceView source={detail.source} format={detail.source_format} />}
        {shownTab === "edit" && <EditPanel detail={detail} session={session} onSaved={onSourceSaved} />}
        {shownTab === "configure" && (
          <ConfigurePanel capabilityId={summary.id} config={session.config} onChanged={session.reloadConfig} />
        )}
        {shownTab === "run" && <RunPanel detail={detail} session={session} onOpenConfigure={openConfigure} />}
        {shownTab === "runs" && <WorkflowRunsPanel detail={detail} refresh={session.activityGeneration} />}
        {shownTab === "tests" && <TestsPanel detail={detail} session={session} onOpenConfigure={openConfigure} />}
        {shownTab === "activity" && <ActivityPanel capabilityId={summary.id} refresh={session.activityGeneration} />}
      </Tabs>

      {confirmingRemove && (
        <RemoveDialog detail={detail} onCancel={() => setConfirmingRemove(false)} onRemoved={onRemoved} />
      )}
    </div>
  );
}

/** "Configure", with the number of required values not set yet when there are some. */
function configureTab(session: CapabilitySession): TabSpec<DetailTab> {
  const tab: TabSpec<DetailTab> = { key: "configure", label: "Configure", groupStart: true };
  const { config } = session;
  // While a save reloads the list, keep showing the last count rather than flickering.
  const entries = config.status === "ready" ? config.value : config.status === "loading" ? config.previous : null;
  if (entries === null) return tab;
  const missing = entries.filter((c) => c.required && !c.set).length;
  return missing === 0 ? tab : { ...tab, count: missing, attention: `${plural(missing, "required value")} not set` };
}

function Empty({ children }: { children: string }) {
  return <p className="panel-empty">{children}</p>;
}

function ActionsPanel({ actions }: { actions: Array<ActionView> }) {
  if (actions.length === 0) return <Empty>This capability declares no actions.</Empty>;
  return (
    <div className="action-list">
      {actions.map((action) => (
        <article key={action.id} className="action card-surface" data-testid="action" data-id={action.id}>
          <header className="action-header">
            <h3>{action.name}</h3>
            <code className="mono muted">{action.id}</code>
          </header>
          {action.description && <p className="action-description">{action.description}</p>}
          <div className="action-fields">
            <FieldTable title="Inputs" fields={action.inputs} empty="No inputs" />
            <FieldTable title="Outputs" fields={action.outputs} empty="No outputs" />
          </div>
        </article>
      ))}
    </div>
  );
}

function FieldTable({ title, fields, empty }: { title: string; fields: Array<FieldView>; empty: string }) {
  return (
    <div className="field-table">
      <h4>{title}</h4>
      {fields.length === 0 ? (
        <p className="muted small">{empty}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Required</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {fields.map((field) => (
              <tr key={field.name}>
                <td className="mono">{field.name}</td>
                <td>
                  <code className="type">{field.type}</code>
                </td>
                <td>{field.required ? <span className="required">Required</span> : <span className="muted">Optional</span>}</td>
                <td>{field.description ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function isSecret(type: string): boolean {
  return type.toLowerCase() === "secret";
}

function ConfigurationPanel({ detail }: { detail: CapabilityDetail }) {
  if (detail.configuration.length === 0) return <Empty>Nothing to configure.</Empty>;
  return (
    <table className="table card-surface">
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Label</th>
          <th scope="col">Type</th>
          <th scope="col">Required</th>
          <th scope="col">Help</th>
        </tr>
      </thead>
      <tbody>
        {detail.configuration.map((config) => (
          <tr key={config.key} data-testid="config-row" data-secret={isSecret(config.type)}>
            <td className="mono">
              {isSecret(config.type) && (
                <span role="img" aria-label="Secret" title="Secret: stored in the system keyring">
                  🔒{" "}
                </span>
              )}
              {config.key}
            </td>
            <td>{config.label ?? <span className="muted">—</span>}</td>
            <td>
              <code className="type">{config.type}</code>
            </td>
            <td>{config.required ? <span className="required">Required</span> : <span className="muted">Optional</span>}</td>
            <td className="mono small selectable">{config.help_url ?? <span className="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PermissionsPanel({ detail, undeclared }: { detail: CapabilityDetail; undeclared: Array<string> }) {
  if (detail.permissions.length === 0 && undeclared.length === 0) {
    return <Empty>This capability asks for no permissions.</Empty>;
  }
  return (
    <div className="permission-groups">
      <section>
        <h3 className="panel-heading">Declared</h3>
        {detail.permissions.length === 0 ? (
          <p className="muted small">None declared in the manifest.</p>
        ) : (
          <ul className="chips">
            {detail.permissions.map((p) => (
              <li key={p} className="chip mono" data-testid="permission" data-inferred="false">
                {p}
              </li>
            ))}
          </ul>
        )}
      </section>
      {undeclared.length > 0 && (
        <section>
          <h3 className="panel-heading">Inferred</h3>
          <p className="muted small">Found in what the capability does, though the manifest does not declare them.</p>
          <ul className="chips">
            {undeclared.map((p) => (
              <li
                key={p}
                className="chip chip-inferred mono"
                data-testid="permission"
                data-inferred="true"
                title="Inferred, not declared"
              >
                <span aria-hidden="true">✨ </span>
                {p}
                <span className="visually-hidden"> (inferred)</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function DomainsPanel({ domains }: { domains: Array<string> }) {
  if (domains.length === 0) return <Empty>No network access to other domains.</Empty>;
  return (
    <ul className="chips">
      {domains.map((d) => (
        <li key={d} className="chip mono" data-testid="domain">
          🌐 {d}
        </li>
      ))}
    </ul>
  );
}

function DependenciesPanel({ detail }: { detail: CapabilityDetail }) {
  if (detail.dependencies.length === 0) return <Empty>No dependencies on other capabilities.</Empty>;
  return (
    <table className="table card-surface">
      <thead>
        <tr>
          <th scope="col">Capability</th>
          <th scope="col">Version</th>
        </tr>
      </thead>
      <tbody>
        {detail.dependencies.map((dep) => (
          <tr key={dep.id} data-testid="dependency">
            <td className="mono">{dep.id}</td>
            <td className="mono">{dep.version}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RemoveDialog({
  detail,
  onCancel,
  onRemoved,
}: {
  detail: CapabilityDetail;
  onCancel: () => void;
  onRemoved: (notice: string) => void;
}) {
  const { summary } = detail;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const several = summary.versions.length > 1;

  const remove = async (version: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const count = await invoke("remove_capability", { id: summary.id, version });
      onRemoved(
        version === null && count !== 1
          ? `Removed ${plural(count, "version")} of ${summary.id}`
          : `Removed ${summary.id}@${version ?? detail.version}`,
      );
    } catch (reason) {
      setError(toAppError(reason));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={`Remove ${summary.name}?`}
      description={
        several
          ? `Remove only version ${detail.version}, or all ${summary.versions.length} versions. This cannot be undone.`
          : "It will be deleted from your library. This cannot be undone."
      }
      size="small"
      onClose={onCancel}
      testId="remove-dialog"
      footer={
        <>
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          {several && (
            <button
              type="button"
              className="button button-danger-outline"
              data-testid="confirm-remove-all"
              disabled={busy}
              onClick={() => void remove(null)}
            >
              Remove all versions
            </button>
          )}
          <button
            type="button"
            className="button button-danger"
            data-testid="confirm-remove"
            disabled={busy}
            onClick={() => void remove(detail.version)}
          >
            {several ? `Remove v${detail.version}` : "Remove"}
          </button>
        </>
      }
    >
      {error && <ErrorAlert error={error} testId="remove-error" />}
    </Modal>
  );
}

function DetailSkeleton() {
  return (
    <div className="detail-skeleton" aria-label="Loading capability" role="status">
      <div className="card-surface skeleton-header">
        <span className="skeleton skeleton-icon-lg" />
        <div className="skeleton-lines">
          <span className="skeleton skeleton-line w-40" />
          <span className="skeleton skeleton-line w-70" />
          <span className="skeleton skeleton-line w-55" />
        </div>
      </div>
      <span className="skeleton skeleton-block" />
    </div>
  );
}
