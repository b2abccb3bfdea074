//! The runtime's side of the sandbox: an invocation runs in a worker from the pool
//! (`capsmith_sandbox_protocol::pool`: starting, confinement check, watchdog), and the worker's
//! `fetch`, `db` and `ai` calls are performed here, under the network guard with secrets
//! substituted at the HTTP boundary (and redacted from what goes back). A worker that dies
//! costs that call a clean error and nothing else.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::protocol::pool::{Pool, PoolError, GRACE};
use super::protocol::{
    read_frame, write_frame, Confinement, FromWorker, Invocation, Outcome, ToWorker,
};
use crate::engine::http::{CallTrace, Prepared, Session};
use crate::engine::render::{Place, Scope};
use crate::engine::EngineError;
use crate::secrets::Sensitive;

/// Sandbox workers that may run at once.
pub const SANDBOX_WORKERS: usize = 4;

/// The pool of one runtime: as many idle workers as may run at once.
#[derive(Debug)]
pub struct SandboxHost {
    pool: Pool,
}

impl Default for SandboxHost {
    fn default() -> Self {
        SandboxHost {
            pool: Pool::new(SANDBOX_WORKERS),
        }
    }
}

impl From<PoolError> for EngineError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Timeout { ms } => EngineError::Timeout { ms },
            other => EngineError::Sandbox {
                kind: other.kind().into(),
                message: other.to_string(),
            },
        }
    }
}

pub use capsmith_sandbox_protocol::pool::set_validation_allows_unconfined;

/// What the host needs to perform a worker's fetch and db calls.
pub struct FetchContext {
    pub session: Session,
    pub capability: String,
    pub config: HashMap<String, Value>,
    pub secrets: HashMap<String, Sensitive<String>>,
    /// The capability's own database, when `data.*` permissions grant it.
    pub db: Option<DbAccess>,
    /// The AI endpoint from settings, when `ai.call` grants it.
    pub ai: Option<AiAccess>,
    /// Tokens the code's AI calls used.
    pub usage: crate::engine::Usage,
}

/// An OpenAI-compatible chat endpoint (`<base_url>/chat/completions`).
pub struct AiAccess {
    pub base_url: url::Url,
    pub model: String,
    pub key: Option<Sensitive<String>>,
}

impl FetchContext {
    /// One chat completion for sandboxed code (see [`AiAccess::chat`]), within the call's
    /// deadline.
    fn ai_call(
        &mut self,
        request: &Value,
        until: std::time::Instant,
    ) -> Result<Value, EngineError> {
        let Some(ai) = self.ai.as_ref() else {
            return Err(no_ai_endpoint());
        };
        let remaining = until.saturating_duration_since(std::time::Instant::now());
        let answer = tokio::runtime::Handle::current()
            .block_on(tokio::time::timeout(
                remaining,
                ai.chat(&mut self.session, request),
            ))
            .map_err(|_| EngineError::Timeout {
                ms: remaining.as_millis() as u64,
            })??;
        self.usage.add(&answer);
        Ok(answer)
    }
}

/// What `ai.call` and the `ai.*` workflow actions answer when no endpoint is set.
pub fn no_ai_endpoint() -> EngineError {
    EngineError::NotConfigured {
        what: "the AI endpoint".into(),
        how: "capsmith settings set ai.base_url https://…/v1 (and ai.model, ai.api_key), or Settings → AI endpoint".into(),
    }
}

