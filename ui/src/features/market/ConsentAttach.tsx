// Step 4 of the consent dialog: give the new capability to one of your agents (with consent to
// the permissions it and its dependencies bring), or finish without.
import { useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { AgentView } from "../../generated/AgentView";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";

type ConsentAttachProps = { id: string; version: string; onDone: () => void };

export function ConsentAttach({ id, version, onDone }: ConsentAttachProps) {
  const agents = useBackendQuery<Array<AgentView>>("consent-agents", () => invoke("list_agents", {}));
  const list = agents.status === "ready" ? agents.value : [];
  const [chosen, setChosen] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [attached, setAttached] = useState<string | null>(null);
  const agent = chosen ?? list.find((a) => !a.capabilities.some((c) => c.capability === id))?.id ?? list[0]?.id ?? null;

  const attach = async (e: FormEvent) => {
    e.preventDefault();
    if (agent === null || busy) return;
    setBusy(true);
    setError(null);
    try {
      const plan = await invoke("agent_plan", { agent, capability: id, version });
      const result = await invoke("agent_add", {
        agent,
        capability: id,
        version,
        consent: plan.permissions.map(([name]) => name),
      });
      setAttached(result.name);
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="consent-step" data-testid="consent-attach-step" onSubmit={(e) => void attach(e)}>
      <p className="muted small">An agent can use its actions once it has it. You can also do this later on the Agents page.</p>
      {agents.status === "error" ? (
        <ErrorAlert error={agents.error} testId="consent-attach-error" />
      ) : agents.status === "ready" && list.length === 0 ? (
        <p className="muted" data-testid="consent-no-agents">
          You have no agents yet. Create one on the Agents page, then add {id} to it there.
        </p>
      ) : (
        <div className="consent-attach-row">
          <label className="field-inline">
            <span>Agent</span>
            <select
              className="select"
              data-testid="consent-agent"
              value={agent ?? ""}
              disabled={list.length === 0 || busy}
              onChange={(e) => {
                setChosen(e.currentTarget.value);
                setAttached(null);
              }}
            >
              {agents.status === "loading" && <option value="">Loading…</option>}
              {list.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                  {a.capabilities.some((c) => c.capability === id) ? " · has it" : ""}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="button" data-testid="consent-attach" disabled={agent === null || busy}>
            {busy && <span className="spinner" aria-hidden="true" />}
            Attach
          </button>
        </div>
      )}
      {attached && (
        <p className="saved" role="status" data-testid="consent-attached">
          ✓ Attached to {attached}
        </p>
      )}
      {error && <ErrorAlert error={error} testId="consent-attach-error" />}
      <div className="consent-actions">
        <button type="button" className="button button-primary" data-testid="consent-done" onClick={onDone}>
          Done
        </button>
      </div>
    </form>
  );
}
