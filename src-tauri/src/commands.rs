//! Tauri commands: each adapts one `capsmith_core::api` call. Errors cross as `ApiError`
//! (`{kind, message, path?, line?, column?}`), never as bare strings.

use std::path::PathBuf;

use capsmith_core::api::agents::{AddPlan, AgentTool, AgentView};
use capsmith_core::api::dto::{
    ApiError, CapabilityDetail, CapabilityStatus, CapabilitySummary, CompileView, ConfigEntryView,
    DraftView, ExecutionView, FlowRunView, ImportOutcome, RunReport, SaveView, SettingView,
    TestReport, ValidationReport,
};
use capsmith_core::api::stats::{CostView, StatsView};
use capsmith_core::api::triggers::{TriggerOptions, TriggerStatus};
use capsmith_core::api::workflows::WorkflowRunView;
use capsmith_core::api::{self, run::Origin};
use capsmith_core::secrets::Sensitive;
use capsmith_core::CoreError;
use tauri::State;

use crate::AppState;

type Res<T> = Result<T, ApiError>;

#[tauri::command]
pub async fn list_capabilities(
    state: State<'_, AppState>,
    query: Option<String>,
) -> Res<Vec<CapabilitySummary>> {
    Ok(state.core()?.list(query.as_deref()).await?)
}

// Validation may evaluate a JS module in a sandbox worker (bounded, up to a second): keep it off the
// main thread.
#[tauri::command(async)]
pub fn validate_source(file_name: String, content: String) -> ValidationReport {
    api::validate_bytes(&file_name, content.as_bytes())
}

#[tauri::command(async)]
pub fn validate_file(path: PathBuf) -> Res<ValidationReport> {
    Ok(api::validate_file(&path)?)
}

#[tauri::command]
pub async fn import_source(
    state: State<'_, AppState>,
    file_name: String,
    content: String,
) -> Res<ImportOutcome> {
    Ok(state
        .core()?
        .import_bytes(&file_name, content.as_bytes())
        .await?)
}

#[tauri::command]
pub async fn import_file(state: State<'_, AppState>, path: PathBuf) -> Res<ImportOutcome> {
    let mut out = state.core()?.import_files(&[path]).await?;
    out.pop().ok_or_else(|| {
        ApiError::from(capsmith_core::CoreError::InvalidArgument(
            "nothing imported".into(),
        ))
    })
}

#[tauri::command]
pub async fn get_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<CapabilityDetail> {
    Ok(state.core()?.detail(&id, version.as_deref()).await?)
}

#[tauri::command]
pub async fn remove_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<u64> {
    Ok(state.core()?.remove(&id, version.as_deref()).await?)
}

#[tauri::command]
pub async fn export_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    format: String,
) -> Res<String> {
    Ok(state
        .core()?
        .export(&id, version.as_deref(), &format)
        .await?)
}

/// Writes the manifest into the user's Downloads folder (a webview cannot save files itself)
/// and returns the path written.
#[tauri::command]
pub async fn export_capability_file(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    format: String,
) -> Res<String> {
    let core = state.core()?;
    let dir = api::downloads_dir(core.home());
    let path = core
        .export_to_dir(&id, version.as_deref(), &format, &dir)
        .await?;
    Ok(path.display().to_string())
}

#[tauri::command]
pub async fn run_action(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    action: String,
    input: serde_json::Value,
) -> Res<RunReport> {
    Ok(state
        .core()?
        .run_action(&id, version.as_deref(), &action, &input, Origin::App)
        .await?)
}

#[tauri::command]
pub async fn config_list(state: State<'_, AppState>, id: String) -> Res<Vec<ConfigEntryView>> {
    Ok(state.core()?.config_list(&id).await?)
}

#[tauri::command]
pub async fn config_set(
    state: State<'_, AppState>,
    id: String,
    key: String,
    value: String,
) -> Res<ConfigEntryView> {
    Ok(state
        .core()?
        .config_set(&id, &key, Sensitive::new(value))
        .await?)
}

