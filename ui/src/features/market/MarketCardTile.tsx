// One capability in the marketplace grid: who publishes it, how it is rated, what it costs, what
// this machine has of it, and an Install (or Update) button. A click elsewhere opens its detail.
import type { MarketCard } from "../../generated/MarketCard";
import { FALLBACK_ICON } from "../library/registry";
import { formatInstalls, formatPrice, visibilityLabel } from "./marketFormat";
import { Stars } from "./Stars";

type MarketCardTileProps = {
  card: MarketCard;
  onOpen: (id: string) => void;
  /** Opens the consent dialog; `update` when it would replace the installed version. */
  onInstall: (card: MarketCard, update: boolean) => void;
};

export function MarketCardTile({ card, onOpen, onInstall }: MarketCardTileProps) {
  const upToDate = card.installed !== null && card.update === null;
  const installable = card.latest_version !== null;
  return (
    <li className="card-cell">
      <article
        className="card market-card"
        data-testid={`market-card-${card.id}`}
        data-installed={card.installed ?? ""}
        onClick={() => onOpen(card.id)}
      >
        <div className="card-head">
          <span className="card-icon" aria-hidden="true">
            {card.icon || FALLBACK_ICON}
          </span>
          <div className="card-title">
            {/* The keyboard's way in; the whole card answers to the pointer. */}
            <button
              type="button"
              className="market-card-name card-name"
              onClick={(e) => {
                e.stopPropagation();
                onOpen(card.id);
              }}
            >
              {card.name}
            </button>
            <span className="muted small market-publisher">
              {card.publisher}
              {card.publisher_verified && (
                <span className="verified" title="Verified publisher" aria-label="Verified publisher">
                  ✓
                </span>
              )}
            </span>
          </div>
        </div>
        <CardBadges card={card} />
        <p className={`card-description${card.description ? "" : " muted"}`}>{card.description ?? "No description."}</p>
        <div className="market-card-stats small">
          <Stars rating={card.rating} count={card.rating_count} />
          <span className="muted">{formatInstalls(card.installs)}</span>
        </div>
        <div className="market-card-foot">
          <span className={`market-price${card.price_cents > 0 ? " is-paid" : ""}`} data-testid={`market-card-price-${card.id}`}>
            {formatPrice(card.price_cents)}
          </span>
          <button
            type="button"
            className={`button button-small${upToDate ? "" : " button-primary"}`}
            data-testid={`market-install-${card.id}`}
            disabled={upToDate || !installable}
            title={installable ? undefined : "No version can be installed"}
            onClick={(e) => {
              e.stopPropagation();
              onInstall(card, card.update !== null);
            }}
          >
            {upToDate ? "✓ Installed" : card.update !== null ? `Update to v${card.update}` : "Install"}
          </button>
        </div>
      </article>
    </li>
  );
}

function CardBadges({ card }: { card: MarketCard }) {
  const any = card.installed !== null || card.update !== null || card.deprecated !== null || card.visibility !== "public";
  if (!any && !card.featured) return null;
  return (
    <div className="card-badges">
      {card.featured && <span className="badge badge-violet">★ Featured</span>}
      {card.installed !== null && (
        <span className="badge badge-green" data-testid={`market-installed-badge-${card.id}`}>
          Installed v{card.installed}
        </span>
      )}
      {card.update !== null && (
        <span className="badge badge-amber" data-testid={`market-update-badge-${card.id}`}>
          Update available
        </span>
      )}
      {card.deprecated !== null && (
        <span className="badge badge-red" title={card.deprecated}>
          Deprecated
        </span>
      )}
      {card.visibility !== "public" && (
        <span className="badge badge-outline badge-blue">
          {visibilityLabel(card.visibility)}
          {card.org ? ` · ${card.org}` : ""}
        </span>
      )}
    </div>
  );
}
