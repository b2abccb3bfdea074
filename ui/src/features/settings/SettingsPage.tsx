// "Settings": the app-wide settings the backend knows, in sections by key prefix (network, AI
// endpoint, email, knowledge, sandbox), each with its description, current value, an input to
// change it and a way back to the default; secrets go to the OS keyring and never come back.
// Below them, the marketplace (where it is, who is signed in) and the trigger service (webhooks
// and schedules). The backend validates every value.
import { useCallback, useId, useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { SettingView } from "../../generated/SettingView";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { LoadFailed } from "../library/LibraryStates";
import { MarketSettingsCard } from "../market/MarketSettingsCard";
import { groupSettings, settingLook, settingText, type SettingSection } from "./registry";
import { TriggersCard } from "./TriggersCard";

export function SettingsPage() {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<Array<SettingView>>(`settings:${generation}`, () => invoke("get_settings", {}));
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const settings = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;

  return (
    <div className="page page-narrow">
      <header className="page-header">
        <div className="page-title">
          <h1>Settings</h1>
          <p className="muted">
            How capabilities may use the network, the AI endpoint, email and your documents. Changes apply to the next
            run.
          </p>
        </div>
      </header>
      <main className="page-body settings-page" aria-busy={state.status === "loading"}>
        {state.status === "error" ? (
          <LoadFailed error={state.error} onRetry={reload} />
        ) : settings === null ? (
          <div role="status" aria-label="Loading settings" data-testid="loading">
            <span className="skeleton skeleton-block" />
          </div>
        ) : settings.length === 0 ? (
          <p className="panel-empty">There are no settings to change.</p>
        ) : (
          groupSettings(settings).map((section) => <SettingsSection key={section.name} section={section} />)
        )}
        <MarketSettingsCard />
        <TriggersCard />
      </main>
    </div>
  );
}

function SettingsSection({ section }: { section: SettingSection }) {
  const headingId = useId();
  return (
    <section className="settings-section" data-testid={`settings-section-${section.name}`} aria-labelledby={headingId}>
      <div className="settings-section-head">
        <h2 id={headingId} className="section-title">
          {section.title}
        </h2>
        <p className="muted small">{section.description}</p>
      </div>
      <ul className="settings-list card-surface" aria-label={section.title}>
        {section.settings.map((setting) =>
          settingLook(setting.key).input === "secret" ? (
            <SecretRow key={setting.key} setting={setting} />
          ) : (
            <SettingRow key={setting.key} setting={setting} />
          ),
        )}
      </ul>
    </section>
  );
}

function SettingRow({ setting: initial }: { setting: SettingView }) {
  // The row keeps the latest value it saved, so it does not wait for a reload of the whole list.
  const [setting, setSetting] = useState(initial);
  const [draft, setDraft] = useState(() => settingText(initial.value));
  const { busy, error, notice, setNotice, save } = useSettingSave<"save" | "reset">(setting.key, (saved) => {
    setSetting(saved);
    setDraft(settingText(saved.value));
  });
  const look = settingLook(setting.key);
  const current = settingText(setting.value);
  const inputId = `setting-${setting.key}`;
  const descriptionId = `${inputId}-description`;
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  // Single-line text is cleared by saving it empty (the backend takes null, not "", for that).
  const clearsWhenEmpty = look.input === "text" || look.input === "url" || look.input === "path";

  const apply = (value: string | null, done: string, via: "save" | "reset") => save(value, done, via);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (busy !== null || text === current) return;
    if (text === "" && clearsWhenEmpty) void apply(null, "Cleared", "save");
    else void apply(text, "Saved", "save");
  };

  const unit = look.unit && typeof setting.value === "number" ? look.unit(setting.value) : null;
  const isEmptyList = Array.isArray(setting.value) && setting.value.length === 0;
  const isUnset = setting.value === null || setting.value === undefined;
  const describedBy = [descriptionId, look.hint ? hintId : null, error ? errorId : null].filter(Boolean).join(" ");
  const common = {
    id: inputId,
    "data-testid": "setting-input",
    "aria-describedby": describedBy,
    "aria-invalid": error !== null,
  };
  const onDraft = (value: string) => {
    setDraft(value);
    setNotice(null);
  };

  return (
    <li className="setting-row" data-testid="setting-row" data-key={setting.key} data-default={setting.is_default}>
      <form className="setting-form" onSubmit={onSubmit} noValidate>
        <div className="setting-text">
          <label htmlFor={inputId} className="setting-title">
            {look.title}
          </label>
          <code className="mono muted small">{setting.key}</code>
          <p id={descriptionId} className="setting-description">
            {setting.description}
          </p>
          <p className="setting-current small">
            <span className="muted">Current: </span>
            <span className={isEmptyList || isUnset ? "muted" : "mono"} data-testid="setting-value">
              {isEmptyList ? "none" : isUnset ? "not set" : current}
            </span>
            {unit && <span className="muted"> ({unit})</span>}{" "}
            {setting.is_default ? (
              <span className="badge badge-gray">Default</span>
            ) : (
              <span className="badge badge-violet">Changed</span>
            )}
          </p>
        </div>
        <div className="setting-controls">
          {look.input === "choice" ? (
            <select
              {...common}
              className={`select${error ? " is-invalid" : ""}`}
              value={draft}
              onChange={(e) => onDraft(e.currentTarget.value)}
            >
              {/* A stored value this version does not know still shows, so Save does not change it by accident. */}
              {!look.choices?.some((c) => c.value === draft) && <option value={draft}>{draft || "—"}</option>}
              {look.choices?.map((choice) => (
                <option key={choice.value} value={choice.value}>
                  {choice.label}
                </option>
              ))}
            </select>
          ) : (
            <input
              {...common}
              className={`input${error ? " is-invalid" : ""}${look.input === "path" ? " mono" : ""}`}
              type={look.input === "url" ? "url" : "text"}
              inputMode={look.input === "number" ? "numeric" : look.input === "url" ? "url" : "text"}
              spellCheck={false}
              autoComplete="off"
              placeholder={look.placeholder}
              value={draft}
              onChange={(e) => onDraft(e.currentTarget.value)}
            />
          )}
          {look.hint && (
            <p id={hintId} className="muted small">
              {look.hint}
            </p>
          )}
          <div className="button-row">
            <button
              type="submit"
              className="button button-primary"
              data-testid="setting-save"
              disabled={busy !== null || draft.trim() === current}
            >
              {busy === "save" && <span className="spinner spinner-light" aria-hidden="true" />}
              Save
            </button>
            <button
              type="button"
              className="button"
              data-testid="setting-reset"
              disabled={busy !== null || setting.is_default}
              onClick={() => void apply(null, "Default restored", "reset")}
            >
              {busy === "reset" && <span className="spinner" aria-hidden="true" />}
              Reset to default
            </button>
          </div>
          <SettingStatus notice={notice} />
        </div>
      </form>
      <SettingError error={error} errorId={errorId} />
    </li>
  );
}

