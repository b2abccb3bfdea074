// Step 2 of the consent dialog: the configuration the capability asks for (secrets go to the OS
// keyring through `config_set`). Values already stored are kept unless typed over; skippable.
import { useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { ConfigEntryView } from "../../generated/ConfigEntryView";
import type { ConfigKey } from "../../generated/ConfigKey";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";

type ConsentConfigureProps = { id: string; keys: ReadonlyArray<ConfigKey>; onNext: () => void };

export function ConsentConfigure({ id, keys, onNext }: ConsentConfigureProps) {
  const stored = useBackendQuery<Array<ConfigEntryView>>(`consent-config:${id}`, () => invoke("config_list", { id }));
  const entries = stored.status === "ready" ? stored.value : [];
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const typed = Object.entries(values).filter(([, value]) => value !== "");

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (typed.length === 0) {
      onNext();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      for (const [key, value] of typed) await invoke("config_set", { id, key, value });
      onNext();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  if (keys.length === 0) {
    return (
      <div className="consent-step" data-testid="consent-configure">
        <p className="muted">It needs no configuration.</p>
        <div className="consent-actions">
          <button type="button" className="button button-primary" data-testid="consent-next" onClick={onNext}>
            Continue
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="consent-step" data-testid="consent-configure" onSubmit={(e) => void save(e)} noValidate>
      <p className="muted small">Values are stored on this machine; secrets go to the OS keyring and are never shown again.</p>
      <ul className="consent-config">
        {keys.map((key, i) => {
          const entry = entries.find((en) => en.key === key.key);
          const inputId = `consent-config-input-${key.key}`;
          return (
            <li key={key.key} className="form-row">
              <label htmlFor={inputId} className="config-label">
                {key.secret && <span title="A secret, kept in the OS keyring">🔒 </span>}
                {key.label ?? key.key} <code className="muted small">{key.key}</code>
                {key.required && <span className="required"> required</span>}
                {entry?.set && <span className="badge badge-green">already set</span>}
              </label>
              <input
                id={inputId}
                className="input"
                data-testid={`consent-config-${key.key}`}
                type={key.secret ? "password" : "text"}
                autoComplete={key.secret ? "new-password" : "off"}
                spellCheck={false}
                autoFocus={i === 0}
                placeholder={entry?.set ? "Type to replace the stored value" : key.required ? "Required" : "Optional"}
                value={values[key.key] ?? ""}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  setValues((v) => ({ ...v, [key.key]: value }));
                }}
              />
            </li>
          );
        })}
      </ul>
      {error && <ErrorAlert error={error} testId="consent-config-error" />}
      <div className="consent-actions">
        <button type="button" className="button" data-testid="consent-skip" onClick={onNext}>
          Skip
        </button>
        <button type="submit" className="button button-primary" data-testid="consent-config-save" disabled={busy}>
          {busy && <span className="spinner spinner-light" aria-hidden="true" />}
          {typed.length > 0 ? "Save and continue" : "Continue"}
        </button>
      </div>
    </form>
  );
}
