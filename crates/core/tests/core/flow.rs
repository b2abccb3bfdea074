//! The flow model end to end: snapshots (flow JSON in, manifest out), every example through
//! the flow model and back, and live runs of flows on the real engines against a loopback CRM.

use std::path::Path;

use capsmith_core::api::builder::{compile_text, compile_value, open_document};
use capsmith_core::api::dto::NodeStatus;
use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use capsmith_core::flow::compile::compile;
use capsmith_core::manifest::export::{self, ExportFormat};
use capsmith_core::manifest::model::Document;
use capsmith_core::manifest::SourceFormat;
use capsmith_core::secrets::Sensitive;
use capsmith_core::validate;
use capsmith_core::CoreError;
use serde_json::{json, Value};

use crate::loopback::{Loopback, CRM_KEY};
use crate::{examples_dir, fixture};

fn flow_fixture(name: &str) -> Value {
    let p = fixture("flows").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Compares `actual` with the stored snapshot, or writes it with `UPDATE_SNAPSHOTS=1`.
fn snapshot(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{} changed", path.display());
}

#[test]
fn snapshots_flow_json_in_manifest_out() {
    let dir = fixture("flows");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".flow.json") else {
            continue;
        };
        let c = compile_value(&flow_fixture(name));
        assert!(c.view.ok, "{stem}: {:#?}", c.view.diagnostics);
        snapshot(&dir.join(format!("{stem}.manifest.yaml")), &c.view.yaml);
        // Deterministic: the same document compiles to the same bytes.
        assert_eq!(compile_value(&flow_fixture(name)).view.yaml, c.view.yaml);
        seen += 1;
    }
    assert!(seen >= 3, "flow fixtures: {seen}");
}

#[test]
fn the_simple_shape_compiles_to_declarative_with_composed_paths() {
    let c = compile_value(&flow_fixture("customer-lookup.flow.json"));
    let m = c.manifest.expect("compiles");
    let cap = &m.document.capability;
    assert_eq!(cap.kind.unwrap().as_str(), "declarative");
    let int = cap.integration.as_ref().unwrap();
    let mapping: Value = Value::Object(int.response_mapping.clone());
    // The Transform's paths are read through: `$.who` ← `$.name`, `$.first_order.total` ←
    // `orders[0].total`.
    assert_eq!(
        mapping,
        json!({"name": "$.name", "email": "$.email", "spent": "orders[0].total"})
    );
    // Permissions: the declared one kept, the derived GET added; the flow kept for editing.
    assert_eq!(
        cap.permissions.as_deref().unwrap(),
        ["integration.crm", "network.http.get"]
    );
    assert_eq!(cap.flows.len(), 1);
    assert_eq!(cap.actions[0].inputs.to_list()[0].name, "customer_id");
}

#[test]
fn other_shapes_compile_to_workflows_with_derived_permissions_and_pinned_dependencies() {
    let c = compile_value(&flow_fixture("tiered-greeting.flow.json"));
    let m = c.manifest.expect("compiles");
    let cap = &m.document.capability;
    assert_eq!(cap.kind.unwrap().as_str(), "workflow");
    let wf = cap.workflow.as_ref().unwrap();
    let steps: Vec<(&str, &str, Option<&str>)> = wf
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.action.as_str(), s.when.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("crm", "http.request", None),
            ("vip", "logic.if", None),
            ("gold", "transform.map", Some("vip.pass")),
            ("basic", "script.run", Some("!vip.pass")),
            ("join", "flow.merge", None),
        ]
    );
    assert_eq!(cap.allowed_domains, ["crm.example.com"]);
    let c = compile_value(&flow_fixture("weather-digest.flow.json"));
    let cap = c.manifest.expect("compiles").document.capability;
    assert_eq!(cap.dependencies[0].id, "weather-lookup");
    assert_eq!(cap.dependencies[0].version, "=1.0.0");
}

