//! Validation + compilation of builder flows of 100 to 100,000 nodes (goal: 10,000 nodes in
//! under 20 ms, growing linearly). The flows mix every node kind the way a large real flow
//! would: API calls with templates naming inputs, configuration and upstream nodes, mappings,
//! filters, branches joined by merges, scripts and calls of other capabilities; every
//! condition and script is syntax-checked. Results: docs/benchmarks.md.
//!
//! cargo bench -p capsmith-core --bench flow

// The app and the CLI allocate with mimalloc (see their main.rs); so does this benchmark.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use capsmith_core::api::builder::compile_value;
use capsmith_core::flow::compile::{compile, compile_owned};
use capsmith_core::manifest::model::Document;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

/// A flow document with about `n` nodes: a spine of segments, each segment an API call, a
/// mapping, a branch whose two arms (a filter-and-script arm, a mapping arm) merge again, and
/// now and then a call of another capability.
pub fn flow_document(n: usize) -> Value {
    let mut nodes = vec![
        json!({"id": "input", "type": "input", "position": {"x": 0, "y": 0},
        "data": {"inputs": [{"name": "q", "type": "string", "required": true}]}}),
    ];
    let mut edges = Vec::new();
    let mut prev = "input".to_string();
    let mut i = 0;
    let edge = |s: &str, t: &str, h: Option<&str>, edges: &mut Vec<Value>| {
        let id = format!("e{}", edges.len());
        edges.push(match h {
            Some(h) => json!({"id": id, "source": s, "source_handle": h, "target": t}),
            None => json!({"id": id, "source": s, "target": t}),
        });
    };
    while nodes.len() + 8 < n {
        let p = |k: &str| format!("{k}_{i}");
        let (call, map, br, filt, scr, alt, join) = (
            p("call"),
            p("map"),
            p("branch"),
            p("filter"),
            p("script"),
            p("alt"),
            p("join"),
        );
        let pos = json!({"x": i * 10, "y": 0});
        let upstream = if prev == "input" {
            "input.q".to_string()
        } else {
            format!("{prev}.id")
        };
        nodes.push(
            json!({"id": call, "type": "api_call", "position": pos, "data": {
            "method": if i % 3 == 0 { "POST" } else { "GET" },
            "url": format!("https://api{}.example.com/v1/items/${{{upstream}}}?page={i}", i % 7),
            "headers": {"Authorization": "Bearer ${API_KEY}", "X-Query": "${input.q}"},
            "body": {"q": "${input.q}", "n": i}}}),
        );
        nodes.push(json!({"id": map, "type": "transform", "position": pos,
            "data": {"mapping": {"id": "$.data.id", "score": "data.items[0].score", "title": format!("${{{call}.title}}")}}}));
        nodes.push(json!({"id": br, "type": "branch", "position": pos,
            "data": {"condition": format!("input.score > {}", i % 10)}}));
        nodes.push(json!({"id": filt, "type": "filter", "position": pos,
            "data": {"condition": format!("input.id !== 'skip-{i}'")}}));
        nodes.push(json!({"id": scr, "type": "script", "position": pos,
            "data": {"code": format!("const s = input.score * {i};\nreturn {{ id: input.id, score: s }};")}}));
        nodes.push(json!({"id": alt, "type": "transform", "position": pos,
            "data": {"mapping": {"id": "$.id", "score": "$.score"}}}));
        nodes.push(json!({"id": join, "type": "merge", "position": pos}));
        edge(&prev, &call, None, &mut edges);
        edge(&call, &map, None, &mut edges);
        edge(&map, &br, None, &mut edges);
        edge(&br, &filt, Some("true"), &mut edges);
        edge(&filt, &scr, None, &mut edges);
        edge(&br, &alt, Some("false"), &mut edges);
        edge(&scr, &join, None, &mut edges);
        edge(&alt, &join, None, &mut edges);
        prev = join;
        if i % 5 == 4 {
            let c = p("lookup");
            nodes.push(json!({"id": c, "type": "call_capability", "position": pos,
                "data": {"capability": "weather-lookup", "action": "get-weather", "version": "1.0.0",
                         "input": {"location": format!("${{{prev}.id}}")}}}));
            edge(&prev, &c, None, &mut edges);
            prev = c;
        }
        i += 1;
    }
    nodes.push(
        json!({"id": "output", "type": "output", "position": {"x": 0, "y": 0},
        "data": {"outputs": [{"name": "id", "type": "string"}], "mapping": {"id": "$.id"}}}),
    );
    edge(&prev, "output", None, &mut edges);
    json!({"capability": {
        "id": "big-flow", "name": "Big flow", "version": "1.0.0", "type": "flow",
        "actions": [{"id": "run"}],
        "flows": [{"action": "run", "nodes": nodes, "edges": edges}],
        "configuration": [{"key": "API_KEY", "type": "secret", "required": true}],
        "permissions": ["network.http.get", "network.http.post", "compute.light"]
    }})
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("flow/validate+compile");
    g.sample_size(10);
    for n in [100usize, 1_000, 10_000, 100_000] {
        let v = flow_document(n);
        let doc: Document = serde_json::from_value(v).unwrap();
        let nodes = doc.capability.flows[0].nodes.len();
        let out = compile(&doc);
        assert!(
            out.document.is_some(),
            "{:?}",
            out.findings
                .iter()
                .find(|f| f.1.severity == capsmith_core::diagnostics::Severity::Error)
        );
        g.throughput(Throughput::Elements(nodes as u64));
        // The builder owns the document it has just parsed, so compiling moves it into the
        // result; the copy a borrowed caller would make is setup, not compilation.
        // Warm: the builder's edit loop (the flow's scripts were syntax-checked before).
        g.bench_with_input(BenchmarkId::new("warm", nodes), &doc, |b, doc| {
            b.iter_batched(|| doc.clone(), compile_owned, BatchSize::LargeInput)
        });
        // Cold: a flow seen for the first time, every script compiled by QuickJS.
        g.bench_with_input(BenchmarkId::new("cold", nodes), &doc, |b, doc| {
            b.iter_batched(
                || {
                    capsmith_core::manifest::js::forget_syntax_verdicts();
                    doc.clone()
                },
                compile_owned,
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
    // What the app does on every edit: JSON in, every check, YAML out, the manifest checked.
    let mut g = c.benchmark_group("flow/builder_compile");
    g.sample_size(10);
    for n in [100usize, 1_000, 10_000] {
        let v = flow_document(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &v, |b, v| {
            b.iter(|| compile_value(v))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
