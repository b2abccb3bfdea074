// A JSON value edited as text (an API call's body). Text that does not parse stays on screen with
// the parser's message and is not written; an empty field removes the value.
import { useState } from "react";

function show(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

type JsonFieldProps = { id: string; testId: string; value: unknown; onChange: (value: unknown) => void; placeholder?: string };

export function JsonField({ id, testId, value, onChange, placeholder }: JsonFieldProps) {
  const [text, setText] = useState(() => show(value));
  const [error, setError] = useState<string | null>(null);
  // The value the text stands for; another one came from outside (undo) and replaces the text.
  const [synced, setSynced] = useState(value);
  if (value !== synced) {
    setSynced(value);
    setText(show(value));
    setError(null);
  }

  const edit = (next: string) => {
    setText(next);
    if (next.trim() === "") {
      setError(null);
      setSynced(undefined);
      onChange(undefined);
      return;
    }
    try {
      const parsed = JSON.parse(next) as unknown;
      setError(null);
      setSynced(parsed);
      onChange(parsed);
    } catch (e) {
      setError(e instanceof Error ? e.message : "Not valid JSON");
    }
  };

  return (
    <>
      <textarea
        id={id}
        className={`input textarea mono${error ? " is-invalid" : ""}`}
        data-testid={testId}
        rows={5}
        spellCheck={false}
        placeholder={placeholder}
        value={text}
        aria-invalid={error !== null}
        onChange={(e) => edit(e.currentTarget.value)}
      />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
