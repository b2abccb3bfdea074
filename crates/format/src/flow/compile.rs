//! Compiling a flow document to a manifest. One flow of the shape Input → API Call →
//! (Transform) → Output becomes a declarative manifest; any other single flow becomes a
//! workflow whose steps are the nodes in topological order; several flows (several actions)
//! stay a flow capability, each flow lowered to steps when it runs. The flows are kept in the
//! result so it re-opens for editing. Nothing here depends on time or hash order: the same
//! document compiles to the same bytes.

use std::collections::BTreeSet;

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde_json::{Map, Value};

use super::nodes::{NodeData, OutputData};
use super::{analyze, Analysis, Context, FlowFinding, NodeKind, WORKFLOW_ACTION};
use crate::diagnostics::Severity;
use crate::manifest::model::{
    Action, Dependency, Document, Fields, Flow, HttpMethod, Integration, IntegrationType, Kind,
    Step, Workflow,
};
use crate::manifest::permissions;

/// What compiling a flow document gives: the manifest (when no flow has an error) and every
/// finding, each with the action whose flow it concerns.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub document: Option<Document>,
    pub kind: Option<Kind>,
    pub findings: Vec<(String, FlowFinding)>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|(_, f)| f.severity == Severity::Error)
    }
}

/// A flow lowered to workflow steps, with what running them needs to be allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Lowered {
    pub workflow: Workflow,
    pub permissions: BTreeSet<String>,
    pub domains: BTreeSet<String>,
    pub dependencies: Vec<Dependency>,
    /// Declared by the Input and Output nodes.
    pub inputs: Vec<crate::manifest::model::Field>,
    pub outputs: Vec<crate::manifest::model::Field>,
}

/// Compiles every flow of `doc`.
pub fn compile(doc: &Document) -> Compiled {
    compile_owned(doc.clone())
}

/// Compiles every flow of `doc`, taking it: the result reuses its parts (flows included)
/// instead of copying them.
pub fn compile_owned(mut doc: Document) -> Compiled {
    let flows = std::mem::take(&mut doc.capability.flows);
    let cap = &doc.capability;
    let cx = Context {
        config_keys: cap.configuration.iter().map(|c| c.key.clone()).collect(),
    };
    let mut findings = Vec::new();
    let mut lowered = Vec::new();
    let mut declarative = None;
    if flows.is_empty() {
        findings.push((
            String::new(),
            FlowFinding {
                severity: Severity::Error,
                code: "no-flows",
                message: "there is no flow to compile: add an action and build its flow".into(),
                target: String::new(),
                key: None,
            },
        ));
    }
    for a in &cap.actions {
        if !flows.is_empty() && !flows.iter().any(|f| f.action == a.id) {
            findings.push((
                a.id.clone(),
                FlowFinding {
                    severity: Severity::Error,
                    code: "action-without-flow",
                    message: format!(
                        "action `{}` has no flow: build one, or remove the action",
                        a.id
                    ),
                    target: String::new(),
                    key: None,
                },
            ));
        }
    }
    for flow in &flows {
        let an = analyze(flow, &cx);
        if flow.action != WORKFLOW_ACTION && !cap.actions.iter().any(|a| a.id == flow.action) {
            findings.push((
                flow.action.clone(),
                FlowFinding {
                    severity: Severity::Error,
                    code: "unknown-action",
                    message: format!(
                        "this flow implements `{}`, which is not one of the actions",
                        flow.action
                    ),
                    target: String::new(),
                    key: None,
                },
            ));
        }
        let ok = !an.has_errors();
        findings.extend(
            an.findings
                .iter()
                .cloned()
                .map(|f| (flow.action.clone(), f)),
        );
        if ok {
            if flows.len() == 1 {
                declarative = as_integration(flow, &an);
            }
            lowered.push((flow.action.clone(), lower(flow, &an)));
        }
    }
    let failed = findings.iter().any(|(_, f)| f.severity == Severity::Error);
    if failed {
        return Compiled {
            document: None,
            kind: None,
            findings,
        };
    }

    let mut out = doc.capability;
    out.integration = None;
    out.workflow = None;
    let mut perms = BTreeSet::new();
    let mut domains = BTreeSet::new();
    let mut deps: Vec<Dependency> = Vec::new();
    for (action, l) in &lowered {
        perms.extend(l.permissions.iter().cloned());
        domains.extend(l.domains.iter().cloned());
        for d in &l.dependencies {
            if !deps.iter().any(|x| x.id == d.id) {
                deps.push(d.clone());
            }
        }
        if let Some(a) = out.actions.iter_mut().find(|a| &a.id == action) {
            write_fields(a, l);
        }
    }
    let kind = if let Some(int) = declarative {
        // The endpoint's host is allowed by the integration itself.
        domains.clear();
        out.integration = Some(int);
        Kind::Declarative
    } else if lowered.len() == 1 {
        out.workflow = lowered.pop().map(|(_, l)| l.workflow);
        Kind::Workflow
    } else {
        Kind::Flow
    };
    out.kind = Some(kind);
    if let Some(declared) = &mut out.permissions {
        for p in perms {
            if !declared.contains(&p) {
                declared.push(p);
            }
        }
    }
    for d in domains {
        if !out.allowed_domains.contains(&d) {
            out.allowed_domains.push(d);
        }
    }
    for d in deps {
        if !out.dependencies.iter().any(|x| x.id == d.id) {
            out.dependencies.push(d);
        }
    }
    out.flows = flows;
    Compiled {
        document: Some(Document {
            schema: doc.schema,
            format_version: doc.format_version,
            capability: out,
        }),
        kind: Some(kind),
        findings,
    }
}

