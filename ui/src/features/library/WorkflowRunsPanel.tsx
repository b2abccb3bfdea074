// The Runs tab of a workflow (or flow): its recorded runs, newest first, each with its steps; a
// run that was interrupted or failed resumes from its first unfinished step. A workflow started by
// a file upload also gets "Run with a file": a path typed in, or a file dropped on the window.
import { useCallback, useEffect, useEffectEvent, useId, useState, type FormEvent } from "react";

import { ErrorAlert, RetryAlert } from "../../components/ErrorAlert";
import { JsonBlock } from "../../components/JsonBlock";
import { RunButton } from "../../components/RunButton";
import { RunsToolbar } from "../../components/RunsToolbar";
import type { CapabilityDetail } from "../../generated/CapabilityDetail";
import type { WorkflowRunView } from "../../generated/WorkflowRunView";
import type { WorkflowStepView } from "../../generated/WorkflowStepView";
import { invoke, onFileDrop, type FileDropEvent } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatDuration, formatExact, formatRelative, plural } from "../../lib/format";
import { useBackendQuery, type QueryState } from "../../lib/useBackendQuery";
import { useNow } from "../../lib/useNow";
import { isResumable, workflowRunLook, workflowStepLook } from "./workflowRuns";

const LIMIT = 20;
const RELATIVE_REFRESH_MS = 30_000;
/** How soon the list is read again while a run is still going (started by a trigger, say). */
const RUNNING_POLL_MS = 3_000;

type WorkflowRunsPanelProps = {
  detail: CapabilityDetail;
  /** Changes after a run started elsewhere on the page (the Run tab), to read the runs again. */
  refresh: number;
};

