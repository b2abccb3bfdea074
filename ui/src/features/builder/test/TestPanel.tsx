// The live test: fill in the action's inputs, run the flow as it is on screen, read the result,
// and keep a good run as a test case (its output becomes the expected output).
import { useId, useMemo, useState, type FormEvent } from "react";

import { useShallow } from "zustand/react/shallow";

import { ErrorAlert } from "../../../components/ErrorAlert";
import { RunButton } from "../../../components/RunButton";
import { flowInputs, WORKFLOW_FLOW, type FlowDoc, type TestCase } from "../model";
import { selectFlow } from "../store";
import { useBuilder, useBuilderStore } from "../useBuilder";
import { useFlowRun } from "../useFlowRun";
import { FlowRunResult } from "./FlowRunResult";
import { TestInputForm } from "./TestInputForm";
import { emptyForm, fieldViews, parseJson } from "./testInput";

function addTest(doc: FlowDoc, test: TestCase): FlowDoc {
  return { ...doc, capability: { ...doc.capability, tests: [...(doc.capability.tests ?? []), test] } };
}

export function TestPanel({ compact = false }: { compact?: boolean }) {
  const store = useBuilderStore();
  const action = useBuilder((s) => s.action);
  const flowActions = useBuilder(useShallow((s) => s.doc.capability.flows.map((f) => f.action)));
  const inputs = useBuilder((s) => flowInputs(selectFlow(s)));
  const stored = useBuilder((s) => s.testForms[action]);
  const run = useBuilder((s) => (s.run?.action === action ? s.run : null));
  const testCount = useBuilder((s) => s.doc.capability.tests?.length ?? 0);
  const startRun = useFlowRun();
  const fields = useMemo(() => fieldViews(inputs), [inputs]);
  const form = stored ?? emptyForm(fields);
  const parsed = parseJson(form.json);
  const [caseName, setCaseName] = useState("");
  const selectId = useId();

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (parsed.ok) void startRun(action, parsed.value);
  };

  const saveCase = () => {
    if (!run?.view?.ok) return;
    const test: TestCase = {
      name: caseName.trim() || `${action} ${testCount + 1}`,
      action,
      input: run.input,
      expected_output: run.view.output,
    };
    store.getState().commit((doc) => addTest(doc, test));
    setCaseName("");
  };

  const running = run?.running ?? false;
  return (
    <div className={`test-panel${compact ? " is-compact" : ""}`} data-testid="test-panel">
      <form className="run-form card-surface" onSubmit={onSubmit} noValidate aria-label="Test the flow">
        <div className="run-form-head">
          <label className="field-inline" htmlFor={selectId}>
            Action
          </label>
          <select
            id={selectId}
            className="select"
            data-testid="test-action"
            value={action}
            onChange={(e) => store.getState().selectAction(e.currentTarget.value)}
          >
            {flowActions.map((a) => (
              <option key={a} value={a}>
                {a === WORKFLOW_FLOW ? "Workflow" : a}
              </option>
            ))}
          </select>
        </div>
        <TestInputForm fields={fields} form={form} onChange={(next) => store.getState().setTestForm(action, next)} />
        <div className="run-form-foot">
          <span className="muted small">Runs the flow as it is now, saved or not; API calls are real.</span>
          <RunButton running={running} disabled={running || !parsed.ok} testId="test-run" />
        </div>
      </form>

      <div className="test-outcome" aria-live="polite" aria-busy={running}>
        {run?.failure && <ErrorAlert error={run.failure} testId="test-error" />}
        {run?.view && <FlowRunResult action={action} view={run.view} stale={running} />}
        {run === null && <p className="panel-empty">Run the flow to see its output, each node’s trace and the network calls.</p>}
        {run?.view?.ok && !running && (
          <div className="save-case">
            <input
              className="input"
              data-testid="test-case-name"
              aria-label="Test case name"
              placeholder={`${action} ${testCount + 1}`}
              value={caseName}
              onChange={(e) => setCaseName(e.currentTarget.value)}
            />
            <button type="button" className="button" data-testid="test-save-case" onClick={saveCase}>
              Save as test
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