/// Writes the Input and Output nodes' fields into the action, keeping the written form (list
/// or map) it had.
fn write_fields(a: &mut Action, l: &Lowered) {
    let set = |f: &mut Fields, list: &[crate::manifest::model::Field]| {
        if f.to_list() != list {
            *f = Fields::List(list.to_vec());
        }
    };
    set(&mut a.inputs, &l.inputs);
    set(&mut a.outputs, &l.outputs);
}

fn node_data<'a>(an: &'a Analysis, i: usize) -> Option<&'a NodeData> {
    an.data.get(i).and_then(Option::as_ref)
}

/// The single successor of node `i`, with no handles involved.
fn only_next(an: &Analysis, i: usize) -> Option<usize> {
    let mut it = an
        .graph
        .graph
        .edges_directed(NodeIndex::new(i), Direction::Outgoing);
    let e = it.next()?;
    if it.next().is_some() {
        return None;
    }
    Some(e.target().index())
}

fn is_path(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| !s.contains("${"))
}

/// The declarative integration, when the flow has the shape Input → API Call → (Transform with
/// a path mapping) → Output with a path mapping.
fn as_integration(flow: &Flow, an: &Analysis) -> Option<Integration> {
    let order = an.order.as_ref()?;
    if !(3..=4).contains(&flow.nodes.len()) || flow.edges.len() != flow.nodes.len() - 1 {
        return None;
    }
    let first = *order.first()?;
    let call = only_next(an, first)?;
    let NodeData::ApiCall(api) = node_data(an, call)? else {
        return None;
    };
    let mut next = only_next(an, call)?;
    let mut transform = None;
    if let Some(NodeData::Transform(t)) = node_data(an, next) {
        if t.expression.is_some() || t.mapping.values().any(|v| is_path(v).is_none()) {
            return None;
        }
        transform = Some(t);
        next = only_next(an, next)?;
    }
    let Some(NodeData::Output(out)) = node_data(an, next) else {
        return None;
    };
    if !matches!(node_data(an, first), Some(NodeData::Input(i)) if i.trigger.is_none() && i.filter.is_none() && i.error_handling.is_none())
    {
        return None;
    }
    let response_mapping = compose(transform.map(|t| &t.mapping), out)?;
    Some(Integration {
        ty: IntegrationType::Api,
        endpoint: api.url.clone(),
        method: api.method,
        headers: api.headers.clone(),
        params: api.query.clone(),
        body: api.body.clone(),
        response_mapping,
        timeout_ms: api.timeout_ms,
    })
}

/// The response mapping: the Output's paths, read through the Transform's when there is one.
fn compose(transform: Option<&Map<String, Value>>, out: &OutputData) -> Option<Map<String, Value>> {
    let Some(t) = transform else {
        if out.mapping.values().any(|v| is_path(v).is_none()) {
            return None;
        }
        return Some(out.mapping.clone());
    };
    if out.mapping.is_empty() {
        return Some(t.clone());
    }
    let mut m = Map::new();
    for (name, v) in &out.mapping {
        let p = is_path(v)?.trim();
        let rel = p
            .strip_prefix("$.")
            .or_else(|| p.strip_prefix('$'))
            .unwrap_or(p);
        let cut = rel.find(['.', '[']).unwrap_or(rel.len());
        let (field, rest) = rel.split_at(cut);
        let base = is_path(t.get(field)?)?.trim();
        m.insert(name.clone(), Value::String(format!("{base}{rest}")));
    }
    Some(m)
}

