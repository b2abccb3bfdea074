//! Running workflow steps: the steps a flow compiles to (`http.request`, `transform.map`,
//! `transform.js`, `logic.if`, `script.run`, `flow.merge`) and calls of installed
//! capabilities' actions, one after another in the order given, each on the engine it names:
//! the HTTP engine under the network guard, the sandbox for JavaScript, the registry for other
//! capabilities. A step whose input comes from a skipped step is skipped; `when` conditions run
//! in the sandbox. Every step leaves a trace (input, output, error, duration), redacted.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::dto::{NodeStatus, NodeTrace};
use super::run::Origin;
use super::Capsmith;
use crate::engine::http::Session;
use crate::engine::render::{walk, Scope};
use crate::engine::{self, mapping, EngineError, RunContext};
use crate::manifest::model::{Field, HttpMethod, Integration, IntegrationType, Step, Workflow};
use crate::manifest::template::{self, Style};
use crate::sandbox::protocol::ConsoleLine;

tokio::task_local! {
    /// How deep capabilities calling capabilities have gone in this task.
    static CALL_DEPTH: usize;
    /// Where the workflow run of this task records its steps, when it is recorded.
    pub(crate) static JOURNAL: Option<std::sync::Arc<Journal>>;
}

/// A recorded workflow run: the row its steps go to, and the steps an earlier attempt already
/// completed (restored, not run again).
pub(crate) struct Journal {
    pub run_id: i64,
    pub done: HashMap<String, (NodeStatus, Option<Value>)>,
    /// Set when the workflow's filter turned the trigger away.
    pub filtered: std::sync::atomic::AtomicBool,
    /// Records of steps without side effects, written together with the next record that
    /// must be on disk before its step starts (or at the end of the run).
    pub pending: std::sync::Mutex<Vec<(usize, NodeTrace)>>,
    /// Nothing is written as the run goes: the whole record is group-committed when it ends
    /// (a trigger run whose steps have no side effects; see `recorder`).
    pub deferred: bool,
    /// Every step's last record, by step id, for the run's view.
    pub steps: std::sync::Mutex<HashMap<String, (usize, super::workflows::WorkflowStepView)>>,
}

/// Whether a step changes something outside the run (a request, a message, a row, a paid
/// call). Such a step is marked `running` on disk before it starts, so a crash during it is
/// seen and a resume knows not to trust it; a step without side effects may simply run again.
pub(crate) fn has_side_effects(action: &str) -> bool {
    !matches!(
        action,
        "transform.map"
            | "transform.js"
            | "logic.if"
            | "flow.merge"
            | "validate.schema"
            | "log.write"
            | "file.read"
            | "ocr.extract"
            | "pdf.extract"
            | "knowledge.search"
            | "database.query"
    )
}

impl Capsmith {
    /// Writes a step's record, with any pending ones, in one statement; a pure step's record
    /// waits (see `Journal::pending`) unless `now`.
    async fn record_step(&self, j: &Journal, position: usize, t: &NodeTrace, now: bool) {
        if let Ok(mut all) = j.steps.lock() {
            all.insert(
                t.node.clone(),
                (
                    position,
                    super::workflows::WorkflowStepView {
                        step: t.node.clone(),
                        status: match t.status {
                            NodeStatus::Ok => "ok",
                            NodeStatus::Error => "error",
                            NodeStatus::Skipped => "skipped",
                        }
                        .to_string(),
                        output: t.output.clone(),
                        error: t.error.clone(),
                        duration_ms: t.duration_ms,
                    },
                ),
            );
        }
        let batch: Vec<(usize, NodeTrace)> = {
            let Ok(mut p) = j.pending.lock() else { return };
            p.push((position, t.clone()));
            if !now || j.deferred {
                return;
            }
            std::mem::take(&mut *p)
        };
        self.write_steps(j.run_id, &batch).await;
    }

