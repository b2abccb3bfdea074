// "Services on this machine or network", on the Configure tab: the HOST:PORT pairs this one
// capability may reach although they are private (loopback, LAN) or plain http. A grant never
// adds a host: the manifest must name it already; the network guard still refuses it for every
// other capability.
import { useCallback, useId, useState, type FormEvent } from "react";

import { RetryAlert } from "../../components/ErrorAlert";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { useBackendQuery } from "../../lib/useBackendQuery";

const PLACEHOLDER = "127.0.0.1:8080";

export function AllowedHostsSection({ capabilityId }: { capabilityId: string }) {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<Array<string>>(`${generation}:${capabilityId}`, () =>
    invoke("allowed_hosts", { id: capabilityId }),
  );
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const [text, setText] = useState("");
  // "add", or the HOST:PORT being removed.
  const [busy, setBusy] = useState<string | null>(null);
  const [addError, setAddError] = useState<AppError | null>(null);
  const [removeError, setRemoveError] = useState<AppError | null>(null);
  const headingId = useId();
  const inputId = useId();
  const helpId = `${inputId}-help`;
  const errorId = `${inputId}-error`;

  const hosts = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;

  const add = async () => {
    setBusy("add");
    setAddError(null);
    setRemoveError(null);
    try {
      // The backend says what is not a HOST:PORT (and normalizes what is): no second rule here.
      await invoke("allow_host", { id: capabilityId, hostPort: text.trim() });
      setText("");
      reload();
    } catch (reason) {
      setAddError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };

  const remove = async (hostPort: string) => {
    setBusy(hostPort);
    setRemoveError(null);
    try {
      await invoke("disallow_host", { id: capabilityId, hostPort });
      reload();
    } catch (reason) {
      setRemoveError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (busy === null && text.trim() !== "") void add();
  };

  return (
    <section
      className="config-entry card-surface"
      data-testid="allowed-hosts"
      aria-labelledby={headingId}
      aria-busy={state.status === "loading"}
    >
      <div className="config-form">
        <div className="config-title">
          <h3 id={headingId} className="config-label">
            Services on this machine or network
          </h3>
          <p id={helpId} className="muted small">
            The manifest must still name the host; allowing it here only lets this capability reach it on this machine
            or a private network (or over plain http).
          </p>
        </div>

        {state.status === "error" ? (
          <RetryAlert error={state.error} testId="allowed-hosts-load-error" onRetry={reload} />
        ) : hosts === null ? (
          <span className="skeleton skeleton-line w-40" role="status" aria-label="Loading allowed hosts" />
        ) : hosts.length === 0 ? (
          <p className="muted small" data-testid="allowed-hosts-empty">
            This capability reaches only public hosts over https.
          </p>
        ) : (
          <ul
            className={`chips${state.status === "loading" ? " is-stale" : ""}`}
            aria-label="Allowed services on this machine or network"
          >
            {hosts.map((hostPort) => (
              <li key={hostPort} className="chip" data-testid="allowed-host" data-host={hostPort}>
                <code className="selectable">{hostPort}</code>{" "}
                <button
                  type="button"
                  className="link-button small"
                  data-testid="allowed-host-remove"
                  aria-label={`Remove ${hostPort}`}
                  disabled={busy !== null}
                  onClick={() => void remove(hostPort)}
                >
                  {busy === hostPort ? "Removing…" : "Remove"}
                </button>
              </li>
            ))}
          </ul>
        )}
        {removeError && (
          <p className="field-error" role="alert" data-testid="allowed-host-remove-error" data-kind={removeError.kind}>
            <code className="kind">{removeError.kind}</code> {removeError.message}
          </p>
        )}

        <form className="config-controls" onSubmit={onSubmit} noValidate aria-label="Allow a service">
          <label htmlFor={inputId} className="visually-hidden">
            HOST:PORT to allow
          </label>
          <div className="input-group">
            <input
              id={inputId}
              className={`input mono${addError ? " is-invalid" : ""}`}
              data-testid="allowed-host-input"
              type="text"
              spellCheck={false}
              autoComplete="off"
              placeholder={PLACEHOLDER}
              value={text}
              aria-invalid={addError !== null}
              aria-describedby={addError ? `${helpId} ${errorId}` : helpId}
              onChange={(e) => {
                setText(e.currentTarget.value);
                setAddError(null);
              }}
            />
          </div>
          <button
            type="submit"
            className="button"
            data-testid="allowed-host-add"
            disabled={busy !== null || text.trim() === ""}
          >
            {busy === "add" && <span className="spinner" aria-hidden="true" />}
            Allow
          </button>
        </form>
        {addError && (
          <p id={errorId} className="field-error" role="alert" data-testid="allowed-host-error" data-kind={addError.kind}>
            <code className="kind">{addError.kind}</code> {addError.message}
          </p>
        )}
      </div>
    </section>
  );
}
