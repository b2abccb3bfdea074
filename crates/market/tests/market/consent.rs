//! The trust chain through the real client, against a server process on SQLite and on
//! PostgreSQL: consent computed from the signed package (a listing narrower than its archive
//! is refused, nothing written), the run-time check against what was consented to (a registry
//! row widened after consent does not run), revocation (carried by sync, holds offline), an id
//! that is taken locally (refused unless replaced; secrets keyed by source), and key
//! continuity (a hand-over signed by the old key is followed, anything else refused).

use capsmith_core::api::market::MarketProgress;
use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use capsmith_core::secrets::Sensitive;
use serde_json::json;

use crate::support::*;

fn quiet(_: MarketProgress) {}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name("postgres").await } )* }
    };
}

both!(
    a_listing_narrower_than_its_signed_package_is_refused_and_nothing_is_written,
    a_manifest_widened_after_consent_does_not_run_until_the_user_consents,
    a_revoked_version_stops_running_offline_too_and_the_newest_good_one_is_offered,
    an_id_taken_locally_is_not_taken_over_and_secrets_stay_with_their_source,
    a_key_handed_over_by_the_old_key_is_followed_anything_else_is_refused,
);

struct World;

impl World {
    #[allow(clippy::new_ret_no_self)]
    fn new(kind: &str) -> Market {
        Market::new(kind, &[])
    }
}

async fn publish(app: &Capsmith, text: &str, spec: &str) {
    app.import_bytes("m.yaml", text.as_bytes()).await.unwrap();
    app.market_publish(spec, Some("public"), None, Some(0), &quiet)
        .await
        .unwrap();
}

async fn library_versions(app: &Capsmith, id: &str) -> Vec<String> {
    app.registry()
        .summary(id)
        .await
        .map(|s| s.versions)
        .unwrap_or_default()
}

async fn client_sql(app: &Capsmith, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(app.registry().pool())
        .await
        .unwrap();
}

/// A secret as the keyring holds it under `slot`.
async fn secret(app: &Capsmith, slot: &str, key: &str) -> Option<String> {
    app.secrets()
        .retrieve(slot, key)
        .await
        .unwrap()
        .map(|s| s.expose().clone())
}

async fn run(app: &Capsmith, id: &str) -> Result<(), capsmith_core::CoreError> {
    app.run_action(id, None, "get", &json!({"q": "x"}), Origin::Cli)
        .await
        .map(|_| ())
}

/// A manifest with a secret configuration key `token`.
fn with_secret(id: &str, version: &str, host: &str) -> String {
    manifest(id, version, &[], host).replace(
        "  actions:\n",
        "  configuration:\n    - key: token\n      type: secret\n      required: false\n  actions:\n",
    )
}

