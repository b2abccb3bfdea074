//! The visual builder's flow model: a petgraph graph of typed nodes (the manifest's `flows`),
//! analysed as a whole. Every finding names the node or edge it concerns, so the canvas can
//! mark them all at once. `compile` turns a flow document into a declarative or workflow
//! manifest; `import` opens such a manifest as flows again, laid out by `layout`.

pub mod compile;
pub mod import;
pub mod layout;
pub mod nodes;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use petgraph::algo::tarjan_scc;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{Bfs, EdgeRef, IntoEdgeReferences};
use petgraph::Direction;

use crate::diagnostics::Severity;
use crate::manifest::js::SyntaxChecker;
use crate::manifest::model::{FieldType, Flow, FlowNode};
use crate::manifest::template::{self, Style};
use nodes::NodeData;

/// The node kinds the builder offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Input,
    ApiCall,
    Transform,
    Filter,
    Branch,
    Script,
    CallCapability,
    Merge,
    Output,
}

impl NodeKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "input" => NodeKind::Input,
            "api_call" => NodeKind::ApiCall,
            "transform" => NodeKind::Transform,
            "filter" | "condition" => NodeKind::Filter,
            "branch" => NodeKind::Branch,
            "script" => NodeKind::Script,
            "call_capability" => NodeKind::CallCapability,
            "merge" => NodeKind::Merge,
            "output" => NodeKind::Output,
            _ => return None,
        })
    }
    pub const ALL: &'static [&'static str] = &[
        "input",
        "api_call",
        "transform",
        "filter",
        "branch",
        "script",
        "call_capability",
        "merge",
        "output",
    ];

    /// Whether the node needs something flowing in / has something flowing out.
    fn needs_input(self) -> bool {
        self != NodeKind::Input
    }
    fn needs_output(self) -> bool {
        self != NodeKind::Output
    }
}

/// A finding about one node or edge of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFinding {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// `node:<id>`, `edge:<id>`, or empty for the flow as a whole.
    pub target: String,
    /// The key of the node's `data` the finding is about, when there is one.
    pub key: Option<String>,
}

/// A flow as a graph: node weights are the manifest's nodes, edge weights the edges' positions
/// in the flow's edge list. Node indices equal positions in the node list.
pub struct FlowGraph<'a> {
    pub graph: StableDiGraph<&'a FlowNode, usize>,
    pub index: HashMap<&'a str, NodeIndex>,
}

impl<'a> FlowGraph<'a> {
    /// Builds the graph; edges to missing nodes are reported, not added.
    pub fn build(flow: &'a Flow, findings: &mut Vec<FlowFinding>) -> Self {
        let mut graph = StableDiGraph::with_capacity(flow.nodes.len(), flow.edges.len());
        let mut index = HashMap::with_capacity(flow.nodes.len());
        for n in &flow.nodes {
            let i = graph.add_node(n);
            index.entry(n.id.as_str()).or_insert(i);
        }
        for (ei, e) in flow.edges.iter().enumerate() {
            match (index.get(e.source.as_str()), index.get(e.target.as_str())) {
                (Some(&s), Some(&t)) => {
                    graph.add_edge(s, t, ei);
                }
                _ => findings.push(FlowFinding {
                    severity: Severity::Error,
                    code: "dangling-edge",
                    message: format!(
                        "edge `{}` connects `{}` to `{}`, and one of them does not exist",
                        e.id, e.source, e.target
                    ),
                    target: format!("edge:{}", e.id),
                    key: None,
                }),
            }
        }
        FlowGraph { graph, index }
    }
}

/// What a flow's analysis knows besides the flow: the capability's configuration keys.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub config_keys: Vec<String>,
}

/// A flow, checked: every finding, each node's parsed data, and (when the flow has no cycle)
/// a topological order of the nodes that keeps the author's order where the edges allow.
pub struct Analysis<'a> {
    pub findings: Vec<FlowFinding>,
    pub graph: FlowGraph<'a>,
    /// By position in `flow.nodes`; `None` where the data did not parse.
    pub data: Vec<Option<NodeData>>,
    /// Positions in `flow.nodes`.
    pub order: Option<Vec<usize>>,
}

