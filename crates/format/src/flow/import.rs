//! Opening a manifest as flows: a declarative manifest becomes Input → API Call → Output, a
//! workflow one node per step with edges from the values steps take from each other, laid out
//! automatically. Compiling the result gives back an equivalent manifest (tested over every
//! example). A manifest that already carries its flows opens as they are.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::compile::referenced_roots;
use super::layout::layout;
use super::nodes::{
    ApiCallData, CallData, ConditionData, InputData, MergeData, NodeData, OutputData, ScriptData,
    TransformData,
};
use super::WORKFLOW_ACTION;
use crate::manifest::model::{
    Capability, Document, Flow, FlowEdge, FlowNode, Kind, Position, Step, Workflow,
};

/// Why a manifest cannot open as flows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAFlow(pub String);

/// The flow document for `doc`.
pub fn to_flow_document(doc: &Document) -> Result<Document, NotAFlow> {
    let cap = &doc.capability;
    let mut out = cap.clone();
    out.kind = Some(Kind::Flow);
    out.integration = None;
    out.workflow = None;
    if !cap.flows.is_empty() {
        return Ok(wrap(doc, out));
    }
    match cap.inferred_kind() {
        Some(Kind::Declarative) => {
            let int = cap.integration.as_ref().ok_or_else(|| NotAFlow("no integration".into()))?;
            for a in &cap.actions {
                let mut flow = Flow {
                    action: a.id.clone(),
                    nodes: vec![
                        node(
                            "input",
                            NodeData::Input(InputData {
                                inputs: a.inputs.to_list(),
                                ..Default::default()
                            }),
                        ),
                        node(
                            "api_call",
                            NodeData::ApiCall(ApiCallData {
                                method: int.method,
                                url: int.endpoint.clone(),
                                headers: int.headers.clone(),
                                query: int.params.clone(),
                                body: int.body.clone(),
                                timeout_ms: int.timeout_ms,
                            }),
                        ),
                        node(
                            "output",
                            NodeData::Output(OutputData {
                                outputs: a.outputs.to_list(),
                                mapping: int.response_mapping.clone(),
                            }),
                        ),
                    ],
                    edges: vec![edge("input", None, "api_call"), edge("api_call", None, "output")],
                    viewport: None,
                };
                layout(&mut flow);
                out.flows.push(flow);
            }
            Ok(wrap(doc, out))
        }
        Some(Kind::Workflow) => {
            let wf = cap.workflow.as_ref().ok_or_else(|| NotAFlow("no workflow".into()))?;
            if cap.actions.len() > 1 {
                return Err(NotAFlow(format!(
                    "this workflow declares {} actions; a workflow runs as one flow, so it opens with at most one",
                    cap.actions.len()
                )));
            }
            let mut flow = workflow_flow(cap, wf);
            layout(&mut flow);
            out.flows.push(flow);
            Ok(wrap(doc, out))
        }
        Some(other) => Err(NotAFlow(format!(
            "a {} capability does not open in the builder (declarative, workflow and flow capabilities do)",
            other.as_str()
        ))),
        None => Err(NotAFlow("the manifest does not say what kind of capability it is".into())),
    }
}

fn wrap(doc: &Document, cap: Capability) -> Document {
    Document {
        schema: doc.schema.clone(),
        format_version: doc.format_version,
        capability: cap,
    }
}

fn node(id: &str, data: NodeData) -> FlowNode {
    let ty = match &data {
        NodeData::Input(_) => "input",
        NodeData::ApiCall(_) => "api_call",
        NodeData::Transform(_) => "transform",
        NodeData::Filter(_) => "filter",
        NodeData::Branch(_) => "branch",
        NodeData::Script(_) => "script",
        NodeData::CallCapability(_) => "call_capability",
        NodeData::Merge(_) => "merge",
        NodeData::Output(_) => "output",
    };
    FlowNode {
        id: id.to_string(),
        ty: ty.to_string(),
        position: Position { x: 0.0, y: 0.0 },
        data: data.to_map(),
    }
}

fn edge(source: &str, handle: Option<&str>, target: &str) -> FlowEdge {
    FlowEdge {
        id: match handle {
            Some(h) => format!("{source}-{h}-{target}"),
            None => format!("{source}-{target}"),
        },
        source: source.to_string(),
        source_handle: handle.map(str::to_string),
        target: target.to_string(),
        target_handle: None,
    }
}

