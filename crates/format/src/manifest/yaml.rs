//! YAML 1.2 (core schema) into the located tree, over yaml-rust2's event parser. Pulling events
//! one at a time lets us stop at the first limit: nesting depth, node count with aliases
//! expanded (so a "billion laughs" document is refused after a bounded amount of work), and
//! tags other than the core ones (`!!python/object` and friends are refused, not interpreted).
//! Duplicate keys are reported with both positions. YAML → YAML output is in `export`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostics::{Finding, Pos};
use crate::manifest::doc::{Entry, Node, Value, MAX_DEPTH, MAX_NODES};
use crate::path::{DocPath, Seg};

fn pos(m: &Marker) -> Pos {
    // yaml-rust2 markers: 1-based lines, 0-based columns.
    Pos {
        line: m.line() as u32,
        column: m.col() as u32 + 1,
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        pos: Pos,
        anchor: usize,
        key: Option<(String, Pos)>,
        seen: HashMap<String, Pos>,
    },
}

/// Where the parser is in the document: each open frame's current child.
fn path_of(stack: &[Frame]) -> DocPath {
    let mut segs = Vec::new();
    for f in stack {
        match f {
            Frame::Seq { items, .. } => segs.push(Seg::Index(items.len())),
            Frame::Map {
                key: Some((k, _)), ..
            } => segs.push(Seg::Key(k.clone())),
            Frame::Map { key: None, .. } => break,
        }
    }
    DocPath(segs)
}

/// Parses `text` into a located tree. Non-fatal findings (duplicate keys) go to `findings`.
pub fn parse(text: &str, findings: &mut Vec<Finding>) -> Result<Node, Finding> {
    parse_with_limit(text, findings, MAX_NODES)
}

/// `parse` with another node budget (large OpenAPI documents legitimately hold millions).
pub fn parse_with_limit(
    text: &str,
    findings: &mut Vec<Finding>,
    max_nodes: usize,
) -> Result<Node, Finding> {
    let mut stack: Vec<Frame> = Vec::new();
    parse_into(text, findings, &mut stack, max_nodes).map_err(|f| {
        let path = path_of(&stack);
        if f.path.is_none() && !path.0.is_empty() {
            f.at(path)
        } else {
            f
        }
    })
}

