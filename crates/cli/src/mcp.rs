//! `capsmith mcp serve --agent NAME [--http 127.0.0.1:PORT]`: an agent's enabled actions as
//! Model Context Protocol tools, over stdio or streamable HTTP (rmcp, the official Rust SDK).
//!
//! Tools are read from the registry on every `tools/list` and `tools/call`, so a capability
//! added to or removed from the agent while the server runs is live at the next request, and
//! a connected client is sent `notifications/tools/list_changed` when they change. A tool is named `<capability>__<action>` (clients allow only `[A-Za-z0-9_-]`;
//! capability ids never contain `_`), titled `<capability>.<action>`. What an action reports —
//! a bad input, a guard refusal, an API failure — is a tool error the model sees; an unknown
//! tool is a protocol error. In stdio mode stdout carries only the protocol.
//!
//! Over HTTP every request must carry the agent's bearer token (`capsmith mcp token --agent
//! NAME`, kept in the OS keyring), name the listener in `Host` and come from no foreign
//! `Origin`: checked here, before rmcp sees the request (see `capsmith_core::localserver`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use capsmith_core::api::agents::AgentTool;
use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use clap::Subcommand;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::{
    session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

use super::open;

#[derive(Subcommand)]
pub enum McpCmd {
    /// Serve an agent's actions as MCP tools: stdio by default, or streamable HTTP at
    /// http://ADDR/mcp with `--http 127.0.0.1:PORT` (loopback only).
    Serve {
        #[arg(long)]
        agent: String,
        #[arg(long, value_name = "ADDR")]
        http: Option<SocketAddr>,
    },
    /// Print the bearer token MCP clients send to `mcp serve --http` for this agent (made on
    /// first use, kept in the OS keyring).
    Token {
        #[arg(long)]
        agent: String,
    },
}

/// An MCP tool name for `capability.action`.
pub fn tool_name(capability: &str, action: &str) -> String {
    format!("{capability}__{action}")
}

/// How often a connected session looks for changes to the agent's tools.
const TOOL_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Clone)]
struct AgentServer {
    app: Capsmith,
    agent: String,
}

fn tool(t: AgentTool) -> Tool {
    let object = |v: Value| Arc::new(v.as_object().cloned().unwrap_or_default());
    let mut out = Tool::new_with_raw(
        tool_name(&t.capability, &t.action),
        t.description.map(Into::into),
        object(t.input_schema),
    )
    .with_title(t.name);
    let outputs_declared = t
        .output_schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if outputs_declared {
        out = out.with_raw_output_schema(object(t.output_schema));
    }
    out
}

impl AgentServer {
    async fn tools(&self) -> Result<Vec<AgentTool>, ErrorData> {
        self.app
            .agent_tools(&self.agent)
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }
}

