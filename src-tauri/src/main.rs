//! The Capsmith desktop app. A thin shell: it opens the core (`capsmith_core::api::Capsmith`)
//! on the user's Capsmith home, hands it to Tauri as state, and registers the commands in
//! `commands`, each a short adapter over one core operation.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// Flows of thousands of nodes allocate heavily; mimalloc halves compile time against glibc
// malloc (docs/benchmarks.md, the flow benchmark uses it too).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;

use capsmith_core::api::{self, dto::ApiError, Capsmith};

/// Managed state: the core, or why it could not be opened (shown by the UI, not a panic), and
/// the trigger service while the user has it running.
pub struct AppState {
    core: Result<Capsmith, ApiError>,
    pub triggers: tokio::sync::Mutex<Option<capsmith_core::api::triggers::TriggerHandle>>,
}

impl AppState {
    pub fn core(&self) -> Result<&Capsmith, ApiError> {
        self.core.as_ref().map_err(Clone::clone)
    }
}

fn main() {
    let core = tauri::async_runtime::block_on(async {
        let home = api::home_dir(None)?;
        Capsmith::open(home).await
    })
    .map_err(ApiError::from);
    if let Err(e) = &core {
        eprintln!(
            "capsmith: cannot open the library: [{}] {}",
            e.kind, e.message
        );
    }
    let result = tauri::Builder::default()
        .manage(AppState {
            core,
            triggers: Default::default(),
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_capabilities,
            commands::validate_source,
            commands::validate_file,
            commands::import_source,
            commands::import_file,
            commands::get_capability,
            commands::remove_capability,
            commands::export_capability,
            commands::export_capability_file,
            commands::run_action,
            commands::config_list,
            commands::config_set,
            commands::config_unset,
            commands::test_capability,
            commands::list_runs,
            commands::get_settings,
            commands::set_setting,
            commands::oauth_connect,
            commands::set_status,
            commands::import_openapi,
            commands::import_openapi_text,
            commands::builder_open,
            commands::builder_compile,
            commands::builder_layout,
            commands::builder_autosave,
            commands::builder_drafts,
            commands::builder_discard,
            commands::builder_save,
            commands::builder_run,
            commands::list_agents,
            commands::create_agent,
            commands::agent_plan,
            commands::agent_add,
            commands::agent_remove,
            commands::agent_run,
            commands::agent_update,
            commands::agent_tools,
            commands::agent_mcp_token,
            commands::allowed_hosts,
            commands::allow_host,
            commands::disallow_host,
            commands::agent_budget,
            commands::stats,
            commands::set_cost,
            commands::workflow_upload,
            commands::workflow_runs,
            commands::workflow_resume,
            commands::triggers_status,
            commands::triggers_start,
            commands::triggers_stop,
            commands::agent_config,
            commands::agent_config_set,
            commands::market_status,
            commands::market_sync,
            commands::market_search,
            commands::market_detail,
            commands::market_install_plan,
            commands::market_install,
            commands::market_update,
            commands::market_rollback,
            commands::market_run_consent,
            commands::market_grant_consent,
            commands::market_uninstall,
            commands::market_publish,
            commands::market_login,
            commands::market_logout,
            commands::market_review,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("capsmith: the app window failed: {e}");
        std::process::exit(1);
    }
}
