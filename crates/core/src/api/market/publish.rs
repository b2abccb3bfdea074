//! Publishing to the marketplace (tests first, then package, sign, upload), the generated
//! documentation, reviews and yanking.

use super::*;

impl Capsmith {
    /// The README of a capability, generated from its manifest.
    pub async fn docs(&self, id: &str, version: Option<&str>, format: &str) -> CoreResult<String> {
        let fmt = package::docs::DocFormat::parse(format).ok_or_else(|| {
            CoreError::InvalidArgument(format!("unknown docs format `{format}`; use md or html"))
        })?;
        let stored = self.registry().get(id, version).await?;
        let in_force = match &stored.document.capability.permissions {
            Some(p) => p.clone(),
            None => stored.required_permissions.clone(),
        };
        Ok(package::docs::generate(
            &stored.document,
            &in_force,
            &stored.allowed_domains,
            fmt,
        ))
    }

    /// Publishes `id[@version]` from the library: runs its tests (a failing one stops it),
    /// packages the manifest with a README (generated when it has none), the builder's flow
    /// and the test report, signs it with this library's key (registering the key with the
    /// marketplace when it is new there), and uploads it.
    pub async fn market_publish(
        &self,
        spec: &str,
        visibility: Option<&str>,
        org: Option<&str>,
        price_cents: Option<i64>,
        cb: Progress<'_>,
    ) -> CoreResult<PublishView> {
        self.market_publish_with_readme(spec, visibility, org, price_cents, None, cb)
            .await
    }

