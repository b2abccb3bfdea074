//! The server's API, each scenario run against SQLite and against PostgreSQL.

use capsmith_core::market::{Listing, SearchPage, SyncPage};
use capsmith_core::package::{self, SigningKey};
use serde_json::json;

use crate::support::*;

/// Each scenario twice: `sqlite_…` and `postgres_…`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name("sqlite").await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name("postgres").await } )* }
    };
}

both!(
    publish_search_download_and_immutability,
    refusals_name_their_reason,
    visibility_organizations_and_approval,
    paid_capabilities_need_an_entitlement,
    yank_deprecate_reviews_and_installs,
    the_change_feed_pages_and_answers_304,
    limits_caps_and_the_error_envelope,
    made_up_ids_do_not_fill_the_rate_limiter,
);

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    server: Server,
}

fn world(kind: &str, env: &[(&str, &str)]) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = store(kind, dir.path());
    let server = Server::start(&store, env);
    World {
        _dir: dir,
        store,
        server,
    }
}

impl World {
    fn user(&self, name: &str, extra: &[&str]) -> Api {
        let token = add_user(&self.store, name, extra);
        Api::new(&self.server.url, Some(&token))
    }
    fn anonymous(&self) -> Api {
        Api::new(&self.server.url, None)
    }
}

async fn publish_search_download_and_immutability(kind: &str) {
    let w = world(kind, &[]);
    let alice = w.user("alice", &["--verified"]);
    let key = SigningKey::generate().unwrap();
    let m = manifest(
        "weather-now",
        "1.0.0",
        &["network.http.get"],
        "api.weather.example",
    );
    let r = alice.publish(&key, &m, json!({})).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["approved"], true);
    let r = alice
        .publish(
            &key,
            &manifest(
                "weather-now",
                "1.1.0",
                &["network.http.get"],
                "api.weather.example",
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201);

    // Search: a prefix of a word in the name, anonymously.
    let anon = w.anonymous();
    let page: SearchPage =
        serde_json::from_slice(&anon.get("/v1/capabilities?q=weath").await.body).unwrap();
    assert_eq!(page.total, 1);
    let card = &page.items[0];
    assert_eq!(
        (card.id.as_str(), card.latest_version.as_deref()),
        ("weather-now", Some("1.1.0"))
    );
    assert!(card.publisher_verified);
    assert_eq!(card.category.as_deref(), Some("Data"));
    let none: SearchPage =
        serde_json::from_slice(&anon.get("/v1/capabilities?q=zebra").await.body).unwrap();
    assert_eq!(none.total, 0);
    let by_tag: SearchPage = serde_json::from_slice(
        &anon
            .get("/v1/capabilities?tag=lookup&price=free")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(by_tag.total, 1);

    // Detail: both versions newest first, permissions and domains, the signature checks out.
    let l: Listing =
        serde_json::from_slice(&anon.get("/v1/capabilities/weather-now").await.body).unwrap();
    assert_eq!(
        l.versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["1.1.0", "1.0.0"]
    );
    let v = &l.versions[0];
    assert_eq!(v.permissions, ["network.http.get"]);
    assert_eq!(v.domains, ["api.weather.example"]);
    assert_eq!((v.tests_passed, v.tests_total), (1, 1));
    assert_eq!(l.publisher_key.as_deref(), Some(key.public_b64().as_str()));
    let bytes = anon
        .get("/v1/capabilities/weather-now/versions/1.1.0/package")
        .await
        .body;
    assert_eq!(package::sha256_hex(&bytes), v.sha256);
    package::verify(
        &v.public_key,
        "weather-now",
        "1.1.0",
        &v.sha256,
        &v.signature,
    )
    .unwrap();
    assert!(package::open(&bytes)
        .unwrap()
        .manifest
        .contains("version: 1.1.0"));

    // Versions are immutable; the id belongs to alice.
    let again = alice.publish(&key, &m, json!({})).await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (409, "version_exists")
    );
    let mallory = w.user("mallory", &[]);
    let taken = mallory
        .publish(
            &SigningKey::generate().unwrap(),
            &manifest(
                "weather-now",
                "9.0.0",
                &["network.http.get"],
                "evil.example",
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (taken.status, taken.code().as_str()),
        (403, "namespace_taken")
    );
    let l2: Listing =
        serde_json::from_slice(&anon.get("/v1/capabilities/weather-now").await.body).unwrap();
    assert_eq!(l2.versions.len(), 2, "a refused publish wrote nothing");

    let spec: serde_json::Value = anon.get("/v1/openapi.json").await.json();
    assert!(spec["paths"]["/v1/capabilities/{id}/versions"]["post"].is_object());
}

async fn refusals_name_their_reason(kind: &str) {
    let w = world(kind, &[]);
    let alice = w.user("alice", &[]);
    let key = SigningKey::generate().unwrap();
    // No key registered yet.
    let (req, _) = publish_request(
        &key,
        &manifest("tool-a", "1.0.0", &["network.http.get"], "a.example"),
        0,
    );
    let r = alice
        .post(
            "/v1/capabilities/tool-a/versions",
            serde_json::to_value(&req).unwrap(),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "no_public_key"));
    // Signed by another key than the registered one.
    alice
        .put("/v1/me/key", json!({"public_key": key.public_b64()}))
        .await;
    let other = SigningKey::generate().unwrap();
    let (req, _) = publish_request(
        &other,
        &manifest("tool-a", "1.0.0", &["network.http.get"], "a.example"),
        0,
    );
    let r = alice
        .post(
            "/v1/capabilities/tool-a/versions",
            serde_json::to_value(&req).unwrap(),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "signature_invalid"));
    // A signature of other bytes.
    let (mut req, _) = publish_request(
        &key,
        &manifest("tool-a", "1.0.0", &["network.http.get"], "a.example"),
        0,
    );
    let (req2, _) = publish_request(
        &key,
        &manifest("tool-a", "1.0.1", &["network.http.get"], "a.example"),
        0,
    );
    req.signature = req2.signature;
    let r = alice
        .post(
            "/v1/capabilities/tool-a/versions",
            serde_json::to_value(&req).unwrap(),
        )
        .await;
    assert_eq!(r.code(), "signature_invalid");
    // Failing tests.
    let (req, _) = publish_request(
        &key,
        &manifest("tool-a", "1.0.0", &["network.http.get"], "a.example"),
        2,
    );
    let r = alice
        .post(
            "/v1/capabilities/tool-a/versions",
            serde_json::to_value(&req).unwrap(),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (422, "tests_failing"));
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2 of 3"));
    // A package for another id than the URL's.
    let (req, _) = publish_request(
        &key,
        &manifest("tool-b", "1.0.0", &["network.http.get"], "a.example"),
        0,
    );
    let r = alice
        .post(
            "/v1/capabilities/tool-a/versions",
            serde_json::to_value(&req).unwrap(),
        )
        .await;
    assert_eq!(r.code(), "bad_request");
    // A manifest that is not valid: the finding's path and line are in the message.
    let bad = "capability:\n  id: tool-c\n  name: C\n  version: 1.0.0\n  actions:\n    - id: get\n  integration:\n    type: api\n    method: FETCH\n    endpoint: https://a.example/\n";
    let bytes = package::build(&package::Contents {
        manifest_name: "manifest.yaml".into(),
        manifest: bad.into(),
        tests: Some(r#"{"passed":1,"failed":0}"#.into()),
        ..Default::default()
    })
    .unwrap();
    use base64::Engine;
    let r = alice
        .post("/v1/capabilities/tool-c/versions", json!({"package": base64::engine::general_purpose::STANDARD.encode(&bytes), "signature": key.sign("tool-c", "1.0.0", &package::sha256_hex(&bytes))}))
        .await;
    assert_eq!(r.code(), "package_invalid");
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("capability.integration.method") && msg.contains("line 9"),
        "{msg}"
    );
    // A module whose top level would never end, with a signature that does not hold: refused
    // for the signature, before anything in it is evaluated.
    let hostile = "while (true) {}\nexport default { id: 'tool-d', version: '1.0.0', name: 'D', permissions: ['compute.light'], actions: { run() { return 1 } } };\n";
    let bytes = package::build(&package::Contents {
        manifest_name: "manifest.js".into(),
        manifest: hostile.into(),
        tests: Some(r#"{"passed":1,"failed":0}"#.into()),
        ..Default::default()
    })
    .unwrap();
    let sha = package::sha256_hex(&bytes);
    let body = |signature: String| json!({"package": base64::engine::general_purpose::STANDARD.encode(&bytes), "signature": signature});
    let r = alice
        .post(
            "/v1/capabilities/tool-d/versions",
            body(other.sign("tool-d", "1.0.0", &sha)),
        )
        .await;
    assert_eq!(r.code(), "signature_invalid", "{:?}", r.json());
    // Signed, it is validated, in a sandbox worker whose deadline stops the loop.
    let r = alice
        .post(
            "/v1/capabilities/tool-d/versions",
            body(key.sign("tool-d", "1.0.0", &sha)),
        )
        .await;
    assert_eq!(r.code(), "package_invalid", "{:?}", r.json());
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("module failed while loading"), "{msg}");
    // Signed as another version than the module declares.
    let honest = "export default { id: 'tool-d', version: '1.0.0', name: 'D', permissions: ['compute.light'], actions: { run() { return 1 } } };\n";
    let bytes = package::build(&package::Contents {
        manifest_name: "manifest.js".into(),
        manifest: honest.into(),
        tests: Some(r#"{"passed":1,"failed":0}"#.into()),
        ..Default::default()
    })
    .unwrap();
    let sha = package::sha256_hex(&bytes);
    let r = alice
        .post(
            "/v1/capabilities/tool-d/versions",
            json!({"package": base64::engine::general_purpose::STANDARD.encode(&bytes), "version": "2.0.0", "signature": key.sign("tool-d", "2.0.0", &sha)}),
        )
        .await;
    assert_eq!(r.code(), "package_invalid", "{:?}", r.json());
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("signed as 2.0.0"), "{msg}");
    // A hostile archive.
    let r = alice
        .post("/v1/capabilities/tool-a/versions", json!({"package": base64::engine::general_purpose::STANDARD.encode(b"\x1f\x8b not really"), "signature": "x"}))
        .await;
    assert_eq!(r.code(), "package_invalid");
    let search: SearchPage =
        serde_json::from_slice(&alice.get("/v1/capabilities").await.body).unwrap();
    assert_eq!(search.total, 0, "nothing refused was stored");
}

