// The library page when it has no cards to show: empty, no results, or failed to load.
import { describeLocation, errorTitle, type AppError } from "../../lib/errors";
import { MOD_LABEL } from "../../lib/platform";

export function EmptyLibrary({ onUpload }: { onUpload: () => void }) {
  return (
    <div className="state" data-testid="empty-state">
      <div className="state-art" aria-hidden="true">
        🧰
      </div>
      <h2>Your library is empty</h2>
      <p>
        Capabilities are what your agents can do. Upload a YAML, JSON or JavaScript capability file to
        check it and add it here.
      </p>
      <button type="button" className="button button-primary button-large" onClick={onUpload}>
        ⬆️ Upload your first capability
      </button>
      <p className="muted small">
        Or drop a file anywhere in this window · <kbd>{MOD_LABEL}</kbd> <kbd>U</kbd>
      </p>
    </div>
  );
}

export function NoResults({ query, onClear }: { query: string; onClear: () => void }) {
  return (
    <div className="state" data-testid="no-results">
      <div className="state-art" aria-hidden="true">
        🔍
      </div>
      <h2>
        No results for “<span className="mono">{query}</span>”
      </h2>
      <p>Try other words: search looks at names, descriptions, tags and actions.</p>
      <button type="button" className="button" onClick={onClear}>
        Clear search
      </button>
    </div>
  );
}

export function LoadFailed({ error, onRetry }: { error: AppError; onRetry: () => void }) {
  const location = describeLocation(error.line, error.column);
  return (
    <div className="state state-error" role="alert" data-testid="error-state" data-kind={error.kind}>
      <div className="state-art" aria-hidden="true">
        {error.kind === "no_backend" ? "🖥️" : "⚠️"}
      </div>
      <h2>{errorTitle(error)}</h2>
      <p className="error-kind">
        <code data-testid="error-kind">{error.kind}</code>
      </p>
      <p data-testid="error-message">{error.message}</p>
      {(error.path || location) && (
        <p className="muted small mono">
          {error.path} {location}
        </p>
      )}
      <button type="button" className="button button-primary" data-testid="retry" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