impl AiAccess {
    /// One chat completion: `{prompt}` or `{messages, system, temperature, max_tokens,
    /// response_format}` in, `{content, model, usage}` out. The endpoint is reached under the
    /// session's guard and call budget (its host is allowed for this call only); the API key
    /// joins the session's secrets, so nothing echoing it back leaks it.
    pub async fn chat(&self, session: &mut Session, request: &Value) -> Result<Value, EngineError> {
        let ai = self;
        let mut messages = Vec::new();
        if let Some(s) = request.get("system").and_then(Value::as_str) {
            messages.push(serde_json::json!({"role": "system", "content": s}));
        }
        match (request.get("messages"), request.get("prompt")) {
            (Some(Value::Array(m)), _) => messages.extend(m.iter().cloned()),
            (_, Some(Value::String(p))) => {
                messages.push(serde_json::json!({"role": "user", "content": p}))
            }
            _ => {
                return Err(EngineError::BadRequest {
                    message: "ai.call needs a prompt or messages".into(),
                })
            }
        }
        let mut body = serde_json::json!({"model": ai.model, "messages": messages});
        for k in ["temperature", "max_tokens", "response_format"] {
            if let Some(v) = request.get(k) {
                body[k] = v.clone();
            }
        }
        let url = ai
            .base_url
            .join("chat/completions")
            .map_err(|e| EngineError::BadRequest {
                message: e.to_string(),
            })?;
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Accept".into(), "application/json".into()),
        ];
        if let Some(k) = &ai.key {
            headers.push(("Authorization".into(), format!("Bearer {}", k.expose())));
            session.secrets.push(k.expose().clone());
        }
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        // The endpoint the user set (`ai.base_url`) is reachable for this call, on its port and
        // over http or a private address if that is what the user wrote.
        let entry = crate::engine::guard::scope_entry(&host, url.port());
        let port = url.port_or_known_default().unwrap_or(443);
        let pair = format!("{host}:{port}");
        let (had_host, had_post, had_pair) = (
            session.policy.domains.contains(&entry),
            session.policy.may_post,
            session.policy.allow_hosts.0.contains(&pair),
        );
        session.policy.domains.insert(entry.clone());
        session.policy.allow_hosts.0.insert(pair.clone());
        session.policy.may_post = true;
        let sent = session
            .send(Prepared {
                method: reqwest::Method::POST,
                url,
                headers,
                body: Some(body.to_string().into_bytes()),
            })
            .await;
        if !had_host {
            session.policy.domains.remove(&entry);
        }
        if !had_pair {
            session.policy.allow_hosts.0.remove(&pair);
        }
        session.policy.may_post = had_post;
        let ex = sent?;
        if !(200..300).contains(&ex.status) {
            let excerpt: String = session
                .redact(&String::from_utf8_lossy(&ex.body))
                .chars()
                .take(200)
                .collect();
            return Err(EngineError::HttpStatus {
                status: ex.status,
                excerpt,
            });
        }
        let v: Value = serde_json::from_slice(&ex.body).map_err(|_| EngineError::NotJson {
            output: "ai.call".into(),
        })?;
        let content = v
            .pointer("/choices/0/message/content")
            .cloned()
            .unwrap_or(Value::Null);
        let answer = serde_json::json!({"content": content, "model": v.get("model"), "usage": v.get("usage")});
        Ok(serde_json::from_str(&session.redact(&answer.to_string())).unwrap_or(answer))
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Binds a JSON value as SQL: null, boolean, integer, real, text; arrays and objects as JSON
/// text.
pub(crate) fn bind_json<'q>(q: SqliteQuery<'q>, v: &Value) -> SqliteQuery<'q> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Number(n) if n.is_i64() => q.bind(n.as_i64()),
        Value::Number(n) => q.bind(n.as_f64()),
        Value::String(s) => q.bind(s.clone()),
        other => q.bind(other.to_string()),
    }
}

/// Rows as JSON objects (a blob shows as its size).
pub(crate) fn rows_json(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<Value>, sqlx::Error> {
    use sqlx::{Column, Row, TypeInfo, ValueRef};
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut obj = serde_json::Map::new();
        for (i, col) in row.columns().iter().enumerate() {
            let raw = row.try_get_raw(i)?;
            let v = if raw.is_null() {
                Value::Null
            } else {
                match raw.type_info().name() {
                    "INTEGER" => row
                        .try_get::<i64, _>(i)
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                    "REAL" => row
                        .try_get::<f64, _>(i)
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                    "BLOB" => Value::String(format!(
                        "[{} bytes]",
                        row.try_get::<Vec<u8>, _>(i).map(|b| b.len()).unwrap_or(0)
                    )),
                    _ => row
                        .try_get::<String, _>(i)
                        .map(Value::from)
                        .unwrap_or(Value::Null),
                }
            };
            obj.insert(col.name().to_string(), v);
        }
        out.push(Value::Object(obj));
    }
    Ok(out)
}

/// A capability's own SQLite file (never the registry) and what its permissions allow.
pub struct DbAccess {
    pub path: PathBuf,
    pub read: bool,
    pub write: bool,
    pub delete: bool,
}

