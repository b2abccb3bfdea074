//! The Capsmith desktop app. A thin shell: it opens the core (`capsmith_core::api::Capsmith`)
//! on the user's Capsmith home, hands it to Tauri as state, and registers the commands in
//! `commands`, each a short adapter over one core operation.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// Flows of thousands of nodes allocate heavily; mimalloc halves compile time against glibc
// malloc (docs/benchmarks.md, the flow benchmark uses it too).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;

include!("command_list.rs");

/// The handlers of every command in `command_list.rs`.
macro_rules! handlers {
    ($($c:ident),* $(,)?) => {
        tauri::generate_handler![$(commands::$c),*]
    };
}

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
        .invoke_handler(app_commands!(handlers))
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("capsmith: the app window failed: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    macro_rules! names {
        ($($c:ident),* $(,)?) => {
            vec![$(stringify!($c).to_string()),*]
        };
    }

    /// The UI's typed command map names exactly the commands the app registers.
    #[test]
    fn the_ui_calls_exactly_the_registered_commands() {
        let mut registered: Vec<String> = app_commands!(names);
        let ts = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ui/src/lib/backend.ts"
        ))
        .unwrap();
        let start = ts
            .find("export type Commands = {")
            .expect("the command map");
        let end = ts[start..].find("\n};").expect("its end") + start;
        let lines: Vec<&str> = ts[start..end].lines().map(str::trim).collect();
        let mut in_ui: Vec<String> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some((name, rest)) = line.split_once(": {") else {
                continue;
            };
            let is_entry = rest.trim_start().starts_with("args")
                || (rest.trim().is_empty()
                    && lines.get(i + 1).is_some_and(|n| n.starts_with("args")));
            if is_entry && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                in_ui.push(name.to_string());
            }
        }
        registered.sort();
        in_ui.sort();
        assert_eq!(
            in_ui, registered,
            "ui/src/lib/backend.ts and src/command_list.rs differ"
        );
    }
}
