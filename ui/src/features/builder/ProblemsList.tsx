// Every diagnostic of the last compile, for all actions. A click on one about a node (or edge)
// opens its action, selects the node and centres it; one about the manifest goes to its step.
import { ErrorAlert } from "../../components/ErrorAlert";
import type { FlowDiagnostic } from "../../generated/FlowDiagnostic";
import { SEVERITIES } from "../library/registry";
import { parseTarget } from "./marks";
import { stepOfPath, type Step } from "./steps";
import { useBuilder, useBuilderStore } from "./useBuilder";

function where(d: FlowDiagnostic): string {
  const target = parseTarget(d.target);
  if (target) return `${d.action ? `${d.action} · ` : ""}${target.id}`;
  return d.path ?? "capability";
}

export function ProblemsList({ onGoToStep }: { onGoToStep: (step: Step) => void }) {
  const store = useBuilderStore();
  const compile = useBuilder((s) => s.compile);
  const state = useBuilder((s) => s.compileState);
  const diagnostics = compile?.diagnostics ?? [];

  const open = (d: FlowDiagnostic) => {
    const target = parseTarget(d.target);
    const s = store.getState();
    if (target === null || d.action === null) {
      onGoToStep(stepOfPath(d.path));
      return;
    }
    if (target.kind === "node") {
      s.focusNode(d.action, target.id);
      return;
    }
    // An edge: select it and centre its source node.
    s.selectAction(d.action);
    const edge = s.doc.capability.flows.find((f) => f.action === d.action)?.edges.find((e) => e.id === target.id);
    if (edge) {
      s.focusNode(d.action, edge.source);
      s.select(new Set(), new Set([edge.id]));
    }
  };

  const errors = diagnostics.filter((d) => d.severity === "error").length;
  return (
    <section className="problems card-surface" aria-label="Problems">
      <header className="pane-head">
        <h3 className="pane-title">
          Problems{" "}
          {diagnostics.length > 0 && (
            <span className={`tab-count${errors > 0 ? " tab-count-attention" : ""}`}>{diagnostics.length}</span>
          )}
        </h3>
        <span className="muted small" data-testid="compile-state" data-state={state.status}>
          {state.status === "busy" ? "Checking…" : state.status === "error" ? "Could not check" : ""}
        </span>
      </header>
      {state.error && <ErrorAlert error={state.error} testId="compile-error" />}
      {diagnostics.length === 0 ? (
        <p className="muted small pane-empty" data-testid="problems-list" data-count={0}>
          {compile === null ? "Not checked yet." : "No problems: the flow compiles."}
        </p>
      ) : (
        <ul className="problem-list" data-testid="problems-list" data-count={diagnostics.length}>
          {diagnostics.map((d, i) => (
            <li key={i}>
              <button
                type="button"
                className={`problem problem-${d.severity}`}
                data-testid={`problem-${i}`}
                data-code={d.code}
                data-target={d.target ?? ""}
                onClick={() => open(d)}
              >
                <span aria-label={SEVERITIES[d.severity].label}>{SEVERITIES[d.severity].icon}</span>
                <span className="problem-message">{d.message}</span>
                <span className="problem-where mono muted small">{where(d)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