/// The reference to node `p`'s value as seen by its successor (through `handle`).
fn upstream_ref(kind: Option<NodeKind>, id: &str) -> String {
    match kind {
        Some(NodeKind::Input) => "${input}".to_string(),
        Some(NodeKind::Filter | NodeKind::Branch) => format!("${{{id}.value}}"),
        _ => format!("${{{id}}}"),
    }
}

/// Lowers a checked, acyclic flow to workflow steps.
pub fn lower(flow: &Flow, an: &Analysis) -> Lowered {
    let order = an
        .order
        .clone()
        .unwrap_or_else(|| (0..flow.nodes.len()).collect());
    let kinds: Vec<Option<NodeKind>> = flow.nodes.iter().map(|n| NodeKind::parse(&n.ty)).collect();
    let mut l = Lowered {
        workflow: Workflow {
            trigger: "manual".into(),
            schedule: None,
            filter: None,
            steps: Vec::with_capacity(flow.nodes.len()),
            error_handling: None,
            output: None,
        },
        permissions: BTreeSet::new(),
        domains: BTreeSet::new(),
        dependencies: Vec::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    for &i in &order {
        let node = &flow.nodes[i];
        let Some(d) = node_data(an, i) else { continue };
        let ix = NodeIndex::new(i);
        // What flows in, and the conditions of the filters and branches right upstream.
        let mut ups = Vec::new();
        let mut guards = Vec::new();
        // In the order the author drew the edges.
        let mut incoming: Vec<_> = an
            .graph
            .graph
            .edges_directed(ix, Direction::Incoming)
            .collect();
        incoming.sort_by_key(|e| *e.weight());
        // Upstream steps, with the name later steps read their result by.
        let mut preds: Vec<(&str, Option<&str>)> = Vec::new();
        for e in incoming {
            let p = e.source().index();
            let pid = &flow.nodes[p].id;
            ups.push(upstream_ref(kinds[p], pid));
            if kinds[p] != Some(NodeKind::Input) {
                let output = match node_data(an, p) {
                    Some(NodeData::CallCapability(c)) => c.output.as_deref(),
                    _ => None,
                };
                preds.push((pid, output));
            }
            match kinds[p] {
                Some(NodeKind::Filter) => guards.push(format!("{pid}.pass")),
                Some(NodeKind::Branch) => {
                    let edge = &flow.edges[*e.weight()];
                    if edge.source_handle.as_deref() == Some("false") {
                        guards.push(format!("!{pid}.pass"));
                    } else {
                        guards.push(format!("{pid}.pass"));
                    }
                }
                _ => {}
            }
        }
        let single_input = || ups.first().cloned().map(Value::String);
        let mut step = Step {
            id: node.id.clone(),
            action: String::new(),
            input: single_input(),
            output: None,
            when: None,
            retry: None,
            after: Vec::new(),
            params: Map::new(),
        };
        match d {
            NodeData::Input(x) => {
                l.inputs = x.inputs.clone();
                if let Some(t) = &x.trigger {
                    l.workflow.trigger = t.clone();
                    if t == "file_upload" {
                        l.permissions.insert("file.read".into());
                    }
                }
                l.workflow.schedule = x.schedule.clone();
                l.workflow.filter = x.filter.clone();
                if x.filter.is_some() {
                    l.permissions.insert("compute.light".into());
                }
                l.workflow.error_handling = x.error_handling.clone();
                continue;
            }
            NodeData::Output(x) => {
                l.outputs = x.outputs.clone();
                if x.mapping.is_empty() {
                    continue;
                }
                step.action = "transform.map".into();
                step.params
                    .insert("mapping".into(), Value::Object(x.mapping.clone()));
                l.workflow.output = Some(node.id.clone());
            }
            NodeData::ApiCall(x) => {
                let method = x.method.unwrap_or(HttpMethod::Get);
                l.permissions.insert(
                    if method.is_read() {
                        "network.http.get"
                    } else {
                        "network.http.post"
                    }
                    .into(),
                );
                if let Some(h) = literal_host(&x.url) {
                    l.domains.insert(h);
                }
                step.action = "http.request".into();
                step.input = None;
                // The node's settings are exactly the step's parameters (checked by parsing).
                step.params = node.data.clone();
            }
            NodeData::Transform(x) => {
                if let Some(e) = &x.expression {
                    l.permissions.insert("compute.light".into());
                    step.action = "transform.js".into();
                    step.params
                        .insert("expression".into(), Value::String(e.clone()));
                } else {
                    step.action = "transform.map".into();
                    step.params
                        .insert("mapping".into(), Value::Object(x.mapping.clone()));
                }
            }
            NodeData::Filter(x) | NodeData::Branch(x) => {
                l.permissions.insert("compute.light".into());
                step.action = "logic.if".into();
                step.params
                    .insert("condition".into(), Value::String(x.condition.clone()));
            }
            NodeData::Script(x) => {
                l.permissions.insert("compute.light".into());
                step.action = "script.run".into();
                step.params
                    .insert("code".into(), Value::String(x.code.clone()));
            }
            NodeData::Merge(_) => {
                step.action = "flow.merge".into();
                step.input = Some(Value::Array(
                    ups.iter().cloned().map(Value::String).collect(),
                ));
            }
            NodeData::CallCapability(x) => {
                step.action = format!("{}.{}", x.capability, x.action);
                if x.input.is_some() {
                    step.input = x.input.clone();
                }
                step.params = x.params.clone();
                if x.input.is_none() && !x.params.is_empty() {
                    step.input = None; // an imported step that took its values from params
                }
                step.output = x.output.clone();
                step.retry = x.retry;
                if let Some(w) = &x.when {
                    guards.push(w.clone());
                }
                if let Some(p) = permissions::for_standard_action(&step.action) {
                    l.permissions.insert(p.into());
                } else if !permissions::STANDARD_ACTIONS.contains(&step.action.as_str()) {
                    l.dependencies.push(Dependency {
                        id: x.capability.clone(),
                        version: x
                            .version
                            .as_ref()
                            .map(|v| format!("={v}"))
                            .unwrap_or_else(|| "*".into()),
                        optional: false,
                    });
                }
            }
        }
        if step.action == "flow.merge" {
            // A merge runs when any branch did; its branches' conditions are not its own.
            guards.clear();
        } else {
            // An upstream step skipped skips this one too: those it does not read from are
            // listed, so a filter or branch stops everything behind it, not just the next node.
            let read = referenced_roots(&step);
            step.after = preds
                .iter()
                .filter(|(id, output)| {
                    !read.iter().any(|r| r == id)
                        && !output.is_some_and(|o| read.iter().any(|r| r == o))
                })
                .map(|(id, _)| id.to_string())
                .collect();
        }
        if !guards.is_empty() {
            step.when = Some(if guards.len() == 1 {
                guards.remove(0)
            } else {
                guards
                    .iter()
                    .map(|g| format!("({g})"))
                    .collect::<Vec<_>>()
                    .join(" && ")
            });
        }
        l.workflow.steps.push(step);
    }
    l
}

/// The roots a step's templates read (`crm` in `${crm.name}`), outside JavaScript parameters,
/// each once, in the order they appear.
pub fn referenced_roots(s: &Step) -> Vec<String> {
    fn go(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(t) if t.contains("${") => {
                for r in crate::manifest::template::refs(t).unwrap_or_default() {
                    if !out.iter().any(|x| x == r.root()) {
                        out.push(r.root().to_string());
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| go(x, out)),
            Value::Object(m) => m.values().for_each(|x| go(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(i) = &s.input {
        go(i, &mut out);
    }
    for (k, v) in &s.params {
        if !permissions::is_javascript_param(&s.action, k) {
            go(v, &mut out);
        }
    }
    out
}

/// The host of a URL template when it is written out (not templated).
pub fn literal_host(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains("${") || authority.contains("{{") {
        return None;
    }
    // The scope entry: the host, with its port when that is not the scheme's default.
    let parsed = url::Url::parse(&format!("{scheme}://{authority}/")).ok()?;
    let host = parsed.host_str()?;
    (!host.is_empty()).then(|| crate::manifest::permissions::scope_entry(host, parsed.port()))
}
