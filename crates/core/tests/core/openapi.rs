//! OpenAPI documents become API-connector manifests that validate and run.

use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use capsmith_core::secrets::Sensitive;
use serde_json::{json, Value};

use crate::fixture;
use crate::loopback::Loopback;

async fn app() -> (tempfile::TempDir, Capsmith) {
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    (dir, app)
}

#[tokio::test]
async fn petstore_becomes_a_connector() {
    let (_d, app) = app().await;
    let spec = fixture("openapi/petstore.yaml");
    let out = app
        .import_openapi(spec.to_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        (out.id.as_str(), out.version.as_str()),
        ("pet-store", "1.0.0")
    );
    let d = app.detail("pet-store", None).await.unwrap();
    let ids: Vec<&str> = d.actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "list-pets",
            "create-pet",
            "show-pet-by-id",
            "update-pet",
            "delete-pets-pet-id"
        ]
    );
    let list = &d.actions[0];
    let names: Vec<&str> = list.inputs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["limit", "filter_status_", "X-Request-ID"]);
    assert_eq!(list.inputs[0].ty, "integer");
    assert_eq!(
        list.outputs
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        vec!["items", "next"]
    );
    let create = &d.actions[1];
    assert_eq!(
        create
            .inputs
            .iter()
            .map(|f| (f.name.as_str(), f.required))
            .collect::<Vec<_>>(),
        vec![("name", true), ("tag", false), ("status", false)]
    );
    let show = &d.actions[2];
    assert!(
        show.inputs[0].required && show.inputs[0].name == "petId" && show.inputs[0].ty == "integer"
    );
    assert_eq!(d.allowed_domains, vec!["eu.petstore.example"]);
    assert_eq!(d.configuration[0].key, "API_KEY");
    assert_eq!(d.permissions, vec!["network.http.get", "network.http.post"]);
    let yaml = app.export("pet-store", None, "yaml").await.unwrap();
    assert!(yaml.contains("path: \"/pets/{{petId}}\""), "{yaml}");
    assert!(yaml.contains("X-Api-Key"));
}

#[tokio::test]
async fn imported_operations_run_against_the_api() {
    let (_d, app) = app().await;
    let lb = Loopback::start().await;
    let spec_text = std::fs::read_to_string(fixture("openapi/petstore.yaml"))
        .unwrap()
        .replace(
            "https://{region}.petstore.example/v1",
            &format!("{}/echo", lb.base()),
        );
    let spec = _d.path().join("local-petstore.yaml");
    std::fs::write(&spec, spec_text).unwrap();
    app.import_openapi(spec.to_str().unwrap(), Some("pets-local"))
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    if let Err(e) = app
        .config_set("pets-local", "API_KEY", Sensitive::new("pk-1".into()))
        .await
    {
        panic!("{e} (run via scripts/test for a Secret Service)");
    }
    let r = app
        .run_action(
            "pets-local",
            None,
            "create-pet",
            &json!({"name": "Rex", "status": "available"}),
            Origin::Cli,
        )
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    let got = lb.requests();
    let last = got.last().unwrap();
    assert_eq!(last.method, "POST");
    assert_eq!(last.target, "/echo/pets");
    assert_eq!(last.header("x-api-key"), Some("pk-1"));
    let body: Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(
        body,
        json!({"name": "Rex", "status": "available"}),
        "the optional tag is left out"
    );
}

#[tokio::test]
async fn thousands_of_operations() {
    let (_d, app) = app().await;
    let mut paths = serde_json::Map::new();
    for i in 0..2500 {
        paths.insert(
            format!("/resources{i}/{{id}}"),
            json!({
                "get": {"operationId": format!("getResource{i}"), "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "expand", "in": "query", "schema": {"type": "boolean"}}],
                        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}, "size": {"type": "integer"}}}}}}}},
                "post": {"operationId": format!("updateResource{i}"), "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}}, "responses": {"200": {"description": "ok"}}},
            }),
        );
    }
    let spec = json!({"openapi": "3.1.0", "info": {"title": "Big API", "version": "2024.1.0"}, "servers": [{"url": "https://big.example.com"}],
                      "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}, "paths": paths});
    let file = _d.path().join("big.json");
    std::fs::write(&file, spec.to_string()).unwrap();
    let out = app
        .import_openapi(file.to_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(out.id, "big-api");
    let d = app.detail("big-api", None).await.unwrap();
    assert_eq!(d.actions.len(), 5000);
    assert_eq!(d.configuration[0].key, "API_TOKEN");
}

#[tokio::test]
async fn unusable_documents_are_explained() {
    let (d, app) = app().await;
    let cases = [
        (json!({"swagger": "2.0"}), "Swagger 2.0"),
        (
            json!({"openapi": "3.0.0", "info": {"title": "x"}, "paths": {}}),
            "servers",
        ),
        (
            json!({"openapi": "3.0.0", "info": {"title": "x"}, "servers": [{"url": "/v1"}], "paths": {}}),
            "relative",
        ),
        (
            json!({"openapi": "3.0.0", "info": {"title": "x"}, "servers": [{"url": "https://x.example"}], "paths": {}}),
            "no operations",
        ),
    ];
    for (i, (spec, expect)) in cases.into_iter().enumerate() {
        let f = d.path().join(format!("s{i}.json"));
        std::fs::write(&f, spec.to_string()).unwrap();
        let e = app
            .import_openapi(f.to_str().unwrap(), None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains(expect), "{e}");
    }
    let f = d.path().join("broken.json");
    std::fs::write(&f, "{\"openapi\": ").unwrap();
    assert!(app
        .import_openapi(f.to_str().unwrap(), None)
        .await
        .unwrap_err()
        .to_string()
        .contains("line 1"));
}

#[tokio::test]
async fn specs_from_a_url_go_through_the_guard() {
    let (_d, app) = app().await;
    let e = app
        .import_openapi("http://127.0.0.1:9/openapi.json", None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "private_address", "{e}");
}
