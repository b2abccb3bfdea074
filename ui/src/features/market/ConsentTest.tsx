// Step 3 of the consent dialog: run the capability's own tests on this machine, with the
// configuration just entered. Skippable.
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { TestReport } from "../../generated/TestReport";
import { invoke } from "../../lib/backend";
import { isConfigurationError, toAppError, type AppError } from "../../lib/errors";
import { plural } from "../../lib/format";

type ConsentTestProps = { id: string; version: string; onNext: () => void };

export function ConsentTest({ id, version, onNext }: ConsentTestProps) {
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<TestReport | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      setReport(await invoke("test_capability", { id, version }));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setRunning(false);
    }
  };

  const total = report === null ? 0 : report.passed + report.failed;
  return (
    <div className="consent-step" data-testid="consent-test">
      <p className="muted small">
        Runs the test cases that come with {id}@{version} here, with your configuration.
      </p>
      <div>
        <button
          type="button"
          className="button"
          data-testid="consent-test-run"
          disabled={running}
          aria-busy={running}
          autoFocus
          onClick={() => void run()}
        >
          {running ? <span className="spinner" aria-hidden="true" /> : <span aria-hidden="true">▶</span>}
          {report ? "Run again" : "Run tests"}
        </button>
      </div>
      {report && (
        <div
          className={`consent-test-result ${report.failed === 0 ? "is-passed" : "is-failed"}`}
          role="status"
          data-testid="consent-test-result"
          data-passed={report.failed === 0}
        >
          {total === 0 ? (
            <p>It comes with no tests.</p>
          ) : report.failed === 0 ? (
            <p>
              ✓ {report.passed}/{total} tests passed
            </p>
          ) : (
            <>
              <p>
                ✗ {plural(report.failed, "test")} of {total} failed
              </p>
              <ul className="small">
                {report.cases
                  .filter((c) => !c.passed)
                  .map((c) => (
                    <li key={c.name}>
                      <span className="mono">{c.action}</span> — {c.name}
                      {c.run.error && <span className="muted"> ({c.run.error.message})</span>}
                    </li>
                  ))}
              </ul>
            </>
          )}
        </div>
      )}
      {error && (
        <ErrorAlert error={error} testId="consent-test-error">
          {isConfigurationError(error.kind) && <p className="small">Go back to Configure to enter what is missing.</p>}
        </ErrorAlert>
      )}
      <div className="consent-actions">
        <button type="button" className={`button${report ? " button-primary" : ""}`} data-testid="consent-next" onClick={onNext}>
          {report ? "Continue" : "Skip"}
        </button>
      </div>
    </div>
  );
}
