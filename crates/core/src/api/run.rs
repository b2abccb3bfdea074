//! Configuring, running and testing capabilities, app settings, and the audit log.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Value};
use sqlx::Row;

use super::dto::*;
use super::Capsmith;
use crate::engine::guard::{AllowHosts, NetPolicy};
use crate::engine::{self, EngineError, RunContext, OAUTH2_TOKEN_KEY};
use crate::manifest::model::{AuthType, Capability, ConfigItem, ConfigType, Example};
use crate::secrets::Sensitive;
use crate::{CoreError, CoreResult};

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

/// Configuration slots of an OAuth2 connector, besides the access token.
pub const OAUTH2_CLIENT_ID_KEY: &str = "OAUTH2_CLIENT_ID";
pub const OAUTH2_CLIENT_SECRET_KEY: &str = "OAUTH2_CLIENT_SECRET";
pub const OAUTH2_REFRESH_KEY: &str = "OAUTH2_REFRESH_TOKEN";
/// Keyring namespace and key of the AI endpoint's API key (a setting, not a capability's).
pub(crate) const SETTINGS_SECRETS: &str = "@settings";
const AI_KEY: &str = "AI_API_KEY";
pub(crate) const EMAIL_PASSWORD_KEY: &str = "EMAIL_PASSWORD";

tokio::task_local! {
    /// Set by a group-committed trigger run: the run's audit-log entry goes here instead of
    /// being written at once (see `recorder`).
    pub(crate) static DEFER_EXECUTION: Option<std::sync::Arc<std::sync::Mutex<Option<super::recorder::ExecRow>>>>;
}

/// Settings kept in the OS keyring, never in SQLite: the setting and its keyring slot.
const SECRET_SETTINGS: &[(&str, &str)] = &[
    ("ai.api_key", AI_KEY),
    ("email.password", EMAIL_PASSWORD_KEY),
];

fn secret_slot(key: &str) -> Option<&'static str> {
    SECRET_SETTINGS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, slot)| *slot)
}

