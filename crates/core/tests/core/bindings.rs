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
        let cfg = Config::new();
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
    ) {
        check_file(&format!("ui/src/generated/{name}.ts"), &text);
    }
}
