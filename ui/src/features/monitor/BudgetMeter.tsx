// An agent's month against its cap: "Spent X of Y this month" over a bar that turns red once the
// cap is reached, which is when the backend starts refusing the agent's paid calls.
import { formatCost, formatPercent } from "../../lib/format";

type BudgetMeterProps = { spent: number; budget: number; testId: string };

export function BudgetMeter({ spent, budget, testId }: BudgetMeterProps) {
  const ratio = budget > 0 ? spent / budget : 1;
  const over = spent >= budget;
  return (
    <div className={`budget${over ? " is-over" : ""}`} data-testid={testId} data-over={over}>
      <p className="budget-text">
        Spent <strong>{formatCost(spent)}</strong> of {formatCost(budget)} this month
        <span className="muted"> · {formatPercent(Math.max(0, ratio))}</span>
      </p>
      <div
        className="budget-track"
        role="progressbar"
        aria-label="Monthly budget used"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, Math.round(ratio * 100))}
      >
        <span className="budget-fill" style={{ width: `${Math.min(100, Math.max(0, ratio * 100))}%` }} />
      </div>
      {over && <p className="field-error">The budget is used up: paid calls are refused until next month.</p>}
    </div>
  );
}
