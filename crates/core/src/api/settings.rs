//! App settings (network limits, the sandbox opt-out, the AI endpoint, email, knowledge) and
//! the hosts on this machine each capability is granted (`settings allow-host`).

use std::collections::HashMap;

use serde_json::{json, Value};
use sqlx::Row;

use super::dto::*;
use super::Capsmith;
use crate::engine::guard::{AllowHosts, NetPolicy};
use crate::secrets::Sensitive;
use crate::{CoreError, CoreResult};

/// Keyring namespace and key of the AI endpoint's API key (a setting, not a capability's).
pub(crate) const SETTINGS_SECRETS: &str = "@settings";
pub(super) const AI_KEY: &str = "AI_API_KEY";
pub(crate) const EMAIL_PASSWORD_KEY: &str = "EMAIL_PASSWORD";

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
        if key == "sandbox.allow_unconfined" {
            let allow = self.net_policy().await?.allow_unconfined_sandbox;
            crate::sandbox::host::set_validation_allows_unconfined(allow);
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
}

fn default_setting(key: &str) -> Value {
    let d = NetPolicy::default();
    match key {
        "network.timeout_ms" => json!(d.timeout_ms),
        "network.max_calls" => json!(d.max_calls),
        "network.max_response_bytes" => json!(d.max_response_bytes),
        "sandbox.memory_mb" => json!(super::run::SANDBOX_MEMORY_MB),
        "sandbox.allow_unconfined" => json!(false),
        "email.security" => json!("starttls"),
        _ => Value::Null,
    }
}
