// "Triggers": the service that starts workflows from outside while the app is open: webhooks on a
// loopback address and cron schedules. Start it on an address, stop it, copy a webhook's curl
// command, and see when each schedule fires next.
import { useCallback, useId, useState, type FormEvent } from "react";

import { CopyButton } from "../../components/CopyButton";
import { ErrorAlert, RetryAlert } from "../../components/ErrorAlert";
import type { TriggerEntry } from "../../generated/TriggerEntry";
import type { TriggerStatus } from "../../generated/TriggerStatus";
import { invoke } from "../../lib/backend";
import { toAppError, type AppError } from "../../lib/errors";
import { formatDate, formatExact } from "../../lib/format";
import { useBackendQuery } from "../../lib/useBackendQuery";

const DEFAULT_LISTEN = "127.0.0.1:8787";
/** What the backend puts in `next` when a cron expression never fires. */
const NEVER = "never:";

/** A ready command that calls the webhook with an empty JSON body and its secret. */
function curlCommand(url: string, secret: string | null): string {
  const auth = secret ? ` -H 'Authorization: Bearer ${secret}'` : "";
  return `curl -X POST -H 'Content-Type: application/json'${auth} -d '{}' ${url}`;
}

export function TriggersCard() {
  const [generation, setGeneration] = useState(0);
  const state = useBackendQuery<TriggerStatus>(`triggers:${generation}`, () => invoke("triggers_status", {}));
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const status = state.status === "ready" ? state.value : state.status === "loading" ? state.previous : null;
  // null until the user types: shows the address in use, or the usual one.
  const [listen, setListen] = useState<string | null>(null);
  const [busy, setBusy] = useState<"start" | "stop" | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const headingId = useId();
  const listenId = useId();
  const listening = status?.listening ?? null;
  const address = listen ?? listening ?? DEFAULT_LISTEN;

  const act = async (which: "start" | "stop") => {
    setBusy(which);
    setError(null);
    try {
      if (which === "start") await invoke("triggers_start", { listen: address.trim() });
      else await invoke("triggers_stop", {});
      setListen(null);
      reload();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(null);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (busy === null && address.trim() !== "") void act("start");
  };

  return (
    <section className="settings-section" data-testid="settings-section-triggers" aria-labelledby={headingId}>
      <div className="settings-section-head">
        <h2 id={headingId} className="section-title">
          Triggers
        </h2>
        <p className="muted small">
          Webhooks accept JSON POSTs from this machine only, carrying the workflow&apos;s secret (as a bearer token, or
          an HMAC-SHA256 of the body in <code>X-Capsmith-Signature: sha256=…</code>); requests from web pages are
          refused.
        </p>
      </div>
      <div className="triggers card-surface" aria-busy={state.status === "loading"}>
        {state.status === "error" ? (
          <RetryAlert error={state.error} testId="triggers-load-error" onRetry={reload} />
        ) : (
          <>
            <div className="triggers-state" role="status" aria-live="polite" data-testid="triggers-state">
              {status === null ? (
                <span className="skeleton skeleton-line w-40" aria-label="Loading triggers" />
              ) : listening ? (
                <>
                  <span className="badge badge-outline badge-green" data-listening="true">
                    <span className="badge-dot" aria-hidden="true" />
                    Listening
                  </span>
                  <span>
                    on <code data-testid="triggers-listening">{listening}</code>; schedules are armed.
                  </span>
                </>
              ) : (
                <>
                  <span className="badge badge-outline badge-gray" data-listening="false">
                    <span className="badge-dot" aria-hidden="true" />
                    Not listening
                  </span>
                  <span className="muted">Webhooks are not served and schedules do not fire until you start.</span>
                </>
              )}
            </div>
            <form className="triggers-form" onSubmit={onSubmit} noValidate>
              <label htmlFor={listenId} className="field-inline">
                <span>Listen on</span>
              </label>
              <input
                id={listenId}
                className={`input mono triggers-listen${error ? " is-invalid" : ""}`}
                data-testid="triggers-listen"
                type="text"
                spellCheck={false}
                autoComplete="off"
                placeholder={DEFAULT_LISTEN}
                value={address}
                aria-invalid={error !== null}
                onChange={(e) => setListen(e.currentTarget.value)}
              />
              <div className="button-row">
                <button
                  type="submit"
                  className="button button-primary"
                  data-testid="triggers-start"
                  disabled={busy !== null || address.trim() === ""}
                  title={listening ? "Restarts on this address" : undefined}
                >
                  {busy === "start" && <span className="spinner spinner-light" aria-hidden="true" />}
                  {listening ? "Restart" : "Start"}
                </button>
                <button
                  type="button"
                  className="button"
                  data-testid="triggers-stop"
                  disabled={busy !== null || !listening}
                  onClick={() => void act("stop")}
                >
                  {busy === "stop" && <span className="spinner" aria-hidden="true" />}
                  Stop
                </button>
                <button type="button" className="button button-ghost" data-testid="triggers-refresh" onClick={reload}>
                  <span aria-hidden="true">↻</span> Refresh
                </button>
              </div>
            </form>
            {error && <ErrorAlert error={error} testId="triggers-error" />}
            {status !== null && (
              <div className={state.status === "loading" ? "is-stale" : undefined}>
                <h3 className="section-label">Webhooks</h3>
                <WebhookList webhooks={status.webhooks} />
                <h3 className="section-label">Schedules</h3>
                <ScheduleList schedules={status.schedules} />
              </div>
            )}
          </>
        )}
      </div>
    </section>
  );
}

function WebhookList({ webhooks }: { webhooks: Array<TriggerEntry> }) {
  if (webhooks.length === 0) {
    return (
      <p className="muted small" data-testid="triggers-webhooks-empty">
        No workflow in your library is started by a webhook.
      </p>
    );
  }
  return (
    <ul className="triggers-list" aria-label="Webhooks">
      {webhooks.map((hook) => (
        <li key={hook.workflow} className="triggers-row" data-testid="triggers-webhook" data-workflow={hook.workflow}>
          <span className="mono triggers-workflow">{hook.workflow}</span>
          {hook.detail === "" ? (
            <span className="muted small">Start listening to get its URL.</span>
          ) : (
            <span className="triggers-url">
              <code data-testid="triggers-webhook-url">{hook.detail}</code>
              <CopyButton
                text={curlCommand(hook.detail, hook.secret)}
                testId="triggers-webhook-copy"
                label="Copy curl"
              />
            </span>
          )}
          <WebhookSecret secret={hook.secret} />
        </li>
      ))}
    </ul>
  );
}

/** The secret a webhook's callers send: hidden until asked for, copyable either way. */
function WebhookSecret({ secret }: { secret: string | null }) {
  const [shown, setShown] = useState(false);
  if (secret === null) {
    return (
      <span className="muted small" data-testid="triggers-webhook-no-secret">
        No secret: the OS keyring is not reachable, so this webhook refuses every request.
      </span>
    );
  }
  return (
    <span className="triggers-secret small">
      <span className="muted">Secret</span>
      <code data-testid="triggers-webhook-secret" data-shown={shown}>
        {shown ? secret : "•".repeat(16)}
      </code>
      <button
        type="button"
        className="link-button"
        data-testid="triggers-webhook-secret-toggle"
        aria-pressed={shown}
        onClick={() => setShown((v) => !v)}
      >
        {shown ? "Hide" : "Show"}
      </button>
      <CopyButton text={secret} testId="triggers-webhook-secret-copy" label="Copy secret" />
    </span>
  );
}

function ScheduleList({ schedules }: { schedules: Array<TriggerEntry> }) {
  if (schedules.length === 0) {
    return (
      <p className="muted small" data-testid="triggers-schedules-empty">
        No workflow in your library runs on a schedule.
      </p>
    );
  }
  return (
    <ul className="triggers-list" aria-label="Schedules">
      {schedules.map((schedule) => (
        <li
          key={schedule.workflow}
          className="triggers-row"
          data-testid="triggers-schedule"
          data-workflow={schedule.workflow}
        >
          <span className="mono triggers-workflow">{schedule.workflow}</span>
          <code data-testid="triggers-schedule-cron">{schedule.detail}</code>
          <NextRun next={schedule.next} />
        </li>
      ))}
    </ul>
  );
}

function NextRun({ next }: { next: string | null }) {
  if (next === null) return <span className="muted small">—</span>;
  if (next.startsWith(NEVER)) {
    return (
      <span className="field-error small" data-testid="triggers-schedule-next">
        Never: {next.slice(NEVER.length).trim()}
      </span>
    );
  }
  return (
    <span className="small">
      <span className="muted">Next: </span>
      <time dateTime={next} title={formatExact(next)} data-testid="triggers-schedule-next">
        {formatDate(next, true)}
      </time>
    </span>
  );
}
