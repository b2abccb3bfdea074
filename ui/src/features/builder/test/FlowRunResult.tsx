// The outcome of a test run: verdict and time, the output or the error, what each node did, the
// network calls and the console. A refusal of a private host or plain http offers to allow that
// HOST:PORT for the draft's capability id (the live test runs under that id's grants).
import { ErrorAlert } from "../../../components/ErrorAlert";
import { JsonBlock } from "../../../components/JsonBlock";
import type { FlowRunView } from "../../../generated/FlowRunView";
import { formatDuration, plural } from "../../../lib/format";
import { AllowHostButton } from "../../library/AllowHostButton";
import { hostToAllow } from "../../library/allowHost";
import { CallTable, ConsoleLog } from "../../library/RunResultView";
import { known, type FlowCapability } from "../model";
import { useBuilder, useBuilderStore } from "../useBuilder";

/**
 * Where the action's flow may go, as the backend scopes its run: the URLs of its API calls and
 * the manifest's own `allowed_domains` (a field the builder does not edit but keeps).
 */
function flowScope(capability: FlowCapability, action: string): Array<string> {
  const flow = capability.flows.find((f) => f.action === action);
  const urls = (flow?.nodes ?? []).flatMap((node) => {
    const k = known(node);
    return k?.type === "api_call" && typeof k.data.url === "string" ? [k.data.url] : [];
  });
  const listed: unknown = (capability as Record<string, unknown>).allowed_domains;
  const domains = Array.isArray(listed) ? listed.filter((d): d is string => typeof d === "string") : [];
  return [...urls, ...domains];
}

export function FlowRunResult({ action, view, stale }: { action: string; view: FlowRunView; stale: boolean }) {
  const store = useBuilderStore();
  const capability = useBuilder((s) => s.doc.capability);
  // Node errors are text only; the run's error carries the kind of the one that ended it.
  const grant = view.ok ? null : hostToAllow(view.error, view.calls, flowScope(capability, action));
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
          <ErrorAlert error={view.error} testId="test-error">
            {grant !== null && (
              <div className="alert-actions">
                <AllowHostButton capabilityId={capability.id} hostPort={grant} run={view} testId="test-allow-host" />
              </div>
            )}
          </ErrorAlert>
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
