// The consent dialog's state: the plan (what installing means), the install or update itself with
// its progress, and which step of the wizard shows. Consent names exactly what the plan shows:
// every permission and every host.
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

/** Why the plan cannot be accepted as it stands, or null when it can. */
export function blockedReason(plan: InstallPlan): "key_changed" | "not_entitled" | null {
  if (plan.key_state === "changed") return "key_changed";
  if (plan.price_cents > 0 && !plan.entitled) return "not_entitled";
  return null;
}

export function useInstallFlow(spec: string, onInstalled: (outcome: InstallOutcome) => void) {
  const [attempt, setAttempt] = useState(0);
  const plan = useBackendQuery<InstallPlan>(`market-plan:${spec}#${attempt}`, () => invoke("market_install_plan", { spec }));
  const [step, setStep] = useState<ConsentStep>("permissions");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [outcome, setOutcome] = useState<InstallOutcome | null>(null);
  const { progress, start, stop } = useMarketProgress("install");

  const accept = async (accepted: InstallPlan) => {
    if (busy || blockedReason(accepted) !== null) return;
    // The backend wants each permission and each domain consented to by name.
    const consent = [...accepted.permissions.map((p) => p.name), ...accepted.domains];
    setBusy(true);
    setError(null);
    start();
    try {
      const result =
        accepted.current !== null
          ? await invoke("market_update", { id: accepted.id, consent })
          : await invoke("market_install", { spec, consent, agent: null });
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
    retryPlan: () => setAttempt((a) => a + 1),
    step,
    setStep,
    busy,
    error,
    progress,
    outcome,
    accept,
  };
}
