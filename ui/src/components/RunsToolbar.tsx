// Above a list of recent runs: how many are shown (newest first) and a Refresh button.
import { plural } from "../lib/format";

export function RunsToolbar({ count, limit, testId, onReload }: { count: number; limit: number; testId: string; onReload: () => void }) {
  return (
    <div className="panel-toolbar">
      <p className="muted small" aria-live="polite">
        {count >= limit ? `The latest ${plural(count, "run")}` : plural(count, "run")}, newest first
      </p>
      <button type="button" className="button button-small" data-testid={testId} onClick={onReload}>
        <span aria-hidden="true">↻</span> Refresh
      </button>
    </div>
  );
}
