// The Run tab: pick an action, fill in its inputs (a form generated from their declared types),
// run it, and read the result. Ctrl/⌘+Enter runs too. The last result per action stays while the
// user looks at other tabs. An installed capability refused for want of consent (or revoked) says
// what it needs, and can be allowed and run again.
import { useEffect, useEffectEvent, useId, useRef, useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { ActionView } from "../../generated/ActionView";
import type { CapabilityDetail } from "../../generated/CapabilityDetail";
import type { FieldView } from "../../generated/FieldView";
import { MOD_LABEL, primaryModifierOnly } from "../../lib/platform";
import { isRunConsentKind, RunConsentPanel } from "./RunConsentPanel";
import { buildInput, controlFor, initialValues, jsonHint } from "./runInputs";
import { RunResultView } from "./RunResultView";
import { slotKey, type CapabilitySession, type FormValue } from "./useCapabilitySession";

type RunPanelProps = {
  detail: CapabilityDetail;
  session: CapabilitySession;
  onOpenConfigure: () => void;
};

export function RunPanel({ detail, session, onOpenConfigure }: RunPanelProps) {
  const { actions, version } = detail;
  const first = actions[0];
  if (!first) {
    return (
      <p className="panel-empty" data-testid="run-empty">
        This capability declares no actions, so there is nothing to run.
      </p>
    );
  }
  const chosen = session.chosenAction[version];
  const action = actions.find((a) => a.id === chosen) ?? first;
  return <RunForm key={slotKey(version, action.id)} detail={detail} action={action} session={session} onOpenConfigure={onOpenConfigure} />;
}

type RunFormProps = RunPanelProps & { action: ActionView };

function RunForm({ detail, action, session, onOpenConfigure }: RunFormProps) {
  const { version } = detail;
  const key = slotKey(version, action.id);
  const values = session.forms[key] ?? initialValues(action);
  const slot = session.runs[key];
  const running = slot?.running ?? false;
  const { input, errors } = buildInput(action, values);
  const errorCount = Object.keys(errors).length;
  // Field errors show once the user has typed there, or after a run was attempted.
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [attempted, setAttempted] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const selectId = useId();
  // The refusal whose consent panel the user closed (a new refusal offers it again).
  const [dismissed, setDismissed] = useState<object | null>(null);
  const refusal = slot?.failure ?? null;
  const consentKind = refusal !== null && refusal !== dismissed && isRunConsentKind(refusal.kind) ? refusal.kind : null;

  const missingConfig =
    session.config.status === "ready" ? session.config.value.filter((c) => c.required && !c.set) : [];

  const setValue = (name: string, value: FormValue) => {
    session.setForm(version, action.id, { ...values, [name]: value });
    setTouched((t) => ({ ...t, [name]: true }));
  };

  const start = () => {
    if (running) return;
    setAttempted(true);
    if (errorCount > 0) {
      formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    void session.run(version, action.id, input);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    start();
  };

  // Ctrl/⌘+Enter runs from anywhere on the tab, including inside a JSON textarea.
  const onKeyDown = useEffectEvent((e: KeyboardEvent) => {
    if (e.defaultPrevented || e.key !== "Enter" || !primaryModifierOnly(e)) return;
    if (document.querySelector("dialog[open]")) return;
    e.preventDefault();
    start();
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKeyDown(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);

  return (
    <div className="run-panel">
      <form ref={formRef} className="run-form card-surface" onSubmit={onSubmit} noValidate aria-label="Run an action">
        <div className="run-form-head">
          <label className="field-inline" htmlFor={selectId}>
            <span>Action</span>
          </label>
          <select
            id={selectId}
            className="select run-action-select"
            data-testid="run-action-select"
            value={action.id}
            onChange={(e) => session.chooseAction(version, e.currentTarget.value)}
          >
            {detail.actions.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name === a.id ? a.id : `${a.name} (${a.id})`}
              </option>
            ))}
          </select>
        </div>
        {action.description && <p className="muted run-action-description">{action.description}</p>}

        {missingConfig.length > 0 && (
          <div className="note note-row" data-testid="run-config-warning">
            <span>
              <span aria-hidden="true">⚠️ </span>
              Not configured yet: {missingConfig.map((c) => c.label ?? c.key).join(", ")}. Runs that need{" "}
              {missingConfig.length === 1 ? "it" : "them"} will fail.
            </span>
            <button type="button" className="button button-small" onClick={onOpenConfigure}>
              Configure
            </button>
          </div>
        )}

        {action.inputs.length === 0 ? (
          <p className="muted run-no-inputs">This action takes no inputs.</p>
        ) : (
          <div className="run-inputs">
            {action.inputs.map((field) => (
              <InputField
                key={field.name}
                field={field}
                value={values[field.name] ?? null}
                error={touched[field.name] || attempted ? errors[field.name] : undefined}
                onChange={(v) => setValue(field.name, v)}
              />
            ))}
          </div>
        )}

        <div className="run-form-foot">
          <details className="input-preview">
            <summary>Input JSON</summary>
            <pre className="json json-compact">{JSON.stringify(input, null, 2)}</pre>
          </details>
          <span className="run-form-actions">
            {attempted && errorCount > 0 && (
              <span className="field-error" role="alert">
                Fix {errorCount === 1 ? "the highlighted input" : `the ${errorCount} highlighted inputs`} first.
              </span>
            )}
            <button
              type="submit"
              className="button button-primary button-large"
              data-testid="run-button"
              aria-keyshortcuts={`${MOD_LABEL === "⌘" ? "Meta" : "Control"}+Enter`}
              aria-busy={running}
              disabled={running}
            >
              {running ? (
                <>
                  <span className="spinner spinner-light" aria-hidden="true" data-testid="run-spinner" /> Running…
                </>
              ) : (
                <>
                  <span aria-hidden="true">▶</span> Run
                </>
              )}
              <kbd className="kbd-on-primary" aria-hidden="true">
                {MOD_LABEL}+↵
              </kbd>
            </button>
          </span>
        </div>
      </form>

      <div className="run-outcome" aria-live="polite" aria-busy={running}>
        {slot?.failure && (
          <ErrorAlert error={slot.failure} testId="run-failure">
            {consentKind && (
              <RunConsentPanel
                id={detail.summary.id}
                version={version}
                kind={consentKind}
                onRerun={() => void session.run(version, action.id, slot.input)}
                onCancel={() => setDismissed(refusal)}
              />
            )}
          </ErrorAlert>
        )}
        {slot?.report && (
          <RunResultView
            report={slot.report}
            stale={running}
            onOpenConfigure={onOpenConfigure}
            scope={detail.allowed_domains}
          />
        )}
        {!slot?.report && !slot?.failure && !running && (
          <p className="panel-empty run-placeholder">
            Fill in the inputs and press <strong>Run</strong> to call this action for real; the result shows here.
          </p>
        )}
        {!slot?.report && running && (
          <p className="panel-empty run-placeholder" role="status">
            <span className="spinner" aria-hidden="true" /> Running {action.name}…
          </p>
        )}
      </div>
    </div>
  );
}

type InputFieldProps = {
  field: FieldView;
  value: FormValue;
  error: string | undefined;
  onChange: (value: FormValue) => void;
  /** The control's test hook (`run-input` unless given; the builder's test panel names its own). */
  testId?: string;
};

/** One input of an action as a form control chosen by its type (also used by the builder's test panel). */
export function InputField({ field, value, error, onChange, testId = "run-input" }: InputFieldProps) {
  const id = useId();
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const control = controlFor(field);
  const text = typeof value === "string" ? value : "";
  const describedBy = [field.description || control === "json" ? helpId : null, error ? errorId : null]
    .filter(Boolean)
    .join(" ");
  const common = {
    id,
    "data-testid": testId,
    "data-name": field.name,
    "data-type": field.type,
    "aria-describedby": describedBy || undefined,
    "aria-invalid": error !== undefined,
    "aria-required": field.required,
  };

  const label = (
    <span className="run-input-label">
      <span className="mono">{field.name}</span>
      <code className="type">{field.type}</code>
      {field.required ? <span className="required">Required</span> : <span className="muted small">Optional</span>}
    </span>
  );

  return (
    <div className={`run-field run-field-${control}`}>
      {control === "boolean" ? (
        <div className="run-checkbox-row">
          <label htmlFor={id} className="checkbox">
            <input
              {...common}
              type="checkbox"
              checked={value === true}
              ref={(el) => {
                // An optional checkbox nobody touched is "not sent", shown as indeterminate.
                if (el) el.indeterminate = value === null;
              }}
              onChange={(e) => onChange(e.currentTarget.checked)}
            />
            {label}
          </label>
          {!field.required &&
            (value === null ? (
              <span className="muted small">not sent</span>
            ) : (
              <button type="button" className="button button-ghost button-small" onClick={() => onChange(null)}>
                Don’t send
              </button>
            ))}
        </div>
      ) : (
        <>
          <label htmlFor={id}>{label}</label>
          {control === "json" ? (
            <textarea
              {...common}
              className={`input textarea mono${error ? " is-invalid" : ""}`}
              rows={4}
              spellCheck={false}
              placeholder={field.type === "array" ? "[ ]" : field.type === "object" ? "{ }" : "JSON"}
              value={text}
              onChange={(e) => onChange(e.currentTarget.value)}
            />
          ) : (
            <input
              {...common}
              className={`input${error ? " is-invalid" : ""}`}
              type={control === "text" ? "text" : "number"}
              step={control === "integer" ? 1 : control === "number" ? "any" : undefined}
              spellCheck={control === "text" ? undefined : false}
              value={text}
              onChange={(e) => onChange(e.currentTarget.value)}
            />
          )}
        </>
      )}
      {(field.description || control === "json") && (
        <p id={helpId} className="run-input-help muted small">
          {field.description}
          {field.description && control === "json" ? " · " : ""}
          {control === "json" && jsonHint(field)}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error" data-testid="run-input-error">
          {error}
        </p>
      )}
    </div>
  );
}