#[test]
fn a_broken_flow_gives_diagnostics_on_its_nodes_and_no_manifest() {
    let mut doc = flow_fixture("customer-lookup.flow.json");
    let nodes = doc["capability"]["flows"][0]["nodes"]
        .as_array_mut()
        .unwrap();
    nodes[1]["data"]["url"] = json!("https://crm.example.com/api/customers/${lookup.id}");
    nodes[2]["data"]["mapp"] = json!({});
    doc["capability"]["name"] = json!("");
    let c = compile_value(&doc);
    assert!(!c.view.ok);
    assert!(c.manifest.is_none() && c.view.yaml.is_empty());
    let on = |code: &str| {
        c.view
            .diagnostics
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("no {code}: {:#?}", c.view.diagnostics))
    };
    assert_eq!(on("unknown-reference").target.as_deref(), Some("node:crm"));
    assert_eq!(on("unknown-reference").action.as_deref(), Some("lookup"));
    assert_eq!(
        on("unknown-config-key").target.as_deref(),
        Some("node:pick")
    );
    // A problem outside the flows keeps its document path.
    let name = c
        .view
        .diagnostics
        .iter()
        .find(|d| d.path.as_deref() == Some("capability.name"));
    assert!(name.is_some(), "{:#?}", c.view.diagnostics);
    // Each problem once, even though the manifest check sees the flows too.
    let refs = c
        .view
        .diagnostics
        .iter()
        .filter(|d| d.code == "unknown-reference")
        .count();
    assert_eq!(refs, 1, "{:#?}", c.view.diagnostics);
}

/// Normalises what compiling adds by design: the kind written out and the flows kept.
fn comparable(d: &Document) -> Value {
    let mut v = serde_json::to_value(&d.capability).unwrap();
    let m = v.as_object_mut().unwrap();
    m.remove("flows");
    m.remove("type");
    v
}

#[test]
fn every_example_round_trips_through_the_flow_model() {
    let mut opened = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let p = entry.unwrap().path();
        let checked = validate::check_file(&p).unwrap();
        // The design's example that does not parse is there to show its error.
        let Some(m) = checked.manifest else { continue };
        let kind = m.kind().as_str();
        let flows = match open_document(&m.document) {
            Ok(d) => d,
            Err(e) => {
                assert!(
                    kind == "code" || kind == "api-connector",
                    "{}: a {kind} capability must open: {e}",
                    p.display()
                );
                assert!(e.to_string().contains(kind), "{e}");
                continue;
            }
        };
        opened += 1;
        let text = export::to_string(&flows, ExportFormat::Json);
        let c = compile_text("flow.json", &text, SourceFormat::Json);
        let compiled = c
            .manifest
            .unwrap_or_else(|| panic!("{}: {:#?}", p.display(), c.view.diagnostics));
        if kind != "flow" {
            assert_eq!(
                comparable(&compiled.document),
                comparable(&m.document),
                "{} changed through the flow model",
                p.display()
            );
            assert_eq!(compiled.kind().as_str(), kind, "{}", p.display());
        }
        // Opening the compiled manifest gives the same flows, and compiling them the same bytes.
        let again = open_document(&compiled.document).unwrap();
        assert_eq!(
            again.capability.flows,
            flows.capability.flows,
            "{}",
            p.display()
        );
        let bytes = compile(&again)
            .document
            .map(|d| export::to_string(&d, ExportFormat::Yaml));
        assert_eq!(
            bytes.as_deref(),
            Some(c.view.yaml.as_str()),
            "{}",
            p.display()
        );
    }
    assert!(opened >= 5, "examples opened as flows: {opened}");
}

#[test]
fn imported_workflows_are_laid_out_left_to_right() {
    let p = examples_dir().join("invoice-processor.yaml");
    let m = validate::check_file(&p).unwrap().manifest.unwrap();
    let d = open_document(&m.document).unwrap();
    let f = &d.capability.flows[0];
    assert_eq!(f.action, "process");
    let x = |id: &str| f.nodes.iter().find(|n| n.id == id).unwrap().position.x;
    assert!(
        x("input") < x("extract") && x("extract") < x("analyze") && x("analyze") < x("validate")
    );
    assert!(x("validate") < x("store") && x("store") < x("output"));
    // Edges come from the values steps use: `notify` reads `${invoice_data.number}`.
    assert!(f
        .edges
        .iter()
        .any(|e| e.source == "analyze" && e.target == "notify"));
}

// ---- live runs on the real engines -------------------------------------------------------

struct Live {
    _dir: tempfile::TempDir,
    app: Capsmith,
    lb: Loopback,
}

async fn live() -> Live {
    let lb = Loopback::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    Live { _dir: dir, app, lb }
}

