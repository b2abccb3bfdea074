// One agent: its capabilities (version, pinning, on/off, priority, actions, the agent's own
// configuration of each) with removal, adding one from the library, its monthly budget, how to
// use it from an MCP client, and trying one of its actions.
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { AgentCapabilityView } from "../../generated/AgentCapabilityView";
import type { AgentView } from "../../generated/AgentView";
import type { CapabilitySummary } from "../../generated/CapabilitySummary";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import type { QueryState } from "../../lib/useBackendQuery";
import { AddCapability } from "./AddCapability";
import { AgentBudget } from "./AgentBudget";
import { AgentConfigPanel } from "./AgentConfig";
import { AgentRunPanel } from "./AgentRunPanel";
import { CapabilitySettings } from "./CapabilitySettings";
import { McpPanel } from "./McpPanel";

type AgentDetailProps = {
  agent: AgentView;
  library: QueryState<Array<CapabilitySummary>>;
  onChanged: (agent: AgentView) => void;
  onNotice: (text: string) => void;
};

export function AgentDetail({ agent, library, onChanged, onNotice }: AgentDetailProps) {
  // Bumped after each run tried here, so this month's spend is read again.
  const [runs, setRuns] = useState(0);
  return (
    <div className="agent-detail" data-testid="agent-detail" data-id={agent.id}>
      <header className="detail-header card-surface">
        <span className="detail-icon" aria-hidden="true">
          🤖
        </span>
        <div className="detail-heading">
          <h2 className="detail-title">{agent.name}</h2>
          <p className="detail-meta">
            <span className="mono">{agent.id}</span>
          </p>
          {agent.description && <p className="detail-description">{agent.description}</p>}
        </div>
      </header>

      <section className="agent-section" aria-labelledby="agent-capabilities-heading">
        <h3 id="agent-capabilities-heading" className="panel-heading">
          Capabilities
        </h3>
        {agent.capabilities.length === 0 ? (
          <p className="panel-empty" data-testid="agent-capabilities-empty">
            This agent has no capabilities yet. Add one below.
          </p>
        ) : (
          <ul className="agent-capabilities card-surface">
            {agent.capabilities.map((cap) => (
              <CapabilityRow
                key={cap.capability}
                agentId={agent.id}
                cap={cap}
                onChanged={onChanged}
                onRemoved={(next) => {
                  onChanged(next);
                  onNotice(`Removed ${cap.capability} from ${agent.name}`);
                }}
              />
            ))}
          </ul>
        )}
        <AddCapability
          agent={agent}
          library={library}
          onAdded={(next, capability) => {
            onChanged(next);
            onNotice(`Added ${capability} to ${agent.name}`);
          }}
        />
      </section>

      <AgentBudget agentId={agent.id} refresh={runs} />

      <McpPanel agent={agent} />

      <AgentRunPanel agent={agent} onRan={() => setRuns((r) => r + 1)} />
    </div>
  );
}

type CapabilityRowProps = {
  agentId: string;
  cap: AgentCapabilityView;
  onChanged: (agent: AgentView) => void;
  onRemoved: (agent: AgentView) => void;
};

function CapabilityRow({ agentId, cap, onChanged, onRemoved }: CapabilityRowProps) {
  const [removing, setRemoving] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [configOpen, setConfigOpen] = useState(false);
  const configId = `agent-config-${agentId}-${cap.capability}`;

  const remove = async () => {
    setRemoving(true);
    setError(null);
    try {
      onRemoved(await invoke("agent_remove", { agent: agentId, capability: cap.capability }));
    } catch (reason) {
      setError(toAppError(reason));
      setRemoving(false);
    }
  };

  return (
    <li
      className="agent-capability"
      data-testid={`agent-capability-${cap.capability}`}
      data-pinned={cap.pinned}
      data-enabled={cap.enabled}
    >
      <div className="agent-capability-head">
        <span className="agent-capability-name mono">{cap.capability}</span>
        <span className="version" data-testid="agent-capability-version">
          v{cap.version}
        </span>
        {cap.pinned ? (
          <span className="badge badge-amber" title="Kept at this version">
            📌 Pinned
          </span>
        ) : (
          <span className="badge badge-gray" title="Follows the latest version in the library">
            Latest
          </span>
        )}
        {!cap.enabled && <span className="badge badge-outline badge-gray">Disabled</span>}
        <CapabilitySettings agentId={agentId} cap={cap} onChanged={onChanged} />
        <button
          type="button"
          className="button button-small button-ghost"
          data-testid="agent-config-toggle"
          aria-expanded={configOpen}
          aria-controls={configOpen ? configId : undefined}
          onClick={() => setConfigOpen((o) => !o)}
        >
          <span aria-hidden="true">{configOpen ? "▾" : "▸"}</span> Configuration for this agent
        </button>
        <button
          type="button"
          className="button button-small button-danger-outline agent-capability-remove"
          data-testid={`agent-remove-${cap.capability}`}
          disabled={removing}
          onClick={() => void remove()}
        >
          {removing && <span className="spinner" aria-hidden="true" />}
          Remove
        </button>
      </div>
      {cap.actions.length > 0 ? (
        <ul className="chips" aria-label="Actions">
          {cap.actions.map((action) => (
            <li key={action} className="chip mono small" data-testid="agent-capability-action">
              {action}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No actions.</p>
      )}
      {cap.permissions.length > 0 && (
        <p className="muted small">
          Permissions: <span className="mono">{cap.permissions.join(", ")}</span>
        </p>
      )}
      {configOpen && (
        <AgentConfigPanel id={configId} agentId={agentId} capability={cap.capability} version={cap.version} />
      )}
      {error && <ErrorAlert error={error} testId="agent-remove-error" />}
    </li>
  );
}
