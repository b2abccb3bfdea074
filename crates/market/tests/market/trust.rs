//! What others see of a capability changes only through an approved version or an explicit act
//! of its owner side, on SQLite and on PostgreSQL: the reproduction from the trust issue (a
//! member's version without flags), flags a member may not use, organization moves, and who
//! gets an unapproved or a paid version.

use capsmith_core::market::{Listing, SearchPage};
use capsmith_core::package::SigningKey;
use serde_json::json;

use crate::support::*;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name("postgres").await } )* }
    };
}

both!(
    a_members_version_changes_nothing_others_see,
    a_first_publish_without_flags_is_private,
);

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    server: Server,
}

impl World {
    fn new(kind: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = store(kind, dir.path());
        let server = Server::start(&store, &[]);
        World {
            _dir: dir,
            store,
            server,
        }
    }
    /// A user; several `extra` lists add memberships (the last token is the one that works).
    fn user(&self, name: &str, memberships: &[&[&str]]) -> Api {
        let mut token = String::new();
        for extra in memberships {
            token = add_user(&self.store, name, extra);
        }
        Api::new(&self.server.url, Some(&token))
    }
    fn anonymous(&self) -> Api {
        Api::new(&self.server.url, None)
    }
}

fn named(id: &str, version: &str, name: &str) -> String {
    manifest(id, version, &[], "a.example").replace(
        &format!("name: \"{id} tool\""),
        &format!("name: \"{name}\""),
    )
}

async fn listing(api: &Api, id: &str) -> Option<Listing> {
    let r = api.get(&format!("/v1/capabilities/{id}")).await;
    (r.status == 200).then(|| serde_json::from_slice(&r.body).unwrap())
}

async fn download(api: &Api, id: &str, version: &str) -> u16 {
    api.get(&format!("/v1/capabilities/{id}/versions/{version}/package"))
        .await
        .status
}

