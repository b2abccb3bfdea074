//! Generated artefacts stay in sync with the Rust types: the JSON Schema in assets/ and the
//! TypeScript DTOs in ui/src/generated/. Run with UPDATE_GENERATED=1 to rewrite them.

use capsmith_core::api::dto::*;
use capsmith_core::diagnostics::{Diagnostic, Severity};
use capsmith_core::manifest::model::Kind;
use ts_rs::{Config, TS};

use crate::repo_root;

fn check_file(rel: &str, expected: &str) {
    let path = repo_root().join(rel);
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{rel} is out of date with the Rust types; run `UPDATE_GENERATED=1 cargo test -p capsmith-core --test core bindings`"
    );
}

#[test]
fn json_schema_is_current() {
    check_file(
        "assets/schema/capability.schema.json",
        &capsmith_core::manifest::schema::json_schema_string(),
    );
}

#[test]
fn flow_schema_is_current_and_accepts_the_flows_of_the_examples() {
    let text = capsmith_core::flow::nodes::flow_schema_string();
    check_file("assets/schema/flow.schema.json", &text);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut checked = 0;
    for dir in [crate::examples_dir(), crate::fixture("flows")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if !name.contains(".flow.") || name.ends_with(".manifest.yaml") {
                continue;
            }
            let doc = as_json(&p);
            for flow in doc["capability"]["flows"].as_array().unwrap() {
                let errors: Vec<String> =
                    validator.iter_errors(flow).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{}: {errors:?}", p.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked}");
    // A node with a setting its kind does not have is refused by the schema too.
    let bad = serde_json::json!({"action": "a", "nodes": [{"id": "x", "type": "api_call", "position": {"x": 0, "y": 0}, "data": {"url": "https://a.example", "metod": "GET"}}]});
    assert!(!validator.is_valid(&bad));
}

/// The document as the parser sees it (YAML or JSON), as a JSON value.
fn as_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut findings = Vec::new();
    let tree = if path.extension().is_some_and(|e| e == "json") {
        capsmith_core::manifest::json::parse(&text, &mut findings)
    } else {
        capsmith_core::manifest::yaml::parse(&text, &mut findings)
    };
    tree.expect("parses").to_json()
}

#[test]
fn editors_validating_with_the_schema_agree_with_capsmith() {
    // What an editor's JSON Schema validator says must match what Capsmith's parser accepts.
    let schema = capsmith_core::manifest::schema::json_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let examples = crate::examples_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "js") {
            continue;
        }
        let value = as_json(&path);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} fails the schema: {errors:#?}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 7);
    let typo = as_json(&crate::fixture("invalid/unknown-field.yaml"));
    assert!(
        !validator.is_valid(&typo),
        "an unknown field must fail in editors too"
    );
    let wrong_type = serde_json::json!({"capability": {"id": "x", "name": "X", "actions": [{"id": "a", "inputs": {"q": {"type": "strin"}}}]}});
    assert!(!validator.is_valid(&wrong_type));
}

#[test]
fn json_schema_accepts_the_examples() {
    // The schema describes what the parser accepts: every valid YAML/JSON example is an instance.
    let schema = capsmith_core::manifest::schema::json_schema();
    assert_eq!(
        schema["properties"]["capability"]["$ref"],
        "#/$defs/Capability"
    );
    let cap = &schema["$defs"]["Capability"];
    for field in [
        "id",
        "name",
        "actions",
        "integration",
        "api",
        "endpoints",
        "workflow",
        "code",
        "flows",
        "configuration",
        "permissions",
        "dependencies",
    ] {
        assert!(
            cap["properties"].get(field).is_some(),
            "schema lacks {field}"
        );
    }
    assert_eq!(cap["additionalProperties"], false);
}

macro_rules! ts_types {
    ($($t:ty),* $(,)?) => {{
        // 64-bit integers cross IPC as JSON numbers.
        let cfg = Config::new().with_large_int("number");
        vec![$((<$t as TS>::name(&cfg), <$t as TS>::export_to_string(&cfg).expect("export"))),*]
    }};
}

#[test]
fn typescript_bindings_are_current() {
    for (name, text) in ts_types!(
        Severity,
        Diagnostic,
        Kind,
        CapabilityPreview,
        ValidationReport,
        ImportOutcome,
        CapabilityStatus,
        CapabilitySummary,
        FieldView,
        ActionView,
        ConfigView,
        DependencyView,
        SourceFormatView,
        CapabilityDetail,
        ApiError,
        capsmith_core::ErrorKind,
        RunReport,
        capsmith_core::engine::http::CallTrace,
        capsmith_core::sandbox::protocol::ConsoleLine,
        ConfigEntryView,
        ExecutionView,
        Mismatch,
        TestCaseResult,
        TestReport,
        SettingView,
        FlowDiagnostic,
        CompileView,
        SaveView,
        DraftView,
        NodeStatus,
        NodeTrace,
        FlowRunView,
        capsmith_core::api::agents::AgentView,
        capsmith_core::api::agents::AgentCapabilityView,
        capsmith_core::api::agents::AddPlan,
        capsmith_core::api::agents::AgentTool,
        capsmith_core::api::stats::StatsView,
        capsmith_core::api::stats::StatsTotals,
        capsmith_core::api::stats::StatsDay,
        capsmith_core::api::stats::StatsRow,
        capsmith_core::api::stats::CostView,
        capsmith_core::api::workflows::WorkflowRunView,
        capsmith_core::api::workflows::WorkflowStepView,
        capsmith_core::api::triggers::TriggerStatus,
        capsmith_core::api::triggers::TriggerEntry,
        capsmith_core::market::Card,
        capsmith_core::market::ConfigKey,
        capsmith_core::market::DependencyRef,
        capsmith_core::market::VersionInfo,
        capsmith_core::market::KeyRotation,
        capsmith_core::market::Listing,
        capsmith_core::market::Review,
        capsmith_core::market::CategoryCount,
        capsmith_core::market::Account,
        capsmith_core::market::OrgRole,
        capsmith_core::market::PublishOutcome,
        capsmith_core::api::market::MarketStatus,
        capsmith_core::api::market::UpdateAvailable,
        capsmith_core::api::market::SyncReport,
        capsmith_core::api::market::MarketProgress,
        capsmith_core::api::market::MarketQuery,
        capsmith_core::api::market::MarketPage,
        capsmith_core::api::market::MarketCard,
        capsmith_core::api::market::MarketDetail,
        capsmith_core::api::market::InstalledView,
        capsmith_core::api::market::PermissionWords,
        capsmith_core::api::market::InstallPlan,
        capsmith_core::api::market::InstallOutcome,
        capsmith_core::api::market::RunConsent,
        capsmith_core::api::market::PublishView,
    ) {
        check_file(&format!("ui/src/generated/{name}.ts"), &text);
    }
}
