//! The visual builder's flow model: a petgraph graph of typed nodes (the manifest's `flows`),
//! checked as a whole. Every finding names the node or edge it concerns, so the canvas can
//! mark them all at once. (Compiling a flow to a declarative or workflow manifest builds on
//! this model.)

use std::collections::HashMap;

use petgraph::algo::is_cyclic_directed;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{Bfs, EdgeRef, IntoEdgeReferences};
use petgraph::Direction;

use crate::manifest::model::{Flow, FlowNode};

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
    pub code: &'static str,
    pub message: String,
    /// `node:<id>` or `edge:<id>`.
    pub target: String,
}

/// A flow as a graph: node weights are the manifest's nodes, edge weights the edge ids.
pub struct FlowGraph<'a> {
    pub graph: StableDiGraph<&'a FlowNode, &'a str>,
    pub index: HashMap<&'a str, NodeIndex>,
}

impl<'a> FlowGraph<'a> {
    /// Builds the graph; edges to missing nodes are reported, not added.
    pub fn build(flow: &'a Flow, findings: &mut Vec<FlowFinding>) -> Self {
        let mut graph = StableDiGraph::new();
        let mut index = HashMap::new();
        for n in &flow.nodes {
            let i = graph.add_node(n);
            index.entry(n.id.as_str()).or_insert(i);
        }
        for e in &flow.edges {
            match (index.get(e.source.as_str()), index.get(e.target.as_str())) {
                (Some(&s), Some(&t)) => {
                    graph.add_edge(s, t, e.id.as_str());
                }
                _ => findings.push(FlowFinding {
                    code: "dangling-edge",
                    message: format!(
                        "edge `{}` connects `{}` to `{}`, and one of them does not exist",
                        e.id, e.source, e.target
                    ),
                    target: format!("edge:{}", e.id),
                }),
            }
        }
        FlowGraph { graph, index }
    }
}

/// Every structural problem of a flow, all at once.
pub fn check(flow: &Flow) -> Vec<FlowFinding> {
    let mut out = Vec::new();
    let g = FlowGraph::build(flow, &mut out);
    let node = |id: &str| format!("node:{id}");
    for n in &flow.nodes {
        if NodeKind::parse(&n.ty).is_none() {
            out.push(FlowFinding {
                code: "unknown-node-kind",
                message: format!(
                    "node `{}` is a `{}`, which is not a node kind (kinds: {})",
                    n.id,
                    n.ty,
                    NodeKind::ALL.join(", ")
                ),
                target: node(&n.id),
            });
        }
    }
    if is_cyclic_directed(&g.graph) {
        out.push(FlowFinding {
            code: "cycle",
            message: "the flow has a cycle: data would go round forever".into(),
            target: flow.nodes.first().map(|n| node(&n.id)).unwrap_or_default(),
        });
    }
    let inputs: Vec<NodeIndex> = g
        .graph
        .node_indices()
        .filter(|&i| NodeKind::parse(&g.graph[i].ty) == Some(NodeKind::Input))
        .collect();
    if inputs.is_empty() {
        out.push(FlowFinding {
            code: "no-input",
            message: "the flow has no Input node".into(),
            target: String::new(),
        });
    }
    if !flow
        .nodes
        .iter()
        .any(|n| NodeKind::parse(&n.ty) == Some(NodeKind::Output))
    {
        out.push(FlowFinding {
            code: "no-output",
            message: "the flow has no Output node".into(),
            target: String::new(),
        });
    }
    let mut reachable = std::collections::HashSet::new();
    for &i in &inputs {
        let mut bfs = Bfs::new(&g.graph, i);
        while let Some(n) = bfs.next(&g.graph) {
            reachable.insert(n);
        }
    }
    for i in g.graph.node_indices() {
        let n = g.graph[i];
        let Some(kind) = NodeKind::parse(&n.ty) else {
            continue;
        };
        let incoming = g.graph.edges_directed(i, Direction::Incoming).count();
        let outgoing = g.graph.edges_directed(i, Direction::Outgoing).count();
        if kind.needs_input() && incoming == 0 {
            out.push(FlowFinding {
                code: "missing-connection",
                message: format!("nothing flows into `{}`", n.id),
                target: node(&n.id),
            });
        }
        if kind.needs_output() && outgoing == 0 {
            out.push(FlowFinding {
                code: "missing-connection",
                message: format!("`{}` leads nowhere", n.id),
                target: node(&n.id),
            });
        }
        if kind == NodeKind::Merge && incoming < 2 {
            out.push(FlowFinding {
                code: "merge-needs-two",
                message: format!("merge `{}` needs at least two inputs", n.id),
                target: node(&n.id),
            });
        }
        if !inputs.is_empty() && !reachable.contains(&i) {
            out.push(FlowFinding {
                code: "unreachable-node",
                message: format!("`{}` cannot be reached from an Input node", n.id),
                target: node(&n.id),
            });
        }
    }
    for e in (&g.graph).edge_references() {
        if e.source() == e.target() {
            out.push(FlowFinding {
                code: "self-loop",
                message: format!("edge `{}` connects a node to itself", e.weight()),
                target: format!("edge:{}", e.weight()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{FlowEdge, Position};

    fn node(id: &str, ty: &str) -> FlowNode {
        FlowNode {
            id: id.into(),
            ty: ty.into(),
            position: Position { x: 0.0, y: 0.0 },
            data: Default::default(),
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
        assert!(got.contains(&("cycle", "node:in".into())), "{got:?}");
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
}
