//! Writing a manifest back out as YAML or JSON. Both are produced from the typed document, so
//! an export re-imports to an equal manifest (tested over every bundled example).

use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

use crate::manifest::model::Document;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Yaml,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(ExportFormat::Yaml),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }
}

pub fn to_string(doc: &Document, format: ExportFormat) -> String {
    let value = serde_json::to_value(doc).unwrap_or(serde_json::Value::Null);
    match format {
        ExportFormat::Json => {
            let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
            s.push('\n');
            s
        }
        ExportFormat::Yaml => to_yaml(&value),
    }
}

fn yaml_of(v: &serde_json::Value) -> Yaml {
    match v {
        serde_json::Value::Null => Yaml::Null,
        serde_json::Value::Bool(b) => Yaml::Boolean(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Yaml::Integer(i)
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let mut s = format!("{f:?}");
                if !s.contains(['.', 'e', 'E']) {
                    s.push_str(".0");
                }
                Yaml::Real(s)
            }
        }
        serde_json::Value::String(s) => Yaml::String(s.clone()),
        serde_json::Value::Array(a) => Yaml::Array(a.iter().map(yaml_of).collect()),
        serde_json::Value::Object(m) => {
            let mut h = Hash::new();
            for (k, v) in m {
                h.insert(Yaml::String(k.clone()), yaml_of(v));
            }
            Yaml::Hash(h)
        }
    }
}

pub fn to_yaml(v: &serde_json::Value) -> String {
    let mut out = String::new();
    {
        let mut em = YamlEmitter::new(&mut out);
        em.multiline_strings(true);
        // Emitting into a String cannot fail for plain data.
        let _ = em.dump(&yaml_of(v));
    }
    let body = out.strip_prefix("---\n").unwrap_or(&out).to_string();
    format!("{body}\n")
}
