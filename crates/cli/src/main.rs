//! `capsmith`: everything the desktop app does with the library, scriptable. A thin layer of
//! argument parsing and printing over `capsmith_core::api`.
//!
//! Exit codes: 0 success; 1 a file is invalid or an operation failed; 2 wrong usage or a
//! missing file.

// Flows of thousands of nodes allocate heavily; mimalloc halves compile time against glibc
// malloc (docs/benchmarks.md, the flow benchmark uses it too).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use capsmith_core::api::dto::{
    ApiError, CapabilityStatus, CapabilitySummary, ExecutionView, RunReport, TestReport,
    ValidationReport,
};
use capsmith_core::api::{self, run::Origin, Capsmith};
use capsmith_core::diagnostics::Diagnostic;
use capsmith_core::CoreError;
use clap::{Parser, Subcommand, ValueEnum};
use settings::{config_command, schema_command, settings_command};
use settings::{ConfigCommand, SchemaCommand, SettingsCommand};

mod agent;
mod flow;
mod library;
mod market;
mod mcp;
mod render;
use render::*;
mod settings;
mod stats;
mod workflow;

#[derive(Parser)]
#[command(name = "capsmith", version, about = "Build, validate and manage AI-agent capabilities", long_about = None)]
struct Cli {
    /// Capsmith data directory (default: $CAPSMITH_HOME, else the OS data directory).
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check capability files (YAML, JSON or JS) and report every problem with its location.
    Validate {
        /// Print one JSON report per file instead of text.
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Validate and add capability files to the library (all or nothing).
    Import {
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List the library, or search it.
    List {
        #[arg(long)]
        json: bool,
        /// Full-text search over name, description and tags.
        query: Option<String>,
    },
    /// Show one capability: actions, configuration, permissions.
    Show {
        #[arg(long)]
        json: bool,
        /// `ID` or `ID@VERSION`.
        spec: String,
    },
    /// Print a capability's manifest.
    Export {
        spec: String,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Remove a capability version, or every version.
    Remove { spec: String },
    /// Print the JSON Schema of the manifest format; or, with a subcommand, keep named JSON
    /// Schemas for workflows' `validate.schema` steps (`schema add invoice_schema FILE`).
    Schema {
        #[command(subcommand)]
        action: Option<SchemaCommand>,
    },
    /// Sign in to a marketplace; the token (`-` reads it from standard input) goes to the keyring.
    Login {
        #[arg(long, value_name = "URL")]
        market: String,
        #[arg(long, value_name = "TOKEN")]
        token: String,
    },
    /// Sign out of the marketplace (the offline cache stays).
    Logout,
    /// Bring the marketplace cache up to date (only what changed since the last sync).
    Sync {
        /// Start over instead of continuing from the last sync.
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
    /// Search the marketplace (offline, from the cache).
    Search {
        /// Words to look for (empty lists everything).
        #[arg(default_value = "")]
        query: String,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        tag: Option<String>,
        /// `free` or `paid`.
        #[arg(long)]
        price: Option<String>,
        /// relevance, installs, rating, recent or name.
        #[arg(long)]
        sort: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: i64,
        #[arg(long)]
        json: bool,
    },
    /// Install from the marketplace: verified, with a consent screen (and its dependencies).
    Install {
        /// `ID` or `ID@VERSION`.
        spec: String,
        /// Attach it to this agent afterwards.
        #[arg(long)]
        agent: Option<String>,
        /// Consent to everything it asks for without asking.
        #[arg(long)]
        yes: bool,
        /// Replace a capability with the same id that came from elsewhere (made or imported
        /// here, another marketplace or publisher): it, its secrets and agent links go first.
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
    /// Update one capability (or all) installed from the marketplace; more permissions need consent.
    Update {
        id: Option<String>,
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Go back to the version the last update replaced.
    Rollback { id: String },
    /// An installed capability asks for more than you consented to (`consent_required` at run
    /// time): show what, and allow it.
    Consent {
        /// `ID` or `ID@VERSION`.
        spec: String,
        #[arg(long)]
        yes: bool,
    },
    /// Hand your publisher key over to a fresh one, signed by the old key: those who installed
    /// your capabilities accept versions signed by the new key.
    RotateKey,
    /// Uninstall: every version, its secrets and its agent links.
    Uninstall { id: String },
    /// Publish to the marketplace: tests first, then a signed package.
    Publish {
        /// `ID` or `ID@VERSION`.
        spec: String,
        /// public, organization or private. Left out, the marketplace keeps what the
        /// capability has; a first publish without it is private (only you see it).
        #[arg(long)]
        visibility: Option<String>,
        /// The organization it belongs to (left out: unchanged).
        #[arg(long)]
        org: Option<String>,
        /// Price in cents (0 = free; left out: unchanged, free when new).
        #[arg(long)]
        price_cents: Option<i64>,
        /// Your own README (Markdown) instead of the one generated from the manifest.
        #[arg(long, value_name = "FILE")]
        readme: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print a capability's documentation, generated from its manifest.
    Docs {
        /// `ID` or `ID@VERSION`.
        spec: String,
        /// md or html.
        #[arg(long, default_value = "md")]
        format: String,
    },
    /// The marketplace: status, a capability's page, reviews, yanking.
    Market {
        #[command(subcommand)]
        cmd: market::MarketCmd,
    },
    /// Recorded workflow runs: run, resume, list.
    Workflow {
        #[command(subcommand)]
        cmd: workflow::WorkflowCmd,
    },
    /// Agents and the capabilities they may use.
    Agent {
        #[command(subcommand)]
        cmd: agent::AgentCmd,
    },
    /// The Model Context Protocol: serve an agent's actions as tools to MCP clients.
    Mcp {
        #[command(subcommand)]
        cmd: mcp::McpCmd,
    },
    /// The visual builder's flows: compile, open a manifest as flows, run with a trace.
    Flow {
        #[command(subcommand)]
        cmd: flow::FlowCmd,
    },
    /// Run one action of a capability (exit 0 ok, 1 action error, 2 usage).
    Run {
        /// `ID` or `ID@VERSION`.
        spec: String,
        action: String,
        /// The input, a JSON object (default `{}`); `-` reads it from standard input.
        #[arg(long, short, default_value = "{}")]
        input: String,
        #[arg(long)]
        json: bool,
    },
    /// Monitoring: runs, success rate, p50/p95, errors by kind, calls, tokens and cost.
    Stats {
        /// Only this capability.
        id: Option<String>,
        /// Only this agent's runs (with its budget).
        #[arg(long)]
        agent: Option<String>,
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long)]
        json: bool,
    },
    /// Set what a capability costs, for stats and agents' budgets.
    Cost {
        id: String,
        #[arg(long, default_value_t = 0.0)]
        per_call: f64,
        #[arg(long = "per-1k-tokens", default_value_t = 0.0)]
        per_1k_tokens: f64,
    },
    /// Run a capability's examples and test cases.
    Test {
        spec: String,
        #[arg(long)]
        json: bool,
    },
    /// The audit log: every run, newest first.
    Runs {
        /// Only this capability.
        id: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Turn an OpenAPI 3.0/3.1 document (file or URL) into an API-connector capability.
    ImportOpenapi {
        /// A file path, or an http(s) URL (fetched under the network guard).
        spec: String,
        /// The capability id (default: from the API's title).
        #[arg(long)]
        id: Option<String>,
        /// Write the manifest to this file instead of importing it.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Mark a version published in the library (its test cases must pass), draft, or
    /// deprecated. (`capsmith publish` publishes to the marketplace.)
    Status {
        spec: String,
        #[arg(long = "set", value_parser = ["draft", "published", "deprecated"], default_value = "published")]
        status: Option<String>,
    },
    /// Connect an OAuth2 capability: opens the provider's page and waits for the redirect
    /// to a one-shot listener on 127.0.0.1 (authorization code with PKCE).
    Connect {
        id: String,
        /// Only print the URL; do not try to open a browser.
        #[arg(long)]
        no_browser: bool,
        /// How long to wait for the authorization, in seconds.
        #[arg(long, default_value_t = 300)]
        wait: u64,
    },
    /// A capability's configuration (secrets live in the OS keyring).
    Config {
        #[command(subcommand)]
        action: ConfigCommand,
    },
    /// App settings (network.timeout_ms, sandbox.allow_unconfined, …) and the hosts on this
    /// machine each capability may reach (allow-host).
    Settings {
        #[command(subcommand)]
        action: SettingsCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // Servers use every core; one-shot commands need only one thread.
    let serving = matches!(
        &cli.command,
        Command::Mcp { .. }
            | Command::Workflow {
                cmd: workflow::WorkflowCmd::Serve { .. }
            }
    );
    let rt = if serving {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build();
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(run(cli, &style))
}

/// Prints a run's report (JSON or text); exit 0 when it succeeded, 1 when it did not.
fn report_run(
    report: &impl serde::Serialize,
    ok: bool,
    json: bool,
    text: impl FnOnce() -> String,
) -> ExitCode {
    if json {
        print_json(report);
    } else {
        print!("{}", text());
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints a list (JSON, or text a line per item, or what an empty one means).
fn print_list<T: serde::Serialize>(
    list: &[T],
    json: bool,
    empty: &str,
    render: impl Fn(&T) -> String,
) -> ExitCode {
    if json {
        print_json(&list);
    } else if list.is_empty() {
        println!("{empty}");
    } else {
        list.iter().for_each(|x| print!("{}", render(x)));
    }
    ExitCode::SUCCESS
}

/// The `--input` JSON, or the usage exit code after saying why it is not JSON.
fn parse_input(text: &str) -> Result<serde_json::Value, ExitCode> {
    serde_json::from_str(text).map_err(|e| {
        eprintln!("error: --input is not JSON: {e}");
        ExitCode::from(2)
    })
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn fail(e: &CoreError, json: bool) -> ExitCode {
    if json {
        print_json(&ApiError::from(e));
    } else if let CoreError::InvalidManifest(r) = e {
        eprint!("{}", render_report(r, &Style { color: false }));
    } else {
        eprintln!("error[{}]: {e}", e.kind());
    }
    match e {
        CoreError::FileNotFound(_) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

/// Ctrl-C or SIGTERM: how a server is asked to stop.
async fn stop_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn open(home: Option<PathBuf>) -> Result<Capsmith, CoreError> {
    Capsmith::open(api::home_dir(home)?).await
}

async fn run(cli: Cli, style: &Style) -> ExitCode {
    match cli.command {
        cmd @ (Command::Validate { .. }
        | Command::Import { .. }
        | Command::List { .. }
        | Command::Show { .. }
        | Command::Export { .. }
        | Command::Remove { .. }
        | Command::Run { .. }
        | Command::Test { .. }
        | Command::Runs { .. }
        | Command::ImportOpenapi { .. }
        | Command::Status { .. }
        | Command::Connect { .. }) => library::run(cmd, cli.home, style).await,
        Command::Flow { cmd } => flow::run(cmd, cli.home, style).await,
        Command::Agent { cmd } => agent::run(cmd, cli.home, style).await,
        Command::Login { market: url, token } => market::login(cli.home, &url, &token).await,
        Command::Logout => market::logout(cli.home).await,
        Command::Sync { full, json } => market::sync(cli.home, full, json).await,
        Command::Search {
            query,
            category,
            tag,
            price,
            sort,
            page,
            json,
        } => {
            let q = capsmith_core::api::market::MarketQuery {
                text: Some(query).filter(|q| !q.trim().is_empty()),
                category,
                tag,
                price,
                sort,
                page: Some(page),
                ..Default::default()
            };
            market::search(cli.home, q, json, style).await
        }
        Command::Install {
            spec,
            agent,
            yes,
            replace,
            json,
        } => market::install(cli.home, &spec, agent.as_deref(), yes, replace, json).await,
        Command::Update { id, yes, json } => {
            market::update(cli.home, id.as_deref(), yes, json).await
        }
        Command::Rollback { id } => market::rollback(cli.home, &id).await,
        Command::Consent { spec, yes } => market::consent(cli.home, &spec, yes).await,
        Command::RotateKey => market::rotate_key(cli.home).await,
        Command::Uninstall { id } => market::uninstall(cli.home, &id).await,
        Command::Publish {
            spec,
            visibility,
            org,
            price_cents,
            readme,
            json,
        } => {
            market::publish(
                cli.home,
                &spec,
                visibility.as_deref(),
                org.as_deref(),
                price_cents,
                readme.as_deref(),
                json,
            )
            .await
        }
        Command::Docs { spec, format } => market::docs(cli.home, &spec, &format).await,
        Command::Market { cmd } => market::run(cmd, cli.home).await,
        Command::Workflow { cmd } => workflow::run(cmd, cli.home, style).await,
        Command::Mcp { cmd } => mcp::run(cmd, cli.home).await,
        Command::Stats {
            id,
            agent,
            days,
            json,
        } => stats::stats(cli.home, id, agent, days, json, style).await,
        Command::Cost {
            id,
            per_call,
            per_1k_tokens,
        } => stats::cost(cli.home, id, per_call, per_1k_tokens).await,
        Command::Schema { action: None } => {
            print!("{}", capsmith_core::manifest::schema::json_schema_string());
            ExitCode::SUCCESS
        }
        Command::Schema {
            action: Some(action),
        } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            schema_command(&app, action).await
        }
        Command::Config { action } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            config_command(&app, action).await
        }
        Command::Settings { action } => {
            let app = match open(cli.home).await {
                Ok(a) => a,
                Err(e) => return fail(&e, false),
            };
            settings_command(&app, action).await
        }
    }
}
