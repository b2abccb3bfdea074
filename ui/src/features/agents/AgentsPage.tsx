// "Agents": named sets of capabilities an AI agent may use. Create an agent, pick one, add
// capabilities to it (after consenting to what they ask for), remove them, and try its actions.
import { useCallback, useState, type FormEvent } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import { Toast, type ToastMessage } from "../../components/Toast";
import type { AgentView } from "../../generated/AgentView";
import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { plural } from "../../lib/format";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { LoadFailed } from "../library/LibraryStates";
import { AgentDetail } from "./AgentDetail";

/** The list with `agent` in place of the one with its id (or added), ordered by name as the backend does. */
function upsert(agents: ReadonlyArray<AgentView>, agent: AgentView): Array<AgentView> {
  const rest = agents.filter((a) => a.id !== agent.id);
  return [...rest, agent].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
}

export function AgentsPage() {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<Array<AgentView>>(`agents:${generation}`, () => invoke("list_agents", {}));
  const library = useBackendQuery<Array<CapabilitySummary>>(`agents-library:${generation}`, () =>
    invoke("list_capabilities", { query: null }),
  );
  // Every change returns the agent as it now is; kept here rather than reloading the list.
  const [local, setLocal] = useState<Array<AgentView> | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [toast, setToast] = useState<ToastMessage | null>(null);

  const loaded = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;
  const agents = local ?? loaded;
  const selected = agents?.find((a) => a.id === selectedId) ?? agents?.[0] ?? null;

  const reload = useCallback(() => {
    setLocal(null);
    setGeneration((g) => g + 1);
  }, []);
  const notify = useCallback((text: string, tone: ToastMessage["tone"] = "success") => {
    setToast({ id: Date.now(), text, tone });
  }, []);
  const dismissToast = useCallback((id: number) => {
    setToast((current) => (current?.id === id ? null : current));
  }, []);
  const onChanged = (agent: AgentView) => setLocal(upsert(agents ?? [], agent));
  const onCreated = (agent: AgentView) => {
    onChanged(agent);
    setSelectedId(agent.id);
    notify(`Created agent ${agent.name}`);
  };

  return (
    <div className="page">
      <header className="page-header">
        <div className="page-title">
          <h1>Agents</h1>
          <p className="muted">
            An agent is a set of capabilities an AI may use, each added with your consent to what it asks for.
          </p>
        </div>
      </header>
      <main className="page-body" aria-busy={state.status === "loading"}>
        {state.status === "error" && local === null ? (
          <LoadFailed error={state.error} onRetry={reload} />
        ) : agents === null ? (
          <div role="status" aria-label="Loading agents" data-testid="loading">
            <span className="skeleton skeleton-block" />
          </div>
        ) : (
          <div className="agents-layout">
            <aside className="agents-side">
              <NewAgentForm onCreated={onCreated} />
              {agents.length === 0 ? (
                <p className="panel-empty" data-testid="agents-empty">
                  No agents yet. Name one above to start.
                </p>
              ) : (
                <ul className="agent-list" aria-label="Agents">
                  {agents.map((agent) => (
                    <li key={agent.id}>
                      <button
                        type="button"
                        className={`card agent-card${agent.id === selected?.id ? " is-selected" : ""}`}
                        data-testid={`agent-${agent.id}`}
                        aria-pressed={agent.id === selected?.id}
                        onClick={() => setSelectedId(agent.id)}
                      >
                        <span className="card-name">{agent.name}</span>
                        <span className="mono muted small">{agent.id}</span>
                        <span className={`agent-card-description small${agent.description ? "" : " muted"}`}>
                          {agent.description ?? "No description."}
                        </span>
                        <span className="muted small">{plural(agent.capabilities.length, "capability", "capabilities")}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </aside>
            <section className="agents-main" aria-label="Agent">
              {selected ? (
                <AgentDetail
                  key={selected.id}
                  agent={selected}
                  library={library}
                  onChanged={onChanged}
                  onNotice={notify}
                />
              ) : (
                <p className="panel-empty">Create an agent to give it capabilities.</p>
              )}
            </section>
          </div>
        )}
      </main>
      <Toast toast={toast} onDismiss={dismissToast} />
    </div>
  );
}

function NewAgentForm({ onCreated }: { onCreated: (agent: AgentView) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || name.trim() === "") return;
    setBusy(true);
    setError(null);
    try {
      const agent = await invoke("create_agent", {
        name: name.trim(),
        description: description.trim() === "" ? null : description.trim(),
      });
      setName("");
      setDescription("");
      onCreated(agent);
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="agent-new card-surface" onSubmit={(e) => void onSubmit(e)} noValidate aria-label="New agent">
      <h2 className="panel-heading">New agent</h2>
      <label className="field">
        <span className="field-label">Name</span>
        <input
          className="input"
          data-testid="agent-new-name"
          type="text"
          autoComplete="off"
          placeholder="Travel assistant"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">Description (optional)</span>
        <input
          className="input"
          data-testid="agent-new-description"
          type="text"
          autoComplete="off"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
        />
      </label>
      <button type="submit" className="button button-primary" data-testid="agent-create" disabled={busy || name.trim() === ""}>
        {busy && <span className="spinner spinner-light" aria-hidden="true" />}
        Create agent
      </button>
      {error && <ErrorAlert error={error} testId="agent-create-error" />}
    </form>
  );
}
