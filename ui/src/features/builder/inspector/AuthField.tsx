// The API call's "Auth" select: an API key in a header or the query, or a bearer token, written
// into the node's data as a template naming a secret configuration item (see apiAuth.ts). The
// select, the name and the key show what the node's data holds, so re-opening the node shows it.
import { useId, useState } from "react";

import type { ApiCallData, ConfigItem } from "../model";
import { useBuilder, useBuilderStore } from "../useBuilder";
import {
  applyAuth,
  authNameProblem,
  authOf,
  AUTH_KINDS,
  DEFAULT_AUTH_NAME,
  isAuthKey,
  normaliseAuthKey,
  type Auth,
  type AuthKind,
} from "./apiAuth";
import { InspectorField } from "./formKit";

const NO_CONFIGURATION: ReadonlyArray<ConfigItem> = [];

/**
 * Text typed into a field that writes to the document only when valid: it follows `value` when
 * that changes from outside (undo, a choice in the select), and keeps what is typed otherwise.
 */
function useFieldText(value: string): [string, (text: string) => void] {
  const [text, setText] = useState(value);
  const [synced, setSynced] = useState(value);
  if (value !== synced) {
    setSynced(value);
    setText(value);
  }
  return [text, setText];
}

export function AuthField({ nodeId, data }: { nodeId: string; data: ApiCallData }) {
  const store = useBuilderStore();
  const configuration = useBuilder((s) => s.doc.capability.configuration) ?? NO_CONFIGURATION;
  const auth = authOf(data, configuration);
  const [name, setName] = useFieldText(auth.name);
  const [key, setKey] = useFieldText(auth.key);
  const id = useId();

  /** One undo step: the node's template and the configuration item (typing coalesces per field). */
  const apply = (to: Auth, coalesce?: string) => {
    const s = store.getState();
    s.commit((doc) => applyAuth(doc, s.action, nodeId, to), coalesce);
  };

  const place = auth.kind === "api_key_query" ? data.query : data.headers;
  const others = Object.keys(place ?? {}).filter((n) => n !== auth.name);
  const nameProblem = authNameProblem(auth.kind, name, others);
  const keyProblemOf = (text: string): string | null => {
    if (!isAuthKey(text)) return "UPPER_SNAKE_CASE: letters, digits and _, starting with a letter.";
    // Typing must not turn an existing setting (a base URL, a tenant…) into a secret.
    const declared = configuration.find((c) => c.key === text);
    return declared && declared.type !== "secret" ? `${text} is a configuration item that is not a secret.` : null;
  };
  const keyProblem = keyProblemOf(key);
  const named = auth.kind === "api_key_header" || auth.kind === "api_key_query";

  return (
    <>
      <InspectorField label="Auth" htmlFor={`${id}-auth`}>
        <select
          id={`${id}-auth`}
          className="select"
          data-testid="inspector-auth"
          value={auth.kind}
          onChange={(e) => {
            const kind = e.currentTarget.value as AuthKind;
            apply({ kind, name: DEFAULT_AUTH_NAME[kind], key: auth.key });
          }}
        >
          {AUTH_KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.label}
            </option>
          ))}
        </select>
      </InspectorField>
      {auth.kind !== "none" && (
        <>
          <div className="inspector-row">
            {named && (
              <InspectorField label={auth.kind === "api_key_header" ? "Header" : "Query parameter"} htmlFor={`${id}-auth-name`}>
                <input
                  id={`${id}-auth-name`}
                  className={`input mono${nameProblem ? " is-invalid" : ""}`}
                  data-testid="inspector-auth-name"
                  spellCheck={false}
                  placeholder={DEFAULT_AUTH_NAME[auth.kind]}
                  aria-invalid={nameProblem !== null}
                  value={name}
                  onChange={(e) => {
                    const text = e.currentTarget.value.trim();
                    setName(text);
                    if (authNameProblem(auth.kind, text, others) === null) apply({ ...auth, name: text }, `auth-name:${nodeId}`);
                  }}
                />
              </InspectorField>
            )}
            <InspectorField label="Secret key" htmlFor={`${id}-auth-key`}>
              <input
                id={`${id}-auth-key`}
                className={`input mono${keyProblem ? " is-invalid" : ""}`}
                data-testid="inspector-auth-key"
                spellCheck={false}
                placeholder="API_KEY"
                aria-invalid={keyProblem !== null}
                value={key}
                onChange={(e) => {
                  const text = normaliseAuthKey(e.currentTarget.value);
                  setKey(text);
                  if (keyProblemOf(text) === null) apply({ ...auth, key: text }, `auth-key:${nodeId}`);
                }}
              />
            </InspectorField>
          </div>
          {(nameProblem ?? keyProblem) && (
            <p className="field-error" role="alert">
              {nameProblem ?? keyProblem}
            </p>
          )}
          <p className="muted small inspector-hint" data-testid="inspector-auth-note">
            The value of <code>{auth.key}</code> is entered on the Configuration step and kept in the OS keyring.
          </p>
        </>
      )}
    </>
  );
}
