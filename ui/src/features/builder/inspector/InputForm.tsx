// The Input node: the action's inputs; for a workflow-level flow also its trigger, schedule and
// filter.
import { useId } from "react";

import type { InputData } from "../model";
import { FieldsEditor } from "./FieldsEditor";
import { InspectorField, type FormProps } from "./formKit";

export function InputForm({ data, set, workflow }: FormProps<InputData> & { workflow: boolean }) {
  const id = useId();
  return (
    <>
      <FieldsEditor which="inputs" fields={data.inputs ?? []} onChange={(f) => set("inputs", f)} />
      {workflow && (
        <>
          <InspectorField label="Trigger" htmlFor={`${id}-trigger`} hint="manual, file_upload, webhook, schedule or <capability>.<trigger>">
            <input
              id={`${id}-trigger`}
              className="input mono"
              data-testid="inspector-trigger"
              value={data.trigger ?? ""}
              onChange={(e) => set("trigger", e.currentTarget.value)}
            />
          </InspectorField>
          <InspectorField label="Schedule (cron)" htmlFor={`${id}-schedule`}>
            <input
              id={`${id}-schedule`}
              className="input mono"
              data-testid="inspector-schedule"
              value={data.schedule ?? ""}
              onChange={(e) => set("schedule", e.currentTarget.value)}
            />
          </InspectorField>
          <InspectorField label="Filter" htmlFor={`${id}-filter`} hint="JavaScript over the trigger payload; the run is skipped when false.">
            <input
              id={`${id}-filter`}
              className="input mono"
              data-testid="inspector-filter"
              value={data.filter ?? ""}
              onChange={(e) => set("filter", e.currentTarget.value)}
            />
          </InspectorField>
        </>
      )}
    </>
  );
}
