//! The operations Capsmith offers, shared by the CLI, the desktop shell and (later) the
//! marketplace server. Each takes and returns DTOs (`dto`), never UI or Tauri types.

pub mod agents;
pub mod builder;
pub use capsmith_format::examples as bundled;
mod cache;
pub use crate::dto;
pub mod market;
pub mod oauth;
mod openapi_import;
mod recorder;
pub mod run;
pub mod schemas;
pub mod settings;
pub mod standard;
pub mod stats;
mod steps;
pub mod triggers;
pub mod workflows;

use std::path::{Path, PathBuf};

use crate::diagnostics::Severity;
use crate::manifest::export::{self, ExportFormat};
use crate::manifest::SourceFormat;
use crate::registry::Registry;
use crate::secrets::Secrets;
use crate::validate::{self, Checked};
use crate::{CoreError, CoreResult};
use dto::*;

pub use crate::sandbox::host::SANDBOX_WORKERS;

/// File name of the registry inside the Capsmith home.
pub const REGISTRY_FILE: &str = "registry.sqlite3";

/// Where Capsmith keeps its data: `explicit` (`--home`), else `$CAPSMITH_HOME`, else the OS
/// data directory (`~/.local/share/capsmith` on Linux).
pub fn home_dir(explicit: Option<PathBuf>) -> CoreResult<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    if let Some(p) = std::env::var_os("CAPSMITH_HOME").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    dirs::data_dir()
        .map(|d| d.join("capsmith"))
        .ok_or(CoreError::NoHomeDir)
}

/// Where the app saves exports: the user's Downloads folder (XDG, else `~/Downloads` when it
/// exists), else `exports/` in the Capsmith home.
pub fn downloads_dir(home: &Path) -> PathBuf {
    dirs::download_dir()
        .or_else(|| {
            dirs::home_dir()
                .map(|h| h.join("Downloads"))
                .filter(|d| d.is_dir())
        })
        .unwrap_or_else(|| home.join("exports"))
}

/// Turns a check into the report people read.
pub fn report(file: &str, checked: &Checked) -> ValidationReport {
    let (errors, warnings) = checked
        .diagnostics
        .iter()
        .cloned()
        .partition(|d| d.severity == Severity::Error);
    ValidationReport {
        file: file.to_string(),
        valid: checked.is_valid(),
        errors,
        warnings,
        capability: checked
            .document
            .as_ref()
            .map(|d| preview(d, checked.analysis.kind)),
    }
}

/// Validates a file without touching the registry. `Err` only when the file cannot be read.
pub fn validate_file(path: &Path) -> CoreResult<ValidationReport> {
    let checked = validate::check_file(path)?;
    Ok(report(&path.display().to_string(), &checked))
}

/// Validates uploaded content.
pub fn validate_bytes(file_name: &str, bytes: &[u8]) -> ValidationReport {
    report(file_name, &validate::check_bytes(file_name, bytes))
}

/// `id` or `id@version`.
pub fn parse_spec(spec: &str) -> (String, Option<String>) {
    match spec.split_once('@') {
        Some((id, v)) if !v.is_empty() => (id.to_string(), Some(v.to_string())),
        _ => (spec.trim_end_matches('@').to_string(), None),
    }
}

/// The core handle: the registry in a Capsmith home directory.
#[derive(Clone, Debug)]
pub struct Capsmith {
    home: PathBuf,
    registry: Registry,
    secrets: Secrets,
    pub(crate) sandbox: std::sync::Arc<crate::sandbox::host::SandboxHost>,
    /// At most this many sandbox workers run at once; further calls wait their turn.
    pub(crate) sandbox_slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// What trigger runs read before they start (see `cache`).
    pub(crate) cache: std::sync::Arc<cache::RunCache>,
    /// Group-committed records of trigger runs (see `recorder`).
    pub(crate) recorder: std::sync::Arc<recorder::Recorder>,
}

impl Capsmith {
    /// Opens the home (creating it), migrates the registry, and on first start seeds the
    /// bundled example capabilities so a new library is not empty.
    pub async fn open(home: PathBuf) -> CoreResult<Self> {
        std::fs::create_dir_all(&home).map_err(|e| CoreError::io(&home, e))?;
        let registry = Registry::open(&home.join(REGISTRY_FILE)).await?;
        let default_home = dirs::data_dir().map(|d| d.join("capsmith"));
        let secrets = Secrets::for_home(&home, default_home.as_deref());
        let app = Capsmith {
            home,
            registry,
            secrets,
            sandbox: Default::default(),
            sandbox_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(SANDBOX_WORKERS)),
            cache: Default::default(),
            recorder: Default::default(),
        };
        // Validation evaluates modules in a worker; the user's opt-out applies to it too.
        crate::sandbox::host::set_validation_allows_unconfined(
            app.net_policy().await?.allow_unconfined_sandbox,
        );
        if app.registry.meta("seeded_examples").await?.is_none() {
            app.seed_examples().await?;
        }
        Ok(app)
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    async fn seed_examples(&self) -> CoreResult<()> {
        let checked: Vec<Checked> = bundled::EXAMPLES
            .iter()
            .filter(|e| e.seed)
            .map(|e| {
                validate::check_text(e.file, e.text, SourceFormat::detect(e.file, e.text), None)
            })
            .collect();
        let manifests: Vec<&validate::Manifest> =
            checked.iter().filter_map(|c| c.manifest.as_ref()).collect();
        self.registry
            .import_all(&manifests, CapabilityStatus::Published)
            .await?;
        self.registry
            .set_meta("seeded_examples", &manifests.len().to_string())
            .await
    }

