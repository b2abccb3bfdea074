// What the compiler says about the selected node.
import type { FlowDiagnostic } from "../../../generated/FlowDiagnostic";
import { SEVERITIES } from "../../library/registry";

export function NodeProblems({ problems }: { problems: ReadonlyArray<FlowDiagnostic> }) {
  if (problems.length === 0) return null;
  return (
    <ul className="node-problems" data-testid="inspector-problems">
      {problems.map((d, i) => (
        <li key={i} className={`node-problem node-problem-${d.severity}`} data-code={d.code}>
          <span aria-label={SEVERITIES[d.severity].label}>{SEVERITIES[d.severity].icon}</span> {d.message}{" "}
          <code className="kind">{d.code}</code>
        </li>
      ))}
    </ul>
  );
}
