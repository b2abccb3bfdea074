// "Allow HOST:PORT for this capability" under a run the network guard refused because the host
// is private or plain http: one click grants it (allow_host) to this capability only, then says
// to run again. The run itself is not repeated: the user decides whether to.
import { useState } from "react";

import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";

type AllowHostButtonProps = {
  /** The capability (or builder draft) id the grant is for. */
  capabilityId: string;
  hostPort: string;
  /** The run result this answers: a new one (another run) starts over with the button. */
  run: object;
  /** The button's; the confirmation is `${testId}-done`, a refusal `${testId}-error`. */
  testId: string;
};

type Outcome = { run: object; error: AppError | null };

export function AllowHostButton({ capabilityId, hostPort, run, testId }: AllowHostButtonProps) {
  const [busy, setBusy] = useState(false);
  // Kept with the result it belongs to, so the next run's refusal offers the button again.
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const shown = outcome !== null && outcome.run === run ? outcome : null;

  const allow = async () => {
    setBusy(true);
    setOutcome(null);
    try {
      await invoke("allow_host", { id: capabilityId, hostPort });
      setOutcome({ run, error: null });
    } catch (reason) {
      setOutcome({ run, error: toAppError(reason) });
    } finally {
      setBusy(false);
    }
  };

  if (shown !== null && shown.error === null) {
    return (
      <p className="saved small" role="status" data-testid={`${testId}-done`} data-host={hostPort}>
        <span aria-hidden="true">✓</span> Allowed <code>{hostPort}</code> — run again
      </p>
    );
  }
  return (
    <>
      <p className="muted small">
        Only <code>{capabilityId}</code> may then reach it on this machine or network; other capabilities are still
        refused.
      </p>
      <button
        type="button"
        className="button"
        data-testid={testId}
        data-host={hostPort}
        disabled={busy}
        onClick={() => void allow()}
      >
        {busy && <span className="spinner" aria-hidden="true" />}
        Allow <span className="mono">{hostPort}</span> for this capability
      </button>
      {shown?.error && (
        <p className="field-error" role="alert" data-testid={`${testId}-error`} data-kind={shown.error.kind}>
          <code className="kind">{shown.error.kind}</code> {shown.error.message}
        </p>
      )}
    </>
  );
}
