// "My Capabilities": search the library, open a capability, upload a new one (button, Ctrl/Cmd+U,
// or a file dropped anywhere on the window).
import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";

import { Toast, type ToastMessage } from "../../components/Toast";
import type { ImportOutcome } from "../../generated/ImportOutcome";
import { onFileDrop, type FileDropEvent } from "../../lib/backend";
import { isTypingTarget, MOD_LABEL, primaryModifierOnly } from "../../lib/platform";
import { useDebouncedValue } from "../../lib/useDebouncedValue";
import { CapabilityCard, CardGridSkeleton } from "./CapabilityCard";
import { CapabilityDetailView, type DetailTab } from "./CapabilityDetailView";
import { EmptyLibrary, LoadFailed, NoResults } from "./LibraryStates";
import { ConnectApiDialog } from "./ConnectApiDialog";
import { UploadDialog } from "./UploadDialog";
import { useCapabilityList, type Listing } from "./useCapabilityList";
import { useUpload } from "./useUpload";

const SEARCH_DEBOUNCE_MS = 250;

function anyModalOpen(): boolean {
  return document.querySelector("dialog[open]") !== null;
}

/** A box on the page takes dropped files itself (a workflow's "Run with a file"), unless a dialog is open. */
function dropsClaimed(): boolean {
  return !anyModalOpen() && document.querySelector("[data-claims-file-drops]") !== null;
}

function hasFiles(e: DragEvent): boolean {
  return e.dataTransfer?.types.includes("Files") ?? false;
}

/** A capability to show on arrival (from another page), and on which tab. */
export type OpenRequest = { id: string; tab: DetailTab };

type LibraryPageProps = {
  open?: OpenRequest | null;
  /** Opens a capability in the builder (declarative, workflow and flow kinds). */
  onOpenInBuilder?: (id: string, version: string) => void;
};

