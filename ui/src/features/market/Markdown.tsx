// Renders a README parsed by markdown.ts as React elements. Everything is text to React (which
// escapes it); links show their address on hover instead of navigating the app's window away.
import { Fragment, type ReactNode } from "react";

import { parseBlocks, parseInline, type Block, type Inline } from "./markdown";

function renderInline(nodes: Array<Inline>): ReactNode {
  return nodes.map((node, i) => {
    switch (node.type) {
      case "text":
        return <Fragment key={i}>{node.text}</Fragment>;
      case "code":
        return <code key={i}>{node.text}</code>;
      case "strong":
        return <strong key={i}>{renderInline(node.children)}</strong>;
      case "em":
        return <em key={i}>{renderInline(node.children)}</em>;
      case "del":
        return <del key={i}>{renderInline(node.children)}</del>;
      case "link":
        return (
          <span key={i} className="md-link" title={node.url}>
            {renderInline(node.children)}
          </span>
        );
      case "image":
        return (
          <span key={i} className="md-image" title={node.url}>
            🖼 {node.alt || "image"}
          </span>
        );
    }
  });
}

function text(source: string): ReactNode {
  return renderInline(parseInline(source));
}

/** README headings sit under the page's own (h1) and the listing's name (h2). */
function Heading({ level, children }: { level: number; children: ReactNode }) {
  const shifted = Math.min(6, level + 2);
  const className = `md-heading md-h${level}`;
  if (shifted === 3) return <h3 className={className}>{children}</h3>;
  if (shifted === 4) return <h4 className={className}>{children}</h4>;
  if (shifted === 5) return <h5 className={className}>{children}</h5>;
  return <h6 className={className}>{children}</h6>;
}

function renderBlock(block: Block, key: number): ReactNode {
  switch (block.type) {
    case "heading":
      return (
        <Heading key={key} level={block.level}>
          {text(block.text)}
        </Heading>
      );
    case "paragraph":
      return <p key={key}>{text(block.text)}</p>;
    case "quote":
      return <blockquote key={key}>{text(block.text)}</blockquote>;
    case "rule":
      return <hr key={key} />;
    case "code":
      return (
        <pre key={key} className="md-code" data-lang={block.lang || undefined}>
          <code>{block.text}</code>
        </pre>
      );
    case "list": {
      const items = block.items.map((item, i) => <li key={i}>{text(item)}</li>);
      return block.ordered ? (
        <ol key={key} start={block.start}>
          {items}
        </ol>
      ) : (
        <ul key={key}>{items}</ul>
      );
    }
    case "table":
      return (
        <div key={key} className="table-scroll">
          <table className="table md-table">
            <thead>
              <tr>
                {block.header.map((cell, i) => (
                  <th key={i} style={{ textAlign: block.align[i] ?? undefined }}>
                    {text(cell)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {block.rows.map((row, r) => (
                <tr key={r}>
                  {block.header.map((_, i) => (
                    <td key={i} style={{ textAlign: block.align[i] ?? undefined }}>
                      {text(row[i] ?? "")}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}

export function Markdown({ source, testId }: { source: string; testId?: string }) {
  return (
    <div className="markdown" data-testid={testId}>
      {parseBlocks(source).map(renderBlock)}
    </div>
  );
}