    /// Writes the records still pending (at the end of a run).
    pub(crate) async fn flush_steps(&self, j: &Journal) {
        if j.deferred {
            return;
        }
        let batch = match j.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return,
        };
        self.write_steps(j.run_id, &batch).await;
    }

    async fn write_steps(&self, run_id: i64, batch: &[(usize, NodeTrace)]) {
        if batch.is_empty() {
            return;
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; batch.len()].join(", ");
        let sql = format!(
            "INSERT INTO workflow_steps (run_id, step_id, position, status, input, output, error, duration_ms)
             VALUES {rows}
             ON CONFLICT(run_id, step_id) DO UPDATE SET status = excluded.status, input = excluded.input,
             output = excluded.output, error = excluded.error, duration_ms = excluded.duration_ms"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (position, t) in batch {
            let status = match t.status {
                NodeStatus::Ok => "ok",
                NodeStatus::Error => "error",
                NodeStatus::Skipped => "skipped",
            };
            q = q
                .bind(run_id)
                .bind(t.node.clone())
                .bind(*position as i64)
                .bind(status)
                .bind(t.input.as_ref().map(|v| v.to_string()))
                .bind(t.output.as_ref().map(|v| v.to_string()))
                .bind(t.error.clone())
                .bind(t.duration_ms);
        }
        // A journal that cannot be written must not fail the run itself.
        let _ = q.execute(self.registry().pool()).await;
    }

    async fn record_running(&self, j: &Journal, position: usize, step: &str) {
        // Whatever is pending goes first, so the record stays in step order.
        self.flush_steps(j).await;
        let run_id = j.run_id;
        let _ = sqlx::query(
            "INSERT INTO workflow_steps (run_id, step_id, position, status) VALUES (?, ?, ?, 'running')
             ON CONFLICT(run_id, step_id) DO UPDATE SET status = 'running'",
        )
        .bind(run_id)
        .bind(step)
        .bind(position as i64)
        .execute(self.registry().pool())
        .await;
    }
}
const MAX_CALL_DEPTH: usize = 8;
/// Attempts per step at most, and the longest wait between two.
const MAX_ATTEMPTS: u32 = 10;
const MAX_BACKOFF_MS: u64 = 30_000;

/// What running a workflow's steps gives.
pub struct StepsOutcome {
    pub output: Result<Value, EngineError>,
    pub nodes: Vec<NodeTrace>,
    pub calls: Vec<crate::engine::http::CallTrace>,
    pub console: Vec<ConsoleLine>,
    /// Tokens the run's AI steps used.
    pub usage: crate::engine::Usage,
}

/// A template's value could not be computed because a step it names was skipped.
struct Skipped;

enum Failure {
    Skip,
    Error(EngineError),
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::Error(e)
    }
}

impl From<Skipped> for Failure {
    fn from(_: Skipped) -> Self {
        Failure::Skip
    }
}

/// The state of one run.
struct Run<'r, 'c> {
    app: &'r Capsmith,
    ctx: &'r RunContext<'c>,
    session: Session,
    /// The action's input, as `${input.x}` sees it.
    input: Map<String, Value>,
    /// Results by step id and output name.
    /// Shared with the steps running side by side (copied only when the run adds a result).
    named: std::sync::Arc<Map<String, Value>>,
    skipped: HashSet<String>,
    console: Vec<ConsoleLine>,
    usage: crate::engine::Usage,
}

const JS_RESERVED: &[&str] = &[
    "input",
    "config",
    "implements",
    "interface",
    "package",
    "private",
    "protected",
    "public",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "let",
    "static",
    "await",
    "enum",
    "arguments",
    "eval",
];

fn is_js_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !JS_RESERVED.contains(&s)
        && !s.starts_with("__capsmith")
}

