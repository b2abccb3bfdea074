// A small Markdown reader for READMEs: splits the text into blocks (headings, paragraphs, lists,
// tables, code fences, quotes, rules) and a block's text into inline spans (code, bold, italic,
// strike-through, links, images). It only produces data: Markdown.tsx turns it into React
// elements, so every character of the source ends up as text, never as HTML.

export type Align = "left" | "center" | "right" | null;

export type Block =
  | { type: "heading"; level: number; text: string }
  | { type: "paragraph"; text: string }
  | { type: "list"; ordered: boolean; start: number; items: Array<string> }
  | { type: "code"; lang: string; text: string }
  | { type: "table"; header: Array<string>; align: Array<Align>; rows: Array<Array<string>> }
  | { type: "quote"; text: string }
  | { type: "rule" };

export type Inline =
  | { type: "text"; text: string }
  | { type: "code"; text: string }
  | { type: "strong" | "em" | "del"; children: Array<Inline> }
  | { type: "link"; url: string; children: Array<Inline> }
  | { type: "image"; alt: string; url: string };

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w#+.-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/;

function isBlank(line: string): boolean {
  return line.trim() === "";
}

/** A line that starts a block of its own, so it ends a paragraph. */
function startsBlock(line: string, next: string | undefined): boolean {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    (line.includes("|") && next !== undefined && TABLE_DIVIDER.test(next) && next.includes("-"))
  );
}

/** The cells of a table row, without its outer pipes; `\|` stays a pipe inside a cell. */
export function splitRow(line: string): Array<string> {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function alignOf(cell: string): Align {
  const left = cell.startsWith(":");
  const right = cell.endsWith(":");
  if (left && right) return "center";
  if (right) return "right";
  if (left) return "left";
  return null;
}

export function parseBlocks(source: string): Array<Block> {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Array<Block> = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const next = lines[i + 1];
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] ?? "```";
      const body: Array<string> = [];
      i++;
      while (i < lines.length && !(lines[i] ?? "").trim().startsWith(marker)) body.push(lines[i++] ?? "");
      i++; // the closing fence (or the end of the text)
      blocks.push({ type: "code", lang: fence[2] ?? "", text: body.join("\n") });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ type: "heading", level: heading[1]?.length ?? 1, text: heading[2] ?? "" });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ type: "rule" });
      i++;
      continue;
    }
    if (line.includes("|") && next !== undefined && TABLE_DIVIDER.test(next) && next.includes("-")) {
      const header = splitRow(line);
      const align = splitRow(next).map(alignOf);
      const rows: Array<Array<string>> = [];
      i += 2;
      while (i < lines.length && !isBlank(lines[i] ?? "") && (lines[i] ?? "").includes("|")) rows.push(splitRow(lines[i++] ?? ""));
      blocks.push({ type: "table", header, align, rows });
      continue;
    }
    if (QUOTE.test(line)) {
      const body: Array<string> = [];
      let m: RegExpExecArray | null;
      while (i < lines.length && (m = QUOTE.exec(lines[i] ?? "")) !== null) {
        body.push(m[1] ?? "");
        i++;
      }
      blocks.push({ type: "quote", text: body.join(" ") });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[2] ?? "");
      const items: Array<string> = [];
      while (i < lines.length) {
        const current = lines[i] ?? "";
        const m = LIST_ITEM.exec(current);
        // A bullet list and a numbered one right after each other are two lists.
        if (m && (m[1] ?? "").length <= (item[1] ?? "").length && /\d/.test(m[2] ?? "") !== ordered) break;
        if (m) items.push(m[3] ?? "");
        else if (!isBlank(current) && /^\s+/.test(current) && items.length > 0) items[items.length - 1] += ` ${current.trim()}`;
        else if (isBlank(current) && LIST_ITEM.test(lines[i + 1] ?? "")) {
          // A blank line between items keeps the list going.
        } else break;
        i++;
      }
      blocks.push({ type: "list", ordered, start: ordered ? Number.parseInt(item[2] ?? "1", 10) : 1, items });
      continue;
    }
    const body: Array<string> = [line.trim()];
    i++;
    while (i < lines.length && !isBlank(lines[i] ?? "") && !startsBlock(lines[i] ?? "", lines[i + 1])) body.push((lines[i++] ?? "").trim());
    blocks.push({ type: "paragraph", text: body.join(" ") });
  }
  return blocks;
}

const INLINE =
  /`([^`]+)`|!\[([^\]]*)\]\(\s*([^)\s]*)[^)]*\)|\[([^\]]+)\]\(\s*([^)\s]+)[^)]*\)|\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__|~~(?=\S)(.+?)(?<=\S)~~|\*([^\s*](?:.*?[^\s*])?)\*|<(https?:\/\/[^>\s]+)>/g;

export function parseInline(text: string): Array<Inline> {
  const out: Array<Inline> = [];
  let last = 0;
  // A fresh regex per call: parseInline recurses, and a shared `lastIndex` would be clobbered.
  const re = new RegExp(INLINE.source, "g");
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push({ type: "text", text: text.slice(last, m.index) });
    if (m[1] !== undefined) out.push({ type: "code", text: m[1] });
    else if (m[3] !== undefined) out.push({ type: "image", alt: m[2] ?? "", url: m[3] });
    else if (m[4] !== undefined) out.push({ type: "link", url: m[5] ?? "", children: parseInline(m[4]) });
    else if (m[6] !== undefined || m[7] !== undefined) out.push({ type: "strong", children: parseInline(m[6] ?? m[7] ?? "") });
    else if (m[8] !== undefined) out.push({ type: "del", children: parseInline(m[8]) });
    else if (m[9] !== undefined) out.push({ type: "em", children: parseInline(m[9]) });
    else if (m[10] !== undefined) out.push({ type: "link", url: m[10], children: [{ type: "text", text: m[10] }] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ type: "text", text: text.slice(last) });
  return out;
}
