// Under a run of an installed capability that was refused because its stored version asks for more
// than its user consented to (`consent_required`) or because the marketplace revoked it (`revoked`):
// what it additionally asks, with one button that consents to all of it and runs the same action
// again with the same input; or, when revoked, why and which version to update to. Capabilities
// made or imported here (`installed: false`) get nothing extra: the plain error says it all.
import { useState } from "react";

import type { RunConsent } from "../../generated/RunConsent";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";

/** The run refusals this panel answers. */
export function isRunConsentKind(kind: string | undefined): kind is "consent_required" | "revoked" {
  return kind === "consent_required" || kind === "revoked";
}

type RunConsentPanelProps = {
  id: string;
  version: string;
  kind: "consent_required" | "revoked";
  /** Runs the refused action again, with the input it was refused with. */
  onRerun: () => void;
  onCancel: () => void;
};

export function RunConsentPanel({ id, version, kind, onRerun, onCancel }: RunConsentPanelProps) {
  const consent = useBackendQuery<RunConsent>(`run-consent:${id}@${version}`, () =>
    invoke("market_run_consent", { id, version }),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  if (consent.status === "loading") {
    return (
      <p className="state-inline small" role="status" data-testid="run-consent-loading">
        <span className="spinner" aria-hidden="true" /> Checking what it needs…
      </p>
    );
  }
  if (consent.status === "error") {
    return (
      <p className="field-error" data-testid="run-consent-error" data-kind={consent.error.kind}>
        <code className="kind">{consent.error.kind}</code> {consent.error.message}
      </p>
    );
  }
  const c = consent.value;
  if (!c.installed) return null;

  const allow = async () => {
    setBusy(true);
    setError(null);
    try {
      const names = [...c.missing_permissions.map((p) => p.name), ...c.missing_domains, ...c.missing_capabilities];
      if (names.length > 0) await invoke("market_grant_consent", { id, version, consent: names });
      onRerun();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  const revoked = kind === "revoked" || c.revoked !== null;
  const nothing = c.missing_permissions.length + c.missing_domains.length + c.missing_capabilities.length === 0;

  return (
    <div className="run-consent" data-testid="run-consent" data-kind={revoked ? "revoked" : "consent_required"}>
      {revoked ? (
        <>
          <p>
            The marketplace revoked v{c.version}
            {c.revoked ? (
              <>
                : <q data-testid="run-consent-reason">{c.revoked}</q>
              </>
            ) : null}
            . No consent lets it run.
          </p>
          <p data-testid="run-consent-newest">
            {c.newest_good
              ? `Update to v${c.newest_good} from the Marketplace.`
              : "No good version is available yet: uninstall it from the Marketplace, or wait for the publisher."}
          </p>
        </>
      ) : (
        <>
          <p>
            v{c.version} of <code>{c.id}</code> asks for more than you agreed to when you installed it.
            {nothing && " You have agreed to all of it since: run it again."}
          </p>
          {c.missing_permissions.length > 0 && (
            <ul className="consent-permissions" data-testid="run-consent-permissions">
              {c.missing_permissions.map((p) => (
                <li key={p.name}>
                  <span className="consent-permission-words">{p.description}</span>
                  <code className="muted small">{p.name}</code>
                </li>
              ))}
            </ul>
          )}
          {c.missing_domains.length > 0 && (
            <p className="small" data-testid="run-consent-domains">
              May connect to:{" "}
              {c.missing_domains.map((domain, i) => (
                <span key={domain}>
                  {i > 0 && ", "}
                  <code>{domain}</code>
                </span>
              ))}
            </p>
          )}
          {c.missing_capabilities.length > 0 && (
            <p className="small" data-testid="run-consent-capabilities">
              May call the {c.missing_capabilities.length === 1 ? "capability" : "capabilities"}{" "}
              {c.missing_capabilities.map((capability, i) => (
                <span key={capability}>
                  {i > 0 && ", "}
                  <code>{capability}</code>
                </span>
              ))}
            </p>
          )}
        </>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="run-consent-allow-error" data-kind={error.kind}>
          <code className="kind">{error.kind}</code> {error.message}
        </p>
      )}
      <div className="alert-actions button-row">
        {!revoked && (
          <button
            type="button"
            className="button button-primary"
            data-testid="run-consent-allow"
            disabled={busy}
            onClick={() => void allow()}
          >
            {busy && <span className="spinner spinner-light" aria-hidden="true" />}
            {nothing ? "Run again" : "Allow and run again"}
          </button>
        )}
        <button type="button" className="button" data-testid="run-consent-cancel" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
