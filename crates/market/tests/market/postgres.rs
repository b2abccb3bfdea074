//! Several stateless servers behind one PostgreSQL database serve the same, consistent data.

use capsmith_core::market::{Listing, SearchPage, SyncPage};
use capsmith_core::package::SigningKey;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn two_servers_on_one_database_agree() {
    let store = Store::Postgres(pg_database());
    let a = Server::start(&store, &[]);
    let b = Server::start(&store, &[]);
    let token = add_user(&store, "alice", &[]);
    let on_a = Api::new(&a.url, Some(&token));
    let on_b = Api::new(&b.url, Some(&token));
    let key = SigningKey::generate().unwrap();
    on_a.put("/v1/me/key", json!({"public_key": key.public_b64()}))
        .await;

    // Publishes through both servers at once: every one lands, each with its own change number.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let api = Api::new(if i % 2 == 0 { &a.url } else { &b.url }, Some(&token));
        let key_hex = key.to_hex();
        tasks.push(tokio::spawn(async move {
            let key = SigningKey::from_hex(&key_hex).unwrap();
            let (req, _) = publish_request(
                &key,
                &manifest(&format!("svc-{i}"), "1.0.0", &[], "a.example"),
                0,
            );
            api.post(
                &format!("/v1/capabilities/svc-{i}/versions"),
                serde_json::to_value(&req).unwrap(),
            )
            .await
            .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    // The same version published through both servers at once: exactly one wins.
    let (req, _) = publish_request(&key, &manifest("race", "1.0.0", &[], "a.example"), 0);
    let body = serde_json::to_value(&req).unwrap();
    let (x, y) = tokio::join!(
        on_a.post("/v1/capabilities/race/versions", body.clone()),
        on_b.post("/v1/capabilities/race/versions", body.clone())
    );
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [201, 409],
        "{} / {}",
        String::from_utf8_lossy(&x.body),
        String::from_utf8_lossy(&y.body)
    );

    // Both servers list the same 17 capabilities and the same change feed.
    for api in [&on_a, &on_b] {
        let page: SearchPage =
            serde_json::from_slice(&api.get("/v1/capabilities?per_page=100").await.body).unwrap();
        assert_eq!(page.total, 17);
    }
    let feed_a: SyncPage =
        serde_json::from_slice(&on_a.get("/v1/sync?since=0").await.body).unwrap();
    let feed_b: SyncPage =
        serde_json::from_slice(&on_b.get("/v1/sync?since=0").await.body).unwrap();
    assert_eq!(feed_a, feed_b);
    let mut seqs: Vec<i64> = feed_a.items.iter().map(|l| l.seq).collect();
    seqs.dedup();
    assert_eq!(seqs.len(), 17, "every change has its own number");

    // Installs counted on both add up; a review written on one is read on the other.
    for _ in 0..3 {
        on_a.post("/v1/capabilities/svc-0/installs", json!({}))
            .await;
        on_b.post("/v1/capabilities/svc-0/installs", json!({}))
            .await;
    }
    on_a.put(
        "/v1/capabilities/svc-0/review",
        json!({"stars": 5, "text": "solid"}),
    )
    .await;
    let l: Listing =
        serde_json::from_slice(&on_b.get("/v1/capabilities/svc-0").await.body).unwrap();
    assert_eq!((l.card.installs, l.card.rating_count), (6, 1));
    // A package stored through one server downloads from the other (the archive is in the database).
    let bytes = on_b
        .get("/v1/capabilities/svc-0/versions/1.0.0/package")
        .await
        .body;
    assert_eq!(
        capsmith_core::package::sha256_hex(&bytes),
        l.versions[0].sha256
    );
}