/// A fixture pointed at the loopback CRM instead of crm.example.com.
fn against(lb: &Loopback, name: &str) -> Value {
    let text = serde_json::to_string(&flow_fixture(name))
        .unwrap()
        .replace("https://crm.example.com", &lb.base());
    serde_json::from_str(&text).unwrap()
}

async fn saved_with_key(l: &Live, doc: &Value) {
    let saved = l.app.builder_save(doc).await.unwrap();
    assert!(saved.summary.is_some(), "{:#?}", saved.compile.diagnostics);
    let id = doc["capability"]["id"].as_str().unwrap();
    l.app
        .config_set(id, "CRM_API_KEY", Sensitive::new(CRM_KEY.to_string()))
        .await
        .unwrap();
    crate::allow_loopback(&l.app, l.lb.port).await;
}

#[tokio::test]
async fn a_live_run_traces_every_node_and_never_shows_the_secret() {
    let l = live().await;
    let doc = against(&l.lb, "customer-lookup.flow.json");
    saved_with_key(&l, &doc).await;
    let run = l
        .app
        .builder_run(&doc, "lookup", &json!({"customer_id": "c-42"}))
        .await
        .unwrap();
    assert!(run.ok, "{:?}", run.error);
    assert_eq!(
        run.output,
        Some(json!({"name": "Ada Lovelace", "email": "ada@example.com", "spent": 120}))
    );
    let nodes: Vec<(&str, NodeStatus)> = run
        .nodes
        .iter()
        .map(|n| (n.node.as_str(), n.status))
        .collect();
    assert_eq!(
        nodes,
        vec![
            ("input", NodeStatus::Ok),
            ("crm", NodeStatus::Ok),
            ("pick", NodeStatus::Ok),
            ("format", NodeStatus::Ok)
        ]
    );
    assert_eq!(run.nodes[0].output, Some(json!({"customer_id": "c-42"})));
    assert_eq!(
        run.nodes[2].input.as_ref().unwrap()["tier"],
        "gold",
        "the node saw the response"
    );
    assert_eq!(run.calls.len(), 1);
    assert_eq!(run.calls[0].status, Some(200));
    let got = l.lb.requests();
    assert_eq!(
        got[0].header("x-api-key"),
        Some(CRM_KEY),
        "the secret reached the API"
    );
    assert!(!serde_json::to_string(&run).unwrap().contains(CRM_KEY));

    // The saved declarative manifest gives the same output through the HTTP engine.
    let r = l
        .app
        .run_action(
            "customer-card",
            None,
            "lookup",
            &json!({"customer_id": "c-42"}),
            Origin::Test,
        )
        .await
        .unwrap();
    assert_eq!(r.output, run.output);
}

#[tokio::test]
async fn a_failing_node_is_reported_and_the_rest_does_not_run() {
    let l = live().await;
    let doc = against(&l.lb, "customer-lookup.flow.json");
    saved_with_key(&l, &doc).await;
    let run = l
        .app
        .builder_run(&doc, "lookup", &json!({"customer_id": "nobody"}))
        .await
        .unwrap();
    assert!(!run.ok);
    assert_eq!(run.error.as_ref().unwrap().kind, "http_status");
    assert_eq!(run.nodes.len(), 2, "{:#?}", run.nodes);
    assert_eq!(run.nodes[1].node, "crm");
    assert_eq!(run.nodes[1].status, NodeStatus::Error);
    assert!(run.nodes[1].error.as_deref().unwrap().contains("404"));
    // Bad input never reaches the engines.
    let bad = l.app.builder_run(&doc, "lookup", &json!({})).await.unwrap();
    assert_eq!(bad.error.unwrap().kind, "invalid_input");
    assert!(bad.nodes.is_empty());
}

