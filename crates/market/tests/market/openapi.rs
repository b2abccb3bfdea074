//! The OpenAPI document describes the API that runs: every documented operation is routed,
//! and docs/market-openapi.json is the document the code generates.

use crate::support::*;

#[tokio::test]
async fn every_documented_operation_is_routed_and_the_docs_copy_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&Store::Sqlite(dir.path().join("data")), &[]);
    let api = Api::new(&server.url, None);
    let ops = capsmith_market::openapi::operations();
    assert!(ops.len() >= 20);
    for op in &ops {
        let path = op
            .path
            .replace("{id}", "x")
            .replace("{version}", "1.0.0")
            .replace("{name}", "x");
        let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let body = (op.request.is_some()).then(|| serde_json::json!({}));
        let r = api.call(method, &path, body, &[]).await;
        assert_ne!(
            r.status, 405,
            "{} {} is not routed for that method",
            op.method, op.path
        );
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains("no such endpoint"),
            "{} {} is documented but not routed",
            op.method,
            op.path
        );
        if op.auth {
            assert_eq!(r.status, 401, "{} {} must need a token", op.method, op.path);
        }
    }
    let spec = capsmith_market::openapi::spec_string();
    let served = String::from_utf8(api.get("/v1/openapi.json").await.body).unwrap();
    assert_eq!(served, spec);
    let parsed: serde_json::Value = serde_json::from_str(&spec).unwrap();
    // Every $ref points at a schema that is there.
    for r in spec.match_indices("#/components/schemas/") {
        let name: String = spec[r.0 + 21..].chars().take_while(|c| *c != '"').collect();
        assert!(
            parsed["components"]["schemas"][&name].is_object(),
            "missing schema {name}"
        );
    }
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/market-openapi.json");
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&file, &spec).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap_or_default(),
        spec,
        "docs/market-openapi.json is out of date; run `UPDATE_GENERATED=1 cargo test -p capsmith-market --test market openapi`"
    );
}
