// The live test's input, two ways at once: a form generated from the Input node's fields (the
// library's Run form controls) and the same input as JSON text. Editing either updates the other;
// the run sends the JSON.
import type { ActionView } from "../../../generated/ActionView";
import type { FieldView } from "../../../generated/FieldView";
import { buildInput, controlFor, initialValues } from "../../library/runInputs";
import type { FormValues } from "../../library/useCapabilitySession";
import type { FlowField } from "../model";
import type { TestForm } from "../store";

/** The Input node's fields as the Run form's field views. */
export function fieldViews(fields: ReadonlyArray<FlowField>): Array<FieldView> {
  return fields
    .filter((f) => f.name !== "")
    .map((f) => ({ name: f.name, type: f.type, required: f.required === true, description: f.description ?? null }));
}

function asAction(fields: Array<FieldView>): ActionView {
  return { id: "", name: "", description: null, inputs: fields, outputs: [] };
}

function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function emptyForm(fields: Array<FieldView>): TestForm {
  const values = initialValues(asAction(fields));
  return { values, json: toJson(buildInput(asAction(fields), values).input) };
}

/** The form after a field changed: values, JSON following them, and each field's error. */
export function fromValues(fields: Array<FieldView>, values: FormValues): { form: TestForm; errors: Record<string, string> } {
  const built = buildInput(asAction(fields), values);
  return { form: { values, json: toJson(built.input) }, errors: built.errors };
}

export function fieldErrors(fields: Array<FieldView>, values: FormValues): Record<string, string> {
  return buildInput(asAction(fields), values).errors;
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJson(text: string): ParsedJson {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : "Not valid JSON" };
  }
}

/** The form after the JSON was edited: the text as typed, and field values from it when it parses. */
export function fromJson(fields: Array<FieldView>, previous: FormValues, json: string): TestForm {
  const parsed = parseJson(json);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) {
    return { values: previous, json };
  }
  const object = parsed.value as Record<string, unknown>;
  const values: FormValues = {};
  for (const field of fields) {
    const value = object[field.name];
    switch (controlFor(field)) {
      case "boolean":
        values[field.name] = typeof value === "boolean" ? value : null;
        break;
      case "text":
        values[field.name] = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
        break;
      default:
        values[field.name] = value === undefined ? "" : typeof value === "number" ? String(value) : JSON.stringify(value);
    }
  }
  return { values, json };
}