impl Analysis<'_> {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Every structural problem of a flow, all at once (no configuration context).
pub fn check(flow: &Flow) -> Vec<FlowFinding> {
    analyze(flow, &Context::default()).findings
}

/// The names a workflow-level flow's trigger makes visible to templates and conditions.
pub fn trigger_payload(trigger: &str) -> &'static [&'static str] {
    match trigger {
        "file_upload" => &["file"],
        "webhook" => &["body", "headers", "query", "event"],
        "schedule" => &["scheduled_at"],
        "manual" => &[],
        _ => &["body", "event", "data"],
    }
}

struct Finder<'f> {
    out: Vec<FlowFinding>,
    flow: &'f Flow,
}

impl Finder<'_> {
    fn node(
        &mut self,
        sev: Severity,
        code: &'static str,
        i: usize,
        key: Option<&str>,
        msg: String,
    ) {
        self.out.push(FlowFinding {
            severity: sev,
            code,
            message: msg,
            target: format!("node:{}", self.flow.nodes[i].id),
            key: key.map(str::to_string),
        });
    }
    fn edge(&mut self, code: &'static str, ei: usize, msg: String) {
        self.out.push(FlowFinding {
            severity: Severity::Error,
            code,
            message: msg,
            target: format!("edge:{}", self.flow.edges[ei].id),
            key: None,
        });
    }
}

