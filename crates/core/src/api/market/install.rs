//! Installing from the marketplace: the consent plan, install (verified before anything is
//! written), update, rollback and uninstall.

use super::*;

impl Capsmith {
    /// The consent screen for installing `id[@version]` (or updating to it): computed from the
    /// manifests inside the downloaded and verified packages, never from the listing alone.
    pub async fn market_install_plan(&self, spec: &str) -> CoreResult<InstallPlan> {
        Ok(self.prepare_install(spec, &|_| {}).await?.plan)
    }

    /// What the consent screen and the install itself both need: the listing, the install
    /// record, the version and its dependencies, each package downloaded (or read from the
    /// package cache) and checked — hash, signature, a manifest of that id and version, terms
    /// that match the listing (`listing_mismatch`) — and the plan made of their manifests.
    async fn prepare_install(&self, spec: &str, cb: Progress<'_>) -> CoreResult<Prepared> {
        self.market_ensure_catalog().await?;
        let (id, version) = super::super::parse_spec(spec);
        let listing = self.market_listing_any(&id).await?;
        let record = self.registry().market_install_record(&id).await?;
        let v = pick_version(&listing, version.as_deref(), record.as_ref())?.clone();
        let (key_state, _) = key_state(record.as_ref(), &listing, &v);
        let consented = match &record {
            Some(r) => self
                .registry()
                .market_consent(&id, &r.version)
                .await?
                .unwrap_or_else(|| r.consented.clone()),
            None => Consented::default(),
        };
        let mut deps = Vec::new();
        self.resolve_dependencies(&v, &mut deps, 0).await?;
        deps.push((listing.clone(), v.clone()));
        let source = self
            .registry()
            .meta(SOURCE)
            .await?
            .unwrap_or_else(|| "bundled".into());
        let total = deps.len() as i64;
        let mut packages = Vec::new();
        for (n, (l, ver)) in deps.into_iter().enumerate() {
            progress(
                cb,
                "install",
                format!("checking {}@{}", l.card.id, ver.version),
                n as i64,
                total,
            );
            packages.push(self.verify_one(&source, l, ver).await?);
        }
        let mut taken = Vec::new();
        for p in &packages {
            if let Some(t) = self.taken_by(&p.listing, &source).await? {
                taken.push(t);
            }
        }
        // What the user consents to covers what comes along: the dependencies' permissions,
        // hosts and callable capabilities join the capability's own.
        let mut all = Consented::default();
        let (me, along) = packages
            .split_last()
            .expect("the capability itself is a package");
        for p in std::iter::once(me).chain(along) {
            let c = consent_of(p);
            for (into, from) in [
                (&mut all.permissions, c.permissions),
                (&mut all.domains, c.domains),
                (&mut all.capabilities, c.capabilities),
            ] {
                for x in from {
                    if !into.contains(&x) {
                        into.push(x);
                    }
                }
            }
        }
        let is_update = record.is_some();
        let added = |now: &[String], before: &[String]| -> Vec<String> {
            now.iter()
                .filter(|x| is_update && !before.contains(x))
                .cloned()
                .collect()
        };
        let added_permissions = added(&all.permissions, &consented.permissions);
        let added_domains = added(&all.domains, &consented.domains);
        let added_capabilities = added(&all.capabilities, &consented.capabilities);
        let needs_consent = if is_update {
            !added_permissions.is_empty()
                || !added_domains.is_empty()
                || !added_capabilities.is_empty()
        } else {
            !all.permissions.is_empty() || !all.domains.is_empty() || !all.capabilities.is_empty()
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
            id_taken: (!taken.is_empty()).then(|| taken.join("; ")),
            permissions: all.permissions.iter().map(|p| words(p)).collect(),
            removed_permissions: added(&consented.permissions, &all.permissions)
                .iter()
                .map(|p| words(p))
                .collect(),
            removed_domains: added(&consented.domains, &all.domains),
            domains: all.domains.clone(),
            added_permissions: added_permissions.iter().map(|p| words(p)).collect(),
            added_domains,
            needs_consent,
            configuration: me.terms.configuration.clone(),
            dependencies: along
                .iter()
                .map(|p| format!("{}@{}", p.listing.card.id, p.version.version))
                .collect(),
            capabilities: all.capabilities.clone(),
            price_cents: listing.card.price_cents,
            entitled: listing.card.entitled,
            tests_passed: v.tests_passed,
            tests_total: v.tests_total,
            license: listing.card.license.clone(),
        };
        Ok(Prepared {
            plan,
            record,
            packages,
        })
    }

