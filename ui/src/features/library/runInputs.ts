// How an action's declared inputs become form controls, and the form's values become the JSON
// input of a run. Empty fields are left out, so the capability's defaults (or its "required"
// check) apply.
import type { ActionView } from "../../generated/ActionView";
import type { FieldView } from "../../generated/FieldView";
import type { FormValue, FormValues } from "./useCapabilitySession";

export type Control = "text" | "number" | "integer" | "boolean" | "json";

/** string → text, number/integer → number, boolean → checkbox, anything else → JSON. */
export function controlFor(field: FieldView): Control {
  switch (field.type.toLowerCase()) {
    case "string":
      return "text";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

/** What a JSON field expects, as a hint beside it. */
export function jsonHint(field: FieldView): string {
  switch (field.type.toLowerCase()) {
    case "object":
      return 'A JSON object, e.g. { "key": "value" }';
    case "array":
      return 'A JSON array, e.g. ["a", "b"]';
    case "file":
      return "JSON, as the capability expects the file";
    default:
      return 'Any JSON value: a "string", a number, true, an object…';
  }
}

export function initialValues(action: ActionView): FormValues {
  const values: FormValues = {};
  for (const field of action.inputs) {
    // A required checkbox always has a value; an optional one starts unset (the default applies).
    values[field.name] = controlFor(field) === "boolean" ? (field.required ? false : null) : "";
  }
  return values;
}

export type BuiltInput = { input: Record<string, unknown>; errors: Record<string, string> };

function asText(value: FormValue | undefined): string {
  return typeof value === "string" ? value : "";
}

/** The run's input object, and a message per field that cannot become JSON. */
export function buildInput(action: ActionView, values: FormValues): BuiltInput {
  const input: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of action.inputs) {
    const value = values[field.name];
    const control = controlFor(field);
    if (control === "boolean") {
      if (typeof value === "boolean") input[field.name] = value;
      continue;
    }
    const text = asText(value);
    if (text.trim() === "") continue;
    switch (control) {
      case "text":
        input[field.name] = text;
        break;
      case "number":
      case "integer": {
        const n = Number(text);
        if (!Number.isFinite(n)) errors[field.name] = "Not a number";
        else if (control === "integer" && !Number.isInteger(n)) errors[field.name] = "Must be a whole number";
        else input[field.name] = n;
        break;
      }
      case "json":
        try {
          input[field.name] = JSON.parse(text) as unknown;
        } catch (e) {
          errors[field.name] = e instanceof Error ? e.message : "Not valid JSON";
        }
        break;
    }
  }
  return { input, errors };
}
