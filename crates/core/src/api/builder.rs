//! The visual builder's operations, shared by the app and `capsmith flow`: compile a flow
//! document (with every finding tied to a node, an edge or a manifest path), open a capability
//! as flows, keep autosaved drafts, save a draft version, and run one action's flow live with
//! a trace per node.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::Value;
use sqlx::Row;

use super::dto::*;
use super::Capsmith;
use crate::diagnostics::{Diagnostic, Severity};
use crate::engine::{self, RunContext};
use crate::flow::{self, compile::Compiled};
use crate::manifest::export::{self, ExportFormat};
use crate::manifest::model::{Document, Flow};
use crate::manifest::SourceFormat;
use crate::validate;
use crate::{CoreError, CoreResult};

/// A flow document and what compiling it gave.
pub struct CompiledDoc {
    pub view: CompileView,
    /// The compiled manifest, ready for the registry, when there is no error.
    pub manifest: Option<validate::Manifest>,
}

/// `capability.flows[2].nodes[5].data.url` → (2, Some(("nodes", 5))).
fn flow_location(path: &str) -> Option<(usize, Option<(&str, usize)>)> {
    let rest = path.strip_prefix("capability.flows[")?;
    let close = rest.find(']')?;
    let fi = rest[..close].parse().ok()?;
    let after = &rest[close + 1..];
    let item = after.strip_prefix('.').and_then(|a| {
        let open = a.find('[')?;
        let end = a.find(']')?;
        Some((&a[..open], a[open + 1..end].parse().ok()?))
    });
    Some((fi, item))
}

fn from_diagnostic(d: &Diagnostic, doc: Option<&Document>) -> FlowDiagnostic {
    let mut out = FlowDiagnostic {
        severity: d.severity,
        code: d.code.clone(),
        message: d.message.clone(),
        action: None,
        target: None,
        path: d.path.clone(),
    };
    let flows = doc
        .map(|d| d.capability.flows.as_slice())
        .unwrap_or_default();
    if let Some((fi, item)) = d.path.as_deref().and_then(flow_location) {
        if let Some(f) = flows.get(fi) {
            out.action = Some(f.action.clone());
            out.target = match item {
                Some(("nodes", i)) => f.nodes.get(i).map(|n| format!("node:{}", n.id)),
                Some(("edges", i)) => f.edges.get(i).map(|e| format!("edge:{}", e.id)),
                _ => None,
            };
        }
    }
    out
}

/// Compiles a flow document given as JSON (what the app sends).
pub fn compile_value(doc: &Value) -> CompiledDoc {
    let text = serde_json::to_string_pretty(doc).unwrap_or_default();
    compile_text("flow.json", &text, SourceFormat::Json)
}

/// Compiles a flow document from its text: the document is validated as a manifest (findings
/// with paths), its flows analysed (findings on nodes and edges), and the compiled manifest
/// validated again.
pub fn compile_text(label: &str, text: &str, format: SourceFormat) -> CompiledDoc {
    let checked = validate::check_text(label, text, format, None);
    let source = checked.document.clone();
    let mut diagnostics: Vec<FlowDiagnostic> = checked
        .diagnostics
        .iter()
        .map(|d| from_diagnostic(d, source.as_ref()))
        .collect();
    let Some(doc) = source else {
        return CompiledDoc {
            view: view(false, None, String::new(), diagnostics),
            manifest: None,
        };
    };
    let Compiled {
        document, findings, ..
    } = flow::compile::compile_owned(doc);
    // The manifest check analysed the flows too; the flow analysis says it with node targets.
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    let mut out = Vec::new();
    for (action, f) in findings {
        let target = (!f.target.is_empty()).then(|| f.target.clone());
        seen.insert((f.code.to_string(), target.clone()));
        out.push(FlowDiagnostic {
            severity: f.severity,
            code: f.code.to_string(),
            message: f.message,
            action: (!action.is_empty()).then_some(action),
            target,
            path: None,
        });
    }
    diagnostics.retain(|d| !seen.contains(&(d.code.clone(), d.target.clone())));
    out.append(&mut diagnostics);
    let mut yaml = String::new();
    let mut compiled_manifest = None;
    if let Some(compiled) = &document {
        yaml = export::to_string(compiled, ExportFormat::Yaml);
        let again = validate::check_text(label, &yaml, SourceFormat::Yaml, None);
        let known: HashSet<(String, Option<String>)> = out
            .iter()
            .map(|d| (d.code.clone(), d.path.clone()))
            .collect();
        for d in &again.diagnostics {
            let inside_flows = d
                .path
                .as_deref()
                .is_some_and(|p| p.starts_with("capability.flows"));
            if !inside_flows && !known.contains(&(d.code.clone(), d.path.clone())) {
                out.push(from_diagnostic(d, Some(compiled)));
            }
        }
        compiled_manifest = again.manifest;
    }
    let ok = !out.iter().any(|d| d.severity == Severity::Error) && compiled_manifest.is_some();
    let kind = document.as_ref().and_then(|d| d.capability.kind);
    CompiledDoc {
        view: view(ok, kind, yaml, out),
        manifest: if ok { compiled_manifest } else { None },
    }
}

