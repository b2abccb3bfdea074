// The outcome of a test run: verdict and time, the output or the error, what each node did, the
// network calls and the console.
import { ErrorAlert } from "../../../components/ErrorAlert";
import { JsonBlock } from "../../../components/JsonBlock";
import type { FlowRunView } from "../../../generated/FlowRunView";
import { formatDuration, plural } from "../../../lib/format";
import { CallTable, ConsoleLog } from "../../library/RunResultView";
import { useBuilderStore } from "../useBuilder";

export function FlowRunResult({ action, view, stale }: { action: string; view: FlowRunView; stale: boolean }) {
  const store = useBuilderStore();
  return (
    <section
      className={`run-result card-surface ${view.ok ? "is-ok" : "is-failed"}${stale ? " is-stale" : ""}`}
      data-testid="test-result"
      data-ok={view.ok}
      aria-label="Test run result"
    >
      <header className="run-result-head">
        <span className="run-verdict">
          <span aria-hidden="true">{view.ok ? "✅" : "❌"}</span> {view.ok ? "Succeeded" : "Failed"}
        </span>
        <span className="run-facts muted small">
          <span data-testid="test-duration">{formatDuration(view.duration_ms)}</span>
          <span>{plural(view.nodes.length, "node")}</span>
          <span>{plural(view.calls.length, "network call")}</span>
        </span>
      </header>

      {view.ok ? (
        <div className="run-section">
          <h4 className="section-label">Output</h4>
          <JsonBlock value={view.output ?? null} testId="test-output" label="Output" />
        </div>
      ) : view.error ? (
        <div className="run-section">
          <ErrorAlert error={view.error} testId="test-error" />
        </div>
      ) : (
        <p className="run-section muted" data-testid="test-error">
          The run failed without saying why.
        </p>
      )}

      {view.nodes.length > 0 && (
        <div className="run-section">
          <h4 className="section-label">Nodes</h4>
          <ul className="trace-list" data-testid="test-nodes">
            {view.nodes.map((trace) => (
              <li key={trace.node} className={`trace-row trace-${trace.status}`} data-node={trace.node} data-status={trace.status}>
                <button
                  type="button"
                  className="link-button mono"
                  title="Show it on the canvas"
                  onClick={() => store.getState().focusNode(action, trace.node)}
                >
                  {trace.node}
                </button>
                <span className="trace-status">{trace.status}</span>
                <span className="muted small">{formatDuration(trace.duration_ms)}</span>
                {trace.error && <span className="field-error small">{trace.error}</span>}
              </li>
            ))}
          </ul>
        </div>
      )}

      <div className="run-section" data-testid="test-calls" data-count={view.calls.length}>
        <h4 className="section-label">Network calls</h4>
        {view.calls.length === 0 ? <p className="muted small">None.</p> : <CallTable calls={view.calls} />}
      </div>

      {view.console.length > 0 && (
        <div className="run-section">
          <h4 className="section-label">Console</h4>
          <ConsoleLog lines={view.console} testId="test-console" />
        </div>
      )}
    </section>
  );
}
