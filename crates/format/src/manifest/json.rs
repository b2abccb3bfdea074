//! A strict JSON parser (RFC 8259) that keeps positions, reports duplicate keys, refuses
//! trailing garbage, and bounds nesting depth so hostile input cannot overflow the stack.

use std::collections::HashMap;
use std::str::FromStr;

use crate::diagnostics::{Finding, Pos};
use crate::manifest::doc::{Entry, Node, Value, MAX_DEPTH, MAX_NODES};
use crate::path::{DocPath, Seg};

/// Parses `text` into a located tree. Non-fatal findings (duplicate keys) go to `findings`.
pub fn parse(text: &str, findings: &mut Vec<Finding>) -> Result<Node, Finding> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
        line: 1,
        col: 1,
        nodes: 0,
        path: Vec::new(),
        findings,
    };
    p.ws();
    if p.i >= p.b.len() {
        return Err(p.err("empty-file", "file is empty"));
    }
    let root = p.value(0)?;
    p.ws();
    if p.i < p.b.len() {
        return Err(p.err(
            "trailing-content",
            format!(
                "unexpected {} after the end of the JSON document",
                p.describe_here()
            ),
        ));
    }
    Ok(root)
}

struct Parser<'a, 'f> {
    b: &'a [u8],
    i: usize,
    line: u32,
    col: u32,
    nodes: usize,
    /// Where in the document the parser is, for findings.
    path: Vec<Seg>,
    findings: &'f mut Vec<Finding>,
}

