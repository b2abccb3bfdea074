// "Settings": the app-wide settings the backend knows, each with its description, current value,
// an input to change it and a way back to the default. The backend validates every value.
import { useCallback, useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { SettingView } from "../../generated/SettingView";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { LoadFailed } from "../library/LibraryStates";
import { settingLook, settingText } from "./registry";

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
          <p className="muted">How capabilities may use the network. Changes apply to the next run.</p>
        </div>
      </header>
      <main className="page-body" aria-busy={state.status === "loading"}>
        {state.status === "error" ? (
          <LoadFailed error={state.error} onRetry={reload} />
        ) : settings === null ? (
          <div role="status" aria-label="Loading settings" data-testid="loading">
            <span className="skeleton skeleton-block" />
          </div>
        ) : settings.length === 0 ? (
          <p className="panel-empty">There are no settings to change.</p>
        ) : (
          <ul className="settings-list card-surface" aria-label="Settings">
            {settings.map((setting) => (
              <SettingRow key={setting.key} setting={setting} />
            ))}
          </ul>
        )}
      </main>
    </div>
  );
}

function SettingRow({ setting: initial }: { setting: SettingView }) {
  // The row keeps the latest value it saved, so it does not wait for a reload of the whole list.
  const [setting, setSetting] = useState(initial);
  const [draft, setDraft] = useState(() => settingText(initial.value));
  const [busy, setBusy] = useState<"save" | "reset" | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const look = settingLook(setting.key);
  const current = settingText(setting.value);
  const inputId = `setting-${setting.key}`;
  const descriptionId = `${inputId}-description`;
  const errorId = `${inputId}-error`;

  const apply = async (value: string | null) => {
    setBusy(value === null ? "reset" : "save");
    setError(null);
    setNotice(null);
    try {
      const saved = await invoke("set_setting", { key: setting.key, value });
      setSetting(saved);
      setDraft(settingText(saved.value));
      setNotice(value === null ? "Default restored" : "Saved");
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (busy === null && draft.trim() !== current) void apply(draft.trim());
  };

  const unit = look.unit && typeof setting.value === "number" ? look.unit(setting.value) : null;
  const isEmptyList = Array.isArray(setting.value) && setting.value.length === 0;

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
            <span className={isEmptyList ? "muted" : "mono"} data-testid="setting-value">
              {isEmptyList ? "none" : current}
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
          <input
            id={inputId}
            className={`input${error ? " is-invalid" : ""}`}
            data-testid="setting-input"
            type="text"
            inputMode={look.input === "number" ? "numeric" : "text"}
            spellCheck={false}
            autoComplete="off"
            placeholder={look.placeholder}
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
              onClick={() => void apply(null)}
            >
              {busy === "reset" && <span className="spinner" aria-hidden="true" />}
              Reset to default
            </button>
          </div>
          <p className="setting-status small" role="status" aria-live="polite">
            {notice && (
              <span className="saved" data-testid="setting-saved">
                ✓ {notice}
              </span>
            )}
          </p>
        </div>
      </form>
      {error && (
        <div id={errorId}>
          <ErrorAlert error={error} testId="setting-error" />
        </div>
      )}
    </li>
  );
}
