// Read-only source with line numbers; the numbers sit in their own column so copying the code
// does not copy them.
import { useMemo } from "react";

export function SourceView({ source, format }: { source: string; format: string }) {
  const lineCount = useMemo(() => {
    const lines = source.split("\n");
    // A final newline does not start a line worth numbering.
    return lines.length > 1 && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
  }, [source]);
  const gutter = useMemo(
    () => Array.from({ length: lineCount }, (_, i) => String(i + 1)).join("\n"),
    [lineCount],
  );

  return (
    <div className="source" data-testid="source-view" data-format={format}>
      <pre className="source-gutter" aria-hidden="true">
        {gutter}
      </pre>
      <pre className="source-code" tabIndex={0} aria-label={`Source (${format.toUpperCase()})`}>
        <code>{source}</code>
      </pre>
    </div>
  );
}
