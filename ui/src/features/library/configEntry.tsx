// The pieces of editing one configuration key, shared by a capability's Configure tab and an
// agent's own configuration of it: the title, the value input, Save/Remove with a notice, and
// the draft/busy/error state behind them. Where the value is stored is up to the caller.
import { useState, type FormEvent } from "react";

import type { ConfigEntryView } from "../../generated/ConfigEntryView";
import { toAppError, type AppError } from "../../lib/errors";

export function isSecret(entry: ConfigEntryView): boolean {
  return entry.type.toLowerCase() === "secret";
}

/** The stored value as the input shows it. */
export function storedText(entry: ConfigEntryView): string {
  if (entry.value === null || entry.value === undefined) return entry.type === "boolean" ? "false" : "";
  return typeof entry.value === "string" ? entry.value : JSON.stringify(entry.value);
}

type ConfigStore = {
  /** Stores the value; resolves with the entry as stored now, when known. */
  set: (value: string) => Promise<ConfigEntryView | undefined>;
  /** Forgets the stored value. */
  unset: () => Promise<unknown>;
  onSaved: () => void;
  onError?: (error: AppError) => void;
};

export type ConfigEditor = {
  secret: boolean;
  draft: string;
  edit: (text: string) => void;
  busy: "save" | "remove" | null;
  error: AppError | null;
  notice: string | null;
  canSave: boolean;
  save: (e: FormEvent) => Promise<void>;
  remove: () => Promise<void>;
};

/** A secret's draft starts empty and empties again once saved: it never comes back to the UI. */
export function useConfigEditor(entry: ConfigEntryView, store: ConfigStore): ConfigEditor {
  const secret = isSecret(entry);
  const [draft, setDraft] = useState(() => (secret ? "" : storedText(entry)));
  const [busy, setBusy] = useState<"save" | "remove" | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const dirty = secret ? draft !== "" : !entry.set || draft !== storedText(entry);
  const canSave = busy === null && dirty && (entry.type === "boolean" || draft.trim() !== "");

  const attempt = async (kind: "save" | "remove", work: () => Promise<void>) => {
    setBusy(kind);
    setError(null);
    setNotice(null);
    try {
      await work();
      store.onSaved();
    } catch (reason) {
      const e = toAppError(reason);
      setError(e);
      store.onError?.(e);
    } finally {
      setBusy(null);
    }
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!canSave) return;
    await attempt("save", async () => {
      const saved = await store.set(draft);
      if (secret) setDraft("");
      else if (saved) setDraft(storedText(saved));
      setNotice(secret ? "Saved to the keyring" : "Saved");
    });
  };

  const remove = () =>
    attempt("remove", async () => {
      await store.unset();
      setDraft(storedText({ ...entry, value: null }));
      setNotice(secret ? "Removed from the keyring" : "Removed");
    });

  const edit = (text: string) => {
    setDraft(text);
    setNotice(null);
  };

  return { secret, draft, edit, busy, error, notice, canSave, save, remove };
}

/** The key's label (🔒 for a secret), its key, type, and whether it is required. */
export function ConfigEntryTitle({ entry, inputId }: { entry: ConfigEntryView; inputId: string }) {
  return (
    <div className="config-title">
      <label htmlFor={inputId} className="config-label">
        {isSecret(entry) && (
          <span role="img" aria-label="Secret" title="Secret: stored in the system keyring">
            🔒{" "}
          </span>
        )}
        {entry.label ?? entry.key}
      </label>
      <span className="config-meta">
        {entry.label && <code className="mono">{entry.key}</code>}
        <code className="type">{entry.type}</code>
        {entry.required ? <span className="required">Required</span> : <span className="muted small">Optional</span>}
      </span>
    </div>
  );
}

type ConfigValueInputProps = {
  entry: ConfigEntryView;
  editor: ConfigEditor;
  inputId: string;
  testId: string;
  placeholder?: string;
  describedBy?: string;
};

/** A checkbox for a boolean; otherwise a text, number or password field (a secret can be shown). */
export function ConfigValueInput({ entry, editor, inputId, testId, placeholder, describedBy }: ConfigValueInputProps) {
  const [reveal, setReveal] = useState(false);
  const { secret, draft, edit, error } = editor;
  if (entry.type === "boolean") {
    return (
      <label className="checkbox">
        <input
          id={inputId}
          type="checkbox"
          data-testid={testId}
          checked={draft === "true"}
          aria-describedby={describedBy}
          onChange={(e) => edit(e.currentTarget.checked ? "true" : "false")}
        />
        <span>{draft === "true" ? "On" : "Off"}</span>
      </label>
    );
  }
  return (
    <span className="input-group">
      <input
        id={inputId}
        className={`input${error ? " is-invalid" : ""}`}
        data-testid={testId}
        type={secret && !reveal ? "password" : entry.type === "number" ? "number" : "text"}
        step={entry.type === "number" ? "any" : undefined}
        autoComplete={secret ? "new-password" : "off"}
        spellCheck={false}
        placeholder={placeholder}
        value={draft}
        aria-describedby={describedBy}
        aria-invalid={error !== null}
        aria-required={entry.required}
        onChange={(e) => edit(e.currentTarget.value)}
      />
      {secret && (
        <button
          type="button"
          className="button button-ghost input-addon"
          aria-pressed={reveal}
          aria-label={reveal ? "Hide the secret" : "Show the secret"}
          title={reveal ? "Hide" : "Show"}
          onClick={() => setReveal((r) => !r)}
        >
          {reveal ? "🙈" : "👁️"}
        </button>
      )}
    </span>
  );
}

type ConfigActionsProps = {
  editor: ConfigEditor;
  /** Remove is offered only when something is stored. */
  canRemove: boolean;
  removeTitle: string;
  /** `${prefix}-save`, `${prefix}-remove` and `${prefix}-saved`. */
  testIdPrefix: string;
};

/** Save (submits the form), Remove, and what the last of them did. */
export function ConfigActions({ editor, canRemove, removeTitle, testIdPrefix }: ConfigActionsProps) {
  const { busy, canSave, notice, remove } = editor;
  return (
    <>
      <div className="button-row">
        <button type="submit" className="button button-primary" data-testid={`${testIdPrefix}-save`} disabled={!canSave}>
          {busy === "save" && <span className="spinner spinner-light" aria-hidden="true" />}
          Save
        </button>
        {canRemove && (
          <button
            type="button"
            className="button button-danger-outline"
            data-testid={`${testIdPrefix}-remove`}
            disabled={busy !== null}
            title={removeTitle}
            onClick={() => void remove()}
          >
            {busy === "remove" && <span className="spinner" aria-hidden="true" />}
            Remove
          </button>
        )}
      </div>
      <span className="config-notice small" role="status" aria-live="polite">
        {notice && (
          <span className="saved" data-testid={`${testIdPrefix}-saved`}>
            ✓ {notice}
          </span>
        )}
      </span>
    </>
  );
}