/// Analyses a flow: structure, node data, ports, types, templates and JavaScript syntax.
pub fn analyze<'a>(flow: &'a Flow, cx: &Context) -> Analysis<'a> {
    let mut f = Finder {
        out: Vec::new(),
        flow,
    };
    let g = FlowGraph::build(flow, &mut f.out);
    let n = flow.nodes.len();
    let kinds: Vec<Option<NodeKind>> = flow.nodes.iter().map(|x| NodeKind::parse(&x.ty)).collect();

    // Node data, parsed by kind.
    let mut data = Vec::with_capacity(n);
    for (i, node) in flow.nodes.iter().enumerate() {
        if kinds[i].is_none() {
            f.node(
                Severity::Error,
                "unknown-node-kind",
                i,
                None,
                format!(
                    "node `{}` is a `{}`, which is not a node kind (kinds: {})",
                    node.id,
                    node.ty,
                    NodeKind::ALL.join(", ")
                ),
            );
            data.push(None);
            continue;
        }
        match NodeData::parse(node) {
            Ok(d) => data.push(Some(d)),
            Err(msg) => {
                let what = node.ty.replace('_', " ");
                let (code, key, text) = if let Some(k) = nodes::unknown_key(&msg) {
                    let text = format!("`{k}` is not a setting of a {what} node ({msg})");
                    ("unknown-config-key", Some(k.to_string()), text)
                } else if let Some(k) = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                {
                    let text = format!("a {what} node needs `{k}`");
                    ("missing-config", None, text)
                } else {
                    ("bad-node-data", None, format!("node `{}`: {msg}", node.id))
                };
                f.node(Severity::Error, code, i, key.as_deref(), text);
                data.push(None);
            }
        }
    }

    // Cycles: every node of a strongly connected component (or a self-loop) is marked.
    let mut cyclic = false;
    for scc in tarjan_scc(&g.graph) {
        let self_loop = scc.len() == 1 && g.graph.contains_edge(scc[0], scc[0]);
        if scc.len() > 1 || self_loop {
            cyclic = true;
            let names: Vec<&str> = scc.iter().map(|&x| g.graph[x].id.as_str()).collect();
            for &x in &scc {
                f.node(
                    Severity::Error,
                    "cycle",
                    x.index(),
                    None,
                    format!(
                        "`{}` is on a cycle ({}): data would go round forever",
                        g.graph[x].id,
                        names.join(" → ")
                    ),
                );
            }
        }
    }

    let inputs: Vec<usize> = (0..n)
        .filter(|&i| kinds[i] == Some(NodeKind::Input))
        .collect();
    let outputs: Vec<usize> = (0..n)
        .filter(|&i| kinds[i] == Some(NodeKind::Output))
        .collect();
    let whole = |code: &'static str, message: &str| FlowFinding {
        severity: Severity::Error,
        code,
        message: message.to_string(),
        target: String::new(),
        key: None,
    };
    match inputs.len() {
        0 => f.out.push(whole("no-input", "the flow has no Input node")),
        1 => {}
        _ => {
            for &i in &inputs[1..] {
                f.node(
                    Severity::Error,
                    "one-input",
                    i,
                    None,
                    "a flow has one Input node; this is a second one".into(),
                );
            }
        }
    }
    match outputs.len() {
        0 => f
            .out
            .push(whole("no-output", "the flow has no Output node")),
        1 => {}
        _ => {
            for &i in &outputs[1..] {
                f.node(
                    Severity::Error,
                    "one-output",
                    i,
                    None,
                    "a flow has one Output node; join branches with a Merge node before it".into(),
                );
            }
        }
    }

    // Ports: which handles exist on which kind.
    for e in (&g.graph).edge_references() {
        let ei = *e.weight();
        let edge = &flow.edges[ei];
        let (s, t) = (e.source().index(), e.target().index());
        if s == t {
            f.edge(
                "self-loop",
                ei,
                format!("edge `{}` connects a node to itself", edge.id),
            );
        }
        match kinds[s] {
            Some(NodeKind::Output) => f.edge(
                "bad-port",
                ei,
                format!(
                    "`{}` is an Output node: nothing flows out of it",
                    edge.source
                ),
            ),
            Some(NodeKind::Branch) => {
                if !matches!(edge.source_handle.as_deref(), Some("true" | "false")) {
                    f.edge("bad-port", ei, format!("edge `{}` leaves branch `{}` without saying which way: use its `true` or `false` handle", edge.id, edge.source));
                }
            }
            _ => {
                if let Some(h) = edge.source_handle.as_deref().filter(|h| *h != "out") {
                    f.edge(
                        "bad-port",
                        ei,
                        format!("`{}` has no output handle `{h}`", edge.source),
                    );
                }
            }
        }
        if kinds[t] == Some(NodeKind::Input) {
            f.edge(
                "bad-port",
                ei,
                format!("`{}` is an Input node: nothing flows into it", edge.target),
            );
        } else if let Some(h) = edge.target_handle.as_deref().filter(|h| *h != "in") {
            f.edge(
                "bad-port",
                ei,
                format!("`{}` has no input handle `{h}`", edge.target),
            );
        }
    }

    // Connections and reachability.
    let mut reachable = HashSet::new();
    for &i in &inputs {
        let mut bfs = Bfs::new(&g.graph, NodeIndex::new(i));
        while let Some(x) = bfs.next(&g.graph) {
            reachable.insert(x.index());
        }
    }
    for i in 0..n {
        let Some(kind) = kinds[i] else { continue };
        let ix = NodeIndex::new(i);
        let incoming = g.graph.edges_directed(ix, Direction::Incoming).count();
        let outgoing = g.graph.edges_directed(ix, Direction::Outgoing).count();
        let id = &flow.nodes[i].id;
        if kind.needs_input() && incoming == 0 {
            f.node(
                Severity::Error,
                "missing-connection",
                i,
                None,
                format!("nothing flows into `{id}`"),
            );
        }
        if kind.needs_output() && outgoing == 0 {
            // A step kept for its effect (an imported workflow's last steps) may lead nowhere.
            let sev = if kind == NodeKind::CallCapability {
                Severity::Warning
            } else {
                Severity::Error
            };
            f.node(
                sev,
                "missing-connection",
                i,
                None,
                format!("`{id}` leads nowhere"),
            );
        }
        if kind == NodeKind::Merge && incoming < 2 {
            f.node(
                Severity::Error,
                "merge-needs-two",
                i,
                None,
                format!("merge `{id}` needs at least two inputs"),
            );
        }
        if matches!(kind, NodeKind::Filter | NodeKind::Branch) && !is_js_identifier(id) {
            f.node(Severity::Error, "bad-node-id", i, None, format!("`{id}` is a condition that later conditions name in JavaScript, so its id must be a JavaScript name (letters, digits, `_`)"));
        }
        if incoming > 1 && consumes_upstream(kind, data[i].as_ref()) {
            f.node(Severity::Error, "ambiguous-input", i, None, format!("{incoming} connections flow into `{id}`, which works on one upstream value; join them with a Merge node"));
        }
        if !inputs.is_empty() && !reachable.contains(&i) {
            f.node(
                Severity::Error,
                "unreachable-node",
                i,
                None,
                format!("`{id}` cannot be reached from an Input node"),
            );
        }
    }

    let order = if cyclic {
        None
    } else {
        Some(topological_order(&g, n))
    };

    // Templates, types and JavaScript, node by node.
    let input_data = inputs.first().and_then(|&i| match &data[i] {
        Some(NodeData::Input(d)) => Some(d),
        _ => None,
    });
    let workflow_level = flow.action == WORKFLOW_ACTION;
    let mut known_roots: HashSet<&str> = ["input", "trigger", "config"].into_iter().collect();
    known_roots.extend(cx.config_keys.iter().map(String::as_str));
    if let Some(t) = input_data.and_then(|d| d.trigger.as_deref()) {
        known_roots.extend(trigger_payload(t).iter().copied());
    }
    let handler = input_data
        .and_then(|d| d.error_handling.as_ref())
        .and_then(|h| h.on_error.as_deref());
    let declared_inputs: HashMap<&str, FieldType> = input_data
        .map(|d| d.inputs.iter().map(|x| (x.name.as_str(), x.ty)).collect())
        .unwrap_or_default();
    // Names nodes give their results: their ids, and a called step's `output` name.
    let mut producers: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, node) in flow.nodes.iter().enumerate() {
        producers.entry(node.id.as_str()).or_insert(i);
        if let Some(NodeData::CallCapability(c)) = &data[i] {
            if let Some(o) = &c.output {
                producers.entry(o.as_str()).or_insert(i);
            }
        }
    }
    let position: Vec<usize> = match &order {
        Some(o) => {
            let mut p = vec![0; n];
            for (at, &i) in o.iter().enumerate() {
                p[i] = at;
            }
            p
        }
        None => (0..n).collect(),
    };
    let checker = SyntaxChecker::new().ok();
    for (i, d) in data.iter().enumerate() {
        let Some(d) = d else { continue };
        let mut refs: Vec<(&str, &str)> = Vec::new();
        let mut js: Vec<(&str, &str, bool)> = Vec::new();
        collect(d, &mut refs, &mut js);
        for (key, text) in &refs {
            let parsed = match template::refs(text) {
                Ok(r) => r,
                Err(at) => {
                    f.node(
                        Severity::Error,
                        "template-syntax",
                        i,
                        Some(key),
                        format!("`{key}`: the template at character {at} is never closed"),
                    );
                    continue;
                }
            };
            for r in parsed.iter().filter(|r| r.style == Style::Dollar) {
                let root = r.root();
                if root == "input" {
                    if let Some(field) = r.second() {
                        if !workflow_level && !declared_inputs.contains_key(field) {
                            f.node(Severity::Error, "unknown-input", i, Some(key), format!("`${{{}}}` names the input `{field}`, which the Input node does not declare", r.expr));
                        }
                    }
                    continue;
                }
                if known_roots.contains(root) {
                    continue;
                }
                // The workflow's error handler sees the failure it handles as `error`.
                if root == "error" && handler == Some(flow.nodes[i].id.as_str()) {
                    continue;
                }
                match producers.get(root) {
                    Some(&p) if p != i && order.is_some() && is_ancestor(&g, &position, p, i) => {}
                    Some(&p) if order.is_none() => {
                        let _ = p; // cyclic: reported already, upstream is undefined
                    }
                    Some(_) => f.node(Severity::Error, "unknown-reference", i, Some(key), format!("`${{{}}}` names `{root}`, which is not upstream of `{}`: connect it first", r.expr, flow.nodes[i].id)),
                    None => f.node(Severity::Error, "unknown-reference", i, Some(key), format!("`${{{}}}` names `{root}`, which no upstream node produces and no configuration key is called", r.expr)),
                }
            }
        }
        if let Some(ch) = &checker {
            for (key, code, is_body) in js {
                let r = if is_body {
                    ch.body(code)
                } else {
                    ch.expression(code)
                };
                if let Err(m) = r {
                    f.node(
                        Severity::Error,
                        "js-syntax",
                        i,
                        Some(key),
                        format!("`{key}` is not valid JavaScript: {m}"),
                    );
                }
            }
        }
        // Output types: a path straight to an input field must agree with the declared type.
        if let NodeData::Output(o) = d {
            let ups: Vec<usize> = g
                .graph
                .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
                .map(|x| x.index())
                .collect();
            let from_input = ups.len() == 1 && kinds[ups[0]] == Some(NodeKind::Input);
            for (name, path) in &o.mapping {
                let Some(path) = path.as_str() else { continue };
                if !o.outputs.is_empty() && !o.outputs.iter().any(|x| &x.name == name) {
                    f.node(
                        Severity::Warning,
                        "undeclared-output",
                        i,
                        Some("mapping"),
                        format!("`{name}` is mapped but not declared under outputs"),
                    );
                }
                if !from_input || path.contains("${") {
                    continue;
                }
                let field = path.trim().trim_start_matches("$.").trim_start_matches('$');
                let (Some(&have), Some(want)) = (
                    declared_inputs.get(field),
                    o.outputs.iter().find(|x| &x.name == name).map(|x| x.ty),
                ) else {
                    continue;
                };
                if !compatible(have, want) {
                    f.node(
                        Severity::Error,
                        "type-mismatch",
                        i,
                        Some("mapping"),
                        format!(
                            "output `{name}` is declared {} but `{field}` is {} input",
                            want.as_str(),
                            have.as_str()
                        ),
                    );
                }
            }
        }
    }

    Analysis {
        findings: f.out,
        graph: g,
        data,
        order,
    }
}