fn parse_into(
    text: &str,
    findings: &mut Vec<Finding>,
    stack: &mut Vec<Frame>,
    max_nodes: usize,
) -> Result<Node, Finding> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    let mut documents = 0usize;

    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            if e.info().contains("recursion limit") {
                too_deep(pos(e.marker()))
            } else {
                Finding::error("yaml-syntax", e.info().to_string()).at_pos(pos(e.marker()))
            }
        })?;
        let here = pos(&mark);
        let node = match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(Finding::error(
                        "multiple-documents",
                        "file holds more than one YAML document; a capability file holds one",
                    )
                    .at_pos(here));
                }
                continue;
            }
            Event::SequenceStart(anchor, tag) => {
                check_tag(tag.as_ref(), "seq", here)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(here));
                }
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Err(
                        Finding::error("complex-key", "a list cannot be a mapping key")
                            .at_pos(here),
                    );
                }
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    pos: here,
                    anchor,
                });
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                check_tag(tag.as_ref(), "map", here)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(here));
                }
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Err(
                        Finding::error("complex-key", "a mapping cannot be a mapping key")
                            .at_pos(here),
                    );
                }
                stack.push(Frame::Map {
                    entries: Vec::new(),
                    pos: here,
                    anchor,
                    key: None,
                    seen: HashMap::new(),
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match stack.pop() {
                    Some(Frame::Seq { items, pos, anchor }) => {
                        (Node::new(Value::Seq(items), pos), anchor)
                    }
                    Some(Frame::Map {
                        entries,
                        pos,
                        anchor,
                        ..
                    }) => {
                        // A mapping is shown where its first key is written.
                        let at = entries.first().map_or(pos, |e| e.key_pos);
                        (Node::new(Value::Map(entries), at), anchor)
                    }
                    None => continue,
                };
                nodes += 1;
                remember(&mut anchors, anchor, &node);
                node
            }
            Event::Scalar(raw, style, anchor, tag) => {
                // A key is kept as written: `1:` is the key "1", not a number.
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = stack.last_mut()
                {
                    check_tag(tag.as_ref(), "str", here)?;
                    *key = Some((raw, here));
                    continue;
                }
                let mut node = Node::new(resolve(raw, style, tag.as_ref(), here)?, here);
                node.block = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                nodes += 1;
                remember(&mut anchors, anchor, &node);
                node
            }
            Event::Alias(id) => {
                let (node, count) = anchors.get(&id).cloned().ok_or_else(|| {
                    Finding::error("yaml-syntax", "alias to an unknown anchor").at_pos(here)
                })?;
                nodes += count;
                if nodes > max_nodes {
                    return Err(Finding::error(
                        "alias-bomb",
                        format!("aliases expand the document past {max_nodes} values"),
                    )
                    .at_pos(here)
                    .hint("YAML aliases (`*name`) copy their anchor; this file multiplies them"));
                }
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = stack.last_mut()
                {
                    match &node.value {
                        Value::Str(s) => *key = Some((s.clone(), here)),
                        _ => {
                            return Err(Finding::error(
                                "complex-key",
                                "an alias used as a key must name a string",
                            )
                            .at_pos(here))
                        }
                    }
                    continue;
                }
                node
            }
        };
        if nodes > max_nodes {
            return Err(Finding::error(
                "too-many-nodes",
                format!("document has more than {max_nodes} values"),
            )
            .at_pos(here));
        }
        // Only a duplicate key needs its path (computing it for every node would cost).
        let dup_path = match stack.last() {
            Some(Frame::Map {
                key: Some((k, _)),
                seen,
                ..
            }) if seen.contains_key(k) => Some(path_of(stack)),
            _ => None,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => {
                let (k, key_pos) = key.take().unwrap_or_default();
                if let Some(first) = seen.get(&k) {
                    findings.push(
                        Finding::error(
                            "duplicate-key",
                            format!(
                                "duplicate key `{k}` (first defined at line {}, column {})",
                                first.line, first.column
                            ),
                        )
                        .at_pos(key_pos)
                        .at(dup_path.clone().unwrap_or_default())
                        .hint("remove one of them: the later one would silently replace the first"),
                    );
                    entries.retain(|e| e.key != k);
                } else {
                    seen.insert(k.clone(), key_pos);
                }
                entries.push(Entry {
                    key: k,
                    key_pos,
                    value: node,
                });
            }
        }
    }
    root.ok_or_else(|| {
        Finding::error("empty-file", "file holds no YAML document")
            .at_pos(Pos { line: 1, column: 1 })
    })
}

fn remember(anchors: &mut HashMap<usize, (Node, usize)>, anchor: usize, node: &Node) {
    if anchor > 0 {
        anchors.insert(anchor, (node.clone(), node.count()));
    }
}

fn too_deep(at: Pos) -> Finding {
    Finding::error(
        "too-deep",
        format!("document nests deeper than {MAX_DEPTH} levels"),
    )
    .at_pos(at)
}

