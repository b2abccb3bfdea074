//! Rendering manifest templates into a request, in one pass and with the escaping of the place
//! each value lands: a path value is one percent-encoded segment, query values are
//! form-encoded by the URL builder, body values are JSON-encoded (a whole-string template keeps
//! its JSON type), and header values are refused if they would contain a line break.
//! A substituted value is never scanned again, so an input containing `${API_KEY}` is sent as
//! those literal characters.

use std::collections::HashMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::engine::EngineError;
use crate::manifest::template::{self, Style, TemplateRef};
use crate::sensitive::Sensitive;

/// Everything but RFC 3986 unreserved characters is encoded in a path segment or query value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// One path segment: `/`, `?`, `#`, `%` and friends are encoded; `.`/`..` are refused.
    PathSegment,
    /// A query component written inside the URL template.
    QueryComponent,
    /// Raw text (headers, query values handed to the URL builder, body strings).
    Raw,
}

/// The values templates may name.
pub struct Scope<'a> {
    pub capability: &'a str,
    pub input: &'a serde_json::Map<String, Value>,
    /// Non-secret configuration.
    pub config: &'a HashMap<String, Value>,
    pub secrets: &'a HashMap<String, Sensitive<String>>,
    /// Values of earlier steps by name (a flow's upstream nodes), after configuration.
    pub named: Option<&'a serde_json::Map<String, Value>>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Follows `.a.b[0].c` from `v`.
pub fn walk<'v>(mut v: &'v Value, rest: &str) -> Option<&'v Value> {
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (key, mut indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            v = v.get(key)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let close = rest.find(']')?;
            v = v.get(rest[..close].trim().parse::<usize>().ok()?)?;
            indexes = &rest[close + 1..];
        }
    }
    Some(v)
}

