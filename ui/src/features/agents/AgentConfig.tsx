// An agent's own configuration of one of its capabilities: a value set here wins over the
// capability's when the agent runs it (plain values in the registry, secrets in the OS keyring,
// never shown again); removing it lets the capability's value apply again.
import { useState, type ReactNode } from "react";

import { ErrorAlert, RetryAlert } from "../../components/ErrorAlert";
import type { ConfigEntryView } from "../../generated/ConfigEntryView";
import { invoke } from "../../lib/backend";
import { useBackendQuery } from "../../lib/useBackendQuery";
import { ConfigActions, ConfigEntryTitle, ConfigValueInput, storedText, useConfigEditor } from "../library/configEntry";

type AgentConfigPanelProps = {
  id: string;
  agentId: string;
  capability: string;
  /** The version the agent uses: its configuration keys are that version's. */
  version: string;
};

export function AgentConfigPanel({ id, agentId, capability, version }: AgentConfigPanelProps) {
  const [generation, setGeneration] = useState(0);
  const config = useBackendQuery(`${agentId}/${capability}@${version}#${generation}`, () =>
    invoke("agent_config", { agent: agentId, capability }),
  );
  const reload = () => setGeneration((g) => g + 1);

  if (config.status === "error") {
    return (
      <div id={id} className="agent-config" data-testid="agent-config" data-capability={capability}>
        <RetryAlert error={config.error} testId="agent-config-error" onRetry={reload} />
      </div>
    );
  }
  const entries = config.status === "ready" ? config.value : config.previous;
  return (
    <div
      id={id}
      className={`agent-config${config.status === "loading" ? " is-stale" : ""}`}
      data-testid="agent-config"
      data-capability={capability}
    >
      {entries === null ? (
        <span className="skeleton skeleton-line w-40" role="status" aria-label="Loading the agent's configuration" />
      ) : entries.length === 0 ? (
        <p className="panel-empty" data-testid="agent-config-empty">
          This capability has no configuration.
        </p>
      ) : (
        <>
          <p className="muted small">A value set here wins over the capability&apos;s own when this agent runs it.</p>
          <ul className="config-list" aria-label={`Configuration of ${capability} for this agent`}>
            {entries.map((entry) => (
              <AgentConfigRow key={entry.key} agentId={agentId} capability={capability} entry={entry} onSaved={reload} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** What applies now: the agent's own value, or the capability's. */
function currentValue(entry: ConfigEntryView, secret: boolean): ReactNode {
  if (secret) return entry.set ? "Set for this agent (OS keyring)" : "Not set: uses the capability's";
  if (!entry.set) return "Not set: uses the capability's value";
  return (
    <>
      This agent&apos;s value: <code className="mono selectable">{storedText(entry)}</code>
    </>
  );
}

type AgentConfigRowProps = {
  agentId: string;
  capability: string;
  entry: ConfigEntryView;
  onSaved: () => void;
};

function AgentConfigRow({ agentId, capability, entry, onSaved }: AgentConfigRowProps) {
  const store = (value: string | null) => invoke("agent_config_set", { agent: agentId, capability, key: entry.key, value });
  const editor = useConfigEditor(entry, {
    set: async (value) => (await store(value)).find((e) => e.key === entry.key),
    unset: () => store(null),
    onSaved,
  });
  const { secret, error } = editor;
  const inputId = `agent-config-${agentId}-${capability}-${entry.key}`;
  const valueId = `${inputId}-value`;
  const tone = entry.set ? "set" : "unset";

  return (
    <li
      className={`config-entry config-entry-${tone} card-surface`}
      data-testid="agent-config-row"
      data-key={entry.key}
      data-secret={secret}
      data-set={entry.set}
    >
      <form className="config-form" onSubmit={(e) => void editor.save(e)} noValidate>
        <div className="config-head">
          <ConfigEntryTitle entry={entry} inputId={inputId} />
          <span className={`pill pill-${tone}`} data-testid="agent-config-status">
            {entry.set ? "Set for this agent" : "Not set"}
          </span>
        </div>
        <p id={valueId} className="muted small" data-testid="agent-config-value">
          {currentValue(entry, secret)}
        </p>
        <div className="config-controls">
          <ConfigValueInput
            entry={entry}
            editor={editor}
            inputId={inputId}
            testId="agent-config-input"
            placeholder={secret ? (entry.set ? "•••••••• (stored) — type to replace" : "Paste a secret for this agent") : undefined}
            describedBy={valueId}
          />
          <ConfigActions
            editor={editor}
            canRemove={entry.set}
            removeTitle="Remove this agent's value: the capability's applies again"
            testIdPrefix="agent-config"
          />
        </div>
        {error && <ErrorAlert error={error} testId="agent-config-error" />}
      </form>
    </li>
  );
}
