//! Configuring, running and testing capabilities, app settings, and the audit log.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Value};
use sqlx::Row;

use super::dto::*;
use super::Capsmith;
use crate::engine::guard::NetPolicy;
use crate::engine::{self, EngineError, RunContext, OAUTH2_TOKEN_KEY};
use crate::manifest::model::{AuthType, Capability, ConfigItem, ConfigType, Example};
use crate::secrets::Sensitive;
use crate::{CoreError, CoreResult};

use super::oauth::{OAUTH2_CLIENT_ID_KEY, OAUTH2_CLIENT_SECRET_KEY, OAUTH2_REFRESH_KEY};
use super::settings::{AI_KEY, SETTINGS_SECRETS};

/// Where a run was started from (kept in the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    App,
    Cli,
    Test,
    /// A tool call from an MCP client (`capsmith mcp serve`).
    Mcp,
    /// A workflow trigger: a webhook request or a schedule.
    Trigger,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::App => "app",
            Origin::Cli => "cli",
            Origin::Test => "test",
            Origin::Mcp => "mcp",
            Origin::Trigger => "trigger",
        }
    }
}

tokio::task_local! {
    /// Set by a group-committed trigger run: the run's audit-log entry goes here instead of
    /// being written at once (see `recorder`).
    pub(crate) static DEFER_EXECUTION: Option<std::sync::Arc<std::sync::Mutex<Option<super::recorder::ExecRow>>>>;
}

/// A configuration key a capability accepts: its declared items, plus the OAuth2 token slot
/// of an OAuth2 connector.
fn config_items(cap: &Capability) -> Vec<ConfigItem> {
    let mut items = cap.configuration.clone();
    let Some(auth) = cap
        .api
        .as_ref()
        .and_then(|a| a.auth.as_ref())
        .filter(|a| a.ty == AuthType::Oauth2)
    else {
        return items;
    };
    let mut add = |key: String, label: &str, ty: ConfigType, required: bool| {
        if !items.iter().any(|i| i.key == key) {
            items.push(ConfigItem {
                key,
                label: Some(label.into()),
                ty,
                required,
                help_url: None,
                description: None,
                default: None,
            });
        }
    };
    add(
        auth.client_id_key
            .clone()
            .unwrap_or_else(|| OAUTH2_CLIENT_ID_KEY.into()),
        "OAuth2 client id",
        ConfigType::String,
        false,
    );
    add(
        auth.client_secret_key
            .clone()
            .unwrap_or_else(|| OAUTH2_CLIENT_SECRET_KEY.into()),
        "OAuth2 client secret (confidential clients only)",
        ConfigType::Secret,
        false,
    );
    add(
        OAUTH2_TOKEN_KEY.into(),
        "OAuth2 access token (set by Connect, or pasted)",
        ConfigType::Secret,
        true,
    );
    add(
        OAUTH2_REFRESH_KEY.into(),
        "OAuth2 refresh token (set by Connect)",
        ConfigType::Secret,
        false,
    );
    items
}

/// A configuration value checked against the key's declared type.
pub(crate) enum ConfigValue {
    Secret(Sensitive<String>),
    Plain(Value),
}

