// Step 3: the configuration the capability needs (API keys, base URLs…): each item's key, label,
// type, whether it is required and where to get it; and its value for this machine, stored for
// the saved capability (secrets in the system keyring, never shown again).
import { useState } from "react";

import { ErrorAlert } from "../../../components/ErrorAlert";
import type { ConfigEntryView } from "../../../generated/ConfigEntryView";
import { invoke } from "../../../lib/backend";
import { toAppError, type AppError } from "../../../lib/errors";
import { useBackendQuery } from "../../../lib/useBackendQuery";
import { CONFIG_TYPES, setOptional, type ConfigItem, type ConfigType, type FlowDoc } from "../model";
import { useBuilder, useBuilderStore } from "../useBuilder";

function withConfiguration(doc: FlowDoc, items: Array<ConfigItem>): FlowDoc {
  return { ...doc, capability: { ...doc.capability, configuration: items.length > 0 ? items : undefined } };
}

export function ConfigurationStep() {
  const store = useBuilderStore();
  const items = useBuilder((s) => s.doc.capability.configuration) ?? [];
  const capabilityId = useBuilder((s) => s.doc.capability.id);
  const [generation, setGeneration] = useState(0);
  const stored = useBackendQuery(`${capabilityId}#${generation}`, () => invoke("config_list", { id: capabilityId }));
  const entries = stored.status === "ready" ? stored.value : stored.status === "loading" ? stored.previous : null;

  const edit = (i: number, item: ConfigItem, field: string) =>
    store.getState().commit(
      (doc) => withConfiguration(doc, (doc.capability.configuration ?? []).map((x, j) => (j === i ? item : x))),
      `config:${i}:${field}`,
    );
  const add = () =>
    store.getState().commit((doc) => {
      const current = doc.capability.configuration ?? [];
      return withConfiguration(doc, [...current, { key: `KEY_${current.length + 1}`, type: "string" }]);
    });
  const remove = (i: number) =>
    store.getState().commit((doc) => withConfiguration(doc, (doc.capability.configuration ?? []).filter((_, j) => j !== i)));

  const notSaved = stored.status === "error" && stored.error.kind === "not_found";
  return (
    <section className="builder-step configuration-step" aria-label="Configuration">
      <p className="muted panel-intro">
        Templates name these as <code>{"${KEY}"}</code>. Secrets are filled in at the HTTP boundary only; scripts never see
        them.
      </p>
      {notSaved && (
        <p className="note" data-testid="config-not-saved">
          Values belong to a saved capability: use <strong>Save draft</strong> first, then set them here.
        </p>
      )}
      {stored.status === "error" && !notSaved && <ErrorAlert error={stored.error} testId="config-list-error" />}
      {items.length === 0 ? (
        <p className="panel-empty" data-testid="config-empty">
          No configuration: the capability needs nothing set up before it runs.
        </p>
      ) : (
        <ul className="config-items">
          {items.map((item, i) => (
            <ConfigItemRow
              key={i}
              index={i}
              item={item}
              entry={entries?.find((e) => e.key === item.key) ?? null}
              capabilityId={capabilityId}
              canSetValue={!notSaved}
              onChange={edit}
              onRemove={() => remove(i)}
              onValueSaved={() => setGeneration((g) => g + 1)}
            />
          ))}
        </ul>
      )}
      <button type="button" className="button" data-testid="config-add" onClick={add}>
        + Add configuration item
      </button>
    </section>
  );
}

/** A stored non-secret value as placeholder text (the value itself is never put in the field). */
function storedText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

type ConfigItemRowProps = {
  index: number;
  item: ConfigItem;
  /** What is stored for this key, if the capability is saved and has it. */
  entry: ConfigEntryView | null;
  capabilityId: string;
  canSetValue: boolean;
  onChange: (index: number, item: ConfigItem, field: string) => void;
  onRemove: () => void;
  onValueSaved: () => void;
};

