// The builder's landing view: the autosaved drafts, newest first, to open or discard, and the way
// to start a new capability.
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { DraftView } from "../../generated/DraftView";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatExact, formatRelative } from "../../lib/format";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { useNow } from "../../lib/useNow";
import { LoadFailed } from "../library/LibraryStates";

type DraftListProps = {
  onOpen: (id: string) => void;
  onNew: (takenIds: ReadonlyArray<string>) => void;
};

export function DraftList({ onOpen, onNew }: DraftListProps) {
  const [generation, setGeneration] = useState(0);
  const drafts = useBackendQuery(`drafts#${generation}`, () => invoke("builder_drafts", {}));
  const [discardError, setDiscardError] = useState<AppError | null>(null);
  const [discarding, setDiscarding] = useState<string | null>(null);
  const now = useNow(30_000);
  const list = drafts.status === "ready" ? drafts.value : drafts.status === "loading" ? drafts.previous : null;

  const discard = async (draft: DraftView) => {
    setDiscarding(draft.id);
    setDiscardError(null);
    try {
      await invoke("builder_discard", { id: draft.id });
      setGeneration((g) => g + 1);
    } catch (reason) {
      setDiscardError(toAppError(reason));
    } finally {
      setDiscarding(null);
    }
  };

  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <h1>Builder</h1>
          <p className="muted">Build a capability visually: a flow of nodes per action, checked as you go.</p>
        </div>
        <div className="page-tools">
          <button
            type="button"
            className="button button-primary"
            data-testid="builder-new"
            onClick={() => onNew((list ?? []).map((d) => d.id))}
          >
            <span aria-hidden="true">✨</span> New capability
          </button>
        </div>
      </header>
      <main className="page-body">
        {discardError && <ErrorAlert error={discardError} testId="draft-discard-error" />}
        {drafts.status === "error" ? (
          <LoadFailed error={drafts.error} onRetry={() => setGeneration((g) => g + 1)} />
        ) : list === null ? (
          <div role="status" aria-label="Loading drafts" data-testid="loading">
            <span className="skeleton skeleton-block" />
          </div>
        ) : list.length === 0 ? (
          <div className="state" data-testid="builder-empty">
            <div className="state-art" aria-hidden="true">
              🛠️
            </div>
            <h2>No drafts yet</h2>
            <p>
              Start a new capability here, or open a declarative, workflow or flow capability from My Capabilities with “Open in
              builder”. Your work is saved as a draft as you go.
            </p>
            <button type="button" className="button button-primary button-large" onClick={() => onNew([])}>
              ✨ New capability
            </button>
          </div>
        ) : (
          <>
            <h2 className="section-label">Drafts</h2>
            <ul className={`draft-list${drafts.status === "loading" ? " is-stale" : ""}`} data-testid="builder-drafts" aria-label="Drafts">
              {list.map((draft) => (
                <li key={draft.id} className="draft card-surface" data-id={draft.id}>
                  <div className="draft-text">
                    <strong className="draft-name">{draft.name || draft.id}</strong>
                    <span className="mono muted small">{draft.id}</span>
                  </div>
                  <span className="muted small" title={formatExact(draft.updated_at)}>
                    Edited {formatRelative(draft.updated_at, now)}
                  </span>
                  <span className="button-row">
                    <button type="button" className="button button-primary button-small" data-testid={`draft-${draft.id}`} onClick={() => onOpen(draft.id)}>
                      Open
                    </button>
                    <button
                      type="button"
                      className="button button-small button-danger-outline"
                      data-testid={`draft-discard-${draft.id}`}
                      disabled={discarding !== null}
                      onClick={() => void discard(draft)}
                    >
                      Discard
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
      </main>
    </div>
  );
}
