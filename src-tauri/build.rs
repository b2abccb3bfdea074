//! Declares the app's commands (from `src/command_list.rs`) to Tauri's ACL, and writes the main
//! window's capability file granting exactly them, so the three lists cannot drift.

include!("src/command_list.rs");

macro_rules! names {
    ($($c:ident),* $(,)?) => {
        &[$(stringify!($c)),*]
    };
}

const COMMANDS: &[&str] = app_commands!(names);

/// What the main window may use besides the app's commands.
const CORE_PERMISSIONS: &[&str] = &[
    "core:event:default",
    "core:webview:default",
    "core:window:default",
];

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    let mut permissions: Vec<String> = CORE_PERMISSIONS.iter().map(|p| p.to_string()).collect();
    permissions.extend(
        COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-"))),
    );
    let capability = serde_json::json!({
        "$schema": "../gen/schemas/desktop-schema.json",
        "identifier": "default",
        "description": "What the main window may call: the library, builder, agent and marketplace commands and drag-drop events, nothing else.",
        "windows": ["main"],
        "permissions": permissions,
    });
    let text = serde_json::to_string_pretty(&capability).expect("JSON") + "\n";
    let path = std::path::Path::new("capabilities/default.json");
    if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(path, text).expect("write capabilities/default.json");
    }
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    });
}
