// The marketplace grid when it has no cards: a cache with nothing in it yet, or filters that
// match nothing.
import type { MarketTab } from "./marketFormat";

type FirstRunProps = { canSync: boolean; syncing: boolean; onSync: () => void; onOpenSettings: () => void };

export function MarketFirstRun({ canSync, syncing, onSync, onOpenSettings }: FirstRunProps) {
  return (
    <div className="state" data-testid="market-first-run">
      <div className="state-art" aria-hidden="true">
        🛍️
      </div>
      <h2>No capabilities here yet</h2>
      <p>
        The marketplace is where capabilities are shared: install one in a few clicks, after you see what it may do.
        {canSync ? " Sync to fetch the catalog." : " Connect a marketplace in Settings to browse it."}
      </p>
      <div className="button-row">
        {canSync && (
          <button type="button" className="button button-primary" disabled={syncing} onClick={onSync}>
            {syncing && <span className="spinner spinner-light" aria-hidden="true" />}↻ Sync now
          </button>
        )}
        <button type="button" className="button" onClick={onOpenSettings}>
          ⚙️ Marketplace settings
        </button>
      </div>
    </div>
  );
}

type NoMatchesProps = { text: string; tab: MarketTab; filtered: boolean; onClear: () => void };

export function MarketNoMatches({ text, tab, filtered, onClear }: NoMatchesProps) {
  const what = text.trim() === "" ? "these filters" : `“${text.trim()}”`;
  return (
    <div className="state" data-testid="market-no-results">
      <div className="state-art" aria-hidden="true">
        {tab === "yours" && !filtered ? "🔒" : "🔍"}
      </div>
      {tab === "yours" && !filtered ? (
        <>
          <h2>No custom capabilities yet</h2>
          <p>Capabilities published as private or for your organization show here. Publish one from the Builder.</p>
        </>
      ) : (
        <>
          <h2>No capabilities match {what}</h2>
          <p>Try other words, another category, or any price.</p>
          <button type="button" className="button" data-testid="market-clear-filters" onClick={onClear}>
            Clear filters
          </button>
        </>
      )}
    </div>
  );
}
