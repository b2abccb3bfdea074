//! OpenAPI 3.0/3.1 → an API-connector manifest: one endpoint per operation, inputs from
//! parameters and JSON request bodies, outputs from the success response's schema, auth from
//! the security schemes. The result is a plain manifest that then goes through the same
//! validation and import as a hand-written one.

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Map, Value};

use crate::manifest::model::*;
use crate::validate::rules::is_slug;
use crate::CoreError;

const METHODS: &[(&str, HttpMethod)] = &[
    ("get", HttpMethod::Get),
    ("head", HttpMethod::Head),
    ("post", HttpMethod::Post),
    ("put", HttpMethod::Put),
    ("patch", HttpMethod::Patch),
    ("delete", HttpMethod::Delete),
];

/// What the conversion could not carry over, for the user to review.
#[derive(Debug, Default)]
pub struct Conversion {
    pub document: Option<Document>,
    pub notes: Vec<String>,
}

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::InvalidArgument(format!("not a usable OpenAPI document: {}", msg.into()))
}

/// `listPets` / `list_pets` / `List Pets` → `list-pets`.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('-');
            prev_lower = false;
        }
    }
    let slug = out
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.chars()
        .take(64)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// A field name our manifests accept.
fn field_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if n.is_empty() {
        "value".into()
    } else {
        n.chars().take(64).collect()
    }
}

struct Resolver<'a> {
    root: &'a Value,
}

impl<'a> Resolver<'a> {
    /// Follows local `$ref`s (`#/components/...`), a bounded number of times.
    fn resolve(&self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) if r.starts_with("#/") => {
                    let mut cur = self.root;
                    for part in r[2..].split('/') {
                        let part = part.replace("~1", "/").replace("~0", "~");
                        match cur.get(&part) {
                            Some(n) => cur = n,
                            None => return v,
                        }
                    }
                    v = cur;
                }
                _ => return v,
            }
        }
        v
    }
}

fn field_type(schema: &Value) -> FieldType {
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        // 3.1: `type: [string, "null"]`
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string")
            .to_string(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ if schema.get("items").is_some() => "array".into(),
        _ => return FieldType::Any,
    };
    match ty.as_str() {
        "integer" => FieldType::Integer,
        "number" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "array" => FieldType::Array,
        "object" => FieldType::Object,
        "string" if schema.get("format").and_then(Value::as_str) == Some("binary") => {
            FieldType::File
        }
        _ => FieldType::String,
    }
}

fn short(s: Option<&str>) -> Option<String> {
    s.map(|t| t.trim()).filter(|t| !t.is_empty()).map(|t| {
        let first = t.split("\n\n").next().unwrap_or(t);
        first.chars().take(300).collect()
    })
}

