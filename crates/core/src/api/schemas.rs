//! The user's schema library: JSON Schemas kept by name (`capsmith schema add NAME FILE`) for
//! `validate.schema` steps that name a schema their manifest does not define. Owns the
//! `schema_library` table. A manifest's own `schemas` always win; a name found in neither is
//! a warning when the workflow is validated and an `invalid_input` error when it runs.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use ts_rs::TS;

use super::Capsmith;
use crate::{CoreError, CoreResult};

/// Largest schema file read.
const MAX_SCHEMA_BYTES: u64 = 4 * 1024 * 1024;

/// One schema of the library, as `schema list` and the app show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SchemaView {
    pub name: String,
    /// The file it was read from.
    pub source: Option<String>,
    pub added_at: String,
    #[ts(type = "unknown")]
    pub schema: Value,
}

fn check_name(name: &str) -> CoreResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(CoreError::InvalidArgument(format!(
            "`{name}` is not a schema name (letters, digits, `_`, `-`, `.`; at most 100)"
        )))
    }
}

/// Reads a JSON or YAML file as a JSON Schema; a parse error names the file, line and column.
fn read_schema(path: &Path) -> CoreResult<Value> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| CoreError::io(path, e))?;
    if meta.len() > MAX_SCHEMA_BYTES {
        return Err(CoreError::InvalidSchema {
            file,
            line: None,
            column: None,
            message: format!("larger than {MAX_SCHEMA_BYTES} bytes"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| CoreError::io(path, e))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let mut findings = Vec::new();
    let parsed = if yaml {
        crate::manifest::yaml::parse(&text, &mut findings)
    } else {
        crate::manifest::json::parse(&text, &mut findings)
    };
    let node = parsed.map_err(|f| CoreError::InvalidSchema {
        file: file.clone(),
        line: f.pos.map(|p| p.line),
        column: f.pos.map(|p| p.column),
        message: f.message,
    })?;
    let schema = node.to_json();
    if !schema.is_object() && !schema.is_boolean() {
        return Err(CoreError::InvalidSchema {
            file,
            line: Some(node.pos.line),
            column: Some(node.pos.column),
            message: "a JSON Schema is an object (or true/false)".into(),
        });
    }
    jsonschema::validator_for(&schema).map_err(|e| CoreError::InvalidSchema {
        file,
        line: None,
        column: None,
        message: format!("not a valid JSON Schema: {e}"),
    })?;
    Ok(schema)
}

impl Capsmith {
    /// Adds (or replaces) the schema `name` from a JSON or YAML file.
    pub async fn schema_add(&self, name: &str, file: &Path) -> CoreResult<SchemaView> {
        check_name(name)?;
        let schema = read_schema(file)?;
        sqlx::query(
            "INSERT INTO schema_library (name, schema, source) VALUES (?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET schema = excluded.schema, source = excluded.source,
               added_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(name)
        .bind(schema.to_string())
        .bind(file.display().to_string())
        .execute(self.registry().pool())
        .await?;
        self.schemas()
            .await?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| CoreError::NotFound(name.to_string()))
    }

    /// Every schema of the library, by name.
    pub async fn schemas(&self) -> CoreResult<Vec<SchemaView>> {
        let rows =
            sqlx::query("SELECT name, schema, source, added_at FROM schema_library ORDER BY name")
                .fetch_all(self.registry().pool())
                .await?;
        Ok(rows
            .iter()
            .map(|r| SchemaView {
                name: r.get("name"),
                schema: serde_json::from_str(&r.get::<String, _>("schema")).unwrap_or(Value::Null),
                source: r.get("source"),
                added_at: r.get("added_at"),
            })
            .collect())
    }

    /// Removes a schema; whether there was one.
    pub async fn schema_remove(&self, name: &str) -> CoreResult<bool> {
        let r = sqlx::query("DELETE FROM schema_library WHERE name = ?")
            .bind(name)
            .execute(self.registry().pool())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The library's schema `name`, if it has one.
    pub(crate) async fn library_schema(&self, name: &str) -> CoreResult<Option<Value>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT schema FROM schema_library WHERE name = ?")
                .bind(name)
                .fetch_optional(self.registry().pool())
                .await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }
}