/// Rows a `db.query` returns at most; the rest are never read.
pub const DB_MAX_ROWS: usize = 10_000;
/// Bytes of result a `db.query` may return (as JSON).
pub const DB_MAX_BYTES: usize = 8 * 1024 * 1024;

impl DbAccess {
    /// Runs one parameterized statement, authorised by what SQLite will do (see
    /// [`crate::capdb`]) and interrupted at `until`, the action's deadline.
    pub fn query(
        &self,
        sql: &str,
        params: &[Value],
        until: std::time::Instant,
    ) -> Result<Value, EngineError> {
        crate::capdb::query(
            "db.query",
            &self.path,
            sql,
            params,
            crate::capdb::Grants {
                read: self.read,
                write: self.write,
                delete: self.delete,
            },
            crate::capdb::Limits {
                deadline: until,
                max_rows: DB_MAX_ROWS,
                max_bytes: DB_MAX_BYTES,
            },
        )
    }
}

impl FetchContext {
    fn perform(
        &mut self,
        url: &str,
        method: &str,
        headers: &[(String, String)],
        body: Option<&str>,
        until: std::time::Instant,
    ) -> Result<ToWorkerFetch, EngineError> {
        let input = serde_json::Map::new();
        let scope = Scope {
            capability: &self.capability,
            input: &input,
            config: &self.config,
            secrets: &self.secrets,
            named: None,
        };
        // Secrets enter here, at the HTTP boundary: `${API_KEY}` in what the code sends.
        let url = scope.render(url, Place::Raw)?;
        let url = url::Url::parse(&url).map_err(|e| EngineError::BadRequest {
            message: format!("`{url}` is not a URL: {e}"),
        })?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| {
            EngineError::BadRequest {
                message: format!("`{method}` is not an HTTP method"),
            }
        })?;
        let mut rendered = Vec::new();
        for (k, v) in headers {
            rendered.push((k.clone(), scope.render_header(k, v)?));
        }
        let body = match body {
            Some(b) => Some(scope.render(b, Place::Raw)?.into_bytes()),
            None => None,
        };
        let handle = tokio::runtime::Handle::current();
        // A fetch never outlives the call that made it.
        let remaining = until.saturating_duration_since(std::time::Instant::now());
        let ms = remaining.as_millis() as u64;
        let ex = handle
            .block_on(tokio::time::timeout(
                remaining,
                self.session.send(Prepared {
                    method,
                    url,
                    headers: rendered,
                    body,
                }),
            ))
            .map_err(|_| EngineError::Timeout { ms })??;
        // The code never holds a secret: anything that echoes one back is redacted.
        let text = self.session.redact(&String::from_utf8_lossy(&ex.body));
        Ok(ToWorkerFetch {
            status: ex.status,
            content_type: ex.content_type,
            body: text,
        })
    }
}

struct ToWorkerFetch {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// What an invocation produced, with the network trace and how the worker was confined.
pub struct SandboxRun {
    pub outcome: Outcome,
    pub usage: crate::engine::Usage,
    pub trace: Vec<CallTrace>,
    pub confinement: Confinement,
}

impl SandboxHost {
    /// Starts a worker and reports its confinement (for `capsmith doctor` and Settings).
    pub fn probe(&self) -> Result<Confinement, EngineError> {
        Ok(self.pool.probe()?)
    }

    /// Evaluates a test case's `assert` expression in a worker: `Ok(false)` when it is falsy,
    /// `Err` (with the reason) when it does not run.
    pub fn eval_assertion(
        &self,
        expr: &str,
        input: &Value,
        output: &Value,
        allow_unconfined: bool,
    ) -> Result<bool, String> {
        self.pool
            .eval_assertion(expr, input, output, allow_unconfined)
    }

