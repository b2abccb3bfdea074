// "Capability Marketplace": browse the offline cache of a marketplace (search, categories, price,
// order), keep it fresh with Sync (once on opening, Ctrl/Cmd+R, or the button), open a listing's
// detail, and install with consent.
import { useCallback, useEffect, useRef, useState } from "react";

import { Toast, type ToastMessage } from "../../components/Toast";
import type { InstallOutcome } from "../../generated/InstallOutcome";
import type { MarketCard } from "../../generated/MarketCard";
import { useDebouncedValue } from "../../lib/useDebouncedValue";
import { ConsentDialog, type ConsentTarget } from "./ConsentDialog";
import { FilterBar } from "./FilterBar";
import { INITIAL_FILTERS, type MarketFilters } from "./marketFormat";
import { MarketDetailView } from "./MarketDetailView";
import { MarketGrid } from "./MarketGrid";
import { MarketStatusStrip } from "./MarketStatusStrip";
import { useMarketSearch } from "./useMarketSearch";
import { useMarketShortcuts } from "./useMarketShortcuts";
import { useMarketStatus } from "./useMarketStatus";
import { useMarketSync } from "./useMarketSync";

const SEARCH_DEBOUNCE_MS = 200;

type MarketplacePageProps = {
  onOpenSettings: () => void;
  /** Something installed, updated or synced: the sidebar's update count may have changed. */
  onChanged?: () => void;
};

export function MarketplacePage({ onOpenSettings, onChanged }: MarketplacePageProps) {
  const [filters, setFilters] = useState<MarketFilters>(INITIAL_FILTERS);
  const text = useDebouncedValue(filters.text, SEARCH_DEBOUNCE_MS);
  const [generation, setGeneration] = useState(0);
  const results = useMarketSearch({ ...filters, text }, generation);
  const { state: statusState, status, reload: reloadStatus } = useMarketStatus();
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [consent, setConsent] = useState<ConsentTarget | null>(null);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  const refresh = useCallback(() => {
    reloadStatus();
    setGeneration((g) => g + 1);
    onChanged?.();
  }, [reloadStatus, onChanged]);
  const sync = useMarketSync(refresh);
  const notify = useCallback((message: string, tone: ToastMessage["tone"] = "success") => {
    setToast({ id: Date.now(), text: message, tone });
  }, []);
  const dismissToast = useCallback((id: number) => setToast((t) => (t?.id === id ? null : t)), []);

  // Sync once on opening, when a marketplace is set; an unreachable one only shows as offline.
  const autoSynced = useRef(false);
  const url = status?.url ?? null;
  const runSync = sync.sync;
  useEffect(() => {
    if (autoSynced.current || url === null) return;
    autoSynced.current = true;
    void runSync(true);
  }, [url, runSync]);

  const change = (next: Partial<MarketFilters>) => setFilters((f) => ({ ...f, ...next, page: next.page ?? 1 }));
  const clearFilters = () => setFilters((f) => ({ ...INITIAL_FILTERS, tab: f.tab }));
  const back = () => {
    setSelectedId(null);
    refresh();
  };

  useMarketShortcuts({
    focusSearch: () => {
      searchRef.current?.focus();
      searchRef.current?.select();
    },
    sync: () => void sync.sync(),
    back: selectedId !== null ? back : null,
  });

  const install = (card: MarketCard, update: boolean) =>
    setConsent({
      id: card.id,
      spec: update && card.update !== null ? `${card.id}@${card.update}` : card.id,
      update,
      icon: card.icon,
    });
  const onInstalled = (outcome: InstallOutcome, update: boolean) => {
    notify(`${update ? "Updated" : "Installed"} ${outcome.id}@${outcome.version}`);
    refresh();
  };
  const page = results.status === "ready" ? results.value : results.status === "loading" ? results.previous : null;

  return (
    <div className="page market-page">
      <header className="page-header">
        <div className="page-title">
          <h1>Capability Marketplace</h1>
          <p className="muted">Capabilities others have built, signed by their publishers and installed with your consent.</p>
        </div>
        <div className="page-tools">
          <div className="search">
            <span className="search-icon" aria-hidden="true">
              🔎
            </span>
            <input
              ref={searchRef}
              type="search"
              className="search-input"
              data-testid="market-search"
              aria-label="Search the marketplace"
              placeholder="Search the marketplace"
              value={filters.text}
              onChange={(e) => {
                change({ text: e.currentTarget.value });
                setSelectedId(null);
              }}
              onKeyDown={(e) => {
                if (e.key === "Escape" && filters.text !== "") {
                  e.preventDefault();
                  e.stopPropagation();
                  change({ text: "" });
                }
              }}
            />
            <kbd className="search-kbd" aria-hidden="true">
              /
            </kbd>
          </div>
        </div>
      </header>

      <MarketStatusStrip
        status={status}
        statusError={statusState.status === "error" ? statusState.error : null}
        onRetryStatus={reloadStatus}
        sync={sync}
        onSync={() => void sync.sync()}
        onDismissError={sync.dismissError}
        onOpenSettings={onOpenSettings}
      />

      <main className="page-body">
        {selectedId !== null ? (
          <MarketDetailView
            key={selectedId}
            id={selectedId}
            account={status?.account ?? null}
            refreshKey={generation}
            onBack={back}
            onInstall={setConsent}
            onChanged={(message) => {
              notify(message);
              refresh();
            }}
            onOpenSettings={onOpenSettings}
          />
        ) : (
          <>
            <FilterBar filters={filters} categories={page?.categories ?? []} onChange={change} />
            <MarketGrid
              state={results}
              filters={{ ...filters, text }}
              canSync={url !== null}
              syncing={sync.syncing}
              onSync={() => void sync.sync()}
              onOpenSettings={onOpenSettings}
              onRetry={() => setGeneration((g) => g + 1)}
              onClearFilters={clearFilters}
              onPage={(p) => change({ page: p })}
              onOpen={setSelectedId}
              onInstall={install}
            />
          </>
        )}
      </main>

      {consent && (
        <ConsentDialog
          key={consent.spec}
          target={consent}
          onClose={() => setConsent(null)}
          onInstalled={(outcome) => onInstalled(outcome, consent.update)}
        />
      )}
      <Toast toast={toast} onDismiss={dismissToast} />
    </div>
  );
}