async fn visibility_organizations_and_approval(kind: &str) {
    let w = world(kind, &[]);
    let admin = w.user("olga", &["--org", "acme", "--admin"]);
    let member = w.user("mike", &["--org", "acme"]);
    let colleague = w.user("carla", &["--org", "acme"]);
    let outsider = w.user("otto", &[]);
    let anon = w.anonymous();
    let key = SigningKey::generate().unwrap();
    let total = |r: Reply| serde_json::from_slice::<SearchPage>(&r.body).unwrap().total;

    // Private: only its publisher sees it.
    let r = member
        .publish(
            &key,
            &manifest("secret-tool", "1.0.0", &[], "a.example"),
            json!({"visibility": "private"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(total(member.get("/v1/capabilities?q=secret").await), 1);
    assert_eq!(total(colleague.get("/v1/capabilities?q=secret").await), 0);
    assert_eq!(anon.get("/v1/capabilities/secret-tool").await.status, 404);

    // Organization: a member's version waits for an org admin's approval.
    let r = member
        .publish(
            &key,
            &manifest("acme-crm", "1.0.0", &[], "crm.acme.example"),
            json!({"visibility": "organization", "org": "acme"}),
        )
        .await;
    assert_eq!(r.json()["approved"], false);
    assert_eq!(
        total(colleague.get("/v1/capabilities?q=acme").await),
        0,
        "not approved yet"
    );
    assert_eq!(
        total(admin.get("/v1/capabilities?q=acme").await),
        1,
        "admins see what waits"
    );
    let l: Listing =
        serde_json::from_slice(&member.get("/v1/capabilities/acme-crm").await.body).unwrap();
    assert!(!l.versions[0].approved);
    // A member who may not see it yet cannot approve it either (nor learn that it exists).
    assert_eq!(
        colleague
            .post(
                "/v1/capabilities/acme-crm/versions/1.0.0/approve",
                json!({})
            )
            .await
            .code(),
        "not_found"
    );
    assert_eq!(
        admin
            .post(
                "/v1/capabilities/acme-crm/versions/1.0.0/approve",
                json!({})
            )
            .await
            .status,
        204
    );
    assert_eq!(total(colleague.get("/v1/capabilities?q=acme").await), 1);
    assert_eq!(total(outsider.get("/v1/capabilities?q=acme").await), 0);
    assert_eq!(
        outsider
            .get("/v1/capabilities/acme-crm/versions/1.0.0/package")
            .await
            .status,
        404
    );
    // Not a member: cannot publish into the organization.
    let r = outsider
        .publish(
            &key,
            &manifest("otto-tool", "1.0.0", &[], "a.example"),
            json!({"visibility": "organization", "org": "acme"}),
        )
        .await;
    assert_eq!(r.code(), "forbidden");
    // A sign-in check returns the account with its organizations.
    let me = member.get("/v1/me").await.json();
    assert_eq!(me["orgs"][0]["org"], "acme");
    assert_eq!(me["orgs"][0]["role"], "member");
}

async fn paid_capabilities_need_an_entitlement(kind: &str) {
    let w = world(kind, &[]);
    let seller = w.user("sam", &[]);
    let buyer = w.user("bea", &[]);
    let boss = w.user("root", &["--admin"]);
    let key = SigningKey::generate().unwrap();
    let r = seller
        .publish(
            &key,
            &manifest("pro-tool", "1.0.0", &[], "a.example"),
            json!({"price_cents": 900}),
        )
        .await;
    assert_eq!(r.status, 201);
    let card =
        &serde_json::from_slice::<SearchPage>(&buyer.get("/v1/capabilities?price=paid").await.body)
            .unwrap()
            .items[0];
    assert_eq!((card.price_cents, card.entitled), (900, false));
    let r = buyer
        .get("/v1/capabilities/pro-tool/versions/1.0.0/package")
        .await;
    assert_eq!((r.status, r.code().as_str()), (402, "payment_required"));
    assert_eq!(
        seller
            .get("/v1/capabilities/pro-tool/versions/1.0.0/package")
            .await
            .status,
        200
    );
    assert_eq!(
        buyer
            .post(
                "/v1/capabilities/pro-tool/entitlements",
                json!({"user": "bea"})
            )
            .await
            .code(),
        "forbidden"
    );
    assert_eq!(
        boss.post(
            "/v1/capabilities/pro-tool/entitlements",
            json!({"user": "bea"})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        buyer
            .get("/v1/capabilities/pro-tool/versions/1.0.0/package")
            .await
            .status,
        200
    );
    let l: Listing =
        serde_json::from_slice(&buyer.get("/v1/capabilities/pro-tool").await.body).unwrap();
    assert!(l.card.entitled);
}

async fn yank_deprecate_reviews_and_installs(kind: &str) {
    let w = world(kind, &[]);
    let alice = w.user("alice", &[]);
    let bob = w.user("bob", &[]);
    let carol = w.user("carol", &[]);
    let key = SigningKey::generate().unwrap();
    for v in ["1.0.0", "1.1.0"] {
        alice
            .publish(&key, &manifest("mapper", v, &[], "a.example"), json!({}))
            .await;
    }
    assert_eq!(
        bob.post(
            "/v1/capabilities/mapper/versions/1.1.0/yank",
            json!({"reason": "x"})
        )
        .await
        .code(),
        "forbidden"
    );
    assert_eq!(
        alice
            .post(
                "/v1/capabilities/mapper/versions/1.1.0/yank",
                json!({"reason": "leaks memory"})
            )
            .await
            .status,
        204
    );
    let l: Listing =
        serde_json::from_slice(&bob.get("/v1/capabilities/mapper").await.body).unwrap();
    assert_eq!(l.card.latest_version.as_deref(), Some("1.0.0"));
    assert_eq!(l.versions[0].yanked.as_deref(), Some("leaks memory"));
    alice
        .post(
            "/v1/capabilities/mapper/deprecate",
            json!({"message": "use mapper2"}),
        )
        .await;
    let l: Listing =
        serde_json::from_slice(&bob.get("/v1/capabilities/mapper").await.body).unwrap();
    assert_eq!(l.card.deprecated.as_deref(), Some("use mapper2"));

    // One review per user, editable; the average follows.
    assert_eq!(
        bob.put(
            "/v1/capabilities/mapper/review",
            json!({"stars": 2, "text": "meh"})
        )
        .await
        .status,
        200
    );
    bob.put(
        "/v1/capabilities/mapper/review",
        json!({"stars": 4, "text": "better now"}),
    )
    .await;
    carol
        .put(
            "/v1/capabilities/mapper/review",
            json!({"stars": 5, "text": "great"}),
        )
        .await;
    assert_eq!(
        carol
            .put(
                "/v1/capabilities/mapper/review",
                json!({"stars": 6, "text": ""})
            )
            .await
            .code(),
        "bad_request"
    );
    let reviews = bob.get("/v1/capabilities/mapper/reviews").await.json();
    assert_eq!(reviews.as_array().unwrap().len(), 2);
    let l: Listing =
        serde_json::from_slice(&bob.get("/v1/capabilities/mapper").await.body).unwrap();
    assert_eq!((l.card.rating, l.card.rating_count), (Some(4.5), 2));
    // Installs are counted.
    bob.post("/v1/capabilities/mapper/installs", json!({}))
        .await;
    carol
        .post("/v1/capabilities/mapper/installs", json!({}))
        .await;
    let l: Listing =
        serde_json::from_slice(&bob.get("/v1/capabilities/mapper").await.body).unwrap();
    assert_eq!(l.card.installs, 2);
    let page: SearchPage =
        serde_json::from_slice(&bob.get("/v1/capabilities?sort=rating").await.body).unwrap();
    assert_eq!(page.items[0].id, "mapper");
}

async fn the_change_feed_pages_and_answers_304(kind: &str) {
    let w = world(kind, &[]);
    let alice = w.user("alice", &["--org", "acme"]);
    let bob = w.user("bob", &[]);
    let key = SigningKey::generate().unwrap();
    for i in 0..7 {
        let r = alice
            .publish(
                &key,
                &manifest(&format!("tool-{i}"), "1.0.0", &[], "a.example"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    // Pages of 3: every listing once, in change order, the last page says no more.
    let mut since = 0;
    let mut seen = Vec::new();
    let mut etag: Option<String>;
    loop {
        let r = bob.get(&format!("/v1/sync?since={since}&limit=3")).await;
        let p: SyncPage = serde_json::from_slice(&r.body).unwrap();
        seen.extend(p.items.iter().map(|l| l.card.id.clone()));
        since = p.cursor;
        etag = r.etag.clone();
        if !p.more {
            assert_eq!(p.remaining, 0);
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    // Nothing changed: 304 with the same tag.
    let r = bob
        .call(
            reqwest::Method::GET,
            &format!("/v1/sync?since={since}"),
            None,
            &[("if-none-match", etag.as_deref().unwrap())],
        )
        .await;
    assert_eq!(r.status, 304);
    // A change: only it comes, and a capability that became invisible is listed as removed.
    alice
        .put(
            "/v1/capabilities/tool-3/review",
            json!({"stars": 5, "text": "mine"}),
        )
        .await;
    alice
        .publish(
            &key,
            &manifest("tool-5", "2.0.0", &[], "a.example"),
            json!({"visibility": "private"}),
        )
        .await;
    // A capability bob never could see stays unknown to him: not an item, not removed.
    let r = alice
        .publish(
            &key,
            &manifest("tool-9", "1.0.0", &[], "a.example"),
            json!({"visibility": "private"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let r = bob
        .call(
            reqwest::Method::GET,
            &format!("/v1/sync?since={since}"),
            None,
            &[("if-none-match", etag.as_deref().unwrap())],
        )
        .await;
    assert_eq!(r.status, 200);
    let p: SyncPage = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        p.items
            .iter()
            .map(|l| l.card.id.as_str())
            .collect::<Vec<_>>(),
        ["tool-3"]
    );
    assert_eq!(p.removed, ["tool-5"]);
}

async fn limits_caps_and_the_error_envelope(kind: &str) {
    let w = world(
        kind,
        &[
            ("CAPSMITH_MARKET_PUBLISH_PER_MINUTE", "2"),
            ("CAPSMITH_MARKET_LOGIN_PER_MINUTE", "3"),
        ],
    );
    let alice = w.user("alice", &[]);
    // Pagination arithmetic that would overflow answers an empty page, not an error.
    for page in ["4611686018427387904", "9223372036854775807"] {
        let r = alice
            .get(&format!("/v1/capabilities?page={page}&per_page=100"))
            .await;
        assert_eq!(r.status, 200, "page {page}: {:?}", r.json());
        let p: SearchPage = serde_json::from_slice(&r.body).unwrap();
        assert!(p.items.is_empty());
    }
    let key = SigningKey::generate().unwrap();
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(
            alice
                .publish(
                    &key,
                    &manifest(&format!("t-{i}"), "1.0.0", &[], "a.example"),
                    json!({}),
                )
                .await
                .status,
        );
    }
    assert_eq!(statuses, [201, 201, 429, 429]);
    // Wrong tokens: refused, then rate limited.
    let guesser = Api::new(&w.server.url, Some("cmk_wrong"));
    let codes: Vec<u16> = four_sign_ins(&guesser).await;
    assert_eq!(&codes[..3], [401, 401, 401]);
    assert_eq!(codes[3], 429);
    // A body over the cap is refused on its declared length, before a byte of it is sent.
    let (status, body) = declared_length_only(&w.server.url, &alice, 200 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"too_large\""), "{body}");
    let r = alice.get("/v1/nowhere").await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    let r = alice.get("/v1/capabilities?sort=sideways").await;
    assert_eq!(r.code(), "bad_request");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sideways"));
}

async fn four_sign_ins(api: &Api) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(api.get("/v1/me").await.status);
    }
    out
}

/// Sends only the head of a review request that declares `length` bytes of body, and reads
/// the answer: the server must not wait for (or read) a body it will refuse.
async fn declared_length_only(url: &str, api: &Api, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT /v1/capabilities/t-0/review HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        api.token.as_deref().unwrap()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("the server waited for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The install counter's rate limit keeps a bucket per caller and capability; a flood of ids
/// that do not exist gets 404s and no buckets, so the map (capped at 20 here) still has room
/// for a real install afterwards.
async fn made_up_ids_do_not_fill_the_rate_limiter(kind: &str) {
    let w = world(kind, &[("CAPSMITH_MARKET_LIMITER_CAP", "20")]);
    let alice = w.user("alice", &[]);
    let key = SigningKey::generate().unwrap();
    alice
        .put("/v1/me/key", json!({"public_key": key.public_b64()}))
        .await;
    let r = alice
        .publish(
            &key,
            &manifest("real", "1.0.0", &[], "a.example"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 201);
    let anon = w.anonymous();
    for i in 0..200 {
        let r = anon
            .post(&format!("/v1/capabilities/nope-{i}/installs"), json!({}))
            .await;
        assert_eq!(r.status, 404, "made-up id {i}");
    }
    let r = anon.post("/v1/capabilities/real/installs", json!({})).await;
    assert_eq!(r.status, 204, "{:?}", String::from_utf8_lossy(&r.body));
    // The limit itself still holds for a real id: a burst of 5, then refused.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            anon.post("/v1/capabilities/real/installs", json!({}))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [204, 204, 204, 204, 429, 429]);
    let l = anon.get("/v1/capabilities/real").await.json();
    assert_eq!(
        l["installs"], 5,
        "counted exactly the installs that were let through"
    );
}
