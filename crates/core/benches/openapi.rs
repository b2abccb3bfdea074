//! How long an OpenAPI import takes for a large document (the issue asks for thousands of
//! operations "without slowness"): conversion, YAML export and the full validation of the
//! resulting manifest, i.e. everything `import-openapi` does before writing the registry.
//!
//! cargo bench -p capsmith-core --bench openapi

use capsmith_core::manifest::{export, SourceFormat};
use capsmith_core::openapi;
use capsmith_core::validate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::json;

fn spec(operations: usize) -> serde_json::Value {
    let mut paths = serde_json::Map::new();
    for i in 0..operations / 2 {
        paths.insert(
            format!("/resources{i}/{{id}}"),
            json!({
                "get": {"operationId": format!("getResource{i}"),
                        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                                       {"name": "expand", "in": "query", "schema": {"type": "boolean"}}],
                        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object",
                            "properties": {"id": {"type": "string"}, "size": {"type": "integer"}}}}}}}},
                "post": {"operationId": format!("updateResource{i}"),
                         "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
                         "responses": {"200": {"description": "ok"}}},
            }),
        );
    }
    json!({"openapi": "3.1.0", "info": {"title": "Big API", "version": "1.0.0"}, "servers": [{"url": "https://big.example.com"}],
           "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}, "paths": paths})
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("openapi-import");
    g.sample_size(10);
    for ops in [100usize, 1000, 5000] {
        let s = spec(ops);
        g.bench_with_input(BenchmarkId::from_parameter(ops), &s, |b, s| {
            b.iter(|| {
                let doc = openapi::convert(s, None, None).unwrap().document.unwrap();
                let yaml = export::to_string(&doc, export::ExportFormat::Yaml);
                let checked = validate::check_text("big.yaml", &yaml, SourceFormat::Yaml, None);
                assert!(checked.is_valid());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
