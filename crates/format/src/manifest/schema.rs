//! The JSON Schema of the manifest format, generated from the Rust types so it cannot drift.
//! `assets/schema/capability.schema.json` is this output; a test keeps the two equal.

use crate::manifest::model::Document;

pub const SCHEMA_ID: &str = "https://capsmith.dev/schema/capability.schema.json";

pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Document);
    let mut v = serde_json::to_value(&schema).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("$id".into(), SCHEMA_ID.into());
    }
    v
}

pub fn json_schema_string() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}
