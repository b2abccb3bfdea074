// Step 1 of the consent dialog: who signed the package and whether their key is the one trusted
// before, every permission in plain words (for an update, what is new and what goes), the hosts
// it may reach, the capabilities it may call, what comes along, and the price. When the library
// already holds its id from another source, accepting waits until the user chooses to replace it.
// Accepting installs it.
import { ErrorAlert } from "../../components/ErrorAlert";
import type { InstallOutcome } from "../../generated/InstallOutcome";
import type { InstallPlan } from "../../generated/InstallPlan";
import type { MarketProgress } from "../../generated/MarketProgress";
import type { AppError } from "../../lib/errors";
import { FALLBACK_ICON } from "../library/registry";
import { ConsentError } from "./ConsentError";
import { ConsentGrants } from "./ConsentGrants";
import { formatPrice } from "./marketFormat";
import { ProgressBar } from "./ProgressBar";
import { blockedReason } from "./useInstallFlow";

type ConsentPermissionsProps = {
  plan: InstallPlan;
  icon: string | null;
  busy: boolean;
  error: AppError | null;
  progress: MarketProgress | null;
  /** Set once accepted: the step then only reads back what was agreed to. */
  installed: InstallOutcome | null;
  /** Ticked: whatever already holds the plan's id (`id_taken`) is removed first. */
  replace: boolean;
  onReplaceChange: (replace: boolean) => void;
  onAccept: () => void;
  onCancel: () => void;
  onNext: () => void;
};

const KEY_STATES: Record<string, string> = {
  new: "First install from this publisher: this key will be trusted from now on.",
  same: "The same key you trusted when you installed it.",
  rotated: "The publisher moved to a new key; the key you trusted signed the hand-over.",
};

export function ConsentPermissions(props: ConsentPermissionsProps) {
  const { plan, icon, busy, error, progress, installed, replace, onReplaceChange, onAccept, onCancel, onNext } = props;
  const blocked = blockedReason(plan, replace);
  const update = plan.current !== null;
  const acceptLabel = update
    ? plan.needs_consent
      ? "Allow and update"
      : "Update"
    : plan.permissions.length > 0 || plan.capabilities.length > 0
      ? "Allow and install"
      : "Install";

  return (
    <div className="consent-step" data-testid="consent-permissions">
      <div className="consent-summary">
        <span className="card-icon" aria-hidden="true">
          {icon || FALLBACK_ICON}
        </span>
        <div className="consent-summary-text">
          <p className="consent-name">
            <strong>{plan.name}</strong> <span className="version">v{plan.version}</span>
            {update && <span className="badge badge-amber">Update from v{plan.current}</span>}
          </p>
          <p className="small">
            <span className="muted">Published by </span>
            <strong data-testid="consent-publisher">{plan.publisher}</strong>{" "}
            {plan.publisher_verified ? (
              <span className="badge badge-green">✓ Verified</span>
            ) : (
              <span className="badge badge-gray">Unverified</span>
            )}
          </p>
          <p className="small">
            <span className="muted">Signing key </span>
            <code className="mono" data-testid="consent-fingerprint">
              {plan.key_fingerprint}
            </code>
            {KEY_STATES[plan.key_state] && <span className="muted"> — {KEY_STATES[plan.key_state]}</span>}
          </p>
          <p className="small muted">
            {plan.license ? `License ${plan.license}` : "No license stated"}
            {plan.tests_total > 0 && ` · publisher's tests passed ${plan.tests_passed}/${plan.tests_total}`}
          </p>
        </div>
      </div>

      {blocked === "key_changed" && (
        <div className="banner banner-danger consent-key-changed" role="alert" data-testid="consent-key-changed">
          <span className="banner-icon" aria-hidden="true">
            🛑
          </span>
          <div className="banner-body">
            <p className="banner-title">The publisher's signing key has changed</p>
            <p>
              This version of {plan.name} is signed with a different key than the one you trusted when you installed it.
              That happens when a publisher loses or replaces their key — or when someone else is pretending to be them.
              The publisher handed no key over to it, so it is refused. To trust the new key, uninstall{" "}
              {plan.name} and install it again.
            </p>
          </div>
        </div>
      )}

      {plan.id_taken !== null && !installed && (
        <IdTaken plan={plan} replace={replace} disabled={busy} onChange={onReplaceChange} />
      )}

      <ConsentGrants plan={plan} />

      {plan.dependencies.length > 0 && (
        <>
          <h3 className="panel-heading">Also installs</h3>
          <ul className="chips" data-testid="consent-dependencies">
            {plan.dependencies.map((dep) => (
              <li key={dep} className="chip mono small">
                {dep}
              </li>
            ))}
          </ul>
        </>
      )}

      {plan.price_cents > 0 && (
        <p className={`consent-price${plan.entitled ? "" : " is-blocked"}`} data-testid="consent-price">
          {plan.entitled
            ? `A paid capability (${formatPrice(plan.price_cents)}): your account has access to it.`
            : `A paid capability (${formatPrice(plan.price_cents)}): your account has no access to it yet. Buy it on the marketplace (or ask its administrator), then sync and try again.`}
        </p>
      )}

      {update && !plan.needs_consent && blocked === null && (
        <p className="muted small">It asks for nothing new: you already agreed to all of this.</p>
      )}
      {busy && <ProgressBar progress={progress} label={update ? "Updating" : "Installing"} testId="consent-progress" />}
      {error && (
        <ErrorAlert error={error} testId="consent-error">
          <ConsentError kind={error.kind} />
        </ErrorAlert>
      )}
      {installed && (
        <p className="saved" data-testid="consent-installed">
          ✓ {update ? "Updated to" : "Installed"} {installed.id}@{installed.version}
          {installed.installed.length > 1 && ` with ${installed.installed.length - 1} more`}
        </p>
      )}

      <div className="consent-actions">
        {installed ? (
          <button type="button" className="button button-primary" data-testid="consent-next" onClick={onNext}>
            Continue
          </button>
        ) : (
          <>
            <button type="button" className="button" data-testid="consent-cancel" onClick={onCancel}>
              Cancel
            </button>
            <button
              type="button"
              className="button button-primary"
              data-testid="consent-accept"
              data-autofocus
              disabled={busy || blocked !== null}
              onClick={onAccept}
            >
              {busy && <span className="spinner spinner-light" aria-hidden="true" />}
              {acceptLabel}
            </button>
          </>
        )}
      </div>
    </div>
  );
}

type IdTakenProps = { plan: InstallPlan; replace: boolean; disabled: boolean; onChange: (replace: boolean) => void };

/** The library already holds this id from another source: installing replaces it, if the user says so. */
function IdTaken({ plan, replace, disabled, onChange }: IdTakenProps) {
  return (
    <div className="banner banner-danger consent-key-changed" role="alert" data-testid="consent-id-taken">
      <span className="banner-icon" aria-hidden="true">
        ⚠️
      </span>
      <div className="banner-body">
        <p className="banner-title">
          Your library already has <code>{plan.id}</code>
        </p>
        <p>
          <q>{plan.id_taken}</q>
        </p>
        <p>Installing {plan.name} from the marketplace means replacing it; otherwise keep it and cancel.</p>
        <label className="checkbox">
          <input
            type="checkbox"
            data-testid="consent-replace"
            checked={replace}
            disabled={disabled}
            onChange={(e) => onChange(e.currentTarget.checked)}
          />
          <span>Replace it — the existing capability, its secrets and its agent links are removed first</span>
        </label>
      </div>
    </div>
  );
}
