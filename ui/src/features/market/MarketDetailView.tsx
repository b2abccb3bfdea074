// One listing: its header and buttons (and, when the marketplace revoked the installed version,
// why, with the way to a good one), the README, what the latest version may do, every version,
// and the reviews. Esc or Back returns to the cards.
import type { MarketDetail } from "../../generated/MarketDetail";
import { LoadFailed } from "../library/LibraryStates";
import type { ConsentTarget } from "./ConsentDialog";
import { updateTarget } from "./DetailActions";
import { DetailHeader } from "./DetailHeader";
import { Markdown } from "./Markdown";
import { PermissionsPanel } from "./PermissionsPanel";
import { ReviewsSection } from "./ReviewsSection";
import { useMarketDetail } from "./useMarketDetail";
import { VersionsTable } from "./VersionsTable";

type MarketDetailViewProps = {
  id: string;
  account: string | null;
  refreshKey: number;
  onBack: () => void;
  onInstall: (target: ConsentTarget) => void;
  onChanged: (message: string) => void;
  onOpenSettings: () => void;
};

/** The version the permissions describe: the latest installable one, else the newest listed. */
function latestVersion(detail: MarketDetail) {
  const { versions, latest_version } = detail.listing;
  return versions.find((v) => v.version === latest_version) ?? versions[0] ?? null;
}

export function MarketDetailView({ id, account, refreshKey, onBack, onInstall, onChanged, onOpenSettings }: MarketDetailViewProps) {
  const { state, detail, reload } = useMarketDetail(id, refreshKey);

  return (
    <div className="market-detail" data-testid="market-detail" data-id={id}>
      <div className="detail-topbar">
        <button type="button" className="button button-ghost" data-testid="market-back" onClick={onBack} title="Back (Esc)">
          ← Marketplace
        </button>
      </div>
      {state.status === "error" ? (
        <LoadFailed error={state.error} onRetry={reload} />
      ) : detail === null ? (
        <div role="status" aria-label="Loading the listing" data-testid="loading">
          <div className="skeleton-header card-surface">
            <span className="skeleton skeleton-icon-lg" />
            <span className="skeleton-lines">
              <span className="skeleton skeleton-line w-40" />
              <span className="skeleton skeleton-line w-70" />
            </span>
          </div>
          <span className="skeleton skeleton-block" />
        </div>
      ) : (
        <div className={state.status === "loading" ? "is-stale" : undefined}>
          {detail.offline && (
            <p className="note market-detail-offline" role="status" data-testid="market-detail-offline">
              Offline — showing cached details. Reviews may be out of date.
            </p>
          )}
          <DetailHeader detail={detail} onInstall={onInstall} onChanged={onChanged} />
          {detail.installed?.revoked != null && (
            <RevokedBanner detail={detail} reason={detail.installed.revoked} onInstall={onInstall} />
          )}
          {detail.listing.deprecated !== null && (
            <div className="banner banner-danger market-deprecated" role="note" data-testid="market-deprecated">
              <span className="banner-icon" aria-hidden="true">
                ⚠️
              </span>
              <div className="banner-body">
                <p className="banner-title">Deprecated by its publisher</p>
                <p>{detail.listing.deprecated}</p>
              </div>
            </div>
          )}
          <div className="market-detail-layout">
            <div className="market-detail-main">
              <section className="market-section card-surface market-readme" aria-label="README">
                {detail.listing.readme.trim() === "" ? (
                  <p className="muted">The publisher wrote no README.</p>
                ) : (
                  <Markdown source={detail.listing.readme} testId="market-readme" />
                )}
              </section>
              <VersionsTable versions={detail.listing.versions} installed={detail.installed?.version ?? null} />
              <ReviewsSection
                id={detail.listing.id}
                reviews={detail.reviews}
                account={account}
                onSaved={reload}
                onOpenSettings={onOpenSettings}
              />
            </div>
            <aside className="market-detail-side">
              <PermissionsPanel version={latestVersion(detail)} words={detail.permissions} />
            </aside>
          </div>
        </div>
      )}
    </div>
  );
}

type RevokedBannerProps = { detail: MarketDetail; reason: string; onInstall: (target: ConsentTarget) => void };

/** The installed version was revoked: it no longer runs; updating (if a good version exists) is the way out. */
function RevokedBanner({ detail, reason, onInstall }: RevokedBannerProps) {
  const { update } = detail;
  return (
    <div className="banner banner-danger market-revoked" role="alert" data-testid="market-detail-revoked">
      <span className="banner-icon" aria-hidden="true">
        🛑
      </span>
      <div className="banner-body">
        <p className="banner-title">Revoked by the marketplace: {reason.replace(/\.\s*$/, "")}. It does not run.</p>
        {update !== null ? (
          <div className="button-row">
            <button
              type="button"
              className="button button-primary"
              data-testid="market-detail-revoked-update"
              onClick={() => onInstall(updateTarget(detail.listing, update))}
            >
              Update to v{update}
            </button>
          </div>
        ) : (
          <p>No newer version is available yet; uninstall it or wait for the publisher to fix it.</p>
        )}
      </div>
    </div>
  );
}
