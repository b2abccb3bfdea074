//! Publishing a version: the archive, the signature before anything is evaluated, the
//! manifest (validated off the async threads), the test report, who may publish and what it
//! may change; all in one transaction.

use super::*;

/// A package's test report (`tests.json`), as `capsmith publish` writes it.
#[derive(Debug, Deserialize)]
struct TestsFile {
    passed: i64,
    failed: i64,
}

/// Publishes a version: checks the archive, its manifest, its signature by the user's
/// registered key, the publish-time test report, the id's owner and that the version is new;
/// then stores it all in one transaction.
pub async fn publish(
    db: &Db,
    user: &User,
    id: &str,
    req: &PublishRequest,
) -> MarketResult<PublishOutcome> {
    // Two servers may take the first version of a new id at once; the loser's insert hits the
    // primary key. Run it again: it then sees the winner's row (and says who owns the id, or
    // that the version exists).
    for _ in 0..2 {
        match publish_once(db, user, id, req).await {
            Err(MarketError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {}
            other => return other,
        }
    }
    publish_once(db, user, id, req).await
}

async fn publish_once(
    db: &Db,
    user: &User,
    id: &str,
    req: &PublishRequest,
) -> MarketResult<PublishOutcome> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.package.trim())
        .map_err(|_| MarketError::BadRequest("`package` is not base64".into()))?;
    let contents = capsmith_format::package::open(&bytes)?;
    // The signature comes first: nothing in a package is evaluated (its JavaScript module's top
    // level runs when it is validated) before its publisher is known to have signed it.
    let Some(key) = user.public_key.as_deref() else {
        return Err(MarketError::NoPublicKey);
    };
    let declared = |field| {
        capsmith_format::manifest::declared(&contents.manifest_name, &contents.manifest, field)
    };
    if let Some(other) = declared("id").filter(|d| d != id) {
        return Err(MarketError::BadRequest(format!(
            "the package is `{other}`, not `{id}`"
        )));
    }
    let signed_version = match req.version.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => declared("version")
            .ok_or_else(|| {
                MarketError::BadRequest(format!(
                    "say which version this is (`version`): the package's {} does not state it as a literal",
                    contents.manifest_name
                ))
            })?,
    };
    let sha256 = capsmith_format::package::sha256_hex(&bytes);
    capsmith_format::package::verify(key, id, &signed_version, &sha256, &req.signature)?;
    // Validation may evaluate a module in a sandbox worker, which blocks: not on a tokio
    // worker thread.
    let (name, text) = (contents.manifest_name.clone(), contents.manifest.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let format = capsmith_format::manifest::SourceFormat::detect(&name, &text);
        capsmith_format::validate::check_text(&name, &text, format, None)
    })
    .await
    .map_err(|e| MarketError::PackageInvalid(format!("the package's validation stopped: {e}")))?;
    let Some(manifest) = checked.manifest.as_ref() else {
        let first = checked
            .diagnostics
            .iter()
            .find(|d| d.severity == capsmith_format::diagnostics::Severity::Error)
            .map(|d| {
                format!(
                    "{}{}: {}",
                    d.path.clone().unwrap_or_default(),
                    d.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
                    d.message
                )
            })
            .unwrap_or_default();
        return Err(MarketError::PackageInvalid(format!(
            "the package's {} is not a valid capability: {first}",
            contents.manifest_name
        )));
    };
    let cap = &manifest.document.capability;
    let version = cap.version_or_default();
    if cap.id != id {
        return Err(MarketError::BadRequest(format!(
            "the package is `{}`, not `{id}`",
            cap.id
        )));
    }
    if version != signed_version {
        return Err(MarketError::PackageInvalid(format!(
            "the package declares version {version}, but was signed as {signed_version}"
        )));
    }
    let tests: TestsFile = contents
        .tests
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .ok_or_else(|| {
            MarketError::TestsFailing(
                "the package has no test report (tests.json); publish with `capsmith publish`, which runs the tests first".into(),
            )
        })?;
    if tests.failed > 0 {
        return Err(MarketError::TestsFailing(format!(
            "{} of {} test case(s) failed at publish",
            tests.failed,
            tests.passed + tests.failed
        )));
    }
    // Flags are checked for form here; whether this user may change them, below.
    if let Some(v) = &req.visibility {
        if !VISIBILITIES.contains(&v.as_str()) {
            return Err(MarketError::BadRequest(format!(
                "visibility must be public, organization or private, not `{v}`"
            )));
        }
    }

    let readme = contents.readme.clone().unwrap_or_else(|| {
        capsmith_format::package::docs::generate(
            &manifest.document,
            &manifest.permissions_in_force(),
            &manifest.analysis.allowed_domains,
            capsmith_format::package::docs::DocFormat::Markdown,
        )
    });
    let kind = manifest
        .analysis
        .kind
        .map(|k| k.as_str().to_string())
        .unwrap_or_else(|| "declarative".into());
    let terms = capsmith_format::market::Terms::of(manifest);
    let mut extra = VersionExtra {
        card: Some(VersionCard {
            name: cap.name.clone(),
            description: cap.description.clone(),
            icon: cap.icon.clone(),
            category: cap.category.clone(),
            tags: cap.tags.clone(),
            kind: kind.clone(),
            license: cap.license.clone(),
        }),
        price_cents: 0,
        permissions: terms.permissions,
        domains: terms.domains,
        configuration: terms.configuration,
        dependencies: terms.dependencies,
    };

    let mut tx = db.write().await?;
    let existing = sqlx::query(db.sql(
        "SELECT c.owner_id, c.org, c.visibility, c.price_cents, u.name FROM capabilities c JOIN users u ON u.id = c.owner_id WHERE c.id = $1",
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    // What others see of it: a publish without flags keeps it (a first one is private); flags
    // that change it are an explicit change, which only the owner side may make.
    let (settings, before) = match &existing {
        Some(r) => {
            let owner: i64 = r.try_get("owner_id")?;
            let current = Settings {
                visibility: r.try_get("visibility")?,
                org: r.try_get("org")?,
                price: r.try_get("price_cents")?,
            };
            let may = owner == user.id || current.org.as_deref().is_some_and(|o| user.is_member(o));
            if !may {
                return Err(MarketError::NamespaceTaken {
                    id: id.to_string(),
                    owner: r.try_get("name")?,
                });
            }
            let wanted = Settings {
                visibility: req
                    .visibility
                    .clone()
                    .unwrap_or_else(|| current.visibility.clone()),
                org: req.org.clone().or_else(|| current.org.clone()),
                price: req.price_cents.unwrap_or(current.price),
            };
            may_change(user, id, owner, &current, &wanted)?;
            (wanted, Some(current))
        }
        None => {
            if let Some(org) = &req.org {
                if !user.is_member(org) {
                    return Err(MarketError::Forbidden(format!(
                        "you are not a member of the organization `{org}`"
                    )));
                }
            }
            let first = Settings {
                visibility: req.visibility.clone().unwrap_or_else(|| "private".into()),
                org: req.org.clone(),
                price: req.price_cents.unwrap_or(0),
            };
            (first, None)
        }
    };
    settings.check()?;
    extra.price_cents = settings.price;
    let org = settings.org.clone();
    let (visibility, price) = (settings.visibility.clone(), settings.price);
    let exists: Option<(String,)> = sqlx::query_as(
        db.sql("SELECT version FROM versions WHERE capability_id = $1 AND version = $2"),
    )
    .bind(id)
    .bind(&version)
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_some() {
        return Err(MarketError::VersionExists {
            id: id.to_string(),
            version,
        });
    }
    let approved =
        org.is_none() || user.admin || org.as_deref().is_some_and(|o| user.is_org_admin(o));
    let seq = db.next_seq(&mut tx).await?;
    let at = now();
    let tags = serde_json::to_string(&cap.tags).unwrap_or_else(|_| "[]".into());
    if existing.is_none() {
        sqlx::query(db.sql(
            "INSERT INTO capabilities (id, owner_id, org, visibility, name, description, icon, category,
               tags, kind, license, price_cents, seq, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
        ))
        .bind(id)
        .bind(user.id)
        .bind(org.as_deref())
        .bind(&visibility)
        .bind(&cap.name)
        .bind(cap.description.as_deref())
        .bind(cap.icon.as_deref())
        .bind(cap.category.as_deref())
        .bind(&tags)
        .bind(&kind)
        .bind(cap.license.as_deref())
        .bind(price)
        .bind(seq)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    }
    db.put_blob(&mut tx, &sha256, &bytes).await?;
    sqlx::query(db.sql(
        "INSERT INTO versions (capability_id, version, sha256, signature, public_key, size, readme,
           info, tests_passed, tests_total, approved, published_by, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    ))
    .bind(id)
    .bind(&version)
    .bind(&sha256)
    .bind(req.signature.trim())
    .bind(key)
    .bind(bytes.len() as i64)
    .bind(&readme)
    .bind(serde_json::to_string(&extra).unwrap_or_default())
    .bind(tests.passed)
    .bind(tests.passed + tests.failed)
    .bind(approved as i64)
    .bind(user.id)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    // A new capability shows its first version's metadata (and is searchable by those who may
    // see it) even while that version waits for approval; later, only approved ones count.
    if before.is_none() {
        if let Some(card) = &extra.card {
            show_card(db, &mut tx, id, card).await?;
        }
    }
    if let Some(before) = &before {
        let changes = before.diff(&settings);
        if !changes.is_empty() {
            write_settings(db, &mut tx, id, &settings, seq).await?;
            audit_change(db, &mut tx, id, user, changes).await?;
        }
    }
    touch(db, &mut tx, id, seq).await?;
    tx.commit().await?;
    Ok(PublishOutcome {
        id: id.to_string(),
        version,
        sha256,
        approved,
    })
}
