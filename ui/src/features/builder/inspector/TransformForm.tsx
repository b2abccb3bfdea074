// A transform: a mapping of output fields to paths or templates, or a JavaScript expression over
// `input`. Both are shown; a node uses one of them.
import { useId } from "react";

import type { TransformData } from "../model";
import { InspectorField, type FormProps } from "./formKit";
import { KeyValueEditor } from "./KeyValueEditor";

export function TransformForm({ data, set }: FormProps<TransformData>) {
  const id = useId();
  return (
    <>
      <KeyValueEditor
        field="mapping"
        label="Mapping"
        value={data.mapping}
        onChange={(m) => set("mapping", m)}
        keyPlaceholder="field"
        valuePlaceholder="$.data.name or ${…}"
      />
      <p className="muted small">Paths (<code>$.a.b[0]</code>) read the output of the node just upstream.</p>
      <InspectorField
        label="Or a JavaScript expression"
        htmlFor={`${id}-expression`}
        hint="Over input, the upstream value; used instead of the mapping when given."
      >
        <textarea
          id={`${id}-expression`}
          className="input textarea mono"
          data-testid="inspector-expression"
          rows={3}
          spellCheck={false}
          placeholder="({ name: input.first + ' ' + input.last })"
          value={data.expression ?? ""}
          onChange={(e) => set("expression", e.currentTarget.value)}
        />
      </InspectorField>
    </>
  );
}
