// What can be done with a listing from its detail page: install, update, roll back to the version
// it replaced, or uninstall (after a confirmation, since its secrets and agent links go too).
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import type { Listing } from "../../generated/Listing";
import type { MarketDetail } from "../../generated/MarketDetail";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import type { ConsentTarget } from "./ConsentDialog";
import { formatPrice } from "./marketFormat";

/** The consent dialog's target for updating the listing to `version`. */
export function updateTarget(listing: Listing, version: string): ConsentTarget {
  return { id: listing.id, spec: `${listing.id}@${version}`, update: true, icon: listing.icon };
}

type DetailActionsProps = {
  detail: MarketDetail;
  onInstall: (target: ConsentTarget) => void;
  /** Something changed on this machine; the message says what. */
  onChanged: (message: string) => void;
};

export function DetailActions({ detail, onInstall, onChanged }: DetailActionsProps) {
  const { listing, installed, update } = detail;
  const [busy, setBusy] = useState<"rollback" | "uninstall" | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [confirming, setConfirming] = useState(false);

  const act = async (what: "rollback" | "uninstall") => {
    setBusy(what);
    setError(null);
    try {
      if (what === "rollback") {
        const outcome = await invoke("market_rollback", { id: listing.id });
        onChanged(`Rolled ${outcome.id} back to v${outcome.version}`);
      } else {
        await invoke("market_uninstall", { id: listing.id });
        onChanged(`Uninstalled ${listing.id}`);
      }
      setConfirming(false);
    } catch (reason) {
      setError(toAppError(reason));
      setConfirming(false);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="market-detail-actions">
      <div className="button-row">
        {installed === null ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="market-detail-install"
            disabled={listing.latest_version === null || busy !== null}
            title={listing.latest_version === null ? "No version can be installed" : undefined}
            onClick={() => onInstall({ id: listing.id, spec: listing.id, update: false, icon: listing.icon })}
          >
            Install{listing.price_cents > 0 ? ` · ${formatPrice(listing.price_cents)}` : ""}
          </button>
        ) : (
          update !== null && (
            <button
              type="button"
              className="button button-primary"
              data-testid="market-detail-update"
              disabled={busy !== null}
              onClick={() => onInstall(updateTarget(listing, update))}
            >
              Update to v{update}
            </button>
          )
        )}
        {installed?.previous && (
          <button
            type="button"
            className="button"
            data-testid="market-detail-rollback"
            disabled={busy !== null}
            title={`Reinstall v${installed.previous}, the version this one replaced`}
            onClick={() => void act("rollback")}
          >
            {busy === "rollback" && <span className="spinner" aria-hidden="true" />}↶ Roll back to v{installed.previous}
          </button>
        )}
        {installed !== null && (
          <button
            type="button"
            className="button button-danger-outline"
            data-testid="market-detail-uninstall"
            disabled={busy !== null}
            onClick={() => setConfirming(true)}
          >
            Uninstall
          </button>
        )}
      </div>
      {error && <ErrorAlert error={error} testId="market-detail-error" />}
      {confirming && (
        <Modal
          title={`Uninstall ${listing.name}?`}
          description="It leaves your library, with its saved configuration and secrets, and every agent that uses it loses it."
          size="small"
          testId="market-uninstall-dialog"
          onClose={() => setConfirming(false)}
          footer={
            <>
              <button type="button" className="button" data-testid="market-uninstall-cancel" onClick={() => setConfirming(false)}>
                Cancel
              </button>
              <button
                type="button"
                className="button button-danger"
                data-testid="market-uninstall-confirm"
                data-autofocus
                disabled={busy !== null}
                onClick={() => void act("uninstall")}
              >
                {busy === "uninstall" && <span className="spinner spinner-light" aria-hidden="true" />}
                Uninstall
              </button>
            </>
          }
        />
      )}
    </div>
  );
}