    /// `market_publish` with the author's own README instead of the generated one.
    pub async fn market_publish_with_readme(
        &self,
        spec: &str,
        visibility: Option<&str>,
        org: Option<&str>,
        price_cents: Option<i64>,
        readme: Option<String>,
        cb: Progress<'_>,
    ) -> CoreResult<PublishView> {
        let (id, version) = super::super::parse_spec(spec);
        let stored = self.registry().get(&id, version.as_deref()).await?;
        let client = self.market_client().await?;
        if client.token.is_none() {
            return Err(CoreError::InvalidArgument(
                "sign in to the marketplace first: `capsmith login --market URL --token -` (or Settings → Marketplace)".into(),
            ));
        }
        progress(cb, "publish", "running the tests", 1, 5);
        let tests = self.test(&id, Some(&stored.version)).await?;
        if tests.failed > 0 {
            return Err(CoreError::TestsFailing {
                id: id.clone(),
                version: stored.version.clone(),
                failed: tests.failed,
                total: tests.passed + tests.failed,
            });
        }
        progress(cb, "publish", "packaging", 2, 5);
        let in_force = match &stored.document.capability.permissions {
            Some(p) => p.clone(),
            None => stored.required_permissions.clone(),
        };
        let readme_generated = readme.is_none();
        let readme = readme.unwrap_or_else(|| {
            package::docs::generate(
                &stored.document,
                &in_force,
                &stored.allowed_domains,
                package::docs::DocFormat::Markdown,
            )
        });
        let flow: Option<String> =
            sqlx::query_scalar("SELECT document FROM builder_drafts WHERE capability_id = ?1")
                .bind(&id)
                .fetch_optional(self.registry().pool())
                .await?;
        let ext = match stored.source_format {
            manifest::SourceFormat::Yaml => "yaml",
            manifest::SourceFormat::Json => "json",
            manifest::SourceFormat::Js => "js",
        };
        // A code capability's module is inlined as the registry keeps it: the package holds the
        // canonical document, not a file that points elsewhere.
        let (manifest_name, manifest_text) = if stored.source_format == manifest::SourceFormat::Js {
            (format!("manifest.{ext}"), stored.source.clone())
        } else {
            (
                "manifest.json".to_string(),
                crate::manifest::export::to_string(
                    &stored.document,
                    crate::manifest::export::ExportFormat::Json,
                ),
            )
        };
        let bytes = package::build(&Contents {
            manifest_name,
            manifest: manifest_text,
            readme: Some(readme),
            icon: None,
            flow,
            tests: Some(
                serde_json::json!({"passed": tests.passed, "failed": tests.failed, "at": now()})
                    .to_string(),
            ),
        })?;
        let sha = package::sha256_hex(&bytes);
        progress(cb, "publish", "signing", 3, 5);
        let key = self.signing_key().await?;
        let account: Account = client.get("/v1/me").await?;
        if account.public_key.as_deref() != Some(key.public_b64().as_str()) {
            let _: Account = client
                .send_json(
                    reqwest::Method::PUT,
                    "/v1/me/key",
                    &KeyInput {
                        public_key: key.public_b64(),
                        rotation: None,
                    },
                )
                .await?;
        }
        progress(cb, "publish", "uploading", 4, 5);
        use base64::Engine;
        let req = PublishRequest {
            package: base64::engine::general_purpose::STANDARD.encode(&bytes),
            signature: key.sign(&id, &stored.version, &sha),
            version: Some(stored.version.clone()),
            // Left out, the marketplace keeps what the capability has (private when new).
            visibility: visibility.map(str::to_string),
            org: org.map(str::to_string),
            price_cents,
        };
        let out: PublishOutcome = client
            .send_json(
                reqwest::Method::POST,
                &format!("/v1/capabilities/{}/versions", seg(&id)),
                &req,
            )
            .await?;
        // The library agrees: this version is published (its tests passed a moment ago).
        sqlx::query(
            "UPDATE capability_versions SET status = 'published',
               published_at = COALESCE(published_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             WHERE capability_id = ?1 AND version = ?2",
        )
        .bind(&id)
        .bind(&stored.version)
        .execute(self.registry().pool())
        .await?;
        progress(cb, "publish", "published", 5, 5);
        Ok(PublishView {
            id: out.id,
            version: out.version,
            sha256: out.sha256,
            approved: out.approved,
            tests_passed: tests.passed as i64,
            tests_total: (tests.passed + tests.failed) as i64,
            readme_generated,
            key_fingerprint: package::fingerprint(&key.public_b64()),
            url: client.url.clone(),
        })
    }

    /// Writes (or edits) your review; the cached reviews are refreshed.
    pub async fn market_review(&self, id: &str, stars: i64, text: &str) -> CoreResult<Review> {
        let client = self.market_client().await?;
        let r: Review = client
            .send_json(
                reqwest::Method::PUT,
                &format!("/v1/capabilities/{}/review", seg(id)),
                &crate::market::ReviewInput {
                    stars,
                    text: text.to_string(),
                },
            )
            .await?;
        if let Ok(all) = client
            .get::<Vec<Review>>(&format!("/v1/capabilities/{}/reviews", seg(id)))
            .await
        {
            self.registry().market_put_reviews(id, &all).await?;
        }
        Ok(r)
    }

    /// Yanks a version you published.
    pub async fn market_yank(&self, id: &str, version: &str, reason: &str) -> CoreResult<()> {
        let client = self.market_client().await?;
        let _: serde_json::Value = client
            .send_json(
                reqwest::Method::POST,
                &format!(
                    "/v1/capabilities/{}/versions/{}/yank",
                    seg(id),
                    seg(version)
                ),
                &crate::market::ReasonInput {
                    reason: reason.to_string(),
                },
            )
            .await?;
        Ok(())
    }

    /// Hands this library's publisher key over to a fresh one: the marketplace records the
    /// statement signed by the old key, and clients that pinned the old key accept versions
    /// signed by the new one (checked offline). The new key waits in the keyring (`ed25519.next`) until the
    /// marketplace has accepted it, then replaces the old one.
    pub async fn market_rotate_key(&self) -> CoreResult<Account> {
        let client = self.market_client().await?;
        let account: Account = client.get("/v1/me").await?;
        let old = self.signing_key().await?;
        if account.public_key.as_deref() != Some(old.public_b64().as_str()) {
            return Err(CoreError::InvalidArgument(format!(
                "the marketplace holds another key for {} than this library's ({}); only the key it holds can hand over — publish once from here to register this one",
                account.name,
                package::fingerprint(&old.public_b64())
            )));
        }
        let new = SigningKey::generate()?;
        let rotation = old.sign_rotation(&account.name, &new.public_b64());
        self.secrets()
            .persist(KEY_SLOT.0, "ed25519.next", Sensitive::new(new.to_hex()))
            .await?;
        let out: Account = client
            .send_json(
                reqwest::Method::PUT,
                "/v1/me/key",
                &KeyInput {
                    public_key: new.public_b64(),
                    rotation: Some(rotation),
                },
            )
            .await?;
        self.secrets()
            .persist(KEY_SLOT.0, KEY_SLOT.1, Sensitive::new(new.to_hex()))
            .await?;
        let _ = self.secrets().delete(KEY_SLOT.0, "ed25519.next").await;
        Ok(out)
    }
}