#[tauri::command]
pub async fn config_unset(state: State<'_, AppState>, id: String, key: String) -> Res<bool> {
    Ok(state.core()?.config_unset(&id, &key).await?)
}

#[tauri::command]
pub async fn test_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<TestReport> {
    Ok(state.core()?.test(&id, version.as_deref()).await?)
}

#[tauri::command]
pub async fn list_runs(
    state: State<'_, AppState>,
    id: Option<String>,
    limit: u32,
) -> Res<Vec<ExecutionView>> {
    Ok(state.core()?.runs(id.as_deref(), limit).await?)
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Res<Vec<SettingView>> {
    Ok(state.core()?.settings().await?)
}

#[tauri::command]
pub async fn set_setting(
    state: State<'_, AppState>,
    key: String,
    value: Option<String>,
) -> Res<SettingView> {
    Ok(state.core()?.set_setting(&key, value.as_deref()).await?)
}

/// Connects an OAuth2 capability: opens the system browser on the provider's page and waits
/// (up to five minutes) for its redirect to a one-shot loopback listener.
#[tauri::command]
pub async fn oauth_connect(state: State<'_, AppState>, id: String) -> Res<()> {
    let open_browser = |url: &url::Url| {
        let _ = std::process::Command::new("xdg-open")
            .arg(url.as_str())
            .spawn();
    };
    Ok(state
        .core()?
        .oauth_connect(&id, open_browser, std::time::Duration::from_secs(300))
        .await?)
}

#[tauri::command]
pub async fn set_status(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    status: CapabilityStatus,
) -> Res<CapabilitySummary> {
    Ok(state
        .core()?
        .set_status(&id, version.as_deref(), status)
        .await?)
}

/// "Connect API": an OpenAPI document from a URL (fetched under the network guard) or a path.
#[tauri::command]
pub async fn import_openapi(
    state: State<'_, AppState>,
    source: String,
    id: Option<String>,
) -> Res<ImportOutcome> {
    Ok(state.core()?.import_openapi(&source, id.as_deref()).await?)
}

/// "Connect API" with an uploaded OpenAPI document.
#[tauri::command]
pub async fn import_openapi_text(
    state: State<'_, AppState>,
    file_name: String,
    content: String,
    id: Option<String>,
) -> Res<ImportOutcome> {
    Ok(state
        .core()?
        .import_openapi_text(&file_name, &content, id.as_deref())
        .await?)
}

// ---- the visual builder ------------------------------------------------------------------

#[tauri::command]
pub async fn builder_open(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<serde_json::Value> {
    Ok(state.core()?.builder_open(&id, version.as_deref()).await?)
}

// Compiling checks every script of the flow (oxc) and may evaluate a module in a sandbox
// worker: off the main thread.
#[tauri::command(async)]
pub fn builder_compile(doc: serde_json::Value) -> CompileView {
    api::builder::compile_value(&doc).view
}

#[tauri::command(async)]
pub fn builder_layout(flow: serde_json::Value) -> Res<serde_json::Value> {
    Ok(api::builder::layout_value(&flow)?)
}

#[tauri::command]
pub async fn builder_autosave(state: State<'_, AppState>, doc: serde_json::Value) -> Res<()> {
    Ok(state.core()?.builder_autosave(&doc).await?)
}

#[tauri::command]
pub async fn builder_drafts(state: State<'_, AppState>) -> Res<Vec<DraftView>> {
    Ok(state.core()?.builder_drafts().await?)
}

#[tauri::command]
pub async fn builder_discard(state: State<'_, AppState>, id: String) -> Res<bool> {
    Ok(state.core()?.builder_discard(&id).await?)
}

#[tauri::command]
pub async fn builder_save(state: State<'_, AppState>, doc: serde_json::Value) -> Res<SaveView> {
    Ok(state.core()?.builder_save(&doc).await?)
}

#[tauri::command]
pub async fn builder_run(
    state: State<'_, AppState>,
    doc: serde_json::Value,
    action: String,
    input: serde_json::Value,
) -> Res<FlowRunView> {
    Ok(state.core()?.builder_run(&doc, &action, &input).await?)
}

// ---- agents ------------------------------------------------------------------------------

#[tauri::command]
pub async fn list_agents(state: State<'_, AppState>) -> Res<Vec<AgentView>> {
    Ok(state.core()?.agents().await?)
}

#[tauri::command]
pub async fn create_agent(
    state: State<'_, AppState>,
    name: String,
    description: Option<String>,
) -> Res<AgentView> {
    Ok(state
        .core()?
        .agent_create(&name, description.as_deref())
        .await?)
}

#[tauri::command]
pub async fn agent_plan(
    state: State<'_, AppState>,
    agent: String,
    capability: String,
    version: Option<String>,
) -> Res<AddPlan> {
    Ok(state
        .core()?
        .agent_plan(&agent, &capability, version.as_deref())
        .await?)
}

/// `consent` lists the permissions the user allowed; missing ones reject with
/// `consent_required` and change nothing.
#[tauri::command]
pub async fn agent_add(
    state: State<'_, AppState>,
    agent: String,
    capability: String,
    version: Option<String>,
    consent: Vec<String>,
) -> Res<AgentView> {
    Ok(state
        .core()?
        .agent_add(&agent, &capability, version.as_deref(), &consent)
        .await?)
}

#[tauri::command]
pub async fn agent_remove(
    state: State<'_, AppState>,
    agent: String,
    capability: String,
) -> Res<AgentView> {
    Ok(state.core()?.agent_remove(&agent, &capability).await?)
}

#[tauri::command]
pub async fn agent_run(
    state: State<'_, AppState>,
    agent: String,
    action: String,
    input: serde_json::Value,
) -> Res<RunReport> {
    Ok(state
        .core()?
        .agent_run(&agent, &action, &input, Origin::App)
        .await?)
}

/// Turns one of an agent's capabilities on or off, or changes its priority.
#[tauri::command]
pub async fn agent_update(
    state: State<'_, AppState>,
    agent: String,
    capability: String,
    enabled: Option<bool>,
    priority: Option<i64>,
) -> Res<AgentView> {
    Ok(state
        .core()?
        .agent_update(&agent, &capability, enabled, priority)
        .await?)
}

/// The agent's enabled actions as tools (what `capsmith mcp serve` lists).
#[tauri::command]
pub async fn agent_tools(state: State<'_, AppState>, agent: String) -> Res<Vec<AgentTool>> {
    Ok(state.core()?.agent_tools(&agent).await?)
}

/// The `HOST:PORT` pairs on this machine or network a capability (or builder draft) may reach.
#[tauri::command]
pub async fn allowed_hosts(state: State<'_, AppState>, id: String) -> Res<Vec<String>> {
    Ok(state.core()?.allowed_hosts(&id).await?)
}

/// Lets one capability reach `HOST:PORT` on this machine or a private network.
#[tauri::command]
pub async fn allow_host(
    state: State<'_, AppState>,
    id: String,
    host_port: String,
) -> Res<Vec<String>> {
    Ok(state.core()?.allow_host(&id, &host_port).await?)
}

/// Takes back an `allow_host`.
#[tauri::command]
pub async fn disallow_host(
    state: State<'_, AppState>,
    id: String,
    host_port: String,
) -> Res<Vec<String>> {
    Ok(state.core()?.disallow_host(&id, &host_port).await?)
}

/// The bearer token MCP clients send to `capsmith mcp serve --agent AGENT --http` (made on first
/// use, kept in the OS keyring).
#[tauri::command]
pub async fn agent_mcp_token(state: State<'_, AppState>, agent: String) -> Res<String> {
    Ok(state.core()?.mcp_token(&agent).await?.expose().clone())
}

/// `monthly: null` removes the cap.
#[tauri::command]
pub async fn agent_budget(
    state: State<'_, AppState>,
    agent: String,
    monthly: Option<f64>,
) -> Res<()> {
    Ok(state.core()?.set_agent_budget(&agent, monthly).await?)
}

#[tauri::command]
pub async fn stats(
    state: State<'_, AppState>,
    capability: Option<String>,
    agent: Option<String>,
    days: u32,
) -> Res<StatsView> {
    Ok(state
        .core()?
        .stats(capability.as_deref(), agent.as_deref(), days)
        .await?)
}

#[tauri::command]
pub async fn set_cost(
    state: State<'_, AppState>,
    capability: String,
    per_call: f64,
    per_1k_tokens: f64,
) -> Res<CostView> {
    Ok(state
        .core()?
        .set_cost(&capability, per_call, per_1k_tokens)
        .await?)
}

/// A `file_upload` workflow started with a file from disk (a drop or a file picker).
#[tauri::command]
pub async fn workflow_upload(
    state: State<'_, AppState>,
    capability: String,
    path: std::path::PathBuf,
) -> Res<WorkflowRunView> {
    Ok(state
        .core()?
        .workflow_upload(&capability, None, &path, Origin::App)
        .await?)
}

#[tauri::command]
pub async fn workflow_runs(
    state: State<'_, AppState>,
    capability: Option<String>,
    limit: u32,
) -> Res<Vec<WorkflowRunView>> {
    Ok(state
        .core()?
        .workflow_runs(capability.as_deref(), limit)
        .await?)
}

#[tauri::command]
pub async fn workflow_resume(state: State<'_, AppState>, run_id: i64) -> Res<WorkflowRunView> {
    Ok(state.core()?.workflow_resume(run_id, Origin::App).await?)
}

/// The webhook and scheduled workflows, and where the app serves them (if it does).
#[tauri::command]
pub async fn triggers_status(state: State<'_, AppState>) -> Res<TriggerStatus> {
    let listening = state.triggers.lock().await.as_ref().map(|h| h.addr);
    Ok(state.core()?.trigger_status(listening).await?)
}

/// Starts serving webhooks on `listen` (loopback) and running schedules while the app is open.
#[tauri::command]
pub async fn triggers_start(state: State<'_, AppState>, listen: String) -> Res<TriggerStatus> {
    let core = state.core()?;
    let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
        ApiError::from(&CoreError::InvalidArgument(format!(
            "`{listen}` is not HOST:PORT"
        )))
    })?;
    let mut slot = state.triggers.lock().await;
    if let Some(running) = slot.take() {
        running.stop().await?;
    }
    *slot = Some(
        core.start_triggers(
            addr,
            TriggerOptions {
                only: vec![],
                schedules: true,
            },
        )
        .await?,
    );
    let listening = slot.as_ref().map(|h| h.addr);
    Ok(core.trigger_status(listening).await?)
}

