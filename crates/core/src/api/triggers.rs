//! Workflow triggers that come from outside: `webhook` (an HTTP listener on loopback that runs
//! the workflow with the request and answers with its output) and `schedule` (cron).
//! `manual` is `workflow_run`; `file_upload` is `workflow_upload`.
//!
//! The listener serves `POST /hooks/<workflow-id>` for every workflow in the library whose
//! trigger is `webhook`, looked up per request, so a workflow imported while the service runs
//! is live at once. Being on loopback keeps out other machines, not the user's browser, so
//! every request must (see [`crate::localserver`]):
//! - carry the workflow's own secret (made when first needed, kept in the OS keyring), as
//!   `Authorization: Bearer …` or as an HMAC of the body (`X-Capsmith-Signature: sha256=…`);
//! - be a `POST` whose `Host` is the listener's own address (no DNS rebinding) with no
//!   `Origin` (no web page), and a JSON body within the cap.
//!
//! Every refusal is a JSON error and an audit-log row (`denied`), and the workflow does not
//! run. Credential-like headers are dropped before the run is recorded.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use ts_rs::TS;

use super::run::Origin;
use super::Capsmith;
use crate::manifest::model::Kind;
use crate::{CoreError, CoreResult};

/// Largest webhook body accepted.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Where webhook secrets are kept in the OS keyring: one per workflow.
pub(crate) const WEBHOOK_SECRETS: &str = "@webhooks";

/// What the trigger service is asked to serve.
#[derive(Debug, Clone, Default)]
pub struct TriggerOptions {
    /// Only these workflows (all webhook and scheduled workflows when empty).
    pub only: Vec<String>,
    /// Arm `schedule` triggers too.
    pub schedules: bool,
}

#[derive(Clone)]
struct Hooks {
    app: Capsmith,
    only: Arc<Vec<String>>,
    listen: SocketAddr,
    /// Secrets read from the keyring once per workflow, not once per request.
    secrets: Arc<tokio::sync::Mutex<std::collections::HashMap<String, String>>>,
}

fn problem(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"kind": kind, "message": message}).to_string(),
    )
        .into_response()
}

impl Hooks {
    /// Refuses a request: a JSON error for the caller and a `denied` row in the audit log.
    async fn refuse(&self, id: &str, status: StatusCode, kind: &str, message: String) -> Response {
        let row = super::recorder::ExecRow {
            capability_id: id.chars().take(200).collect(),
            version: String::new(),
            action: "webhook".into(),
            status: "denied".into(),
            error_kind: Some(kind.into()),
            error_message: Some(message.clone()),
            security_violation: true,
            input: "null".into(),
            output: None,
            duration_ms: 0.0,
            origin: Origin::Trigger.as_str().into(),
            network_calls: 0,
            bytes_in: 0,
            bytes_out: 0,
            trace: "[]".into(),
            prompt_tokens: 0,
            completion_tokens: 0,
        };
        let _ = self.app.insert_execution(&row).await;
        let mut r = problem(status, kind, message);
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer realm=\"capsmith-webhook\""),
            );
        }
        r
    }

    async fn secret(&self, id: &str) -> CoreResult<String> {
        let mut cache = self.secrets.lock().await;
        if let Some(s) = cache.get(id) {
            return Ok(s.clone());
        }
        let s = self.app.webhook_secret(id).await?;
        cache.insert(id.to_string(), s.expose().clone());
        Ok(s.expose().clone())
    }
}