impl Parser<'_, '_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.col,
        }
    }

    fn err(&self, code: &'static str, msg: impl Into<String>) -> Finding {
        Finding::error(code, msg)
            .at_pos(self.pos())
            .at(DocPath(self.path.clone()))
    }

    fn syntax(&self, msg: impl Into<String>) -> Finding {
        self.err("json-syntax", msg)
    }

    fn bump(&mut self) {
        if let Some(&c) = self.b.get(self.i) {
            if c == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if c & 0xC0 != 0x80 {
                self.col += 1;
            }
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn describe_here(&self) -> String {
        match self.peek() {
            None => "end of file".into(),
            Some(_) => {
                let rest = std::str::from_utf8(&self.b[self.i..]).unwrap_or("");
                let c = rest.chars().next().unwrap_or('?');
                format!("`{}`", c.escape_debug())
            }
        }
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn expect_lit(&mut self, lit: &str, v: Value) -> Result<Node, Finding> {
        let pos = self.pos();
        if self.b[self.i..].starts_with(lit.as_bytes()) {
            for _ in 0..lit.len() {
                self.bump();
            }
            Ok(Node::new(v, pos))
        } else {
            Err(self.syntax(format!("expected a value, found {}", self.describe_here())))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, Finding> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.err(
                "too-many-nodes",
                format!("document has more than {MAX_NODES} values"),
            ));
        }
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => {
                let pos = self.pos();
                let s = self.string()?;
                Ok(Node::new(Value::Str(s), pos))
            }
            Some(b't') => self.expect_lit("true", Value::Bool(true)),
            Some(b'f') => self.expect_lit("false", Value::Bool(false)),
            Some(b'n') => self.expect_lit("null", Value::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            None => Err(self.syntax("unexpected end of file: expected a value")),
            Some(_) => {
                Err(self.syntax(format!("expected a value, found {}", self.describe_here())))
            }
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), Finding> {
        if depth > MAX_DEPTH {
            Err(self.err(
                "too-deep",
                format!("document nests deeper than {MAX_DEPTH} levels"),
            ))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, Finding> {
        self.check_depth(depth)?;
        let pos = self.pos();
        self.bump(); // {
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen: HashMap<String, Pos> = HashMap::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Node::new(Value::Map(entries), pos));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.syntax(format!(
                    "expected a quoted member name, found {}",
                    self.describe_here()
                )));
            }
            let key_pos = self.pos();
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.syntax(format!(
                    "expected `:` after member name \"{key}\", found {}",
                    self.describe_here()
                )));
            }
            self.bump();
            self.ws();
            self.path.push(Seg::Key(key.clone()));
            let value = self.value(depth)?;
            if let Some(first) = seen.get(&key) {
                let at = DocPath(self.path.clone());
                self.findings.push(
                    Finding::error(
                        "duplicate-key",
                        format!(
                            "duplicate key \"{key}\" (first defined at line {}, column {})",
                            first.line, first.column
                        ),
                    )
                    .at_pos(key_pos)
                    .at(at)
                    .hint("remove one of them: JSON readers disagree on which one wins"),
                );
                entries.retain(|e| e.key != key);
            } else {
                seen.insert(key.clone(), key_pos);
            }
            self.path.pop();
            entries.push(Entry {
                key,
                key_pos,
                value,
            });
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                    self.ws();
                    if self.peek() == Some(b'}') {
                        return Err(self.syntax("trailing comma before `}`"));
                    }
                }
                Some(b'}') => {
                    self.bump();
                    return Ok(Node::new(Value::Map(entries), pos));
                }
                _ => {
                    return Err(self.syntax(format!(
                        "expected `,` or `}}` after an object member, found {}",
                        self.describe_here()
                    )))
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node, Finding> {
        self.check_depth(depth)?;
        let pos = self.pos();
        self.bump(); // [
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Node::new(Value::Seq(items), pos));
        }
        loop {
            self.ws();
            self.path.push(Seg::Index(items.len()));
            items.push(self.value(depth)?);
            self.path.pop();
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                    self.ws();
                    if self.peek() == Some(b']') {
                        return Err(self.syntax("trailing comma before `]`"));
                    }
                }
                Some(b']') => {
                    self.bump();
                    return Ok(Node::new(Value::Seq(items), pos));
                }
                _ => {
                    return Err(self.syntax(format!(
                        "expected `,` or `]` after an array element, found {}",
                        self.describe_here()
                    )))
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Finding> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(|c| (c as char).to_digit(16))
                .ok_or_else(|| self.syntax("invalid \\u escape: expected 4 hex digits"))?;
            v = v * 16 + d;
            self.bump();
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, Finding> {
        let start = self.pos();
        self.bump(); // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.bump();
            }
            // Input is valid UTF-8 and we stopped on an ASCII byte, so this slice is whole chars.
            out.push_str(std::str::from_utf8(&self.b[run_start..self.i]).unwrap_or_default());
            match self.peek() {
                None => {
                    return Err(self
                        .syntax("unterminated string")
                        .at_pos(start)
                        .hint("add the closing `\"`"))
                }
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.bump();
                    let c = self
                        .peek()
                        .ok_or_else(|| self.syntax("unterminated escape"))?;
                    self.bump();
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.b[self.i..].starts_with(b"\\u") {
                                    self.bump();
                                    self.bump();
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(
                                            self.syntax("invalid low surrogate in \\u escape")
                                        );
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    return Err(self.syntax("lone surrogate in \\u escape"));
                                }
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).ok_or_else(|| {
                                self.syntax("\\u escape is not a valid character")
                            })?);
                        }
                        other => {
                            return Err(self.syntax(format!(
                                "invalid escape `\\{}`",
                                (other as char).escape_debug()
                            )))
                        }
                    }
                }
                Some(_) => {
                    return Err(self.syntax("control character in string (write newlines as \\n)"))
                }
            }
        }
    }

    fn number(&mut self) -> Result<Node, Finding> {
        let pos = self.pos();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.bump();
            }
            p.i - s
        };
        let int_start = self.i;
        if digits(self) == 0 {
            return Err(self.syntax("expected digits in number"));
        }
        if self.b[int_start] == b'0' && self.i - int_start > 1 {
            return Err(self
                .syntax("leading zeros are not allowed in numbers")
                .at_pos(pos));
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if digits(self) == 0 {
                return Err(self.syntax("expected digits after `.` in number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if digits(self) == 0 {
                return Err(self.syntax("expected digits in exponent"));
            }
        }
        let lexeme = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("0");
        let n = serde_json::Number::from_str(lexeme).map_err(|e| {
            self.syntax(format!("number {lexeme} cannot be represented: {e}"))
                .at_pos(pos)
        })?;
        Ok(Node::new(Value::Number(n), pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(s: &str) -> (Node, Vec<Finding>) {
        let mut f = Vec::new();
        let n = parse(s, &mut f).expect("parses");
        (n, f)
    }

    fn parse_err(s: &str) -> Finding {
        parse(s, &mut Vec::new()).expect_err("fails")
    }

    #[test]
    fn parses_with_positions() {
        let (n, f) = parse_ok("{\n  \"a\": [1, 2.5, \"x\\u00e9\\ud83d\\ude00\"],\n  \"b\": {\"c\": null, \"d\": true}\n}");
        assert!(f.is_empty());
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a": [1, 2.5, "xé😀"], "b": {"c": null, "d": true}})
        );
        let p = n.locate(&crate::path::DocPath::parse("b.d"));
        assert_eq!(
            p,
            Pos {
                line: 3,
                column: 25
            }
        );
    }

    #[test]
    fn duplicate_keys_reported_with_both_positions() {
        let (_, f) = parse_ok("{\"a\": 1,\n \"a\": 2}");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "duplicate-key");
        assert_eq!(f[0].pos, Some(Pos { line: 2, column: 2 }));
        assert!(f[0].message.contains("line 1, column 2"));
        assert_eq!(
            f[0].path.as_ref().map(|p| p.to_string()).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = parse_err("{\"a\": 1}\n garbage");
        assert_eq!(e.code, "trailing-content");
        assert_eq!(e.pos, Some(Pos { line: 2, column: 2 }));
        assert_eq!(parse_err("{\"a\": 1,}").code, "json-syntax");
        assert_eq!(parse_err("[01]").code, "json-syntax");
        assert_eq!(parse_err("{\"a\": \"x").code, "json-syntax");
        let e = parse_err("{\"a\": [1, {\"b\": 1e999}]}");
        assert_eq!(e.code, "json-syntax");
        assert_eq!(e.path.map(|p| p.to_string()).as_deref(), Some("a[1].b"));
    }

    #[test]
    fn deep_nesting_refused_without_overflow() {
        let s = "[".repeat(200_000);
        let e = parse_err(&s);
        assert_eq!(e.code, "too-deep");
        assert_eq!(e.pos.unwrap().column as usize, MAX_DEPTH + 1);
    }
}