#[tauri::command]
pub async fn triggers_stop(state: State<'_, AppState>) -> Res<TriggerStatus> {
    if let Some(running) = state.triggers.lock().await.take() {
        running.stop().await?;
    }
    Ok(state.core()?.trigger_status(None).await?)
}

/// The agent's own configuration of one of its capabilities (secrets: set or not, never values).
#[tauri::command]
pub async fn agent_config(
    state: State<'_, AppState>,
    agent: String,
    capability: String,
) -> Res<Vec<ConfigEntryView>> {
    Ok(state.core()?.agent_config(&agent, &capability).await?)
}

/// Sets the agent's own value (`value: null` removes it); secrets go to the OS keyring.
#[tauri::command]
pub async fn agent_config_set(
    state: State<'_, AppState>,
    agent: String,
    capability: String,
    key: String,
    value: Option<String>,
) -> Res<Vec<ConfigEntryView>> {
    Ok(state
        .core()?
        .agent_config_set(&agent, &capability, &key, value.map(Sensitive::new))
        .await?)
}

// The marketplace (crates/core/src/api/market.rs). Long work reports progress as
// `market-progress` events (a `MarketProgress`).

use capsmith_core::api::market::{
    InstallOutcome, InstallPlan, MarketDetail, MarketPage, MarketProgress, MarketQuery,
    MarketStatus, PublishView, RunConsent, SyncReport,
};
use capsmith_core::market::{Account, Review};
use tauri::Emitter;