export function WorkflowRunsPanel({ detail, refresh }: WorkflowRunsPanelProps) {
  const capability = detail.summary.id;
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<Array<WorkflowRunView>>(`${refresh}:${generation}:${capability}`, () =>
    invoke("workflow_runs", { capability, limit: LIMIT }),
  );
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // The run just started here (an upload or a resume), shown before the list has caught up.
  const [fresh, setFresh] = useState<WorkflowRunView | null>(null);
  const onRan = useCallback(
    (run: WorkflowRunView) => {
      setFresh(run);
      reload();
    },
    [reload],
  );
  const byUpload = detail.trigger === "file_upload";
  const anyRunning = state.status === "ready" && state.value.some((r) => r.status === "running");
  useEffect(() => {
    if (!anyRunning) return;
    const timer = window.setTimeout(reload, RUNNING_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [anyRunning, reload]);

  return (
    <div className="workflow-runs" data-testid="workflow-runs">
      {byUpload && <UploadBox capability={capability} onRan={onRan} />}
      <RunList state={state} fresh={fresh} onReload={reload} onRan={onRan} />
    </div>
  );
}

type RunListProps = {
  state: QueryState<Array<WorkflowRunView>>;
  fresh: WorkflowRunView | null;
  onReload: () => void;
  onRan: (run: WorkflowRunView) => void;
};

function RunList({ state, fresh, onReload, onRan }: RunListProps) {
  const now = useNow(RELATIVE_REFRESH_MS);
  const baseId = useId();
  if (state.status === "error") return <RetryAlert error={state.error} testId="workflow-runs-error" onRetry={onReload} />;
  const listed = state.status === "ready" ? state.value : state.previous;
  if (listed === null) {
    return (
      <div role="status" aria-label="Loading runs" data-testid="loading">
        <span className="skeleton skeleton-block" />
      </div>
    );
  }
  const runs = fresh !== null && !listed.some((r) => r.id === fresh.id) ? [fresh, ...listed] : listed;
  if (runs.length === 0) {
    return (
      <p className="panel-empty" data-testid="workflow-runs-empty">
        No recorded runs yet. Runs from the Run tab, from triggers and from <code>capsmith workflow</code> show up here.
      </p>
    );
  }
  const anchor = (id: number) => `${baseId}-run-${id}`;
  const shown = new Set(runs.map((r) => r.id));
  return (
    <div className={state.status === "loading" ? "is-stale" : undefined}>
      <RunsToolbar count={runs.length} limit={LIMIT} testId="workflow-runs-refresh" onReload={onReload} />
      <ul className="workflow-run-list" aria-label="Recorded runs">
        {runs.map((run) => (
          <RunItem
            key={run.id}
            run={run}
            now={now}
            anchorId={anchor(run.id)}
            highlighted={fresh?.id === run.id}
            resumedFromAnchor={run.resumed_from !== null && shown.has(run.resumed_from) ? anchor(run.resumed_from) : null}
            onRan={onRan}
          />
        ))}
      </ul>
    </div>
  );
}

type RunItemProps = {
  run: WorkflowRunView;
  now: number;
  anchorId: string;
  highlighted: boolean;
  /** Where the run it resumed is on the page, when it is listed. */
  resumedFromAnchor: string | null;
  onRan: (run: WorkflowRunView) => void;
};

function RunItem({ run, now, anchorId, highlighted, resumedFromAnchor, onRan }: RunItemProps) {
  const [resuming, setResuming] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const look = workflowRunLook(run.status);
  const resumable = isResumable(run.status);

  const resume = async () => {
    setResuming(true);
    setError(null);
    try {
      onRan(await invoke("workflow_resume", { runId: run.id }));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setResuming(false);
    }
  };

  const goTo = (id: string) => {
    const target = document.getElementById(id);
    target?.scrollIntoView({ block: "nearest", behavior: "smooth" });
    target?.focus();
  };

  return (
    <li
      id={anchorId}
      tabIndex={-1}
      className={`workflow-run card-surface is-${look.tone}${highlighted ? " is-fresh" : ""}`}
      data-testid="workflow-run"
      data-status={run.status}
      data-id={run.id}
    >
      <header className="workflow-run-head">
        <span className={`run-status run-status-${look.tone}`} data-status={run.status} title={look.description}>
          <span className="run-status-dot" aria-hidden="true" />
          {look.label}
        </span>
        <strong className="workflow-run-title">Run #{run.id}</strong>
        <span className="muted small">
          <code>{run.action}</code> · v{run.version}
        </span>
        {run.resumed_from !== null && (
          <span className="small" data-testid="workflow-run-resumed-from" data-from={run.resumed_from}>
            {resumedFromAnchor ? (
              <button type="button" className="link-button" onClick={() => goTo(resumedFromAnchor)}>
                Resumed from run #{run.resumed_from}
              </button>
            ) : (
              <span className="muted">Resumed from run #{run.resumed_from}</span>
            )}
          </span>
        )}
        <time className="muted small workflow-run-time" dateTime={run.started_at} title={formatExact(run.started_at)}>
          {formatRelative(run.started_at, now)}
        </time>
        {resumable && (
          <button
            type="button"
            className="button button-small"
            data-testid="workflow-resume"
            disabled={resuming}
            aria-busy={resuming}
            title="Carries on from the first step that did not finish; finished steps keep their results"
            onClick={() => void resume()}
          >
            {resuming ? (
              <>
                <span className="spinner" aria-hidden="true" /> Resuming…
              </>
            ) : (
              <>
                <span aria-hidden="true">⟳</span> Resume
              </>
            )}
          </button>
        )}
      </header>
      {run.error && (
        <p className="workflow-run-error field-error selectable" data-testid="workflow-run-error">
          {run.error}
        </p>
      )}
      {error && <ErrorAlert error={error} testId="workflow-resume-error" />}
      <details className="workflow-run-more" open={run.status === "error" || run.status === "interrupted" || highlighted}>
        <summary>
          {run.steps.length === 0 ? "No steps ran" : plural(run.steps.length, "step")}
          {run.output !== null && run.output !== undefined ? " and the output" : ""}
        </summary>
        {run.steps.length > 0 && <StepTable steps={run.steps} />}
        {run.output !== null && run.output !== undefined && (
          <div>
            <h4 className="section-label">Output</h4>
            <JsonBlock value={run.output} compact label={`Output of run ${run.id}`} testId="workflow-run-output" />
          </div>
        )}
      </details>
    </li>
  );
}

function StepTable({ steps }: { steps: Array<WorkflowStepView> }) {
  return (
    <table className="table workflow-steps">
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Duration
          </th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((step, i) => {
          const look = workflowStepLook(step.status);
          return (
            // A step id can repeat (a step run again by a loop), so the position is part of the key.
            <tr key={`${i}:${step.step}`} data-testid="workflow-run-step" data-step={step.step} data-status={step.status}>
              <td className="mono">{step.step}</td>
              <td>
                <span className={`run-status run-status-${look.tone}`} data-status={step.status} title={look.description}>
                  <span className="run-status-dot" aria-hidden="true" />
                  {look.label}
                </span>
              </td>
              <td className="num">{formatDuration(step.duration_ms)}</td>
              <td className="selectable">
                {step.error ? <span className="field-error">{step.error}</span> : <span className="muted">—</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

type UploadBoxProps = { capability: string; onRan: (run: WorkflowRunView) => void };

/**
 * "Run with a file": the backend copies the file into its uploads folder and starts the workflow
 * with it. A file dropped on the window while this box shows fills the path (LibraryPage leaves
 * such drops to it: see `data-claims-file-drops`).
 */
function UploadBox({ capability, onRan }: UploadBoxProps) {
  const [path, setPath] = useState("");
  const [running, setRunning] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const pathId = useId();
  const helpId = `${pathId}-help`;

  const onNativeDrop = useEffectEvent((event: FileDropEvent) => {
    // A dialog (the capability upload) takes drops while it is open.
    if (document.querySelector("dialog[open]")) return;
    switch (event.type) {
      case "enter":
        setDragging(true);
        break;
      case "over":
        break;
      case "leave":
        setDragging(false);
        break;
      case "drop": {
        setDragging(false);
        const [first] = event.paths;
        if (first === undefined) return;
        setPath(first);
        setError(null);
        break;
      }
    }
  });
  useEffect(() => onFileDrop((event) => onNativeDrop(event)), []);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const file = path.trim();
    if (running || file === "") return;
    setRunning(true);
    setError(null);
    try {
      onRan(await invoke("workflow_upload", { capability, path: file }));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setRunning(false);
    }
  };

  return (
    <form
      className={`workflow-upload card-surface${dragging ? " is-dragging" : ""}`}
      data-claims-file-drops="true"
      aria-label="Run with a file"
      onSubmit={(e) => void onSubmit(e)}
      noValidate
    >
      <label htmlFor={pathId} className="setting-title">
        <span aria-hidden="true">📄 </span>Run with a file
      </label>
      <p id={helpId} className="muted small">
        This workflow starts from an uploaded file. Type the path of a file on this computer, or drop one on the window.
      </p>
      <div className="workflow-upload-row">
        <input
          id={pathId}
          className={`input mono${error ? " is-invalid" : ""}`}
          data-testid="workflow-upload-path"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder={dragging ? "Drop the file to use it" : "/path/to/invoice.pdf"}
          value={path}
          aria-describedby={helpId}
          aria-invalid={error !== null}
          onChange={(e) => {
            setPath(e.currentTarget.value);
            setError(null);
          }}
        />
        <RunButton running={running} disabled={running || path.trim() === ""} testId="workflow-upload" />
      </div>
      {error && <ErrorAlert error={error} testId="workflow-upload-error" />}
    </form>
  );
}
