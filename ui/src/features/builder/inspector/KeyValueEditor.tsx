// An ordered `{key: value}` map as editable rows (headers, query, mapping, call input). Rows live
// here while they are edited, so a row with no key yet (or a repeated key) does not vanish; the
// map written back holds the rows with a key, the last of a repeated key winning. A map that
// changes from outside (undo, another node) replaces the rows.
import { useState } from "react";

import type { TemplateMap } from "../model";
import { TemplateField } from "./TemplateField";

type Row = { uid: number; key: string; value: string };

let uidSeq = 0;

function toRows(map: TemplateMap | undefined): Array<Row> {
  return Object.entries(map ?? {}).map(([key, value]) => ({ uid: ++uidSeq, key, value: String(value) }));
}

function toMap(rows: ReadonlyArray<Row>): TemplateMap {
  const map: TemplateMap = {};
  for (const row of rows) if (row.key !== "") map[row.key] = row.value;
  return map;
}

type KeyValueEditorProps = {
  /** Names the test hooks: kv-<field>-key-<i>, kv-<field>-value-<i>, kv-<field>-add. */
  field: string;
  label: string;
  value: TemplateMap | undefined;
  onChange: (map: TemplateMap) => void;
  keyPlaceholder?: string;
  valuePlaceholder?: string;
  /** Values are templates: `${` offers what they may name. */
  templates?: boolean;
};

export function KeyValueEditor({
  field,
  label,
  value,
  onChange,
  keyPlaceholder = "name",
  valuePlaceholder = "value",
  templates = true,
}: KeyValueEditorProps) {
  const [rows, setRows] = useState(() => toRows(value));
  // The map these rows stand for; a different `value` came from outside.
  const [synced, setSynced] = useState(value);
  if (value !== synced) {
    setSynced(value);
    setRows(toRows(value));
  }

  const write = (next: Array<Row>) => {
    const map = toMap(next);
    setRows(next);
    setSynced(map);
    onChange(map);
  };
  const edit = (i: number, patch: Partial<Row>) => write(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  const seen = new Set<string>();
  return (
    <fieldset className="kv-editor" data-testid={`kv-${field}`}>
      <legend className="section-label">{label}</legend>
      {rows.length === 0 && <p className="muted small">None yet.</p>}
      {rows.map((row, i) => {
        const repeated = row.key !== "" && seen.has(row.key);
        seen.add(row.key);
        return (
          <div key={row.uid} className="kv-row">
            <input
              className={`input mono${repeated ? " is-invalid" : ""}`}
              data-testid={`kv-${field}-key-${i}`}
              aria-label={`${label} ${i + 1}: name`}
              title={repeated ? "Repeated: the last one wins" : undefined}
              placeholder={keyPlaceholder}
              spellCheck={false}
              value={row.key}
              onChange={(e) => edit(i, { key: e.currentTarget.value })}
            />
            {templates ? (
              <TemplateField
                testId={`kv-${field}-value-${i}`}
                label={`${label} ${i + 1}: value`}
                placeholder={valuePlaceholder}
                value={row.value}
                onChange={(v) => edit(i, { value: v })}
              />
            ) : (
              <input
                className="input mono"
                data-testid={`kv-${field}-value-${i}`}
                aria-label={`${label} ${i + 1}: value`}
                placeholder={valuePlaceholder}
                spellCheck={false}
                value={row.value}
                onChange={(e) => edit(i, { value: e.currentTarget.value })}
              />
            )}
            <button
              type="button"
              className="icon-button"
              data-testid={`kv-${field}-remove-${i}`}
              aria-label={`Remove ${label.toLowerCase()} ${row.key || i + 1}`}
              onClick={() => write(rows.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="button button-small button-ghost"
        data-testid={`kv-${field}-add`}
        onClick={() => write([...rows, { uid: ++uidSeq, key: "", value: "" }])}
      >
        + Add
      </button>
    </fieldset>
  );
}
