// The Output node: the action's outputs, and how each is filled (a path or a template).
import type { OutputData } from "../model";
import { FieldsEditor } from "./FieldsEditor";
import type { FormProps } from "./formKit";
import { KeyValueEditor } from "./KeyValueEditor";

export function OutputForm({ data, set }: FormProps<OutputData>) {
  return (
    <>
      <FieldsEditor which="outputs" fields={data.outputs ?? []} onChange={(f) => set("outputs", f)} />
      <KeyValueEditor
        field="mapping"
        label="Mapping"
        value={data.mapping}
        onChange={(m) => set("mapping", m)}
        keyPlaceholder="output"
        valuePlaceholder="$.path or ${node.path}"
      />
    </>
  );
}