async fn hook(
    State(h): State<Hooks>,
    Path(id): Path<String>,
    method: Method,
    Query(query): Query<Map<String, Value>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if method != Method::POST {
        return h
            .refuse(
                &id,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("webhooks take POST only, not {method}"),
            )
            .await;
    }
    if !crate::localserver::host_allowed(header("host"), h.listen) {
        return h
            .refuse(
                &id,
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_host",
                format!(
                    "the Host header must be this listener's address ({}), not `{}`",
                    h.listen,
                    header("host").unwrap_or("")
                ),
            )
            .await;
    }
    if headers.contains_key("origin") {
        return h
            .refuse(
                &id,
                StatusCode::FORBIDDEN,
                "forbidden",
                "requests from web pages (with an Origin header) are refused".into(),
            )
            .await;
    }
    let known = if !h.only.is_empty() && !h.only.contains(&id) {
        None
    } else {
        h.app.stored_cached(&id).await.ok().filter(|stored| {
            stored
                .document
                .capability
                .workflow
                .as_ref()
                .is_some_and(|w| w.trigger == "webhook")
                && stored.document.capability.inferred_kind() == Some(Kind::Workflow)
        })
    };
    let Some(stored) = known else {
        return h
            .refuse(
                &id,
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no webhook `{id}` here"),
            )
            .await;
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return h
                .refuse(
                    &id,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body was refused ({e}); at most {MAX_BODY} bytes"),
                )
                .await
        }
    };
    let json_type = header("content-type").is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.starts_with("application/json") || t.contains("+json")
    });
    if !json_type {
        return h
            .refuse(
                &id,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "a webhook body must be JSON (Content-Type: application/json)".into(),
            )
            .await;
    }
    let secret = match h.secret(&id).await {
        Ok(s) => s,
        Err(e) => {
            return h
                .refuse(
                    &id,
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.kind(),
                    format!("the webhook's secret is not available: {e}"),
                )
                .await
        }
    };
    let authorized = crate::localserver::bearer_matches(header("authorization"), &secret)
        || crate::localserver::signature_matches(header("x-capsmith-signature"), &secret, &body);
    if !authorized {
        return h
            .refuse(
                &id,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this webhook needs its secret: `Authorization: Bearer <secret>` or `X-Capsmith-Signature: sha256=<HMAC-SHA256 of the body>` (Settings → Triggers shows it)".into(),
            )
            .await;
    }
    let body = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v,
            Err(e) => {
                return h
                    .refuse(
                        &id,
                        StatusCode::BAD_REQUEST,
                        "invalid_input",
                        format!("the body is not JSON: {e}"),
                    )
                    .await
            }
        }
    };
    let mut kept = Map::new();
    for (k, v) in &headers {
        let k = k.as_str();
        if crate::localserver::credential_like(k) {
            continue;
        }
        if let Ok(v) = v.to_str() {
            kept.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    let event = body.get("event").cloned().unwrap_or(Value::Null);
    let payload = json!({
        "body": body,
        "headers": kept,
        "query": query,
        "method": method.as_str(),
        "event": event,
    });
    match h
        .app
        .workflow_run_stored(&stored, None, &payload, Origin::Trigger)
        .await
    {
        Ok(run) if run.status == "ok" => (
            StatusCode::OK,
            [("content-type", "application/json")],
            run.output.unwrap_or(Value::Null).to_string(),
        )
            .into_response(),
        Ok(run) if run.status == "filtered" => StatusCode::NO_CONTENT.into_response(),
        Ok(run) => problem(
            StatusCode::BAD_GATEWAY,
            "workflow_failed",
            format!(
                "run {} failed: {}",
                run.id,
                run.error.unwrap_or_else(|| "unknown error".into())
            ),
        ),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.kind(), e.to_string()),
    }
}

/// A running trigger service (webhook listener and scheduler), stopped with `stop`.
#[derive(Debug)]
pub struct TriggerHandle {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<CoreResult<()>>,
}

impl TriggerHandle {
    /// Stops listening (runs in progress finish first) and waits until it has.
    pub async fn stop(self) -> CoreResult<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| CoreError::InvalidArgument(format!("the trigger service failed: {e}")))?
    }
}

/// What the trigger service serves: its address when running, the webhook URLs, and the
/// scheduled workflows with their next time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TriggerStatus {
    pub listening: Option<String>,
    pub webhooks: Vec<TriggerEntry>,
    pub schedules: Vec<TriggerEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TriggerEntry {
    pub workflow: String,
    /// The webhook's URL (when listening), or the cron expression.
    pub detail: String,
    /// When a schedule fires next (RFC 3339, UTC), or why it cannot.
    pub next: Option<String>,
    /// A webhook's secret, which every request must carry (shown so the user can copy it into
    /// the sending service); `None` for schedules, or when the keyring cannot be reached.
    pub secret: Option<String>,
}

/// The next time a cron expression fires after now.
pub fn next_fire(cron: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let c = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(cron)
        .map_err(|e| e.to_string())?;
    c.find_next_occurrence(&chrono::Utc::now(), false)
        .map_err(|e| e.to_string())
}