    /// Runs one invocation in a worker. Blocks: call it from `spawn_blocking`.
    /// A worker that is not fully confined is refused unless `allow_unconfined` (the user's
    /// explicit opt-out, `sandbox.allow_unconfined`).
    pub fn invoke_blocking(
        &self,
        inv: Invocation,
        mut fetch: FetchContext,
        allow_unconfined: bool,
    ) -> SandboxRun {
        let deadline = Duration::from_millis(inv.deadline_ms) + GRACE;
        let call_deadline = std::time::Instant::now() + Duration::from_millis(inv.deadline_ms);
        let mut worker = match self.pool.take(allow_unconfined) {
            Ok(w) => w,
            Err(e) => return self.failed(e.kind(), e.to_string(), fetch, Confinement::default()),
        };
        let confinement = worker.confinement.clone();
        let watched = self.pool.watch(&worker, deadline);
        let deadline_ms = inv.deadline_ms;
        let result = (|| -> Result<Outcome, String> {
            write_frame(&mut worker.input, &ToWorker::Invoke(inv)).map_err(|e| e.to_string())?;
            loop {
                match read_frame::<FromWorker>(&mut worker.output) {
                    Ok(Some(FromWorker::Done(outcome))) => return Ok(outcome),
                    Ok(Some(FromWorker::Fetch {
                        call,
                        url,
                        method,
                        headers,
                        body,
                    })) => {
                        let reply = match fetch.perform(
                            &url,
                            &method,
                            &headers,
                            body.as_deref(),
                            call_deadline,
                        ) {
                            Ok(r) => ToWorker::FetchResult {
                                call,
                                status: r.status,
                                headers: r
                                    .content_type
                                    .map(|c| vec![("content-type".to_string(), c)])
                                    .unwrap_or_default(),
                                body: r.body,
                            },
                            Err(e) => ToWorker::FetchError {
                                call,
                                kind: e.kind().to_string(),
                                message: fetch.session.redact(&e.to_string()),
                            },
                        };
                        write_frame(&mut worker.input, &reply).map_err(|e| e.to_string())?;
                    }
                    Ok(Some(FromWorker::Db { call, sql, params })) => {
                        let reply = match fetch.db.as_ref() {
                            Some(db) => match db.query(&sql, &params, call_deadline) {
                                Ok(result) => ToWorker::HostResult { call, result },
                                Err(e) => ToWorker::FetchError {
                                    call,
                                    kind: e.kind().to_string(),
                                    message: e.to_string(),
                                },
                            },
                            None => ToWorker::FetchError {
                                call,
                                kind: "permission_denied".into(),
                                message: "db needs data.read or data.write".into(),
                            },
                        };
                        write_frame(&mut worker.input, &reply).map_err(|e| e.to_string())?;
                    }
                    Ok(Some(FromWorker::Ai { call, request })) => {
                        let reply = match fetch.ai_call(&request, call_deadline) {
                            Ok(result) => ToWorker::HostResult { call, result },
                            Err(e) => ToWorker::FetchError {
                                call,
                                kind: e.kind().to_string(),
                                message: fetch.session.redact(&e.to_string()),
                            },
                        };
                        write_frame(&mut worker.input, &reply).map_err(|e| e.to_string())?;
                    }
                    Ok(Some(FromWorker::Ready { .. })) => {}
                    Ok(Some(FromWorker::Inspected(_) | FromWorker::Asserted(_))) => {
                        return Err("the sandbox worker answered out of turn".into())
                    }
                    Ok(None) => return Err("the sandbox worker exited".into()),
                    Err(e) => return Err(e.to_string()),
                }
            }
        })();
        watched.finish();
        match result {
            Ok(outcome) => {
                self.pool.give_back(worker);
                SandboxRun {
                    outcome,
                    usage: fetch.usage,
                    trace: fetch.session.trace,
                    confinement,
                }
            }
            Err(msg) => {
                let was_killed = watched.was_killed();
                drop(worker);
                if was_killed {
                    self.failed("timeout", format!("the action ran past its {deadline_ms} ms deadline; its worker was stopped"), fetch, confinement)
                } else {
                    self.failed("sandbox_crashed", format!("the sandbox worker died during the call ({msg}); nothing else was affected"), fetch, confinement)
                }
            }
        }
    }

    fn failed(
        &self,
        kind: &str,
        message: String,
        fetch: FetchContext,
        confinement: Confinement,
    ) -> SandboxRun {
        SandboxRun {
            usage: fetch.usage,
            outcome: Outcome {
                ok: false,
                output: None,
                kind: Some(kind.into()),
                message: Some(message),
                console: vec![],
                memory_used: 0,
            },
            trace: fetch.session.trace,
            confinement,
        }
    }
}
