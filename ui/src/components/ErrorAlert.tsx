// An inline error: a title chosen by kind, the kind itself, the message, and where, if known.
import type { ReactNode } from "react";

import { describeLocation, errorTitle, type AppError } from "../lib/errors";

type ErrorAlertProps = { error: AppError; testId?: string; children?: ReactNode };

export function ErrorAlert({ error, testId, children }: ErrorAlertProps) {
  const location = describeLocation(error.line, error.column);
  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-kind={error.kind}>
      <span className="alert-icon" aria-hidden="true">
        ❌
      </span>
      <div className="alert-body">
        <p className="alert-title">
          {errorTitle(error)} <code className="kind">{error.kind}</code>
        </p>
        <p className="alert-message">{error.message}</p>
        {(error.path || location) && (
          <p className="alert-where">
            {error.path && <code>{error.path}</code>} {location}
          </p>
        )}
        {children}
      </div>
    </div>
  );
}

/** An error with a Retry button (a load that can simply be tried again). */
export function RetryAlert({ error, testId, onRetry }: { error: AppError; testId?: string; onRetry: () => void }) {
  return (
    <ErrorAlert error={error} testId={testId}>
      <div className="alert-actions">
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      </div>
    </ErrorAlert>
  );
}
