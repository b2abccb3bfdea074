//! The standard actions every workflow may use without installing anything: reading uploaded
//! files (`file.read`), text out of PDFs (`ocr.extract`, `pdf.extract`), the AI endpoint from
//! settings (`ai.call`, `ai.analyze`), JSON Schema checks (`validate.schema`), the user's data
//! database (`database.insert`, `database.query`), mail over SMTP (`email.send`), full-text
//! search of the knowledge folder (`knowledge.search`) and `log.write`.
//!
//! Each runs only when the workflow's permissions grant what it needs
//! (`permissions::for_standard_action`); files are read only from the uploads folder of the
//! Capsmith home; the user data database is its own SQLite file, never the registry.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::Capsmith;
use crate::engine::http::Session;
use crate::engine::{EngineError, RunContext, Usage};
use crate::manifest::permissions;
use crate::sandbox::host::{bind_json, rows_json};
use crate::sandbox::protocol::ConsoleLine;

/// Largest file a standard action reads.
const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Most rows `database.query` returns.
const MAX_ROWS: i64 = 10_000;
/// Files the knowledge index takes, and the largest of them.
const MAX_KNOWLEDGE_FILES: usize = 20_000;
const MAX_KNOWLEDGE_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// What a standard action needs from its run.
pub(crate) struct StdCall<'a, 'c> {
    pub ctx: &'a RunContext<'c>,
    pub session: &'a mut Session,
    pub console: &'a mut Vec<ConsoleLine>,
    pub usage: &'a mut Usage,
}

fn refused(action: &str, permission: &str) -> EngineError {
    EngineError::MethodNotPermitted {
        method: action.to_string(),
        permission: permission.to_string(),
    }
}

fn param<'p>(params: &'p Map<String, Value>, k: &str) -> Option<&'p str> {
    params.get(k).and_then(Value::as_str)
}

fn required<'p>(
    params: &'p Map<String, Value>,
    action: &str,
    k: &str,
) -> Result<&'p Value, EngineError> {
    params
        .get(k)
        .filter(|v| !v.is_null())
        .ok_or_else(|| EngineError::InvalidInput {
            field: k.to_string(),
            message: format!("{action} needs `{k}`"),
        })
}

/// A text for the AI from a step's input: a string as it is, extracted text by its `text`,
/// anything else as JSON.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.get("text").is_some_and(Value::is_string) => {
            m["text"].as_str().unwrap_or_default().to_string()
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The JSON object in a model's answer: the whole answer, or the part inside a Markdown code
/// fence, or from the first `{` to the last `}`.
pub fn json_in_answer(content: &str) -> Option<Value> {
    let t = content.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    if let Some(start) = t.find("```") {
        let rest = &t[start + 3..];
        let rest = rest.split_once('\n').map_or(rest, |(_, r)| r);
        if let Some(end) = rest.find("```") {
            if let Ok(v) = serde_json::from_str::<Value>(rest[..end].trim()) {
                return Some(v);
            }
        }
    }
    let (a, b) = (t.find('{')?, t.rfind('}')?);
    serde_json::from_str(t.get(a..=b)?).ok()
}

/// A SQL identifier the user data database accepts: letters, digits and `_`, not starting with
/// a digit, not `sqlite_…`.
fn ident(kind: &str, s: &str) -> Result<String, EngineError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && !s.to_ascii_lowercase().starts_with("sqlite_");
    if ok {
        Ok(format!("\"{s}\""))
    } else {
        Err(EngineError::InvalidInput {
            field: kind.to_string(),
            message: format!("`{s}` is not a {kind} name (letters, digits and `_`)"),
        })
    }
}

fn data_err(e: sqlx::Error) -> EngineError {
    EngineError::Data {
        message: e.to_string(),
    }
}

fn sql_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "INTEGER",
        Value::Number(n) if n.is_i64() || n.is_u64() => "INTEGER",
        Value::Number(_) => "REAL",
        _ => "TEXT",
    }
}

