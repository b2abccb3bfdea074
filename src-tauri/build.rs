fn main() {
    // Declare the app's own commands so the ACL (capabilities/*.json) can grant them.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "list_capabilities",
            "validate_source",
            "validate_file",
            "import_source",
            "import_file",
            "get_capability",
            "remove_capability",
            "export_capability",
            "export_capability_file",
            "run_action",
            "config_list",
            "config_set",
            "config_unset",
            "test_capability",
            "list_runs",
            "get_settings",
            "set_setting",
            "oauth_connect",
            "set_status",
            "import_openapi",
            "import_openapi_text",
            "builder_open",
            "builder_compile",
            "builder_layout",
            "builder_autosave",
            "builder_drafts",
            "builder_discard",
            "builder_save",
            "builder_run",
            "list_agents",
            "create_agent",
            "agent_plan",
            "agent_add",
            "agent_remove",
            "agent_run",
        ]),
    ))
    .unwrap_or_else(|e| {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    });
}
