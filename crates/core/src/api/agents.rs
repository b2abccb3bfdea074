//! Agents (issue 6, begun): blueprints in the registry with the capabilities they may use.
//! Adding a capability resolves its dependencies with PubGrub over the versions in the library
//! (together with what the agent already has, one version per capability), shows the
//! permissions of everything it brings for consent, and registers its actions as
//! `capability-id.action-id`. Running goes through the same engines as any run, recorded with
//! the agent's id.

use std::collections::{BTreeMap, BTreeSet};

use pubgrub::{DefaultStringReporter, OfflineDependencyProvider, PubGrubError, Ranges, Reporter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use ts_rs::TS;

use super::dto::RunReport;
use super::run::Origin;
use super::Capsmith;
use crate::manifest::permissions;
use crate::{CoreError, CoreResult};

/// One capability an agent has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgentCapabilityView {
    pub capability: String,
    /// The version in use (pinned, or the latest when not pinned).
    pub version: String,
    pub pinned: bool,
    pub enabled: bool,
    pub priority: i64,
    /// Registered as `capability-id.action-id`.
    pub actions: Vec<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub capabilities: Vec<AgentCapabilityView>,
}

/// What adding a capability would do: the versions it resolves to (the capability and its
/// dependencies) and the permissions they ask for, each described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AddPlan {
    pub capability: String,
    pub versions: Vec<(String, String)>,
    pub permissions: Vec<(String, String)>,
}

/// One action an agent may use, as a tool: what an MCP client lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgentTool {
    /// `capability-id.action-id`.
    pub name: String,
    pub capability: String,
    pub action: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// A JSON Schema (`type: object`) of the action's inputs.
    #[ts(type = "unknown")]
    pub input_schema: Value,
    /// A JSON Schema of its outputs (loose: outputs may be absent).
    #[ts(type = "unknown")]
    pub output_schema: Value,
}

/// A JSON Schema object for typed fields.
pub fn fields_schema(fields: &[crate::manifest::model::Field], with_required: bool) -> Value {
    use crate::manifest::model::FieldType;
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for f in fields {
        let mut p = match f.ty {
            FieldType::Any => serde_json::json!({}),
            FieldType::File => serde_json::json!({"type": "object"}),
            other => serde_json::json!({"type": other.as_str()}),
        };
        if let Some(d) = &f.description {
            p["description"] = Value::String(d.clone());
        }
        if let Some(d) = &f.default {
            p["default"] = d.clone();
        }
        if let Some(a) = &f.allowed {
            p["enum"] = Value::Array(a.clone());
        }
        if f.required && with_required {
            required.push(Value::String(f.name.clone()));
        }
        props.insert(f.name.clone(), p);
    }
    let mut s = serde_json::json!({"type": "object", "properties": props});
    if !required.is_empty() {
        s["required"] = Value::Array(required);
    }
    s
}

tokio::task_local! {
    /// The agent a run is for: its own configuration and secrets override the capability's.
    pub(crate) static AGENT: String;
}

/// The keyring namespace of an agent's secrets for one capability.
pub(crate) fn agent_secret_slot(agent: &str, capability: &str) -> String {
    format!("agent:{agent}:{capability}")
}

type Provider = OfflineDependencyProvider<String, Ranges<semver::Version>>;

/// An agent id from its name: lowercase letters, digits and single `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Where the MCP HTTP tokens are kept in the OS keyring: one per agent.
const MCP_TOKENS: &str = "@mcp";

