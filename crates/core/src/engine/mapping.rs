//! Turning a response into the action's outputs: each `response_mapping` entry is a JSONPath
//! (RFC 9535, via serde_json_path; the design's `data.weather[0].main` is read as
//! `$.data.weather[0].main`), and each result is checked against the declared output type.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::engine::EngineError;
use crate::manifest::model::{Field, FieldType};

/// `data.x` → `$.data.x`; `$[*].name` stays.
pub fn normalize(path: &str) -> String {
    let p = path.trim();
    if p.starts_with('$') {
        p.to_string()
    } else if p.starts_with('[') {
        format!("${p}")
    } else {
        format!("$.{p}")
    }
}

/// Whether a path can select several nodes (then the output is the list of them).
fn is_multi(path: &str) -> bool {
    path.contains('*')
        || path.contains("..")
        || path.contains('?')
        || path.contains(':')
        || path.contains(',')
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn matches_type(ty: FieldType, v: &Value) -> bool {
    match ty {
        FieldType::String | FieldType::File => v.is_string(),
        FieldType::Number => v.is_number(),
        FieldType::Integer => {
            v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        FieldType::Boolean => v.is_boolean(),
        FieldType::Object => v.is_object(),
        FieldType::Array => v.is_array(),
        FieldType::Any => true,
    }
}

/// The outputs from a response body.
pub fn map_response(
    body: &[u8],
    mapping: &Map<String, Value>,
    outputs: &[Field],
) -> Result<Value, EngineError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if mapping.is_empty() {
        return Ok(
            parsed.unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned()))
        );
    }
    let mut out = Map::new();
    for (name, path) in mapping {
        let path = path.as_str().unwrap_or_default();
        let doc = parsed.as_ref().ok_or_else(|| EngineError::NotJson {
            output: name.clone(),
        })?;
        let value = select(doc, name, path)?;
        check_output(outputs, name, &value)?;
        out.insert(name.clone(), value);
    }
    Ok(Value::Object(out))
}

/// What `path` selects in `doc`, for the output `name`: one value, or the list of them when
/// the path can select several.
pub fn select(doc: &Value, name: &str, path: &str) -> Result<Value, EngineError> {
    let norm = normalize(path);
    let jp = JsonPath::parse(&norm).map_err(|e| EngineError::MappingPath {
        output: name.to_string(),
        path: path.to_string(),
        message: e.to_string(),
    })?;
    let nodes = jp.query(doc).all();
    let empty = || EngineError::MappingEmpty {
        output: name.to_string(),
        path: path.to_string(),
    };
    if nodes.is_empty() {
        return Err(empty());
    }
    if is_multi(&norm) {
        Ok(Value::Array(nodes.into_iter().cloned().collect()))
    } else {
        nodes.first().map(|v| (*v).clone()).ok_or_else(empty)
    }
}

/// Checks `value` against the declared type of the output `name`, if it is declared.
pub fn check_output(outputs: &[Field], name: &str, value: &Value) -> Result<(), EngineError> {
    match outputs.iter().find(|f| f.name == name) {
        Some(field) if !matches_type(field.ty, value) => Err(EngineError::OutputType {
            output: name.to_string(),
            expected: field.ty.as_str().to_string(),
            found: type_name(value).to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str, ty: FieldType) -> Field {
        Field {
            name: name.into(),
            ty,
            required: false,
            description: None,
            default: None,
            allowed: None,
        }
    }

    #[test]
    fn design_paths() {
        let body = json!({"data": {"temp": 72, "weather": [{"main": "Sunny"}], "main": {"humidity": 45}}, "labels": [{"name": "bug"}, {"name": "ui"}]});
        let mapping = json!({"temperature": "data.temp", "condition": "data.weather[0].main", "humidity": "data.main.humidity", "labels": "labels[*].name"});
        let out = map_response(
            body.to_string().as_bytes(),
            mapping.as_object().unwrap(),
            &[
                field("temperature", FieldType::Number),
                field("condition", FieldType::String),
                field("labels", FieldType::Array),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"temperature": 72, "condition": "Sunny", "humidity": 45, "labels": ["bug", "ui"]})
        );
    }

    #[test]
    fn empty_and_mistyped() {
        let m = json!({"t": "data.nope"});
        let e = map_response(b"{\"data\":{}}", m.as_object().unwrap(), &[]).unwrap_err();
        assert_eq!(
            e,
            EngineError::MappingEmpty {
                output: "t".into(),
                path: "data.nope".into()
            }
        );
        let m = json!({"t": "data"});
        let e = map_response(
            b"{\"data\":\"hot\"}",
            m.as_object().unwrap(),
            &[field("t", FieldType::Number)],
        )
        .unwrap_err();
        assert!(matches!(e, EngineError::OutputType { .. }));
        let e = map_response(b"<html>", m.as_object().unwrap(), &[]).unwrap_err();
        assert!(matches!(e, EngineError::NotJson { .. }));
    }
}
