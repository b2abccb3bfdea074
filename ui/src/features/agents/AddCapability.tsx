// Adding a library capability to an agent: plan it first (what versions it brings, which
// permissions it asks for), ask for consent, then add it with exactly those permissions.
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { Modal } from "../../components/Modal";
import type { AddPlan } from "../../generated/AddPlan";
import type { AgentView } from "../../generated/AgentView";
import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import type { QueryState } from "../../lib/useBackendQuery";

type AddCapabilityProps = {
  agent: AgentView;
  library: QueryState<Array<CapabilitySummary>>;
  onAdded: (agent: AgentView, capability: string) => void;
};

export function AddCapability({ agent, library, onAdded }: AddCapabilityProps) {
  const [chosen, setChosen] = useState<string | null>(null);
  const [planning, setPlanning] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [plan, setPlan] = useState<AddPlan | null>(null);

  if (library.status === "error") {
    return <ErrorAlert error={library.error} testId="agent-library-error" />;
  }
  const capabilities = library.status === "ready" ? library.value : library.previous;
  const has = new Set(agent.capabilities.map((c) => c.capability));
  // Until the user picks, offer the first capability the agent does not have yet.
  const fallback = capabilities?.find((c) => !has.has(c.id)) ?? capabilities?.[0];
  const capability = capabilities?.some((c) => c.id === chosen) ? chosen : (fallback?.id ?? null);

  const startAdd = async () => {
    if (capability === null) return;
    setPlanning(true);
    setError(null);
    try {
      setPlan(await invoke("agent_plan", { agent: agent.id, capability, version: null }));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setPlanning(false);
    }
  };

  return (
    <div className="agent-add">
      <div className="agent-add-row">
        <label className="field-inline">
          <span>Add capability</span>
          <select
            className="select"
            data-testid="agent-add-select"
            value={capability ?? ""}
            disabled={capabilities === null || capabilities.length === 0}
            onChange={(e) => {
              setChosen(e.currentTarget.value);
              setError(null);
            }}
          >
            {capabilities === null && <option value="">Loading…</option>}
            {capabilities?.length === 0 && <option value="">The library is empty</option>}
            {capabilities?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.id}){has.has(c.id) ? " · in this agent" : ""}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="button button-primary"
          data-testid="agent-add"
          disabled={capability === null || planning || plan !== null}
          onClick={() => void startAdd()}
        >
          {planning && <span className="spinner spinner-light" aria-hidden="true" />}
          Add
        </button>
      </div>
      {capabilities?.length === 0 && (
        <p className="muted small">Add capabilities under My Capabilities first.</p>
      )}
      {error &&
        (error.kind === "unresolvable" ? (
          <div className="alert alert-error" role="alert">
            <span className="alert-icon" aria-hidden="true">
              ❌
            </span>
            <div className="alert-body">
              <p className="alert-title">
                The versions cannot be reconciled <code className="kind">{error.kind}</code>
              </p>
              <pre className="agent-conflict" data-testid="agent-add-error" data-kind={error.kind}>
                {error.message}
              </pre>
            </div>
          </div>
        ) : (
          <ErrorAlert error={error} testId="agent-add-error" />
        ))}
      {plan && (
        <ConsentDialog
          agent={agent}
          plan={plan}
          onCancel={() => setPlan(null)}
          onAdded={(next) => {
            setPlan(null);
            onAdded(next, plan.capability);
          }}
        />
      )}
    </div>
  );
}

type ConsentDialogProps = {
  agent: AgentView;
  plan: AddPlan;
  onCancel: () => void;
  onAdded: (agent: AgentView) => void;
};

function ConsentDialog({ agent, plan, onCancel, onAdded }: ConsentDialogProps) {
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const allow = async () => {
    setAdding(true);
    setError(null);
    try {
      onAdded(
        await invoke("agent_add", {
          agent: agent.id,
          capability: plan.capability,
          version: null,
          consent: plan.permissions.map(([name]) => name),
        }),
      );
    } catch (reason) {
      setError(toAppError(reason));
      setAdding(false);
    }
  };

  return (
    <Modal
      title={`Add ${plan.capability} to ${agent.name}?`}
      description="Adding it brings these versions and lets the agent use these permissions."
      onClose={onCancel}
      size="small"
      testId="agent-consent"
      footer={
        <>
          <button type="button" className="button" data-testid="agent-consent-cancel" onClick={onCancel}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-primary"
            data-testid="agent-consent-allow"
            data-autofocus
            disabled={adding}
            onClick={() => void allow()}
          >
            {adding && <span className="spinner spinner-light" aria-hidden="true" />}
            {plan.permissions.length > 0 ? "Allow and add" : "Add"}
          </button>
        </>
      }
    >
      <h3 className="panel-heading">Versions</h3>
      <ul className="chips agent-consent-versions">
        {plan.versions.map(([capability, version]) => (
          <li key={capability} className="chip mono small" data-testid="agent-consent-version" data-capability={capability}>
            {capability}@{version}
          </li>
        ))}
      </ul>
      <h3 className="panel-heading">Permissions</h3>
      {plan.permissions.length === 0 ? (
        <p className="muted small">No permissions asked for.</p>
      ) : (
        <ul className="agent-consent-permissions">
          {plan.permissions.map(([name, description]) => (
            <li key={name} data-testid="agent-consent-permission" data-name={name}>
              <code className="mono">{name}</code>
              <span className="small">{description}</span>
            </li>
          ))}
        </ul>
      )}
      {error && <ErrorAlert error={error} testId="agent-consent-error" />}
    </Modal>
  );
}