impl ServerHandler for AgentServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(
            Implementation::new("capsmith", env!("CARGO_PKG_VERSION")).with_title("Capsmith"),
        )
        .with_instructions(format!(
            "The actions of the Capsmith agent `{}`. Each tool is one action of a capability the user installed on this agent; it runs with that capability's permissions only.",
            self.agent
        ))
    }

    /// Watches the agent while the client is connected: when its tools change (a capability
    /// added, removed, switched off, upgraded), the client is told to list them again.
    async fn on_initialized(&self, context: rmcp::service::NotificationContext<RoleServer>) {
        let peer = context.peer;
        let me = self.clone();
        tokio::spawn(async move {
            let signature = |tools: Result<Vec<AgentTool>, ErrorData>| {
                tools
                    .ok()
                    .map(|t| serde_json::to_string(&t).unwrap_or_default())
            };
            let mut last = signature(me.tools().await);
            loop {
                tokio::time::sleep(TOOL_WATCH_INTERVAL).await;
                if peer.is_transport_closed() {
                    break;
                }
                let now = signature(me.tools().await);
                if now != last {
                    if peer.notify_tool_list_changed().await.is_err() {
                        break;
                    }
                    last = now;
                }
            }
        });
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self.tools().await?.into_iter().map(tool).collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let tools = self.tools().await?;
        let Some(t) = tools
            .iter()
            .find(|t| tool_name(&t.capability, &t.action) == name)
        else {
            let known: Vec<String> = tools
                .iter()
                .map(|t| tool_name(&t.capability, &t.action))
                .collect();
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{name}` (this agent has: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
                None,
            ));
        };
        let input = Value::Object(request.arguments.clone().unwrap_or_default());
        let run = tokio::select! {
            r = self.app.agent_run(&self.agent, &t.name, &input, Origin::Mcp) => r,
            _ = context.ct.cancelled() => {
                return Err(ErrorData::internal_error("cancelled by the client", None))
            }
        };
        Ok(match run {
            Ok(r) if r.ok => {
                let out = r.output.unwrap_or(Value::Null);
                // Structured content must be an object; anything else goes as text.
                if out.is_object() {
                    CallToolResult::structured(out)
                } else {
                    CallToolResult::success(vec![ContentBlock::text(out.to_string())])
                }
            }
            Ok(r) => {
                let e = r.error.map_or_else(
                    || json!({"kind": "error", "message": "the action failed"}),
                    |e| json!({"kind": e.kind, "message": e.message}),
                );
                CallToolResult::error(vec![ContentBlock::text(format!(
                    "{}: {}",
                    e["kind"].as_str().unwrap_or("error"),
                    e["message"].as_str().unwrap_or_default()
                ))])
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(format!("{}: {e}", e.kind()))]),
        }
        .into())
    }
}

pub async fn run(cmd: McpCmd, home: Option<PathBuf>) -> ExitCode {
    let app = match open(home).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.kind());
            return ExitCode::from(1);
        }
    };
    let (agent, http) = match cmd {
        McpCmd::Serve { agent, http } => (agent, http),
        McpCmd::Token { agent } => {
            return match app.mcp_token(&agent).await {
                Ok(t) => {
                    println!("{}", t.expose());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error[{}]: {e}", e.kind());
                    ExitCode::from(1)
                }
            }
        }
    };
    // An unknown agent is an error at once, not an empty tool list.
    let agent = match app.agent(&agent).await {
        Ok(a) => a.id,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.kind());
            return ExitCode::from(1);
        }
    };
    let server = AgentServer { app, agent };
    match http {
        None => serve_stdio(server).await,
        Some(addr) => serve_http(server, addr).await,
    }
}

async fn serve_stdio(server: AgentServer) -> ExitCode {
    let running = match server.serve(rmcp::transport::stdio_pipes()).await {
        Ok(r) => r,
        // The client went away before initializing: nothing to serve.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: MCP handshake failed: {e}");
            return ExitCode::from(1);
        }
    };
    let ct = running.cancellation_token();
    tokio::spawn(async move {
        let _ = super::stop_signal().await;
        ct.cancel();
    });
    match running.waiting().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve_http(server: AgentServer, addr: SocketAddr) -> ExitCode {
    if !addr.ip().is_loopback() {
        eprintln!("error: --http listens on loopback only (127.0.0.1 or ::1), not {addr}");
        return ExitCode::from(2);
    }
    // The token is read before listening: without a keyring there is nothing to check
    // callers against, so nothing is served.
    let token = match server.app.mcp_token(&server.agent).await {
        Ok(t) => t.expose().clone(),
        Err(e) => {
            eprintln!("error[{}]: the MCP token is not available: {e}", e.kind());
            return ExitCode::from(1);
        }
    };
    let config = StreamableHttpServerConfig::default();
    let ct = config.cancellation_token.clone();
    let service: StreamableHttpService<AgentServer, LocalSessionManager> =
        StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let Ok(bound) = listener.local_addr() else {
        eprintln!("error: cannot read the address of {addr}");
        return ExitCode::from(1);
    };
    let guard = Arc::new((token, bound));
    let router = axum::Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(guard, admit));
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    eprintln!("MCP endpoint: http://{local}/mcp (Ctrl-C stops)");
    let shutdown = async move {
        let _ = super::stop_signal().await;
        ct.cancel();
    };
    match axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Lets a request through to the MCP service only with the agent's token, the listener's own
/// `Host`, and no foreign `Origin`; anything else is a JSON error and never reaches rmcp.
async fn admit(
    axum::extract::State(guard): axum::extract::State<Arc<(String, SocketAddr)>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use capsmith_core::localserver::{bearer_matches, host_allowed, origin_allowed};
    let (token, listen) = (&guard.0, guard.1);
    // Decided from the headers alone, before any await (a request's body is not `Sync`).
    let refusal = {
        let headers = req.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if !host_allowed(header("host"), listen) {
            Some((
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_host",
                format!("the Host header must be {listen}"),
            ))
        } else if !origin_allowed(header("origin"), listen) {
            Some((
                StatusCode::FORBIDDEN,
                "forbidden",
                "requests from other origins (web pages) are refused".to_string(),
            ))
        } else if !bearer_matches(header("authorization"), token) {
            Some((
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the agent's token as `Authorization: Bearer <token>` (capsmith mcp token --agent NAME, or the Agents page)".to_string(),
        ))
        } else {
            None
        }
    };
    match refusal {
        Some((status, kind, message)) => (
            status,
            [("content-type", "application/json")],
            json!({"kind": kind, "message": message}).to_string(),
        )
            .into_response(),
        None => next.run(req).await,
    }
}
