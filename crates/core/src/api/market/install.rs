//! Installing from the marketplace: the consent plan, install (verified before anything is
//! written), update, rollback and uninstall.

use super::*;

impl Capsmith {
    /// The consent screen for installing `id[@version]` (or updating to it).
    pub async fn market_install_plan(&self, spec: &str) -> CoreResult<InstallPlan> {
        Ok(self.prepare_install(spec).await?.plan)
    }

    /// What the consent screen and the install itself both need, read and resolved once: the
    /// listing, the install record, the version, its dependencies, and the plan made of them.
    async fn prepare_install(&self, spec: &str) -> CoreResult<Prepared> {
        self.market_ensure_catalog().await?;
        let (id, version) = super::super::parse_spec(spec);
        let listing = self.market_listing_any(&id).await?;
        let record = self.registry().market_install_record(&id).await?;
        let v = pick_version(&listing, version.as_deref(), record.as_ref())?.clone();
        let v = &v;
        let (key_state, _) = key_state(record.as_ref(), v);
        let consented = record
            .as_ref()
            .map(|r| r.consented.clone())
            .unwrap_or_default();
        let mut deps = Vec::new();
        self.resolve_dependencies(v, &mut deps, 0).await?;
        // What the user consents to covers what comes along: the dependencies' permissions and
        // hosts join the capability's own.
        let mut all_permissions = v.permissions.clone();
        let mut all_domains = v.domains.clone();
        for (_, dv) in &deps {
            for p in &dv.permissions {
                if !all_permissions.contains(p) {
                    all_permissions.push(p.clone());
                }
            }
            for d in &dv.domains {
                if !all_domains.contains(d) {
                    all_domains.push(d.clone());
                }
            }
        }
        let added_permissions: Vec<PermissionWords> = all_permissions
            .iter()
            .filter(|p| record.is_some() && !consented.permissions.contains(p))
            .map(|p| words(p))
            .collect();
        let added_domains: Vec<String> = all_domains
            .iter()
            .filter(|d| record.is_some() && !consented.domains.contains(d))
            .cloned()
            .collect();
        let needs_consent = match &record {
            None => !all_permissions.is_empty() || !all_domains.is_empty(),
            Some(_) => !added_permissions.is_empty() || !added_domains.is_empty(),
        };
        let plan = InstallPlan {
            id: id.clone(),
            name: listing.card.name.clone(),
            version: v.version.clone(),
            current: record.as_ref().map(|r| r.version.clone()),
            publisher: listing.card.publisher.clone(),
            publisher_verified: listing.card.publisher_verified,
            key_fingerprint: if v.public_key.is_empty() {
                "built in".into()
            } else {
                package::fingerprint(&v.public_key)
            },
            key_state: key_state.into(),
            permissions: all_permissions.iter().map(|p| words(p)).collect(),
            removed_permissions: consented
                .permissions
                .iter()
                .filter(|p| record.is_some() && !all_permissions.contains(p))
                .map(|p| words(p))
                .collect(),
            removed_domains: consented
                .domains
                .iter()
                .filter(|d| record.is_some() && !all_domains.contains(d))
                .cloned()
                .collect(),
            domains: all_domains,
            added_permissions,
            added_domains,
            needs_consent,
            configuration: v.configuration.clone(),
            dependencies: deps
                .iter()
                .map(|(l, v): &(Listing, VersionInfo)| format!("{}@{}", l.card.id, v.version))
                .collect(),
            price_cents: listing.card.price_cents,
            entitled: listing.card.entitled,
            tests_passed: v.tests_passed,
            tests_total: v.tests_total,
            license: listing.card.license.clone(),
        };
        Ok(Prepared {
            plan,
            version: v.clone(),
            listing,
            record,
            deps,
        })
    }