export function LibraryPage({ open = null, onOpenInBuilder }: LibraryPageProps) {
  const [query, setQuery] = useState("");
  const debouncedQuery = useDebouncedValue(query, SEARCH_DEBOUNCE_MS);
  const { state: listState, reload } = useCapabilityList(debouncedQuery);
  const [selectedId, setSelectedId] = useState<string | null>(open?.id ?? null);
  // The arrival tab applies to the first detail shown only, not when the user opens it again.
  const [arrival, setArrival] = useState<OpenRequest | null>(open);
  const select = useCallback((id: string | null) => {
    setArrival(null);
    setSelectedId(id);
  }, []);
    const [uploadOpen, setUploadOpen] = useState(false);
  const [connectOpen, setConnectOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const upload = useUpload();
  const searchRef = useRef<HTMLInputElement>(null);
  const htmlDragDepth = useRef(0);

  const notify = useCallback((text: string, tone: ToastMessage["tone"] = "success") => {
    setToast({ id: Date.now(), text, tone });
  }, []);
  const dismissToast = useCallback((id: number) => {
    setToast((current) => (current?.id === id ? null : current));
  }, []);

  const openUpload = () => {
    upload.reset();
    setUploadOpen(true);
  };
  const closeUpload = () => {
    upload.reset();
    setUploadOpen(false);
  };
  const onSaved = (outcome: ImportOutcome) => {
    closeUpload();
    select(null);
    notify(`Saved ${outcome.id}@${outcome.version}`);
    reload();
  };
  const onRemoved = (notice: string) => {
    select(null);
    notify(notice);
    reload();
  };

  // Keyboard: "/" focuses search, Ctrl/Cmd+U opens the upload dialog, Esc leaves the detail view.
  const onKeyDown = useEffectEvent((e: KeyboardEvent) => {
    if (e.defaultPrevented || anyModalOpen()) return;
    if (e.key.toLowerCase() === "u" && primaryModifierOnly(e)) {
      e.preventDefault();
      openUpload();
    } else if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isTypingTarget(e.target)) {
      e.preventDefault();
      select(null);
      searchRef.current?.focus();
      searchRef.current?.select();
        } else if (e.key === "Escape" && selectedId !== null && !isTypingTarget(e.target)) {
      e.preventDefault();
      select(null);
      // As with Back: what happened in the detail view may have changed the cards.
      reload();
    }
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKeyDown(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);

  // Native drops (the desktop shell): we get paths, and the backend reads the file.
  const onNativeDrop = useEffectEvent((event: FileDropEvent) => {
    if (dropsClaimed()) {
      setDragging(false);
      return;
    }
    switch (event.type) {
      case "enter":
        setDragging(true);
        break;
      case "over":
        break;
      case "leave":
        htmlDragDepth.current = 0;
        setDragging(false);
        break;
      case "drop": {
        htmlDragDepth.current = 0;
        setDragging(false);
        const [first, ...rest] = event.paths;
        if (first === undefined) return;
        setUploadOpen(true);
        void upload.validatePath(first, rest.length);
        break;
      }
    }
  });
  useEffect(() => onFileDrop((event) => onNativeDrop(event)), []);

  // HTML5 drops, for webviews where the shell leaves drops to the page: we get the file itself.
  const onHtmlDrop = useEffectEvent((files: FileList) => {
    const first = files[0];
    if (!first) return;
    setUploadOpen(true);
    void upload.validateFile(first, files.length - 1);
  });
  useEffect(() => {
    const enter = (e: DragEvent) => {
      if (!hasFiles(e) || dropsClaimed()) return;
      e.preventDefault();
      htmlDragDepth.current += 1;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      htmlDragDepth.current = Math.max(0, htmlDragDepth.current - 1);
      if (htmlDragDepth.current === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      // Never let the webview navigate to the dropped file.
      e.preventDefault();
      htmlDragDepth.current = 0;
      setDragging(false);
      // The box that claims drops needs a path, which an HTML5 drop does not give.
      if (e.dataTransfer && !dropsClaimed()) onHtmlDrop(e.dataTransfer.files);
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragover", over);
    window.addEventListener("dragleave", leave);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragover", over);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("drop", drop);
    };
  }, []);

  const clearSearch = () => {
    setQuery("");
    searchRef.current?.focus();
  };

  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <h1>My Capabilities</h1>
          <p className="muted">What your agents can do, checked and versioned.</p>
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
              data-testid="search"
              aria-label="Search capabilities"
              placeholder="Search capabilities"
              value={query}
              onChange={(e) => {
                setQuery(e.currentTarget.value);
                select(null);
              }}
              onKeyDown={(e) => {
                if (e.key === "Escape" && query !== "") {
                  e.preventDefault();
                  e.stopPropagation();
                  setQuery("");
                }
              }}
            />
            <kbd className="search-kbd" aria-hidden="true">
              /
            </kbd>
          </div>
                    <button type="button" className="button" data-testid="connect-api-button" onClick={() => setConnectOpen(true)}>
            <span aria-hidden="true">🔌</span> Connect API
          </button>
          <button
            type="button"
            className="button button-primary"
            data-testid="upload-button"
            aria-keyshortcuts={`${MOD_LABEL === "⌘" ? "Meta" : "Control"}+U`}
            title={`Upload capability (${MOD_LABEL}+U)`}
            onClick={openUpload}
          >
            <span aria-hidden="true">⬆️</span> Upload capability
          </button>
        </div>
      </header>

      <main className="page-body">
        {selectedId !== null ? (
          <CapabilityDetailView
            key={selectedId}
            id={selectedId}
                        onBack={() => {
              select(null);
              // Runs, tests and publishing change what the cards show (status, statistics).
              reload();
            }}
            onRemoved={onRemoved}
            onNotice={notify}
            initialTab={arrival?.id === selectedId ? arrival.tab : undefined}
            onOpenInBuilder={onOpenInBuilder}
          />
        ) : (
          <LibraryListing
            state={listState}
            onOpen={select}
            onUpload={openUpload}
            onRetry={reload}
            onClearSearch={clearSearch}
          />
        )}
      </main>

      {dragging && !uploadOpen && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <div className="drop-overlay-inner">
            <span className="drop-overlay-icon">📥</span>
            <strong>Drop to validate</strong>
            <span>A .yaml, .yml, .json or .js capability file</span>
          </div>
        </div>
      )}

            {connectOpen && (
        <ConnectApiDialog
          onClose={() => setConnectOpen(false)}
          onImported={(outcome) => {
            setConnectOpen(false);
            select(null);
            notify(`Imported ${outcome.id}@${outcome.version}`);
            reload();
          }}
        />
      )}
      {uploadOpen && <UploadDialog upload={upload} dragging={dragging} onClose={closeUpload} onSaved={onSaved} />}

      <Toast toast={toast} onDismiss={dismissToast} />
    </div>
  );
}

type LibraryListingProps = {
  state: ReturnType<typeof useCapabilityList>["state"];
  onOpen: (id: string) => void;
  onUpload: () => void;
  onRetry: () => void;
  onClearSearch: () => void;
};

function LibraryListing({ state, onOpen, onUpload, onRetry, onClearSearch }: LibraryListingProps) {
  if (state.status === "error") return <LoadFailed error={state.error} onRetry={onRetry} />;
  const listing: Listing | null = state.status === "ready" ? state.value : state.previous;
  if (listing === null) return <CardGridSkeleton />;
  const refreshing = state.status === "loading";

  if (listing.items.length === 0) {
    return listing.query === "" ? (
      <EmptyLibrary onUpload={onUpload} />
    ) : (
      <NoResults query={listing.query} onClear={onClearSearch} />
    );
  }
  return (
    <>
      <p className="result-count muted small" aria-live="polite">
        {listing.query === ""
          ? `${listing.items.length} in your library`
          : `${listing.items.length} matching “${listing.query}”`}
      </p>
      <ul
        className={`card-grid${refreshing ? " is-stale" : ""}`}
        aria-busy={refreshing}
        aria-label="Capabilities"
        data-testid="capability-grid"
      >
        {listing.items.map((capability) => (
          <CapabilityCard key={capability.id} capability={capability} onOpen={onOpen} />
        ))}
      </ul>
    </>
  );
}