fn emitter(app: &tauri::AppHandle) -> impl Fn(MarketProgress) + Send + Sync + '_ {
    move |p| {
        // A window that is gone cannot show progress; the work goes on.
        let _ = app.emit("market-progress", p);
    }
}

#[tauri::command]
pub async fn market_status(state: State<'_, AppState>) -> Res<MarketStatus> {
    Ok(state.core()?.market_status().await?)
}

#[tauri::command]
pub async fn market_sync(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    full: bool,
) -> Res<SyncReport> {
    Ok(state.core()?.market_sync(full, &emitter(&app)).await?)
}

#[tauri::command]
pub async fn market_search(state: State<'_, AppState>, query: MarketQuery) -> Res<MarketPage> {
    Ok(state.core()?.market_search(&query).await?)
}

#[tauri::command]
pub async fn market_detail(state: State<'_, AppState>, id: String) -> Res<MarketDetail> {
    Ok(state.core()?.market_detail(&id).await?)
}

#[tauri::command]
pub async fn market_install_plan(state: State<'_, AppState>, spec: String) -> Res<InstallPlan> {
    Ok(state.core()?.market_install_plan(&spec).await?)
}

#[tauri::command]
pub async fn market_install(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    spec: String,
    consent: Vec<String>,
    agent: Option<String>,
    replace: Option<bool>,
) -> Res<InstallOutcome> {
    Ok(state
        .core()?
        .market_install(
            &spec,
            &consent,
            agent.as_deref(),
            replace.unwrap_or(false),
            &emitter(&app),
        )
        .await?)
}