async fn a_members_version_changes_nothing_others_see(kind: &str) {
    let w = World::new(kind);
    // olga administers acme and gamma and is a plain member of beta.
    let olga = w.user(
        "olga",
        &[
            &["--org", "beta"],
            &["--org", "gamma", "--admin"],
            &["--org", "acme", "--admin"],
        ],
    );
    let mike = w.user("mike", &[&["--org", "acme"]]);
    let carla = w.user("carla", &[&["--org", "acme"]]);
    let anon = w.anonymous();
    let olga_key = SigningKey::generate().unwrap();
    let mike_key = SigningKey::generate().unwrap();

    let r = olga
        .publish(
            &olga_key,
            &named("orgtool", "1.0.0", "Org tool"),
            json!({"visibility": "organization", "org": "acme", "price_cents": 500}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());

    // The reproduction: mike publishes 1.0.1 with no flags (and a new name).
    let r = mike
        .publish(
            &mike_key,
            &named("orgtool", "1.0.1", "Hijacked"),
            json!({"visibility": null, "price_cents": null}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    assert_eq!(r.json()["approved"], false);
    assert_eq!(anon.get("/v1/capabilities/orgtool").await.status, 404);
    assert_eq!(download(&anon, "orgtool", "1.0.0").await, 404);
    let seen = listing(&carla, "orgtool").await.expect("members see it");
    assert_eq!(
        (
            seen.card.visibility.as_str(),
            seen.card.price_cents,
            seen.card.org.as_deref()
        ),
        ("organization", 500, Some("acme"))
    );
    assert_eq!(
        seen.card.name, "Org tool",
        "an unapproved version changes no name"
    );
    assert_eq!(
        seen.versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["1.0.0"],
        "a colleague does not see a version waiting for approval"
    );
    assert_eq!(
        download(&carla, "orgtool", "1.0.0").await,
        402,
        "still paid"
    );
    assert_eq!(download(&carla, "orgtool", "1.0.1").await, 404);
    // Its publisher and the org's admin get the waiting version.
    assert_eq!(download(&mike, "orgtool", "1.0.1").await, 200);
    assert_eq!(download(&olga, "orgtool", "1.0.1").await, 200);
    let theirs = listing(&mike, "orgtool").await.unwrap();
    assert!(theirs.versions.iter().any(|v| v.version == "1.0.1"));

    // Flags a member may not use: each refused, nothing written.
    for (i, flags) in [
        json!({"visibility": "public"}),
        json!({"visibility": null, "price_cents": 0}),
        json!({"visibility": null, "org": "beta"}),
    ]
    .into_iter()
    .enumerate()
    {
        let r = mike
            .publish(
                &mike_key,
                &named("orgtool", &format!("1.1.{i}"), "X"),
                flags.clone(),
            )
            .await;
        assert_eq!(r.status, 403, "{flags}: {:?}", r.json());
        let r = mike
            .call(
                reqwest::Method::PATCH,
                "/v1/capabilities/orgtool",
                Some(flags.clone()),
                &[],
            )
            .await;
        assert_eq!(r.status, 403, "PATCH {flags}: {:?}", r.json());
    }
    let after = listing(&olga, "orgtool").await.unwrap();
    assert_eq!(after.versions.len(), 2, "no refused version was stored");

    // Approved, the version's metadata is what everyone who may see it sees.
    let r = olga
        .post("/v1/capabilities/orgtool/versions/1.0.1/approve", json!({}))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.json());
    assert_eq!(
        listing(&carla, "orgtool").await.unwrap().card.name,
        "Hijacked"
    );

    // The owner side changes settings explicitly; an org admin moves it only between
    // organizations they administer.
    let patch = |body: serde_json::Value| {
        let olga = &olga;
        async move {
            olga.call(
                reqwest::Method::PATCH,
                "/v1/capabilities/orgtool",
                Some(body),
                &[],
            )
            .await
        }
    };
    assert_eq!(patch(json!({"org": "beta"})).await.status, 403);
    assert_eq!(patch(json!({"org": "nowhere"})).await.status, 403);
    assert_eq!(patch(json!({"visibility": "sideways"})).await.status, 400);
    assert_eq!(patch(json!({"org": "gamma"})).await.status, 204);
    assert_eq!(
        listing(&carla, "orgtool").await.map(|l| l.card.id),
        None,
        "moved out of acme: acme's members no longer see it"
    );
    assert_eq!(patch(json!({"visibility": "public"})).await.status, 204);
    let public = listing(&anon, "orgtool").await.expect("public now");
    assert_eq!(public.card.price_cents, 500);
    assert_eq!(download(&anon, "orgtool", "1.0.0").await, 402);
    // Made free: versions published while it was paid stay paid.
    assert_eq!(patch(json!({"price_cents": 0})).await.status, 204);
    assert_eq!(download(&anon, "orgtool", "1.0.0").await, 402);
    assert_eq!(download(&anon, "orgtool", "1.0.1").await, 402);
}

async fn a_first_publish_without_flags_is_private(kind: &str) {
    let w = World::new(kind);
    let alice = w.user("alice", &[&[]]);
    let bob = w.user("bob", &[&[]]);
    let anon = w.anonymous();
    let key = SigningKey::generate().unwrap();
    let r = alice
        .publish(
            &key,
            &named("quiet", "1.0.0", "Quiet"),
            json!({"visibility": null, "price_cents": null}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    assert_eq!(
        listing(&alice, "quiet").await.unwrap().card.visibility,
        "private"
    );
    assert_eq!(anon.get("/v1/capabilities/quiet").await.status, 404);
    let page: SearchPage =
        serde_json::from_slice(&bob.get("/v1/capabilities?q=quiet").await.body).unwrap();
    assert_eq!(page.total, 0);
    // A later version without flags keeps it private; the owner opens it explicitly.
    alice
        .publish(
            &key,
            &named("quiet", "1.1.0", "Quiet"),
            json!({"visibility": null}),
        )
        .await;
    assert_eq!(anon.get("/v1/capabilities/quiet").await.status, 404);
    let r = alice
        .call(
            reqwest::Method::PATCH,
            "/v1/capabilities/quiet",
            Some(json!({"visibility": "public"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.json());
    assert_eq!(anon.get("/v1/capabilities/quiet").await.status, 200);
    // Someone else may not.
    let r = bob
        .call(
            reqwest::Method::PATCH,
            "/v1/capabilities/quiet",
            Some(json!({"visibility": "private"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.json());
}
