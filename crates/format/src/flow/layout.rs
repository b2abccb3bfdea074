//! Automatic layout: nodes in columns by their longest distance from a source (left to right,
//! the way data flows), rows in the author's order, each column centred on the tallest.
//! Deterministic, linear in nodes and edges.

use std::collections::HashMap;

use crate::manifest::model::{Flow, Position};

pub const COLUMN: f64 = 280.0;
pub const ROW: f64 = 140.0;

/// Lays the flow's nodes out in place. Nodes on a cycle keep the column reached so far.
pub fn layout(flow: &mut Flow) {
    let n = flow.nodes.len();
    let index: HashMap<&str, usize> = flow
        .nodes
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id.as_str(), i))
        .collect();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for e in &flow.edges {
        if let (Some(&s), Some(&t)) = (index.get(e.source.as_str()), index.get(e.target.as_str())) {
            if s != t {
                out[s].push(t);
                indegree[t] += 1;
            }
        }
    }
    let mut column = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).rev().filter(|&i| indegree[i] == 0).collect();
    while let Some(i) = ready.pop() {
        for &t in &out[i] {
            column[t] = column[t].max(column[i] + 1);
            indegree[t] -= 1;
            if indegree[t] == 0 {
                ready.push(t);
            }
        }
    }
    let columns = column.iter().copied().max().map_or(0, |m| m + 1);
    let mut count = vec![0usize; columns];
    for &c in &column {
        count[c] += 1;
    }
    let tallest = count.iter().copied().max().unwrap_or(0);
    let mut row = vec![0usize; columns];
    for (i, node) in flow.nodes.iter_mut().enumerate() {
        let c = column[i];
        let offset = (tallest - count[c]) as f64 * ROW / 2.0;
        node.position = Position {
            x: c as f64 * COLUMN,
            y: offset + row[c] as f64 * ROW,
        };
        row[c] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{FlowEdge, FlowNode};

    #[test]
    fn columns_follow_the_longest_path_and_rows_are_centred() {
        let node = |id: &str| FlowNode {
            id: id.into(),
            ty: "transform".into(),
            position: Position { x: 9.0, y: 9.0 },
            data: Default::default(),
        };
        let edge = |s: &str, t: &str| FlowEdge {
            id: format!("{s}-{t}"),
            source: s.into(),
            source_handle: None,
            target: t.into(),
            target_handle: None,
        };
        let mut f = Flow {
            action: "a".into(),
            nodes: vec![node("a"), node("b"), node("c"), node("d")],
            edges: vec![
                edge("a", "b"),
                edge("a", "c"),
                edge("b", "d"),
                edge("c", "d"),
                edge("a", "d"),
            ],
            viewport: None,
        };
        layout(&mut f);
        let at: Vec<(f64, f64)> = f
            .nodes
            .iter()
            .map(|n| (n.position.x, n.position.y))
            .collect();
        assert_eq!(
            at,
            vec![(0.0, 70.0), (280.0, 0.0), (280.0, 140.0), (560.0, 70.0)]
        );
    }
}
