// "Use from an AI client (MCP)": what to paste into an MCP client so it starts Capsmith serving
// this agent, the HTTP alternative, and the tools the client will see (the enabled actions).
import { CopyButton } from "../../components/CopyButton";
import { ErrorAlert } from "../../components/ErrorAlert";
import type { AgentTool } from "../../generated/AgentTool";
import type { AgentView } from "../../generated/AgentView";
import { invoke } from "../../lib/backend";
import { plural } from "../../lib/format";
import { useBackendQuery, type QueryState } from "../../lib/useBackendQuery";
import {
  MCP_HTTP_URL,
  mcpClientConfig,
  mcpHttpClientConfig,
  mcpHttpCommand,
  mcpToolName,
  toolInputs,
} from "./mcpConfig";

export function McpPanel({ agent }: { agent: AgentView }) {
  // The tools follow the agent: any change to its capabilities (added, removed, toggled,
  // reprioritised, upgraded) reads them again.
  const signature = agent.capabilities
    .map((c) => `${c.capability}@${c.version}:${c.enabled ? 1 : 0}:${String(c.priority)}`)
    .join(",");
  const tools = useBackendQuery<Array<AgentTool>>(`agent-tools:${agent.id}:${signature}`, () =>
    invoke("agent_tools", { agent: agent.id }),
  );
  const snippet = mcpClientConfig(agent.id);
  const command = mcpHttpCommand(agent.id);
  // The HTTP server admits only callers with this agent's token (kept in the OS keyring).
  const token = useBackendQuery<string>(`agent-mcp-token:${agent.id}`, () =>
    invoke("agent_mcp_token", { agent: agent.id }),
  );

  return (
    <section className="agent-section" data-testid="mcp-panel" aria-labelledby="agent-mcp-heading">
      <h3 id="agent-mcp-heading" className="panel-heading">
        Use from an AI client (MCP)
      </h3>
      <div className="mcp-panel card-surface">
        <p className="small">
          Add this to your MCP client&apos;s configuration (Claude Desktop: <code>claude_desktop_config.json</code>;
          Cursor: <code>.cursor/mcp.json</code>). The client then starts Capsmith and sees this agent&apos;s enabled
          actions as tools, each running with its capability&apos;s permissions only.
        </p>
        <div className="mcp-snippet">
          <pre className="json" data-testid="mcp-snippet">
            {snippet}
          </pre>
          <CopyButton text={snippet} testId="mcp-copy" />
        </div>
        <div className="mcp-http small">
          <span>Or over HTTP: run</span>
          <code data-testid="mcp-http-command">{command}</code>
          <CopyButton text={command} testId="mcp-copy-http" />
          <span>
            and point the client at <code data-testid="mcp-http-url">{MCP_HTTP_URL}</code> with the header{" "}
            <code>Authorization: Bearer &lt;token&gt;</code>.
          </span>
          {token.status === "ready" ? (
            <span className="mcp-token">
              <span className="muted">Token</span>
              <code data-testid="mcp-http-token">{"•".repeat(16)}</code>
              <CopyButton text={token.value} testId="mcp-copy-token" label="Copy token" />
              <CopyButton
                text={mcpHttpClientConfig(agent.id, token.value)}
                testId="mcp-copy-http-config"
                label="Copy client config"
              />
            </span>
          ) : token.status === "error" ? (
            <ErrorAlert error={token.error} testId="mcp-token-error" />
          ) : null}
        </div>
        <h4 className="section-label">Tools</h4>
        <ToolList state={tools} />
      </div>
    </section>
  );
}

function ToolList({ state }: { state: QueryState<Array<AgentTool>> }) {
  if (state.status === "error") return <ErrorAlert error={state.error} testId="mcp-tools-error" />;
  const tools = state.status === "ready" ? state.value : state.previous;
  if (tools === null) {
    return (
      <div role="status" aria-label="Loading tools">
        <span className="skeleton skeleton-line w-60" />
      </div>
    );
  }
  if (tools.length === 0) {
    return (
      <p className="muted small" data-testid="mcp-tools-empty">
        No tools yet: enable a capability with actions above.
      </p>
    );
  }
  return (
    <>
      <p className="muted small" aria-live="polite">
        {plural(tools.length, "tool")}, highest priority first
      </p>
      <ul className={`mcp-tools${state.status === "loading" ? " is-stale" : ""}`}>
        {tools.map((tool) => (
          <ToolRow key={tool.name} tool={tool} />
        ))}
      </ul>
    </>
  );
}

function ToolRow({ tool }: { tool: AgentTool }) {
  const inputs = toolInputs(tool.input_schema);
  const mcpName = mcpToolName(tool);
  return (
    <li className="mcp-tool" data-testid="mcp-tool" data-name={tool.name} data-mcp-name={mcpName}>
      <div className="mcp-tool-head">
        <code className="mcp-tool-name">{tool.name}</code>
        {tool.title && <span>{tool.title}</span>}
        <span className="muted small">
          MCP name <code data-testid="mcp-tool-mcp-name">{mcpName}</code>
        </span>
      </div>
      {tool.description && <p className="small">{tool.description}</p>}
      {inputs.length === 0 ? (
        <p className="muted small">No inputs.</p>
      ) : (
        <ul className="chips" aria-label="Inputs">
          {inputs.map((input) => (
            <li
              key={input.name}
              className="chip small"
              data-testid="mcp-tool-input"
              data-name={input.name}
              data-required={input.required}
              title={input.description ?? undefined}
            >
              <span className="mono">{input.name}</span> <span className="type mono">{input.type}</span>
              {input.required && <span className="required"> required</span>}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