/// Every keyring slot an OAuth2 connector may fill.
pub const OAUTH2_SLOTS: &[&str] = &[
    OAUTH2_TOKEN_KEY,
    OAUTH2_REFRESH_KEY,
    OAUTH2_CLIENT_SECRET_KEY,
];
/// Non-secret bookkeeping: when the access token expires (Unix seconds).
const OAUTH2_EXPIRES_KEY: &str = "OAUTH2_EXPIRES_AT";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Settings the app knows, with their defaults and what they mean.
pub const SETTINGS: &[(&str, &str)] = &[
    (
        "network.timeout_ms",
        "absolute deadline for one request, in milliseconds (default 30000)",
    ),
    (
        "network.max_calls",
        "network calls allowed per run (default 10)",
    ),
    (
        "ai.base_url",
        "OpenAI-compatible endpoint for ai.call (e.g. https://api.openai.com/v1)",
    ),
    ("ai.model", "model name sent with ai.call"),
    (
        "ai.api_key",
        "API key of the AI endpoint (kept in the OS keyring; set it with `-` to read stdin)",
    ),
    (
        "sandbox.allow_unconfined",
        "run code capabilities even when the sandbox worker cannot fully confine itself (a kernel without Landlock or seccomp); every run then says so (default false)",
    ),
    (
        "sandbox.memory_mb",
        "JavaScript heap of code capabilities, in MiB (at most 128, the default)",
    ),
    (
        "network.max_response_bytes",
        "largest response body accepted, after decompression (default 10485760)",
    ),
    (
        "email.smtp_host",
        "SMTP server for email.send, HOST or HOST:PORT (port 587 by default; 465 with email.security tls)",
    ),
    (
        "email.security",
        "how email.send reaches the SMTP server: starttls (default), tls, or none (loopback only)",
    ),
    ("email.from", "sender address of email.send (e.g. Capsmith <bot@example.com>)"),
    ("email.username", "SMTP user name, when the server wants a login"),
    (
        "email.password",
        "SMTP password (kept in the OS keyring; set it with `-` to read stdin)",
    ),
    (
        "knowledge.folder",
        "folder of documents that knowledge.search indexes (text, Markdown, PDF)",
    ),
];

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
    // ---- settings ----------------------------------------------------------------------

    pub async fn settings(&self) -> CoreResult<Vec<SettingView>> {
        let mut out = Vec::new();
        for (key, description) in SETTINGS {
            if let Some(slot) = secret_slot(key) {
                let set = self
                    .secrets()
                    .retrieve(SETTINGS_SECRETS, slot)
                    .await
                    .ok()
                    .flatten()
                    .is_some();
                out.push(SettingView {
                    key: key.to_string(),
                    description: description.to_string(),
                    is_default: !set,
                    value: if set { json!("[secret]") } else { Value::Null },
                });
                continue;
            }
            let stored = self.setting(key).await?;
            out.push(SettingView {
                key: key.to_string(),
                description: description.to_string(),
                is_default: stored.is_none(),
                value: stored.unwrap_or_else(|| default_setting(key)),
            });
        }
        Ok(out)
    }

    pub(crate) async fn setting(&self, key: &str) -> CoreResult<Option<Value>> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(self.registry().pool())
            .await?;
        Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Sets a setting from its text form (validated); `None` restores the default.
    pub async fn set_setting(&self, key: &str, value: Option<&str>) -> CoreResult<SettingView> {
        if key == "network.allow_hosts" {
            return Err(CoreError::InvalidArgument(
                "network.allow_hosts is no longer one list for every capability: allow a host for the capability that needs it with `capsmith settings allow-host ID HOST:PORT` (or its Configure tab)".into(),
            ));
        }
        if !SETTINGS.iter().any(|(k, _)| *k == key) {
            let known: Vec<&str> = SETTINGS.iter().map(|(k, _)| *k).collect();
            return Err(CoreError::InvalidArgument(format!(
                "unknown setting `{key}` (known: {})",
                known.join(", ")
            )));
        }
        match value {
            None if secret_slot(key).is_some() => {
                let slot = secret_slot(key).expect("checked");
                self.secrets().delete(SETTINGS_SECRETS, slot).await?;
            }
            None => {
                sqlx::query("DELETE FROM settings WHERE key = ?")
                    .bind(key)
                    .execute(self.registry().pool())
                    .await?;
            }
            Some(text) => {
                let v = match key {
                    "ai.base_url" => {
                        let u = url::Url::parse(text.trim())
                            .ok()
                            .filter(|u| matches!(u.scheme(), "http" | "https"))
                            .ok_or_else(|| {
                                CoreError::InvalidArgument(format!(
                                    "`{text}` is not an http(s) URL"
                                ))
                            })?;
                        json!(u.as_str().trim_end_matches('/'))
                    }
                    "ai.model" if !text.trim().is_empty() => json!(text.trim()),
                    _ if secret_slot(key).is_some() => {
                        let slot = secret_slot(key).expect("checked");
                        self.secrets()
                            .persist(SETTINGS_SECRETS, slot, Sensitive::new(text.to_string()))
                            .await?;
                        let all = self.settings().await?;
                        return Ok(all
                            .into_iter()
                            .find(|s| s.key == key)
                            .expect("known setting"));
                    }
                    "email.smtp_host" => {
                        let t = text.trim();
                        let (host, port) = match t.rsplit_once(':') {
                            Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p)),
                            _ => (t, None),
                        };
                        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
                        if host.is_empty() || host.contains(char::is_whitespace) || !port_ok {
                            return Err(CoreError::InvalidArgument(format!(
                                "`{text}` is not HOST or HOST:PORT"
                            )));
                        }
                        json!(t)
                    }
                    "email.security" => match text.trim() {
                        s @ ("starttls" | "tls" | "none") => json!(s),
                        other => {
                            return Err(CoreError::InvalidArgument(format!(
                                "email.security is starttls, tls or none, not `{other}`"
                            )))
                        }
                    },
                    "email.from" => {
                        let t = text.trim();
                        t.parse::<lettre::message::Mailbox>().map_err(|e| {
                            CoreError::InvalidArgument(format!(
                                "`{t}` is not an email address: {e}"
                            ))
                        })?;
                        json!(t)
                    }
                    "email.username" if !text.trim().is_empty() => json!(text.trim()),
                    "knowledge.folder" => {
                        let dir = std::path::Path::new(text.trim());
                        let dir =
                            dir.canonicalize()
                                .ok()
                                .filter(|d| d.is_dir())
                                .ok_or_else(|| {
                                    CoreError::InvalidArgument(format!("`{text}` is not a folder"))
                                })?;
                        json!(dir.to_string_lossy())
                    }
                    "sandbox.allow_unconfined" => match text.trim() {
                        "true" | "yes" | "on" => json!(true),
                        "false" | "no" | "off" => json!(false),
                        other => {
                            return Err(CoreError::InvalidArgument(format!(
                                "sandbox.allow_unconfined is true or false, not `{other}`"
                            )))
                        }
                    },
                    _ => {
                        let n: u64 = text.trim().parse().map_err(|_| {
                            CoreError::InvalidArgument(format!(
                                "`{key}` takes a whole number, not `{text}`"
                            ))
                        })?;
                        if n == 0 {
                            return Err(CoreError::InvalidArgument(format!(
                                "`{key}` must be greater than 0"
                            )));
                        }
                        json!(n)
                    }
                };
                sqlx::query("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                    .bind(key)
                    .bind(v.to_string())
                    .execute(self.registry().pool())
                    .await?;
            }
        }
        let all = self.settings().await?;
        Ok(all
            .into_iter()
            .find(|s| s.key == key)
            .expect("known setting"))
    }

    pub(crate) async fn net_policy(&self) -> CoreResult<NetPolicy> {
        Ok(self.config_and_policy(None).await?.1)
    }

    /// A capability's stored (non-secret) configuration and the network settings, in one
    /// query: this runs before every action.
    pub(crate) async fn config_and_policy(
        &self,
        capability: Option<&str>,
    ) -> CoreResult<(HashMap<String, Value>, NetPolicy)> {
        let rows = sqlx::query(
            "SELECT 0 AS setting, key, value FROM capability_config WHERE capability_id = ?1
             UNION ALL
             SELECT 1, key, value FROM settings WHERE key IN ('network.timeout_ms', 'network.max_calls', 'network.max_response_bytes', 'sandbox.allow_unconfined')
             UNION ALL
             SELECT 2, host_port, 'null' FROM capability_allow_hosts WHERE capability_id = ?1",
        )
        .bind(capability)
        .fetch_all(self.registry().pool())
        .await?;
        let mut p = NetPolicy::default();
        let mut config = HashMap::new();
        let mut hosts = Vec::new();
        for r in rows {
            let key: String = r.get(1);
            if r.get::<i64, _>(0) == 2 {
                hosts.push(key);
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(&r.get::<String, _>(2)) else {
                continue;
            };
            if r.get::<i64, _>(0) == 0 {
                config.insert(key, v);
                continue;
            }
            match (key.as_str(), v) {
                ("network.timeout_ms", v) => p.timeout_ms = v.as_u64().unwrap_or(p.timeout_ms),
                ("network.max_calls", v) => {
                    p.max_calls = v.as_u64().map_or(p.max_calls, |n| n as u32)
                }
                ("network.max_response_bytes", v) => {
                    p.max_response_bytes = v.as_u64().unwrap_or(p.max_response_bytes)
                }
                ("sandbox.allow_unconfined", v) => {
                    p.allow_unconfined_sandbox = v.as_bool() == Some(true)
                }
                _ => {}
            }
        }
        p.allow_hosts = AllowHosts::parse(&hosts.join(",")).unwrap_or_default();
        Ok((config, p))
    }

    // ---- hosts on the user's own machine or network, per capability ---------------------

    /// A grant names a capability the user has: in the library, or a draft in the builder
    /// (whose live test runs under the grants of its id).
    async fn grantable(&self, id: &str) -> CoreResult<()> {
        if self.registry().summary(id).await.is_ok() {
            return Ok(());
        }
        let draft: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM builder_drafts WHERE capability_id = ?")
                .bind(id)
                .fetch_optional(self.registry().pool())
                .await?;
        match draft {
            Some(_) => Ok(()),
            None => Err(CoreError::NotFound(id.to_string())),
        }
    }

    /// The `HOST:PORT` pairs this capability may reach although private or plain http.
    pub async fn allowed_hosts(&self, id: &str) -> CoreResult<Vec<String>> {
        self.grantable(id).await?;
        Ok(sqlx::query_scalar(
            "SELECT host_port FROM capability_allow_hosts WHERE capability_id = ? ORDER BY host_port",
        )
        .bind(id)
        .fetch_all(self.registry().pool())
        .await?)
    }

    /// Lets one capability reach `HOST:PORT` although it is private (loopback, LAN) or plain
    /// http. The host must still be in the capability's manifest: this never widens where it
    /// may go, only how. Other capabilities are not affected.
    pub async fn allow_host(&self, id: &str, host_port: &str) -> CoreResult<Vec<String>> {
        self.grantable(id).await?;
        self.change_grant(
            id,
            host_port,
            "INSERT INTO capability_allow_hosts (capability_id, host_port) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .await
    }

    /// Takes back [`Capsmith::allow_host`].
    pub async fn disallow_host(&self, id: &str, host_port: &str) -> CoreResult<Vec<String>> {
        self.change_grant(
            id,
            host_port,
            "DELETE FROM capability_allow_hosts WHERE capability_id = ? AND host_port = ?",
        )
        .await
    }

    /// Runs `sql` (bound to the id and one normalized `host:port`), then lists the grants.
    async fn change_grant(
        &self,
        id: &str,
        host_port: &str,
        sql: &'static str,
    ) -> CoreResult<Vec<String>> {
        let parsed = AllowHosts::parse(host_port).map_err(CoreError::InvalidArgument)?;
        let Some(entry) = parsed.0.first().filter(|_| parsed.0.len() == 1) else {
            return Err(CoreError::InvalidArgument(format!(
                "give one HOST:PORT, not `{host_port}`"
            )));
        };
        sqlx::query(sql)
            .bind(id)
            .bind(entry)
            .execute(self.registry().pool())
            .await?;
        self.allowed_hosts(id).await
    }

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
            ConfigValue::Secret(v) => self.secrets().persist(id, key, v).await?,
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
            self.secrets().delete(id, key).await
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
        for item in config_items(&stored.document.capability) {
            let (set, value) = if item.ty == ConfigType::Secret {
                (
                    self.secrets().retrieve(id, &item.key).await?.is_some(),
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
        for item in config_items(cap) {
            if item.ty == ConfigType::Secret {
                if let Some(v) = self.secrets().retrieve(&cap.id, &item.key).await? {
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
            let slot = super::agents::agent_secret_slot(&agent, &cap.id);
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

    async fn plain_config(&self, id: &str) -> CoreResult<HashMap<String, Value>> {
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
            error_kind: error.as_ref().map(|e| e.kind.clone()),
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
        Ok(sqlx::query_scalar(
            "INSERT INTO executions (capability_id, version, action, status, error_kind, error_message, security_violation, input, output,
             duration_ms, origin, network_calls, bytes_in, bytes_out, trace, prompt_tokens, completion_tokens, cost)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
               coalesce((SELECT per_call + per_1k_tokens * (?16 + ?17) / 1000.0 FROM capability_costs WHERE capability_id = ?1), 0))
             RETURNING id",
        )
        .bind(&e.capability_id)
        .bind(&e.version)
        .bind(&e.action)
        .bind(&e.status)
        .bind(&e.error_kind)
        .bind(&e.error_message)
        .bind(e.security_violation)
        .bind(&e.input)
        .bind(&e.output)
        .bind(e.duration_ms)
        .bind(&e.origin)
        .bind(e.network_calls)
        .bind(e.bytes_in)
        .bind(e.bytes_out)
        .bind(&e.trace)
        .bind(e.prompt_tokens)
        .bind(e.completion_tokens)
        .fetch_one(self.registry().pool())
        .await?)
    }

    /// The audit log, newest first.
    pub async fn runs(&self, id: Option<&str>, limit: u32) -> CoreResult<Vec<ExecutionView>> {
        let rows = sqlx::query(
            "SELECT id, capability_id, version, action, origin, status, error_kind, error_message, security_violation, network_calls,
             bytes_in, bytes_out, duration_ms, started_at FROM executions WHERE (?1 IS NULL OR capability_id = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .bind(id)
        .bind(limit as i64)
        .fetch_all(self.registry().pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ExecutionView {
                id: r.get("id"),
                capability: r.get("capability_id"),
                version: r.get("version"),
                action: r.get("action"),
                origin: r.get("origin"),
                status: r.get("status"),
                error_kind: r.get("error_kind"),
                error_message: r.get("error_message"),
                security_violation: r.get::<i64, _>("security_violation") != 0,
                network_calls: r.get("network_calls"),
                bytes_in: r.get("bytes_in"),
                bytes_out: r.get("bytes_out"),
                duration_ms: r.get("duration_ms"),
                started_at: r.get("started_at"),
            })
            .collect())
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
                    match crate::manifest::js::eval_assertion(expr, &case.input, out) {
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

fn default_setting(key: &str) -> Value {
    let d = NetPolicy::default();
    match key {
        "network.timeout_ms" => json!(d.timeout_ms),
        "network.max_calls" => json!(d.max_calls),
        "network.max_response_bytes" => json!(d.max_response_bytes),
        "sandbox.memory_mb" => json!(SANDBOX_MEMORY_MB),
        "sandbox.allow_unconfined" => json!(false),
        "email.security" => json!("starttls"),
        _ => Value::Null,
    }
}

/// Largest OpenAPI document accepted (real ones reach several megabytes).
const MAX_SPEC_BYTES: u64 = 64 * 1024 * 1024;

impl Capsmith {
    /// Reads an OpenAPI document from a file or an http(s) URL (fetched under the network
    /// guard) and converts it to an API-connector manifest (YAML text) plus notes on what
    /// could not be carried over.
    pub async fn openapi_manifest(
        &self,
        source: &str,
        id: Option<&str>,
    ) -> CoreResult<(String, String, Vec<String>)> {
        let (text, url) = if source.starts_with("http://") || source.starts_with("https://") {
            let url = url::Url::parse(source)
                .map_err(|e| CoreError::InvalidArgument(format!("`{source}` is not a URL: {e}")))?;
            // The URL's host on its port, under the guard: a private address is refused (a
            // spec on this machine is imported from its file instead).
            let mut policy = self.net_policy().await?;
            policy.domains = url
                .host_str()
                .map(|h| crate::engine::guard::scope_entry(h, url.port()))
                .into_iter()
                .collect();
            policy.may_get = true;
            policy.max_response_bytes = policy.max_response_bytes.max(MAX_SPEC_BYTES);
            let mut session = crate::engine::http::Session::new(policy, vec![]);
            let req = crate::engine::http::Prepared {
                method: reqwest::Method::GET,
                url: url.clone(),
                headers: vec![(
                    "Accept".into(),
                    "application/json, application/yaml;q=0.9, */*;q=0.5".into(),
                )],
                body: None,
            };
            let ex = session.send(req).await?;
            if !(200..300).contains(&ex.status) {
                return Err(EngineError::HttpStatus {
                    status: ex.status,
                    excerpt: String::from_utf8_lossy(&ex.body)
                        .chars()
                        .take(200)
                        .collect(),
                }
                .into());
            }
            (
                String::from_utf8(ex.body).map_err(|_| {
                    CoreError::InvalidArgument("the OpenAPI document is not UTF-8 text".into())
                })?,
                Some(url),
            )
        } else {
            let path = std::path::Path::new(source);
            let meta = std::fs::metadata(path).map_err(|e| CoreError::io(path, e))?;
            if meta.len() > MAX_SPEC_BYTES {
                return Err(CoreError::InvalidArgument(format!(
                    "{source} is larger than {} MiB",
                    MAX_SPEC_BYTES >> 20
                )));
            }
            (
                std::fs::read_to_string(path).map_err(|e| CoreError::io(path, e))?,
                None,
            )
        };
        openapi_text_to_manifest(source, &text, id, url.as_ref())
    }

    /// Converts an OpenAPI document given as text (an upload) and imports it.
    pub async fn import_openapi_text(
        &self,
        label: &str,
        text: &str,
        id: Option<&str>,
    ) -> CoreResult<ImportOutcome> {
        let (cap_id, yaml, notes) = openapi_text_to_manifest(label, text, id, None)?;
        self.import_converted(label, &cap_id, &yaml, notes).await
    }

    /// Converts an OpenAPI document and imports the manifest through the usual validation.
    pub async fn import_openapi(
        &self,
        source: &str,
        id: Option<&str>,
    ) -> CoreResult<ImportOutcome> {
        let (cap_id, yaml, notes) = self.openapi_manifest(source, id).await?;
        self.import_converted(source, &cap_id, &yaml, notes).await
    }

    async fn import_converted(
        &self,
        source: &str,
        cap_id: &str,
        yaml: &str,
        notes: Vec<String>,
    ) -> CoreResult<ImportOutcome> {
        let mut out = self
            .import_bytes(&format!("{cap_id}.yaml (from {source})"), yaml.as_bytes())
            .await?;
        for n in notes {
            out.report.warnings.push(crate::diagnostics::Diagnostic {
                severity: crate::diagnostics::Severity::Warning,
                code: "openapi-not-converted".into(),
                message: n,
                file: source.to_string(),
                path: None,
                line: None,
                column: None,
                hint: None,
            });
        }
        Ok(out)
    }
}

impl Capsmith {
    async fn oauth_client(&self, id: &str) -> CoreResult<crate::engine::oauth::Client> {
        let stored = self.registry().get(id, None).await?;
        let cap = &stored.document.capability;
        let auth = cap
            .api
            .as_ref()
            .and_then(|a| a.auth.as_ref())
            .filter(|a| a.ty == AuthType::Oauth2)
            .ok_or_else(|| CoreError::InvalidArgument(format!("`{id}` does not use OAuth2")))?;
        let parse = |u: &Option<String>, what: &str| -> CoreResult<url::Url> {
            let u = u.as_deref().ok_or_else(|| EngineError::OAuth {
                message: format!("the manifest gives no {what}; paste a token with `capsmith config set {id} {OAUTH2_TOKEN_KEY} -`"),
            })?;
            url::Url::parse(u).map_err(|e| CoreError::InvalidArgument(format!("{what} `{u}`: {e}")))
        };
        let id_key = auth
            .client_id_key
            .clone()
            .unwrap_or_else(|| OAUTH2_CLIENT_ID_KEY.into());
        let secret_key = auth
            .client_secret_key
            .clone()
            .unwrap_or_else(|| OAUTH2_CLIENT_SECRET_KEY.into());
        let client_id = match self.plain_config(id).await?.get(&id_key) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => match self.secrets().retrieve(id, &id_key).await? {
                Some(s) => s.expose().clone(),
                None => {
                    return Err(EngineError::MissingConfig {
                        capability: id.into(),
                        key: id_key,
                    }
                    .into())
                }
            },
        };
        Ok(crate::engine::oauth::Client {
            authorization_url: parse(&auth.authorization_url, "authorization_url")?,
            token_url: parse(&auth.token_url, "token_url")?,
            scopes: auth.scopes.clone(),
            client_id,
            client_secret: self.secrets().retrieve(id, &secret_key).await?,
            policy: self.config_and_policy(Some(id)).await?.1,
        })
    }

    async fn store_tokens(&self, id: &str, t: crate::engine::oauth::Tokens) -> CoreResult<()> {
        self.secrets()
            .persist(id, OAUTH2_TOKEN_KEY, t.access_token)
            .await?;
        if let Some(r) = t.refresh_token {
            self.secrets().persist(id, OAUTH2_REFRESH_KEY, r).await?;
        }
        let pool = self.registry().pool();
        match t.expires_in {
            Some(secs) => {
                sqlx::query(
                    "INSERT INTO capability_config(capability_id, key, value) VALUES (?, ?, ?)
                     ON CONFLICT(capability_id, key) DO UPDATE SET value = excluded.value",
                )
                .bind(id)
                .bind(OAUTH2_EXPIRES_KEY)
                .bind(json!(now_secs() + secs).to_string())
                .execute(pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM capability_config WHERE capability_id = ? AND key = ?")
                    .bind(id)
                    .bind(OAUTH2_EXPIRES_KEY)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Connects an OAuth2 capability: authorization code with PKCE through a loopback
    /// redirect. `open_browser` shows the user the provider's page.
    pub async fn oauth_connect(
        &self,
        id: &str,
        open_browser: impl FnOnce(&url::Url),
        wait: std::time::Duration,
    ) -> CoreResult<()> {
        let client = self.oauth_client(id).await?;
        let tokens = crate::engine::oauth::authorize(&client, open_browser, wait).await?;
        self.store_tokens(id, tokens).await
    }

    /// Refreshes an OAuth2 access token when it has expired (or `force`). True when refreshed.
    async fn oauth_refresh(&self, id: &str, force: bool) -> CoreResult<bool> {
        let expires = self
            .plain_config(id)
            .await?
            .get(OAUTH2_EXPIRES_KEY)
            .and_then(Value::as_u64);
        let due = force || expires.is_some_and(|at| at <= now_secs() + 30);
        if !due {
            return Ok(false);
        }
        let Some(refresh_token) = self.secrets().retrieve(id, OAUTH2_REFRESH_KEY).await? else {
            return Ok(false);
        };
        let client = self.oauth_client(id).await?;
        let tokens = crate::engine::oauth::refresh(&client, &refresh_token).await?;
        self.store_tokens(id, tokens).await?;
        Ok(true)
    }
}

/// Parses an OpenAPI document (JSON or YAML) and converts it: (id, manifest YAML, notes).
fn openapi_text_to_manifest(
    source: &str,
    text: &str,
    id: Option<&str>,
    url: Option<&url::Url>,
) -> CoreResult<(String, String, Vec<String>)> {
    let spec: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            CoreError::InvalidArgument(format!(
                "{source}: invalid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?
    } else {
        let mut findings = Vec::new();
        let tree = crate::manifest::yaml::parse_with_limit(text, &mut findings, 20_000_000)
            .map_err(|f| {
                let at = f
                    .pos
                    .map(|p| format!(" at line {}, column {}", p.line, p.column))
                    .unwrap_or_default();
                CoreError::InvalidArgument(format!("{source}: {}{at}", f.message))
            })?;
        tree.to_json()
    };
    let conv = crate::openapi::convert(&spec, id, url)?;
    let doc = conv
        .document
        .expect("convert returns a document on success");
    let yaml =
        crate::manifest::export::to_string(&doc, crate::manifest::export::ExportFormat::Yaml);
    Ok((doc.capability.id.clone(), yaml, conv.notes))
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
