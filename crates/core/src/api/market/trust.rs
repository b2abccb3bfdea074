//! What holds an installed capability to what its user agreed to: the run-time check against
//! the consent recorded per installed version and against revocations the marketplace
//! published, the consent screen that check offers, and the keyring slots that keep a
//! package's secrets apart from those of a local capability of the same id.

use super::*;
use crate::registry::StoredVersion;

/// What a stored version needs beyond what its user consented to (the run-time consent
/// screen), and whether the marketplace revoked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RunConsent {
    pub id: String,
    pub version: String,
    /// False for capabilities not installed from a marketplace (made or imported here): they
    /// run on the library's own terms.
    pub installed: bool,
    pub missing_permissions: Vec<PermissionWords>,
    pub missing_domains: Vec<String>,
    pub missing_capabilities: Vec<String>,
    /// Set when the marketplace revoked this version: the reason. No consent lets it run.
    pub revoked: Option<String>,
    /// The newest version that is not revoked or yanked, as last synced.
    pub newest_good: Option<String>,
}

impl RunConsent {
    /// Every name the user must consent to: permissions, hosts, capabilities.
    pub fn missing(&self) -> Vec<String> {
        self.missing_permissions
            .iter()
            .map(|p| p.name.clone())
            .chain(self.missing_domains.iter().cloned())
            .chain(self.missing_capabilities.iter().cloned())
            .collect()
    }
}

/// What a run of `stored` uses: the permissions the run grants (declared, else inferred), the
/// hosts its network guard allows, the capabilities it may call.
fn needs(stored: &StoredVersion) -> Consented {
    let cap = &stored.document.capability;
    Consented {
        permissions: match &cap.permissions {
            Some(declared) => declared.clone(),
            None => stored.required_permissions.clone(),
        },
        domains: stored.allowed_domains.clone(),
        capabilities: cap.dependencies.iter().map(|d| d.id.clone()).collect(),
    }
}

impl Capsmith {
    /// The keyring slot of a capability's secrets. A capability installed from a marketplace
    /// keeps them under its source and publisher, so a package can never read what a local
    /// capability of the same id (or one from another marketplace) stored.
    pub(crate) async fn secret_slot(&self, id: &str) -> CoreResult<String> {
        Ok(match self.registry().market_install_record(id).await? {
            Some(r) if r.source != "bundled" => format!("market:{}:{}:{id}", r.source, r.publisher),
            _ => id.to_string(),
        })
    }

    /// What running this version needs beyond its recorded consent, and its revocation.
    pub(crate) async fn run_consent_of(&self, stored: &StoredVersion) -> CoreResult<RunConsent> {
        let id = &stored.summary.id;
        let mut out = RunConsent {
            id: id.clone(),
            version: stored.version.clone(),
            installed: false,
            missing_permissions: Vec::new(),
            missing_domains: Vec::new(),
            missing_capabilities: Vec::new(),
            revoked: None,
            newest_good: None,
        };
        if self.registry().market_install_record(id).await?.is_none() {
            return Ok(out);
        }
        out.installed = true;
        out.revoked = self.registry().market_revoked(id, &stored.version).await?;
        if out.revoked.is_some() {
            out.newest_good = self
                .registry()
                .market_listing(id)
                .await?
                .as_ref()
                .and_then(latest_installable)
                .map(|v| v.version.clone());
        }
        // No record for this version is consent to nothing.
        let consented = self
            .registry()
            .market_consent(id, &stored.version)
            .await?
            .unwrap_or_default();
        let need = needs(stored);
        let beyond = |need: &[String], had: &[String]| -> Vec<String> {
            need.iter().filter(|x| !had.contains(x)).cloned().collect()
        };
        out.missing_permissions = beyond(&need.permissions, &consented.permissions)
            .iter()
            .map(|p| words(p))
            .collect();
        out.missing_domains = beyond(&need.domains, &consented.domains);
        out.missing_capabilities = beyond(&need.capabilities, &consented.capabilities);
        Ok(out)
    }

    /// The guard every run passes: an installed capability runs only within what its user
    /// consented to for this version (`consent_required`), and never once revoked
    /// (`revoked`). Fails closed: a consent or revocation that cannot be read stops the run.
    pub(crate) async fn run_guard(&self, stored: &StoredVersion) -> CoreResult<()> {
        let c = self.run_consent_of(stored).await?;
        if let Some(reason) = &c.revoked {
            return Err(CoreError::Package {
                code: crate::ErrorKind::Revoked,
                message: format!(
                    "{}@{} was revoked by the marketplace ({reason}) and does not run; {}",
                    c.id,
                    c.version,
                    match &c.newest_good {
                        Some(v) => format!(
                            "update to {v}, the newest good version (`capsmith market update {}`)",
                            c.id
                        ),
                        None => "no good version is published; uninstall it".to_string(),
                    }
                ),
            });
        }
        let missing = c.missing();
        if !missing.is_empty() {
            return Err(CoreError::ConsentRequired {
                capability: format!("{}@{}", c.id, c.version),
                permissions: missing,
            });
        }
        Ok(())
    }

    /// The run-time consent screen for `id[@version]`: what it needs beyond what was
    /// consented to.
    pub async fn market_run_consent(
        &self,
        id: &str,
        version: Option<&str>,
    ) -> CoreResult<RunConsent> {
        let stored = self.registry().get(id, version).await?;
        self.run_consent_of(&stored).await
    }

    /// Records consent to what `id[@version]` needs beyond its consent so far; `consent` must
    /// name each of those permissions, hosts and capabilities. Refused for a revoked version.
    pub async fn market_grant_consent(
        &self,
        id: &str,
        version: Option<&str>,
        consent: &[String],
    ) -> CoreResult<RunConsent> {
        let stored = self.registry().get(id, version).await?;
        let c = self.run_consent_of(&stored).await?;
        if !c.installed {
            return Err(CoreError::InvalidArgument(format!(
                "{id} was not installed from a marketplace; it needs no consent to run"
            )));
        }
        if let Some(reason) = &c.revoked {
            return Err(CoreError::Package {
                code: crate::ErrorKind::Revoked,
                message: format!(
                    "{id}@{} was revoked by the marketplace ({reason}); consent cannot bring it back",
                    c.version
                ),
            });
        }
        let missing: Vec<String> = c
            .missing()
            .into_iter()
            .filter(|x| !consent.contains(x))
            .collect();
        if !missing.is_empty() {
            return Err(CoreError::ConsentRequired {
                capability: format!("{id}@{}", c.version),
                permissions: missing,
            });
        }
        let mut now = self
            .registry()
            .market_consent(id, &stored.version)
            .await?
            .unwrap_or_default();
        now.permissions
            .extend(c.missing_permissions.iter().map(|p| p.name.clone()));
        now.domains.extend(c.missing_domains.iter().cloned());
        now.capabilities
            .extend(c.missing_capabilities.iter().cloned());
        self.registry()
            .market_set_consent(id, &stored.version, &now)
            .await?;
        self.run_consent_of(&stored).await
    }
}