fn is_js_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|x| x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// The action name of a workflow-level flow (a workflow without declared actions).
pub const WORKFLOW_ACTION: &str = "workflow";

/// Whether a node of this kind works on "the upstream value" (so two inputs are ambiguous).
fn consumes_upstream(kind: NodeKind, data: Option<&NodeData>) -> bool {
    match kind {
        NodeKind::Transform | NodeKind::Filter | NodeKind::Branch | NodeKind::Script => true,
        NodeKind::Output => matches!(data, Some(NodeData::Output(o)) if !o.mapping.is_empty()),
        NodeKind::CallCapability => {
            matches!(data, Some(NodeData::CallCapability(c)) if c.input.is_none() && c.params.is_empty())
        }
        _ => false,
    }
}

fn compatible(have: FieldType, want: FieldType) -> bool {
    have == want
        || want == FieldType::Any
        || have == FieldType::Any
        || (have == FieldType::Integer && want == FieldType::Number)
        || (have == FieldType::File && want == FieldType::String)
}

/// The strings of a node that are templates (with the data key they sit under) and its
/// JavaScript (key, code, whether it is a function body rather than an expression).
fn collect<'d>(
    d: &'d NodeData,
    refs: &mut Vec<(&'static str, &'d str)>,
    js: &mut Vec<(&'static str, &'d str, bool)>,
) {
    fn strings<'v>(
        key: &'static str,
        v: &'v serde_json::Value,
        out: &mut Vec<(&'static str, &'v str)>,
    ) {
        match v {
            serde_json::Value::String(s) if s.contains("${") => out.push((key, s)),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(key, x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| strings(key, x, out)),
            _ => {}
        }
    }
    fn map<'v>(
        key: &'static str,
        m: &'v serde_json::Map<String, serde_json::Value>,
        out: &mut Vec<(&'static str, &'v str)>,
    ) {
        m.values().for_each(|v| strings(key, v, out))
    }
    match d {
        NodeData::Input(x) => {
            if let Some(c) = &x.filter {
                js.push(("filter", c, false));
            }
        }
        NodeData::ApiCall(x) => {
            if x.url.contains("${") {
                refs.push(("url", &x.url));
            }
            map("headers", &x.headers, refs);
            map("query", &x.query, refs);
            if let Some(b) = &x.body {
                strings("body", b, refs);
            }
        }
        NodeData::Transform(x) => {
            map("mapping", &x.mapping, refs);
            if let Some(e) = &x.expression {
                js.push(("expression", e, false));
            }
        }
        NodeData::Filter(x) | NodeData::Branch(x) => js.push(("condition", &x.condition, false)),
        NodeData::Script(x) => js.push(("code", &x.code, true)),
        NodeData::CallCapability(x) => {
            if let Some(v) = &x.input {
                strings("input", v, refs);
            }
            map("params", &x.params, refs);
            if let Some(w) = &x.when {
                js.push(("when", w, false));
            }
        }
        NodeData::Merge(_) => {}
        NodeData::Output(x) => map("mapping", &x.mapping, refs),
    }
}