    /// One package, fetched and checked: its hash and signature, a manifest of the listed id and
    /// version, and terms that agree with what the listing shows.
    async fn verify_one(&self, source: &str, l: Listing, ver: VersionInfo) -> CoreResult<Verified> {
        let (text, name, archive, from_cache) = if source == "bundled" && ver.signature.is_empty() {
            let e = super::super::bundled::EXAMPLES
                .iter()
                .find(|e| bundled_id(e) == Some(l.card.id.clone()))
                .ok_or_else(|| {
                    CoreError::NotFound(format!("{} (in the built-in catalog)", l.card.id))
                })?;
            (e.text.to_string(), e.file.to_string(), None, true)
        } else {
            let (bytes, cached) = self.market_package(&l.card.id, &ver).await?;
            verify_package(&l.card.id, &ver, &bytes)?;
            let contents = package::open(&bytes)?;
            (
                contents.manifest,
                contents.manifest_name,
                Some((ver.sha256.clone(), bytes)),
                cached,
            )
        };
        let checked = validate::check_text(
            &name,
            &text,
            manifest::SourceFormat::detect(&name, &text),
            None,
        );
        let Some(m) = &checked.manifest else {
            return Err(CoreError::InvalidManifest(Box::new(super::super::report(
                &format!("{}@{} ({name})", l.card.id, ver.version),
                &checked,
            ))));
        };
        if m.capability().id != l.card.id || m.version() != ver.version {
            return Err(CoreError::Package {
                code: crate::ErrorKind::PackageTampered,
                message: format!(
                    "the archive for {}@{} holds {}@{}: refused",
                    l.card.id,
                    ver.version,
                    m.capability().id,
                    m.version()
                ),
            });
        }
        let terms = crate::market::Terms::of(m);
        let differences = terms.differences(&crate::market::Terms::listed(&ver));
        if !differences.is_empty() {
            return Err(CoreError::Package {
                code: crate::ErrorKind::ListingMismatch,
                message: format!(
                    "the marketplace's listing of {}@{} does not match its signed package — {}. The consent screen would not show what it does; nothing was installed",
                    l.card.id,
                    ver.version,
                    differences.join("; ")
                ),
            });
        }
        // Verified: kept, so the install that follows the consent screen (and a reinstall
        // offline) need not fetch it again.
        if let Some((sha, bytes)) = archive.as_ref().filter(|_| !from_cache) {
            let dir = self.home().join("market").join("packages");
            let path = dir.join(format!("{sha}.capkg"));
            if std::fs::create_dir_all(&dir).is_ok() && !path.exists() {
                let _ = std::fs::write(&path, bytes);
            }
        }
        Ok(Verified {
            listing: l,
            version: ver,
            checked,
            terms,
            archive,
            from_cache,
        })
    }