function ConfigItemRow({ index: i, item, entry, capabilityId, canSetValue, onChange, onRemove, onValueSaved }: ConfigItemRowProps) {
  const type = item.type ?? "string";
  const secret = type === "secret";
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [saved, setSaved] = useState(false);

  const saveValue = async () => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await invoke("config_set", { id: capabilityId, key: item.key, value });
      // A secret leaves the page once it is in the keyring.
      if (secret) setValue("");
      setSaved(true);
      onValueSaved();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="config-item card-surface" data-testid={`config-item-${i}`} data-key={item.key}>
      <div className="config-item-grid">
        <label className="form-row">
          <span className="form-label">Key</span>
          <input
            className="input mono"
            data-testid={`config-key-${i}`}
            spellCheck={false}
            placeholder="API_KEY"
            value={item.key}
            onChange={(e) => onChange(i, { ...item, key: e.currentTarget.value }, "key")}
          />
        </label>
        <label className="form-row">
          <span className="form-label">Label</span>
          <input
            className="input"
            data-testid={`config-label-${i}`}
            placeholder="API key"
            value={item.label ?? ""}
            onChange={(e) => onChange(i, setOptional(item, "label", e.currentTarget.value), "label")}
          />
        </label>
        <label className="form-row">
          <span className="form-label">Type</span>
          <select
            className="select"
            data-testid={`config-type-${i}`}
            value={type}
            onChange={(e) => {
              const next = e.currentTarget.value as ConfigType;
              // A secret has no default (the backend refuses one).
              const changed = { ...item, type: next };
              onChange(i, next === "secret" ? setOptional(changed, "default", undefined) : changed, "type");
            }}
          >
            {CONFIG_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox config-required">
          <input
            type="checkbox"
            data-testid={`config-required-${i}`}
            checked={item.required === true}
            onChange={(e) => onChange(i, setOptional(item, "required", e.currentTarget.checked || undefined), "required")}
          />
          <span>Required</span>
        </label>
        <label className="form-row form-row-wide">
          <span className="form-label">Help URL</span>
          <input
            className="input"
            data-testid={`config-help-${i}`}
            type="url"
            placeholder="https://example.com/docs/api-keys"
            value={item.help_url ?? ""}
            onChange={(e) => onChange(i, setOptional(item, "help_url", e.currentTarget.value), "help_url")}
          />
        </label>
        <button type="button" className="icon-button config-remove" data-testid={`config-remove-${i}`} aria-label={`Remove ${item.key}`} onClick={onRemove}>
          ✕
        </button>
      </div>

      <form
        className="config-value"
        onSubmit={(e) => {
          e.preventDefault();
          void saveValue();
        }}
      >
        <span className="form-label">Value on this machine</span>
        {type === "boolean" ? (
          <select
            className="select"
            data-testid={`config-value-${i}`}
            aria-label={`Value of ${item.key}`}
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
          >
            <option value="">—</option>
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        ) : (
          <input
            className="input"
            data-testid={`config-value-${i}`}
            aria-label={`Value of ${item.key}`}
            type={secret ? "password" : type === "number" ? "number" : "text"}
            autoComplete={secret ? "new-password" : "off"}
            placeholder={secret ? (entry?.set ? "•••••••• stored — type to replace" : "Paste the secret") : entry?.set ? storedText(entry.value) : ""}
            value={value}
            onChange={(e) => {
              setValue(e.currentTarget.value);
              setSaved(false);
            }}
          />
        )}
        <button
          type="submit"
          className="button button-small"
          data-testid={`config-value-save-${i}`}
          disabled={!canSetValue || busy || value === "" || item.key === ""}
          title={canSetValue ? undefined : "Save the draft first"}
        >
          {busy && <span className="spinner" aria-hidden="true" />}
          Set
        </button>
        <span className={`pill pill-${entry?.set ? "set" : item.required ? "missing" : "unset"}`} data-testid={`config-status-${i}`}>
          {entry?.set ? "Set" : "Not set"}
        </span>
        {saved && (
          <span className="saved small" role="status">
            ✓ {secret ? "Saved to the keyring" : "Saved"}
          </span>
        )}
      </form>
      {error && <ErrorAlert error={error} testId={`config-value-error-${i}`} />}
    </li>
  );
}