/// `x.pass` / `!x.pass` guards and what is left of a `when` besides them.
fn split_guards(
    when: &str,
    conditions: &HashMap<&str, usize>,
) -> (Vec<(String, bool)>, Vec<String>) {
    let parts: Vec<&str> = if when.contains(" && ") {
        when.split(" && ").collect()
    } else {
        vec![when]
    };
    let wrapped = parts.len() > 1;
    let mut guards = Vec::new();
    let mut rest = Vec::new();
    for p in parts {
        let inner = if wrapped {
            p.trim()
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')'))
                .unwrap_or(p)
        } else {
            p
        };
        let (neg, body) = match inner.trim().strip_prefix('!') {
            Some(b) => (true, b),
            None => (false, inner.trim()),
        };
        match body.strip_suffix(".pass") {
            Some(id) if conditions.contains_key(id) => guards.push((id.to_string(), neg)),
            _ => rest.push(inner.to_string()),
        }
    }
    (guards, rest)
}

fn workflow_flow(cap: &Capability, wf: &Workflow) -> Flow {
    let action = cap.actions.first();
    // Ids the flow's own Input and Output nodes take, clear of the steps' ids.
    let free = |base: &str| {
        let mut id = base.to_string();
        while wf.steps.iter().any(|s| s.id == id) {
            id.push_str("_node");
        }
        id
    };
    let (input_id, output_id) = (free("input"), free("output"));
    let conditions: HashMap<&str, usize> = wf
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.action == "logic.if")
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut names: HashMap<String, String> = HashMap::new();
    for s in &wf.steps {
        names.insert(s.id.clone(), s.id.clone());
        if let Some(o) = &s.output {
            names.entry(o.clone()).or_insert_with(|| s.id.clone());
        }
    }
    let negated: Vec<&str> = wf
        .steps
        .iter()
        .filter_map(|s| s.when.as_deref())
        .flat_map(|w| split_guards(w, &conditions).0)
        .filter(|(_, neg)| *neg)
        .filter_map(|(id, _)| conditions.get_key_value(id.as_str()).map(|(k, _)| *k))
        .collect();

    let mut nodes = vec![node(
        &input_id,
        NodeData::Input(InputData {
            inputs: action.map(|a| a.inputs.to_list()).unwrap_or_default(),
            trigger: (wf.trigger != "manual").then(|| wf.trigger.clone()),
            schedule: wf.schedule.clone(),
            filter: wf.filter.clone(),
            error_handling: wf.error_handling.clone(),
        }),
    )];
    let mut edges: Vec<FlowEdge> = Vec::new();
    let mut output_mapping = None;
    let mut previous = input_id.clone();
    for s in &wf.steps {
        let (guards, rest) = s
            .when
            .as_deref()
            .map(|w| split_guards(w, &conditions))
            .unwrap_or_default();
        let param = |k: &str| s.params.get(k).and_then(Value::as_str).map(str::to_string);
        // A step the compiler could have written opens as the node it came from; anything
        // else (its own condition, retries, an output name, another input) stays a step call,
        // which compiles back as it was.
        let canonical = rest.is_empty()
            && s.retry.is_none()
            && s.output.is_none()
            && canonical_input(s, &names);
        let lowered = if canonical {
            lowered_node(s, &negated, &param)
        } else {
            None
        };
        let is_output =
            canonical && wf.output.as_deref() == Some(s.id.as_str()) && s.action == "transform.map";
        let mut from: Vec<(String, Option<&str>)> = Vec::new();
        for (g, neg) in &guards {
            let branch = negated.contains(&g.as_str());
            let h = branch.then_some(if *neg { "false" } else { "true" });
            from.push((g.clone(), h));
        }
        match (&lowered, is_output) {
            (Some(_), _) | (None, true) => {
                // Lowered nodes take the upstream value by reference: `${input}`, `${x}`, `${x.value}`.
                let refs: Vec<&str> = match &s.input {
                    Some(Value::String(r)) => vec![r.as_str()],
                    Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                for r in refs {
                    let inner = r.trim_start_matches("${").trim_end_matches('}');
                    let id = inner.strip_suffix(".value").unwrap_or(inner);
                    if id == "input" {
                        from.push((input_id.clone(), None));
                    } else if let Some(step) = names.get(id) {
                        if !from.iter().any(|(f, _)| f == step) {
                            from.push((step.clone(), None));
                        }
                    }
                }
            }
            _ => {}
        }
        if lowered.is_none() && !is_output {
            for root in referenced_roots(s) {
                let Some(f) = names.get(&root) else { continue };
                if *f != s.id && !from.iter().any(|(x, _)| x == f) {
                    from.push((f.clone(), None));
                }
            }
        }
        for a in &s.after {
            if let Some(step) = names.get(a) {
                if !from.iter().any(|(f, _)| f == step) {
                    from.push((step.clone(), None));
                }
            }
        }
        // The error handler hangs off the trigger: it runs only when a step fails, never in
        // the chain.
        let handler = wf
            .error_handling
            .as_ref()
            .and_then(|h| h.on_error.as_deref())
            == Some(s.id.as_str());
        if from.is_empty() {
            from.push((
                if handler {
                    input_id.clone()
                } else {
                    previous.clone()
                },
                None,
            ));
        }
        let id = if is_output {
            output_id.clone()
        } else {
            s.id.clone()
        };
        for (f, h) in from {
            edges.push(edge(&f, h, &id));
        }
        if is_output {
            output_mapping = s.params.get("mapping").and_then(Value::as_object).cloned();
            previous = id;
            continue;
        }
        let data = lowered.unwrap_or_else(|| {
            let (capability, act) = s.action.split_once('.').unwrap_or((s.action.as_str(), ""));
            let version = cap
                .dependencies
                .iter()
                .find(|d| d.id == capability)
                .and_then(|d| d.version.strip_prefix('=').map(str::to_string));
            NodeData::CallCapability(CallData {
                capability: capability.to_string(),
                action: act.to_string(),
                version,
                input: s.input.clone(),
                params: s.params.clone(),
                output: s.output.clone(),
                when: (!rest.is_empty()).then(|| rest.join(" && ")),
                retry: s.retry,
            })
        });
        nodes.push(node(&s.id, data));
        if !handler {
            previous = s.id.clone();
        }
    }
    let has_output_step = output_mapping.is_some();
    nodes.push(node(
        &output_id,
        NodeData::Output(OutputData {
            outputs: action.map(|a| a.outputs.to_list()).unwrap_or_default(),
            mapping: output_mapping.unwrap_or_default(),
        }),
    ));
    if !has_output_step {
        // Every step nothing else uses ends at the Output node.
        let sinks: Vec<String> = nodes
            .iter()
            .filter(|n| n.id != output_id && !edges.iter().any(|e| e.source == n.id))
            .map(|n| n.id.clone())
            .collect();
        for s in sinks {
            edges.push(edge(&s, None, &output_id));
        }
    }
    Flow {
        action: action
            .map(|a| a.id.clone())
            .unwrap_or_else(|| WORKFLOW_ACTION.into()),
        nodes,
        edges,
        viewport: None,
    }
}

