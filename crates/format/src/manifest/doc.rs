//! A parsed document that remembers where every value came from. YAML and JSON both parse into
//! this tree, so validation can point at a line and column whatever the source format was.
//! The tree also enforces the limits that make hostile input harmless: depth and node count
//! (alias expansion included) are bounded by the parsers that build it.

use crate::diagnostics::Pos;
use crate::path::{DocPath, Seg};

/// Nesting deeper than this is refused (a real manifest stays far below it).
pub const MAX_DEPTH: usize = 128;
/// Nodes in one document, counting every alias expansion.
pub const MAX_NODES: usize = 200_000;
/// Bytes in one source file.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// A YAML block scalar (`|` or `>`): its content starts on the line after `pos`.
    pub block: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Self {
        Node {
            value,
            pos,
            block: false,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => {
                let mut m = serde_json::Map::new();
                for e in entries {
                    m.insert(e.key.clone(), e.value.to_json());
                }
                serde_json::Value::Object(m)
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| &e.value),
            _ => None,
        }
    }

    /// The node at `path`, if the document has one there.
    pub fn find(&self, path: &DocPath) -> Option<&Node> {
        let mut cur = self;
        for seg in &path.0 {
            cur = match (seg, &cur.value) {
                (Seg::Key(k), Value::Map(_)) => cur.get(k)?,
                (Seg::Index(i), Value::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Where `path` points: the value there, or failing that the deepest existing ancestor.
    pub fn locate(&self, path: &DocPath) -> Pos {
        let mut cur = self;
        for seg in &path.0 {
            let next = match (seg, &cur.value) {
                (Seg::Key(k), Value::Map(_)) => cur.get(k),
                (Seg::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur.pos
    }

    /// Where the key `key` of the map at `path` is written.
    pub fn locate_key(&self, path: &DocPath, key: &str) -> Option<Pos> {
        match &self.find(path)?.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| e.key_pos),
            _ => None,
        }
    }

    /// Number of nodes in this subtree (used to bound alias expansion).
    pub fn count(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(entries) => 1 + entries.iter().map(|e| e.value.count()).sum::<usize>(),
            _ => 1,
        }
    }
}
