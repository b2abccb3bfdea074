// The wizard's four steps as a stepper; each says when it holds errors.
import type { FlowDiagnostic } from "../../generated/FlowDiagnostic";
import { parseTarget } from "./marks";
import { STEPS, stepOfPath, type Step } from "./steps";
import { useBuilder } from "./useBuilder";

function stepOf(d: FlowDiagnostic): Step {
  return parseTarget(d.target) !== null ? "actions" : stepOfPath(d.path);
}

export function Stepper({ step, onChange }: { step: Step; onChange: (step: Step) => void }) {
  const diagnostics = useBuilder((s) => s.compile?.diagnostics);
  const errors = new Map<Step, number>();
  for (const d of diagnostics ?? []) {
    if (d.severity === "error") errors.set(stepOf(d), (errors.get(stepOf(d)) ?? 0) + 1);
  }
  return (
    <nav className="stepper" aria-label="Builder steps">
      <ol>
        {STEPS.map((s, i) => {
          const count = errors.get(s.key) ?? 0;
          const current = s.key === step;
          return (
            <li key={s.key}>
              <button
                type="button"
                className={`step${current ? " is-current" : ""}`}
                data-testid={`step-${s.key}`}
                aria-current={current ? "step" : undefined}
                onClick={() => onChange(s.key)}
              >
                <span className="step-number" aria-hidden="true">
                  {i + 1}
                </span>
                {s.label}
                {count > 0 && (
                  <span className="tab-count tab-count-attention" title={`${count} error${count === 1 ? "" : "s"}`}>
                    {count}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
