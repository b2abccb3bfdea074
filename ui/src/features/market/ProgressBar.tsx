// A progress bar fed by `market-progress` events: done/total when the total is known, a moving
// stripe otherwise, and the stage in words.
import type { MarketProgress } from "../../generated/MarketProgress";

type ProgressBarProps = { progress: MarketProgress | null; label: string; testId: string };

export function ProgressBar({ progress, label, testId }: ProgressBarProps) {
  const known = progress !== null && progress.total > 0;
  const percent = known ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : null;
  return (
    <div className="progress" data-testid={testId}>
      <div
        className={`progress-track${known ? "" : " is-indeterminate"}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={known ? progress.total : undefined}
        aria-valuenow={known ? progress.done : undefined}
      >
        <span className="progress-fill" style={percent === null ? undefined : { width: `${percent}%` }} />
      </div>
      <span className="progress-text small muted" aria-live="polite">
        {progress?.stage ?? `${label}…`}
        {known && ` (${progress.done}/${progress.total})`}
      </span>
    </div>
  );
}