fn core_tag(tag: &Tag) -> Option<&str> {
    (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:").then_some(tag.suffix.as_str())
}

fn check_tag(tag: Option<&Tag>, expected: &str, at: Pos) -> Result<(), Finding> {
    match tag {
        None => Ok(()),
        Some(t) if core_tag(t) == Some(expected) => Ok(()),
        Some(t) => Err(unsupported_tag(t, at)),
    }
}

fn unsupported_tag(t: &Tag, at: Pos) -> Finding {
    Finding::error(
        "yaml-tag",
        format!("YAML tag `{}{}` is not allowed", t.handle, t.suffix),
    )
    .at_pos(at)
    .hint("capability files hold plain data; remove the tag")
}

/// YAML 1.2 core schema resolution of a scalar.
fn resolve(raw: String, style: TScalarStyle, tag: Option<&Tag>, at: Pos) -> Result<Value, Finding> {
    if let Some(t) = tag {
        return match core_tag(t) {
            Some("str") => Ok(Value::Str(raw)),
            Some("null") => Ok(Value::Null),
            Some("bool") => match plain(&raw) {
                Value::Bool(b) => Ok(Value::Bool(b)),
                _ => {
                    Err(Finding::error("yaml-tag", format!("`{raw}` is not a boolean")).at_pos(at))
                }
            },
            Some("int") | Some("float") => match plain(&raw) {
                Value::Number(n) => Ok(Value::Number(n)),
                _ => Err(Finding::error("yaml-tag", format!("`{raw}` is not a number")).at_pos(at)),
            },
            _ => Err(unsupported_tag(t, at)),
        };
    }
    Ok(match style {
        TScalarStyle::Plain => plain(&raw),
        _ => Value::Str(raw),
    })
}

fn plain(raw: &str) -> Value {
    match raw {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let unsigned = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = raw.parse::<i64>() {
            return Value::Number(i.into());
        }
    }
    if let Some(hex) = raw.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Number(i.into());
        }
    }
    if let Some(oct) = raw.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Number(i.into());
        }
    }
    let looks_float = unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && unsigned
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if looks_float {
        if let Some(n) = raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::Str(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::DocPath;

    fn parse_ok(s: &str) -> (Node, Vec<Finding>) {
        let mut f = Vec::new();
        let n = parse(s, &mut f).expect("parses");
        (n, f)
    }

    fn parse_err(s: &str) -> Finding {
        parse(s, &mut Vec::new()).expect_err("fails")
    }

    #[test]
    fn core_schema_and_positions() {
        let (n, f) = parse_ok("a:\n  b: [1, 2.5, yes, true, ~, '3']\n  c: |\n    x\n    y\n");
        assert!(f.is_empty());
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a": {"b": [1, 2.5, "yes", true, null, "3"], "c": "x\ny\n"}})
        );
        assert_eq!(
            n.locate(&DocPath::parse("a.b[1]")),
            Pos {
                line: 2,
                column: 10
            }
        );
        assert!(n.find(&DocPath::parse("a.c")).unwrap().block);
        assert_eq!(
            n.locate_key(&DocPath::parse("a"), "c"),
            Some(Pos { line: 3, column: 3 })
        );
    }

    #[test]
    fn duplicate_keys() {
        let (n, f) = parse_ok("a: 1\nb: 2\na: 3\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "duplicate-key");
        assert_eq!(f[0].pos, Some(Pos { line: 3, column: 1 }));
        assert_eq!(
            f[0].path.as_ref().map(|p| p.to_string()).as_deref(),
            Some("a")
        );
        assert_eq!(n.to_json(), serde_json::json!({"b": 2, "a": 3}));
    }

    #[test]
    fn alias_bomb_is_cut_off() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_err(&s);
        assert_eq!(e.code, "alias-bomb");
        assert!(e.pos.unwrap().line > 1);
    }

    #[test]
    fn tags_refused() {
        let e = parse_err("a: !!python/object:os.system ls\n");
        assert_eq!(e.code, "yaml-tag");
        assert_eq!(e.pos.map(|p| p.line), Some(1));
        assert_eq!(e.path.map(|p| p.to_string()).as_deref(), Some("a"));
        let (n, _) = parse_ok("a: !!str 12\n");
        assert_eq!(n.to_json(), serde_json::json!({"a": "12"}));
    }

    #[test]
    fn deep_nesting_refused() {
        let s = "[".repeat(200_000);
        assert_eq!(parse_err(&s).code, "too-deep");
    }

    #[test]
    fn syntax_error_located() {
        let e = parse_err("a:\n  b: [1, 2\n");
        assert_eq!(e.code, "yaml-syntax");
        assert!(e.pos.is_some());
    }
}
