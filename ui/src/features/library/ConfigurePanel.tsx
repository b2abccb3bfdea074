// The Configure tab: set each configuration key of a capability. Secrets go to the system
// keyring and never come back to the UI; other values are stored in the library. Below them, the
// services on this machine or network the capability may reach (its own network grants).
import { useState } from "react";

import { ErrorAlert } from "../../components/ErrorAlert";
import type { ConfigEntryView } from "../../generated/ConfigEntryView";
import { invoke } from "../../lib/backend";
import { errorTitle, toAppError, type AppError } from "../../lib/errors";
import type { QueryState } from "../../lib/useBackendQuery";
import { AllowedHostsSection } from "./AllowedHostsSection";
import { ConfigActions, ConfigEntryTitle, ConfigValueInput, useConfigEditor } from "./configEntry";

type ConfigurePanelProps = {
  capabilityId: string;
  config: QueryState<Array<ConfigEntryView>>;
  onChanged: () => void;
};

const KEYRING = "keyring_unavailable";
const OAUTH2_TOKEN = "OAUTH2_ACCESS_TOKEN";

/** OAuth2 connectors: sign in with the provider in the system browser (PKCE, loopback redirect). */
function OAuthConnect({ capabilityId, connected, onConnected }: { capabilityId: string; connected: boolean; onConnected: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const connect = async () => {
    setBusy(true);
    setError(null);
    try {
      await invoke("oauth_connect", { id: capabilityId });
      onConnected();
    } catch (reason) {
      setError(toAppError(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="oauth-connect" data-testid="oauth-connect">
      <p className="muted small">
        {connected
          ? "Connected: the access token is in your system keyring and is refreshed when it expires."
          : "Sign in with the provider in your browser; Capsmith receives the token on a one-time local address. Set the OAuth2 client id first."}
      </p>
      <button type="button" className="button button-primary" disabled={busy} onClick={() => void connect()} data-testid="oauth-connect-button">
        {busy ? "Waiting for the browser…" : connected ? "Reconnect" : "Connect with OAuth2"}
      </button>
      {error && <ErrorAlert error={error} testId="oauth-error" />}
    </div>
  );
}

export function ConfigurePanel({ capabilityId, config, onChanged }: ConfigurePanelProps) {
  // The grants do not depend on the configuration: shown whether it loaded, failed or is empty.
  return (
    <div className="config-list">
      <ConfigEntries capabilityId={capabilityId} config={config} onChanged={onChanged} />
      <AllowedHostsSection capabilityId={capabilityId} />
    </div>
  );
}

function ConfigEntries({ capabilityId, config, onChanged }: ConfigurePanelProps) {
  // A keyring that is not there affects every secret, so it is said once, at the top.
  const [keyringError, setKeyringError] = useState<AppError | null>(null);

  if (config.status === "error") {
    return config.error.kind === KEYRING ? (
      <KeyringBanner error={config.error} onRetry={onChanged} />
    ) : (
      <ErrorAlert error={config.error} testId="configure-error">
        <div className="alert-actions">
          <button type="button" className="button" onClick={onChanged}>
            Retry
          </button>
        </div>
      </ErrorAlert>
    );
  }
  const entries = config.status === "ready" ? config.value : config.previous;
  if (entries === null) {
    return (
      <div role="status" aria-label="Loading configuration" data-testid="loading">
        <span className="skeleton skeleton-block" />
      </div>
    );
  }
  if (entries.length === 0) {
    return (
      <p className="panel-empty" data-testid="configure-empty">
        This capability needs no configuration: it is ready to run.
      </p>
    );
  }

  const missing = entries.filter((e) => e.required && !e.set).length;
  return (
    <div className={`configure${config.status === "loading" ? " is-stale" : ""}`}>
      {keyringError && <KeyringBanner error={keyringError} onDismiss={() => setKeyringError(null)} />}
      <p className="muted small panel-intro">
        {missing === 0
          ? "Everything required is set."
          : `${missing} required ${missing === 1 ? "value is" : "values are"} not set yet; runs that need ${
              missing === 1 ? "it" : "them"
            } fail until ${missing === 1 ? "it is" : "they are"}.`}
      </p>
      {entries.some((e) => e.key === OAUTH2_TOKEN) && (
        <OAuthConnect capabilityId={capabilityId} connected={entries.some((e) => e.key === OAUTH2_TOKEN && e.set)} onConnected={onChanged} />
      )}
      <ul className="config-list" aria-label="Configuration">
        {entries.map((entry) => (
          <ConfigRow
            key={entry.key}
            capabilityId={capabilityId}
            entry={entry}
            onSaved={() => {
              setKeyringError(null);
              onChanged();
            }}
            onKeyringError={setKeyringError}
          />
        ))}
      </ul>
    </div>
  );
}

function KeyringBanner({
  error,
  onRetry,
  onDismiss,
}: {
  error: AppError;
  onRetry?: () => void;
  onDismiss?: () => void;
}) {
  return (
    <div className="banner banner-danger" role="alert" data-testid="keyring-banner">
      <span className="banner-icon" aria-hidden="true">
        🔐
      </span>
      <div className="banner-body">
        <p className="banner-title">{errorTitle(error)}</p>
        <p className="banner-message" data-testid="keyring-message">
          {error.message}
        </p>
        <p className="small">Secrets are only ever stored in the system keyring, so they cannot be saved until it works.</p>
        {(onRetry || onDismiss) && (
          <div className="button-row">
            {onRetry && (
              <button type="button" className="button" onClick={onRetry}>
                Try again
              </button>
            )}
            {onDismiss && (
              <button type="button" className="button button-ghost" onClick={onDismiss}>
                Dismiss
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

type ConfigRowProps = {
  capabilityId: string;
  entry: ConfigEntryView;
  onSaved: () => void;
  onKeyringError: (error: AppError) => void;
};

function ConfigRow({ capabilityId, entry, onSaved, onKeyringError }: ConfigRowProps) {
  const editor = useConfigEditor(entry, {
    set: (value) => invoke("config_set", { id: capabilityId, key: entry.key, value }),
    unset: () => invoke("config_unset", { id: capabilityId, key: entry.key }),
    onSaved,
    onError: (e) => {
      if (e.kind === KEYRING) onKeyringError(e);
    },
  });
  const { secret, error } = editor;
  const inputId = `config-${capabilityId}-${entry.key}`;
  const helpId = `${inputId}-help`;
  const errorId = `${inputId}-error`;

  const describedBy = [helpId, error ? errorId : null].filter(Boolean).join(" ");
  const tone = entry.set ? "set" : entry.required ? "missing" : "unset";

  return (
    <li
      className={`config-entry config-entry-${tone} card-surface`}
      data-testid="config-row"
      data-key={entry.key}
      data-secret={secret}
      data-set={entry.set}
    >
      <form className="config-form" onSubmit={(e) => void editor.save(e)} noValidate>
        <div className="config-head">
          <ConfigEntryTitle entry={entry} inputId={inputId} />
          <span className={`pill pill-${tone}`} data-testid="config-status">
            {entry.set ? "Set" : "Not set"}
          </span>
        </div>

        <div id={helpId} className="config-help small">
          {secret && <p className="muted">Stored in your system keyring — never in the library.</p>}
          {entry.help_url && (
            <p className="muted">
              Help: <span className="mono selectable">{entry.help_url}</span>
            </p>
          )}
        </div>

        <div className="config-controls">
          <ConfigValueInput
            entry={entry}
            editor={editor}
            inputId={inputId}
            testId="config-input"
            placeholder={secret ? (entry.set ? "•••••••• (stored) — type to replace" : "Paste the secret") : undefined}
            describedBy={describedBy || undefined}
          />
          <ConfigActions
            editor={editor}
            canRemove={entry.set}
            removeTitle={secret ? "Delete the secret from the keyring" : "Forget the stored value"}
            testIdPrefix="config"
          />
        </div>

        {error && (
          <p id={errorId} className="field-error" role="alert" data-testid="config-error" data-kind={error.kind}>
            {error.kind === KEYRING ? (
              <>Not saved: the system keyring is unavailable (see above).</>
            ) : (
              <>
                <code className="kind">{error.kind}</code> {error.message}
              </>
            )}
          </p>
        )}
      </form>
    </li>
  );
}