fn view(
    ok: bool,
    kind: Option<crate::manifest::model::Kind>,
    yaml: String,
    diagnostics: Vec<FlowDiagnostic>,
) -> CompileView {
    CompileView {
        ok,
        kind,
        yaml,
        diagnostics,
    }
}

/// A manifest opened as a flow document (flows laid out automatically when it had none).
pub fn open_document(doc: &Document) -> CoreResult<Document> {
    flow::import::to_flow_document(doc).map_err(|e| CoreError::InvalidArgument(e.0))
}

fn parse_doc(doc: &Value) -> CoreResult<Document> {
    serde_path_to_error::deserialize(doc).map_err(|e| {
        CoreError::InvalidArgument(format!(
            "the flow document at `{}`: {}",
            e.path(),
            e.inner()
        ))
    })
}

impl Capsmith {
    /// What a run would reach or do that the saved version of `cap` (by id) does not: hosts
    /// and permissions, described for the user; everything when nothing is saved.
    async fn beyond_saved(
        &self,
        cap: &crate::manifest::model::Capability,
        domains: &[String],
        permissions: &[String],
    ) -> Vec<String> {
        let Ok(saved) = self.registry().get(&cap.id, None).await else {
            return vec![format!("no saved version of `{}`", cap.id)];
        };
        let mut granted: HashSet<&str> = saved
            .required_permissions
            .iter()
            .map(String::as_str)
            .collect();
        if let Some(p) = &saved.document.capability.permissions {
            granted.extend(p.iter().map(String::as_str));
        }
        let reach: HashSet<String> = saved
            .allowed_domains
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        let mut out: Vec<String> = domains
            .iter()
            .filter(|d| !reach.contains(&d.to_ascii_lowercase()))
            .map(|d| format!("host `{d}`"))
            .collect();
        out.extend(
            permissions
                .iter()
                .filter(|p| !granted.contains(p.as_str()))
                .map(|p| format!("permission `{p}`")),
        );
        out.sort();
        out.dedup();
        out
    }

    /// Compiles a flow document.
    pub fn builder_compile(&self, doc: &Value) -> CompileView {
        compile_value(doc).view
    }