/// Kahn's algorithm, taking the earliest node of the author's list whenever several are ready,
/// so an imported workflow keeps its step order.
fn topological_order(g: &FlowGraph, n: usize) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    for e in (&g.graph).edge_references() {
        indegree[e.target().index()] += 1;
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for t in g
            .graph
            .neighbors_directed(NodeIndex::new(i), Direction::Outgoing)
        {
            let t = t.index();
            indegree[t] -= 1;
            if indegree[t] == 0 {
                ready.push(Reverse(t));
            }
        }
    }
    order
}

/// Whether `a` is upstream of `b`: a backwards search from `b` that never visits nodes placed
/// before `a` in the topological order (they cannot lead to it).
fn is_ancestor(g: &FlowGraph, position: &[usize], a: usize, b: usize) -> bool {
    if position[a] >= position[b] {
        return false;
    }
    let mut seen = HashSet::new();
    let mut stack = vec![b];
    while let Some(x) = stack.pop() {
        for p in g
            .graph
            .neighbors_directed(NodeIndex::new(x), Direction::Incoming)
        {
            let p = p.index();
            if p == a {
                return true;
            }
            if position[p] > position[a] && seen.insert(p) {
                stack.push(p);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{FlowEdge, Position};
    use serde_json::json;

    fn node(id: &str, ty: &str) -> FlowNode {
        let data = match ty {
            "api_call" => json!({"url": "https://api.example.com/x"}),
            "filter" | "branch" => json!({"condition": "input.ok"}),
            "script" => json!({"code": "return input;"}),
            _ => json!({}),
        };
        with(id, ty, data)
    }
    fn with(id: &str, ty: &str, data: serde_json::Value) -> FlowNode {
        FlowNode {
            id: id.into(),
            ty: ty.into(),
            position: Position { x: 0.0, y: 0.0 },
            data: data.as_object().cloned().unwrap_or_default(),
        }
    }
    fn edge(id: &str, s: &str, t: &str) -> FlowEdge {
        FlowEdge {
            id: id.into(),
            source: s.into(),
            source_handle: None,
            target: t.into(),
            target_handle: None,
        }
    }
    fn flow(nodes: Vec<FlowNode>, edges: Vec<FlowEdge>) -> Flow {
        Flow {
            action: "a".into(),
            nodes,
            edges,
            viewport: None,
        }
    }
    fn codes(f: &Flow) -> Vec<(&'static str, String)> {
        let mut v: Vec<_> = check(f).into_iter().map(|x| (x.code, x.target)).collect();
        v.sort();
        v
    }

    #[test]
    fn a_straight_flow_is_clean() {
        let f = flow(
            vec![
                node("in", "input"),
                node("call", "api_call"),
                node("out", "output"),
            ],
            vec![edge("e1", "in", "call"), edge("e2", "call", "out")],
        );
        assert!(check(&f).is_empty(), "{:?}", check(&f));
    }

    #[test]
    fn every_problem_at_once_each_tied_to_its_node_or_edge() {
        let f = flow(
            vec![
                node("in", "input"),
                node("a", "transform"),
                node("b", "transform"),
                node("lost", "script"),
                node("m", "merge"),
                node("x", "teleport"),
                node("out", "output"),
            ],
            vec![
                edge("e1", "in", "a"),
                edge("e2", "a", "b"),
                edge("e3", "b", "a"),
                edge("e4", "b", "m"),
                edge("e5", "m", "out"),
                edge("e6", "ghost", "out"),
            ],
        );
        let got = codes(&f);
        assert!(got.contains(&("cycle", "node:a".into())), "{got:?}");
        assert!(got.contains(&("cycle", "node:b".into())), "{got:?}");
        assert!(!got.contains(&("cycle", "node:in".into())), "{got:?}");
        assert!(got.contains(&("dangling-edge", "edge:e6".into())));
        assert!(got.contains(&("unknown-node-kind", "node:x".into())));
        assert!(got.contains(&("merge-needs-two", "node:m".into())));
        assert!(got.contains(&("unreachable-node", "node:lost".into())));
        assert!(got.contains(&("missing-connection", "node:lost".into())));
    }

    #[test]
    fn flows_need_an_input_and_an_output() {
        let got = codes(&flow(vec![node("call", "api_call")], vec![]));
        assert!(
            got.iter().any(|(c, _)| *c == "no-input") && got.iter().any(|(c, _)| *c == "no-output"),
            "{got:?}"
        );
    }

    #[test]
    fn node_settings_are_typed_per_kind() {
        let f = flow(
            vec![
                node("in", "input"),
                with(
                    "call",
                    "api_call",
                    json!({"url": "https://x.example", "metod": "GET"}),
                ),
                with("t", "transform", json!({})),
                with("out", "output", json!({})),
            ],
            vec![
                edge("e1", "in", "call"),
                edge("e2", "call", "t"),
                edge("e3", "t", "out"),
            ],
        );
        let found = check(&f);
        let typo = found.iter().find(|x| x.target == "node:call").unwrap();
        assert_eq!(typo.code, "unknown-config-key");
        assert_eq!(typo.key.as_deref(), Some("metod"));
        let missing = check(&flow(
            vec![
                node("in", "input"),
                with("s", "script", json!({})),
                node("out", "output"),
            ],
            vec![edge("e1", "in", "s"), edge("e2", "s", "out")],
        ));
        assert_eq!(missing[0].code, "missing-config");
        assert!(
            missing[0].message.contains("`code`"),
            "{}",
            missing[0].message
        );
    }

    #[test]
    fn templates_must_name_inputs_config_or_upstream_nodes() {
        let f = flow(
            vec![
                with(
                    "in",
                    "input",
                    json!({"inputs": [{"name": "id", "type": "string"}]}),
                ),
                with(
                    "a",
                    "api_call",
                    json!({"url": "https://x.example/${input.id}/${b.key}?k=${input.nope}", "headers": {"X-Key": "${API_KEY}", "X-Other": "${MISSING}"}}),
                ),
                with(
                    "b",
                    "api_call",
                    json!({"url": "https://x.example/${a.next}"}),
                ),
                node("out", "output"),
            ],
            vec![
                edge("e1", "in", "a"),
                edge("e2", "a", "b"),
                edge("e3", "b", "out"),
            ],
        );
        let cx = Context {
            config_keys: vec!["API_KEY".into()],
        };
        let got: Vec<(String, &str, Option<String>)> = analyze(&f, &cx)
            .findings
            .into_iter()
            .map(|x| (x.target, x.code, x.key))
            .collect();
        // `b` is downstream of `a`, MISSING is nothing, `nope` is not an input; `b` may use `a`.
        assert!(
            got.contains(&("node:a".into(), "unknown-reference", Some("url".into()))),
            "{got:?}"
        );
        assert!(
            got.contains(&("node:a".into(), "unknown-reference", Some("headers".into()))),
            "{got:?}"
        );
        assert!(
            got.contains(&("node:a".into(), "unknown-input", Some("url".into()))),
            "{got:?}"
        );
        assert!(!got.iter().any(|(t, _, _)| t == "node:b"), "{got:?}");
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn ports_and_types() {
        let mut to_branch = edge("e2", "br", "out");
        to_branch.source_handle = Some("maybe".into());
        let f = flow(
            vec![
                with(
                    "in",
                    "input",
                    json!({"inputs": [{"name": "id", "type": "string"}]}),
                ),
                node("br", "branch"),
                with(
                    "out",
                    "output",
                    json!({"outputs": [{"name": "n", "type": "number"}], "mapping": {"n": "$.id"}}),
                ),
            ],
            vec![edge("e1", "in", "br"), to_branch, edge("e3", "out", "in")],
        );
        let got = codes(&f);
        assert!(got.contains(&("bad-port", "edge:e2".into())), "{got:?}");
        assert!(got.contains(&("bad-port", "edge:e3".into())), "{got:?}");
        let typed = flow(
            vec![
                with(
                    "in",
                    "input",
                    json!({"inputs": [{"name": "id", "type": "string"}]}),
                ),
                with(
                    "out",
                    "output",
                    json!({"outputs": [{"name": "n", "type": "number"}], "mapping": {"n": "$.id"}}),
                ),
            ],
            vec![edge("e1", "in", "out")],
        );
        assert_eq!(codes(&typed), vec![("type-mismatch", "node:out".into())]);
    }

    #[test]
    fn two_inputs_into_a_transform_are_ambiguous_and_bad_javascript_is_caught() {
        let f = flow(
            vec![
                node("in", "input"),
                with("a", "filter", json!({"condition": "input.ok &&"})),
                node("b", "script"),
                node("t", "transform"),
                node("out", "output"),
            ],
            vec![
                edge("e1", "in", "a"),
                edge("e2", "in", "b"),
                edge("e3", "a", "t"),
                edge("e4", "b", "t"),
                edge("e5", "t", "out"),
            ],
        );
        let got = codes(&f);
        assert!(
            got.contains(&("ambiguous-input", "node:t".into())),
            "{got:?}"
        );
        assert!(got.contains(&("js-syntax", "node:a".into())), "{got:?}");
        assert!(!got.contains(&("js-syntax", "node:b".into())), "{got:?}");
    }

    #[test]
    fn a_script_cannot_escape_its_function_body_during_checking() {
        // Text that would close the surrounding function early is refused: a body is parsed
        // alone and an expression must be one whole expression. Nothing is ever evaluated.
        let ch = SyntaxChecker::new().unwrap();
        assert!(ch
            .body("return 1; } while (true) {} export function f() {")
            .is_err());
        assert!(ch
            .expression("0); } while (true) {} export function g() { return (0")
            .is_err());
        assert!(ch.expression("a), (b").is_err());
        assert!(ch.body("import os from 'os'; return 1;").is_err());
        assert!(ch.body("return input.a + 1;").is_ok());
        assert!(ch.body("const r = await fetch('x'); return r;").is_ok());
        assert!(ch
            .expression("input.a > 1 && input.b.includes('x')")
            .is_ok());
        assert!(ch.body("return (;").is_err());
    }
}
