// A capability's switches on an agent: on/off and priority (higher first), each applied at once
// through `agent_update`; a refusal shows under the row. Priority is sent once typing pauses, on
// Enter, or when the field loses focus, never for each keystroke.
import { useEffect, useRef, useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { AgentCapabilityView } from "../../generated/AgentCapabilityView";
import type { AgentView } from "../../generated/AgentView";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";

const PRIORITY_DELAY_MS = 600;

type Change = { enabled: boolean; priority: null } | { enabled: null; priority: number };

type CapabilitySettingsProps = {
  agentId: string;
  cap: AgentCapabilityView;
  onChanged: (agent: AgentView) => void;
};

export function CapabilitySettings({ agentId, cap, onChanged }: CapabilitySettingsProps) {
  const [pending, setPending] = useState<"enabled" | "priority" | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  // What the user typed; null shows the agent's priority.
  const [draft, setDraft] = useState<string | null>(null);
  const [invalid, setInvalid] = useState(false);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    const pendingTimer = timer;
    return () => window.clearTimeout(pendingTimer.current);
  }, []);

  const update = async (change: Change, sent: string | null) => {
    setPending(change.enabled === null ? "priority" : "enabled");
    setError(null);
    try {
      onChanged(await invoke("agent_update", { agent: agentId, capability: cap.capability, ...change }));
      // Let the agent's value show again, unless the user has typed on since.
      if (sent !== null) setDraft((current) => (current === sent ? null : current));
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setPending(null);
    }
  };

  const commitPriority = (text: string) => {
    window.clearTimeout(timer.current);
    const value = Number(text);
    if (text.trim() === "" || !Number.isSafeInteger(value)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    if (value === Number(cap.priority)) {
      setDraft(null);
      return;
    }
    void update({ enabled: null, priority: value }, text);
  };

  return (
    <>
      <label className="checkbox small" title={cap.enabled ? "The agent may use it" : "Hidden from the agent"}>
        <input
          type="checkbox"
          data-testid="agent-cap-enabled"
          checked={cap.enabled}
          disabled={pending === "enabled"}
          onChange={(e) => void update({ enabled: e.currentTarget.checked, priority: null }, null)}
        />
        Enabled
      </label>
      <label className="field-inline small agent-priority" title="Higher first, when the agent lists its tools">
        <span>Priority</span>
        <input
          className={`input agent-priority-input${invalid ? " is-invalid" : ""}`}
          data-testid="agent-cap-priority"
          type="number"
          step={1}
          inputMode="numeric"
          value={draft ?? String(cap.priority)}
          aria-invalid={invalid}
          onChange={(e) => {
            const text = e.currentTarget.value;
            setDraft(text);
            window.clearTimeout(timer.current);
            timer.current = window.setTimeout(() => commitPriority(text), PRIORITY_DELAY_MS);
          }}
          onBlur={(e) => {
            if (draft !== null) commitPriority(e.currentTarget.value);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              commitPriority(e.currentTarget.value);
            } else if (e.key === "Escape" && draft !== null) {
              window.clearTimeout(timer.current);
              setDraft(null);
              setInvalid(false);
            }
          }}
        />
        {pending !== null && <span className="spinner" aria-hidden="true" />}
      </label>
      {(invalid || error) && (
        <div className="agent-capability-problem">
          {invalid && (
            <p className="field-error" data-testid="agent-cap-priority-error">
              Priority must be a whole number.
            </p>
          )}
          {error && <ErrorAlert error={error} testId="agent-update-error" />}
        </div>
      )}
    </>
  );
}