/// Whether a step's input is what the compiler writes: nothing (an API call), or references to
/// the Input (`${input}`) and earlier steps (`${x}`, `${x.value}`), a list of them for a merge.
fn canonical_input(s: &Step, names: &HashMap<String, String>) -> bool {
    let reference = |v: &Value| {
        v.as_str().is_some_and(|r| {
            let Some(inner) = r.strip_prefix("${").and_then(|x| x.strip_suffix('}')) else {
                return false;
            };
            let id = inner.strip_suffix(".value").unwrap_or(inner);
            id == "input" || names.get(id).is_some_and(|step| step == id)
        })
    };
    match (&s.input, s.action.as_str()) {
        (None, "http.request") => true,
        (Some(Value::Array(a)), "flow.merge") => a.iter().all(reference),
        (Some(v), a) if a != "http.request" && a != "flow.merge" => reference(v),
        _ => false,
    }
}

/// The node a step the compiler wrote stands for (`http.request` → API Call, …); `None` for a
/// step that calls a capability.
fn lowered_node(
    s: &Step,
    negated: &[&str],
    param: &dyn Fn(&str) -> Option<String>,
) -> Option<NodeData> {
    let from = |m: &Map<String, Value>| serde_json::from_value(Value::Object(m.clone())).ok();
    Some(match s.action.as_str() {
        "http.request" => NodeData::ApiCall(from(&s.params)?),
        "transform.map" => NodeData::Transform(TransformData {
            mapping: s.params.get("mapping")?.as_object()?.clone(),
            expression: None,
        }),
        "transform.js" => NodeData::Transform(TransformData {
            mapping: Map::new(),
            expression: Some(param("expression")?),
        }),
        "logic.if" if negated.contains(&s.id.as_str()) => NodeData::Branch(ConditionData {
            condition: param("condition")?,
        }),
        "logic.if" => NodeData::Filter(ConditionData {
            condition: param("condition")?,
        }),
        "script.run" => NodeData::Script(ScriptData {
            code: param("code")?,
        }),
        "flow.merge" => NodeData::Merge(MergeData {}),
        _ => return None,
    })
}