    /// The flow document of a capability: its autosaved draft when there is one (and no
    /// version is asked for), otherwise the stored manifest opened as flows. A version that is
    /// not a draft opens as the next patch version, so saving it adds a version instead of
    /// colliding with the published one.
    pub async fn builder_open(&self, id: &str, version: Option<&str>) -> CoreResult<Value> {
        if version.is_none() {
            let draft: Option<String> =
                sqlx::query_scalar("SELECT document FROM builder_drafts WHERE capability_id = ?")
                    .bind(id)
                    .fetch_optional(self.registry().pool())
                    .await?;
            if let Some(d) = draft {
                return serde_json::from_str(&d).map_err(|e| {
                    CoreError::InvalidArgument(format!("the draft of `{id}` is unreadable: {e}"))
                });
            }
        }
        let stored = self.registry().get(id, version).await?;
        let mut doc = open_document(&stored.document)?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM capability_versions WHERE capability_id = ? AND version = ?",
        )
        .bind(id)
        .bind(&stored.version)
        .fetch_optional(self.registry().pool())
        .await?;
        if status.as_deref() != Some("draft") {
            if let Ok(mut v) = semver::Version::parse(&stored.version) {
                v.pre = semver::Prerelease::EMPTY;
                v.build = semver::BuildMetadata::EMPTY;
                // The next patch version no version of this capability has yet.
                loop {
                    v.patch += 1;
                    if self.registry().get(id, Some(&v.to_string())).await.is_err() {
                        break;
                    }
                }
                doc.capability.version = Some(v.to_string());
            }
        }
        Ok(serde_json::to_value(doc).unwrap_or_default())
    }

    /// Keeps a flow document as the capability's autosaved draft, whatever its state.
    pub async fn builder_autosave(&self, doc: &Value) -> CoreResult<()> {
        let cap = doc.get("capability").ok_or_else(|| {
            CoreError::InvalidArgument("a flow document has a `capability`".into())
        })?;
        let id = cap
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                CoreError::InvalidArgument(
                    "the capability needs an id before it can be saved".into(),
                )
            })?;
        let name = cap.get("name").and_then(Value::as_str).unwrap_or(id);
        let text = serde_json::to_string(doc).unwrap_or_default();
        if text.len() > 16 * 1024 * 1024 {
            return Err(CoreError::InvalidArgument(
                "the flow document is larger than 16 MiB".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO builder_drafts (capability_id, name, document) VALUES (?, ?, ?)
             ON CONFLICT(capability_id) DO UPDATE SET name = excluded.name, document = excluded.document,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(id)
        .bind(name)
        .bind(text)
        .execute(self.registry().pool())
        .await?;
        Ok(())
    }

    /// Autosaved drafts, most recent first.
    pub async fn builder_drafts(&self) -> CoreResult<Vec<DraftView>> {
        let rows = sqlx::query("SELECT capability_id, name, updated_at FROM builder_drafts ORDER BY updated_at DESC, capability_id")
            .fetch_all(self.registry().pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| DraftView {
                id: r.get("capability_id"),
                name: r.get("name"),
                updated_at: r.get("updated_at"),
            })
            .collect())
    }

    /// Drops an autosaved draft; true when there was one.
    pub async fn builder_discard(&self, id: &str) -> CoreResult<bool> {
        let r = sqlx::query("DELETE FROM builder_drafts WHERE capability_id = ?")
            .bind(id)
            .execute(self.registry().pool())
            .await?;
        // A draft never saved takes its host grants with it.
        sqlx::query(
            "DELETE FROM capability_allow_hosts WHERE capability_id = ?1
             AND NOT EXISTS (SELECT 1 FROM capabilities WHERE id = ?1)",
        )
        .bind(id)
        .execute(self.registry().pool())
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Compiles the document and, when it has no error, stores it as a draft version (a draft
    /// of the same version is replaced; a published one is not touched).
    pub async fn builder_save(&self, doc: &Value) -> CoreResult<SaveView> {
        let compiled = compile_value(doc);
        let Some(m) = compiled.manifest else {
            return Ok(SaveView {
                summary: None,
                compile: compiled.view,
            });
        };
        let imported = self.registry().save_draft(&m).await?;
        // The saved version is what counts; the autosaved copy only follows it (a document too
        // large for it is still saved).
        let _ = self.builder_autosave(doc).await;
        Ok(SaveView {
            summary: Some(self.registry().summary(&imported.id).await?),
            compile: compiled.view,
        })
    }

    /// Runs one action's flow of an (unsaved) document with the real engines: each node
    /// reports its input, output, duration and error. Configuration and secrets are the
    /// capability's (by its id).
    pub async fn builder_run(
        &self,
        doc: &Value,
        action: &str,
        input: &Value,
    ) -> CoreResult<FlowRunView> {
        let document = parse_doc(doc)?;
        let cap = &document.capability;
        let started = Instant::now();
        let flow: &Flow = cap
            .flows
            .iter()
            .find(|f| f.action == action)
            .ok_or_else(|| {
                CoreError::InvalidArgument(format!(
                    "the document has no flow for action `{action}`"
                ))
            })?;
        let cx = flow::Context {
            config_keys: cap.configuration.iter().map(|c| c.key.clone()).collect(),
        };
        let an = flow::analyze(flow, &cx);
        let failed = |e: ApiError| FlowRunView {
            ok: false,
            output: None,
            error: Some(e),
            nodes: Vec::new(),
            calls: Vec::new(),
            console: Vec::new(),
            duration_ms: 0.0,
        };
        if let Some(first) = an.findings.iter().find(|f| f.severity == Severity::Error) {
            let n = an
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            return Ok(failed(ApiError::plain(
                crate::ErrorKind::InvalidFlow,
                format!(
                    "the flow has {n} problem(s) to fix before it can run; the first: {}",
                    first.message
                ),
            )));
        }
        let lowered = flow::compile::lower(flow, &an);
        let input = if flow.action == flow::WORKFLOW_ACTION {
            input.as_object().cloned().unwrap_or_default()
        } else {
            match engine::check_input(&lowered.inputs, input) {
                Ok(m) => m,
                Err(e) => return Ok(failed(ApiError::from(&CoreError::Engine(e)))),
            }
        };
        let (config, mut secrets) = self.config_and_secrets(cap).await?;
        let mut permissions: Vec<String> = cap.permissions.clone().unwrap_or_default();
        permissions.extend(lowered.permissions.iter().cloned());
        let mut domains = cap.allowed_domains.clone();
        domains.extend(lowered.domains.iter().cloned());
        // A document names its capability by id, so it could claim an installed capability's
        // secrets and send them anywhere. Secrets (and the host APIs) go only to what the saved
        // version already reaches and may do; anything new needs saving first.
        let new = self.beyond_saved(cap, &domains, &permissions).await;
        if !new.is_empty() {
            let text = serde_json::to_string(flow).unwrap_or_default();
            let uses_secret = cap.configuration.iter().any(|c| {
                c.ty == crate::manifest::model::ConfigType::Secret
                    && text.contains(&format!("${{{}", c.key))
            });
            if uses_secret {
                return Ok(failed(ApiError::plain(
                    crate::ErrorKind::SecretsWithheld,
                    format!(
                        "this flow uses secrets of `{}` with {} that its saved version does not have; save the draft, then run it",
                        cap.id,
                        new.join(", ")
                    ),
                )));
            }
            secrets.clear();
            permissions.retain(|p| !p.starts_with("data.") && !p.starts_with("ai."));
        }
        // What compiling would declare: the capabilities its Call Capability nodes call.
        let mut document = document.clone();
        for d in &lowered.dependencies {
            if !document
                .capability
                .dependencies
                .iter()
                .any(|x| x.id == d.id)
            {
                document.capability.dependencies.push(d.clone());
            }
        }
        let ctx = RunContext {
            document: &document,
            permissions: &permissions,
            allowed_domains: &domains,
            config,
            secrets,
            // The grants of the saved capability with this id (none for a new one).
            policy: self
                .config_and_policy(Some(&document.capability.id))
                .await?
                .1,
        };
        let given = Value::Object(input.clone());
        let mut out = self
            .run_steps(&ctx, &lowered.workflow, input, &lowered.outputs)
            .await;
        // The Input node is not a step; it shows what the run started with.
        if let Some(node) = flow.nodes.iter().find(|n| n.ty == "input") {
            out.nodes.insert(
                0,
                NodeTrace {
                    node: node.id.clone(),
                    status: NodeStatus::Ok,
                    input: Some(given.clone()),
                    output: Some(given),
                    error: None,
                    duration_ms: 0.0,
                },
            );
        }
        let (ok, output, error) = match out.output {
            Ok(v) => (true, Some(v), None),
            Err(e) => (false, None, Some(ApiError::from(&CoreError::Engine(e)))),
        };
        Ok(FlowRunView {
            ok,
            output,
            error,
            nodes: out.nodes,
            calls: out.calls,
            console: out.console,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

/// Lays a flow out automatically (the builder's auto-layout button).
pub fn layout_value(flow: &Value) -> CoreResult<Value> {
    let mut f: Flow = serde_path_to_error::deserialize(flow).map_err(|e| {
        CoreError::InvalidArgument(format!("the flow at `{}`: {}", e.path(), e.inner()))
    })?;
    flow::layout::layout(&mut f);
    Ok(serde_json::to_value(f).unwrap_or_default())
}
