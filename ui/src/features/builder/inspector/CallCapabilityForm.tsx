// Call capability: another capability's action at a pinned version, and its input (templates).
// The library fills the suggestions: its capabilities, their versions, the chosen one's actions.
import { useId } from "react";

import type { CapabilityDetail } from "../../../generated/CapabilityDetail";
import { invoke } from "../../../lib/backend";
import { useBackendQuery } from "../../../lib/useBackendQuery";
import type { CallCapabilityData } from "../model";
import { InspectorField, type FormProps } from "./formKit";
import { KeyValueEditor } from "./KeyValueEditor";

export function CallCapabilityForm({ data, set }: FormProps<CallCapabilityData>) {
  const id = useId();
  const library = useBackendQuery("library", () => invoke("list_capabilities", { query: null }));
  const summaries = library.status === "ready" ? library.value : [];
  const chosen = summaries.find((s) => s.id === data.capability);
  const detailKey = chosen ? `${chosen.id}@${data.version || chosen.version}` : "";
  const detail = useBackendQuery<CapabilityDetail | null>(detailKey, () =>
    chosen ? invoke("get_capability", { id: chosen.id, version: data.version || null }) : Promise.resolve(null),
  );
  const actions = detail.status === "ready" && detail.value ? detail.value.actions : [];

  return (
    <>
      <InspectorField label="Capability" htmlFor={`${id}-capability`}>
        <input
          id={`${id}-capability`}
          className="input mono"
          data-testid="inspector-capability"
          list={`${id}-capabilities`}
          placeholder="weather-lookup"
          spellCheck={false}
          value={data.capability ?? ""}
          onChange={(e) => set("capability", e.currentTarget.value)}
        />
        <datalist id={`${id}-capabilities`}>
          {summaries.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </datalist>
      </InspectorField>
      <div className="inspector-row">
        <InspectorField label="Action" htmlFor={`${id}-action`}>
          <input
            id={`${id}-action`}
            className="input mono"
            data-testid="inspector-action"
            list={`${id}-actions`}
            spellCheck={false}
            value={data.action ?? ""}
            onChange={(e) => set("action", e.currentTarget.value)}
          />
          <datalist id={`${id}-actions`}>
            {actions.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </datalist>
        </InspectorField>
        <InspectorField label="Version" htmlFor={`${id}-version`}>
          <input
            id={`${id}-version`}
            className="input mono"
            data-testid="inspector-version"
            list={`${id}-versions`}
            placeholder={chosen?.version ?? "1.0.0"}
            spellCheck={false}
            value={data.version ?? ""}
            onChange={(e) => set("version", e.currentTarget.value)}
          />
          <datalist id={`${id}-versions`}>
            {(chosen?.versions ?? []).map((v) => (
              <option key={v} value={v} />
            ))}
          </datalist>
        </InspectorField>
      </div>
      <KeyValueEditor field="input" label="Input" value={data.input} onChange={(m) => set("input", m)} keyPlaceholder="input name" />
    </>
  );
}
