//! Template references inside manifest strings: `${input.x}`, `${API_KEY}`, `${step_output.f}`
//! and the connector style `{{x}}`. Only parsing lives here; rendering belongs to the engine.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    Dollar,
    Mustache,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    pub style: Style,
    /// The expression between the delimiters, trimmed (`input.location`).
    pub expr: String,
    /// Byte offset of the opening delimiter in the string.
    pub offset: usize,
}

impl TemplateRef {
    /// The first name of the expression: `input` in `input.location`, `data` in `data[0]`.
    pub fn root(&self) -> &str {
        let end = self
            .expr
            .find(|c: char| c == '.' || c == '[' || c.is_whitespace())
            .unwrap_or(self.expr.len());
        &self.expr[..end]
    }
    /// The name after the root: `location` in `input.location`.
    pub fn second(&self) -> Option<&str> {
        let rest = self.expr.strip_prefix(self.root())?.strip_prefix('.')?;
        let end = rest
            .find(|c: char| c == '.' || c == '[' || c.is_whitespace())
            .unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

/// Every reference in `s`, or the offset of one that never closes.
pub fn refs(s: &str) -> Result<Vec<TemplateRef>, usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let (style, open, close) = if rest.starts_with("${") {
            (Style::Dollar, 2, "}")
        } else if rest.starts_with("{{") {
            (Style::Mustache, 2, "}}")
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        match rest[open..].find(close) {
            Some(end) => {
                out.push(TemplateRef {
                    style,
                    expr: rest[open..open + end].trim().to_string(),
                    offset: i,
                });
                i += open + end + close.len();
            }
            None => return Err(i),
        }
    }
    Ok(out)
}

/// Is `s` exactly one `${...}` reference (its value may then be any JSON type)?
pub fn is_whole(s: &str) -> bool {
    matches!(refs(s).as_deref(), Ok([r]) if r.offset == 0 && s.trim_end().ends_with('}') && s.matches("${").count() == 1 && s.starts_with("${"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_styles() {
        let r = refs("Bearer ${API_KEY} to {{ channel }} ${input.loc[0].x}").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].root(), "API_KEY");
        assert_eq!(r[1].style, Style::Mustache);
        assert_eq!(r[1].root(), "channel");
        assert_eq!(r[2].root(), "input");
        assert_eq!(r[2].second(), Some("loc"));
        assert_eq!(refs("a ${oops").unwrap_err(), 2);
        assert!(is_whole("${x.y}"));
        assert!(!is_whole("a ${x}"));
    }
}
