//! The core's marketplace client against a real server process: the offline catalog and
//! cache, publish → install → update with a permission diff → rollback → uninstall, and the
//! tamper tests (a flipped byte, a swapped signature, a replaced key), each refused with the
//! library left as it was. Secrets go to the real Secret Service (the test command starts one).

use capsmith_core::api::market::{MarketProgress, MarketQuery};
use capsmith_core::api::Capsmith;
use capsmith_core::package::SigningKey;
use capsmith_core::secrets::Sensitive;
use serde_json::json;

use crate::support::*;

fn quiet(_: MarketProgress) {}

/// The client tests run against a server on SQLite (`consent.rs` runs on both backends).
struct Setup;

impl Setup {
    #[allow(clippy::new_ret_no_self)]
    fn new(seed: bool) -> Market {
        Market::new("sqlite", if seed { &["--seed-examples"] } else { &[] })
    }
}

async fn server_sql(setup: &Market, sql: &str) {
    setup.server_sql(sql).await
}

async fn library_versions(app: &Capsmith, id: &str) -> Vec<String> {
    app.registry()
        .summary(id)
        .await
        .map(|s| s.versions)
        .unwrap_or_default()
}

#[tokio::test]
async fn the_catalog_the_cache_and_browsing_offline() {
    let mut s = Setup::new(true);
    let dir = tempfile::tempdir().unwrap();
    // First start, no marketplace: the built-in catalog.
    let fresh = Capsmith::open(dir.path().join("fresh")).await.unwrap();
    let st = fresh.market_status().await.unwrap();
    assert_eq!(st.source, "bundled");
    assert!(st.cached >= 5, "{st:?}");
    let page = fresh
        .market_search(&MarketQuery {
            text: Some("weather".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].card.id, "weather-lookup");

    let app = s.home("h", "reader").await;
    let progress = std::sync::Mutex::new(Vec::new());
    let r = app
        .market_sync(false, &|p: MarketProgress| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert!(!r.unchanged && r.fetched >= 5, "{r:?}");
    assert!(progress
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.total >= r.fetched && p.done == r.fetched));
    assert_eq!(app.market_status().await.unwrap().source, "server");
    // The category counts follow the cache: the seeded examples' categories, each counted.
    let all = app.market_search(&MarketQuery::default()).await.unwrap();
    let data = all
        .categories
        .iter()
        .find(|c| c.name == "Data")
        .expect("Data");
    let in_data = app
        .market_search(&MarketQuery {
            category: Some("Data".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(data.count, in_data.total);
    // Unchanged: a 304, nothing fetched.
    let again = app.market_sync(false, &quiet).await.unwrap();
    assert!(again.unchanged && again.fetched == 0, "{again:?}");
    // Something new on the server: only it comes.
    let alice = Api::new(&s.url(), Some(&add_user(&s.store, "alice", &[])));
    alice
        .publish(
            &SigningKey::generate().unwrap(),
            &manifest("fresh-news", "1.0.0", &["network.http.get"], "news.example"),
            json!({}),
        )
        .await;
    let inc = app.market_sync(false, &quiet).await.unwrap();
    assert_eq!((inc.fetched, inc.unchanged), (1, false));
    let d = app.market_detail("fresh-news").await.unwrap();
    assert!(!d.offline);
    assert_eq!(d.listing.versions[0].domains, ["news.example"]);

    // The server goes away: search and detail still work, from the cache; a sync says why not.
    s.server.take().unwrap().stop();
    let page = app
        .market_search(&MarketQuery {
            text: Some("news".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let d = app.market_detail("fresh-news").await.unwrap();
    assert!(d.offline);
    let e = app.market_sync(false, &quiet).await.unwrap_err();
    assert_eq!(e.kind(), "market_unreachable");
    assert_eq!(app.market_status().await.unwrap().cached, inc.cached);
}

#[tokio::test]
async fn publish_install_update_with_a_permission_diff_rollback_uninstall() {
    let s = Setup::new(false);
    let publisher = s.home("pub", "alice").await;
    let user = s.home("user", "bob").await;

    // A failing test stops a publish; nothing reaches the marketplace.
    let failing = manifest("geo", "0.9.0", &["network.http.get"], "geo.example")
        + "  examples:\n    - input: { q: x }\n      expected_output: { answer: y }\n";
    publisher
        .import_bytes("geo.yaml", failing.as_bytes())
        .await
        .unwrap();
    let e = publisher
        .market_publish("geo@0.9.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "tests_failing");

    publisher
        .import_bytes(
            "geo.yaml",
            manifest("geo", "1.0.0", &["network.http.get"], "geo.example").as_bytes(),
        )
        .await
        .unwrap();
    let p = publisher
        .market_publish("geo@1.0.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();
    assert_eq!(
        (p.id.as_str(), p.version.as_str(), p.approved),
        ("geo", "1.0.0", true)
    );

    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("geo").await.unwrap();
    assert_eq!(
        (
            plan.version.as_str(),
            plan.key_state.as_str(),
            plan.needs_consent
        ),
        ("1.0.0", "new", true)
    );
    assert_eq!(plan.permissions[0].description, "Make HTTP GET requests");
    assert_eq!(plan.domains, ["geo.example"]);
    // Without consent: refused, nothing written.
    let e = user
        .market_install("geo", &["network.http.get".into()], None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    assert!(e.to_string().contains("geo.example"), "{e}");
    assert!(library_versions(&user, "geo").await.is_empty());
    user.agent_create("helper", None).await.unwrap();
    let consent = vec!["network.http.get".to_string(), "geo.example".to_string()];
    let out = user
        .market_install("geo", &consent, Some("helper"), false, &quiet)
        .await
        .unwrap();
    // The consent screen already fetched and verified the archive: the install reads it back.
    assert_eq!((out.version.as_str(), out.from_cache), ("1.0.0", true));
    assert_eq!(library_versions(&user, "geo").await, ["1.0.0"]);
    assert!(user
        .agent("helper")
        .await
        .unwrap()
        .capabilities
        .iter()
        .any(|c| c.capability == "geo"));

    // 1.1.0 asks for more (POST, another host): the update waits for consent.
    publisher
        .import_bytes(
            "geo.yaml",
            manifest(
                "geo",
                "1.1.0",
                &["network.http.get", "network.http.post"],
                "geo2.example",
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    publisher
        .market_publish("geo@1.1.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();
    user.market_sync(false, &quiet).await.unwrap();
    let st = user.market_status().await.unwrap();
    assert_eq!(st.updates.len(), 1);
    let plan = user.market_install_plan("geo").await.unwrap();
    assert_eq!(plan.current.as_deref(), Some("1.0.0"));
    assert_eq!(
        plan.added_permissions
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["network.http.post"]
    );
    assert_eq!(
        (plan.added_domains.clone(), plan.removed_domains.clone()),
        (
            vec!["geo2.example".to_string()],
            vec!["geo.example".to_string()]
        )
    );
    let e = user.market_update("geo", &[], &quiet).await.unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    assert_eq!(
        library_versions(&user, "geo").await,
        ["1.0.0"],
        "stays on the old version"
    );
    let out = user
        .market_update(
            "geo",
            &["network.http.post".into(), "geo2.example".into()],
            &quiet,
        )
        .await
        .unwrap();
    assert_eq!(
        (out.version.as_str(), out.previous.as_deref()),
        ("1.1.0", Some("1.0.0"))
    );
    let agent = user.agent("helper").await.unwrap();
    assert_eq!(
        agent
            .capabilities
            .iter()
            .find(|c| c.capability == "geo")
            .unwrap()
            .version,
        "1.1.0"
    );

    // Rollback: back to 1.0.0, the agent too.
    let back = user.market_rollback("geo").await.unwrap();
    assert_eq!(back.version, "1.0.0");
    assert_eq!(library_versions(&user, "geo").await, ["1.0.0"]);
    let agent = user.agent("helper").await.unwrap();
    assert_eq!(
        agent
            .capabilities
            .iter()
            .find(|c| c.capability == "geo")
            .unwrap()
            .version,
        "1.0.0"
    );

    // Uninstall: versions, secrets and agent links go.
    user.config_set("geo", "API_KEY", Sensitive::new("s3cret".into()))
        .await
        .ok();
    user.market_uninstall("geo").await.unwrap();
    assert!(library_versions(&user, "geo").await.is_empty());
    assert!(!user
        .agent("helper")
        .await
        .unwrap()
        .capabilities
        .iter()
        .any(|c| c.capability == "geo"));
    assert!(user
        .registry()
        .market_install_record("geo")
        .await
        .unwrap()
        .is_none());

    // The archive stayed in the package cache: a reinstall downloads nothing.
    let again = user
        .market_install("geo@1.0.0", &consent, None, false, &quiet)
        .await
        .unwrap();
    assert!(again.from_cache);
}

#[tokio::test]
async fn tampered_packages_swapped_signatures_and_new_keys_are_refused() {
    let s = Setup::new(false);
    let publisher = s.home("pub", "alice").await;
    let user = s.home("user", "bob").await;
    for v in ["1.0.0", "1.1.0"] {
        publisher
            .import_bytes(
                "t.yaml",
                manifest("tally", v, &["network.http.get"], "tally.example").as_bytes(),
            )
            .await
            .unwrap();
        publisher
            .market_publish(&format!("tally@{v}"), Some("public"), None, Some(0), &quiet)
            .await
            .unwrap();
    }
    user.market_sync(false, &quiet).await.unwrap();
    let consent = vec!["network.http.get".to_string(), "tally.example".to_string()];
    let listing = user.market_detail("tally").await.unwrap().listing;
    let v11 = listing
        .versions
        .iter()
        .find(|v| v.version == "1.1.0")
        .unwrap()
        .clone();
    let v10 = listing
        .versions
        .iter()
        .find(|v| v.version == "1.0.0")
        .unwrap()
        .clone();

    // A flipped byte in the stored archive.
    let blob = s
        .dir
        .path()
        .join("data")
        .join("blobs")
        .join(format!("{}.capkg", v11.sha256));
    let good = std::fs::read(&blob).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x01;
    std::fs::write(&blob, &bad).unwrap();
    let e = user
        .market_install("tally@1.1.0", &consent, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "package_tampered", "{e}");
    assert!(library_versions(&user, "tally").await.is_empty());
    std::fs::write(&blob, &good).unwrap();

    // 1.1.0's archive carrying 1.0.0's signature.
    server_sql(
        &s,
        &format!(
            "UPDATE versions SET signature = '{}' WHERE version = '1.1.0'",
            v10.signature
        ),
    )
    .await;
    user.market_sync(true, &quiet).await.unwrap();
    let e = user
        .market_install("tally@1.1.0", &consent, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "signature_invalid", "{e}");
    assert!(library_versions(&user, "tally").await.is_empty());
    server_sql(
        &s,
        &format!(
            "UPDATE versions SET signature = '{}' WHERE version = '1.1.0'",
            v11.signature
        ),
    )
    .await;
    user.market_sync(true, &quiet).await.unwrap();

    // Installed with alice's key; then 1.2.0 comes signed by a new key.
    user.market_install("tally@1.1.0", &consent, None, false, &quiet)
        .await
        .unwrap();
    publisher
        .secrets()
        .delete("@publisher", "ed25519")
        .await
        .unwrap();
    publisher
        .import_bytes(
            "t.yaml",
            manifest("tally", "1.2.0", &["network.http.get"], "tally.example").as_bytes(),
        )
        .await
        .unwrap();
    publisher
        .market_publish("tally@1.2.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();
    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("tally").await.unwrap();
    assert_eq!(plan.key_state, "changed");
    let e = user
        .market_update("tally", &consent, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "publisher_key_changed", "{e}");
    assert!(e.to_string().contains("uninstall tally"), "{e}");
    assert_eq!(library_versions(&user, "tally").await, ["1.1.0"]);
    // Nothing the user passes lets it through; trusting the new key is a fresh install.
    let e = user
        .market_install("tally@1.2.0", &consent, None, true, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "publisher_key_changed", "{e}");
    user.market_uninstall("tally").await.unwrap();
    let out = user
        .market_install("tally", &consent, None, false, &quiet)
        .await
        .unwrap();
    assert_eq!(out.version, "1.2.0");
}

#[tokio::test]
async fn a_yanked_version_keeps_working_where_installed_and_is_refused_afresh() {
    let s = Setup::new(false);
    let publisher = s.home("pub", "alice").await;
    let first = s.home("first", "bob").await;
    let later = s.home("later", "carol").await;
    publisher
        .import_bytes(
            "y.yaml",
            manifest("yanky", "1.0.0", &["network.http.get"], "y.example").as_bytes(),
        )
        .await
        .unwrap();
    publisher
        .market_publish("yanky@1.0.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();
    let consent = vec!["network.http.get".to_string(), "y.example".to_string()];
    first.market_sync(false, &quiet).await.unwrap();
    first
        .market_install("yanky", &consent, None, false, &quiet)
        .await
        .unwrap();
    publisher
        .market_yank("yanky", "1.0.0", "sends data twice")
        .await
        .unwrap();

    later.market_sync(false, &quiet).await.unwrap();
    let e = later
        .market_install("yanky@1.0.0", &consent, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "yanked");
    assert!(e.to_string().contains("sends data twice"));
    first.market_sync(false, &quiet).await.unwrap();
    assert_eq!(library_versions(&first, "yanky").await, ["1.0.0"]);
    let d = first.market_detail("yanky").await.unwrap();
    assert_eq!(d.installed.unwrap().version, "1.0.0");
    // Reinstalling the version you have is allowed (e.g. after a repair).
    first
        .market_install("yanky@1.0.0", &consent, None, false, &quiet)
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_refuses_clear_text_tokens_to_other_machines_and_bad_tokens() {
    let s = Setup::new(false);
    let app = Capsmith::open(s.dir.path().join("h")).await.unwrap();
    let e = app
        .market_login("http://market.example.com", "cmk_x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_argument");
    assert!(e.to_string().contains("https"), "{e}");
    let e = app
        .market_login("https://user:pw@market.example.com", "cmk_x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_argument");
    let e = app.market_login(&s.url(), "cmk_wrong").await.unwrap_err();
    assert_eq!(e.kind(), "market_unauthorized");
    assert!(e.to_string().contains("token is not valid"), "{e}");
    assert_eq!(app.market_status().await.unwrap().account, None);
}

#[tokio::test]
async fn dependencies_come_along_and_their_permissions_need_consent_too() {
    let s = Setup::new(false);
    let publisher = s.home("pub", "alice").await;
    let user = s.home("user", "bob").await;
    publisher
        .import_bytes(
            "base.yaml",
            manifest("geo-base", "1.2.0", &["network.http.get"], "base.example").as_bytes(),
        )
        .await
        .unwrap();
    publisher
        .market_publish("geo-base@1.2.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();
    let top = manifest("geo-top", "1.0.0", &["network.http.get"], "top.example")
        + "  dependencies:\n    - id: geo-base\n      version: \"^1.0\"\n";
    publisher
        .import_bytes("top.yaml", top.as_bytes())
        .await
        .unwrap();
    publisher
        .market_publish("geo-top@1.0.0", Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();

    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("geo-top").await.unwrap();
    assert_eq!(plan.dependencies, ["geo-base@1.2.0"]);
    assert_eq!(plan.domains, ["top.example", "base.example"]);
    // Consent to the capability's own host only: refused, nothing written.
    let e = user
        .market_install(
            "geo-top",
            &["network.http.get".into(), "top.example".into()],
            None,
            false,
            &quiet,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    assert!(e.to_string().contains("base.example"), "{e}");
    assert!(library_versions(&user, "geo-base").await.is_empty());
    let out = user
        .market_install(
            "geo-top",
            &[
                "network.http.get".into(),
                "top.example".into(),
                "base.example".into(),
            ],
            None,
            false,
            &quiet,
        )
        .await
        .unwrap();
    assert_eq!(out.installed, ["geo-base@1.2.0", "geo-top@1.0.0"]);
    assert_eq!(library_versions(&user, "geo-base").await, ["1.2.0"]);
}
