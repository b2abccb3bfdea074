// The outcome of one run: success or failure, how long it took, the output or the error, a
// badge when the network guard refused something, and every network call it made. A refusal of
// a private host or plain http offers to allow that HOST:PORT for the capability.
import { JsonBlock } from "../../components/JsonBlock";
import type { CallTrace } from "../../generated/CallTrace";
import type { ConsoleLine } from "../../generated/ConsoleLine";
import type { RunReport } from "../../generated/RunReport";
import { errorTitle, isConfigurationError } from "../../lib/errors";
import { formatBytes, formatDuration, plural } from "../../lib/format";
import { AllowHostButton } from "./AllowHostButton";
import { hostToAllow } from "./allowHost";

type RunResultViewProps = {
  report: RunReport;
  stale?: boolean;
  onOpenConfigure?: () => void;
  /**
   * The capability's network scope (`allowed_domains`: `host` or `host:port`): where a refused
   * URL that was never sent (so is not among the calls) tells its port.
   */
  scope?: ReadonlyArray<string>;
};

export function RunResultView({ report, stale = false, onOpenConfigure, scope }: RunResultViewProps) {
  const { error } = report;
  const grant = hostToAllow(error, report.calls, scope);
  return (
    <section
      className={`run-result card-surface ${report.ok ? "is-ok" : "is-failed"}${stale ? " is-stale" : ""}`}
      data-testid="run-result"
      data-ok={report.ok}
      data-execution={String(report.execution_id)}
      aria-label="Run result"
    >
      <header className="run-result-head">
        <span className="run-verdict">
          <span aria-hidden="true">{report.ok ? "✅" : "❌"}</span> {report.ok ? "Succeeded" : "Failed"}
        </span>
        <span className="run-facts muted small">
          <span data-testid="run-duration">{formatDuration(report.duration_ms)}</span>
          <span>{plural(report.calls.length, "network call")}</span>
          <span className="mono">
            {report.action} · v{report.version}
          </span>
                    <span className="mono">run #{String(report.execution_id)}</span>
          {report.memory_used !== null && (
            <span data-testid="run-memory">{(report.memory_used / (1024 * 1024)).toFixed(1)} MiB heap</span>
          )}
        </span>
        {report.sandbox_unconfined && (
          <span className="guard-badge guard-badge-warn" data-testid="run-unconfined">
            <span aria-hidden="true">⚠️</span> Sandbox confinement check off
          </span>
        )}
        {report.security_violation && (
          <span className="guard-badge" data-testid="run-security">
            <span aria-hidden="true">🛡️</span> Blocked by the network guard
          </span>
        )}
      </header>

      {report.ok ? (
        <div className="run-section">
          <h4 className="section-label">Output</h4>
          <JsonBlock value={report.output ?? null} testId="run-output" label="Output" />
        </div>
      ) : error ? (
        <div className="run-section run-error" role="alert">
          <p className="run-error-title">
            {errorTitle(error)} <code className="kind" data-testid="run-error-kind">{error.kind}</code>
          </p>
          <p className="run-error-message" data-testid="run-error-message">
            {error.message}
          </p>
          {isConfigurationError(error.kind) && onOpenConfigure && (
            <button type="button" className="button" data-testid="open-configure" onClick={onOpenConfigure}>
              Open Configure
            </button>
          )}
          {grant !== null && (
            <AllowHostButton capabilityId={report.capability} hostPort={grant} run={report} testId="run-allow-host" />
          )}
        </div>
      ) : (
        <p className="run-section muted">The run failed without saying why.</p>
      )}

            {report.console.length > 0 && (
        <div className="run-section">
          <h4 className="section-label">Console</h4>
          <ConsoleLog lines={report.console} testId="run-console" />
        </div>
      )}

      {report.calls.length > 0 && (
        <div className="run-section">
          <h4 className="section-label">Network calls</h4>
          <CallTable calls={report.calls} />
        </div>
      )}
    </section>
  );
}

/** What sandboxed code logged through `console`, one line each with its level. */
export function ConsoleLog({ lines, testId }: { lines: ReadonlyArray<ConsoleLine>; testId: string }) {
  return (
    <pre className="console-log" data-testid={testId}>
      {lines.map((line, i) => (
        <div key={i} className={`console-line console-${line.level}`}>
          <span className="console-level">{line.level}</span> {line.text}
        </div>
      ))}
    </pre>
  );
}

export function CallTable({ calls }: { calls: Array<CallTrace> }) {
  return (
    <div className="table-scroll">
      <table className="table call-table">
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">URL</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Time
            </th>
            <th scope="col" className="num">
              In
            </th>
            <th scope="col" className="num">
              Out
            </th>
          </tr>
        </thead>
        <tbody>
          {calls.map((call, i) => (
            <tr key={i} data-testid="run-call" data-status={call.status ?? ""}>
              <td>
                <code className="method">{call.method}</code>
              </td>
              <td className="mono small selectable">
                {call.url}
                {call.error && <span className="call-error">{call.error}</span>}
              </td>
              <td>
                {call.status === null ? (
                  <span className="muted" title={call.error ?? undefined}>
                    —
                  </span>
                ) : (
                  <span className={`http-status http-${Math.floor(call.status / 100)}xx`}>{call.status}</span>
                )}
              </td>
              <td className="num nowrap">{formatDuration(call.duration_ms)}</td>
              <td className="num nowrap">{formatBytes(Number(call.bytes_in))}</td>
              <td className="num nowrap">{formatBytes(Number(call.bytes_out))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
