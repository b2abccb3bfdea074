// The selected node in the last test run: how it ended, how long it took, what it received and
// returned, or its error.
import { JsonBlock } from "../../../components/JsonBlock";
import type { NodeTrace } from "../../../generated/NodeTrace";
import { formatDuration } from "../../../lib/format";

const VERDICT: Record<NodeTrace["status"], string> = { ok: "✅ Ran", error: "❌ Failed", skipped: "⏭️ Skipped" };

export function LastRun({ trace }: { trace: NodeTrace }) {
  return (
    <section className="inspector-section last-run" data-testid="inspector-last-run" data-status={trace.status}>
      <h4 className="section-label">Last run</h4>
      <p className="last-run-head">
        <span>{VERDICT[trace.status]}</span>
        <span className="muted small">{formatDuration(trace.duration_ms)}</span>
      </p>
      {trace.error && (
        <p className="field-error" data-testid="inspector-last-run-error">
          {trace.error}
        </p>
      )}
      <h5 className="last-run-label">Input</h5>
      <JsonBlock value={trace.input} compact testId="inspector-last-run-input" label="Input of the node" />
      {trace.status === "ok" && (
        <>
          <h5 className="last-run-label">Output</h5>
          <JsonBlock value={trace.output} compact testId="inspector-last-run-output" label="Output of the node" />
        </>
      )}
    </section>
  );
}
