// Where a validator finding goes in the editor: the backend counts lines and columns from 1 and
// columns in characters (Unicode scalar values); CodeMirror counts UTF-16 code units from 0.
import type { Diagnostic as LintDiagnostic } from "@codemirror/lint";
import type { Text } from "@codemirror/state";

import type { Diagnostic } from "../../generated/Diagnostic";

const WORD = /[\p{L}\p{N}_$]/u;
const QUOTES = new Set(['"', "'", "`"]);

/** The UTF-16 offset in `text` of the character at 0-based `chars`, clamped to the end. */
export function charOffset(text: string, chars: number): number {
  let offset = 0;
  for (let seen = 0; seen < chars && offset < text.length; seen++) {
    const code = text.codePointAt(offset) ?? 0;
    offset += code > 0xffff ? 2 : 1;
  }
  return Math.min(offset, text.length);
}

/**
 * Where the token that starts at `from` ends: a word, a quoted string on the same line, or one
 * other character. On blank space (or past the end) it runs to the end of the line.
 */
export function tokenEnd(text: string, from: number): number {
  const first = text[from];
  if (first === undefined) return text.length;
  if (/\s/.test(first)) return text.length;
  if (WORD.test(first)) {
    let end = from;
    while (end < text.length) {
      const ch = String.fromCodePoint(text.codePointAt(end) ?? 0);
      if (!WORD.test(ch)) break;
      end += ch.length;
    }
    return end;
  }
  if (QUOTES.has(first)) {
    for (let end = from + 1; end < text.length; end++) {
      if (text[end] === "\\") end++;
      else if (text[end] === first) return end + 1;
    }
    return text.length;
  }
  return from + String.fromCodePoint(text.codePointAt(from) ?? 0).length;
}

/** "[code] message", and the hint on its own line. */
export function lintMessage(finding: Diagnostic): string {
  const head = `[${finding.code}] ${finding.message}`;
  return finding.hint ? `${head}\n💡 ${finding.hint}` : head;
}

/** The findings that have a line, placed in `doc` (lines past the end go to the last line). */
export function toLintDiagnostics(doc: Text, findings: ReadonlyArray<Diagnostic>): Array<LintDiagnostic> {
  const out: Array<LintDiagnostic> = [];
  for (const finding of findings) {
    if (finding.line === null) continue;
    const line = doc.line(Math.min(Math.max(1, finding.line), doc.lines));
    let from: number;
    let to: number;
    if (finding.column === null) {
      // The whole line, without its indentation.
      from = line.from + (line.text.length - line.text.trimStart().length);
      to = line.to;
    } else {
      const start = charOffset(line.text, Math.max(0, finding.column - 1));
      from = line.from + start;
      to = line.from + tokenEnd(line.text, start);
    }
    out.push({
      from,
      to,
      severity: finding.severity === "warning" ? "warning" : "error",
      message: lintMessage(finding),
      markClass: `cm-finding cm-finding-${finding.code.replace(/[^\w-]/g, "-")}`,
    });
  }
  return out;
}