impl Capsmith {
    async fn agent_id(&self, name: &str) -> CoreResult<String> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM agents WHERE id = ?1 OR name = ?1")
                .bind(name)
                .fetch_optional(self.registry().pool())
                .await?;
        id.ok_or_else(|| CoreError::AgentNotFound(name.to_string()))
    }

    /// Creates an agent; its id is the name as a slug.
    pub async fn agent_create(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> CoreResult<AgentView> {
        let id = slug(name);
        if id.is_empty() {
            return Err(CoreError::InvalidArgument(
                "an agent needs a name with letters or digits".into(),
            ));
        }
        sqlx::query("INSERT INTO agents (id, name, description) VALUES (?, ?, ?)")
            .bind(&id)
            .bind(name.trim())
            .bind(description)
            .execute(self.registry().pool())
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    CoreError::InvalidArgument(format!("an agent `{id}` already exists"))
                }
                _ => CoreError::Database(e),
            })?;
        self.agent(&id).await
    }

    pub async fn agents(&self) -> CoreResult<Vec<AgentView>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM agents ORDER BY name COLLATE NOCASE")
                .fetch_all(self.registry().pool())
                .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.agent(&id).await?);
        }
        Ok(out)
    }

    /// One agent with its capabilities, highest priority first.
    /// The bearer token an MCP client sends to `mcp serve --agent NAME --http`: one per agent,
    /// made on first use and kept in the OS keyring.
    pub async fn mcp_token(&self, agent: &str) -> CoreResult<crate::secrets::Sensitive<String>> {
        let id = self.agent(agent).await?.id;
        if let Some(t) = self.secrets().retrieve(MCP_TOKENS, &id).await? {
            return Ok(t);
        }
        let fresh = crate::secrets::Sensitive::new(
            crate::localserver::new_secret().map_err(CoreError::InvalidArgument)?,
        );
        self.secrets()
            .persist(MCP_TOKENS, &id, fresh.clone())
            .await?;
        Ok(fresh)
    }

    pub async fn agent(&self, name: &str) -> CoreResult<AgentView> {
        let id = self.agent_id(name).await?;
        let row = sqlx::query("SELECT name, description FROM agents WHERE id = ?")
            .bind(&id)
            .fetch_one(self.registry().pool())
            .await?;
        let rows = sqlx::query(
            "SELECT capability_id, version, enabled, priority FROM agent_capabilities WHERE agent_id = ? ORDER BY priority DESC, capability_id",
        )
        .bind(&id)
        .fetch_all(self.registry().pool())
        .await?;
        let mut capabilities = Vec::new();
        for r in rows {
            let cap: String = r.get("capability_id");
            let pinned: Option<String> = r.get("version");
            let stored = self.registry().get(&cap, pinned.as_deref()).await?;
            let c = &stored.document.capability;
            let mut actions: Vec<String> = crate::engine::runnable_actions(c);
            if actions.is_empty() {
                actions = c.actions.iter().map(|a| a.id.clone()).collect();
            }
            capabilities.push(AgentCapabilityView {
                actions: actions.iter().map(|a| format!("{cap}.{a}")).collect(),
                permissions: granted(&stored),
                capability: cap,
                version: stored.version.clone(),
                pinned: pinned.is_some(),
                enabled: r.get::<bool, _>("enabled"),
                priority: r.get("priority"),
            });
        }
        Ok(AgentView {
            id,
            name: row.get("name"),
            description: row.get("description"),
            capabilities,
        })
    }

    /// The versions every capability of the library has, with their dependency constraints,
    /// as a PubGrub provider. A constraint becomes the set of versions in the library that
    /// satisfy it, so the resolver works on exactly what can be installed.
    async fn provider(&self) -> CoreResult<Provider> {
        let pool = self.registry().pool();
        let versions = sqlx::query("SELECT capability_id, version FROM capability_versions")
            .fetch_all(pool)
            .await?;
        let mut known: BTreeMap<String, Vec<semver::Version>> = BTreeMap::new();
        for r in &versions {
            if let Ok(v) = semver::Version::parse(&r.get::<String, _>("version")) {
                known.entry(r.get("capability_id")).or_default().push(v);
            }
        }
        let deps = sqlx::query(
            "SELECT capability_id, version, depends_on, version_constraint FROM capability_dependencies WHERE required = 1",
        )
        .fetch_all(pool)
        .await?;
        let mut needs: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
        for r in &deps {
            needs
                .entry((r.get("capability_id"), r.get("version")))
                .or_default()
                .push((r.get("depends_on"), r.get("version_constraint")));
        }
        let mut p = Provider::new();
        for (cap, vs) in &known {
            for v in vs {
                let list = needs
                    .get(&(cap.clone(), v.to_string()))
                    .cloned()
                    .unwrap_or_default();
                let constraints: Vec<(String, Ranges<semver::Version>)> = list
                    .into_iter()
                    // Standard actions are provided by the platform, not installed.
                    .filter(|(d, _)| {
                        !permissions::STANDARD_ACTIONS
                            .iter()
                            .any(|a| a.split('.').next() == Some(d.as_str()))
                    })
                    .map(|(d, req)| {
                        let set =
                            matching(known.get(&d).map(Vec::as_slice).unwrap_or_default(), &req);
                        (d, set)
                    })
                    .collect();
                p.add_dependencies(cap.clone(), v.clone(), constraints);
            }
        }
        Ok(p)
    }

    /// What adding `capability` (at `version`, or any) to the agent resolves to, and the
    /// permissions that need consent. Nothing is written.
    pub async fn agent_plan(
        &self,
        agent: &str,
        capability: &str,
        version: Option<&str>,
    ) -> CoreResult<AddPlan> {
        let id = self.agent_id(agent).await?;
        self.registry().summary(capability).await?;
        let mut provider = self.provider().await?;
        // The agent is the root: it needs what it has (at their versions) and the new one.
        let mut wants: Vec<(String, Ranges<semver::Version>)> = Vec::new();
        for r in sqlx::query("SELECT capability_id, version FROM agent_capabilities WHERE agent_id = ? AND capability_id != ? AND as_dependency = 0")
            .bind(&id)
            .bind(capability)
            .fetch_all(self.registry().pool())
            .await?
        {
            let cap: String = r.get("capability_id");
            let pinned: Option<String> = r.get("version");
            wants.push((cap, pin(pinned.as_deref())?));
        }
        wants.push((capability.to_string(), pin(version)?));
        let root = format!("agent:{id}");
        let root_version = semver::Version::new(0, 0, 0);
        provider.add_dependencies(root.clone(), root_version.clone(), wants);
        let solution = match pubgrub::resolve(&provider, root.clone(), root_version) {
            Ok(s) => s,
            Err(PubGrubError::NoSolution(mut tree)) => {
                tree.collapse_no_versions();
                return Err(CoreError::Unresolvable {
                    explanation: DefaultStringReporter::report(&tree)
                        .replace(&format!("{root} 0.0.0"), &format!("agent `{id}`"))
                        .replace(&root, &format!("agent `{id}`")),
                });
            }
            Err(e) => {
                return Err(CoreError::Unresolvable {
                    explanation: e.to_string(),
                })
            }
        };
        let mut versions: Vec<(String, String)> = solution
            .into_iter()
            .filter(|(p, _)| *p != root)
            .map(|(p, v)| (p, v.to_string()))
            .collect();
        versions.sort();
        let mut perms = BTreeSet::new();
        let mut conflicts = Vec::new();
        for (cap, v) in &versions {
            let stored = self.registry().get(cap, Some(v)).await?;
            perms.extend(granted(&stored));
            // What the agent would hold must not include what any of it conflicts with.
            for c in &stored.document.capability.conflicts_with {
                let Some((_, other)) = versions.iter().find(|(o, _)| *o == c.id) else {
                    continue;
                };
                let hit = match (
                    semver::VersionReq::parse(&c.version),
                    semver::Version::parse(other),
                ) {
                    (Ok(req), Ok(ver)) => req.matches(&ver),
                    _ => true,
                };
                if hit {
                    conflicts.push(format!(
                        "`{cap}@{v}` conflicts with `{}@{other}` (it declares conflicts_with {} {})",
                        c.id, c.id, c.version
                    ));
                }
            }
        }
        if !conflicts.is_empty() {
            return Err(CoreError::Unresolvable {
                explanation: format!(
                    "adding `{capability}` to agent `{id}` would put conflicting capabilities together:\n{}",
                    conflicts.join("\n")
                ),
            });
        }
        Ok(AddPlan {
            capability: capability.to_string(),
            versions,
            permissions: perms
                .into_iter()
                .map(|p| {
                    let d = permissions::describe(&p).unwrap_or("").to_string();
                    (p, d)
                })
                .collect(),
        })
    }

    /// Adds a capability (and what it depends on) to the agent, in one transaction. `consent`
    /// must list every permission of the plan; otherwise nothing changes and the error says
    /// which are missing. The pinned version is kept when one is given.
    pub async fn agent_add(
        &self,
        agent: &str,
        capability: &str,
        version: Option<&str>,
        consent: &[String],
    ) -> CoreResult<AgentView> {
        let id = self.agent_id(agent).await?;
        let plan = self.agent_plan(&id, capability, version).await?;
        let missing: Vec<String> = plan
            .permissions
            .iter()
            .map(|(p, _)| p.clone())
            .filter(|p| !consent.contains(p))
            .collect();
        if !missing.is_empty() {
            return Err(CoreError::ConsentRequired {
                capability: capability.to_string(),
                permissions: missing,
            });
        }
        let mut tx = self.registry().pool().begin().await?;
        for (cap, v) in &plan.versions {
            let pinned = if cap == capability {
                version.map(|_| v.clone())
            } else {
                Some(v.clone())
            };
            sqlx::query(
                "INSERT INTO agent_capabilities (agent_id, capability_id, version, as_dependency) VALUES (?, ?, ?, ?)
                 ON CONFLICT(agent_id, capability_id) DO UPDATE SET version = excluded.version,
                 as_dependency = min(agent_capabilities.as_dependency, excluded.as_dependency)",
            )
            .bind(&id)
            .bind(cap)
            .bind(pinned)
            .bind(cap != capability)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE agents SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.agent(&id).await
    }

    /// Removes a capability from the agent; its actions are no longer the agent's. Refused
    /// while another of the agent's capabilities depends on it.
    pub async fn agent_remove(&self, agent: &str, capability: &str) -> CoreResult<AgentView> {
        let id = self.agent_id(agent).await?;
        let view = self.agent(&id).await?;
        if !view.capabilities.iter().any(|c| c.capability == capability) {
            return Err(CoreError::NotFound(format!(
                "{capability} (on agent `{id}`)"
            )));
        }
        let mut users = Vec::new();
        for c in view
            .capabilities
            .iter()
            .filter(|c| c.capability != capability)
        {
            let stored = self.registry().get(&c.capability, Some(&c.version)).await?;
            if stored
                .document
                .capability
                .dependencies
                .iter()
                .any(|d| d.id == capability && !d.optional)
            {
                users.push(c.capability.clone());
            }
        }
        if !users.is_empty() {
            return Err(CoreError::InUse {
                id: capability.to_string(),
                agents: format!("`{id}` (needed by {})", users.join(", ")),
            });
        }
        // The agent's own secrets for it leave the keyring with it.
        let secret_keys: Vec<String> = self
            .agent_config(&id, capability)
            .await?
            .into_iter()
            .filter(|e| e.ty == "secret" && e.set)
            .map(|e| e.key)
            .collect();
        sqlx::query("DELETE FROM agent_capabilities WHERE agent_id = ? AND capability_id = ?")
            .bind(&id)
            .bind(capability)
            .execute(self.registry().pool())
            .await?;
        let slot = agent_secret_slot(&id, &self.secret_slot(capability).await?);
        for key in secret_keys {
            self.secrets().delete(&slot, &key).await?;
        }
        self.agent(&id).await
    }

    /// Turns one of the agent's capabilities on or off, or changes its priority (higher
    /// first). Takes effect at the next call: nothing caches the agent.
    pub async fn agent_update(
        &self,
        agent: &str,
        capability: &str,
        enabled: Option<bool>,
        priority: Option<i64>,
    ) -> CoreResult<AgentView> {
        let id = self.agent_id(agent).await?;
        let r = sqlx::query(
            "UPDATE agent_capabilities SET enabled = coalesce(?, enabled), priority = coalesce(?, priority)
             WHERE agent_id = ? AND capability_id = ?",
        )
        .bind(enabled)
        .bind(priority)
        .bind(&id)
        .bind(capability)
        .execute(self.registry().pool())
        .await?;
        if r.rows_affected() == 0 {
            return Err(CoreError::InvalidArgument(format!(
                "agent `{id}` has no capability `{capability}`"
            )));
        }
        self.agent(&id).await
    }

    /// Sets (or with `None` removes) the agent's own value of a capability's configuration
    /// key: plain values in the registry, secrets in the OS keyring. The agent's value wins
    /// over the capability's when the agent runs it.
    pub async fn agent_config_set(
        &self,
        agent: &str,
        capability: &str,
        key: &str,
        value: Option<crate::secrets::Sensitive<String>>,
    ) -> CoreResult<Vec<super::dto::ConfigEntryView>> {
        let id = self.agent_id(agent).await?;
        let view = self.agent(&id).await?;
        let Some(c) = view
            .capabilities
            .iter()
            .find(|c| c.capability == capability)
        else {
            return Err(CoreError::InvalidArgument(format!(
                "agent `{id}` has no capability `{capability}`"
            )));
        };
        let stored = self.registry().get(capability, Some(&c.version)).await?;
        let cap = &stored.document.capability;
        let slot = agent_secret_slot(&id, &self.secret_slot(capability).await?);
        let pool = self.registry().pool();
        let current: String = sqlx::query_scalar(
            "SELECT config FROM agent_capabilities WHERE agent_id = ? AND capability_id = ?",
        )
        .bind(&id)
        .bind(capability)
        .fetch_one(pool)
        .await?;
        let mut plain: serde_json::Map<String, Value> =
            serde_json::from_str(&current).unwrap_or_default();
        match value {
            Some(v) => match super::run::parse_config_value(cap, key, v)? {
                super::run::ConfigValue::Secret(s) => {
                    self.secrets().persist(&slot, key, s).await?;
                }
                super::run::ConfigValue::Plain(v) => {
                    plain.insert(key.to_string(), v);
                }
            },
            None => match super::run::is_secret_key(cap, key) {
                Some(true) => {
                    self.secrets().delete(&slot, key).await?;
                }
                Some(false) => {
                    plain.remove(key);
                }
                None => {
                    return Err(CoreError::InvalidArgument(format!(
                        "`{capability}` has no configuration key `{key}`"
                    )))
                }
            },
        }
        sqlx::query(
            "UPDATE agent_capabilities SET config = ? WHERE agent_id = ? AND capability_id = ?",
        )
        .bind(Value::Object(plain).to_string())
        .bind(&id)
        .bind(capability)
        .execute(pool)
        .await?;
        self.agent_config(&id, capability).await
    }

    /// The agent's own configuration of one of its capabilities: which keys it sets (secret
    /// values are never returned).
    pub async fn agent_config(
        &self,
        agent: &str,
        capability: &str,
    ) -> CoreResult<Vec<super::dto::ConfigEntryView>> {
        let id = self.agent_id(agent).await?;
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT config, version FROM agent_capabilities WHERE agent_id = ? AND capability_id = ?",
        )
        .bind(&id)
        .bind(capability)
        .fetch_optional(self.registry().pool())
        .await?;
        let Some((config, version)) = row else {
            return Err(CoreError::InvalidArgument(format!(
                "agent `{id}` has no capability `{capability}`"
            )));
        };
        let plain: serde_json::Map<String, Value> =
            serde_json::from_str(&config).unwrap_or_default();
        let stored = self.registry().get(capability, version.as_deref()).await?;
        let slot = agent_secret_slot(&id, &self.secret_slot(capability).await?);
        let mut out = Vec::new();
        for item in &stored.document.capability.configuration {
            let secret = item.ty == crate::manifest::model::ConfigType::Secret;
            let (set, value) = if secret {
                (
                    self.secrets().retrieve(&slot, &item.key).await?.is_some(),
                    None,
                )
            } else {
                let v = plain.get(&item.key).cloned();
                (v.is_some(), v)
            };
            out.push(super::dto::ConfigEntryView {
                key: item.key.clone(),
                label: item.label.clone(),
                ty: item.ty.as_str().to_string(),
                required: item.required,
                help_url: item.help_url.clone(),
                set,
                value,
            });
        }
        Ok(out)
    }

    /// The actions of the agent's enabled capabilities, highest priority first, each with JSON
    /// Schemas of its inputs and outputs from the manifest.
    pub async fn agent_tools(&self, name: &str) -> CoreResult<Vec<AgentTool>> {
        let view = self.agent(name).await?;
        let mut out = Vec::new();
        for c in view.capabilities.iter().filter(|c| c.enabled) {
            let stored = self.registry().get(&c.capability, Some(&c.version)).await?;
            let cap = &stored.document.capability;
            for qualified in &c.actions {
                let action = &qualified[c.capability.len() + 1..];
                let declared = cap.actions.iter().find(|a| a.id == action);
                let (inputs, outputs) = match declared {
                    Some(a) => (a.inputs.to_list(), a.outputs.to_list()),
                    None => match cap.flows.iter().find(|f| f.action == action) {
                        Some(flow) => {
                            let cx = crate::flow::Context {
                                config_keys: cap
                                    .configuration
                                    .iter()
                                    .map(|k| k.key.clone())
                                    .collect(),
                            };
                            let an = crate::flow::analyze(flow, &cx);
                            let l = crate::flow::compile::lower(flow, &an);
                            (l.inputs, l.outputs)
                        }
                        None => (Vec::new(), Vec::new()),
                    },
                };
                out.push(AgentTool {
                    name: qualified.clone(),
                    capability: c.capability.clone(),
                    action: action.to_string(),
                    title: declared.and_then(|a| a.name.clone()),
                    description: declared
                        .and_then(|a| a.description.clone())
                        .or_else(|| cap.description.clone()),
                    input_schema: fields_schema(&inputs, true),
                    output_schema: fields_schema(&outputs, false),
                });
            }
        }
        Ok(out)
    }

    /// `agent.execute("weather-lookup.get-weather", params)`: runs one of the agent's actions
    /// with the agent's own configuration and secrets for it, within its budget.
    pub async fn agent_run(
        &self,
        agent: &str,
        qualified: &str,
        input: &Value,
        origin: Origin,
    ) -> CoreResult<RunReport> {
        let id = self.agent_id(agent).await?;
        let view = self.agent(&id).await?;
        let Some(c) = view
            .capabilities
            .iter()
            .find(|c| c.actions.iter().any(|a| a == qualified))
        else {
            let known: Vec<&str> = view
                .capabilities
                .iter()
                .flat_map(|c| c.actions.iter().map(String::as_str))
                .collect();
            return Err(CoreError::InvalidArgument(format!(
                "agent `{id}` has no action `{qualified}` (it has: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        if !c.enabled {
            return Err(CoreError::InvalidArgument(format!(
                "`{}` is disabled on agent `{id}`",
                c.capability
            )));
        }
        self.check_budget(&id, &c.capability, &c.permissions)
            .await?;
        let action = &qualified[c.capability.len() + 1..];
        let report = AGENT
            .scope(
                id.clone(),
                self.run_action(&c.capability, Some(&c.version), action, input, origin),
            )
            .await?;
        let pool = self.registry().pool();
        crate::registry::executions::set_agent(pool, report.execution_id, &id).await?;
        sqlx::query(
            "UPDATE agent_capabilities SET execution_count = execution_count + 1, error_count = error_count + ?,
             last_used = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE agent_id = ? AND capability_id = ?",
        )
        .bind(!report.ok as i64)
        .bind(&id)
        .bind(&c.capability)
        .execute(pool)
        .await?;
        Ok(report)
    }
}

/// The permissions a stored version has: declared, else those validation inferred.
fn granted(stored: &crate::registry::StoredVersion) -> Vec<String> {
    let mut p = stored
        .document
        .capability
        .permissions
        .clone()
        .unwrap_or_default();
    for x in &stored.required_permissions {
        if !p.contains(x) {
            p.push(x.clone());
        }
    }
    p
}

fn pin(version: Option<&str>) -> CoreResult<Ranges<semver::Version>> {
    match version {
        None => Ok(Ranges::full()),
        Some(v) => semver::Version::parse(v)
            .map(Ranges::singleton)
            .map_err(|e| CoreError::InvalidArgument(format!("`{v}` is not a version: {e}"))),
    }
}

/// The versions among `known` that satisfy the requirement `req` (`^1.2`, `>=1, <2`, `*`).
fn matching(known: &[semver::Version], req: &str) -> Ranges<semver::Version> {
    let Ok(r) = semver::VersionReq::parse(req.trim()) else {
        return Ranges::empty();
    };
    known
        .iter()
        .filter(|v| r.matches(v))
        .fold(Ranges::empty(), |acc, v| {
            acc.union(&Ranges::singleton(v.clone()))
        })
}
