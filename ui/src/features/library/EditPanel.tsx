// The Edit tab: the capability's source in a code editor, checked by the backend's validator
// 400 ms after typing stops (findings with a line are marked in the text, the others listed
// below it), and saved as a new version. The editor itself (CodeMirror) is a separate chunk,
// loaded the first time the tab opens; the draft lives in the session, so it outlives tab and
// version switches.
import { Component, lazy, Suspense, useEffect, useEffectEvent, useMemo, useState, type ReactNode } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { CapabilityDetail } from "../../generated/CapabilityDetail";
import type { ImportOutcome } from "../../generated/ImportOutcome";
import type { SourceFormatView } from "../../generated/SourceFormatView";
import type { ValidationReport } from "../../generated/ValidationReport";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { plural } from "../../lib/format";
import { MOD_LABEL, primaryModifierOnly } from "../../lib/platform";
import { useDebouncedValue } from "../../lib/useDebouncedValue";
import type { EditorFindings } from "./CodeEditor";
import { loadLanguage } from "./editorLanguages";
import type { CapabilitySession } from "./useCapabilitySession";
import { FindingRow } from "./ValidationReportView";

const CodeEditor = lazy(() => import("./CodeEditor"));

const VALIDATE_DELAY_MS = 400;

const EXTENSIONS: Record<SourceFormatView, string> = { js: "js", yaml: "yaml", json: "json" };

/** One validator answer, for the exact text it checked. */
type Check = { content: string } & ({ ok: true; report: ValidationReport } | { ok: false; error: AppError });

type Status = { state: "checking" | "valid" | "warnings" | "invalid" | "unchecked"; text: string };

function statusOf(check: Check | null): Status {
  if (check === null) return { state: "checking", text: "Checking…" };
  if (!check.ok) return { state: "unchecked", text: "⚠️ Could not check" };
  const { valid, errors, warnings } = check.report;
  if (!valid || errors.length > 0) {
    if (errors.length === 0) return { state: "invalid", text: "❌ Invalid" };
    const alsoWarnings = warnings.length > 0 ? `, ${plural(warnings.length, "warning")}` : "";
    return { state: "invalid", text: `❌ ${plural(errors.length, "error")}${alsoWarnings}` };
  }
  if (warnings.length > 0) return { state: "warnings", text: `⚠️ ${plural(warnings.length, "warning")}` };
  return { state: "valid", text: "✅ Valid" };
}

type EditPanelProps = {
  detail: CapabilityDetail;
  session: CapabilitySession;
  /** After a save, with what the backend stored. */
  onSaved: (outcome: ImportOutcome) => void;
};

