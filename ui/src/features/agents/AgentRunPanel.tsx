// "Try an action": runs one of the agent's actions (`capability.action`) with a JSON input, as
// an AI using the agent would, and shows the outcome.
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { AgentView } from "../../generated/AgentView";
import type { RunReport } from "../../generated/RunReport";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { RunResultView } from "../library/RunResultView";

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function parseInput(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

type AgentRunPanelProps = {
  agent: AgentView;
  /** After every run that started (it may have cost something). */
  onRan?: () => void;
};

export function AgentRunPanel({ agent, onRan }: AgentRunPanelProps) {
  const actions = agent.capabilities.filter((c) => c.enabled).flatMap((c) => c.actions);
  const [chosen, setChosen] = useState<string | null>(null);
  const [input, setInput] = useState("{}");
  const [inputError, setInputError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<RunReport | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  // After a removal the chosen action may be gone; fall back to the first one left.
  const action = chosen !== null && actions.includes(chosen) ? chosen : (actions[0] ?? null);

  const run = async () => {
    if (action === null || running) return;
    const parsed = parseInput(input);
    if (!parsed.ok) {
      setInputError(parsed.message);
      return;
    }
    setInputError(null);
    setRunning(true);
    setError(null);
    try {
      setReport(await invoke("agent_run", { agent: agent.id, action, input: parsed.value }));
      onRan?.();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setRunning(false);
    }
  };

  return (
    <section className="agent-section" aria-labelledby="agent-run-heading">
      <h3 id="agent-run-heading" className="panel-heading">
        Try an action
      </h3>
      {actions.length === 0 ? (
        <p className="panel-empty" data-testid="agent-run-empty">
          Add a capability with actions to try one here.
        </p>
      ) : (
        <form
          className="run-form card-surface"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void run();
          }}
        >
          <label className="field-inline">
            <span>Action</span>
            <select
              className="select run-action-select mono"
              data-testid="agent-run-action"
              value={action ?? ""}
              onChange={(e) => setChosen(e.currentTarget.value)}
            >
              {actions.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field-label">Input (JSON)</span>
            <textarea
              className={`input textarea mono${inputError ? " is-invalid" : ""}`}
              data-testid="agent-run-input"
              rows={4}
              spellCheck={false}
              value={input}
              aria-invalid={inputError !== null}
              onChange={(e) => {
                setInput(e.currentTarget.value);
                setInputError(null);
              }}
              onKeyDown={(e) => {
                if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  void run();
                }
              }}
            />
          </label>
          {inputError && (
            <p className="field-error" data-testid="agent-run-input-error">
              Not valid JSON: {inputError}
            </p>
          )}
          <div className="button-row">
            <button type="submit" className="button button-primary" data-testid="agent-run" disabled={running}>
              {running && <span className="spinner spinner-light" aria-hidden="true" />}
              Run
            </button>
          </div>
        </form>
      )}
      {error && <ErrorAlert error={error} testId="agent-run-error" />}
      {report && (
        <div data-testid="agent-run-result" data-ok={report.ok}>
          <RunResultView report={report} stale={running} />
        </div>
      )}
    </section>
  );
}