async fn a_listing_narrower_than_its_signed_package_is_refused_and_nothing_is_written(kind: &str) {
    let w = World::new(kind);
    let publisher = w.home("pub", "alice").await;
    let user = w.home("user", "bob").await;
    publish(
        &publisher,
        &manifest("wide", "1.0.0", &["network.http.post"], "wide.example"),
        "wide@1.0.0",
    )
    .await;
    // The marketplace now shows less than the signed package asks for: no POST, another host.
    w.server_sql(
        "UPDATE versions SET info = replace(replace(info, ',\"network.http.post\"', ''), 'wide.example', 'narrow.example') WHERE capability_id = 'wide'",
    )
    .await;
    user.market_sync(true, &quiet).await.unwrap();
    let listed = user.market_detail("wide").await.unwrap().listing;
    assert_eq!(listed.versions[0].permissions, ["network.http.get"]);

    let e = user.market_install_plan("wide").await.unwrap_err();
    assert_eq!(e.kind(), "listing_mismatch", "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("`network.http.post`"),
        "names the permission: {msg}"
    );
    assert!(msg.contains("`wide.example`"), "names the host: {msg}");
    let consent: Vec<String> = ["network.http.get", "narrow.example"]
        .map(String::from)
        .to_vec();
    let e = user
        .market_install("wide", &consent, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "listing_mismatch", "{e}");
    // Consenting to everything the package really asks does not help either: the listing lies.
    let all: Vec<String> = [
        "network.http.get",
        "network.http.post",
        "wide.example",
        "narrow.example",
    ]
    .map(String::from)
    .to_vec();
    let e = user
        .market_install("wide", &all, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "listing_mismatch", "{e}");
    assert!(library_versions(&user, "wide").await.is_empty());
    assert!(user
        .registry()
        .market_install_record("wide")
        .await
        .unwrap()
        .is_none());
    assert!(user
        .registry()
        .market_consent("wide", "1.0.0")
        .await
        .unwrap()
        .is_none());
    let kept = std::fs::read_dir(user.home().join("market").join("packages"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(kept, 0, "a package whose listing lies is not kept either");
}

async fn a_manifest_widened_after_consent_does_not_run_until_the_user_consents(kind: &str) {
    let w = World::new(kind);
    let publisher = w.home("pub", "alice").await;
    let user = w.home("user", "bob").await;
    publish(
        &publisher,
        &manifest("tally", "1.0.0", &[], "127.0.0.1"),
        "tally@1.0.0",
    )
    .await;
    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("tally").await.unwrap();
    assert_eq!(plan.domains, ["127.0.0.1"]);
    let consent: Vec<String> = ["network.http.get", "127.0.0.1"].map(String::from).to_vec();
    user.market_install("tally", &consent, None, false, &quiet)
        .await
        .unwrap();
    run(&user, "tally").await.expect("runs within its consent");

    // Another host slipped into the stored row.
    client_sql(
        &user,
        "UPDATE capability_versions SET allowed_domains = '[\"127.0.0.1\",\"evil.example\"]' WHERE capability_id = 'tally'",
    )
    .await;
    let e = run(&user, "tally").await.unwrap_err();
    assert_eq!(e.kind(), "consent_required", "{e}");
    assert!(e.to_string().contains("evil.example"), "{e}");
    let c = user.market_run_consent("tally", None).await.unwrap();
    assert_eq!(c.missing_domains, ["evil.example"]);

    // A permission declared in the stored definition.
    client_sql(
        &user,
        "UPDATE capability_versions SET allowed_domains = '[\"127.0.0.1\"]',
           definition = json_set(definition, '$.capability.permissions', json('[\"network.http.get\",\"network.http.delete\"]'))
         WHERE capability_id = 'tally'",
    )
    .await;
    let e = run(&user, "tally").await.unwrap_err();
    assert_eq!(e.kind(), "consent_required", "{e}");
    assert!(e.to_string().contains("network.http.delete"), "{e}");

    // Another capability it may now call.
    client_sql(
        &user,
        "UPDATE capability_versions SET
           definition = json_set(definition, '$.capability.permissions', json('[\"network.http.get\"]'),
             '$.capability.dependencies', json('[{\"id\":\"mailer\",\"version\":\"^1\"}]'))
         WHERE capability_id = 'tally'",
    )
    .await;
    let e = run(&user, "tally").await.unwrap_err();
    assert_eq!(e.kind(), "consent_required", "{e}");
    assert!(e.to_string().contains("mailer"), "{e}");

    // Consent names exactly what is asked: less is refused, and changes nothing.
    let e = user
        .market_grant_consent("tally", None, &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    assert!(run(&user, "tally").await.is_err());
    let c = user
        .market_grant_consent("tally", None, &["mailer".to_string()])
        .await
        .unwrap();
    assert!(c.missing_capabilities.is_empty());
    run(&user, "tally").await.expect("runs once consented to");

    // A record of consent that is lost is consent to nothing.
    client_sql(
        &user,
        "DELETE FROM market_consents WHERE capability_id = 'tally'",
    )
    .await;
    let e = run(&user, "tally").await.unwrap_err();
    assert_eq!(e.kind(), "consent_required", "{e}");
    // A capability made here is not held to marketplace consent.
    user.import_bytes(
        "own.yaml",
        manifest("own", "1.0.0", &[], "127.0.0.1").as_bytes(),
    )
    .await
    .unwrap();
    run(&user, "own").await.expect("a local capability runs");
}

async fn a_revoked_version_stops_running_offline_too_and_the_newest_good_one_is_offered(
    kind: &str,
) {
    let mut w = World::new(kind);
    let publisher = w.home("pub", "alice").await;
    let user = w.home("user", "bob").await;
    let root = add_user(&w.store, "root", &["--admin"]);
    for v in ["1.0.0", "1.1.0"] {
        publish(
            &publisher,
            &manifest("geo", v, &[], "127.0.0.1"),
            &format!("geo@{v}"),
        )
        .await;
    }
    user.market_sync(false, &quiet).await.unwrap();
    let consent: Vec<String> = ["network.http.get", "127.0.0.1"].map(String::from).to_vec();
    user.market_install("geo@1.1.0", &consent, None, false, &quiet)
        .await
        .unwrap();
    run(&user, "geo").await.unwrap();

    let as_alice = Api::new(&w.url(), None);
    let admin = Api::new(&w.url(), Some(&root));
    // Only a marketplace administrator revokes.
    let token = add_user(&w.store, "mallory", &[]);
    let r = Api::new(&w.url(), Some(&token))
        .post(
            "/v1/capabilities/geo/versions/1.1.0/revoke",
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post(
            "/v1/capabilities/geo/versions/1.1.0/revoke",
            json!({"reason": "sends the query to a third party"}),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.json());
    // Nobody downloads it any more; it is not installable.
    let r = as_alice
        .get("/v1/capabilities/geo/versions/1.1.0/package")
        .await;
    assert_eq!((r.status, r.code().as_str()), (410, "revoked"));
    let l = as_alice.get("/v1/capabilities/geo").await.json();
    assert_eq!(l["latest_version"], "1.0.0");

    user.market_sync(false, &quiet).await.unwrap();
    let e = run(&user, "geo").await.unwrap_err();
    assert_eq!(e.kind(), "revoked", "{e}");
    let msg = e.to_string();
    assert!(msg.contains("sends the query to a third party"), "{msg}");
    assert!(
        msg.contains("1.0.0"),
        "offers the newest good version: {msg}"
    );
    let detail = user.market_detail("geo").await.unwrap();
    assert_eq!(
        detail.installed.as_ref().unwrap().revoked.as_deref(),
        Some("sends the query to a third party")
    );
    // No consent brings it back.
    let e = user
        .market_grant_consent("geo", None, &consent)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "revoked");

    // Offline: the server is gone, a full re-sync cannot happen; still refused.
    w.server.take();
    let e = run(&user, "geo").await.unwrap_err();
    assert_eq!(e.kind(), "revoked", "{e}");
    let e = user
        .market_install("geo@1.1.0", &consent, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "revoked", "{e}");
    // The cache emptied (as a switch of marketplace does) lifts nothing.
    client_sql(&user, "DELETE FROM market_listing_docs").await;
    let e = run(&user, "geo").await.unwrap_err();
    assert_eq!(e.kind(), "revoked", "{e}");
}

async fn an_id_taken_locally_is_not_taken_over_and_secrets_stay_with_their_source(kind: &str) {
    let w = World::new(kind);
    let publisher = w.home("pub", "alice").await;
    let user = w.home("user", "bob").await;
    publish(
        &publisher,
        &with_secret("notes", "2.0.0", "notes.example"),
        "notes@2.0.0",
    )
    .await;
    // bob made his own `notes`, with its own secret.
    user.import_bytes(
        "notes.yaml",
        with_secret("notes", "1.0.0", "127.0.0.1").as_bytes(),
    )
    .await
    .unwrap();
    user.config_set("notes", "token", Sensitive::new("bobs-own-secret".into()))
        .await
        .unwrap();
    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("notes").await.unwrap();
    let taken = plan
        .id_taken
        .clone()
        .expect("the plan says the id is taken");
    assert!(taken.contains("made or imported here"), "{taken}");
    assert!(taken.contains("alice"), "names the publisher: {taken}");
    let consent: Vec<String> = ["network.http.get", "notes.example"]
        .map(String::from)
        .to_vec();
    let e = user
        .market_install("notes", &consent, None, false, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "id_taken", "{e}");
    assert_eq!(library_versions(&user, "notes").await, ["1.0.0"]);
    assert_eq!(
        secret(&user, "notes", "token").await.as_deref(),
        Some("bobs-own-secret"),
        "nothing of his was touched"
    );

    // Replacing removes his capability and its secret first; the package starts with none.
    user.market_install("notes", &consent, None, true, &quiet)
        .await
        .unwrap();
    assert_eq!(library_versions(&user, "notes").await, ["2.0.0"]);
    assert!(user
        .secrets()
        .retrieve("notes", "token")
        .await
        .unwrap()
        .is_none());
    let cfg = user.config_list("notes").await.unwrap();
    assert!(!cfg.iter().find(|c| c.key == "token").unwrap().set);

    // A secret left under the bare id (by a local capability that is gone) never reaches the
    // package: its secrets live under its source.
    user.secrets()
        .persist("notes", "token", Sensitive::new("left-behind".into()))
        .await
        .unwrap();
    let cfg = user.config_list("notes").await.unwrap();
    assert!(!cfg.iter().find(|c| c.key == "token").unwrap().set);
    user.config_set("notes", "token", Sensitive::new("for-the-package".into()))
        .await
        .unwrap();
    assert_eq!(
        secret(&user, "notes", "token").await.as_deref(),
        Some("left-behind"),
        "the package's secret went to its own slot"
    );
    // Uninstalling takes the package's secret, not the local one's.
    user.market_uninstall("notes").await.unwrap();
    assert!(user
        .secrets()
        .retrieve("notes", "token")
        .await
        .unwrap()
        .is_some());
    user.secrets().delete("notes", "token").await.unwrap();
}

async fn a_key_handed_over_by_the_old_key_is_followed_anything_else_is_refused(kind: &str) {
    let w = World::new(kind);
    let publisher = w.home("pub", "alice").await;
    let user = w.home("user", "bob").await;
    let consent: Vec<String> = ["network.http.get", "keys.example"]
        .map(String::from)
        .to_vec();
    publish(
        &publisher,
        &manifest("keyed", "1.0.0", &[], "keys.example"),
        "keyed@1.0.0",
    )
    .await;
    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("keyed").await.unwrap();
    assert_eq!(plan.key_state, "new");
    assert!(plan.key_fingerprint.starts_with("SHA256:"));
    user.market_install("keyed", &consent, None, false, &quiet)
        .await
        .unwrap();

    // alice hands over to a new key, signed by the old one.
    let acc = publisher.market_rotate_key().await.unwrap();
    assert_ne!(acc.public_key, None);
    publish(
        &publisher,
        &manifest("keyed", "1.1.0", &[], "keys.example"),
        "keyed@1.1.0",
    )
    .await;
    user.market_sync(false, &quiet).await.unwrap();
    let plan = user.market_install_plan("keyed").await.unwrap();
    assert_eq!(plan.key_state, "rotated");
    let out = user.market_update("keyed", &consent, &quiet).await.unwrap();
    assert_eq!(out.version, "1.1.0");

    // A hand-over signed by some other key is refused by the server…
    let token = add_user(&w.store, "carol", &[]);
    let carol = Api::new(&w.url(), Some(&token));
    let k1 = capsmith_core::package::SigningKey::generate().unwrap();
    let k2 = capsmith_core::package::SigningKey::generate().unwrap();
    let k3 = capsmith_core::package::SigningKey::generate().unwrap();
    assert_eq!(
        carol
            .put("/v1/me/key", json!({"public_key": k1.public_b64()}))
            .await
            .status,
        200
    );
    let forged = k3.sign_rotation("carol", &k2.public_b64());
    let r = carol
        .put(
            "/v1/me/key",
            json!({"public_key": k2.public_b64(), "rotation": forged}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "signature_invalid"));

    // …and one the server accepted without a hand-over (a stolen token) leaves clients cold,
    // even when the server also serves a forged statement for it.
    let thief_key = capsmith_core::package::SigningKey::generate().unwrap();
    publisher
        .secrets()
        .persist("@publisher", "ed25519", Sensitive::new(thief_key.to_hex()))
        .await
        .unwrap();
    publish(
        &publisher,
        &manifest("keyed", "1.2.0", &[], "keys.example"),
        "keyed@1.2.0",
    )
    .await;
    let current = user
        .market_detail("keyed")
        .await
        .unwrap()
        .listing
        .versions
        .iter()
        .find(|v| v.version == "1.1.0")
        .unwrap()
        .public_key
        .clone();
    let bogus = k3.sign_rotation("alice", &thief_key.public_b64());
    w.server_sql(&format!(
        "INSERT INTO key_rotations (user_id, old_key, new_key, signature, at)
         SELECT id, '{current}', '{}', '{bogus}', '2026-12-03T00:00:00Z' FROM users WHERE name = 'alice'",
        thief_key.public_b64()
    ))
    .await;
    user.market_sync(true, &quiet).await.unwrap();
    let plan = user.market_install_plan("keyed").await.unwrap();
    assert_eq!(plan.key_state, "changed");
    let e = user
        .market_update("keyed", &consent, &quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "publisher_key_changed", "{e}");
    assert_eq!(library_versions(&user, "keyed").await, ["1.1.0", "1.0.0"]);
}
