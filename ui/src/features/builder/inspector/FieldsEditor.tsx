// The Input node's inputs and the Output node's outputs: name, type, (inputs only) required, and a
// description, one row per field.
import { FIELD_TYPES, setOptional, type FieldType, type FlowField } from "../model";

type FieldsEditorProps = {
  which: "inputs" | "outputs";
  fields: ReadonlyArray<FlowField>;
  onChange: (fields: Array<FlowField>) => void;
};

export function FieldsEditor({ which, fields, onChange }: FieldsEditorProps) {
  const withRequired = which === "inputs";
  const edit = (i: number, field: FlowField) => onChange(fields.map((f, j) => (j === i ? field : f)));
  const names = fields.map((f) => f.name);
  const noun = which === "inputs" ? "Input" : "Output";

  return (
    <fieldset className="fields-editor" data-testid={`fields-${which}`}>
      <legend className="section-label">{which === "inputs" ? "Inputs" : "Outputs"}</legend>
      {fields.length === 0 && <p className="muted small">No {which} yet.</p>}
      {fields.map((field, i) => {
        const repeated = field.name !== "" && names.indexOf(field.name) !== i;
        return (
          <div key={i} className="field-row">
            <div className="field-row-main">
              <input
                className={`input mono${repeated || field.name === "" ? " is-invalid" : ""}`}
                data-testid={`fields-${which}-name-${i}`}
                aria-label={`${noun} ${i + 1}: name`}
                title={repeated ? "This name is used twice" : undefined}
                placeholder="name"
                spellCheck={false}
                value={field.name}
                onChange={(e) => edit(i, { ...field, name: e.currentTarget.value })}
              />
              <select
                className="select"
                data-testid={`fields-${which}-type-${i}`}
                aria-label={`${noun} ${i + 1}: type`}
                value={field.type}
                onChange={(e) => edit(i, { ...field, type: e.currentTarget.value as FieldType })}
              >
                {FIELD_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="icon-button"
                data-testid={`fields-${which}-remove-${i}`}
                aria-label={`Remove ${noun.toLowerCase()} ${field.name || i + 1}`}
                onClick={() => onChange(fields.filter((_, j) => j !== i))}
              >
                ✕
              </button>
            </div>
            <div className="field-row-extra">
              {withRequired && (
                <label className="checkbox small" title="Required">
                  <input
                    type="checkbox"
                    data-testid={`fields-${which}-required-${i}`}
                    checked={field.required === true}
                    onChange={(e) => edit(i, setOptional(field, "required", e.currentTarget.checked || undefined))}
                  />
                  <span>Required</span>
                </label>
              )}
              <input
                className="input small"
                data-testid={`fields-${which}-description-${i}`}
                aria-label={`${noun} ${i + 1}: description`}
                placeholder="Description (optional)"
                value={field.description ?? ""}
                onChange={(e) => edit(i, setOptional(field, "description", e.currentTarget.value))}
              />
            </div>
          </div>
        );
      })}
      <button
        type="button"
        className="button button-small button-ghost"
        data-testid={`fields-${which}-add`}
        onClick={() => onChange([...fields, { name: "", type: "string" }])}
      >
        + Add {noun.toLowerCase()}
      </button>
    </fieldset>
  );
}