#[tokio::test]
async fn branches_run_in_the_sandbox_and_the_saved_workflow_runs_the_same() {
    let l = live().await;
    let doc = against(&l.lb, "tiered-greeting.flow.json");
    saved_with_key(&l, &doc).await;
    let gold = l
        .app
        .builder_run(&doc, "greet", &json!({"customer_id": "c-42"}))
        .await
        .unwrap();
    assert!(gold.ok, "{:?} {:#?}", gold.error, gold.nodes);
    assert_eq!(
        gold.output,
        Some(json!({"greeting": "Welcome back, Ada Lovelace!", "spent": [120, 80]}))
    );
    let status = |r: &capsmith_core::api::dto::FlowRunView, id: &str| {
        r.nodes.iter().find(|n| n.node == id).map(|n| n.status)
    };
    assert_eq!(status(&gold, "basic"), Some(NodeStatus::Skipped));
    let basic = l
        .app
        .builder_run(&doc, "greet", &json!({"customer_id": "c-7"}))
        .await
        .unwrap();
    assert!(basic.ok, "{:?} {:#?}", basic.error, basic.nodes);
    assert_eq!(
        basic.output,
        Some(json!({"greeting": "Hi Charles", "spent": []}))
    );
    assert_eq!(status(&basic, "gold"), Some(NodeStatus::Skipped));
    assert!(basic
        .console
        .iter()
        .any(|c| c.text == "basic tier for Charles"));
    let saved = l
        .app
        .run_action(
            "tiered-greeting",
            None,
            "greet",
            &json!({"customer_id": "c-7"}),
            Origin::Test,
        )
        .await
        .unwrap();
    assert_eq!(saved.output, basic.output, "{:?}", saved.error);
}