#[tauri::command]
pub async fn market_update(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    id: String,
    consent: Vec<String>,
) -> Res<InstallOutcome> {
    Ok(state
        .core()?
        .market_update(&id, &consent, &emitter(&app))
        .await?)
}

/// The run-time consent screen: what an installed capability needs beyond its consent.
#[tauri::command]
pub async fn market_run_consent(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<RunConsent> {
    Ok(state
        .core()?
        .market_run_consent(&id, version.as_deref())
        .await?)
}

#[tauri::command]
pub async fn market_grant_consent(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    consent: Vec<String>,
) -> Res<RunConsent> {
    Ok(state
        .core()?
        .market_grant_consent(&id, version.as_deref(), &consent)
        .await?)
}

#[tauri::command]
pub async fn market_rollback(state: State<'_, AppState>, id: String) -> Res<InstallOutcome> {
    Ok(state.core()?.market_rollback(&id).await?)
}

#[tauri::command]
pub async fn market_uninstall(state: State<'_, AppState>, id: String) -> Res<()> {
    Ok(state.core()?.market_uninstall(&id).await?)
}

#[tauri::command]
pub async fn market_publish(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    spec: String,
    visibility: Option<String>,
    org: Option<String>,
    price_cents: Option<i64>,
) -> Res<PublishView> {
    Ok(state
        .core()?
        .market_publish(
            &spec,
            visibility.as_deref(),
            org.as_deref(),
            price_cents,
            &emitter(&app),
        )
        .await?)
}

#[tauri::command]
pub async fn market_login(state: State<'_, AppState>, url: String, token: String) -> Res<Account> {
    Ok(state.core()?.market_login(&url, &token).await?)
}

#[tauri::command]
pub async fn market_logout(state: State<'_, AppState>) -> Res<()> {
    Ok(state.core()?.market_logout().await?)
}

#[tauri::command]
pub async fn market_review(
    state: State<'_, AppState>,
    id: String,
    stars: i64,
    text: String,
) -> Res<Review> {
    Ok(state.core()?.market_review(&id, stars, &text).await?)
}
