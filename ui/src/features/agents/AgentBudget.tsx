// An agent's monthly budget: a cap on what its paid calls may cost per calendar month (empty for
// none), with what this month has cost so far (`stats` for the agent).
import { useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatCost } from "../../lib/format";
import { BudgetMeter } from "../monitor/BudgetMeter";
import { useStats } from "../monitor/useStats";

const SPENT_DAYS = 30;

/** Empty is "no budget"; otherwise a number ≥ 0, or a message saying what is wrong. */
function parseBudget(text: string): { ok: true; value: number | null } | { ok: false; message: string } {
  if (text.trim() === "") return { ok: true, value: null };
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) return { ok: false, message: "Enter an amount of 0 or more, or leave it empty." };
  return { ok: true, value };
}

/** `refresh` changes after the agent ran something here, which may have cost. */
export function AgentBudget({ agentId, refresh }: { agentId: string; refresh: number }) {
  const { state, reload } = useStats({ kind: "agent", id: agentId }, SPENT_DAYS, refresh);
  // What the user typed; null shows the stored budget.
  const [draft, setDraft] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const stats = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;
  const text = draft ?? (stats === null || stats.budget === null ? "" : String(stats.budget));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (saving) return;
    const parsed = parseBudget(text);
    if (!parsed.ok) {
      setInvalid(parsed.message);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await invoke("agent_budget", { agent: agentId, monthly: parsed.value });
      // The typed value stays in the field: it is what is stored now.
      setSaved(true);
      reload();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="agent-section" aria-labelledby="agent-budget-heading">
      <h3 id="agent-budget-heading" className="panel-heading">
        Monthly budget
      </h3>
      <div className="agent-budget card-surface">
        <form className="agent-budget-form" noValidate onSubmit={(e) => void save(e)}>
          <label className="field-inline">
            <span>Cap per month</span>
            <input
              className={`input agent-budget-input${invalid ? " is-invalid" : ""}`}
              data-testid="agent-budget-input"
              type="number"
              min={0}
              step="any"
              placeholder="No budget"
              value={text}
              aria-invalid={invalid !== null}
              onChange={(e) => {
                setDraft(e.currentTarget.value);
                setInvalid(null);
                setSaved(false);
              }}
            />
          </label>
          <button type="submit" className="button" data-testid="agent-budget-save" disabled={saving || (stats === null && state.status !== "error")}>
            {saving && <span className="spinner" aria-hidden="true" />}
            Save
          </button>
          {saved && (
            <span className="saved small" role="status" data-testid="agent-budget-saved">
              ✓ Saved
            </span>
          )}
        </form>
        {invalid && (
          <p className="field-error" data-testid="agent-budget-invalid">
            {invalid}
          </p>
        )}
        {error && <ErrorAlert error={error} testId="agent-budget-error" />}
        {state.status === "error" ? (
          <ErrorAlert error={state.error} testId="agent-budget-load-error" />
        ) : stats === null ? (
          <span className="skeleton skeleton-line w-40" role="status" aria-label="Loading this month's spend" />
        ) : (
          <div className={state.status === "loading" ? "is-stale" : undefined}>
            {stats.budget !== null ? (
              <BudgetMeter spent={stats.spent_this_month ?? 0} budget={stats.budget} testId="agent-budget-spent" />
            ) : (
              <p className="small" data-testid="agent-budget-spent">
                Spent <strong>{formatCost(stats.spent_this_month ?? 0)}</strong> this month · no budget, paid calls are
                never refused
              </p>
            )}
          </div>
        )}
        <p className="muted small">
          Paid calls (a capability with a price, or one that uses AI) are refused once the month has cost the cap.
        </p>
      </div>
    </section>
  );
}