impl Scope<'_> {
    /// The value a reference names.
    pub fn lookup(&self, r: &TemplateRef) -> Result<Value, EngineError> {
        let from_input = |name: &str, rest: &str| -> Value {
            match self.input.get(name) {
                Some(v) => walk(v, rest).cloned().unwrap_or(Value::Null),
                None => Value::Null,
            }
        };
        match r.style {
            Style::Mustache => {
                let root = r.root();
                Ok(from_input(root, r.expr.strip_prefix(root).unwrap_or("")))
            }
            Style::Dollar if r.root() == "input" => {
                let name = r.second().unwrap_or_default();
                let rest = r
                    .expr
                    .strip_prefix("input.")
                    .and_then(|x| x.strip_prefix(name))
                    .unwrap_or("");
                Ok(from_input(name, rest))
            }
            Style::Dollar => {
                let key = r.root();
                if let Some(s) = self.secrets.get(key) {
                    return Ok(Value::String(s.expose().clone()));
                }
                if let Some(v) = self.config.get(key) {
                    return Ok(v.clone());
                }
                if let Some(v) = self.named.and_then(|n| n.get(key)) {
                    let rest = r.expr.strip_prefix(key).unwrap_or("");
                    return Ok(walk(v, rest).cloned().unwrap_or(Value::Null));
                }
                Err(EngineError::MissingConfig {
                    capability: self.capability.to_string(),
                    key: key.to_string(),
                })
            }
        }
    }

    /// Whether a reference may give a URL's scheme, host or port: configuration may; inputs,
    /// the trigger and what earlier steps produced (data from outside) may not.
    pub fn may_choose_host(&self, r: &TemplateRef) -> bool {
        r.style == Style::Dollar
            && r.root() != "input"
            && r.root() != "trigger"
            && (self.config.contains_key(r.root()) || self.secrets.contains_key(r.root()))
    }

    /// Renders a string template for `place`.
    pub fn render(&self, tpl: &str, place: Place) -> Result<String, EngineError> {
        let refs = template::refs(tpl).map_err(|at| EngineError::BadRequest {
            message: format!("template at character {at} is never closed"),
        })?;
        let mut out = String::with_capacity(tpl.len());
        let mut last = 0;
        for r in &refs {
            let close = if r.style == Style::Mustache {
                "}}"
            } else {
                "}"
            };
            let end = tpl[r.offset..]
                .find(close)
                .map(|e| r.offset + e + close.len())
                .unwrap_or(tpl.len());
            out.push_str(&tpl[last..r.offset]);
            let value = text_of(&self.lookup(r)?);
            match place {
                Place::Raw => out.push_str(&value),
                Place::QueryComponent => out.extend(utf8_percent_encode(&value, COMPONENT)),
                Place::PathSegment => {
                    // URL parsers resolve `.`/`..` even percent-encoded: such a value could
                    // only climb the path, so it is refused.
                    if value == "." || value == ".." {
                        return Err(EngineError::InvalidInput {
                            field: r.expr.clone(),
                            message: format!("`{value}` cannot be a path segment"),
                        });
                    }
                    out.extend(utf8_percent_encode(&value, COMPONENT));
                }
            }
            last = end;
        }
        out.push_str(&tpl[last..]);
        Ok(out)
    }

    /// Renders a JSON body: a string that is exactly one template becomes the value itself
    /// (numbers stay numbers); other strings are interpolated.
    pub fn render_json(&self, v: &Value) -> Result<Value, EngineError> {
        Ok(match v {
            Value::String(s) => {
                let refs = template::refs(s).unwrap_or_default();
                let whole = refs.len() == 1 && refs[0].offset == 0 && {
                    let close = if refs[0].style == Style::Mustache {
                        "}}"
                    } else {
                        "}"
                    };
                    s.ends_with(close) && s.find(close).map(|e| e + close.len()) == Some(s.len())
                };
                if whole {
                    self.lookup(&refs[0])?
                } else {
                    Value::String(self.render(s, Place::Raw)?)
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|x| self.render_json(x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, x) in m {
                    let rendered = self.render_json(x)?;
                    // A field filled by an optional input that was left out is left out too,
                    // rather than sent as null.
                    if rendered.is_null()
                        && x.as_str()
                            .is_some_and(|s| s.starts_with("{{") || s.starts_with("${input."))
                    {
                        continue;
                    }
                    out.insert(k.clone(), rendered);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Renders a header value; a line break or NUL (from any source) refuses the request.
    pub fn render_header(&self, name: &str, tpl: &str) -> Result<String, EngineError> {
        let v = self.render(tpl, Place::Raw)?;
        if v.contains(['\r', '\n', '\0']) {
            return Err(EngineError::HeaderInjection {
                header: name.to_string(),
            });
        }
        Ok(v)
    }
}

/// Builds a URL from a template: templates before `?` fill path segments, after it query
/// components. The scheme, host and port can only come from the literal text or configuration.
pub fn render_url(scope: &Scope, tpl: &str) -> Result<url::Url, EngineError> {
    let (path_part, query_part) = match tpl.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tpl, None),
    };
    // The authority never takes input values: render a configuration base raw, the rest as
    // path segments.
    let base_end = path_part
        .find("://")
        .map(|i| {
            path_part[i + 3..]
                .find('/')
                .map(|j| i + 3 + j)
                .unwrap_or(path_part.len())
        })
        .unwrap_or(0);
    let (base_tpl, path_tpl) = path_part.split_at(base_end);
    let mut s = if base_tpl.is_empty() {
        // `${BASE_URL}/path`: the configuration value is the base.
        let refs = template::refs(path_part).unwrap_or_default();
        match refs.first() {
            Some(r) if r.offset == 0 && scope.may_choose_host(r) => {
                let close = path_part.find('}').map(|e| e + 1).unwrap_or(0);
                let base = text_of(&scope.lookup(r)?);
                format!(
                    "{}{}",
                    base.trim_end_matches('/'),
                    scope.render(&path_part[close..], Place::PathSegment)?
                )
            }
            _ => scope.render(path_part, Place::PathSegment)?,
        }
    } else {
        format!(
            "{}{}",
            scope.render(base_tpl, Place::Raw)?,
            scope.render(path_tpl, Place::PathSegment)?
        )
    };
    if let Some(q) = query_part {
        s.push('?');
        s.push_str(&scope.render(q, Place::QueryComponent)?);
    }
    let url = url::Url::parse(&s).map_err(|e| EngineError::BadRequest {
        message: format!("the URL is invalid after rendering: {e}"),
    })?;
    // Whatever the values, the host is the one the literal text or configuration gave.
    let base_only = if base_tpl.is_empty() {
        let refs = template::refs(path_part).unwrap_or_default();
        match refs.first() {
            Some(r) if r.offset == 0 && scope.may_choose_host(r) => text_of(&scope.lookup(r)?),
            _ => String::new(),
        }
    } else {
        let refs = template::refs(base_tpl).unwrap_or_default();
        if refs.iter().any(|r| !scope.may_choose_host(r)) {
            return Err(EngineError::BadRequest {
                message: "only configuration can choose the scheme, host or port (not an input, the trigger or an earlier step); refused".into(),
            });
        }
        scope.render(base_tpl, Place::Raw)?
    };
    if !base_only.is_empty() {
        let expected = url::Url::parse(&base_only)
            .ok()
            .and_then(|b| b.host_str().map(str::to_string));
        if expected.as_deref() != url.host_str() {
            return Err(EngineError::BadRequest {
                message: "the rendered URL's host differs from the manifest's; refused".into(),
            });
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_scope<R>(input: Value, f: impl FnOnce(&Scope) -> R) -> R {
        let input = input.as_object().cloned().unwrap_or_default();
        let config = HashMap::from([("REGION".to_string(), json!("eu"))]);
        let secrets =
            HashMap::from([("API_KEY".to_string(), Sensitive::new("s3cr3t".to_string()))]);
        let scope = Scope {
            capability: "c",
            input: &input,
            config: &config,
            secrets: &secrets,
            named: None,
        };
        f(&scope)
    }

    #[test]
    fn path_inputs_stay_one_segment() {
        with_scope(json!({"id": "../../admin", "dots": ".."}), |s| {
            let u = render_url(s, "https://api.example.com/v1/items/${input.id}/x").unwrap();
            assert_eq!(u.path(), "/v1/items/..%2F..%2Fadmin/x");
            assert_eq!(u.host_str(), Some("api.example.com"));
            let e = render_url(s, "https://api.example.com/v1/{{dots}}/x").unwrap_err();
            assert!(matches!(e, EngineError::InvalidInput { .. }), "{e}");
        });
    }

    #[test]
    fn one_pass_no_reexpansion() {
        with_scope(json!({"q": "${API_KEY}"}), |s| {
            let body = s
                .render_json(&json!({"text": "say ${input.q}", "raw": "${input.q}"}))
                .unwrap();
            assert_eq!(body, json!({"text": "say ${API_KEY}", "raw": "${API_KEY}"}));
            assert_eq!(
                s.render_header("X", "Bearer ${API_KEY}").unwrap(),
                "Bearer s3cr3t"
            );
        });
    }

    #[test]
    fn whole_templates_keep_json_types() {
        with_scope(json!({"n": 42, "o": {"a": [1]}}), |s| {
            let b = s
                .render_json(&json!({"n": "${input.n}", "o": "{{o}}", "s": "n=${input.n}"}))
                .unwrap();
            assert_eq!(b, json!({"n": 42, "o": {"a": [1]}, "s": "n=42"}));
        });
    }

    #[test]
    fn header_injection_refused() {
        with_scope(json!({"v": "a\r\nX-Evil: 1"}), |s| {
            assert!(matches!(
                s.render_header("X-Name", "${input.v}"),
                Err(EngineError::HeaderInjection { .. })
            ));
        });
    }

    #[test]
    fn query_components_are_encoded_and_config_missing_is_named() {
        with_scope(json!({"q": "a&b=c d"}), |s| {
            let u = render_url(s, "https://e.com/s?q=${input.q}&r=${REGION}").unwrap();
            assert_eq!(u.query(), Some("q=a%26b%3Dc%20d&r=eu"));
            let e = render_url(s, "https://e.com/${NOPE}").unwrap_err();
            assert!(matches!(e, EngineError::MissingConfig { ref key, .. } if key == "NOPE"));
        });
    }
}