    /// Dependencies not yet satisfied by the library, resolved against the marketplace: the
    /// newest installable version matching each requirement.
    fn resolve_dependencies<'a>(
        &'a self,
        v: &'a VersionInfo,
        out: &'a mut Vec<(Listing, VersionInfo)>,
        depth: usize,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = CoreResult<()>> + Send + 'a>> {
        Box::pin(async move {
            if depth > 8 {
                return Err(CoreError::Unresolvable {
                    explanation: "dependencies nest more than 8 deep".into(),
                });
            }
            for d in &v.dependencies {
                let req =
                    semver::VersionReq::parse(&d.version).map_err(|e| CoreError::Unresolvable {
                        explanation: format!(
                            "`{}` asks for `{} {}`, which is not a semver requirement: {e}",
                            v.version, d.id, d.version
                        ),
                    })?;
                if out.iter().any(|(l, _)| l.card.id == d.id) {
                    continue;
                }
                let in_library = self
                    .registry()
                    .summary(&d.id)
                    .await
                    .ok()
                    .is_some_and(|s| s.versions.iter().any(|x| req.matches(&semver_of(x))));
                if in_library {
                    continue;
                }
                let l = self.market_listing_any(&d.id).await.map_err(|_| CoreError::Unresolvable {
                    explanation: format!("it needs `{} {}`, which is neither in your library nor in the marketplace", d.id, d.version),
                })?;
                let pick = l
                    .versions
                    .iter()
                    .filter(|x| {
                        x.yanked.is_none() && x.approved && req.matches(&semver_of(&x.version))
                    })
                    .max_by(|a, b| semver_of(&a.version).cmp(&semver_of(&b.version)))
                    .cloned()
                    .ok_or_else(|| CoreError::Unresolvable {
                        explanation: format!(
                            "no installable version of `{}` matches `{}`",
                            d.id, d.version
                        ),
                    })?;
                out.push((l, pick.clone()));
                self.resolve_dependencies(&pick, out, depth + 1).await?;
            }
            Ok(())
        })
    }

    /// A package's bytes: from the local package cache when its hash matches, else downloaded.
    async fn market_package(&self, id: &str, v: &VersionInfo) -> CoreResult<(Vec<u8>, bool)> {
        // The hash names a file here: only a real SHA-256 may.
        if v.sha256.len() != 64 || !v.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::Package {
                code: "package_tampered",
                message: format!("the listing of {id}@{} carries no valid SHA-256", v.version),
            });
        }
        let path = self
            .home()
            .join("market")
            .join("packages")
            .join(format!("{}.capkg", v.sha256));
        if let Ok(bytes) = std::fs::read(&path) {
            if package::sha256_hex(&bytes) == v.sha256 {
                return Ok((bytes, true));
            }
        }
        let client = self.market_client().await?;
        let a = client
            .send(
                reqwest::Method::GET,
                &format!(
                    "/v1/capabilities/{}/versions/{}/package",
                    seg(id),
                    seg(&v.version)
                ),
                None,
                None,
            )
            .await?;
        Ok((a.body, false))
    }

    /// Installs `id[@version]` (and what it depends on) after checking every archive's hash,
    /// signature and publisher key; `consent` must name every permission and domain the plan
    /// asks for (on an update: every one it adds). One registry transaction; the archive is
    /// kept for offline reinstalls. With `agent`, the capability is attached afterwards.
    pub async fn market_install(
        &self,
        spec: &str,
        consent: &[String],
        agent: Option<&str>,
        trust_new_key: bool,
        cb: Progress<'_>,
    ) -> CoreResult<InstallOutcome> {
        let Prepared {
            plan,
            listing,
            record,
            version: v,
            deps,
        } = self.prepare_install(spec).await?;
        let id = plan.id.clone();
        let (state, pinned) = key_state(record.as_ref(), &v);
        if state == "changed" && !trust_new_key {
            return Err(CoreError::Package {
                code: "publisher_key_changed",
                message: format!(
                    "{id}@{} is signed with another key ({}) than the one you installed it with ({}); the publisher may have moved machines, or someone else is publishing as them. Install anyway only if you trust the new key (`--trust-new-key`)",
                    v.version,
                    package::fingerprint(&v.public_key),
                    package::fingerprint(&pinned.unwrap_or_default())
                ),
            });
        }
        let wanted: Vec<String> = if record.is_some() {
            plan.added_permissions
                .iter()
                .map(|p| p.name.clone())
                .chain(plan.added_domains.iter().cloned())
                .collect()
        } else {
            plan.permissions
                .iter()
                .map(|p| p.name.clone())
                .chain(plan.domains.iter().cloned())
                .collect()
        };
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|w| !consent.contains(w))
            .collect();
        if !missing.is_empty() {
            return Err(CoreError::ConsentRequired {
                capability: format!("{id}@{}", v.version),
                permissions: missing,
            });
        }
        if !plan.entitled {
            return Err(CoreError::Market {
                code: "payment_required".into(),
                message: format!("{id} is a paid capability; ask the marketplace's administrator for an entitlement"),
                status: 402,
            });
        }
        let mut all: Vec<(Listing, VersionInfo)> = deps;
        all.push((listing.clone(), v.clone()));
        let source = self
            .registry()
            .meta(SOURCE)
            .await?
            .unwrap_or_else(|| "bundled".into());
        let total = all.len() as i64;
        let mut checked = Vec::new();
        let mut records = Vec::new();
        let mut from_cache = true;
        let mut archives = Vec::new();
        for (n, (l, ver)) in all.iter().enumerate() {
            progress(
                cb,
                "install",
                format!("checking {}@{}", l.card.id, ver.version),
                n as i64,
                total,
            );
            let prior = self.registry().market_install_record(&l.card.id).await?;
            let (text, name) = if source == "bundled" && ver.signature.is_empty() {
                let e = super::super::bundled::EXAMPLES
                    .iter()
                    .find(|e| bundled_id(e) == Some(l.card.id.clone()))
                    .ok_or_else(|| {
                        CoreError::NotFound(format!("{} (in the built-in catalog)", l.card.id))
                    })?;
                (e.text.to_string(), e.file.to_string())
            } else {
                let (bytes, cached) = self.market_package(&l.card.id, ver).await?;
                from_cache &= cached;
                verify_package(
                    &l.card.id,
                    ver,
                    &bytes,
                    prior.as_ref(),
                    trust_new_key && l.card.id == id,
                )?;
                let contents = package::open(&bytes)?;
                archives.push((ver.sha256.clone(), bytes));
                (contents.manifest, contents.manifest_name)
            };
            let c = manifest::check_text(
                &name,
                &text,
                manifest::SourceFormat::detect(&name, &text),
                None,
            );
            let Some(m) = &c.manifest else {
                return Err(CoreError::InvalidManifest(Box::new(super::super::report(
                    &format!("{}@{} ({name})", l.card.id, ver.version),
                    &c,
                ))));
            };
            if m.capability().id != l.card.id || m.version() != ver.version {
                return Err(CoreError::Package {
                    code: "package_tampered",
                    message: format!(
                        "the archive for {}@{} holds {}@{}: refused",
                        l.card.id,
                        ver.version,
                        m.capability().id,
                        m.version()
                    ),
                });
            }
            let previous = prior
                .as_ref()
                .filter(|p| p.version != ver.version)
                .map(|p| p.version.clone())
                .or(prior.as_ref().and_then(|p| p.previous_version.clone()));
            records.push(InstallRecord {
                capability_id: l.card.id.clone(),
                version: ver.version.clone(),
                previous_version: previous,
                publisher: l.card.publisher.clone(),
                public_key: ver.public_key.clone(),
                sha256: ver.sha256.clone(),
                consented: Consented {
                    permissions: ver.permissions.clone(),
                    domains: ver.domains.clone(),
                },
                source: if ver.signature.is_empty() {
                    "bundled".into()
                } else {
                    source_url(self).await?
                },
                installed_at: String::new(),
            });
            checked.push(c);
        }
        let manifests: Vec<&manifest::Manifest> =
            checked.iter().filter_map(|c| c.manifest.as_ref()).collect();
        progress(cb, "install", "writing to the library", total, total);
        self.registry()
            .market_install_all(&manifests, &records)
            .await?;
        // Keep the verified archives so a reinstall works offline.
        let dir = self.home().join("market").join("packages");
        if std::fs::create_dir_all(&dir).is_ok() {
            for (sha, bytes) in &archives {
                let p = dir.join(format!("{sha}.capkg"));
                if !p.exists() {
                    let _ = std::fs::write(&p, bytes);
                }
            }
        }
        if source == "server" {
            if let Ok(client) = self.market_client().await {
                for r in &records {
                    let _ = client
                        .send(
                            reqwest::Method::POST,
                            &format!("/v1/capabilities/{}/installs", seg(&r.capability_id)),
                            None,
                            None,
                        )
                        .await;
                }
            }
        }
        let mine = records
            .last()
            .cloned()
            .expect("the capability itself is installed");
        if let Some(agent) = agent {
            self.agent_add(agent, &id, Some(&mine.version), consent)
                .await?;
        }
        Ok(InstallOutcome {
            id,
            version: mine.version.clone(),
            previous: mine.previous_version.clone(),
            installed: records
                .iter()
                .map(|r| format!("{}@{}", r.capability_id, r.version))
                .collect(),
            agent: agent.map(str::to_string),
            from_cache,
        })
    }

    /// Updates to the newest installable version. Asking for more permissions or domains than
    /// were consented to needs `consent` for each; until then the installed version stays.
    pub async fn market_update(
        &self,
        id: &str,
        consent: &[String],
        trust_new_key: bool,
        cb: Progress<'_>,
    ) -> CoreResult<InstallOutcome> {
        let record = self
            .registry()
            .market_install_record(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("{id} (installed from the marketplace)")))?;
        let listing = self.market_listing_any(id).await?;
        let latest = latest_installable(&listing)
            .ok_or_else(|| CoreError::NotFound(format!("an installable version of {id}")))?;
        if semver_of(&latest.version) <= semver_of(&record.version) {
            return Ok(InstallOutcome {
                id: id.to_string(),
                version: record.version.clone(),
                previous: record.previous_version.clone(),
                installed: Vec::new(),
                agent: None,
                from_cache: true,
            });
        }
        let spec = format!("{id}@{}", latest.version);
        let out = self
            .market_install(&spec, consent, None, trust_new_key, cb)
            .await?;
        // Agents follow the update.
        sqlx::query(
            "UPDATE agent_capabilities SET version = ?1 WHERE capability_id = ?2 AND version = ?3",
        )
        .bind(&out.version)
        .bind(id)
        .bind(&record.version)
        .execute(self.registry().pool())
        .await?;
        Ok(out)
    }

    /// Goes back to the version the last update replaced (it is still in the library).
    pub async fn market_rollback(&self, id: &str) -> CoreResult<InstallOutcome> {
        let record = self
            .registry()
            .market_install_record(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("{id} (installed from the marketplace)")))?;
        let prev = record.previous_version.clone().ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "{id}@{} replaced no earlier version; nothing to roll back to",
                record.version
            ))
        })?;
        let listing = self.registry().market_listing(id).await?;
        let pv = listing
            .as_ref()
            .and_then(|l| l.versions.iter().find(|v| v.version == prev));
        let stored = self.registry().get(id, Some(&prev)).await?;
        let back = InstallRecord {
            capability_id: id.to_string(),
            version: prev.clone(),
            previous_version: None,
            publisher: record.publisher.clone(),
            public_key: pv
                .map(|v| v.public_key.clone())
                .unwrap_or(record.public_key.clone()),
            sha256: pv.map(|v| v.sha256.clone()).unwrap_or_default(),
            consented: Consented {
                permissions: pv
                    .map(|v| v.permissions.clone())
                    .unwrap_or(stored.required_permissions.clone()),
                domains: pv
                    .map(|v| v.domains.clone())
                    .unwrap_or(stored.allowed_domains.clone()),
            },
            source: record.source.clone(),
            installed_at: String::new(),
        };
        self.registry()
            .market_rollback(&record.version, &back)
            .await?;
        Ok(InstallOutcome {
            id: id.to_string(),
            version: prev,
            previous: None,
            installed: Vec::new(),
            agent: None,
            from_cache: true,
        })
    }

    /// Uninstalls: detaches it from every agent (their own secrets for it go), removes every
    /// version and its secrets, and forgets the install.
    pub async fn market_uninstall(&self, id: &str) -> CoreResult<()> {
        self.registry().summary(id).await?;
        for a in self.agents().await? {
            if a.capabilities.iter().any(|c| c.capability == id) {
                self.agent_remove(&a.id, id).await?;
            }
        }
        self.remove(id, None).await?;
        self.registry().market_forget_install(id).await
    }
}
