// The capability's saved test cases (publishing runs them all): each one's action, input and
// expected output, to load into the test form or remove.
import { JsonBlock } from "../../../components/JsonBlock";
import { flowInputs, type FlowDoc } from "../model";
import { selectFlow } from "../store";
import { useBuilder, useBuilderStore } from "../useBuilder";
import { fieldViews, fromJson } from "./testInput";

function removeTest(doc: FlowDoc, index: number): FlowDoc {
  const tests = (doc.capability.tests ?? []).filter((_, i) => i !== index);
  return { ...doc, capability: { ...doc.capability, tests: tests.length > 0 ? tests : undefined } };
}

export function TestCases() {
  const store = useBuilderStore();
  const tests = useBuilder((s) => s.doc.capability.tests);

  const load = (index: number) => {
    const s = store.getState();
    const test = s.doc.capability.tests?.[index];
    if (!test) return;
    const action = test.action ?? s.doc.capability.flows[0]?.action;
    if (action === undefined) return;
    s.selectAction(action);
    const fields = fieldViews(flowInputs(selectFlow(store.getState())));
    s.setTestForm(action, fromJson(fields, {}, JSON.stringify(test.input ?? {}, null, 2)));
  };

  return (
    <section className="test-cases card-surface" aria-label="Saved tests">
      <header className="pane-head">
        <h3 className="pane-title">Saved tests</h3>
        <span className="muted small">Publishing runs every one; all must pass.</span>
      </header>
      {!tests || tests.length === 0 ? (
        <p className="muted small pane-empty" data-testid="test-cases" data-count={0}>
          No tests yet. Run the flow, then “Save as test” keeps the input and the output it gave.
        </p>
      ) : (
        <ul className="test-case-list" data-testid="test-cases" data-count={tests.length}>
          {tests.map((test, i) => (
            <li key={i} className="test-case-item" data-testid={`test-case-${i}`} data-name={test.name ?? ""}>
              <div className="test-case-item-head">
                <strong>{test.name ?? `Test ${i + 1}`}</strong>
                <code className="muted small">{test.action ?? "first action"}</code>
                <span className="button-row">
                  <button type="button" className="button button-small button-ghost" data-testid={`test-case-load-${i}`} onClick={() => load(i)}>
                    Use input
                  </button>
                  <button
                    type="button"
                    className="button button-small button-danger-outline"
                    data-testid={`test-case-remove-${i}`}
                    onClick={() => store.getState().commit((doc) => removeTest(doc, i))}
                  >
                    Remove
                  </button>
                </span>
              </div>
              <div className="test-case-io">
                <div>
                  <h5 className="last-run-label">Input</h5>
                  <JsonBlock value={test.input} compact />
                </div>
                <div>
                  <h5 className="last-run-label">Expected output</h5>
                  <JsonBlock value={test.expected_output} compact />
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
