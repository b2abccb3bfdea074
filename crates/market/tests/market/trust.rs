//! What others see of a capability changes only through an approved version or an explicit act
//! of its owner side, on SQLite and on PostgreSQL: the reproduction from the trust issue (a
//! member's version without flags), flags a member may not use, organization moves, and who
//! gets an unapproved or a paid version.

use std::collections::BTreeSet;

use capsmith_core::market::{CategoryCount, Listing, SearchPage, SyncPage};
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
    every_role_sees_exactly_what_it_may,
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

/// The matrix: each role against each kind of capability (public, organization, private, an
/// organization capability whose first version waits for approval; free and paid), through
/// every endpoint that lists, shows, serves or counts. Nothing a role may not see reaches it,
/// not even as an id in a list.
async fn every_role_sees_exactly_what_it_may(kind: &str) {
    let w = World::new(kind);
    let oscar = w.user("oscar", &[&[]]);
    let olga = w.user("olga", &[&["--org", "acme", "--admin"]]);
    let mike = w.user("mike", &[&["--org", "acme"]]);
    let carla = w.user("carla", &[&["--org", "acme"]]);
    let ursula = w.user("ursula", &[&[]]);
    let root = w.user("root", &[&["--admin"]]);
    let anon = w.anonymous();
    let key = SigningKey::generate().unwrap();
    // (id, publisher, flags)
    let caps: [(&str, &Api, serde_json::Value); 8] = [
        ("m-pub-free", &oscar, json!({"visibility": "public"})),
        (
            "m-pub-paid",
            &oscar,
            json!({"visibility": "public", "price_cents": 300}),
        ),
        ("m-priv-free", &oscar, json!({"visibility": "private"})),
        (
            "m-priv-paid",
            &oscar,
            json!({"visibility": "private", "price_cents": 300}),
        ),
        (
            "m-org-free",
            &olga,
            json!({"visibility": "organization", "org": "acme"}),
        ),
        (
            "m-org-paid",
            &olga,
            json!({"visibility": "organization", "org": "acme", "price_cents": 300}),
        ),
        (
            "m-wait-free",
            &mike,
            json!({"visibility": "organization", "org": "acme"}),
        ),
        (
            "m-wait-paid",
            &mike,
            json!({"visibility": "organization", "org": "acme", "price_cents": 300}),
        ),
    ];
    for (id, who, flags) in &caps {
        let r = who
            .publish(&key, &named(id, "1.0.0", id), flags.clone())
            .await;
        assert_eq!(r.status, 201, "{id}: {:?}", r.json());
        let r = root
            .call(
                reqwest::Method::PUT,
                &format!("/v1/capabilities/{id}/featured"),
                Some(json!({"featured": true})),
                &[],
            )
            .await;
        assert_eq!(r.status, 204, "{id}: {:?}", r.json());
    }
    let roles: [(&str, &Api); 7] = [
        ("anonymous", &anon),
        ("user", &ursula),
        ("member", &carla),
        ("org admin", &olga),
        ("owner", &oscar),
        ("waiting owner", &mike),
        ("admin", &root),
    ];
    // Who may see what, and who may download it (200) or must pay (402).
    let sees = |role: &str, id: &str| -> bool {
        let group = id.split('-').nth(1).unwrap();
        matches!(
            (role, group),
            ("admin", _)
                | (_, "pub")
                | ("owner", "priv")
                | ("member" | "org admin" | "waiting owner", "org")
                | ("org admin" | "waiting owner", "wait")
        )
    };
    let download_status = |role: &str, id: &str| -> u16 {
        if !sees(role, id) {
            return 404;
        }
        let group = id.split('-').nth(1).unwrap();
        let privileged = matches!(
            (role, group),
            ("admin", _)
                | ("owner", "pub" | "priv")
                | ("org admin", "org" | "wait")
                | ("waiting owner", "wait")
        );
        if id.ends_with("-paid") && !privileged {
            402
        } else {
            200
        }
    };
    let ids = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    for (role, api) in roles {
        let visible: BTreeSet<String> = caps
            .iter()
            .filter(|c| sees(role, c.0))
            .map(|c| c.0.to_string())
            .collect();
        let hidden: Vec<&str> = caps
            .iter()
            .map(|c| c.0)
            .filter(|id| !sees(role, id))
            .collect();
        let search = api.get("/v1/capabilities?per_page=100").await;
        let page: SearchPage = serde_json::from_slice(&search.body).unwrap();
        assert_eq!(page.total as usize, visible.len(), "{role}: search total");
        assert_eq!(
            ids(page.items.iter().map(|c| c.id.clone()).collect()),
            visible,
            "{role}: search"
        );
        let featured = api.get("/v1/featured").await;
        let cards: Vec<capsmith_core::market::Card> =
            serde_json::from_slice(&featured.body).unwrap();
        assert_eq!(
            ids(cards.iter().map(|c| c.id.clone()).collect()),
            visible,
            "{role}: featured"
        );
        let categories = api.get("/v1/categories").await;
        let counts: Vec<CategoryCount> = serde_json::from_slice(&categories.body).unwrap();
        assert_eq!(
            counts.iter().map(|c| c.count).sum::<i64>() as usize,
            visible.len(),
            "{role}: categories"
        );
        let sync = api.get("/v1/sync?since=0").await;
        let feed: SyncPage = serde_json::from_slice(&sync.body).unwrap();
        assert_eq!(
            ids(feed.items.iter().map(|l| l.card.id.clone()).collect()),
            visible,
            "{role}: sync"
        );
        assert!(feed.removed.is_empty(), "{role}: {:?}", feed.removed);
        for body in [&search.body, &featured.body, &categories.body, &sync.body] {
            let text = String::from_utf8_lossy(body);
            for id in &hidden {
                assert!(!text.contains(id), "{role}: `{id}` leaks: {text}");
            }
        }
        for (id, _, _) in &caps {
            let detail = api.get(&format!("/v1/capabilities/{id}")).await;
            assert_eq!(
                detail.status == 200,
                sees(role, id),
                "{role}: detail of {id}"
            );
            if detail.status == 200 {
                let l: Listing = serde_json::from_slice(&detail.body).unwrap();
                assert_eq!(l.versions.len(), 1, "{role}: versions of {id}");
            }
            assert_eq!(
                download(api, id, "1.0.0").await,
                download_status(role, id),
                "{role}: download of {id}"
            );
            let reviews = api
                .get(&format!("/v1/capabilities/{id}/reviews"))
                .await
                .status;
            assert_eq!(reviews == 200, sees(role, id), "{role}: reviews of {id}");
            let install = api
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/capabilities/{id}/installs"),
                    None,
                    &[],
                )
                .await
                .status;
            assert_eq!(
                install == 204,
                sees(role, id),
                "{role}: install of {id} ({install})"
            );
        }
    }
    // Install counts: exactly the roles that could see it counted.
    for (id, _, _) in &caps {
        let l = listing(&root, id).await.unwrap();
        let expected = roles.iter().filter(|(role, _)| sees(role, id)).count() as i64;
        assert_eq!(l.card.installs, expected, "installs of {id}");
    }
}
