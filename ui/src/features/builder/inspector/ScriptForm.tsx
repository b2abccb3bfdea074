// A script: the body of a JavaScript function, run sandboxed.
import { useId } from "react";

import type { ScriptData } from "../model";
import { InspectorField, type FormProps } from "./formKit";

export function ScriptForm({ data, set }: FormProps<ScriptData>) {
  const id = useId();
  return (
    <InspectorField
      label="Code"
      htmlFor={`${id}-code`}
      hint="A function body: input is the upstream value, config the non-secret configuration; what it returns is the node's output."
    >
      <textarea
        id={`${id}-code`}
        className="input textarea mono code-textarea"
        data-testid="inspector-code"
        rows={10}
        spellCheck={false}
        value={data.code ?? ""}
        onChange={(e) => set("code", e.currentTarget.value)}
      />
    </InspectorField>
  );
}