/// The file type the design's filters test (`file.type === 'pdf'`): the extension, lowercase.
pub fn file_type(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn mime_of(ty: &str) -> &'static str {
    match ty {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Text out of a PDF, page by page. A malformed PDF is an error, never a crash.
fn pdf_pages(bytes: Vec<u8>) -> Result<Vec<String>, EngineError> {
    let r = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem_by_pages(&bytes));
    match r {
        Ok(Ok(pages)) => Ok(pages),
        Ok(Err(e)) => Err(EngineError::Extract {
            message: format!("the PDF could not be read: {e}"),
        }),
        Err(_) => Err(EngineError::Extract {
            message: "the PDF could not be read (malformed or unsupported structure)".into(),
        }),
    }
}

impl Capsmith {
    /// Where uploaded files live; the only place `file.read` and `ocr.extract` read from.
    pub fn uploads_dir(&self) -> PathBuf {
        self.home().join("uploads")
    }

    /// The user data database behind `database.*` (not the registry, not a capability's own).
    pub fn user_data_path(&self) -> PathBuf {
        self.home().join("data").join("user-data.sqlite3")
    }

    /// Copies a file into the uploads folder and describes it the way a `file_upload`
    /// trigger's payload does: `{name, type, mime, size, path, sha256}`.
    pub async fn upload_file(&self, src: &Path) -> crate::error::CoreResult<Value> {
        use sha2::{Digest, Sha256};
        let meta = tokio::fs::metadata(src).await.map_err(|e| {
            crate::error::CoreError::InvalidArgument(format!("{}: {e}", src.display()))
        })?;
        if !meta.is_file() {
            return Err(crate::error::CoreError::InvalidArgument(format!(
                "{} is not a file",
                src.display()
            )));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(crate::error::CoreError::InvalidArgument(format!(
                "{} is {} bytes; uploads are at most {MAX_FILE_BYTES}",
                src.display(),
                meta.len()
            )));
        }
        let bytes = tokio::fs::read(src).await.map_err(|e| {
            crate::error::CoreError::InvalidArgument(format!("{}: {e}", src.display()))
        })?;
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "upload".into());
        let sha = hex::encode(Sha256::digest(&bytes));
        let dir = self.uploads_dir().join(&sha[..16]);
        tokio::fs::create_dir_all(&dir).await.map_err(|e| {
            crate::error::CoreError::InvalidArgument(format!("{}: {e}", dir.display()))
        })?;
        let dest = dir.join(&name);
        tokio::fs::write(&dest, &bytes).await.map_err(|e| {
            crate::error::CoreError::InvalidArgument(format!("{}: {e}", dest.display()))
        })?;
        let ty = file_type(&name);
        Ok(json!({
            "name": name,
            "type": ty,
            "mime": mime_of(&ty),
            "size": bytes.len(),
            "path": dest.to_string_lossy(),
            "sha256": sha,
        }))
    }

    /// The uploaded file a step names (`{path}` or a path), which must be inside the uploads
    /// folder once links are followed.
    fn uploaded(&self, action: &str, v: &Value) -> Result<(PathBuf, String), EngineError> {
        let raw = match v {
            Value::String(s) => s.clone(),
            Value::Object(m) => m
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        };
        if raw.is_empty() {
            return Err(EngineError::InvalidInput {
                field: "input".into(),
                message: format!(
                    "{action} needs an uploaded file (`${{trigger.file}}`) or its path"
                ),
            });
        }
        let root = self
            .uploads_dir()
            .canonicalize()
            .unwrap_or_else(|_| self.uploads_dir());
        let p = Path::new(&raw);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.join(p)
        };
        let real = p.canonicalize().map_err(|_| EngineError::FileRefused {
            path: raw.clone(),
            reason: "no such uploaded file".into(),
        })?;
        if !real.starts_with(&root) {
            return Err(EngineError::FileRefused {
                path: raw,
                reason: "only uploaded files can be read".into(),
            });
        }
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        Ok((real, name))
    }

    async fn read_uploaded(&self, path: &Path) -> Result<Vec<u8>, EngineError> {
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| EngineError::FileRefused {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(EngineError::FileRefused {
                path: path.display().to_string(),
                reason: format!("{} bytes; at most {MAX_FILE_BYTES} are read", meta.len()),
            });
        }
        tokio::fs::read(path)
            .await
            .map_err(|e| EngineError::FileRefused {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
    }

    /// Runs the standard action `action` with its parameters (templates already filled in) and
    /// the step's input.
    pub(crate) async fn standard_action(
        &self,
        call: StdCall<'_, '_>,
        action: &str,
        params: &Map<String, Value>,
        input: Value,
    ) -> Result<Value, EngineError> {
        if let Some(p) = permissions::for_standard_action(action) {
            if !call.ctx.permissions.iter().any(|x| x == p) {
                return Err(refused(action, p));
            }
        }
        match action {
            "file.read" => {
                let (path, name) = self.uploaded(action, &input)?;
                let bytes = self.read_uploaded(&path).await?;
                let ty = file_type(&name);
                let size = bytes.len();
                Ok(match String::from_utf8(bytes) {
                    Ok(text) => json!({"name": name, "type": ty, "size": size, "text": text}),
                    Err(e) => {
                        use base64::Engine as _;
                        json!({"name": name, "type": ty, "size": size,
                               "base64": base64::engine::general_purpose::STANDARD.encode(e.into_bytes())})
                    }
                })
            }
            "ocr.extract" | "pdf.extract" => {
                let (path, name) = self.uploaded(action, &input)?;
                let bytes = self.read_uploaded(&path).await?;
                if bytes.starts_with(b"%PDF") {
                    let pages = tokio::task::spawn_blocking(move || pdf_pages(bytes))
                        .await
                        .map_err(|_| EngineError::Extract {
                            message: "the PDF could not be read".into(),
                        })??;
                    let text = pages.join("\n");
                    if text.trim().is_empty() {
                        return Err(EngineError::Extract {
                            message: format!("`{name}` has no text layer (a scan?); this version reads text PDFs, not images"),
                        });
                    }
                    Ok(json!({"name": name, "pages": pages.len(), "text": text.trim()}))
                } else {
                    match String::from_utf8(bytes) {
                        Ok(text) => Ok(json!({"name": name, "pages": 1, "text": text})),
                        Err(_) => Err(EngineError::Extract {
                            message: format!("`{name}` is neither a PDF nor text; OCR of images is not available in this version"),
                        }),
                    }
                }
            }
            "ai.call" | "ai.chat" => {
                let ai = self
                    .ai_access()
                    .await
                    .ok_or_else(crate::sandbox::host::no_ai_endpoint)?;
                let mut request = params.clone();
                if !request.contains_key("prompt") && !request.contains_key("messages") {
                    request.insert("prompt".into(), Value::String(as_text(&input)));
                }
                let answer = ai.chat(call.session, &Value::Object(request)).await?;
                call.usage.add(&answer);
                Ok(answer)
            }
            "ai.analyze" => {
                let ai = self
                    .ai_access()
                    .await
                    .ok_or_else(crate::sandbox::host::no_ai_endpoint)?;
                let prompt = param(params, "prompt").unwrap_or("Extract the key facts.");
                let text = as_text(&input);
                let request = json!({
                    "system": "You extract structured data from documents. Answer with one JSON object and nothing else.",
                    "prompt": format!("{prompt}\n\n---\n{text}"),
                    "temperature": params.get("temperature").cloned().unwrap_or(json!(0)),
                    "response_format": {"type": "json_object"},
                });
                let answer = ai.chat(call.session, &request).await?;
                call.usage.add(&answer);
                let content = answer
                    .get("content")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match json_in_answer(content) {
                    Some(v @ Value::Object(_)) => Ok(v),
                    _ => Err(EngineError::AiAnswer {
                        message: format!(
                            "ai.analyze expected a JSON object from the model; it answered: {}",
                            content.chars().take(200).collect::<String>()
                        ),
                    }),
                }
            }
            "validate.schema" => {
                // A name: the manifest's own `schemas` first, then the user's schema library.
                let schema =
                    match required(params, action, "schema")? {
                        Value::String(name) => {
                            match call.ctx.document.capability.schemas.get(name) {
                            Some(s) => s.clone(),
                            None => self
                                .library_schema(name)
                                .await
                                .ok()
                                .flatten()
                                .ok_or_else(|| EngineError::InvalidInput {
                                    field: "schema".into(),
                                    message: format!("no schema `{name}` in this capability's `schemas` nor in your schema library (add it: capsmith schema add {name} FILE)"),
                                })?,
                        }
                        }
                        other => other.clone(),
                    };
                let validator =
                    jsonschema::validator_for(&schema).map_err(|e| EngineError::InvalidInput {
                        field: "schema".into(),
                        message: format!("not a valid JSON Schema: {e}"),
                    })?;
                let errors: Vec<String> = validator
                    .iter_errors(&input)
                    .take(20)
                    .map(|e| {
                        let at = e.instance_path().to_string();
                        format!(
                            "{}: {e}",
                            if at.is_empty() {
                                "(root)".to_string()
                            } else {
                                at
                            }
                        )
                    })
                    .collect();
                if errors.is_empty() {
                    Ok(input)
                } else {
                    Err(EngineError::SchemaMismatch {
                        count: errors.len(),
                        details: errors.join("; "),
                    })
                }
            }
            "database.insert" => {
                let table = ident("table", param(params, "table").unwrap_or_default())?;
                let data = params.get("data").cloned().unwrap_or(input);
                let rows: Vec<Map<String, Value>> = match data {
                    Value::Object(m) => vec![m],
                    Value::Array(a) if a.iter().all(Value::is_object) && !a.is_empty() => a
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::Object(m) => Some(m),
                            _ => None,
                        })
                        .collect(),
                    _ => {
                        return Err(EngineError::InvalidInput {
                            field: "data".into(),
                            message: "database.insert takes an object or a list of objects".into(),
                        })
                    }
                };
                self.insert_rows(&table, rows).await
            }
            "database.query" => {
                let deadline = std::time::Instant::now()
                    + std::time::Duration::from_millis(call.session.policy.timeout_ms);
                self.query_rows(params, deadline).await
            }
            "email.send" => self.send_email(params, &input).await,
            "knowledge.search" => {
                let query = param(params, "query")
                    .map(str::to_string)
                    .unwrap_or_else(|| as_text(&input));
                let limit = params
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(5)
                    .clamp(1, 50);
                self.knowledge_search(&query, limit as i64).await
            }
            "log.write" => {
                let text = param(params, "message")
                    .map(str::to_string)
                    .unwrap_or_else(|| as_text(&input));
                let level = param(params, "level").unwrap_or("info").to_string();
                call.console.push(ConsoleLine { level, text });
                Ok(input)
            }
            other => Err(EngineError::UnavailableAction {
                action: other.to_string(),
            }),
        }
    }

    async fn user_data(&self) -> Result<sqlx::SqliteConnection, EngineError> {
        use sqlx::Connection;
        let path = self.user_data_path();
        if let Some(dir) = path.parent() {
            let _ = tokio::fs::create_dir_all(dir).await;
        }
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        sqlx::SqliteConnection::connect_with(&opts)
            .await
            .map_err(data_err)
    }

    /// Inserts rows into `table`, creating it (and any new column) on first use; all rows or
    /// none.
    async fn insert_rows(
        &self,
        table: &str,
        rows: Vec<Map<String, Value>>,
    ) -> Result<Value, EngineError> {
        use sqlx::Row;
        let mut conn = self.user_data().await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await.map_err(data_err)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
        )))
        .execute(&mut *tx)
        .await
        .map_err(data_err)?;
        let existing: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info({})",
            Value::String(table.trim_matches('"').to_string())
        )))
        .fetch_all(&mut *tx)
        .await
        .map_err(data_err)?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        let mut columns = existing.clone();
        let mut ids = Vec::new();
        for row in &rows {
            let mut names = Vec::new();
            for (k, v) in row {
                if k == "id" || k == "created_at" {
                    continue;
                }
                let col = ident("column", k)?;
                if !columns.iter().any(|c| c == k) {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "ALTER TABLE {table} ADD COLUMN {col} {}",
                        sql_type(v)
                    )))
                    .execute(&mut *tx)
                    .await
                    .map_err(data_err)?;
                    columns.push(k.clone());
                }
                names.push((col, v));
            }
            let sql = if names.is_empty() {
                format!("INSERT INTO {table} DEFAULT VALUES")
            } else {
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    vec!["?"; names.len()].join(", ")
                )
            };
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (_, v) in &names {
                q = bind_json(q, v);
            }
            let r = q.execute(&mut *tx).await.map_err(data_err)?;
            ids.push(r.last_insert_rowid());
        }
        tx.commit().await.map_err(data_err)?;
        Ok(json!({"table": table.trim_matches('"'), "inserted": ids.len(), "ids": ids}))
    }

    /// `{table, where, order_by, limit}` (equality filters), or `{sql, params}`: one statement
    /// that may only read (SQLite's authorizer decides, see [`crate::capdb`]), interrupted at
    /// `deadline`.
    async fn query_rows(
        &self,
        params: &Map<String, Value>,
        deadline: std::time::Instant,
    ) -> Result<Value, EngineError> {
        let limit = params
            .get("limit")
            .and_then(Value::as_i64)
            .unwrap_or(100)
            .clamp(1, MAX_ROWS);
        if let Some(sql) = param(params, "sql") {
            let path = self.user_data_path();
            if !path.exists() {
                return Ok(json!([]));
            }
            let sql = sql.to_string();
            let values: Vec<Value> = params
                .get("params")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let grants = crate::capdb::Grants {
                read: true,
                write: false,
                delete: false,
            };
            let limits = crate::capdb::Limits {
                deadline,
                max_rows: limit as usize,
                max_bytes: crate::sandbox::host::DB_MAX_BYTES,
            };
            return tokio::task::spawn_blocking(move || {
                crate::capdb::query("database.query", &path, &sql, &values, grants, limits)
            })
            .await
            .map_err(|e| EngineError::Data {
                message: format!("database.query failed: {e}"),
            })?;
        }
        let table = ident("table", param(params, "table").unwrap_or_default())?;
        let mut conn = self.user_data().await?;
        let mut sql = format!("SELECT * FROM {table}");
        let filters: Vec<(String, Value)> = match params.get("where") {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| Ok((ident("column", k)?, v.clone())))
                .collect::<Result<_, EngineError>>()?,
            _ => Vec::new(),
        };
        if !filters.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(
                &filters
                    .iter()
                    .map(|(c, _)| format!("{c} = ?"))
                    .collect::<Vec<_>>()
                    .join(" AND "),
            );
        }
        if let Some(order) = param(params, "order_by") {
            let (col, dir) = match order.strip_prefix('-') {
                Some(c) => (c, "DESC"),
                None => (order, "ASC"),
            };
            sql.push_str(&format!(" ORDER BY {} {dir}", ident("column", col)?));
        }
        sql.push_str(&format!(" LIMIT {limit}"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (_, v) in &filters {
            q = bind_json(q, v);
        }
        let rows = q.fetch_all(&mut conn).await.map_err(|e| match e {
            sqlx::Error::Database(d) if d.message().contains("no such table") => {
                EngineError::Data {
                    message: format!("no table {table} in the user data database yet"),
                }
            }
            other => data_err(other),
        })?;
        Ok(Value::Array(rows_json(&rows).map_err(data_err)?))
    }

    async fn send_email(
        &self,
        params: &Map<String, Value>,
        input: &Value,
    ) -> Result<Value, EngineError> {
        use lettre::message::{header::ContentType, Mailbox};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let setting = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
        let host =
            setting(self.setting("email.smtp_host").await.ok().flatten()).ok_or_else(|| {
                EngineError::NotConfigured {
                what: "email.send".into(),
                how: "capsmith settings set email.smtp_host smtp.example.com:587 (and email.from)"
                    .into(),
            }
            })?;
        let from = setting(self.setting("email.from").await.ok().flatten()).ok_or_else(|| {
            EngineError::NotConfigured {
                what: "email.send".into(),
                how: "capsmith settings set email.from 'Capsmith <bot@example.com>'".into(),
            }
        })?;
        let security = setting(self.setting("email.security").await.ok().flatten())
            .unwrap_or_else(|| "starttls".into());
        let bad = |field: &str, message: String| EngineError::InvalidInput {
            field: field.to_string(),
            message,
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e| bad("from", format!("`{from}`: {e}")))?;
        let to: Vec<String> = match params.get("to") {
            Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        if to.is_empty() || to.iter().any(String::is_empty) {
            return Err(bad(
                "to",
                "email.send needs `to`: an address or a list".into(),
            ));
        }
        let subject = param(params, "subject").unwrap_or_default();
        if subject.contains(['\r', '\n']) {
            return Err(EngineError::HeaderInjection {
                header: "Subject".into(),
            });
        }
        let body = match params.get("body") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => serde_json::to_string_pretty(other).unwrap_or_default(),
            None => as_text(input),
        };
        let mut builder = lettre::Message::builder().from(from).subject(subject);
        for t in &to {
            let mb: Mailbox = t.parse().map_err(|e| bad("to", format!("`{t}`: {e}")))?;
            builder = builder.to(mb);
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| bad("to", e.to_string()))?;
        let (name, port) = match host.rsplit_once(':') {
            Some((h, p)) => (
                h.trim_matches(['[', ']']).to_string(),
                p.parse::<u16>().ok(),
            ),
            None => (host.clone(), None),
        };
        let email_err = |e: lettre::transport::smtp::Error| EngineError::Email {
            message: e.to_string(),
        };
        let builder = match security.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&name)
                .map_err(email_err)?
                .port(port.unwrap_or(465)),
            "none" => {
                // Plain SMTP only to this machine: anything else would send mail and any
                // password in the clear.
                let local = name == "localhost"
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|a| a.is_loopback());
                if !local {
                    return Err(EngineError::InsecureScheme { host: name });
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&name)
                    .port(port.unwrap_or(25))
            }
            _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&name)
                .map_err(email_err)?
                .port(port.unwrap_or(587)),
        };
        let mut builder = builder.timeout(Some(std::time::Duration::from_secs(30)));
        if let Some(user) = setting(self.setting("email.username").await.ok().flatten()) {
            let password = self
                .secrets()
                .retrieve(
                    super::settings::SETTINGS_SECRETS,
                    super::settings::EMAIL_PASSWORD_KEY,
                )
                .await
                .ok()
                .flatten()
                .map(|s| s.expose().clone())
                .unwrap_or_default();
            builder = builder.credentials(
                lettre::transport::smtp::authentication::Credentials::new(user, password),
            );
        }
        let response = builder.build().send(message).await.map_err(email_err)?;
        Ok(json!({
            "sent": true,
            "to": to,
            "subject": subject,
            "server_reply": response.message().collect::<Vec<_>>().join(" "),
        }))
    }

    /// Full-text search of the knowledge folder (setting `knowledge.folder`). The index is a
    /// SQLite FTS5 table in the home, brought up to date with the folder before each search.
    async fn knowledge_search(&self, query: &str, limit: i64) -> Result<Value, EngineError> {
        use sqlx::Row;
        let folder = self
            .setting("knowledge.folder")
            .await
            .ok()
            .flatten()
            .and_then(|v| v.as_str().map(PathBuf::from))
            .ok_or_else(|| EngineError::NotConfigured {
                what: "knowledge.search".into(),
                how: "capsmith settings set knowledge.folder /path/to/documents".into(),
            })?;
        let mut conn = self.knowledge_index(&folder).await?;
        // Every word a quoted prefix term, any of them (ranked by bm25): the user's text is
        // never FTS5 syntax, and `refund` finds `refunds`.
        let terms: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(32)
            .map(|w| format!("\"{w}\"*"))
            .collect();
        if terms.is_empty() {
            return Ok(json!([]));
        }
        let rows = sqlx::query(
            "SELECT path, title, snippet(docs, 2, '[', ']', ' … ', 16) AS snippet, bm25(docs) AS score
             FROM docs WHERE docs MATCH ? ORDER BY score LIMIT ?",
        )
        .bind(terms.join(" OR "))
        .bind(limit)
        .fetch_all(&mut conn)
        .await
        .map_err(data_err)?;
        Ok(Value::Array(
            rows.iter()
                .map(|r| {
                    json!({
                        "path": r.get::<String, _>("path"),
                        "title": r.get::<String, _>("title"),
                        "snippet": r.get::<String, _>("snippet"),
                        "score": -r.get::<f64, _>("score"),
                    })
                })
                .collect(),
        ))
    }

    /// The knowledge index, updated: new and changed files (by size and modification time)
    /// are read again, removed ones dropped.
    async fn knowledge_index(&self, folder: &Path) -> Result<sqlx::SqliteConnection, EngineError> {
        use sqlx::{Connection, Row};
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.home().join("knowledge.sqlite3"))
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let mut conn = sqlx::SqliteConnection::connect_with(&opts)
            .await
            .map_err(data_err)?;
        for stmt in [
            "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(path UNINDEXED, title, body)",
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, folder TEXT NOT NULL)",
        ] {
            sqlx::query(stmt).execute(&mut conn).await.map_err(data_err)?;
        }
        let root = folder.to_path_buf();
        let found = tokio::task::spawn_blocking(move || walk_documents(&root))
            .await
            .unwrap_or_default();
        let folder_key = folder.to_string_lossy().to_string();
        let known: std::collections::HashMap<String, (i64, i64)> =
            sqlx::query("SELECT path, size, mtime FROM files WHERE folder = ?")
                .bind(&folder_key)
                .fetch_all(&mut conn)
                .await
                .map_err(data_err)?
                .iter()
                .map(|r| {
                    (
                        r.get::<String, _>(0),
                        (r.get::<i64, _>(1), r.get::<i64, _>(2)),
                    )
                })
                .collect();
        let mut tx = sqlx::Connection::begin(&mut conn).await.map_err(data_err)?;
        // Files of another folder (the setting changed) and removed files leave the index.
        let stale: Vec<String> = sqlx::query("SELECT path FROM files WHERE folder <> ?")
            .bind(&folder_key)
            .fetch_all(&mut *tx)
            .await
            .map_err(data_err)?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .chain(
                known
                    .keys()
                    .filter(|k| !found.iter().any(|(p, _, _)| p == *k))
                    .cloned(),
            )
            .collect();
        for p in stale {
            for sql in [
                "DELETE FROM docs WHERE path = ?",
                "DELETE FROM files WHERE path = ?",
            ] {
                sqlx::query(sql)
                    .bind(&p)
                    .execute(&mut *tx)
                    .await
                    .map_err(data_err)?;
            }
        }
        for (rel, size, mtime) in &found {
            if known.get(rel) == Some(&(*size, *mtime)) {
                continue;
            }
            let path = folder.join(rel);
            let text = read_document(path).await;
            let title = text
                .lines()
                .map(|l| l.trim().trim_start_matches('#').trim())
                .find(|l| !l.is_empty())
                .unwrap_or(rel)
                .chars()
                .take(120)
                .collect::<String>();
            sqlx::query("DELETE FROM docs WHERE path = ?")
                .bind(rel)
                .execute(&mut *tx)
                .await
                .map_err(data_err)?;
            sqlx::query("INSERT INTO docs (path, title, body) VALUES (?, ?, ?)")
                .bind(rel)
                .bind(&title)
                .bind(&text)
                .execute(&mut *tx)
                .await
                .map_err(data_err)?;
            sqlx::query("INSERT INTO files (path, size, mtime, folder) VALUES (?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, folder = excluded.folder")
                .bind(rel)
                .bind(size)
                .bind(mtime)
                .bind(&folder_key)
                .execute(&mut *tx)
                .await
                .map_err(data_err)?;
        }
        tx.commit().await.map_err(data_err)?;
        Ok(conn)
    }
}

