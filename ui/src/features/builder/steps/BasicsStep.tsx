// Step 1: what the capability is called and how it is listed. A new capability's id follows its
// name (as a slug) until the id is edited by hand.
import { useId, useState } from "react";

import { setOptional, slugify, type FlowCapability } from "../model";
import { useBuilder, useBuilderStore } from "../useBuilder";

type TextKey = "name" | "id" | "version" | "description" | "icon" | "category";

export function BasicsStep() {
  const store = useBuilderStore();
  const cap = useBuilder((s) => s.doc.capability);
  const idFollowsName = useBuilder((s) => s.idFollowsName);
  const formId = useId();

  const setCapability = (recipe: (c: FlowCapability) => FlowCapability, field: string) =>
    store.getState().commit((doc) => ({ ...doc, capability: recipe(doc.capability) }), `basics:${field}`);

  const setText = (key: TextKey, value: string) => {
    if (key === "id") store.getState().setIdFollowsName(false);
    setCapability((c) => {
      // name and id are required: they stay, even empty; the rest leave the manifest when empty.
      let next = key === "name" || key === "id" ? { ...c, [key]: value } : setOptional(c, key, value);
      if (key === "name" && store.getState().idFollowsName) next = { ...next, id: slugify(value) };
      return next;
    }, key);
  };

  const text = (key: TextKey, label: string, props: { placeholder?: string; hint?: string; mono?: boolean } = {}) => (
    <div className="form-row">
      <label htmlFor={`${formId}-${key}`} className="form-label">
        {label}
      </label>
      <input
        id={`${formId}-${key}`}
        className={`input${props.mono ? " mono" : ""}`}
        data-testid={`basics-${key}`}
        placeholder={props.placeholder}
        spellCheck={key === "name" || key === "description"}
        value={cap[key] ?? ""}
        onChange={(e) => setText(key, e.currentTarget.value)}
      />
      {props.hint && <p className="muted small">{props.hint}</p>}
    </div>
  );

  return (
    <section className="builder-step basics card-surface" aria-label="Basics">
      <div className="basics-grid">
        {text("name", "Name", { placeholder: "Customer Lookup" })}
        {text("id", "Id", {
          mono: true,
          placeholder: "customer-lookup",
          hint: idFollowsName
            ? "Follows the name until you edit it. Lowercase letters, digits and single dashes."
            : "Lowercase letters, digits and single dashes; unique in your library.",
        })}
        {text("icon", "Icon", { placeholder: "🧑‍💼", hint: "An emoji." })}
        {text("version", "Version", { mono: true, placeholder: "0.1.0", hint: "Semantic version. A published version is frozen: bump it to change." })}
        {text("category", "Category", { placeholder: "CRM" })}
        <TagsField
          id={`${formId}-tags`}
          tags={cap.tags}
          onChange={(tags) => setCapability((c) => setOptional(c, "tags", tags.length > 0 ? tags : undefined), "tags")}
        />
        <div className="form-row form-row-wide">
          <label htmlFor={`${formId}-description`} className="form-label">
            Description
          </label>
          <textarea
            id={`${formId}-description`}
            className="input textarea"
            data-testid="basics-description"
            rows={3}
            placeholder="What it does, for people and for the agents that pick it."
            value={cap.description ?? ""}
            onChange={(e) => setText("description", e.currentTarget.value)}
          />
        </div>
      </div>
    </section>
  );
}

/** Tags as comma-separated text, kept as typed (a trailing comma included) while it means the same tags. */
function TagsField({ id, tags, onChange }: { id: string; tags: Array<string> | undefined; onChange: (tags: Array<string>) => void }) {
  const [text, setText] = useState(() => (tags ?? []).join(", "));
  const [synced, setSynced] = useState(tags);
  if (tags !== synced) {
    setSynced(tags);
    if (parseTags(text).join(",") !== (tags ?? []).join(",")) setText((tags ?? []).join(", "));
  }
  return (
    <div className="form-row">
      <label htmlFor={id} className="form-label">
        Tags
      </label>
      <input
        id={id}
        className="input"
        data-testid="basics-tags"
        placeholder="crm, customers"
        value={text}
        onChange={(e) => {
          setText(e.currentTarget.value);
          onChange(parseTags(e.currentTarget.value));
        }}
      />
      <p className="muted small">Separated by commas.</p>
    </div>
  );
}

function parseTags(text: string): Array<string> {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}