impl Capsmith {
    /// Starts webhooks on `addr` (loopback only) and the scheduler, in the background.
    pub async fn start_triggers(
        &self,
        addr: SocketAddr,
        options: TriggerOptions,
    ) -> CoreResult<TriggerHandle> {
        if !addr.ip().is_loopback() {
            return Err(CoreError::InvalidArgument(format!(
                "webhooks listen on loopback only (127.0.0.1 or ::1), not {addr}"
            )));
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CoreError::InvalidArgument(format!("cannot listen on {addr}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CoreError::InvalidArgument(e.to_string()))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = self.clone();
        let task = tokio::spawn(async move {
            app.serve_triggers(listener, options, async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(TriggerHandle { addr, stop, task })
    }

    /// The secret a webhook workflow's callers must send, made on first use and kept in the
    /// OS keyring (never in the registry).
    pub async fn webhook_secret(
        &self,
        workflow: &str,
    ) -> CoreResult<crate::secrets::Sensitive<String>> {
        if let Some(s) = self.secrets().retrieve(WEBHOOK_SECRETS, workflow).await? {
            return Ok(s);
        }
        let fresh = crate::secrets::Sensitive::new(
            crate::localserver::new_secret().map_err(CoreError::InvalidArgument)?,
        );
        self.secrets()
            .persist(WEBHOOK_SECRETS, workflow, fresh.clone())
            .await?;
        Ok(fresh)
    }

    /// The webhook and scheduled workflows in the library, and where they are served.
    pub async fn trigger_status(&self, listening: Option<SocketAddr>) -> CoreResult<TriggerStatus> {
        let mut webhooks = Vec::new();
        for (id, _) in self.triggered_workflows("webhook").await? {
            let secret = self.webhook_secret(&id).await.ok();
            webhooks.push(TriggerEntry {
                detail: listening
                    .map(|a| format!("http://{a}/hooks/{id}"))
                    .unwrap_or_default(),
                workflow: id,
                next: None,
                secret: secret.map(|s| s.expose().clone()),
            });
        }
        let schedules = self
            .triggered_workflows("schedule")
            .await?
            .into_iter()
            .map(|(id, cron)| {
                let cron = cron.unwrap_or_default();
                TriggerEntry {
                    secret: None,
                    workflow: id,
                    next: Some(match next_fire(&cron) {
                        Ok(t) => t.to_rfc3339(),
                        Err(e) => format!("never: {e}"),
                    }),
                    detail: cron,
                }
            })
            .collect();
        Ok(TriggerStatus {
            listening: listening.map(|a| a.to_string()),
            webhooks,
            schedules,
        })
    }

    /// The workflows in the library started by `trigger` (`webhook`, `schedule`), with their
    /// cron expressions.
    pub async fn triggered_workflows(
        &self,
        trigger: &str,
    ) -> CoreResult<Vec<(String, Option<String>)>> {
        let mut out = Vec::new();
        for s in self.list(None).await? {
            if s.kind != Kind::Workflow {
                continue;
            }
            let Ok(stored) = self.registry().get(&s.id, None).await else {
                continue;
            };
            if let Some(w) = &stored.document.capability.workflow {
                if w.trigger == trigger {
                    out.push((s.id.clone(), w.schedule.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Serves webhooks on `listener` (and runs scheduled workflows when asked) until
    /// `shutdown` resolves.
    pub async fn serve_triggers(
        &self,
        listener: tokio::net::TcpListener,
        options: TriggerOptions,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> CoreResult<()> {
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|e| CoreError::InvalidArgument(e.to_string()))?;
        if !addr.ip().is_loopback() {
            return Err(CoreError::InvalidArgument(format!(
                "webhooks listen on loopback only, not {addr}"
            )));
        }
        let hooks = Hooks {
            app: self.clone(),
            only: Arc::new(options.only.clone()),
            listen: addr,
            secrets: Default::default(),
        };
        // Every method reaches `hook`, which refuses all but POST with an audited error.
        let router = axum::Router::new()
            .route("/hooks/{id}", axum::routing::any(hook))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
            .with_state(hooks);
        let scheduler = options.schedules.then(|| {
            let app = self.clone();
            let only = options.only.clone();
            tokio::spawn(async move { app.run_schedules(only).await })
        });
        let r = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| CoreError::InvalidArgument(format!("the webhook listener failed: {e}")));
        if let Some(s) = scheduler {
            s.abort();
        }
        r
    }

    /// Runs scheduled workflows at their times, forever. The list is read again every 30
    /// seconds, so a workflow imported or removed meanwhile is armed or dropped.
    async fn run_schedules(&self, only: Vec<String>) {
        let mut next: std::collections::HashMap<String, chrono::DateTime<chrono::Utc>> =
            Default::default();
        let mut refreshed = tokio::time::Instant::now() - Duration::from_secs(60);
        let mut armed: Vec<(String, String)> = Vec::new();
        loop {
            if refreshed.elapsed() >= Duration::from_secs(30) {
                armed = self
                    .triggered_workflows("schedule")
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(id, _)| only.is_empty() || only.contains(id))
                    .filter_map(|(id, c)| c.map(|c| (id, c)))
                    .collect();
                next.retain(|id, _| armed.iter().any(|(a, _)| a == id));
                refreshed = tokio::time::Instant::now();
            }
            let now = chrono::Utc::now();
            for (id, cron) in &armed {
                let at = match next.get(id) {
                    Some(t) => *t,
                    None => match next_fire(cron) {
                        Ok(t) => {
                            next.insert(id.clone(), t);
                            t
                        }
                        Err(_) => continue,
                    },
                };
                if at <= now {
                    let payload = json!({ "scheduled_at": at.to_rfc3339() });
                    let app = self.clone();
                    let id2 = id.clone();
                    tokio::spawn(async move {
                        let _ = app
                            .workflow_run(&id2, None, None, &payload, Origin::Trigger)
                            .await;
                    });
                    if let Ok(t) = next_fire(cron) {
                        next.insert(id.clone(), t);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
