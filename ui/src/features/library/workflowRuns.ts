// Recorded workflow runs: how their statuses are named and coloured (the backend sends strings,
// so an unknown one falls back to a neutral look), which ones resume, and which trigger starts a
// workflow (read from its source, as the capability's detail does not carry it).

/** The `run-status-<tone>` look (styles.css) a status takes. */
type WorkflowTone = "ok" | "error" | "denied" | "unknown" | "running";

type WorkflowStatusLook = { label: string; tone: WorkflowTone; description: string };

export const WORKFLOW_RUN_STATUSES: Record<string, WorkflowStatusLook> = {
  ok: { label: "OK", tone: "ok", description: "Every step finished" },
  error: { label: "Error", tone: "error", description: "A step failed for good" },
  interrupted: {
    label: "Interrupted",
    tone: "denied",
    description: "Cut short (the app quit or crashed); it can resume from the step that did not finish",
  },
  filtered: {
    label: "Filtered",
    tone: "unknown",
    description: "The trigger did not pass the workflow's filter, so no step ran",
  },
  running: { label: "Running", tone: "running", description: "Still going" },
};

export const WORKFLOW_STEP_STATUSES: Record<string, WorkflowStatusLook> = {
  ok: { label: "OK", tone: "ok", description: "The step finished" },
  error: { label: "Error", tone: "error", description: "The step failed" },
  skipped: { label: "Skipped", tone: "unknown", description: "Its condition did not hold, or the run took another path" },
  running: { label: "Cut short", tone: "denied", description: "The run stopped while this step was going" },
};

export function workflowRunLook(status: string): WorkflowStatusLook {
  return WORKFLOW_RUN_STATUSES[status] ?? { label: status, tone: "unknown", description: status };
}

export function workflowStepLook(status: string): WorkflowStatusLook {
  return WORKFLOW_STEP_STATUSES[status] ?? { label: status, tone: "unknown", description: status };
}

/** Only these carry on from their first unfinished step (`workflow_resume` refuses the others). */
export function isResumable(status: string): boolean {
  return status === "interrupted" || status === "error";
}