#[tokio::test]
async fn a_flow_with_problems_does_not_run() {
    let l = live().await;
    let mut doc = against(&l.lb, "customer-lookup.flow.json");
    doc["capability"]["flows"][0]["edges"] =
        json!([{ "id": "e1", "source": "input", "target": "crm" }]);
    let run = l
        .app
        .builder_run(&doc, "lookup", &json!({"customer_id": "c-42"}))
        .await
        .unwrap();
    assert_eq!(run.error.unwrap().kind, "invalid_flow");
    assert!(l.lb.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn drafts_autosave_in_any_state_and_saving_never_overwrites_a_published_version() {
    let l = live().await;
    let mut doc = flow_fixture("customer-lookup.flow.json");
    // Work in progress with errors is kept as a draft, not as a capability.
    doc["capability"]["flows"][0]["edges"] = json!([]);
    l.app.builder_autosave(&doc).await.unwrap();
    let saved = l.app.builder_save(&doc).await.unwrap();
    assert!(saved.summary.is_none() && !saved.compile.ok);
    assert!(l
        .app
        .list(None)
        .await
        .unwrap()
        .iter()
        .all(|s| s.id != "customer-card"));
    let drafts = l.app.builder_drafts().await.unwrap();
    assert_eq!(drafts[0].id, "customer-card");
    assert_eq!(
        l.app.builder_open("customer-card", None).await.unwrap(),
        doc
    );

    let good = flow_fixture("customer-lookup.flow.json");
    let s = l.app.builder_save(&good).await.unwrap().summary.unwrap();
    assert_eq!(s.status.as_str(), "draft");
    // Saving again replaces the draft of the same version.
    let mut renamed = good.clone();
    renamed["capability"]["name"] = json!("Customer Finder");
    let s = l.app.builder_save(&renamed).await.unwrap().summary.unwrap();
    assert_eq!(s.name, "Customer Finder");
    l.app
        .set_status(
            "customer-card",
            None,
            capsmith_core::api::dto::CapabilityStatus::Published,
        )
        .await
        .unwrap();
    let mut changed = renamed.clone();
    changed["capability"]["name"] = json!("Changed after publishing");
    let err = l.app.builder_save(&changed).await.unwrap_err();
    assert!(matches!(err, CoreError::VersionConflict { .. }), "{err}");
    let detail = l.app.detail("customer-card", None).await.unwrap();
    assert_eq!(
        detail.summary.name, "Customer Finder",
        "the published version is as it was"
    );
    assert!(l.app.builder_discard("customer-card").await.unwrap());
    assert!(l.app.builder_drafts().await.unwrap().is_empty());
    // Without a draft, the stored manifest opens with its flows.
    let opened = l.app.builder_open("customer-card", None).await.unwrap();
    // The published 0.2.0 opens as 0.2.1, so saving adds a version.
    assert_eq!(opened["capability"]["version"], "0.2.1");
    let next = l.app.builder_save(&opened).await.unwrap().summary.unwrap();
    assert_eq!(
        (next.version.as_str(), next.status.as_str()),
        ("0.2.1", "draft")
    );
    let flows = |v: &Value| -> Vec<capsmith_core::manifest::model::Flow> {
        serde_json::from_value(v["capability"]["flows"].clone()).unwrap()
    };
    assert_eq!(flows(&opened), flows(&good));
}

// ---- guards, tried from the other side ----------------------------------------------------

fn node(id: &str, ty: &str, data: Value) -> Value {
    json!({"id": id, "type": ty, "position": {"x": 0, "y": 0}, "data": data})
}

fn edge(s: &str, t: &str) -> Value {
    json!({"id": format!("{s}-{t}"), "source": s, "target": t})
}

/// A one-flow document around `nodes`/`edges`, with the CRM key as its secret.
fn doc(id: &str, nodes: Vec<Value>, edges: Vec<Value>) -> Value {
    json!({"capability": {"id": id, "name": id, "version": "1.0.0", "type": "flow",
        "actions": [{"id": "run"}],
        "flows": [{"action": "run", "nodes": nodes, "edges": edges}],
        "configuration": [{"key": "CRM_API_KEY", "type": "secret", "required": true}]}})
}

#[tokio::test]
async fn a_document_cannot_claim_a_saved_capabilitys_secrets_for_a_new_host() {
    let l = live().await;
    let saved = against(&l.lb, "customer-lookup.flow.json");
    saved_with_key(&l, &saved).await;
    // Same id, a host the saved version never reaches (`localhost` is another name).
    let thief = doc(
        "customer-card",
        vec![
            node("input", "input", json!({})),
            node(
                "leak",
                "api_call",
                json!({"url": format!("http://localhost:{}/echo?k=${{CRM_API_KEY}}", l.lb.port)}),
            ),
            node("out", "output", json!({})),
        ],
        vec![edge("input", "leak"), edge("leak", "out")],
    );
    crate::allow_loopback(&l.app, l.lb.port).await;
    let run = l.app.builder_run(&thief, "run", &json!({})).await.unwrap();
    let e = run.error.unwrap();
    assert_eq!(e.kind, "secrets_withheld", "{}", e.message);
    assert!(
        e.message
            .contains(&format!("host `localhost:{}`", l.lb.port)),
        "{}",
        e.message
    );
    assert!(l.lb.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_false_filter_stops_every_step_behind_it_and_merges_of_nothing_do_not_run() {
    let l = live().await;
    let base = l.lb.base();
    let d = doc(
        "filtered-posts",
        vec![
            node(
                "input",
                "input",
                json!({"inputs": [{"name": "go", "type": "boolean", "required": true}]}),
            ),
            node("gate", "filter", json!({"condition": "input.go === true"})),
            node("a", "api_call", json!({"url": format!("{base}/echo/a")})),
            node(
                "b",
                "api_call",
                json!({"method": "POST", "url": format!("{base}/echo/b"), "body": {"from": "${a.target}"}}),
            ),
            node(
                "c",
                "api_call",
                json!({"method": "POST", "url": format!("{base}/echo/c")}),
            ),
            node("join", "merge", json!({})),
            node(
                "after",
                "api_call",
                json!({"method": "POST", "url": format!("{base}/echo/after")}),
            ),
            node("out", "output", json!({})),
        ],
        vec![
            edge("input", "gate"),
            edge("gate", "a"),
            edge("a", "b"),
            edge("gate", "c"),
            edge("b", "join"),
            edge("c", "join"),
            edge("join", "after"),
            edge("after", "out"),
        ],
    );
    // Saved, so the user can let it reach the stand-in on this machine.
    l.app.builder_save(&d).await.unwrap();
    crate::allow_loopback(&l.app, l.lb.port).await;
    let stopped = l
        .app
        .builder_run(&d, "run", &json!({"go": false}))
        .await
        .unwrap();
    assert!(stopped.ok, "{:?}", stopped.error);
    assert!(l.lb.requests().is_empty(), "{:?}", l.lb.requests());
    let skipped: Vec<&str> = stopped
        .nodes
        .iter()
        .filter(|n| n.status == NodeStatus::Skipped)
        .map(|n| n.node.as_str())
        .collect();
    assert_eq!(skipped, ["a", "b", "c", "join", "after"]);
    let went = l
        .app
        .builder_run(&d, "run", &json!({"go": true}))
        .await
        .unwrap();
    assert!(went.ok, "{:?}", went.error);
    let targets: Vec<String> = l.lb.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, ["/echo/a", "/echo/b", "/echo/c", "/echo/after"]);
}

#[tokio::test]
async fn data_from_upstream_cannot_choose_where_a_request_goes_and_scripts_see_no_secret() {
    let l = live().await;
    let saved = against(&l.lb, "customer-lookup.flow.json");
    saved_with_key(&l, &saved).await;
    // The CRM answers with an email; a second call tries to use it as its host.
    let mut d = against(&l.lb, "customer-lookup.flow.json");
    let flow = &mut d["capability"]["flows"][0];
    flow["nodes"] = json!([
        flow["nodes"][0].clone(),
        flow["nodes"][1].clone(),
        node(
            "hop",
            "api_call",
            json!({"url": "http://${crm.email}/x", "headers": {"X-Api-Key": "${CRM_API_KEY}"}})
        ),
        node(
            "peek",
            "script",
            json!({"code": "return { seen: config.CRM_API_KEY === undefined ? 'nothing' : String(config.CRM_API_KEY) };"})
        ),
        node("format", "output", json!({})),
    ]);
    flow["edges"] = json!([
        edge("input", "crm"),
        edge("crm", "hop"),
        edge("hop", "peek"),
        edge("peek", "format")
    ]);
    // Saved first: the run then uses nothing the saved version does not have.
    let saved_too = l.app.builder_save(&d).await.unwrap();
    assert!(
        saved_too.summary.is_some(),
        "{:#?}",
        saved_too.compile.diagnostics
    );
    let run = l
        .app
        .builder_run(&d, "lookup", &json!({"customer_id": "c-42"}))
        .await
        .unwrap();
    let e = run.error.unwrap();
    assert_eq!(e.kind, "bad_request", "{}", e.message);
    assert_eq!(l.lb.requests().len(), 1, "only the CRM call left");
    // Without the hop, the script runs and finds no secret in its configuration.
    flow_without_hop(&mut d);
    let run = l
        .app
        .builder_run(&d, "lookup", &json!({"customer_id": "c-42"}))
        .await
        .unwrap();
    assert!(run.ok, "{:?}", run.error);
    assert_eq!(run.output, Some(json!({"seen": "nothing"})));
}

fn flow_without_hop(d: &mut Value) {
    let flow = &mut d["capability"]["flows"][0];
    let nodes: Vec<Value> = flow["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["id"] != "hop")
        .cloned()
        .collect();
    flow["nodes"] = Value::Array(nodes);
    flow["edges"] = json!([
        edge("input", "crm"),
        edge("crm", "peek"),
        edge("peek", "format")
    ]);
}

#[tokio::test]
async fn call_capability_nodes_call_declared_capabilities_only() {
    let l = live().await;
    let saved = against(&l.lb, "customer-lookup.flow.json");
    saved_with_key(&l, &saved).await;
    let calling = |capability: &str, action: &str| {
        doc(
            "crm-caller",
            vec![
                node(
                    "input",
                    "input",
                    json!({"inputs": [{"name": "who", "type": "string", "required": true}]}),
                ),
                node(
                    "call",
                    "call_capability",
                    json!({"capability": capability, "action": action, "version": "0.2.0", "input": {"customer_id": "${input.who}"}}),
                ),
                node("out", "output", json!({})),
            ],
            vec![edge("input", "call"), edge("call", "out")],
        )
    };
    // Another installed capability, pinned: its own secret stays its own, the result comes back.
    let ok = l
        .app
        .builder_run(
            &calling("customer-card", "lookup"),
            "run",
            &json!({"who": "c-42"}),
        )
        .await
        .unwrap();
    assert!(ok.ok, "{:?}", ok.error);
    assert_eq!(ok.output.as_ref().unwrap()["name"], "Ada Lovelace");
    // Itself, and a standard action this version does not run, are refused.
    for (cap, action) in [("crm-caller", "run"), ("http", "get")] {
        let r = l
            .app
            .builder_run(&calling(cap, action), "run", &json!({"who": "c-42"}))
            .await
            .unwrap();
        assert_eq!(
            r.error.unwrap().kind,
            "unavailable_action",
            "{cap}.{action}"
        );
    }
}
