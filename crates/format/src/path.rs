//! A path into a document, displayed the way people read it: `capability.actions[1].id`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DocPath(pub Vec<Seg>);

impl DocPath {
    pub fn root() -> Self {
        DocPath(Vec::new())
    }
    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.into()));
        DocPath(v)
    }
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        DocPath(v)
    }
    /// Parses the display form back (`a.b[2].c`); keys containing `.` or `[` are quoted as `["k.x"]`.
    pub fn parse(s: &str) -> Self {
        let mut segs = Vec::new();
        let mut cur = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                }
                '[' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    let mut inner = String::new();
                    for c2 in chars.by_ref() {
                        if c2 == ']' {
                            break;
                        }
                        inner.push(c2);
                    }
                    if let Ok(i) = inner.parse::<usize>() {
                        segs.push(Seg::Index(i));
                    } else {
                        let k = inner.trim_matches('"').to_string();
                        segs.push(Seg::Key(k));
                    }
                }
                _ => cur.push(c),
            }
        }
        if !cur.is_empty() {
            segs.push(Seg::Key(cur));
        }
        DocPath(segs)
    }
}

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if k.contains(['.', '[', ']']) || k.is_empty() => {
                    write!(f, "[\"{k}\"]")?
                }
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let p = DocPath::root()
            .key("capability")
            .key("actions")
            .index(1)
            .key("id");
        assert_eq!(p.to_string(), "capability.actions[1].id");
        assert_eq!(DocPath::parse("capability.actions[1].id"), p);
        let odd = DocPath::root().key("headers").key("x.y");
        assert_eq!(odd.to_string(), "headers[\"x.y\"]");
        assert_eq!(DocPath::parse(&odd.to_string()), odd);
    }
}