/**
 * A secret (an API key, a password): written to the OS keyring, never read back. The backend says
 * only whether one is set (`"[secret]"` or null), so the input always starts empty.
 */
function SecretRow({ setting: initial }: { setting: SettingView }) {
  const [setting, setSetting] = useState(initial);
  const [draft, setDraft] = useState("");
  const { busy, error, notice, setNotice, save } = useSettingSave<"save" | "clear">(setting.key, (saved) => {
    setSetting(saved);
    setDraft("");
  });
  const look = settingLook(setting.key);
  const isSet = setting.value !== null && setting.value !== undefined;
  const inputId = `setting-${setting.key}`;
  const descriptionId = `${inputId}-description`;
  const errorId = `${inputId}-error`;

  const apply = (value: string | null) =>
    save(value, value === null ? "Cleared" : "Saved in the OS keyring", value === null ? "clear" : "save");

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    // Sent as typed: spaces may be part of a password.
    if (busy === null && draft !== "") void apply(draft);
  };

  return (
    <li
      className="setting-row"
      data-testid="setting-row"
      data-key={setting.key}
      data-default={setting.is_default}
      data-secret="true"
    >
      <form className="setting-form" onSubmit={onSubmit} noValidate>
        <div className="setting-text">
          <label htmlFor={inputId} className="setting-title">
            <span role="img" aria-label="Secret" title="Secret: stored in the OS keyring">
              🔒{" "}
            </span>
            {look.title}
          </label>
          <code className="mono muted small">{setting.key}</code>
          <p id={descriptionId} className="setting-description">
            {setting.description}
          </p>
          <p className="setting-current small">
            <span className="muted">Current: </span>
            {isSet ? (
              <span className="badge badge-green" data-testid="setting-value" data-set="true">
                Set (in the OS keyring)
              </span>
            ) : (
              <span className="badge badge-gray" data-testid="setting-value" data-set="false">
                Not set
              </span>
            )}
          </p>
        </div>
        <div className="setting-controls">
          <input
            id={inputId}
            className={`input${error ? " is-invalid" : ""}`}
            data-testid="setting-input"
            type="password"
            spellCheck={false}
            autoComplete="new-password"
            placeholder={isSet ? "Type a new value to replace it" : "Not set"}
            value={draft}
            aria-describedby={error ? `${descriptionId} ${errorId}` : descriptionId}
            aria-invalid={error !== null}
            onChange={(e) => {
              setDraft(e.currentTarget.value);
              setNotice(null);
            }}
          />
          <div className="button-row">
            <button
              type="submit"
              className="button button-primary"
              data-testid="setting-save"
              disabled={busy !== null || draft === ""}
            >
              {busy === "save" && <span className="spinner spinner-light" aria-hidden="true" />}
              Save
            </button>
            <button
              type="button"
              className="button"
              data-testid="setting-reset"
              disabled={busy !== null || !isSet}
              title="Removes it from the OS keyring"
              onClick={() => void apply(null)}
            >
              {busy === "clear" && <span className="spinner" aria-hidden="true" />}
              Clear
            </button>
          </div>
          <SettingStatus notice={notice} />
        </div>
      </form>
      <SettingError error={error} errorId={errorId} />
    </li>
  );
}

/** What the last save did, announced politely. */
function SettingStatus({ notice }: { notice: string | null }) {
  return (
    <p className="setting-status small" role="status" aria-live="polite">
      {notice && (
        <span className="saved" data-testid="setting-saved">
          ✓ {notice}
        </span>
      )}
    </p>
  );
}

function SettingError({ error, errorId }: { error: AppError | null; errorId: string }) {
  if (!error) return null;
  return (
    <div id={errorId}>
      <ErrorAlert error={error} testId="setting-error" />
    </div>
  );
}

/**
 * Saving one setting: which button is busy, the notice on success, the error otherwise.
 * `onSaved` gets what the backend stored.
 */
function useSettingSave<Via extends string>(key: string, onSaved: (saved: SettingView) => void) {
  const [busy, setBusy] = useState<Via | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const save = async (value: string | null, done: string, via: Via) => {
    setBusy(via);
    setError(null);
    setNotice(null);
    try {
      onSaved(await invoke("set_setting", { key, value }));
      setNotice(done);
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };
  return { busy, error, notice, setNotice, save };
}
