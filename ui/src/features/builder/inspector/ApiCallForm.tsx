// An API call: method, URL (a template), auth (a helper over headers/query and configuration),
// headers and query (templates), a JSON body, a timeout.
import { useId } from "react";

import { HTTP_METHODS, type ApiCallData, type HttpMethod } from "../model";
import { AuthField } from "./AuthField";
import { InspectorField, type FormProps } from "./formKit";
import { JsonField } from "./JsonField";
import { KeyValueEditor } from "./KeyValueEditor";
import { TemplateField } from "./TemplateField";

export function ApiCallForm({ nodeId, data, set }: FormProps<ApiCallData>) {
  const id = useId();
  return (
    <>
      <div className="inspector-row">
        <InspectorField label="Method" htmlFor={`${id}-method`}>
          <select
            id={`${id}-method`}
            className="select"
            data-testid="inspector-method"
            value={data.method ?? "GET"}
            onChange={(e) => set("method", e.currentTarget.value as HttpMethod)}
          >
            {HTTP_METHODS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </InspectorField>
        <InspectorField label="Timeout (ms)" htmlFor={`${id}-timeout`}>
          <input
            id={`${id}-timeout`}
            className="input"
            data-testid="inspector-timeout_ms"
            type="number"
            min={1}
            step={1}
            placeholder="default"
            value={data.timeout_ms ?? ""}
            onChange={(e) => {
              const n = e.currentTarget.valueAsNumber;
              set("timeout_ms", Number.isFinite(n) ? n : undefined);
            }}
          />
        </InspectorField>
      </div>
      <InspectorField
        label="URL"
        htmlFor={`${id}-url`}
        hint={
          <>
            Type <code>{"${"}</code> for inputs, configuration and upstream outputs. The host comes from the text or
            configuration, never from an input.
          </>
        }
      >
        <TemplateField
          id={`${id}-url`}
          testId="inspector-url"
          placeholder="https://api.example.com/v1/items/${input.id}"
          value={data.url ?? ""}
          onChange={(v) => set("url", v)}
        />
      </InspectorField>
      <AuthField nodeId={nodeId} data={data} />
      <KeyValueEditor field="headers" label="Headers" value={data.headers} onChange={(m) => set("headers", m)} keyPlaceholder="Header" />
      <KeyValueEditor field="query" label="Query" value={data.query} onChange={(m) => set("query", m)} keyPlaceholder="param" />
      <InspectorField label="Body (JSON)" htmlFor={`${id}-body`} hint="Strings in it may hold templates.">
        <JsonField
          id={`${id}-body`}
          testId="inspector-body"
          value={data.body}
          placeholder='{ "name": "${input.name}" }'
          onChange={(v) => set("body", v)}
        />
      </InspectorField>
    </>
  );
}