/// Documents under `root` (relative path, size, mtime), hidden folders skipped, links not
/// followed.
fn walk_documents(root: &Path) -> Vec<(String, i64, i64)> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() && depth < 8 {
                stack.push((path, depth + 1));
            } else if ft.is_file()
                && matches!(
                    file_type(&name).as_str(),
                    "txt" | "md" | "markdown" | "pdf" | "json" | "csv" | "html" | "htm" | "rst"
                )
            {
                let Ok(meta) = e.metadata() else { continue };
                if meta.len() > MAX_KNOWLEDGE_FILE_BYTES {
                    continue;
                }
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                if let Ok(rel) = path.strip_prefix(root) {
                    out.push((rel.to_string_lossy().to_string(), meta.len() as i64, mtime));
                }
                if out.len() >= MAX_KNOWLEDGE_FILES {
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}

/// A document's text: a PDF's text layer, or the file as UTF-8 (lossy).
async fn read_document(path: PathBuf) -> String {
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return String::new();
    };
    if bytes.starts_with(b"%PDF") {
        tokio::task::spawn_blocking(move || {
            pdf_pages(bytes).map(|p| p.join("\n")).unwrap_or_default()
        })
        .await
        .unwrap_or_default()
    } else {
        String::from_utf8_lossy(&bytes).to_string()
    }
}