    /// Imports files atomically: if any is invalid or conflicts, none is imported.
    pub async fn import_files(&self, paths: &[PathBuf]) -> CoreResult<Vec<ImportOutcome>> {
        let mut checks = Vec::new();
        for p in paths {
            let label = p.display().to_string();
            let c = validate::check_file(p)?;
            checks.push((label, c));
        }
        self.import_checked(checks).await
    }

    /// Imports uploaded content.
    pub async fn import_bytes(&self, file_name: &str, bytes: &[u8]) -> CoreResult<ImportOutcome> {
        let c = validate::check_bytes(file_name, bytes);
        let mut out = self
            .import_checked(vec![(file_name.to_string(), c)])
            .await?;
        out.pop()
            .ok_or_else(|| CoreError::InvalidArgument("nothing to import".into()))
    }

    async fn import_checked(
        &self,
        checks: Vec<(String, Checked)>,
    ) -> CoreResult<Vec<ImportOutcome>> {
        if let Some((label, c)) = checks.iter().find(|(_, c)| !c.is_valid()) {
            return Err(CoreError::InvalidManifest(Box::new(report(label, c))));
        }
        let manifests: Vec<&validate::Manifest> = checks
            .iter()
            .filter_map(|(_, c)| c.manifest.as_ref())
            .collect();
        // What a user imports is a draft until it is published (which needs passing tests).
        let imported = self
            .registry
            .import_all(&manifests, CapabilityStatus::Draft)
            .await?;
        Ok(imported
            .into_iter()
            .zip(checks.iter())
            .map(|(i, (label, c))| ImportOutcome {
                id: i.id,
                version: i.version,
                created: i.created,
                report: report(label, c),
            })
            .collect())
    }

    pub async fn list(&self, query: Option<&str>) -> CoreResult<Vec<CapabilitySummary>> {
        self.registry
            .list(query.filter(|q| !q.trim().is_empty()))
            .await
    }

    pub async fn detail(&self, id: &str, version: Option<&str>) -> CoreResult<CapabilityDetail> {
        let stored = self.registry.get(id, version).await?;
        let cap = &stored.document.capability;
        let declared = cap.permissions.clone().unwrap_or_default();
        let inferred = stored
            .required_permissions
            .iter()
            .filter(|p| !declared.contains(p))
            .cloned()
            .collect();
        Ok(CapabilityDetail {
            version: stored.version.clone(),
            actions: action_views(cap),
            configuration: config_views(cap),
            permissions: declared,
            inferred_permissions: inferred,
            allowed_domains: stored.allowed_domains.clone(),
            dependencies: cap
                .dependencies
                .iter()
                .map(|d| DependencyView {
                    id: d.id.clone(),
                    version: d.version.clone(),
                })
                .collect(),
            source: stored.source.clone(),
            trigger: cap.workflow.as_ref().map(|w| w.trigger.clone()),
            source_format: match stored.source_format {
                SourceFormat::Yaml => SourceFormatView::Yaml,
                SourceFormat::Json => SourceFormatView::Json,
                SourceFormat::Js => SourceFormatView::Js,
            },
            created_at: stored.created_at.clone(),
            summary: stored.summary,
        })
    }

    /// Removes a version, or every version. When the capability is gone, so is its
    /// configuration: its secrets leave the keyring, so a later capability with the same id
    /// never inherits them.
    pub async fn remove(&self, id: &str, version: Option<&str>) -> CoreResult<u64> {
        let keys: Vec<String> = match self.registry.get(id, None).await {
            Ok(stored) => {
                let mut keys: Vec<String> = stored
                    .document
                    .capability
                    .configuration
                    .iter()
                    .map(|c| c.key.clone())
                    .collect();
                keys.extend(oauth::OAUTH2_SLOTS.iter().map(|s| s.to_string()));
                keys
            }
            Err(_) => Vec::new(),
        };
        let slot = self.secret_slot(id).await?;
        let removed = self.registry.remove(id, version).await?;
        if self.registry.summary(id).await.is_err() {
            for key in keys {
                // A keyring that is not reachable cannot hold anything to clean up.
                let _ = self.secrets.delete(&slot, &key).await;
            }
            sqlx::query("DELETE FROM capability_config WHERE capability_id = ?")
                .bind(id)
                .execute(self.registry.pool())
                .await?;
            sqlx::query("DELETE FROM capability_allow_hosts WHERE capability_id = ?")
                .bind(id)
                .execute(self.registry.pool())
                .await?;
        }
        Ok(removed)
    }

    pub async fn export(
        &self,
        id: &str,
        version: Option<&str>,
        format: &str,
    ) -> CoreResult<String> {
        let fmt = ExportFormat::parse(format).ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "unknown export format `{format}`; use yaml or json"
            ))
        })?;
        let stored = self.registry.get(id, version).await?;
        Ok(export::to_string(&stored.document, fmt))
    }

    /// Exports into `dir` as `<id>-<version>.<ext>`, never overwriting: an existing file gets
    /// a numbered sibling (`…-2.yaml`). Returns the path written.
    pub async fn export_to_dir(
        &self,
        id: &str,
        version: Option<&str>,
        format: &str,
        dir: &Path,
    ) -> CoreResult<PathBuf> {
        let text = self.export(id, version, format).await?;
        let stored_version = self.registry.get(id, version).await?.version;
        let ext = match ExportFormat::parse(format) {
            Some(ExportFormat::Json) => "json",
            _ => "yaml",
        };
        std::fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
        let mut n = 1;
        loop {
            let name = if n == 1 {
                format!("{id}-{stored_version}.{ext}")
            } else {
                format!("{id}-{stored_version}-{n}.{ext}")
            };
            let path = dir.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(text.as_bytes())
                        .map_err(|e| CoreError::io(&path, e))?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(CoreError::io(&path, e)),
            }
        }
    }
}
