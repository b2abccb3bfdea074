//! The OpenAPI 3 description of the API, generated from the code: the operations are listed
//! once in `OPERATIONS` (a test checks every one is routed), and every request and response
//! body's schema is derived from the wire types with schemars. `capsmith-market openapi`
//! prints it; `docs/market-openapi.json` is a copy a test keeps current.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use capsmith_format::market::*;

type SchemaFn = fn(&mut SchemaGenerator) -> schemars::Schema;

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

/// One operation of the API.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Needs a bearer token (others take one optionally: it widens what the caller sees).
    pub auth: bool,
    pub query: Option<SchemaFn>,
    pub request: Option<SchemaFn>,
    /// JSON response body; `None` for 204 or binary.
    pub response: Option<SchemaFn>,
    pub status: u16,
}

const fn op(method: &'static str, path: &'static str, summary: &'static str) -> Operation {
    Operation {
        method,
        path,
        summary,
        auth: false,
        query: None,
        request: None,
        response: None,
        status: 200,
    }
}

pub fn operations() -> Vec<Operation> {
    vec![
        Operation { response: Some(s::<serde_json::Value>), ..op("get", "/v1/health", "Liveness and the server's version") },
        Operation { response: Some(s::<serde_json::Value>), ..op("get", "/v1/openapi.json", "This document") },
        Operation { auth: true, response: Some(s::<Account>), ..op("get", "/v1/me", "The signed-in account (used to check a token at sign-in)") },
        Operation { auth: true, request: Some(s::<KeyInput>), response: Some(s::<Account>), ..op("put", "/v1/me/key", "Register or replace the account's ed25519 public key (a replacement with `rotation`, signed by the old key, is a hand-over clients follow)") },
        Operation { query: Some(s::<crate::store::SearchParams>), response: Some(s::<SearchPage>), ..op("get", "/v1/capabilities", "Search and browse: full text, category, tag, free/paid, sorted, paginated") },
        Operation { response: Some(s::<Vec<Card>>), ..op("get", "/v1/featured", "Featured capabilities") },
        Operation { response: Some(s::<Vec<CategoryCount>>), ..op("get", "/v1/categories", "Categories and how many capabilities each holds") },
        Operation { query: Some(s::<SyncParams>), response: Some(s::<SyncPage>), ..op("get", "/v1/sync", "The change feed for offline caches (ETag / If-None-Match answers 304 when nothing changed)") },
        Operation { response: Some(s::<Listing>), ..op("get", "/v1/capabilities/{id}", "A capability: versions, readme, permissions, publisher, license, price, signatures") },
        Operation { auth: true, request: Some(s::<ListingChange>), status: 204, ..op("patch", "/v1/capabilities/{id}", "Change visibility, organization or price: the owner, an admin of its organization, or a marketplace administrator; audited") },
        Operation { auth: true, request: Some(s::<PublishRequest>), response: Some(s::<PublishOutcome>), status: 201, ..op("post", "/v1/capabilities/{id}/versions", "Publish a version (signed package; versions are immutable; an id belongs to its first publisher)") },
        Operation { ..op("get", "/v1/capabilities/{id}/versions/{version}/package", "Download a version's package archive (paid ones need an entitlement)") },
        Operation { auth: true, request: Some(s::<ReasonInput>), status: 204, ..op("post", "/v1/capabilities/{id}/versions/{version}/yank", "Yank a version: refused on fresh installs, keeps working where installed") },
        Operation { auth: true, request: Some(s::<ReasonInput>), status: 204, ..op("post", "/v1/capabilities/{id}/versions/{version}/revoke", "Revoke a version (administrators; a security problem): it stops running where installed once clients sync, and is served to nobody but its publisher side") },
        Operation { auth: true, status: 204, ..op("delete", "/v1/capabilities/{id}/versions/{version}/revoke", "Lift a revocation made in error (administrators)") },
        Operation { auth: true, status: 204, ..op("post", "/v1/capabilities/{id}/versions/{version}/approve", "An organization admin approves a version for its members") },
        Operation { auth: true, request: Some(s::<DeprecateInput>), status: 204, ..op("post", "/v1/capabilities/{id}/deprecate", "Deprecate (or un-deprecate) a capability") },
        Operation { response: Some(s::<Vec<Review>>), ..op("get", "/v1/capabilities/{id}/reviews", "Reviews, newest first") },
        Operation { auth: true, request: Some(s::<ReviewInput>), response: Some(s::<Review>), ..op("put", "/v1/capabilities/{id}/review", "Write or edit your review (one per user and capability)") },
        Operation { status: 204, ..op("post", "/v1/capabilities/{id}/installs", "Count an install") },
        Operation { auth: true, request: Some(s::<FeaturedInput>), status: 204, ..op("put", "/v1/capabilities/{id}/featured", "Feature a capability (administrators)") },
        Operation { auth: true, request: Some(s::<EntitlementInput>), status: 204, ..op("post", "/v1/capabilities/{id}/entitlements", "Grant a user a paid capability (administrators)") },
        Operation { auth: true, status: 204, ..op("post", "/v1/users/{name}/verify", "Mark a publisher verified (administrators)") },
    ]
}

fn params(path: &str, query: Option<schemars::Schema>) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if let Some(q) = query {
        let q = q.to_value();
        if let Some(props) = q.get("properties").and_then(Value::as_object) {
            for (name, schema) in props {
                let mut schema = schema.clone();
                let description = schema
                    .as_object_mut()
                    .and_then(|o| o.remove("description"))
                    .unwrap_or(Value::Null);
                out.push(json!({"name": name, "in": "query", "required": false,
                    "description": description, "schema": schema}));
            }
        }
    }
    out
}

pub fn spec() -> Value {
    let mut g = SchemaSettings::openapi3().into_generator();
    let mut paths: Map<String, Value> = Map::new();
    let error = g.subschema_for::<ErrorEnvelope>().to_value();
    for o in operations() {
        let mut operation = Map::new();
        operation.insert("summary".into(), json!(o.summary));
        operation.insert(
            "operationId".into(),
            json!(format!("{} {}", o.method, o.path)),
        );
        // Query parameters are inlined, not referenced.
        let query = o.query.map(|f| {
            let mut inline = SchemaSettings::openapi3()
                .with(|s| s.inline_subschemas = true)
                .into_generator();
            f(&mut inline)
        });
        let ps = params(o.path, query);
        if !ps.is_empty() {
            operation.insert("parameters".into(), Value::Array(ps));
        }
        if let Some(r) = o.request {
            operation.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": r(&mut g).to_value()}}}),
            );
        }
        let ok = match (o.response, o.status) {
            (Some(r), _) => {
                json!({"description": "OK", "content": {"application/json": {"schema": r(&mut g).to_value()}}})
            }
            (None, 204) => json!({"description": "Done"}),
            (None, _) => {
                json!({"description": "The package archive", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
            }
        };
        operation.insert(
            "responses".into(),
            json!({
                o.status.to_string(): ok,
                "default": {"description": "An error: the envelope with a stable code", "content": {"application/json": {"schema": error}}}
            }),
        );
        if o.auth {
            operation.insert("security".into(), json!([{"bearer": []}]));
        }
        paths
            .entry(o.path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item")
            .insert(o.method.to_string(), Value::Object(operation));
    }
    let schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Capsmith Marketplace API",
            "version": "1",
            "description": "Search, download, publish and review Capsmith capabilities. Errors are always {\"error\": {\"code\", \"message\"}}."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token from `capsmith-market user add`"}}
        }
    })
}

pub fn spec_string() -> String {
    serde_json::to_string_pretty(&spec()).expect("the spec serializes") + "\n"
}
