// The strip above the cards: where the catalog comes from and how fresh it is (or that the
// marketplace is unreachable), how many installed capabilities have updates, and Sync with its
// progress.
import { ErrorAlert } from "../../components/ErrorAlert";
import type { MarketProgress } from "../../generated/MarketProgress";
import type { MarketStatus } from "../../generated/MarketStatus";
import type { SyncReport } from "../../generated/SyncReport";
import type { AppError } from "../../lib/errors";
import { formatExact, formatRelative, plural } from "../../lib/format";
import { MOD_LABEL } from "../../lib/platform";
import { useNow } from "../../lib/useNow";
import { ProgressBar } from "./ProgressBar";

const TICK_MS = 30_000;

type MarketStatusStripProps = {
  status: MarketStatus | null;
  /** Why the status could not be read, if it could not. */
  statusError: AppError | null;
  onRetryStatus: () => void;
  sync: {
    syncing: boolean;
    offline: AppError | null;
    error: AppError | null;
    report: SyncReport | null;
    progress: MarketProgress | null;
  };
  onSync: () => void;
  onDismissError: () => void;
  onOpenSettings: () => void;
};

export function MarketStatusStrip(props: MarketStatusStripProps) {
  const { status, statusError, sync, onSync, onDismissError, onOpenSettings } = props;
  const now = useNow(TICK_MS);
  const synced = status?.last_synced_at ?? null;
  const ago = synced === null ? null : formatRelative(synced, now);
  const updates = status?.updates.length ?? 0;

  return (
    <section className="market-status card-surface" data-testid="market-status" aria-label="Marketplace status">
      <div className="market-status-row">
        <div className="market-status-text" role="status" aria-live="polite">
          {status === null && statusError !== null ? (
            <span className="field-error" data-testid="market-status-error" data-kind={statusError.kind}>
              Could not read the marketplace status: {statusError.message}{" "}
              <button type="button" className="link-button" onClick={props.onRetryStatus}>
                Retry
              </button>
            </span>
          ) : status === null ? (
            <span className="skeleton skeleton-line w-40" aria-label="Loading the marketplace status" />
          ) : (
            <>
              {sync.offline !== null && (
                <span className="badge badge-outline badge-amber" data-testid="market-offline" title={sync.offline.message}>
                  <span className="badge-dot" aria-hidden="true" />
                  Offline — {ago === null ? "never synced" : `last synced ${ago}`}
                </span>
              )}
              {status.source === "bundled" ? (
                <span data-source="bundled">
                  Showing the built-in catalog —{" "}
                  <button type="button" className="link-button" data-testid="market-open-settings" onClick={onOpenSettings}>
                    connect a marketplace in Settings
                  </button>
                </span>
              ) : (
                sync.offline === null &&
                ago !== null && (
                  <span data-source="server" title={synced ? formatExact(synced) : undefined}>
                    Synced {ago}
                  </span>
                )
              )}
              {status.url && <span className="muted small mono market-status-url">{status.url}</span>}
              {updates > 0 && (
                <span className="badge badge-amber" data-testid="market-updates">
                  {plural(updates, "update")} available
                </span>
              )}
              {sync.report && !sync.syncing && (
                <span className="muted small" data-testid="market-sync-result">
                  {sync.report.unchanged ? "Up to date" : `${plural(sync.report.fetched, "listing")} updated`}
                </span>
              )}
            </>
          )}
        </div>
        <button
          type="button"
          className="button button-small"
          data-testid="market-sync"
          disabled={sync.syncing}
          aria-busy={sync.syncing}
          aria-keyshortcuts={`${MOD_LABEL === "⌘" ? "Meta" : "Control"}+R`}
          title={`Fetch what changed on the marketplace (${MOD_LABEL}+R)`}
          onClick={onSync}
        >
          {sync.syncing ? <span className="spinner" aria-hidden="true" /> : <span aria-hidden="true">↻</span>}
          {sync.syncing ? "Syncing…" : "Sync"}
        </button>
      </div>
      {sync.syncing && <ProgressBar progress={sync.progress} label="Syncing" testId="market-sync-progress" />}
      {sync.error && (
        <ErrorAlert error={sync.error} testId="market-sync-error">
          <div className="alert-actions">
            <button type="button" className="button button-small" onClick={onDismissError}>
              Dismiss
            </button>
          </div>
        </ErrorAlert>
      )}
    </section>
  );
}
