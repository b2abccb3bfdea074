// The editor's top bar: what is open, whether it is saved, undo/redo, Save draft, Publish,
// Publish to marketplace, Close.
import { MOD_LABEL } from "../../lib/platform";
import { FALLBACK_ICON } from "../library/registry";
import type { BackgroundState } from "./store";
import { useBuilder } from "./useBuilder";
import type { SaveOutcome } from "./useSaveActions";

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function clock(at: number): string {
  return CLOCK.format(new Date(at));
}

/** The one line that says where the document stands: the latest of autosave and explicit saves. */
function statusText(autosave: BackgroundState, outcome: SaveOutcome | null, busy: "save" | "publish" | null): string {
  if (busy === "save") return "Saving…";
  if (busy === "publish") return "Publishing…";
  if (autosave.status === "busy") return "Saving…";
  const autosaved = autosave.status === "done" && autosave.at !== null ? autosave.at : 0;
  if (outcome && outcome.at >= autosaved) {
    if (outcome.kind === "invalid") return `Not saved: ${outcome.errors} error${outcome.errors === 1 ? "" : "s"}`;
    return `${outcome.published ? "Published" : "Saved"} v${outcome.summary.version} ${clock(outcome.at)}`;
  }
  if (autosave.status === "error") return "Autosave failed";
  if (autosaved > 0) return `Saved draft ${clock(autosaved)}`;
  return "No changes yet";
}

type BuilderHeaderProps = {
  busy: "save" | "publish" | null;
  outcome: SaveOutcome | null;
  onSave: () => void;
  onPublish: () => void;
  /** The saved `id@version` the marketplace would get, or null while nothing is saved. */
  marketSpec: string | null;
  onPublishMarket: () => void;
  onClose: () => void;
};

export function BuilderHeader({ busy, outcome, onSave, onPublish, marketSpec, onPublishMarket, onClose }: BuilderHeaderProps) {
  const name = useBuilder((s) => s.doc.capability.name);
  const icon = useBuilder((s) => s.doc.capability.icon);
  const id = useBuilder((s) => s.doc.capability.id);
  const version = useBuilder((s) => s.doc.capability.version);
  const autosave = useBuilder((s) => s.autosave);
  const canUndo = useBuilder((s) => s.past.length > 0);
  const canRedo = useBuilder((s) => s.future.length > 0);
  const undo = useBuilder((s) => s.undo);
  const redo = useBuilder((s) => s.redo);
  const status = statusText(autosave, outcome, busy);

  return (
    <header className="builder-header">
      <button type="button" className="button button-ghost" data-testid="builder-close" onClick={onClose} title="Back to the drafts">
        ← Drafts
      </button>
      <span className="builder-icon" aria-hidden="true">
        {icon || FALLBACK_ICON}
      </span>
      <div className="builder-heading">
        <h1 className="builder-title" data-testid="builder-title">
          {name || "Untitled capability"}
        </h1>
        <span className="muted small mono">
          {id || "no-id"}@{version || "?"}
        </span>
      </div>
      <span
        className={`builder-status${autosave.status === "error" ? " is-error" : ""}`}
        data-testid="builder-status"
        data-outcome={outcome === null ? "" : outcome.kind === "invalid" ? "invalid" : outcome.published ? "published" : "saved"}
        role="status"
        aria-live="polite"
        title={autosave.error?.message}
      >
        {status}
      </span>
      <div className="builder-header-actions">
        <button
          type="button"
          className="icon-button"
          data-testid="builder-undo"
          disabled={!canUndo}
          aria-label="Undo"
          title={`Undo (${MOD_LABEL}+Z)`}
          onClick={undo}
        >
          ↶
        </button>
        <button
          type="button"
          className="icon-button"
          data-testid="builder-redo"
          disabled={!canRedo}
          aria-label="Redo"
          title={`Redo (${MOD_LABEL}+Shift+Z)`}
          onClick={redo}
        >
          ↷
        </button>
        <button
          type="button"
          className="button"
          data-testid="builder-save"
          disabled={busy !== null}
          title={`Save as a Draft capability (${MOD_LABEL}+S)`}
          onClick={onSave}
        >
          {busy === "save" && <span className="spinner" aria-hidden="true" />}
          Save draft
        </button>
        <button
          type="button"
          className="button button-primary"
          data-testid="builder-publish"
          disabled={busy !== null}
          title="Save, run the tests, and publish when they pass"
          onClick={onPublish}
        >
          {busy === "publish" && <span className="spinner spinner-light" aria-hidden="true" />}
          Publish
        </button>
        <button
          type="button"
          className="button"
          data-testid="builder-publish-market"
          disabled={busy !== null || marketSpec === null}
          title={marketSpec === null ? "Save the capability first" : `Share ${marketSpec} on the marketplace`}
          onClick={onPublishMarket}
        >
          <span aria-hidden="true">🛍️</span> Publish to marketplace
        </button>
      </div>
    </header>
  );
}
