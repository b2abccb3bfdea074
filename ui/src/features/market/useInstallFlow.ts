// The consent dialog's state: the plan (what installing means), the install or update itself with
// its progress, and which step of the wizard shows. Consent names exactly what the plan shows:
// every permission, every host and every capability it may call. When the library already holds
// the id from another source, the user must choose to replace it before accepting.
import { useState } from "react";

import type { InstallOutcome } from "../../generated/InstallOutcome";
import type { InstallPlan } from "../../generated/InstallPlan";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { useMarketProgress } from "./useMarketProgress";

export type ConsentStep = "permissions" | "configure" | "test" | "attach";

export const CONSENT_STEPS: Array<{ key: ConsentStep; label: string }> = [
  { key: "permissions", label: "Permissions" },
  { key: "configure", label: "Configure" },
  { key: "test", label: "Test" },
  { key: "attach", label: "Attach to agent" },
];

export type BlockedReason = "key_changed" | "not_entitled" | "id_taken";

/** Why the plan cannot be accepted as it stands (`replace`: the user chose to replace what holds its id), or null. */
export function blockedReason(plan: InstallPlan, replace: boolean): BlockedReason | null {
  if (plan.key_state === "changed") return "key_changed";
  if (plan.price_cents > 0 && !plan.entitled) return "not_entitled";
  if (plan.id_taken !== null && !replace) return "id_taken";
  return null;
}

export function useInstallFlow(spec: string, onInstalled: (outcome: InstallOutcome) => void) {
  const [attempt, setAttempt] = useState(0);
  const plan = useBackendQuery<InstallPlan>(`market-plan:${spec}#${attempt}`, () => invoke("market_install_plan", { spec }));
  const [step, setStep] = useState<ConsentStep>("permissions");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [outcome, setOutcome] = useState<InstallOutcome | null>(null);
  // Ticked: the capability already holding this id goes first (with its secrets and agent links).
  const [replace, setReplace] = useState(false);
  const { progress, start, stop } = useMarketProgress("install");

  const accept = async (accepted: InstallPlan) => {
    if (busy || blockedReason(accepted, replace) !== null) return;
    // The backend wants each permission, domain and callable capability consented to by name.
    const consent = [...accepted.permissions.map((p) => p.name), ...accepted.domains, ...accepted.capabilities];
    setBusy(true);
    setError(null);
    start();
    try {
      const result =
        accepted.current !== null
          ? await invoke("market_update", { id: accepted.id, consent })
          : await invoke("market_install", { spec, consent, agent: null, replace: replace ? true : null });
      setOutcome(result);
      setStep("configure");
      onInstalled(result);
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
      stop();
    }
  };

  return {
    plan,
    retryPlan: () => {
      setReplace(false);
      setAttempt((a) => a + 1);
    },
    step,
    setStep,
    busy,
    error,
    progress,
    outcome,
    replace,
    setReplace,
    accept,
  };
}