/// Converts a parsed OpenAPI document. `source_url` resolves relative server URLs.
pub fn convert(
    spec: &Value,
    id: Option<&str>,
    source_url: Option<&url::Url>,
) -> Result<Conversion, CoreError> {
    let version = spec.get("openapi").and_then(Value::as_str).ok_or_else(|| {
        if spec.get("swagger").is_some() {
            bad("this is Swagger 2.0; convert it to OpenAPI 3 first")
        } else {
            bad("there is no `openapi` version field")
        }
    })?;
    if !version.starts_with("3.") {
        return Err(bad(format!(
            "OpenAPI {version} is not supported (3.0 and 3.1 are)"
        )));
    }
    let r = Resolver { root: spec };
    let mut notes = Vec::new();
    let info = spec.get("info").cloned().unwrap_or(Value::Null);
    let title = info
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("Imported API")
        .to_string();
    let id = match id {
        Some(i) => i.to_string(),
        None => slugify(&title),
    };
    if !is_slug(&id) {
        return Err(CoreError::InvalidArgument(format!(
            "`{id}` is not a valid capability id; pass --id"
        )));
    }
    let raw_version = info
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("0.1.0");
    let version = normalize_version(raw_version).unwrap_or_else(|| {
        notes.push(format!(
            "info.version `{raw_version}` is not semantic versioning; using 0.1.0"
        ));
        "0.1.0".into()
    });

    // The server: the first one, with its variables' defaults.
    let server = spec
        .pointer("/servers/0")
        .ok_or_else(|| bad("no `servers` entry gives the API's URL"))?;
    let mut base = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (k, v) in vars {
            let d = v.get("default").and_then(Value::as_str).unwrap_or("");
            base = base.replace(&format!("{{{k}}}"), d);
        }
    }
    if !base.contains("://") {
        match source_url {
            Some(u) => base = u.join(&base).map_err(|e| bad(format!("server URL `{base}`: {e}")))?.to_string(),
            None => return Err(bad(format!("the server URL `{base}` is relative; import the spec from its URL, or edit `servers`"))),
        }
    }
    let base = base.trim_end_matches('/').to_string();

    // Auth from the first security requirement that names a known scheme.
    let schemes = spec
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut configuration = Vec::new();
    let secret = |key: &str, label: &str| ConfigItem {
        key: key.into(),
        label: Some(label.into()),
        ty: ConfigType::Secret,
        required: true,
        help_url: None,
        description: None,
        default: None,
    };
    let required_schemes: Vec<String> = spec
        .get("security")
        .and_then(Value::as_array)
        .map(|reqs| {
            reqs.iter()
                .filter_map(|r| r.as_object())
                .flat_map(|o| o.keys().cloned())
                .collect()
        })
        .unwrap_or_else(|| schemes.keys().cloned().collect());
    let mut auth = None;
    for name in &required_schemes {
        let Some(s) = schemes.get(name).map(|s| r.resolve(s)) else {
            continue;
        };
        let ty = s.get("type").and_then(Value::as_str).unwrap_or("");
        let scheme = s
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let base_auth = Auth {
            ty: AuthType::None,
            key: None,
            location: None,
            name: None,
            username_key: None,
            password_key: None,
            authorization_url: None,
            token_url: None,
            scopes: vec![],
            client_id_key: None,
            client_secret_key: None,
        };
        auth = match (ty, scheme.as_str()) {
            ("apiKey", _) => {
                let loc = match s.get("in").and_then(Value::as_str) {
                    Some("query") => KeyLocation::Query,
                    Some("header") => KeyLocation::Header,
                    other => {
                        notes.push(format!(
                            "security scheme `{name}`: API keys in {other:?} are not supported"
                        ));
                        continue;
                    }
                };
                configuration.push(secret("API_KEY", &format!("{title} API key")));
                Some(Auth {
                    ty: AuthType::ApiKey,
                    key: Some("API_KEY".into()),
                    location: Some(loc),
                    name: s.get("name").and_then(Value::as_str).map(str::to_string),
                    ..base_auth
                })
            }
            ("http", "bearer") => {
                configuration.push(secret("API_TOKEN", &format!("{title} token")));
                Some(Auth {
                    ty: AuthType::Bearer,
                    key: Some("API_TOKEN".into()),
                    ..base_auth
                })
            }
            ("http", "basic") => {
                configuration.push(secret("USERNAME", "User name"));
                configuration.push(secret("PASSWORD", "Password"));
                Some(Auth {
                    ty: AuthType::Basic,
                    username_key: Some("USERNAME".into()),
                    password_key: Some("PASSWORD".into()),
                    ..base_auth
                })
            }
            ("oauth2", _) => {
                let flow = s
                    .pointer("/flows/authorizationCode")
                    .or_else(|| s.pointer("/flows/clientCredentials"));
                let Some(flow) = flow else {
                    notes.push(format!("security scheme `{name}`: only the authorizationCode and clientCredentials OAuth2 flows are supported"));
                    continue;
                };
                let scopes: Vec<String> = flow
                    .get("scopes")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                Some(Auth {
                    ty: AuthType::Oauth2,
                    authorization_url: flow
                        .get("authorizationUrl")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    token_url: flow
                        .get("tokenUrl")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    scopes,
                    ..base_auth
                })
            }
            _ => {
                notes.push(format!(
                    "security scheme `{name}` ({ty} {scheme}) is not supported; add auth by hand"
                ));
                continue;
            }
        };
        break;
    }

    // Operations.
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("no `paths`"))?;
    let mut endpoints = Vec::new();
    let mut ids = HashSet::new();
    let mut methods_used = BTreeSet::new();
    for (path, item) in paths {
        let item = r.resolve(item);
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (mname, method) in METHODS {
            let Some(op) = item.get(*mname) else { continue };
            let op_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(slugify)
                .filter(|s| !s.is_empty());
            let mut eid = op_id.unwrap_or_else(|| slugify(&format!("{mname} {path}")));
            if eid.is_empty() {
                eid = mname.to_string();
            }
            let base_id = eid.clone();
            let mut n = 2;
            while !ids.insert(eid.clone()) {
                eid = format!("{base_id}-{n}");
                n += 1;
            }
            let mut inputs: Vec<(String, FieldSpec)> = Vec::new();
            let mut query = Map::new();
            let mut headers = Map::new();
            let mut ep_path = path.clone();
            let mut params: Vec<&Value> = shared.iter().map(|p| r.resolve(p)).collect();
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let p = r.resolve(p);
                // An operation parameter overrides a path-level one of the same name and place.
                params.retain(|q| !(q.get("name") == p.get("name") && q.get("in") == p.get("in")));
                params.push(p);
            }
            for p in params {
                let (Some(pname), Some(place)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let fname = field_name(pname);
                let schema = p
                    .get("schema")
                    .map(|s| r.resolve(s))
                    .cloned()
                    .unwrap_or(Value::Null);
                let spec_field = FieldSpec {
                    ty: field_type(&schema),
                    required: place == "path"
                        || p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    description: short(p.get("description").and_then(Value::as_str)),
                    default: schema.get("default").cloned(),
                    allowed: schema.get("enum").and_then(Value::as_array).cloned(),
                };
                match place {
                    "path" => {
                        ep_path =
                            ep_path.replace(&format!("{{{pname}}}"), &format!("{{{{{fname}}}}}"))
                    }
                    "query" => {
                        query.insert(pname.to_string(), json!(format!("{{{{{fname}}}}}")));
                    }
                    "header" => {
                        let lower = pname.to_ascii_lowercase();
                        if ["authorization", "content-type", "accept"].contains(&lower.as_str()) {
                            continue;
                        }
                        headers.insert(pname.to_string(), json!(format!("{{{{{fname}}}}}")));
                    }
                    _ => {
                        notes.push(format!(
                            "{eid}: {place} parameter `{pname}` is not supported"
                        ));
                        continue;
                    }
                }
                if !inputs.iter().any(|(n, _)| n == &fname) {
                    inputs.push((fname, spec_field));
                }
            }
            // A JSON request body: its properties become inputs.
            let mut body = None;
            if let Some(rb) = op.get("requestBody").map(|b| r.resolve(b)) {
                let content = rb.get("content").and_then(Value::as_object);
                let json_schema = content
                    .and_then(|c| c.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))
                    .and_then(|m| m.get("schema"))
                    .map(|s| r.resolve(s));
                match json_schema {
                    Some(s) if s.get("properties").is_some() => {
                        let required: Vec<&str> = s
                            .get("required")
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        let mut b = Map::new();
                        for (prop, ps) in s
                            .get("properties")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                        {
                            let ps = r.resolve(ps);
                            if ps.get("readOnly").and_then(Value::as_bool) == Some(true) {
                                continue;
                            }
                            let mut fname = field_name(prop);
                            if inputs.iter().any(|(n, _)| n == &fname) {
                                fname = format!("body_{fname}");
                            }
                            b.insert(prop.clone(), json!(format!("{{{{{fname}}}}}")));
                            inputs.push((
                                fname,
                                FieldSpec {
                                    ty: field_type(ps),
                                    required: required.contains(&prop.as_str()),
                                    description: short(
                                        ps.get("description").and_then(Value::as_str),
                                    ),
                                    default: None,
                                    allowed: ps.get("enum").and_then(Value::as_array).cloned(),
                                },
                            ));
                        }
                        body = Some(Value::Object(b));
                    }
                    Some(s) => {
                        inputs.push((
                            "body".into(),
                            FieldSpec {
                                ty: field_type(s),
                                required: rb
                                    .get("required")
                                    .and_then(Value::as_bool)
                                    .unwrap_or(false),
                                description: Some("the request body".into()),
                                default: None,
                                allowed: None,
                            },
                        ));
                        body = Some(json!("{{body}}"));
                    }
                    None if content.is_some() => {
                        notes.push(format!("{eid}: only JSON request bodies are supported"))
                    }
                    None => {}
                }
            }
            // Outputs: the properties of the first success response's JSON object.
            let mut outputs = Vec::new();
            if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                let ok = ["200", "201", "202", "2XX", "default"]
                    .iter()
                    .find_map(|c| responses.get(*c))
                    .map(|x| r.resolve(x));
                let schema = ok
                    .and_then(|x| x.get("content"))
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))
                    .and_then(|m| m.get("schema"))
                    .map(|s| r.resolve(s));
                if let Some(props) = schema
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                {
                    for (prop, ps) in props {
                        let ps = r.resolve(ps);
                        outputs.push((
                            field_name(prop),
                            FieldSpec {
                                ty: field_type(ps),
                                required: false,
                                description: short(ps.get("description").and_then(Value::as_str)),
                                default: None,
                                allowed: None,
                            },
                        ));
                    }
                }
            }
            methods_used.insert(method.is_read());
            let body = if method.is_read() { None } else { body };
            endpoints.push(Endpoint {
                id: eid,
                name: op
                    .get("summary")
                    .and_then(Value::as_str)
                    .map(|s| s.chars().take(120).collect()),
                description: short(op.get("description").and_then(Value::as_str)),
                method: *method,
                path: ep_path,
                inputs: Fields::Map(inputs),
                outputs: Fields::Map(outputs),
                headers,
                query,
                body,
                response_mapping: Map::new(),
            });
        }
    }
    if endpoints.is_empty() {
        return Err(bad("it has no operations"));
    }
    let mut permissions = Vec::new();
    if methods_used.contains(&true) {
        permissions.push("network.http.get".to_string());
    }
    if methods_used.contains(&false) {
        permissions.push("network.http.post".to_string());
    }
    let document = Document {
        schema: None,
        format_version: None,
        capability: Capability {
            id,
            name: title,
            icon: Some("🔌".into()),
            version: Some(version),
            author: None,
            description: short(info.get("description").and_then(Value::as_str)),
            category: Some("API".into()),
            tags: vec!["openapi".into()],
            license: info
                .pointer("/license/name")
                .and_then(Value::as_str)
                .map(str::to_string),
            homepage: None,
            kind: Some(Kind::ApiConnector),
            actions: vec![],
            integration: None,
            api: Some(ApiSpec {
                base_url: base,
                auth,
                headers: Map::new(),
            }),
            endpoints,
            triggers: vec![],
            workflow: None,
            code: None,
            flows: vec![],
            configuration,
            examples: vec![],
            tests: vec![],
            permissions: Some(permissions),
            allowed_domains: vec![],
            dependencies: vec![],
            schemas: Default::default(),
            conflicts_with: vec![],
        },
    };
    Ok(Conversion {
        document: Some(document),
        notes,
    })
}

fn normalize_version(v: &str) -> Option<String> {
    if semver::Version::parse(v).is_ok() {
        return Some(v.to_string());
    }
    let parts: Vec<&str> = v.trim_start_matches('v').split('.').collect();
    if parts.len() < 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        while p.len() < 3 {
            p.push("0".into());
        }
        return Some(p.join("."));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("listPets"), "list-pets");
        assert_eq!(slugify("get /pets/{petId}"), "get-pets-pet-id");
        assert_eq!(
            slugify("Swagger Petstore - OpenAPI 3.0"),
            "swagger-petstore-open-api-3-0"
        );
        assert_eq!(normalize_version("1.0").as_deref(), Some("1.0.0"));
        assert_eq!(normalize_version("2023-01-01"), None);
    }
}