/// Checks `key` is one of the capability's configuration keys and `value` fits its type.
pub(crate) fn parse_config_value(
    cap: &Capability,
    key: &str,
    value: Sensitive<String>,
) -> CoreResult<ConfigValue> {
    let items = config_items(cap);
    let Some(item) = items.iter().find(|i| i.key == key) else {
        let known: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        return Err(CoreError::InvalidArgument(format!(
            "`{}` has no configuration key `{key}` (it has: {})",
            cap.id,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    Ok(match item.ty {
        ConfigType::Secret => {
            if value.expose().is_empty() {
                return Err(CoreError::InvalidArgument(format!(
                    "the value of secret `{key}` is empty"
                )));
            }
            ConfigValue::Secret(value)
        }
        ty => {
            let raw = value.expose().trim();
            ConfigValue::Plain(match ty {
                ConfigType::Number => json!(raw.parse::<f64>().map_err(|_| {
                    CoreError::InvalidArgument(format!("`{key}` is a number, not `{raw}`"))
                })?),
                ConfigType::Boolean => json!(match raw {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ =>
                        return Err(CoreError::InvalidArgument(format!(
                            "`{key}` is true or false, not `{raw}`"
                        ))),
                }),
                _ => json!(raw),
            })
        }
    })
}

/// Whether `key` is a secret configuration key of the capability.
pub(crate) fn is_secret_key(cap: &Capability, key: &str) -> Option<bool> {
    config_items(cap)
        .iter()
        .find(|i| i.key == key)
        .map(|i| i.ty == ConfigType::Secret)
}

/// `expected` ⊆ `actual`: every field of `expected` is present in `actual` with an equal
/// value (objects recursively; arrays element by element, same length).
pub fn subset_mismatches(expected: &Value, actual: &Value, path: &str, out: &mut Vec<Mismatch>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match a.get(k) {
                    Some(av) => subset_mismatches(ev, av, &p, out),
                    None => out.push(Mismatch {
                        path: p,
                        expected: ev.clone(),
                        actual: None,
                    }),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset_mismatches(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => out.push(Mismatch {
            path: if path.is_empty() {
                "(output)".into()
            } else {
                path.to_string()
            },
            expected: e.clone(),
            actual: Some(a.clone()),
        }),
    }
}

impl Capsmith {
    // ---- configuration -------------------------------------------------------------------

    /// Sets a configuration value: secrets go to the OS keyring, the rest to the registry.
    pub async fn config_set(
        &self,
        id: &str,
        key: &str,
        value: Sensitive<String>,
    ) -> CoreResult<ConfigEntryView> {
        let stored = self.registry().get(id, None).await?;
        match parse_config_value(&stored.document.capability, key, value)? {
            ConfigValue::Secret(v) => {
                self.secrets()
                    .persist(&self.secret_slot(id).await?, key, v)
                    .await?
            }
            ConfigValue::Plain(v) => {
                sqlx::query(
                    "INSERT INTO capability_config(capability_id, key, value) VALUES (?, ?, ?)
                     ON CONFLICT(capability_id, key) DO UPDATE SET value = excluded.value, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                )
                .bind(id)
                .bind(key)
                .bind(v.to_string())
                .execute(self.registry().pool())
                .await?;
            }
        }
        let list = self.config_list(id).await?;
        Ok(list
            .into_iter()
            .find(|e| e.key == key)
            .expect("declared key"))
    }

    pub async fn config_unset(&self, id: &str, key: &str) -> CoreResult<bool> {
        let stored = self.registry().get(id, None).await?;
        let items = config_items(&stored.document.capability);
        let item = items.iter().find(|i| i.key == key).ok_or_else(|| {
            CoreError::InvalidArgument(format!("`{id}` has no configuration key `{key}`"))
        })?;
        if item.ty == ConfigType::Secret {
            self.secrets()
                .delete(&self.secret_slot(id).await?, key)
                .await
        } else {
            let r =
                sqlx::query("DELETE FROM capability_config WHERE capability_id = ? AND key = ?")
                    .bind(id)
                    .bind(key)
                    .execute(self.registry().pool())
                    .await?;
            Ok(r.rows_affected() > 0)
        }
    }

    /// Every configuration key with whether it is set; secret values are never returned.
    pub async fn config_list(&self, id: &str) -> CoreResult<Vec<ConfigEntryView>> {
        let stored = self.registry().get(id, None).await?;
        let values = self.plain_config(id).await?;
        let mut out = Vec::new();
        let slot = self.secret_slot(id).await?;
        for item in config_items(&stored.document.capability) {
            let (set, value) = if item.ty == ConfigType::Secret {
                (
                    self.secrets().retrieve(&slot, &item.key).await?.is_some(),
                    None,
                )
            } else {
                let v = values.get(&item.key).cloned();
                (v.is_some(), v)
            };
            out.push(ConfigEntryView {
                key: item.key,
                label: item.label,
                ty: item.ty.as_str().to_string(),
                required: item.required,
                help_url: item.help_url,
                set,
                value,
            });
        }
        Ok(out)
    }

    /// A capability's configuration for a run: non-secret values (stored, else their
    /// defaults) and secrets from the keyring.
    pub(crate) async fn config_and_secrets(
        &self,
        cap: &crate::manifest::model::Capability,
    ) -> CoreResult<(HashMap<String, Value>, HashMap<String, Sensitive<String>>)> {
        let (c, s, _) = self.config_secrets_policy(cap, false).await?;
        Ok((c, s))
    }

    /// Configuration (defaults, then what the user stored), secrets from the keyring, and
    /// the network policy from settings.
    /// `cached`: a trigger run may use what the run cache holds (see `api::cache`).
    pub(crate) async fn config_secrets_policy(
        &self,
        cap: &crate::manifest::model::Capability,
        cached: bool,
    ) -> CoreResult<(
        HashMap<String, Value>,
        HashMap<String, Sensitive<String>>,
        NetPolicy,
    )> {
        let mut config: HashMap<String, Value> = cap
            .configuration
            .iter()
            .filter(|c| c.ty != ConfigType::Secret)
            .filter_map(|c| Some((c.key.clone(), c.default.clone()?)))
            .collect();
        let (stored, policy) = if cached {
            self.config_and_policy_cached(&cap.id).await?
        } else {
            self.config_and_policy(Some(&cap.id)).await?
        };
        config.extend(stored);
        let mut secrets = HashMap::new();
        let own_slot = self.secret_slot(&cap.id).await?;
        for item in config_items(cap) {
            if item.ty == ConfigType::Secret {
                if let Some(v) = self.secrets().retrieve(&own_slot, &item.key).await? {
                    secrets.insert(item.key, v);
                }
            }
        }
        // Run for an agent: its own configuration and secrets for this capability win.
        if let Ok(agent) = super::agents::AGENT.try_with(|a| a.clone()) {
            let own: Option<String> = sqlx::query_scalar(
                "SELECT config FROM agent_capabilities WHERE agent_id = ? AND capability_id = ?",
            )
            .bind(&agent)
            .bind(&cap.id)
            .fetch_optional(self.registry().pool())
            .await?;
            if let Some(Value::Object(m)) = own.and_then(|t| serde_json::from_str(&t).ok()) {
                config.extend(m);
            }
            let slot = super::agents::agent_secret_slot(&agent, &own_slot);
            for item in config_items(cap) {
                if item.ty == ConfigType::Secret {
                    if let Some(v) = self.secrets().retrieve(&slot, &item.key).await? {
                        secrets.insert(item.key, v);
                    }
                }
            }
        }
        Ok((config, secrets, policy))
    }

    pub(super) async fn plain_config(&self, id: &str) -> CoreResult<HashMap<String, Value>> {
        let rows = sqlx::query("SELECT key, value FROM capability_config WHERE capability_id = ?")
            .bind(id)
            .fetch_all(self.registry().pool())
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((
                    r.get::<String, _>("key"),
                    serde_json::from_str(&r.get::<String, _>("value")).ok()?,
                ))
            })
            .collect())
    }

    // ---- running -------------------------------------------------------------------------

    /// Runs one action and records it in the audit log. An action that fails is still an `Ok`
    /// report (with `ok: false`); `Err` is for a capability that cannot be found or loaded.
    /// An OAuth2 connector's expired token is refreshed first, and once more on a 401.
    pub async fn run_action(
        &self,
        id: &str,
        version: Option<&str>,
        action: &str,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<RunReport> {
        let stored = self.registry().get(id, version).await?;
        self.run_stored(&stored, action, input, origin).await
    }

    /// `run_action` on a version already read from the registry.
    pub(crate) async fn run_stored(
        &self,
        stored: &crate::registry::StoredVersion,
        action: &str,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<RunReport> {
        let id = stored.summary.id.as_str();
        // Installed from a marketplace: only within what its user consented to, never revoked.
        self.run_guard(stored).await?;
        let oauth2 = stored
            .document
            .capability
            .api
            .as_ref()
            .and_then(|a| a.auth.as_ref())
            .is_some_and(|a| a.ty == AuthType::Oauth2);
        if oauth2 {
            // A failed refresh is not fatal here: the run reports what the API says.
            let _ = self.oauth_refresh(id, false).await;
        }
        let report = self.run_once(stored, id, action, input, origin).await?;
        let unauthorized = matches!(&report.error, Some(e) if e.kind == "http_status" && e.message.contains("answered 401"));
        if oauth2 && unauthorized && matches!(self.oauth_refresh(id, true).await, Ok(true)) {
            return self.run_once(stored, id, action, input, origin).await;
        }
        Ok(report)
    }

    async fn run_once(
        &self,
        stored: &crate::registry::StoredVersion,
        id: &str,
        action: &str,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<RunReport> {
        let cap = &stored.document.capability;
        let started = Instant::now();
        let (config, secrets, policy) = self
            .config_secrets_policy(cap, matches!(origin, Origin::Trigger))
            .await?;
        let permissions: Vec<String> = match &cap.permissions {
            Some(declared) => declared.clone(),
            None => stored.required_permissions.clone(),
        };
        let ctx_unconfined = policy.allow_unconfined_sandbox;
        let ctx = RunContext {
            document: &stored.document,
            permissions: &permissions,
            allowed_domains: &stored.allowed_domains,
            config,
            secrets: secrets.clone(),
            policy,
        };
        let kind = stored
            .document
            .capability
            .inferred_kind()
            .unwrap_or(stored.summary.kind);
        let result = match kind {
            crate::manifest::model::Kind::Declarative
            | crate::manifest::model::Kind::ApiConnector => engine::run(ctx, action, input).await,
            crate::manifest::model::Kind::Code => self.run_code(ctx, action, input).await,
            crate::manifest::model::Kind::Workflow | crate::manifest::model::Kind::Flow => {
                self.run_workflow(ctx, action, input).await
            }
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let secret_values: Vec<String> = secrets.values().map(|v| v.expose().clone()).collect();
        let redact = |s: &str| crate::secrets::redact(s, &secret_values);
        let (ok, output, error, violation) = match &result.output {
            Ok(v) => (true, Some(v.clone()), None, false),
            Err(e) => (
                false,
                None,
                Some(ApiError::from(&CoreError::Engine(e.clone()))),
                e.is_security_violation(),
            ),
        };
        let error = error.map(|mut e| {
            e.message = redact(&e.message);
            e
        });
        let bytes_in: u64 = result.trace.iter().map(|c| c.bytes_in).sum();
        let bytes_out: u64 = result.trace.iter().map(|c| c.bytes_out).sum();
        let status = if ok {
            "ok"
        } else if violation {
            "denied"
        } else {
            "error"
        };
        let row = super::recorder::ExecRow {
            capability_id: id.to_string(),
            version: stored.version.clone(),
            action: action.to_string(),
            status: status.to_string(),
            error_kind: error.as_ref().map(|e| e.kind.to_string()),
            error_message: error.as_ref().map(|e| e.message.clone()),
            security_violation: violation,
            input: redact(&input.to_string()),
            output: output.as_ref().map(|o| redact(&o.to_string())),
            duration_ms,
            origin: origin.as_str().to_string(),
            network_calls: result.trace.len() as i64,
            bytes_in: bytes_in as i64,
            bytes_out: bytes_out as i64,
            trace: redact(&serde_json::to_string(&result.trace).unwrap_or_default()),
            prompt_tokens: result.usage.prompt_tokens as i64,
            completion_tokens: result.usage.completion_tokens as i64,
        };
        // A group-committed trigger run writes its audit-log entry with the run (id 0 here).
        let deferred = DEFER_EXECUTION.try_with(|d| d.clone()).ok().flatten();
        let execution_id = match deferred {
            Some(slot) => {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(row);
                }
                0
            }
            None => self.insert_execution(&row).await?,
        };
        Ok(RunReport {
            execution_id,
            capability: id.to_string(),
            version: stored.version.clone(),
            action: action.to_string(),
            ok,
            output,
            error,
            security_violation: violation,
            calls: result.trace,
            duration_ms,
            console: result.console,
            memory_used: result.memory_used,
            sandbox_unconfined: ctx_unconfined,
        })
    }

    pub(crate) async fn insert_execution(&self, e: &super::recorder::ExecRow) -> CoreResult<i64> {
        crate::registry::executions::insert(self.registry().pool(), e).await
    }

    /// The audit log, newest first.
    pub async fn runs(&self, id: Option<&str>, limit: u32) -> CoreResult<Vec<ExecutionView>> {
        crate::registry::executions::list(self.registry().pool(), id, limit).await
    }

    // ---- tests ---------------------------------------------------------------------------

    /// Runs every example and test case of a capability.
    pub async fn test(&self, id: &str, version: Option<&str>) -> CoreResult<TestReport> {
        let stored = self.registry().get(id, version).await?;
        let cap = &stored.document.capability;
        let default_action = engine::runnable_actions(cap)
            .into_iter()
            .next()
            .or_else(|| cap.actions.first().map(|a| a.id.clone()));
        let cases: Vec<(String, &Example)> = cap
            .examples
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    e.name
                        .clone()
                        .unwrap_or_else(|| format!("example {}", i + 1)),
                    e,
                )
            })
            .chain(cap.tests.iter().enumerate().map(|(i, e)| {
                (
                    e.name.clone().unwrap_or_else(|| format!("test {}", i + 1)),
                    e,
                )
            }))
            .collect();
        let allow_unconfined = self.net_policy().await?.allow_unconfined_sandbox;
        let mut results = Vec::new();
        for (name, case) in cases {
            let action = case
                .action
                .clone()
                .or_else(|| default_action.clone())
                .unwrap_or_default();
            let run = self
                .run_action(
                    id,
                    Some(&stored.version),
                    &action,
                    &case.input,
                    Origin::Test,
                )
                .await?;
            let mut mismatches = Vec::new();
            let mut assertion = None;
            if let Some(out) = &run.output {
                if let Some(expected) = &case.expected_output {
                    subset_mismatches(expected, out, "", &mut mismatches);
                }
                if let Some(expr) = &case.assert {
                    // Evaluated in a confined worker, like the action itself.
                    let (host, expr_owned, input, output) = (
                        self.sandbox.clone(),
                        expr.clone(),
                        case.input.clone(),
                        out.clone(),
                    );
                    let verdict = tokio::task::spawn_blocking(move || {
                        host.eval_assertion(&expr_owned, &input, &output, allow_unconfined)
                    })
                    .await
                    .unwrap_or_else(|e| Err(format!("the assertion's evaluation stopped: {e}")));
                    match verdict {
                        Ok(true) => {}
                        Ok(false) => assertion = Some(format!("assertion is false: {expr}")),
                        Err(e) => assertion = Some(format!("assertion failed to run: {e}")),
                    }
                }
            }
            let passed = run.ok && mismatches.is_empty() && assertion.is_none();
            results.push(TestCaseResult {
                name,
                action,
                passed,
                mismatches,
                assertion,
                run,
            });
        }
        let passed = results.iter().filter(|r| r.passed).count() as u32;
        Ok(TestReport {
            capability: id.to_string(),
            version: stored.version.clone(),
            passed,
            failed: results.len() as u32 - passed,
            cases: results,
        })
    }
}

impl Capsmith {
    /// Marks a version draft, published or deprecated. Publishing runs the capability's test
    /// cases first and is refused while any fails.
    pub async fn set_status(
        &self,
        id: &str,
        version: Option<&str>,
        status: CapabilityStatus,
    ) -> CoreResult<CapabilitySummary> {
        let stored = self.registry().get(id, version).await?;
        if status == CapabilityStatus::Published {
            let report = self.test(id, Some(&stored.version)).await?;
            if report.failed > 0 {
                return Err(CoreError::TestsFailing {
                    id: id.to_string(),
                    version: stored.version.clone(),
                    failed: report.failed,
                    total: report.passed + report.failed,
                });
            }
        }
        sqlx::query(
            "UPDATE capability_versions SET status = ?1,
               published_at = CASE WHEN ?1 = 'published' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE published_at END
             WHERE capability_id = ?2 AND version = ?3",
        )
        .bind(status.as_str())
        .bind(id)
        .bind(&stored.version)
        .execute(self.registry().pool())
        .await?;
        let mut summary = self.registry().summary(id).await?;
        if summary.version != stored.version {
            summary.status = status;
        }
        Ok(summary)
    }
}

/// Wall-clock limit of one call of sandboxed code, by its compute permission.
pub fn compute_deadline_ms(permissions: &[String]) -> u64 {
    if permissions.iter().any(|p| p == "compute.heavy") {
        60_000
    } else if permissions.iter().any(|p| p == "compute.moderate") {
        10_000
    } else {
        1_000
    }
}

/// Default JS heap of sandboxed code; `sandbox.memory_mb` may lower it.
pub const SANDBOX_MEMORY_MB: u64 = 128;
/// Largest output sandboxed code may return.
pub const SANDBOX_MAX_OUTPUT: usize = 8 * 1024 * 1024;

impl Capsmith {
    /// Runs a code capability's action in a sandbox worker process.
    async fn run_code(
        &self,
        ctx: RunContext<'_>,
        action: &str,
        input: &Value,
    ) -> engine::RunResult {
        let cap = &ctx.document.capability;
        let failed = engine::RunResult::failed;
        let Some(source) = cap.code.as_ref().and_then(|c| c.source.clone()) else {
            return failed(EngineError::NotRunnable {
                kind: "code (without source)".into(),
            });
        };
        // Inputs are checked against the declared action when the manifest declares one.
        let input = match cap.actions.iter().find(|a| a.id == action) {
            Some(a) if !a.inputs.is_empty() => {
                match engine::check_input(&a.inputs.to_list(), input) {
                    Ok(m) => Value::Object(m),
                    Err(e) => return failed(e),
                }
            }
            _ => input.clone(),
        };
        let outputs = cap
            .actions
            .iter()
            .find(|a| a.id == action)
            .map(|a| a.outputs.to_list())
            .unwrap_or_default();
        self.run_module(&ctx, source, action, input, &outputs, true)
            .await
    }

    /// Runs `action` of the JavaScript module `source` in the sandbox. With `host_apis`, the
    /// capability's permissions grant `fetch`, `db` and `ai`; without, the code gets only
    /// `console` and `utils` (flow expressions and conditions).
    pub(crate) async fn run_module(
        &self,
        ctx: &RunContext<'_>,
        source: String,
        action: &str,
        input: Value,
        outputs: &[crate::manifest::model::Field],
        host_apis: bool,
    ) -> engine::RunResult {
        let cap = &ctx.document.capability;
        let failed = engine::RunResult::failed;
        let memory_mb = match self.setting("sandbox.memory_mb").await {
            Ok(Some(v)) => v
                .as_u64()
                .unwrap_or(SANDBOX_MEMORY_MB)
                .min(SANDBOX_MEMORY_MB),
            _ => SANDBOX_MEMORY_MB,
        };
        // The code sees non-secret values; a secret appears as its placeholder, which the host
        // replaces when the code sends it over HTTP.
        let mut config = serde_json::Map::new();
        for (k, v) in &ctx.config {
            config.insert(k.clone(), v.clone());
        }
        for k in ctx.secrets.keys() {
            config.insert(k.clone(), Value::String(format!("${{{k}}}")));
        }
        let may_fetch = ctx
            .permissions
            .iter()
            .any(|p| p == "network.http.get" || p == "network.http.post");
        let inv = crate::sandbox::protocol::Invocation {
            source,
            action: action.to_string(),
            input,
            config: Value::Object(config),
            granted: {
                let mut g = Vec::new();
                let may_fetch = may_fetch && host_apis;
                if may_fetch {
                    g.push("fetch".to_string());
                }
                if host_apis && ctx.permissions.iter().any(|p| p.starts_with("data.")) {
                    g.push("db".to_string());
                }
                if host_apis && ctx.permissions.iter().any(|p| p == "ai.call") {
                    g.push("ai".to_string());
                }
                g
            },
            memory_bytes: (memory_mb * 1024 * 1024) as usize,
            deadline_ms: compute_deadline_ms(ctx.permissions),
            max_output_bytes: SANDBOX_MAX_OUTPUT,
        };
        let policy = engine::policy_for(&ctx.policy, ctx.permissions, ctx.allowed_domains);
        let secret_values: Vec<String> = ctx.secrets.values().map(|s| s.expose().clone()).collect();
        let has = |p: &str| ctx.permissions.iter().any(|x| x == p);
        let db = (has("data.read") || has("data.write") || has("data.delete")).then(|| {
            crate::sandbox::host::DbAccess {
                path: self.home().join("data").join(format!("{}.sqlite3", cap.id)),
                read: has("data.read"),
                write: has("data.write"),
                delete: has("data.delete"),
            }
        });
        let fetch = crate::sandbox::host::FetchContext {
            session: crate::engine::http::Session::new(policy, secret_values),
            capability: cap.id.clone(),
            config: ctx.config.clone(),
            secrets: ctx.secrets.clone(),
            db,
            ai: if has("ai.call") {
                self.ai_access().await
            } else {
                None
            },
            usage: Default::default(),
        };
        let host = self.sandbox.clone();
        let allow_unconfined = ctx.policy.allow_unconfined_sandbox;
        let Ok(_slot) = self.sandbox_slots.clone().acquire_owned().await else {
            return failed(EngineError::Sandbox {
                kind: "sandbox_unavailable".into(),
                message: "the sandbox is shutting down".into(),
            });
        };
        let run = match tokio::task::spawn_blocking(move || {
            host.invoke_blocking(inv, fetch, allow_unconfined)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                return failed(EngineError::Sandbox {
                    kind: "sandbox_crashed".into(),
                    message: format!("the sandbox call failed: {e}"),
                })
            }
        };
        let o = run.outcome;
        let output = if o.ok {
            let value = o.output.unwrap_or(Value::Null);
            match outputs.iter().find(|f| {
                value
                    .get(&f.name)
                    .is_some_and(|v| !engine::mapping::matches_type(f.ty, v))
            }) {
                Some(f) => Err(EngineError::OutputType {
                    output: f.name.clone(),
                    expected: f.ty.as_str().to_string(),
                    found: "another type".into(),
                }),
                None => Ok(value),
            }
        } else {
            Err(EngineError::Sandbox {
                kind: o.kind.unwrap_or_else(|| "sandbox".into()),
                message: o.message.unwrap_or_default(),
            })
        };
        engine::RunResult {
            output,
            trace: run.trace,
            console: o.console,
            memory_used: Some(o.memory_used),
            usage: run.usage,
        }
    }
}

impl Capsmith {
    /// Runs a workflow (or one action's flow of a flow capability) step by step.
    async fn run_workflow(
        &self,
        ctx: RunContext<'_>,
        action: &str,
        input: &Value,
    ) -> engine::RunResult {
        let cap = &ctx.document.capability;
        let lowered;
        let (wf, inputs, outputs) =
            match (&cap.workflow, cap.flows.iter().find(|f| f.action == action)) {
                (Some(wf), _) => {
                    let a = cap.actions.iter().find(|a| a.id == action);
                    (
                        wf,
                        a.map(|a| a.inputs.to_list()),
                        a.map(|a| a.outputs.to_list()).unwrap_or_default(),
                    )
                }
                (None, Some(flow)) => {
                    let cx = crate::flow::Context {
                        config_keys: cap.configuration.iter().map(|c| c.key.clone()).collect(),
                    };
                    let an = crate::flow::analyze(flow, &cx);
                    lowered = crate::flow::compile::lower(flow, &an);
                    (
                        &lowered.workflow,
                        Some(lowered.inputs.clone()),
                        lowered.outputs.clone(),
                    )
                }
                (None, None) => {
                    return engine::RunResult::failed(EngineError::UnknownAction {
                        action: action.to_string(),
                        available: cap
                            .flows
                            .iter()
                            .map(|f| f.action.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                }
            };
        let input = match inputs {
            Some(fields) if !fields.is_empty() => match engine::check_input(&fields, input) {
                Ok(m) => m,
                Err(e) => return engine::RunResult::failed(e),
            },
            _ => input.as_object().cloned().unwrap_or_default(),
        };
        let out = self.run_steps(&ctx, wf, input, &outputs).await;
        engine::RunResult {
            output: out.output,
            trace: out.calls,
            console: out.console,
            memory_used: None,
            usage: out.usage,
        }
    }

    /// The AI endpoint from settings, when one is configured.
    pub(crate) async fn ai_access(&self) -> Option<crate::sandbox::host::AiAccess> {
        let base = self.setting("ai.base_url").await.ok().flatten()?;
        let base_url =
            url::Url::parse(&format!("{}/", base.as_str()?.trim_end_matches('/'))).ok()?;
        let model = self
            .setting("ai.model")
            .await
            .ok()
            .flatten()
            .and_then(|m| m.as_str().map(str::to_string))
            .unwrap_or_else(|| "gpt-4o-mini".into());
        let key = self
            .secrets()
            .retrieve(SETTINGS_SECRETS, AI_KEY)
            .await
            .ok()
            .flatten();
        Some(crate::sandbox::host::AiAccess {
            base_url,
            model,
            key,
        })
    }
}
