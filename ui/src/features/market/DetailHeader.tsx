// The top of a listing's detail page: icon, name, publisher (verified or not, with the key's
// fingerprint), license, price, installs, rating, and the install/update/rollback buttons.
import type { CapabilityKind } from "../../generated/CapabilityKind";
import type { MarketDetail } from "../../generated/MarketDetail";
import { formatDate } from "../../lib/format";
import { KindBadge } from "../library/Badges";
import { FALLBACK_ICON, KINDS } from "../library/registry";
import type { ConsentTarget } from "./ConsentDialog";
import { DetailActions } from "./DetailActions";
import { formatInstalls, formatPrice, visibilityLabel } from "./marketFormat";
import { Stars } from "./Stars";

type DetailHeaderProps = {
  detail: MarketDetail;
  onInstall: (target: ConsentTarget) => void;
  onChanged: (message: string) => void;
};

function isKind(kind: string): kind is CapabilityKind {
  return kind in KINDS;
}

export function DetailHeader({ detail, onInstall, onChanged }: DetailHeaderProps) {
  const { listing, installed, update } = detail;
  return (
    <section className="detail-header card-surface" aria-labelledby="market-detail-title">
      <div className="detail-icon" aria-hidden="true">
        {listing.icon || FALLBACK_ICON}
      </div>
      <div className="detail-heading">
        <div className="detail-title-row">
          <h2 id="market-detail-title" className="detail-title" data-testid="market-detail-name">
            {listing.name}
          </h2>
          {listing.latest_version && <span className="version">v{listing.latest_version}</span>}
          {isKind(listing.kind) ? <KindBadge kind={listing.kind} /> : <span className="badge badge-gray">{listing.kind}</span>}
          {installed && (
            <span className="badge badge-green" data-testid="market-detail-installed">
              Installed v{installed.version}
            </span>
          )}
          {update && <span className="badge badge-amber">Update available: v{update}</span>}
          {listing.deprecated !== null && <span className="badge badge-red">Deprecated</span>}
          {listing.visibility !== "public" && (
            <span className="badge badge-outline badge-blue">
              {visibilityLabel(listing.visibility)}
              {listing.org ? ` · ${listing.org}` : ""}
            </span>
          )}
        </div>
        <p className="market-detail-publisher" data-testid="market-detail-publisher">
          <span className="muted">by </span>
          <strong>{listing.publisher}</strong>
          {listing.publisher_verified ? (
            <span className="badge badge-green" title="A marketplace administrator checked who this publisher is">
              ✓ Verified publisher
            </span>
          ) : (
            <span className="badge badge-gray" title="Nobody has checked who this publisher is">
              Unverified
            </span>
          )}
          {detail.key_fingerprint && (
            <span className="muted small" title="The fingerprint of the key the publisher signs packages with">
              🔑 <code className="mono" data-testid="market-detail-fingerprint">{detail.key_fingerprint}</code>
            </span>
          )}
        </p>
        {listing.description && <p className="detail-description">{listing.description}</p>}
        <div className="detail-meta">
          <span className={`market-price${listing.price_cents > 0 ? " is-paid" : ""}`}>{formatPrice(listing.price_cents)}</span>
          <span>{formatInstalls(listing.installs)}</span>
          <Stars rating={listing.rating} count={listing.rating_count} />
          <span>License: {listing.license ?? "not stated"}</span>
          {listing.category && <span>Category: {listing.category}</span>}
          <span>Updated {formatDate(listing.updated_at)}</span>
        </div>
      </div>
      <div className="detail-actions">
        <span className="muted small">
          {installed
            ? `Installed ${formatDate(installed.installed_at)}${installed.previous ? ` · replaced v${installed.previous}` : ""}`
            : listing.price_cents > 0 && !listing.entitled
              ? "A paid capability: you need access to it on the marketplace"
              : "Not installed"}
        </span>
        <DetailActions detail={detail} onInstall={onInstall} onChanged={onChanged} />
      </div>
    </section>
  );
}