export function EditPanel({ detail, session, onSaved }: EditPanelProps) {
  const { summary, version, source } = detail;
  const fileName = `${summary.id}-${version}.${EXTENSIONS[detail.source_format]}`;
  const draft = session.drafts[version] ?? source;
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<AppError | null>(null);
  // Saved as a new version of this capability: kept on screen, read-only, until the view opens it.
  const [saved, setSaved] = useState<{ content: string; version: string } | null>(null);
  const text = saved?.content ?? draft;
  const dirty = text !== source;

  // Fetch the language chunk beside the editor's, not after it.
  useEffect(() => {
    loadLanguage(detail.source_format).catch(() => {});
  }, [detail.source_format]);

  const toCheck = useDebouncedValue(text, VALIDATE_DELAY_MS);
  const [check, setCheck] = useState<Check | null>(null);
  useEffect(() => {
    let live = true;
    invoke("validate_source", { fileName, content: toCheck }).then(
      (report) => {
        if (live) setCheck({ content: toCheck, ok: true, report });
      },
      (reason: unknown) => {
        if (live) setCheck({ content: toCheck, ok: false, error: toAppError(reason) });
      },
    );
    return () => {
      live = false;
    };
  }, [fileName, toCheck]);

  // The answer for the text on screen; null while typing or while the validator works.
  const current = check !== null && check.content === text ? check : null;
  const status = statusOf(current);
  const editorFindings = useMemo<EditorFindings | null>(
    () =>
      check === null
        ? null
        : { content: check.content, findings: check.ok ? [...check.report.errors, ...check.report.warnings] : [] },
    [check],
  );
  // The last answer's findings that have no line to mark; kept while the next check runs.
  const unplaced = check?.ok ? [...check.report.errors, ...check.report.warnings].filter((f) => f.line === null) : [];
  const target = current?.ok ? current.report.capability : null;
  const targetTaken = target !== null && target.id === summary.id && summary.versions.includes(target.version);

  const valid = current?.ok === true && current.report.valid;
  const canSave = dirty && valid && !saving && saved === null;
  const saveBlocker = !dirty
    ? "No changes to save"
    : current === null
      ? "Checking…"
      : !valid
        ? "Fix the errors first"
        : undefined;

  const setText = (value: string) => {
    session.setDraft(version, value === source ? null : value);
    setSaveError(null);
  };

  const revert = () => {
    session.setDraft(version, null);
    setSaveError(null);
  };

  const save = async () => {
    if (!canSave) return;
    const content = text;
    setSaving(true);
    setSaveError(null);
    try {
      const outcome = await invoke("import_source", { fileName, content });
      if (outcome.id === summary.id && outcome.version !== version) setSaved({ content, version: outcome.version });
      setSaving(false);
      onSaved(outcome);
    } catch (reason) {
      setSaveError(toAppError(reason));
      setSaving(false);
    }
  };

  // Ctrl/⌘+S saves from anywhere on the tab, the editor included.
  const onKeyDown = useEffectEvent((e: KeyboardEvent) => {
    if (e.defaultPrevented || e.key.toLowerCase() !== "s" || !primaryModifierOnly(e)) return;
    if (document.querySelector("dialog[open]")) return;
    // Even when there is nothing to save: the webview's own "save page" is never wanted here.
    e.preventDefault();
    void save();
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKeyDown(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);

  return (
    <div className="edit-panel">
      <div className="edit-toolbar">
        <div className="edit-state">
          <span className={`edit-status edit-status-${status.state}`} data-testid="edit-status" data-state={status.state} role="status">
            {status.text}
          </span>
          <span className="muted small" data-testid="edit-dirty" data-dirty={dirty}>
            {saved !== null ? `Saved as v${saved.version}, opening it…` : dirty ? "Unsaved changes" : "No changes"}
          </span>
        </div>
        <div className="edit-actions">
          {dirty && target && saved === null && (
            <span className={`edit-target small${targetTaken ? " is-taken" : ""}`} data-testid="edit-target">
              Saves as <code>{`${target.id}@${target.version}`}</code>
              {targetTaken && " (already in your library)"}
            </span>
          )}
          <button
            type="button"
            className="button"
            data-testid="edit-revert"
            disabled={!dirty || saving || saved !== null}
            title="Restore the stored source (undo it with Ctrl/⌘+Z)"
            onClick={revert}
          >
            Revert
          </button>
          <button
            type="button"
            className="button button-primary"
            data-testid="edit-save"
            aria-keyshortcuts={`${MOD_LABEL === "⌘" ? "Meta" : "Control"}+S`}
            aria-busy={saving}
            disabled={!canSave}
            title={saveBlocker}
            onClick={() => void save()}
          >
            {saving ? "Saving…" : "Save as new version"}
            <kbd className="kbd-on-primary" aria-hidden="true">
              {MOD_LABEL}+S
            </kbd>
          </button>
        </div>
      </div>

      {saveError && (
        <ErrorAlert error={saveError} testId="edit-error">
          {saveError.kind === "version_conflict" && (
            <p className="alert-hint">
              <span aria-hidden="true">💡 </span>bump <code>version</code> to save a new version
            </p>
          )}
        </ErrorAlert>
      )}
      {current !== null && !current.ok && <ErrorAlert error={current.error} testId="edit-check-error" />}

      <EditorBoundary>
        <Suspense fallback={<EditorSkeleton />}>
          <CodeEditor
            value={text}
            format={detail.source_format}
            findings={editorFindings}
            readOnly={saving || saved !== null}
            label={`Source of ${summary.name} (${detail.source_format.toUpperCase()})`}
            onChange={setText}
          />
        </Suspense>
      </EditorBoundary>

      {unplaced.length > 0 && (
        <ul className="findings edit-findings card-surface" data-testid="edit-findings" aria-label="Findings without a line">
          {unplaced.map((finding, index) => (
            <FindingRow key={`${finding.severity}-${finding.code}-${index}`} finding={finding} />
          ))}
        </ul>
      )}

      <p className="edit-help muted small">
        Checked as you type. Undo <kbd>{MOD_LABEL}+Z</kbd>, redo <kbd>{MOD_LABEL}+Shift+Z</kbd>, find{" "}
        <kbd>{MOD_LABEL}+F</kbd>. Tab indents; press <kbd>Esc</kbd> then <kbd>Tab</kbd> to leave the editor.
      </p>
    </div>
  );
}

function EditorSkeleton() {
  return <div className="code-editor-skeleton skeleton" role="status" aria-label="Loading the editor" data-testid="editor-loading" />;
}

/** A failed chunk load (the editor module) shows as an error here instead of blanking the app. */
class EditorBoundary extends Component<{ children: ReactNode }, { error: AppError | null }> {
  override state: { error: AppError | null } = { error: null };

  static getDerivedStateFromError(reason: unknown): { error: AppError } {
    return { error: toAppError(reason) };
  }

  override render() {
    return this.state.error ? <ErrorAlert error={this.state.error} testId="editor-load-error" /> : this.props.children;
  }
}
