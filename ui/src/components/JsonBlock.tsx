// A JSON value shown as indented text, selectable, scrolling when long.
import { prettyJson } from "../lib/format";

type JsonBlockProps = { value: unknown; testId?: string; label?: string; compact?: boolean };

export function JsonBlock({ value, testId, label, compact = false }: JsonBlockProps) {
  return (
    <pre
      className={`json${compact ? " json-compact" : ""}`}
      data-testid={testId}
      aria-label={label}
      // Focusable so a keyboard user can scroll a long output.
      tabIndex={compact ? undefined : 0}
    >
      {prettyJson(value)}
    </pre>
  );
}
