//! The registry on a real SQLite file: imports, versions, conflicts, search, atomicity.

use capsmith_core::api::Capsmith;
use capsmith_core::CoreError;

use crate::{examples_dir, fixture};

async fn fresh() -> (tempfile::TempDir, Capsmith) {
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    (dir, app)
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const V1: &str = "capability:\n  id: echo-api\n  name: Echo API\n  version: 1.0.0\n  description: Echoes things back\n  tags: [echo, testing]\n  actions: [{ id: echo }]\n  integration: { type: api, endpoint: 'https://echo.example.com/e' }\n  permissions: [network.http.get]\n";

#[tokio::test]
async fn first_start_seeds_examples_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let app = Capsmith::open(home.clone()).await.unwrap();
    let list = app.list(None).await.unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "weather-lookup",
        "currency-converter",
        "data-analyzer",
        "slack-integration",
        "invoice-processor",
    ] {
        assert!(ids.contains(&id), "{id} seeded; got {ids:?}");
    }
    assert!(
        !ids.contains(&"custom-db-query"),
        "the broken example is not seeded"
    );
    assert!(home.join("registry.sqlite3").exists());
    // A user who removes an example does not get it back on the next start.
    app.remove("currency-converter", None).await.unwrap();
    drop(app);
    let again = Capsmith::open(home).await.unwrap();
    let ids2: Vec<String> = again
        .list(None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids2.len(), ids.len() - 1);
    assert!(!ids2.contains(&"currency-converter".to_string()));
}

#[tokio::test]
async fn import_versions_and_conflicts() {
    let (dir, app) = fresh().await;
    let p1 = write(dir.path(), "v1.yaml", V1);
    let out = app.import_files(std::slice::from_ref(&p1)).await.unwrap();
    assert!(out[0].created);
    // The same content again is a no-op, not an error.
    let again = app.import_files(std::slice::from_ref(&p1)).await.unwrap();
    assert!(!again[0].created);
    // Same id@version, different content: refused, nothing changes.
    let changed = write(
        dir.path(),
        "v1b.yaml",
        &V1.replace("Echoes things back", "Different"),
    );
    let err = app.import_files(&[changed]).await.unwrap_err();
    assert!(matches!(err, CoreError::VersionConflict { .. }), "{err}");
    assert_eq!(err.kind(), "version_conflict");
    let d = app.detail("echo-api", None).await.unwrap();
    assert_eq!(d.summary.description.as_deref(), Some("Echoes things back"));
    // A new version is kept beside the older one and becomes the latest.
    let p2 = write(
        dir.path(),
        "v2.yaml",
        &V1.replace("1.0.0", "1.10.0")
            .replace("Echo API", "Echo API 2"),
    );
    app.import_files(&[p2]).await.unwrap();
    let s = app.registry().summary("echo-api").await.unwrap();
    assert_eq!(s.version, "1.10.0");
    assert_eq!(s.versions, vec!["1.10.0", "1.0.0"]);
    assert_eq!(s.name, "Echo API 2");
    let old = app.detail("echo-api", Some("1.0.0")).await.unwrap();
    assert_eq!(old.version, "1.0.0");
    // Removing the latest makes the older one the head again.
    assert_eq!(app.remove("echo-api", Some("1.10.0")).await.unwrap(), 1);
    let s = app.registry().summary("echo-api").await.unwrap();
    assert_eq!((s.version.as_str(), s.name.as_str()), ("1.0.0", "Echo API"));
}

#[tokio::test]
async fn a_failed_batch_import_changes_nothing() {
    let (dir, app) = fresh().await;
    let before = app.registry().count().await.unwrap();
    let good = write(dir.path(), "good.yaml", V1);
    let bad = fixture("invalid/many-problems.yaml");
    let err = app.import_files(&[good.clone(), bad]).await.unwrap_err();
    assert_eq!(err.kind(), "invalid_manifest");
    assert_eq!(app.registry().count().await.unwrap(), before);
    // A conflict late in a batch rolls back the earlier, valid imports too.
    let weather = std::fs::read_to_string(examples_dir().join("weather-lookup.yaml")).unwrap();
    let conflicting = write(
        dir.path(),
        "w.yaml",
        &weather.replace("Get weather information", "Changed"),
    );
    let err = app.import_files(&[good, conflicting]).await.unwrap_err();
    assert_eq!(err.kind(), "version_conflict");
    assert_eq!(app.registry().count().await.unwrap(), before);
    assert!(matches!(
        app.detail("echo-api", None).await,
        Err(CoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn full_text_search() {
    let (dir, app) = fresh().await;
    app.import_files(&[write(dir.path(), "e.yaml", V1)])
        .await
        .unwrap();
    let hits = app.list(Some("echo")).await.unwrap();
    assert_eq!(
        hits.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["echo-api"]
    );
    // Prefix match on tags and description, several words all required.
    assert_eq!(app.list(Some("test")).await.unwrap().len(), 1);
    assert!(app
        .list(Some("weath"))
        .await
        .unwrap()
        .iter()
        .any(|c| c.id == "weather-lookup"));
    assert!(app.list(Some("echo weather")).await.unwrap().is_empty());
    // Query syntax characters are plain text, not FTS operators.
    assert!(app.list(Some("\"echo\" OR NEAR(*")).await.is_ok());
}

#[tokio::test]
async fn removing_unknown_is_not_found() {
    let (_dir, app) = fresh().await;
    let e = app.remove("nope", None).await.unwrap_err();
    assert_eq!(e.kind(), "not_found");
    let e = app
        .remove("weather-lookup", Some("9.9.9"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found");
    assert!(app.detail("weather-lookup", None).await.is_ok());
}

#[tokio::test]
async fn schema_has_the_design_tables_in_wal_mode() {
    let (_dir, app) = fresh().await;
    let pool = app.registry().pool();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(tables.contains(&"agent_capabilities".to_string()));
    assert!(tables.contains(&"executions".to_string()));
    for t in [
        "market_listings",
        "market_fts",
        "market_installs",
        "market_reviews",
    ] {
        assert!(tables.contains(&t.to_string()), "{t} missing");
    }
    assert!(
        !tables.contains(&"marketplace_cache".to_string()),
        "replaced by migration 8"
    );
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
}
