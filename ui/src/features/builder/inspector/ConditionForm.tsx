// Filter and Branch: one JavaScript condition over `input`.
import { useId } from "react";

import type { ConditionData } from "../model";
import { InspectorField, type FormProps } from "./formKit";

export function ConditionForm({ data, set, branch }: FormProps<ConditionData> & { branch: boolean }) {
  const id = useId();
  return (
    <InspectorField
      label="Condition"
      htmlFor={`${id}-condition`}
      hint={
        branch
          ? "JavaScript over input. Nodes after the “true” port run when it holds, those after “false” otherwise."
          : "JavaScript over input. The flow stops here when it is false."
      }
    >
      <textarea
        id={`${id}-condition`}
        className="input textarea mono"
        data-testid="inspector-condition"
        rows={3}
        spellCheck={false}
        placeholder="input.status === 'active'"
        value={data.condition ?? ""}
        onChange={(e) => set("condition", e.currentTarget.value)}
      />
    </InspectorField>
  );
}
