// The live test's input: one control per field of the Input node, and the same input as JSON
// below (always there, for fields the form cannot express and for pasting a whole input).
import { useId } from "react";

import type { FieldView } from "../../../generated/FieldView";
import { InputField } from "../../library/RunPanel";
import type { TestForm } from "../store";
import { fieldErrors, fromJson, fromValues, parseJson } from "./testInput";

type TestInputFormProps = {
  fields: Array<FieldView>;
  form: TestForm;
  onChange: (form: TestForm) => void;
};

export function TestInputForm({ fields, form, onChange }: TestInputFormProps) {
  const jsonId = useId();
  const errors = fieldErrors(fields, form.values);
  const parsed = parseJson(form.json);

  return (
    <div className="test-input">
      {fields.length === 0 ? (
        <p className="muted small">The Input node declares no inputs; edit the JSON below, or add inputs to the Input node.</p>
      ) : (
        <div className="run-inputs">
          {fields.map((field) => (
            <InputField
              key={field.name}
              field={field}
              testId={`test-input-${field.name}`}
              value={form.values[field.name] ?? null}
              error={errors[field.name]}
              onChange={(v) => onChange(fromValues(fields, { ...form.values, [field.name]: v }).form)}
            />
          ))}
        </div>
      )}
      <label className="section-label" htmlFor={jsonId}>
        Input as JSON
      </label>
      <textarea
        id={jsonId}
        className={`input textarea mono${parsed.ok ? "" : " is-invalid"}`}
        data-testid="test-input-json"
        rows={4}
        spellCheck={false}
        value={form.json}
        aria-invalid={!parsed.ok}
        onChange={(e) => onChange(fromJson(fields, form.values, e.currentTarget.value))}
      />
      {!parsed.ok && (
        <p className="field-error" role="alert" data-testid="test-input-json-error">
          {parsed.error}
        </p>
      )}
    </div>
  );
}
