// The Tests tab: run the capability's examples and tests for real and see, per case, whether the
// output matched what the manifest expects, with a diff of every mismatch.
import { ErrorAlert } from "../../components/ErrorAlert";
import { JsonBlock } from "../../components/JsonBlock";
import type { CapabilityDetail } from "../../generated/CapabilityDetail";
import type { TestCaseResult } from "../../generated/TestCaseResult";
import { errorTitle, isConfigurationError } from "../../lib/errors";
import { formatDuration, plural } from "../../lib/format";
import { CallTable } from "./RunResultView";
import type { CapabilitySession } from "./useCapabilitySession";

type TestsPanelProps = {
  detail: CapabilityDetail;
  session: CapabilitySession;
  onOpenConfigure: () => void;
};

export function TestsPanel({ detail, session, onOpenConfigure }: TestsPanelProps) {
  const slot = session.tests[detail.version];
  const running = slot?.running ?? false;
  const report = slot?.report ?? null;
  const total = report ? report.cases.reduce((sum, c) => sum + c.run.duration_ms, 0) : 0;
  const allPassed = report !== null && report.failed === 0;

  return (
    <div className="tests-panel">
      <div className="tests-toolbar card-surface">
        <div>
          <p className="tests-toolbar-title">Examples and tests</p>
          <p className="muted small">
            Runs every example and test case declared in the manifest of v{detail.version}, calling the real APIs, and
            compares each output with the expected one.
          </p>
        </div>
        <button
          type="button"
          className="button button-primary"
          data-testid="run-tests"
          aria-busy={running}
          disabled={running}
          onClick={() => void session.runTests(detail.version)}
        >
          {running ? (
            <>
              <span className="spinner spinner-light" aria-hidden="true" /> Running tests…
            </>
          ) : report ? (
            <>
              <span aria-hidden="true">↻</span> Run tests again
            </>
          ) : (
            <>
              <span aria-hidden="true">🧪</span> Run tests
            </>
          )}
        </button>
      </div>

      <div aria-live="polite" aria-busy={running}>
        {slot?.failure && <ErrorAlert error={slot.failure} testId="tests-failure" />}

        {report === null && !slot?.failure && (
          <p className="panel-empty" role={running ? "status" : undefined}>
            {running ? (
              <>
                <span className="spinner" aria-hidden="true" /> Running the cases…
              </>
            ) : (
              "No test run yet in this session. Press Run tests to check the capability against its examples."
            )}
          </p>
        )}

        {report !== null && report.cases.length === 0 && (
          <div className={`panel-empty${running ? " is-stale" : ""}`} data-testid="tests-empty">
            <p>
              <strong>This capability has no examples or tests.</strong>
            </p>
            <p className="small">
              Add <code>examples</code> (or <code>tests</code>) with an <code>input</code> and an{" "}
              <code>expected_output</code> to its manifest to check it here.
            </p>
          </div>
        )}

        {report !== null && report.cases.length > 0 && (
          <div className={running ? "is-stale" : undefined}>
            <div className={`tests-summary ${allPassed ? "is-ok" : "is-failed"}`}>
              <span aria-hidden="true">{allPassed ? "✅" : "❌"}</span>
              <strong data-testid="test-summary">
                {report.passed} passed, {report.failed} failed
              </strong>
              <span className="muted small">
                {plural(report.cases.length, "case")} · {formatDuration(total)} · v{report.version}
              </span>
            </div>
            <ul className="test-cases" aria-label="Test cases">
              {report.cases.map((c, i) => (
                <TestCaseCard key={`${i}:${c.name}`} result={c} onOpenConfigure={onOpenConfigure} />
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  );
}

function TestCaseCard({ result, onOpenConfigure }: { result: TestCaseResult; onOpenConfigure: () => void }) {
  const { run } = result;
  return (
    <li
      className={`test-case card-surface ${result.passed ? "is-ok" : "is-failed"}`}
      data-testid="test-case"
      data-passed={result.passed}
      data-name={result.name}
    >
      <header className="test-case-head">
        <span className="test-case-verdict" aria-hidden="true">
          {result.passed ? "✅" : "❌"}
        </span>
        <h4 className="test-case-name">{result.name}</h4>
        <span className="visually-hidden">{result.passed ? "passed" : "failed"}</span>
        <code className="mono muted small">{result.action || "(no action)"}</code>
        <span className={`pill ${result.passed ? "pill-set" : "pill-missing"}`}>{result.passed ? "Passed" : "Failed"}</span>
        <span className="muted small test-case-time">{formatDuration(run.duration_ms)}</span>
        {run.security_violation && (
          <span className="guard-badge">
            <span aria-hidden="true">🛡️</span> Blocked by the network guard
          </span>
        )}
      </header>

      {run.error && (
        <div className="test-case-section run-error">
          <p className="run-error-title">
            {errorTitle(run.error)}{" "}
            <code className="kind" data-testid="test-error-kind">
              {run.error.kind}
            </code>
          </p>
          <p className="run-error-message">{run.error.message}</p>
          {isConfigurationError(run.error.kind) && (
            <button type="button" className="button button-small" onClick={onOpenConfigure}>
              Open Configure
            </button>
          )}
        </div>
      )}

      {result.mismatches.length > 0 && (
        <div className="test-case-section">
          <h5 className="section-label">
            Output differs from the expected output in {plural(result.mismatches.length, "place")}
          </h5>
          <div className="table-scroll">
            <table className="table diff-table">
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Expected</th>
                  <th scope="col">Actual</th>
                </tr>
              </thead>
              <tbody>
                {result.mismatches.map((m) => (
                  <tr key={m.path} data-testid="test-mismatch" data-path={m.path}>
                    <td className="mono">{m.path}</td>
                    <td className="diff-expected">
                      <JsonBlock value={m.expected} compact />
                    </td>
                    <td className="diff-actual">
                      {m.actual === null || m.actual === undefined ? (
                        <span className="muted" title="The output has no value here (or it is null)">
                          missing or null
                        </span>
                      ) : (
                        <JsonBlock value={m.actual} compact />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}

      {result.assertion && (
        <p className="test-case-section field-error" data-testid="test-assertion">
          <span aria-hidden="true">⚠️ </span>
          {result.assertion}
        </p>
      )}

      {(run.ok || run.calls.length > 0) && (
        <details className="test-case-more">
          <summary>
            {run.ok ? "Output" : "Details"} · {plural(run.calls.length, "network call")}
          </summary>
          {run.ok && <JsonBlock value={run.output ?? null} label="Output" />}
          {run.calls.length > 0 && <CallTable calls={run.calls} />}
        </details>
      )}
    </li>
  );
}
