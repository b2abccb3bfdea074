// "Publish to marketplace" from the builder: who may see it (everyone, an organization, only you)
// and its price; publishing runs its tests, then packages, signs and uploads it, with progress.
import { useId, useState, type FormEvent } from "react";

import { CopyButton } from "../../components/CopyButton";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import type { PublishView } from "../../generated/PublishView";
import { ProgressBar } from "./ProgressBar";
import { useMarketStatus } from "./useMarketStatus";
import { parseDollars, usePublish } from "./usePublish";
import { VISIBILITY_LABELS } from "./marketFormat";

const KEEP_HINT = "Keeps what the marketplace shows for it. A first version is private: only you see it.";

const VISIBILITY_HINTS: Record<string, string> = {
  public: "Anyone on the marketplace can find and install it.",
  organization: "Only members of the organization see it, once an admin approves it.",
  private: "Only you see it.",
};

export function PublishDialog({ spec, onClose }: { spec: string; onClose: () => void }) {
  const { status } = useMarketStatus();
  const publishing = usePublish(spec);
  // null: unchanged on the marketplace (private for a first version).
  const [visibility, setVisibility] = useState<string | null>(null);
  const [org, setOrg] = useState("");
  const [price, setPrice] = useState("");
  const orgId = useId();
  const priceId = useId();
  const cents = parseDollars(price);
  const needsOrg = visibility === "organization" && org.trim() === "";
  const signedOut = status !== null && status.account === null;
  const locked = publishing.busy || publishing.result !== null;
  const canPublish = !locked && cents !== null && !needsOrg;

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!canPublish || cents === null) return;
    void publishing.publish({
      visibility,
      org: visibility === "organization" ? org.trim() : null,
      priceCents: price.trim() === "" ? null : cents,
    });
  };

  return (
    <Modal
      title="Publish to marketplace"
      description={
        <>
          Publishes <span className="mono">{spec}</span> as saved in your library; unsaved changes are not included.
        </>
      }
      size="small"
      testId="publish-dialog"
      onClose={onClose}
      footer={
        publishing.result ? (
          <button type="button" className="button button-primary" data-testid="publish-close" onClick={onClose}>
            Done
          </button>
        ) : (
          <>
            <button type="button" className="button" onClick={onClose}>
              Cancel
            </button>
            <button type="button" className="button button-primary" data-testid="publish-confirm" disabled={!canPublish} onClick={() => submit()}>
              {publishing.busy && <span className="spinner spinner-light" aria-hidden="true" />}
              Publish
            </button>
          </>
        )
      }
    >
      {signedOut && (
        <p className="note" data-testid="publish-signin-note">
          You are not signed in to a marketplace. Sign in under Settings → Marketplace first.
        </p>
      )}
      <form className="publish-form" onSubmit={submit} noValidate>
        <fieldset className="publish-visibility" disabled={locked}>
          <legend className="form-label">Who can see it</legend>
          <label className="publish-choice">
            <input
              type="radio"
              name="publish-visibility"
              value=""
              data-testid="publish-visibility-keep"
              checked={visibility === null}
              onChange={() => setVisibility(null)}
            />
            <span>
              <strong>As it is</strong>
              <span className="muted small block">{KEEP_HINT}</span>
            </span>
          </label>
          {Object.entries(VISIBILITY_LABELS).map(([value, label]) => (
            <label key={value} className="publish-choice">
              <input
                type="radio"
                name="publish-visibility"
                value={value}
                data-testid={`publish-visibility-${value}`}
                checked={visibility === value}
                onChange={() => setVisibility(value)}
              />
              <span>
                <strong>{label}</strong>
                <span className="muted small block">{VISIBILITY_HINTS[value]}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {visibility === "organization" && (
          <div className="form-row">
            <label htmlFor={orgId} className="form-label">
              Organization
            </label>
            <input
              id={orgId}
              className={`input${needsOrg ? " is-invalid" : ""}`}
              data-testid="publish-org"
              spellCheck={false}
              autoComplete="off"
              placeholder="acme"
              disabled={locked}
              value={org}
              onChange={(e) => setOrg(e.currentTarget.value)}
            />
          </div>
        )}
        <div className="form-row">
          <label htmlFor={priceId} className="form-label">
            Price in dollars (0 for free; empty keeps its price, free for a first version)
          </label>
          <input
            id={priceId}
            className={`input publish-price${cents === null ? " is-invalid" : ""}`}
            data-testid="publish-price"
            inputMode="decimal"
            placeholder="0.00"
            disabled={locked}
            value={price}
            aria-invalid={cents === null}
            onChange={(e) => setPrice(e.currentTarget.value)}
          />
          {cents === null && <span className="field-error">Type an amount such as 9 or 9.99.</span>}
        </div>
        {/* Enter in a field publishes. */}
        <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
      </form>
      {publishing.busy && <ProgressBar progress={publishing.progress} label="Publishing" testId="publish-progress" />}
      {publishing.result && <PublishResult result={publishing.result} />}
      {publishing.error && (
        <ErrorAlert error={publishing.error} testId="publish-error">
          {publishing.error.kind === "tests_failing" && (
            <p className="small">Publishing runs the saved tests and needs every one to pass. Fix them on the Test step.</p>
          )}
          {(publishing.error.kind === "market_unauthorized" || signedOut) && (
            <p className="small">If you are not signed in, sign in under Settings → Marketplace and try again.</p>
          )}
        </ErrorAlert>
      )}
    </Modal>
  );
}

function PublishResult({ result }: { result: PublishView }) {
  const tests = result.tests_total === 0 ? "no tests" : `tests passed ${result.tests_passed}/${result.tests_total}`;
  return (
    <div className="publish-result" role="status" data-testid="publish-result">
      <p className="saved">
        ✓ Published {result.id}@{result.version} — {tests}
      </p>
      {!result.approved && <p className="small">An organization admin must approve it before members see it.</p>}
      {result.readme_generated && <p className="small muted">It had no README, so one was written from its manifest.</p>}
      <p className="small">
        <span className="muted">Signed with key </span>
        <code className="mono">{result.key_fingerprint}</code>
      </p>
      {result.url && (
        <div className="publish-url">
          <code className="mono small">{result.url}</code>
          <CopyButton text={result.url} testId="publish-copy-url" label="Copy link" />
        </div>
      )}
    </div>
  );
}