    /// What holds `l`'s id in the library, when it came from somewhere else than this listing
    /// (made or imported here, another marketplace, another publisher).
    async fn taken_by(&self, l: &Listing, source: &str) -> CoreResult<Option<String>> {
        let id = &l.card.id;
        let Ok(summary) = self.registry().summary(id).await else {
            return Ok(None);
        };
        let here = if source == "bundled" {
            "bundled".to_string()
        } else {
            source_url(self).await?
        };
        let versions = summary.versions.join(", ");
        Ok(match self.registry().market_install_record(id).await? {
            Some(r) if r.source == here && r.publisher == l.card.publisher => None,
            Some(r) => Some(format!(
                "`{id}` ({versions}) in your library was installed from {} (publisher {}), not from {here} (publisher {})",
                r.source, r.publisher, l.card.publisher
            )),
            // The built-in catalog is the bundled examples the library was seeded with.
            None if here == "bundled"
                && super::super::bundled::EXAMPLES
                    .iter()
                    .any(|e| bundled_id(e).as_deref() == Some(id.as_str())) =>
            {
                None
            }
            None => Some(format!(
                "`{id}` ({versions}) in your library was made or imported here, not installed from {here} (publisher {})",
                l.card.publisher
            )),
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
                code: crate::ErrorKind::PackageTampered,
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
    /// signature, publisher key and terms (`prepare_install`); `consent` must name every
    /// permission and domain the plan asks for (on an update: every one it adds). An id the
    /// library holds from another source is refused (`id_taken`) unless `replace`, which
    /// uninstalls that one (its secrets and agent links) first. One registry transaction; what
    /// was consented to is recorded per installed version. With `agent`, the capability is
    /// attached afterwards.
    pub async fn market_install(
        &self,
        spec: &str,
        consent: &[String],
        agent: Option<&str>,
        replace: bool,
        cb: Progress<'_>,
    ) -> CoreResult<InstallOutcome> {
        let Prepared {
            plan,
            record,
            packages,
        } = self.prepare_install(spec, cb).await?;
        let id = plan.id.clone();
        for p in &packages {
            let prior = self
                .registry()
                .market_install_record(&p.listing.card.id)
                .await?;
            let (state, pinned) = key_state(prior.as_ref(), &p.listing, &p.version);
            if state == "changed" {
                return Err(CoreError::Package {
                    code: crate::ErrorKind::PublisherKeyChanged,
                    message: format!(
                        "{}@{} is signed with another key ({}) than the one you installed it with ({}), and the publisher handed no key over to it: the publisher may have lost their key, or someone else is publishing as them. To trust the new key, uninstall {} and install it again",
                        p.listing.card.id,
                        p.version.version,
                        package::fingerprint(&p.version.public_key),
                        package::fingerprint(&pinned.unwrap_or_default()),
                        p.listing.card.id,
                    ),
                });
            }
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
                capability: format!("{id}@{}", plan.version),
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
        let source = self
            .registry()
            .meta(SOURCE)
            .await?
            .unwrap_or_else(|| "bundled".into());
        if let Some(taken) = &plan.id_taken {
            if !replace {
                return Err(CoreError::Package {
                    code: crate::ErrorKind::IdTaken,
                    message: format!(
                        "{taken}. Installing would put a stranger's package in its place; choose to replace it (its secrets and agent links are removed first), or keep it"
                    ),
                });
            }
            // Everything was verified above; only now does the old one go.
            for p in &packages {
                if self.taken_by(&p.listing, &source).await?.is_some() {
                    self.market_uninstall(&p.listing.card.id).await?;
                }
            }
        }
        let total = packages.len() as i64;
        let mut records = Vec::new();
        for p in &packages {
            let prior = self
                .registry()
                .market_install_record(&p.listing.card.id)
                .await?;
            let previous = prior
                .as_ref()
                .filter(|r| r.version != p.version.version)
                .map(|r| r.version.clone())
                .or(prior.as_ref().and_then(|r| r.previous_version.clone()));
            records.push(InstallRecord {
                capability_id: p.listing.card.id.clone(),
                version: p.version.version.clone(),
                previous_version: previous,
                publisher: p.listing.card.publisher.clone(),
                public_key: p.version.public_key.clone(),
                sha256: p.version.sha256.clone(),
                consented: consent_of(p),
                source: if p.version.signature.is_empty() {
                    "bundled".into()
                } else {
                    source_url(self).await?
                },
                installed_at: String::new(),
            });
        }
        let manifests: Vec<&validate::Manifest> = packages
            .iter()
            .filter_map(|p| p.checked.manifest.as_ref())
            .collect();
        progress(cb, "install", "writing to the library", total, total);
        self.registry()
            .market_install_all(&manifests, &records)
            .await?;
        // Keep the verified archives so a reinstall works offline.
        let dir = self.home().join("market").join("packages");
        if std::fs::create_dir_all(&dir).is_ok() {
            for (sha, bytes) in packages.iter().filter_map(|p| p.archive.as_ref()) {
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
            from_cache: packages.iter().all(|p| p.from_cache),
        })
    }

    /// Updates to the newest installable version. Asking for more permissions or domains than
    /// were consented to needs `consent` for each; until then the installed version stays.
    pub async fn market_update(
        &self,
        id: &str,
        consent: &[String],
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
        let out = self.market_install(&spec, consent, None, false, cb).await?;
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
        self.registry().get(id, Some(&prev)).await?;
        let back = InstallRecord {
            capability_id: id.to_string(),
            version: prev.clone(),
            previous_version: None,
            publisher: record.publisher.clone(),
            public_key: pv
                .map(|v| v.public_key.clone())
                .unwrap_or(record.public_key.clone()),
            sha256: pv.map(|v| v.sha256.clone()).unwrap_or_default(),
            // What was consented to when that version was installed (kept per version).
            consented: self
                .registry()
                .market_consent(id, &prev)
                .await?
                .unwrap_or_default(),
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

/// What installing a verified package consents to: the permissions and hosts of its signed
/// manifest, and every capability it declares it calls.
fn consent_of(p: &Verified) -> Consented {
    Consented {
        permissions: p.terms.permissions.clone(),
        domains: p.terms.domains.clone(),
        capabilities: p
            .checked
            .manifest
            .as_ref()
            .map(|m| {
                m.capability()
                    .dependencies
                    .iter()
                    .map(|d| d.id.clone())
                    .collect()
            })
            .unwrap_or_default(),
    }
}