impl Run<'_, '_> {
    /// The value `expr` names: the action's input, configuration, or an earlier step's result.
    fn lookup(&self, expr: &str) -> Result<Value, Failure> {
        let root_end = expr.find(['.', '[']).unwrap_or(expr.len());
        let (root, rest) = expr.split_at(root_end);
        let root = root.trim();
        if root == "input" {
            let whole = Value::Object(self.input.clone());
            return Ok(walk(&whole, rest).cloned().unwrap_or(Value::Null));
        }
        if self.skipped.contains(root) {
            return Err(Skipped.into());
        }
        if let Some(v) = self.named.get(root) {
            return Ok(walk(v, rest).cloned().unwrap_or(Value::Null));
        }
        if let Some(v) = self.ctx.config.get(root) {
            return Ok(walk(v, rest).cloned().unwrap_or(Value::Null));
        }
        if self.ctx.secrets.contains_key(root) {
            return Err(EngineError::SecretOutsideHttp {
                key: root.to_string(),
            }
            .into());
        }
        if root == "config" {
            let all: Map<String, Value> = self
                .ctx
                .config
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            return Ok(walk(&Value::Object(all), rest)
                .cloned()
                .unwrap_or(Value::Null));
        }
        Ok(Value::Null)
    }

    /// A value with its templates filled in: a string that is one whole `${…}` becomes the
    /// value itself, other strings are interpolated.
    fn resolve(&self, v: &Value) -> Result<Value, Failure> {
        Ok(match v {
            Value::String(s) if s.contains("${") => {
                let refs = template::refs(s).map_err(|at| EngineError::BadRequest {
                    message: format!("template at character {at} is never closed"),
                })?;
                let dollar: Vec<_> = refs.iter().filter(|r| r.style == Style::Dollar).collect();
                if dollar.len() == 1
                    && dollar[0].offset == 0
                    && s.trim_end().ends_with('}')
                    && s.find('}') == Some(s.len() - 1)
                {
                    return self.lookup(&dollar[0].expr);
                }
                let mut out = String::new();
                let mut last = 0;
                for r in dollar {
                    let end = s[r.offset..]
                        .find('}')
                        .map_or(s.len(), |e| r.offset + e + 1);
                    out.push_str(&s[last..r.offset]);
                    match self.lookup(&r.expr)? {
                        Value::String(x) => out.push_str(&x),
                        Value::Null => {}
                        other => out.push_str(&other.to_string()),
                    }
                    last = end;
                }
                out.push_str(&s[last..]);
                Value::String(out)
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.resolve(x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(k.clone(), self.resolve(x)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Runs JavaScript (`body` of a function) in the sandbox with `input` and the earlier
    /// steps' results as variables; no host APIs unless `host_apis`, and never a secret: the
    /// code's `config` holds no secret placeholders and its `fetch` fills none in.
    async fn js(
        &mut self,
        body: &str,
        input: Value,
        host_apis: bool,
    ) -> Result<Value, EngineError> {
        let names: Vec<&String> = self.named.keys().filter(|k| is_js_name(k)).collect();
        // The results are parameters of an outer function and the code is the body of an inner
        // one, so the code may declare a name a step also has (it shadows it).
        let params = names
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let args = names
            .iter()
            .map(|n| format!("__capsmith_step.named[{}]", Value::String(n.to_string())))
            .collect::<Vec<_>>()
            .join(", ");
        let source = format!(
            "export default {{ actions: {{ async run(__capsmith_step) {{\nreturn await (function ({params}) {{\nreturn (async function (input, config) {{\n{body}\n}}).call(this, __capsmith_step.input, this.config);\n}}).call(this{comma}{args});\n}} }} }};\n",
            comma = if args.is_empty() { "" } else { ", " },
        );
        let mut named = Map::new();
        for k in names {
            named.insert(k.clone(), self.named[k].clone());
        }
        let payload = serde_json::json!({ "input": input, "named": named });
        let ctx = RunContext {
            document: self.ctx.document,
            permissions: self.ctx.permissions,
            allowed_domains: self.ctx.allowed_domains,
            config: self.ctx.config.clone(),
            secrets: HashMap::new(),
            policy: self.ctx.policy.clone(),
        };
        let r = self
            .app
            .run_module(&ctx, source, "run", payload, &[], host_apis)
            .await;
        self.console.extend(r.console);
        self.session.trace.extend(r.trace);
        r.output
    }

    async fn condition(&mut self, expr: &str, input: Value) -> Result<bool, EngineError> {
        let v = self
            .js(&format!("return !!(\n{expr}\n);"), input, false)
            .await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    async fn step(&mut self, s: &Step, input: Value) -> Result<Value, Failure> {
        let param = |k: &str| {
            s.params
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        match s.action.as_str() {
            "http.request" => {
                let int = Integration {
                    ty: IntegrationType::Api,
                    endpoint: param("url"),
                    method: s
                        .params
                        .get("method")
                        .and_then(|m| serde_json::from_value::<HttpMethod>(m.clone()).ok()),
                    headers: obj(s.params.get("headers")),
                    params: obj(s.params.get("query")),
                    body: s.params.get("body").cloned(),
                    response_mapping: Map::new(),
                    timeout_ms: s.params.get("timeout_ms").and_then(Value::as_u64),
                };
                // Skipped upstream steps skip this one too.
                if crate::flow::compile::referenced_roots(s)
                    .iter()
                    .any(|r| self.skipped.contains(r))
                {
                    return Err(Failure::Skip);
                }
                let scope = Scope {
                    capability: &self.ctx.document.capability.id,
                    input: &self.input,
                    config: &self.ctx.config,
                    secrets: &self.ctx.secrets,
                    named: Some(&self.named),
                };
                let request = engine::prepare_integration(&scope, &int)?;
                Ok(engine::send_for_value(&mut self.session, request).await?)
            }
            "transform.map" => {
                let mapping = obj(s.params.get("mapping"));
                let mut out = Map::new();
                for (name, v) in &mapping {
                    let text = v.as_str().unwrap_or_default();
                    let value = if text.contains("${") {
                        self.resolve(v)?
                    } else {
                        mapping::select(&input, name, text)?
                    };
                    out.insert(name.clone(), value);
                }
                Ok(Value::Object(out))
            }
            "transform.js" => Ok(self
                .js(
                    &format!("return (\n{}\n);", param("expression")),
                    input,
                    false,
                )
                .await?),
            "logic.if" => {
                let pass = self.condition(&param("condition"), input.clone()).await?;
                Ok(serde_json::json!({ "pass": pass, "value": input }))
            }
            "script.run" => Ok(self.js(&param("code"), input, true).await?),
            "flow.merge" => Ok(merge(input)),
            other if crate::manifest::permissions::STANDARD_ACTIONS.contains(&other) => {
                let mut params = Map::new();
                for (k, v) in &s.params {
                    params.insert(k.clone(), self.resolve(v)?);
                }
                let call = super::standard::StdCall {
                    ctx: self.ctx,
                    session: &mut self.session,
                    console: &mut self.console,
                    usage: &mut self.usage,
                };
                Ok(self
                    .app
                    .standard_action(call, other, &params, input)
                    .await?)
            }
            other => {
                let (cap, action) = other.split_once('.').unwrap_or((other, ""));
                let doc = &self.ctx.document.capability;
                // Only what the capability declares it depends on, never a standard action's
                // name taken by an installed capability, never itself.
                let declared = doc.dependencies.iter().any(|d| d.id == cap);
                let standard = crate::manifest::permissions::STANDARD_ACTIONS.contains(&other)
                    || crate::manifest::permissions::for_standard_action(other).is_some();
                if standard || !declared || cap == doc.id {
                    return Err(EngineError::UnavailableAction {
                        action: other.to_string(),
                    }
                    .into());
                }
                let depth = CALL_DEPTH.try_with(|d| *d).unwrap_or(0);
                if depth >= MAX_CALL_DEPTH {
                    return Err(EngineError::BadRequest {
                        message: format!(
                            "capabilities calling capabilities went {MAX_CALL_DEPTH} deep; refused"
                        ),
                    }
                    .into());
                }
                let version = self
                    .ctx
                    .document
                    .capability
                    .dependencies
                    .iter()
                    .find(|d| d.id == cap)
                    .and_then(|d| d.version.strip_prefix('=').map(str::to_string));
                if self.app.registry().summary(cap).await.is_err() {
                    return Err(EngineError::UnavailableAction {
                        action: other.to_string(),
                    }
                    .into());
                }
                let call =
                    self.app
                        .run_action(cap, version.as_deref(), action, &input, Origin::App);
                // A called capability's own workflow is not part of this run's record.
                let report = CALL_DEPTH
                    .scope(
                        depth + 1,
                        JOURNAL.scope(
                            None,
                            super::run::DEFER_EXECUTION.scope(None, Box::pin(call)),
                        ),
                    )
                    .await
                    .map_err(|e| EngineError::BadRequest {
                        message: e.to_string(),
                    })?;
                self.session.trace.extend(report.calls);
                self.console.extend(report.console);
                match (report.ok, report.output, report.error) {
                    (true, out, _) => Ok(out.unwrap_or(Value::Null)),
                    (false, _, e) => Err(EngineError::BadRequest {
                        message: format!(
                            "`{other}` failed: {}",
                            e.map(|e| e.message).unwrap_or_default()
                        ),
                    }
                    .into()),
                }
            }
        }
    }
}

fn obj(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// A Merge node's value: objects merged (later keys win), otherwise the list.
fn merge(input: Value) -> Value {
    let items: Vec<Value> = match input {
        Value::Array(a) => a.into_iter().filter(|v| !v.is_null()).collect(),
        other => vec![other],
    };
    if !items.is_empty() && items.iter().all(Value::is_object) {
        let mut out = Map::new();
        for i in items {
            if let Value::Object(m) = i {
                out.extend(m);
            }
        }
        Value::Object(out)
    } else {
        Value::Array(items)
    }
}

/// Whether a step must wait for every step before it: it changes something outside the run
/// (a write request, a message, a row) or may (scripts, other capabilities). Effects happen in
/// the order written, and never after an earlier step failed; everything else runs as soon
/// as the steps it reads from are done.
fn is_barrier(s: &Step) -> bool {
    match s.action.as_str() {
        "http.request" => !matches!(
            s.params.get("method").and_then(Value::as_str),
            None | Some("GET" | "HEAD")
        ),
        "email.send" | "database.insert" | "database.update" | "database.delete" | "script.run"
        | "file.write" => true,
        other => {
            has_side_effects(other)
                && !matches!(
                    other,
                    "ai.analyze" | "ai.call" | "ai.chat" | "ai.embed" | "http.get"
                )
        }
    }
}

/// How one step ended, for the run to take in.
enum Ended {
    Ok(Value),
    Skipped,
    Failed(EngineError),
}

impl Run<'_, '_> {
    /// Runs one step (its input, its `when`, its attempts) and reports how it ended; the run's
    /// shared state is not touched.
    async fn execute(&mut self, s: &Step, retries: u32, backoff: u64) -> (NodeTrace, Ended) {
        let started = Instant::now();
        let resolved = match &s.input {
            Some(v) => self.resolve(v),
            None => Ok(Value::Null),
        };
        let mut trace = NodeTrace {
            node: s.id.clone(),
            status: NodeStatus::Skipped,
            input: None,
            output: None,
            error: None,
            duration_ms: 0.0,
        };
        let input = match resolved {
            // A merge goes ahead with whatever its branches produced, if any did.
            Err(Failure::Skip) if s.action == "flow.merge" => {
                let parts = s
                    .input
                    .as_ref()
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let ran: Vec<Value> = parts.iter().filter_map(|p| self.resolve(p).ok()).collect();
                if ran.is_empty() {
                    Err(Failure::Skip)
                } else {
                    Ok(Value::Array(ran))
                }
            }
            // A step after a skipped one is skipped.
            _ if s.after.iter().any(|a| self.skipped.contains(a)) => Err(Failure::Skip),
            other => other,
        };
        let outcome = match input {
            Err(f) => Err(f),
            Ok(input) => {
                trace.input = Some(input.clone());
                let go = match &s.when {
                    Some(w) => self
                        .condition(w, input.clone())
                        .await
                        .map_err(Failure::Error),
                    None => Ok(true),
                };
                match go {
                    Ok(false) => Err(Failure::Skip),
                    Err(e) => Err(e),
                    Ok(true) => {
                        let attempts = s
                            .retry
                            .unwrap_or(retries)
                            .saturating_add(1)
                            .min(MAX_ATTEMPTS);
                        let mut result = Err(Failure::Skip);
                        for attempt in 0..attempts {
                            if attempt > 0 {
                                let wait = backoff
                                    .saturating_mul(1 << (attempt - 1).min(6))
                                    .min(MAX_BACKOFF_MS);
                                tokio::time::sleep(Duration::from_millis(wait)).await;
                            }
                            result = self.step(s, input.clone()).await;
                            match &result {
                                Err(Failure::Error(e)) if e.is_transient() => {}
                                _ => break,
                            }
                        }
                        result
                    }
                }
            }
        };
        trace.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let ended = match outcome {
            Ok(mut v) => {
                engine::redact_value(&mut v, &self.session);
                trace.status = NodeStatus::Ok;
                trace.output = Some(v.clone());
                Ended::Ok(v)
            }
            Err(Failure::Skip) => Ended::Skipped,
            Err(Failure::Error(e)) => {
                let e = engine::redact_error(e, &self.session);
                trace.status = NodeStatus::Error;
                trace.error = Some(e.to_string());
                Ended::Failed(e)
            }
        };
        (trace, ended)
    }

    /// Takes in how a step ended: its result becomes a name later steps read.
    fn settle(&mut self, s: &Step, ended: &Ended) {
        match ended {
            Ended::Ok(v) => {
                if let Some(o) = &s.output {
                    std::sync::Arc::make_mut(&mut self.named).insert(o.clone(), v.clone());
                }
                std::sync::Arc::make_mut(&mut self.named).insert(s.id.clone(), v.clone());
            }
            Ended::Skipped => {
                self.skipped.insert(s.id.clone());
                if let Some(o) = &s.output {
                    self.skipped.insert(o.clone());
                }
            }
            Ended::Failed(_) => {}
        }
    }
}

/// The identifier-like words of JavaScript text.
fn js_identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
}

/// For each step, the earlier steps it must wait for: those whose results it reads (by id or
/// output name), those it names in `after`, and for a barrier step every step before it.
fn dependencies(wf: &Workflow) -> Vec<Vec<usize>> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut deps = Vec::with_capacity(wf.steps.len());
    for (i, s) in wf.steps.iter().enumerate() {
        let mut d: Vec<usize> = if is_barrier(s) {
            (0..i).collect()
        } else {
            let mut d: Vec<usize> = crate::flow::compile::referenced_roots(s)
                .iter()
                .filter_map(|r| by_name.get(r.as_str()).copied())
                .chain(
                    s.after
                        .iter()
                        .filter_map(|a| by_name.get(a.as_str()).copied()),
                )
                .collect();
            // JavaScript (a `when`, an expression, a script) sees earlier results as variables:
            // any identifier in it that names one is a dependency (a name inside a string only
            // adds an ordering, never removes one).
            let js = s.when.iter().map(String::as_str).chain(
                s.params
                    .iter()
                    .filter(|(k, _)| {
                        crate::manifest::permissions::is_javascript_param(&s.action, k)
                    })
                    .filter_map(|(_, v)| v.as_str()),
            );
            for text in js {
                d.extend(js_identifiers(text).filter_map(|w| by_name.get(w).copied()));
            }
            // And the last barrier before it: a read after a write (a query after an insert)
            // sees the write, as written.
            if let Some(b) = (0..i).rev().find(|&j| is_barrier(&wf.steps[j])) {
                d.push(b);
            }
            d
        };
        d.sort_unstable();
        d.dedup();
        deps.push(d);
        by_name.entry(s.id.as_str()).or_insert(i);
        if let Some(o) = &s.output {
            by_name.entry(o.as_str()).or_insert(i);
        }
    }
    deps
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Waiting,
    Running,
    Done,
}

impl Capsmith {
    /// Runs a workflow's steps with `input` as the action's input (or the trigger payload).
    /// `outputs` are the action's declared outputs, checked against the result. Steps whose
    /// inputs are ready run side by side (see `dependencies`); each step works on a snapshot of
    /// the results it may read, and the run takes its result in when it ends.
    pub(crate) async fn run_steps(
        &self,
        ctx: &RunContext<'_>,
        wf: &Workflow,
        input: Map<String, Value>,
        outputs: &[Field],
    ) -> StepsOutcome {
        use futures_util::stream::{FuturesUnordered, StreamExt};
        let policy = engine::policy_for(&ctx.policy, ctx.permissions, ctx.allowed_domains);
        let secret_values: Vec<String> = ctx.secrets.values().map(|s| s.expose().clone()).collect();
        let budget = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let session = || {
            Session::new(policy.clone(), secret_values.clone()).with_shared_calls(budget.clone())
        };
        let mut run = Run {
            app: self,
            ctx,
            session: session(),
            named: Default::default(),
            skipped: HashSet::new(),
            console: Vec::new(),
            usage: Default::default(),
            input,
        };
        let named = std::sync::Arc::make_mut(&mut run.named);
        named.insert("trigger".into(), Value::Object(run.input.clone()));
        // The trigger payload's fields are names too (`${file.name}`, `body` in a filter).
        for (k, v) in run.input.clone() {
            if is_js_name(&k) && !named.contains_key(&k) {
                named.insert(k, v);
            }
        }
        let mut nodes: Vec<(usize, NodeTrace)> = Vec::with_capacity(wf.steps.len());
        let mut failure: Option<EngineError> = None;

        if let Some(filter) = &wf.filter {
            let payload = Value::Object(run.input.clone());
            match run.condition(filter, payload).await {
                Ok(true) => {}
                Ok(false) => {
                    if let Ok(Some(j)) = JOURNAL.try_with(|j| j.clone()) {
                        j.filtered.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    return finish(run, Vec::new(), Ok(Value::Null));
                }
                Err(e) => failure = Some(e),
            }
        }
        let retries = wf
            .error_handling
            .as_ref()
            .and_then(|e| e.retry)
            .unwrap_or(0);
        let backoff = wf
            .error_handling
            .as_ref()
            .and_then(|e| e.backoff_ms)
            .unwrap_or(200);
        let by_id: HashMap<&str, &Step> = wf.steps.iter().map(|s| (s.id.as_str(), s)).collect();
        let journal = JOURNAL.try_with(|j| j.clone()).ok().flatten();
        let handler = wf
            .error_handling
            .as_ref()
            .and_then(|h| h.on_error.as_deref());
        let deps = dependencies(wf);
        let mut state: Vec<State> = wf
            .steps
            .iter()
            .map(|s| {
                // The error handler runs only when a step fails.
                if Some(s.id.as_str()) == handler {
                    State::Done
                } else {
                    State::Waiting
                }
            })
            .collect();
        let mut running = FuturesUnordered::new();
        loop {
            // Start (or restore) every step whose dependencies are done, until none is left.
            let mut progressed = true;
            while progressed && failure.is_none() {
                progressed = false;
                for (position, s) in wf.steps.iter().enumerate() {
                    if state[position] != State::Waiting
                        || !deps[position].iter().all(|&d| state[d] == State::Done)
                    {
                        continue;
                    }
                    progressed = true;
                    if let Some(j) = &journal {
                        // Completed by an earlier attempt: its result is restored, its effect
                        // not repeated.
                        if let Some((status, output)) = j.done.get(&s.id) {
                            let ended = match (status, output) {
                                (NodeStatus::Ok, Some(v)) => Ended::Ok(v.clone()),
                                _ => Ended::Skipped,
                            };
                            run.settle(s, &ended);
                            let t = NodeTrace {
                                node: s.id.clone(),
                                status: *status,
                                input: None,
                                output: output.clone(),
                                error: None,
                                duration_ms: 0.0,
                            };
                            self.record_step(j, position, &t, false).await;
                            nodes.push((position, t));
                            state[position] = State::Done;
                            continue;
                        }
                        if has_side_effects(&s.action) {
                            self.record_running(j, position, &s.id).await;
                        }
                    }
                    state[position] = State::Running;
                    let mut worker = Run {
                        app: self,
                        ctx,
                        session: session(),
                        named: run.named.clone(),
                        skipped: run.skipped.clone(),
                        console: Vec::new(),
                        usage: Default::default(),
                        input: run.input.clone(),
                    };
                    running.push(async move {
                        let (trace, ended) = worker.execute(s, retries, backoff).await;
                        (position, s, trace, ended, worker)
                    });
                }
            }
            let Some((position, s, trace, ended, worker)) = running.next().await else {
                break;
            };
            run.session.trace.extend(worker.session.trace);
            run.console.extend(worker.console);
            run.usage.prompt_tokens += worker.usage.prompt_tokens;
            run.usage.completion_tokens += worker.usage.completion_tokens;
            run.settle(s, &ended);
            if let Ended::Failed(e) = ended {
                // The first failure stops new steps; those already running finish.
                failure.get_or_insert(e);
            }
            if let Some(j) = &journal {
                // A step with side effects is on disk as soon as it is done.
                self.record_step(j, position, &trace, has_side_effects(&s.action))
                    .await;
            }
            nodes.push((position, trace));
            state[position] = State::Done;
        }
        nodes.sort_by_key(|(p, _)| *p);
        let last_ok = nodes
            .iter()
            .rev()
            .find(|(_, t)| t.status == NodeStatus::Ok)
            .map(|(_, t)| t.node.clone());
        let mut nodes: Vec<NodeTrace> = nodes.into_iter().map(|(_, t)| t).collect();
        // `on_error` naming `<capability>.<action>` instead runs that action with the error.
        let synthetic;
        if let (Some(e), Some(handler)) = (&failure, handler) {
            let target = match by_id.get(handler) {
                Some(s) => Some(*s),
                None if handler.contains('.') => {
                    synthetic = Step {
                        id: "on_error".into(),
                        action: handler.to_string(),
                        input: Some(serde_json::json!({"error": e.to_string(), "kind": e.kind()})),
                        output: None,
                        when: None,
                        retry: None,
                        after: Vec::new(),
                        params: Map::new(),
                    };
                    Some(&synthetic)
                }
                None => None,
            };
            if let Some(s) = target {
                std::sync::Arc::make_mut(&mut run.named)
                    .insert("error".into(), Value::String(e.to_string()));
                let started = Instant::now();
                let input = s
                    .input
                    .as_ref()
                    .map(|v| run.resolve(v))
                    .unwrap_or(Ok(Value::Null));
                let r = match input {
                    Ok(i) => run.step(s, i).await,
                    Err(f) => Err(f),
                };
                let r = r.map(|mut v| {
                    engine::redact_value(&mut v, &run.session);
                    v
                });
                nodes.push(NodeTrace {
                    node: format!("{}:on_error", s.id),
                    status: if r.is_ok() {
                        NodeStatus::Ok
                    } else {
                        NodeStatus::Error
                    },
                    input: None,
                    output: r.as_ref().ok().cloned(),
                    error: match r {
                        Err(Failure::Error(e)) => {
                            Some(engine::redact_error(e, &run.session).to_string())
                        }
                        _ => None,
                    },
                    duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                });
            }
        }
        let output = match failure {
            Some(e) => Err(e),
            None => {
                let from = wf.output.clone().or(last_ok);
                let v = from
                    .and_then(|id| run.named.get(&id).cloned())
                    .unwrap_or(Value::Null);
                check_outputs(outputs, &v).map(|_| v)
            }
        };
        finish(run, nodes, output)
    }
}

fn check_outputs(outputs: &[Field], v: &Value) -> Result<(), EngineError> {
    for f in outputs {
        if let Some(x) = v.get(&f.name) {
            mapping::check_output(outputs, &f.name, x)?;
        }
    }
    Ok(())
}

fn finish(run: Run, nodes: Vec<NodeTrace>, output: Result<Value, EngineError>) -> StepsOutcome {
    StepsOutcome {
        output,
        nodes,
        calls: run.session.trace,
        console: run.console,
        usage: run.usage,
    }
}
