// The action on the canvas: its name, id and description, and removing it (with its flow and its
// tests). Renaming the id carries the flow and the tests along; an id that is malformed or taken
// stays in the field, marked, until it is fixed.
import { useId, useState } from "react";

import { setOptional, type FlowAction, type FlowDoc } from "../model";
import { useBuilder, useBuilderStore } from "../useBuilder";

const ACTION_ID = /^[A-Za-z0-9_-]+$/;

function removeAction(doc: FlowDoc, id: string): FlowDoc {
  const cap = doc.capability;
  return {
    ...doc,
    capability: {
      ...cap,
      actions: cap.actions?.filter((a) => a.id !== id),
      flows: cap.flows.filter((f) => f.action !== id),
      tests: cap.tests?.filter((t) => t.action !== id),
    },
  };
}

/** The settings of the action on screen; nothing for a workflow-level flow (it has no action). */
export function ActionSettings() {
  const store = useBuilderStore();
  const current = useBuilder((s) => s.action);
  const actions = useBuilder((s) => s.doc.capability.actions);
  const flowCount = useBuilder((s) => s.doc.capability.flows.length);
  const entry = actions?.find((a) => a.id === current);
  const remove = () => {
    const s = store.getState();
    const next = s.doc.capability.flows.find((f) => f.action !== current)?.action;
    if (next === undefined) return;
    s.commit((doc) => removeAction(doc, current));
    s.selectAction(next);
  };

  if (!entry) return null;
  // Keyed by position, so renaming the id (which is what the field edits) keeps the field.
  return <ActionFields key={actions?.indexOf(entry)} action={entry} canRemove={flowCount > 1} onRemove={remove} />;
}

function ActionFields({ action, canRemove, onRemove }: { action: FlowAction; canRemove: boolean; onRemove: () => void }) {
  const store = useBuilderStore();
  const formId = useId();
  const [idText, setIdText] = useState(action.id);
  // An id changed from outside (undo) replaces what the field shows.
  const [synced, setSynced] = useState(action.id);
  if (action.id !== synced) {
    setSynced(action.id);
    setIdText(action.id);
  }
  const taken = useBuilder((s) => s.doc.capability.flows.some((f) => f.action === idText && f.action !== action.id));
  const idProblem = !ACTION_ID.test(idText) ? "Letters, digits, - and _ only" : taken ? "Another action has this id" : null;

  const setField = (key: "name" | "description", value: string) =>
    store.getState().commit(
      (doc) => ({
        ...doc,
        capability: {
          ...doc.capability,
          actions: doc.capability.actions?.map((a) => (a.id === action.id ? setOptional(a, key, value) : a)),
        },
      }),
      `action:${key}`,
    );

  return (
    <section className="action-settings" aria-label="Action" data-testid="action-settings">
      <h3 className="inspector-title">Action</h3>
      <div className="inspector-field">
        <label className="inspector-label" htmlFor={`${formId}-name`}>
          Name
        </label>
        <input
          id={`${formId}-name`}
          className="input"
          data-testid="action-name"
          value={action.name ?? ""}
          onChange={(e) => setField("name", e.currentTarget.value)}
        />
      </div>
      <div className="inspector-field">
        <label className="inspector-label" htmlFor={`${formId}-id`}>
          Id
        </label>
        <input
          id={`${formId}-id`}
          className={`input mono${idProblem ? " is-invalid" : ""}`}
          data-testid="action-id"
          aria-invalid={idProblem !== null}
          aria-describedby={idProblem ? `${formId}-id-error` : undefined}
          value={idText}
          onChange={(e) => {
            const next = e.currentTarget.value;
            setIdText(next);
            const s = store.getState();
            const clash = s.doc.capability.flows.some((f) => f.action === next && f.action !== action.id);
            if (ACTION_ID.test(next) && !clash) s.renameAction(action.id, next);
          }}
        />
        {idProblem && (
          <p id={`${formId}-id-error`} className="field-error" role="alert">
            {idProblem}
          </p>
        )}
      </div>
      <div className="inspector-field">
        <label className="inspector-label" htmlFor={`${formId}-description`}>
          Description
        </label>
        <textarea
          id={`${formId}-description`}
          className="input textarea"
          data-testid="action-description"
          rows={2}
          value={action.description ?? ""}
          onChange={(e) => setField("description", e.currentTarget.value)}
        />
      </div>
      <button
        type="button"
        className="button button-small button-danger-outline"
        data-testid="action-remove"
        disabled={!canRemove}
        title={canRemove ? "Remove this action, its flow and its tests" : "A capability needs at least one action"}
        onClick={onRemove}
      >
        Remove action
      </button>
    </section>
  );
}
