// "Install from Marketplace": a wizard in a dialog. 1 Permissions: what the version may do (for an
// update, what changes), who signed it, what it costs; accepting installs it. Then, optionally,
// 2 Configure its keys, 3 Run its tests, 4 Attach it to an agent. Esc closes it at any step.
import { RetryAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import type { InstallOutcome } from "../../generated/InstallOutcome";
import { ConsentAttach } from "./ConsentAttach";
import { ConsentConfigure } from "./ConsentConfigure";
import { ConsentPermissions } from "./ConsentPermissions";
import { ConsentTest } from "./ConsentTest";
import { CONSENT_STEPS, useInstallFlow, type ConsentStep } from "./useInstallFlow";

/** What to install: `spec` is `id` (the latest) or `id@version`. */
export type ConsentTarget = { id: string; spec: string; update: boolean; icon: string | null };

type ConsentDialogProps = {
  target: ConsentTarget;
  onClose: () => void;
  onInstalled: (outcome: InstallOutcome) => void;
};

export function ConsentDialog({ target, onClose, onInstalled }: ConsentDialogProps) {
  const flow = useInstallFlow(target.spec, onInstalled);
  const plan = flow.plan.status === "ready" ? flow.plan.value : null;
  const outcome = flow.outcome;
  const title = target.update ? "Update from Marketplace" : "Install from Marketplace";

  return (
    <Modal
      title={title}
      description={plan ? `${plan.name} · v${plan.version}` : target.spec}
      onClose={onClose}
      testId="consent-dialog"
    >
      <ConsentStepper step={flow.step} installed={outcome !== null} onStep={flow.setStep} />
      {flow.plan.status === "error" ? (
        <RetryAlert error={flow.plan.error} testId="consent-error" onRetry={flow.retryPlan} />
      ) : plan === null ? (
        <div className="state-inline" role="status" data-testid="consent-loading">
          <span className="spinner" aria-hidden="true" /> Checking what {target.spec} asks for…
        </div>
      ) : flow.step === "permissions" || outcome === null ? (
        <ConsentPermissions
          plan={plan}
          icon={target.icon}
          busy={flow.busy}
          error={flow.error}
          progress={flow.progress}
          installed={outcome}
          replace={flow.replace}
          onReplaceChange={flow.setReplace}
          onAccept={() => void flow.accept(plan)}
          onCancel={onClose}
          onNext={() => flow.setStep("configure")}
        />
      ) : flow.step === "configure" ? (
        <ConsentConfigure id={outcome.id} keys={plan.configuration} onNext={() => flow.setStep("test")} />
      ) : flow.step === "test" ? (
        <ConsentTest id={outcome.id} version={outcome.version} onNext={() => flow.setStep("attach")} />
      ) : (
        <ConsentAttach id={outcome.id} version={outcome.version} onDone={onClose} />
      )}
    </Modal>
  );
}

type ConsentStepperProps = { step: ConsentStep; installed: boolean; onStep: (step: ConsentStep) => void };

/** The four steps; those after Permissions open once the capability is installed. */
function ConsentStepper({ step, installed, onStep }: ConsentStepperProps) {
  const current = CONSENT_STEPS.findIndex((s) => s.key === step);
  return (
    <nav className="stepper consent-stepper" aria-label="Install steps">
      <ol>
        {CONSENT_STEPS.map((s, i) => (
          <li key={s.key}>
            <button
              type="button"
              className={`step${s.key === step ? " is-current" : ""}${i < current || (installed && i === 0) ? " is-done" : ""}`}
              data-testid={`consent-step-${s.key}`}
              aria-current={s.key === step ? "step" : undefined}
              disabled={!installed}
              onClick={() => onStep(s.key)}
            >
              <span className="step-number" aria-hidden="true">
                {i < current || (installed && i === 0) ? "✓" : i + 1}
              </span>
              {s.label}
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}
