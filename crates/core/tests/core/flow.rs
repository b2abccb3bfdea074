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
use capsmith_core::manifest::{self, SourceFormat};
use capsmith_core::secrets::Sensitive;
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
        let checked = manifest::check_file(&p).unwrap();
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
    let m = manifest::check_file(&p).unwrap().manifest.unwrap();
    let d = open_document(&m.document).unwrap();
    let f = &d.capability.flows[0];
    assert_eq!(f.action, "workflow");
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
    app.set_setting(
        "network.allow_hosts",
        Some(&format!("127.0.0.1:{}", lb.port)),
    )
    .await
    .unwrap();
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
    let flows = |v: &Value| -> Vec<capsmith_core::manifest::model::Flow> {
        serde_json::from_value(v["capability"]["flows"].clone()).unwrap()
    };
    assert_eq!(flows(&opened), flows(&good));
}
