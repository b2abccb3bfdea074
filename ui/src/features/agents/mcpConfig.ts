// How an MCP client reaches an agent (`capsmith mcp serve --agent <id>`, crates/cli/src/mcp.rs):
// the `mcpServers` entry Claude Desktop and Cursor read, the HTTP alternative, the names the
// server gives tools, and the input fields of a tool's JSON Schema.
import type { AgentTool } from "../../generated/AgentTool";

export const MCP_HTTP_ADDRESS = "127.0.0.1:8765";

/** The `mcpServers` JSON to paste into an MCP client's configuration. */
export function mcpClientConfig(agentId: string): string {
  const server = { command: "capsmith", args: ["mcp", "serve", "--agent", agentId] };
  return JSON.stringify({ mcpServers: { [`capsmith-${agentId}`]: server } }, null, 2);
}

export function mcpHttpCommand(agentId: string): string {
  return `capsmith mcp serve --agent ${agentId} --http ${MCP_HTTP_ADDRESS}`;
}

export const MCP_HTTP_URL = `http://${MCP_HTTP_ADDRESS}/mcp`;

/** The `mcpServers` entry of a client that reaches the HTTP server, with the agent's token. */
export function mcpHttpClientConfig(agentId: string, token: string): string {
  const server = { type: "http", url: MCP_HTTP_URL, headers: { Authorization: `Bearer ${token}` } };
  return JSON.stringify({ mcpServers: { [`capsmith-${agentId}`]: server } }, null, 2);
}

/** What the server calls the tool: MCP clients accept only `[A-Za-z0-9_-]`, so no dot. */
export function mcpToolName(tool: AgentTool): string {
  return `${tool.capability}__${tool.action}`;
}

export type ToolInput = { name: string; type: string; required: boolean; description: string | null };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeOf(property: Record<string, unknown>): string {
  const { type } = property;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === "string").join(" | ") || "any";
  return "any";
}

/** The fields of an `input_schema` (`type: object` with `properties`); none for anything else. */
export function toolInputs(schema: unknown): Array<ToolInput> {
  if (!isRecord(schema) || !isRecord(schema.properties)) return [];
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : [],
  );
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    type: isRecord(property) ? typeOf(property) : "any",
    required: required.has(name),
    description: isRecord(property) && typeof property.description === "string" ? property.description : null,
  }));
}
