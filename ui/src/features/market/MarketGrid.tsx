// The cards of one page of results, with the count above and the pages below; or why there are
// none.
import { useRef } from "react";

import type { MarketCard } from "../../generated/MarketCard";
import type { MarketPage } from "../../generated/MarketPage";
import { formatCount } from "../../lib/format";
import type { QueryState } from "../../lib/useBackendQuery";
import { CardGridSkeleton } from "../library/CapabilityCard";
import { LoadFailed } from "../library/LibraryStates";
import { isFiltered, type MarketFilters } from "./marketFormat";
import { MarketCardTile } from "./MarketCardTile";
import { MarketFirstRun, MarketNoMatches } from "./MarketStates";

type MarketGridProps = {
  state: QueryState<MarketPage>;
  filters: MarketFilters;
  canSync: boolean;
  syncing: boolean;
  onSync: () => void;
  onOpenSettings: () => void;
  onRetry: () => void;
  onClearFilters: () => void;
  onPage: (page: number) => void;
  onOpen: (id: string) => void;
  onInstall: (card: MarketCard, update: boolean) => void;
};

export function MarketGrid(props: MarketGridProps) {
  const { state, filters } = props;
  const top = useRef<HTMLParagraphElement>(null);
  if (state.status === "error") return <LoadFailed error={state.error} onRetry={props.onRetry} />;
  const page = state.status === "ready" ? state.value : state.previous;
  if (page === null) return <CardGridSkeleton />;
  const refreshing = state.status === "loading";

  if (page.items.length === 0) {
    // Nothing at all to browse: the cache is empty (a first run, or a marketplace not synced yet).
    if (filters.tab === "browse" && !isFiltered(filters)) {
      return (
        <MarketFirstRun canSync={props.canSync} syncing={props.syncing} onSync={props.onSync} onOpenSettings={props.onOpenSettings} />
      );
    }
    return <MarketNoMatches text={filters.text} tab={filters.tab} filtered={isFiltered(filters)} onClear={props.onClearFilters} />;
  }

  const pages = Math.max(1, Math.ceil(page.total / Math.max(1, page.per_page)));
  const goTo = (next: number) => {
    props.onPage(next);
    top.current?.scrollIntoView({ block: "start" });
  };
  return (
    <>
      <p ref={top} className="result-count muted small" aria-live="polite" data-testid="market-count">
        {filters.text.trim() === ""
          ? `${formatCount(page.total)} ${page.total === 1 ? "capability" : "capabilities"}`
          : `${formatCount(page.total)} matching “${filters.text.trim()}”`}
      </p>
      <ul
        className={`card-grid market-grid${refreshing ? " is-stale" : ""}`}
        aria-busy={refreshing}
        aria-label="Marketplace capabilities"
        data-testid="market-grid"
      >
        {page.items.map((card) => (
          <MarketCardTile key={card.id} card={card} onOpen={props.onOpen} onInstall={props.onInstall} />
        ))}
      </ul>
      {pages > 1 && (
        <nav className="pagination" aria-label="Pages">
          <button
            type="button"
            className="button button-small"
            data-testid="market-page-prev"
            disabled={page.page <= 1}
            onClick={() => goTo(page.page - 1)}
          >
            ← Previous
          </button>
          <span className="muted small" data-testid="market-page-info">
            Page {page.page} of {pages}
          </span>
          <button
            type="button"
            className="button button-small"
            data-testid="market-page-next"
            disabled={page.page >= pages}
            onClick={() => goTo(page.page + 1)}
          >
            Next →
          </button>
        </nav>
      )}
    </>
  );
}
