//! A new marketplace is not empty: `serve --seed-examples` publishes the bundled example
//! capabilities once, as the verified publisher `capsmith`, signed with a key kept in the data
//! folder (`seed-publisher.key`, mode 0600). Their test reports say plainly that no tests ran
//! at seeding (the examples call real APIs this machine may not reach).

use capsmith_format::examples::EXAMPLES;
use capsmith_format::market::PublishRequest;
use capsmith_format::package::{self, Contents, SigningKey};

use crate::db::Db;
use crate::error::{MarketError, MarketResult};
use crate::users::{self, NewUser};

pub const SEED_PUBLISHER: &str = "capsmith";

fn key_for(data: &std::path::Path) -> MarketResult<SigningKey> {
    let path = data.join("seed-publisher.key");
    if let Ok(hex) = std::fs::read_to_string(&path) {
        return Ok(SigningKey::from_hex(&hex)?);
    }
    let key = SigningKey::generate()?;
    std::fs::create_dir_all(data).map_err(|e| MarketError::Io {
        path: data.display().to_string(),
        source: e,
    })?;
    std::fs::write(&path, key.to_hex()).map_err(|e| MarketError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(key)
}

/// Publishes the examples unless the marketplace already holds capabilities. Returns how many
/// were published.
pub async fn seed_examples(db: &Db, data: &std::path::Path) -> MarketResult<usize> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM capabilities")
        .fetch_one(&db.pool)
        .await?;
    if n > 0 {
        return Ok(0);
    }
    users::add_user(
        db,
        &NewUser {
            name: SEED_PUBLISHER.into(),
            verified: true,
            ..Default::default()
        },
    )
    .await?;
    let key = key_for(data)?;
    let user = users::by_name(db, SEED_PUBLISHER).await?;
    users::set_key(db, &user, &key.public_b64(), None).await?;
    let user = users::by_name(db, SEED_PUBLISHER).await?;
    let mut published = 0;
    for e in EXAMPLES.iter().filter(|e| e.seed) {
        let checked = capsmith_format::validate::check_text(
            e.file,
            e.text,
            capsmith_format::manifest::SourceFormat::detect(e.file, e.text),
            None,
        );
        let Some(m) = checked.manifest else { continue };
        let ext = e.file.rsplit('.').next().unwrap_or("yaml");
        let readme = package::docs::generate(
            &m.document,
            &m.permissions_in_force(),
            &m.analysis.allowed_domains,
            package::docs::DocFormat::Markdown,
        );
        let bytes = package::build(&Contents {
            manifest_name: format!("manifest.{ext}"),
            manifest: e.text.to_string(),
            readme: Some(readme),
            icon: None,
            flow: None,
            tests: Some(
                serde_json::json!({"passed": 0, "failed": 0, "note": "seeded from the bundled examples; no tests ran"})
                    .to_string(),
            ),
        })?;
        let id = m.document.capability.id.clone();
        let sha = package::sha256_hex(&bytes);
        use base64::Engine;
        let req = PublishRequest {
            package: base64::engine::general_purpose::STANDARD.encode(&bytes),
            signature: key.sign(&id, &m.version(), &sha),
            version: Some(m.version()),
            visibility: Some("public".into()),
            org: None,
            price_cents: None,
        };
        crate::store::publish(db, &user, &id, &req).await?;
        published += 1;
    }
    Ok(published)
}
