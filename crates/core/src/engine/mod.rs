//! Running declarative and API-connector actions: inputs checked against their declared types,
//! templates rendered (`render`), the request sent under the network guard (`guard`, `http`),
//! and the response mapped to typed outputs (`mapping`). Secrets arrive from the keyring only
//! for this call and are redacted from everything the run reports.

pub mod error;
pub mod guard;
pub mod http;
pub mod mapping;
pub mod oauth;
pub mod render;

use std::collections::HashMap;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Map, Value};

pub use error::EngineError;
use guard::NetPolicy;
use http::{CallTrace, Prepared, Session};
use render::{render_url, Place, Scope};

use crate::manifest::model::{
    AuthType, Capability, Document, Field, HttpMethod, Integration, KeyLocation,
};
use crate::sensitive::Sensitive;

/// What a run needs besides the manifest.
pub struct RunContext<'a> {
    pub document: &'a Document,
    /// Permissions in force: the declared ones (or the inferred ones when none are declared).
    pub permissions: &'a [String],
    pub allowed_domains: &'a [String],
    pub config: HashMap<String, Value>,
    pub secrets: HashMap<String, Sensitive<String>>,
    /// Limits and exceptions from settings; domains and methods are filled in from the manifest.
    pub policy: NetPolicy,
}

/// The result of one run, successful or not, with its (redacted) network trace.
pub struct RunResult {
    pub output: Result<Value, EngineError>,
    pub trace: Vec<CallTrace>,
    /// What sandboxed code logged (code capabilities only).
    pub console: Vec<capsmith_sandbox_protocol::ConsoleLine>,
    /// Peak JS heap of sandboxed code, in bytes.
    pub memory_used: Option<u64>,
    /// Tokens the run's AI calls used.
    pub usage: Usage,
}

/// What a run used of paid services, for monitoring, cost and budgets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    /// Counts an `ai.call` answer's `usage` (OpenAI's `prompt_tokens`/`completion_tokens`).
    pub fn add(&mut self, answer: &Value) {
        let n = |k: &str| {
            answer
                .pointer(&format!("/usage/{k}"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        self.prompt_tokens += n("prompt_tokens");
        self.completion_tokens += n("completion_tokens");
    }
}

impl RunResult {
    /// A run that failed before doing anything.
    pub fn failed(e: EngineError) -> Self {
        RunResult {
            output: Err(e),
            trace: Vec::new(),
            console: Vec::new(),
            usage: Usage::default(),
            memory_used: None,
        }
    }
}

fn method_of(m: HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    }
}

/// Checks `input` against the declared fields and fills in defaults.
pub fn check_input(fields: &[Field], input: &Value) -> Result<Map<String, Value>, EngineError> {
    let obj = match input {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => {
            return Err(EngineError::InvalidInput {
                field: "(input)".into(),
                message: "must be a JSON object".into(),
            })
        }
    };
    if !fields.is_empty() {
        if let Some(unknown) = obj.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
            let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return Err(EngineError::InvalidInput {
                field: unknown.clone(),
                message: format!(
                    "is not an input of this action (inputs: {})",
                    known.join(", ")
                ),
            });
        }
    }
    let mut out = obj;
    for f in fields {
        match out.get(&f.name) {
            None | Some(Value::Null) => {
                if let Some(d) = &f.default {
                    out.insert(f.name.clone(), d.clone());
                } else if f.required {
                    return Err(EngineError::InvalidInput {
                        field: f.name.clone(),
                        message: "is required".into(),
                    });
                }
            }
            Some(v) => {
                if !mapping::matches_type(f.ty, v) {
                    return Err(EngineError::InvalidInput {
                        field: f.name.clone(),
                        message: format!("must be {}", f.ty.as_str()),
                    });
                }
                if let Some(allowed) = &f.allowed {
                    if !allowed.contains(v) {
                        return Err(EngineError::InvalidInput {
                            field: f.name.clone(),
                            message: format!("must be one of {}", Value::Array(allowed.clone())),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The actions a capability can run here: (id, inputs, outputs).
pub fn runnable_actions(cap: &Capability) -> Vec<String> {
    if cap.integration.is_some() {
        cap.actions.iter().map(|a| a.id.clone()).collect()
    } else {
        cap.endpoints.iter().map(|e| e.id.clone()).collect()
    }
}

/// A request ready to send, with what its response must become.
struct Plan {
    request: Prepared,
    outputs: Vec<Field>,
    mapping: Map<String, Value>,
}

/// Builds the request for `action`, returning it with the declared outputs and mapping.
fn prepare(ctx: &RunContext, action: &str, input: &Value) -> Result<Plan, EngineError> {
    let cap = &ctx.document.capability;
    let unknown = || EngineError::UnknownAction {
        action: action.to_string(),
        available: runnable_actions(cap).join(", "),
    };
    if let Some(int) = &cap.integration {
        let a = cap
            .actions
            .iter()
            .find(|a| a.id == action)
            .ok_or_else(unknown)?;
        let inputs = check_input(&a.inputs.to_list(), input)?;
        let scope = Scope {
            capability: &cap.id,
            input: &inputs,
            config: &ctx.config,
            secrets: &ctx.secrets,
            named: None,
        };
        return Ok(Plan {
            request: prepare_integration(&scope, int)?,
            outputs: a.outputs.to_list(),
            mapping: int.response_mapping.clone(),
        });
    }
    let api = cap.api.as_ref().ok_or_else(|| EngineError::NotRunnable {
        kind: cap
            .inferred_kind()
            .map(|k| k.as_str())
            .unwrap_or("this")
            .to_string(),
    })?;
    let e = cap
        .endpoints
        .iter()
        .find(|e| e.id == action)
        .ok_or_else(unknown)?;
    let inputs = check_input(&e.inputs.to_list(), input)?;
    let scope = Scope {
        capability: &cap.id,
        input: &inputs,
        config: &ctx.config,
        secrets: &ctx.secrets,
        named: None,
    };
    let joined = format!("{}{}", api.base_url.trim_end_matches('/'), e.path);
    let mut url = render_url(&scope, &joined)?;
    append_query(&scope, &mut url, &e.query, &inputs)?;
    let method = method_of(e.method);
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    for (k, v) in api.headers.iter().chain(e.headers.iter()) {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
        headers.push((
            k.clone(),
            scope.render_header(k, v.as_str().unwrap_or_default())?,
        ));
    }
    if let Some(auth) = &api.auth {
        let secret = |key: &str| -> Result<String, EngineError> {
            ctx.secrets
                .get(key)
                .map(|s| s.expose().clone())
                .ok_or_else(|| EngineError::MissingConfig {
                    capability: cap.id.clone(),
                    key: key.to_string(),
                })
        };
        match auth.ty {
            AuthType::None => {}
            AuthType::Bearer => {
                let v = secret(auth.key.as_deref().unwrap_or("API_KEY"))?;
                headers.push(("Authorization".into(), format!("Bearer {v}")));
            }
            AuthType::ApiKey => {
                let v = secret(auth.key.as_deref().unwrap_or("API_KEY"))?;
                let name = auth.name.clone().unwrap_or_else(|| "X-Api-Key".into());
                match auth.location.unwrap_or(KeyLocation::Header) {
                    KeyLocation::Header => headers.push((name, v)),
                    KeyLocation::Query => {
                        url.query_pairs_mut().append_pair(&name, &v);
                    }
                }
            }
            AuthType::Basic => {
                let u = secret(auth.username_key.as_deref().unwrap_or("USERNAME"))?;
                let p = secret(auth.password_key.as_deref().unwrap_or("PASSWORD"))?;
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                headers.push(("Authorization".into(), format!("Basic {token}")));
            }
            AuthType::Oauth2 => {
                let token = ctx.secrets.get(OAUTH2_TOKEN_KEY).ok_or_else(|| {
                    EngineError::OAuthNotConnected {
                        capability: cap.id.clone(),
                    }
                })?;
                headers.push(("Authorization".into(), format!("Bearer {}", token.expose())));
            }
        }
    }
    let body = body_of(&scope, &method, e.body.as_ref(), &mut headers)?;
    Ok(Plan {
        request: Prepared {
            method,
            url,
            headers,
            body,
        },
        outputs: e.outputs.to_list(),
        mapping: e.response_mapping.clone(),
    })
}

/// The request of a declarative integration (or a flow's API Call node), rendered in `scope`.
pub fn prepare_integration(scope: &Scope, int: &Integration) -> Result<Prepared, EngineError> {
    let mut url = render_url(scope, &int.endpoint)?;
    append_query(scope, &mut url, &int.params, scope.input)?;
    let method = method_of(int.method());
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    for (k, v) in &int.headers {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
        headers.push((
            k.clone(),
            scope.render_header(k, v.as_str().unwrap_or_default())?,
        ));
    }
    let body = body_of(scope, &method, int.body.as_ref(), &mut headers)?;
    Ok(Prepared {
        method,
        url,
        headers,
        body,
    })
}

/// Sends one prepared request in `session` and returns its JSON body (or its text), redacted;
/// a status outside 2xx is an error.
pub async fn send_for_value(
    session: &mut Session,
    request: Prepared,
) -> Result<Value, EngineError> {
    let ex = session
        .send(request)
        .await
        .map_err(|e| redact_error(e, session))?;
    check_status(session, &ex)?;
    let mut out = mapping::map_response(&ex.body, &Map::new(), &[])?;
    redact_value(&mut out, session);
    Ok(out)
}

/// A status outside 2xx is an error carrying a (redacted) excerpt of the body.
fn check_status(session: &Session, ex: &http::Exchange) -> Result<(), EngineError> {
    if (200..300).contains(&ex.status) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&ex.body);
    Err(EngineError::HttpStatus {
        status: ex.status,
        excerpt: session.redact(&text).chars().take(200).collect(),
    })
}

/// The network policy of a run: the settings' limits with the capability's domains and methods.
pub fn policy_for(
    base: &NetPolicy,
    permissions: &[String],
    allowed_domains: &[String],
) -> NetPolicy {
    let mut policy = base.clone();
    policy.domains = allowed_domains
        .iter()
        .map(|d| d.to_ascii_lowercase())
        .collect();
    policy.may_get = permissions.iter().any(|p| p == "network.http.get");
    policy.may_post = permissions.iter().any(|p| p == "network.http.post");
    policy
}

/// The keyring key under which an OAuth2 access token is kept.
pub const OAUTH2_TOKEN_KEY: &str = "OAUTH2_ACCESS_TOKEN";

fn append_query(
    scope: &Scope,
    url: &mut url::Url,
    params: &Map<String, Value>,
    inputs: &Map<String, Value>,
) -> Result<(), EngineError> {
    for (k, v) in params {
        let rendered = match v {
            Value::String(s) => {
                // An optional input left out leaves its parameter out rather than sending it empty.
                let refs = crate::manifest::template::refs(s).unwrap_or_default();
                let all_absent = !refs.is_empty()
                    && refs.iter().all(|r| {
                        let name = if r.root() == "input" {
                            r.second().unwrap_or_default()
                        } else {
                            r.root()
                        };
                        r.root() == "input" && inputs.get(name).is_none_or(Value::is_null)
                    });
                if all_absent && refs.len() == 1 && s.trim() == format!("${{{}}}", refs[0].expr) {
                    continue;
                }
                scope.render(s, Place::Raw)?
            }
            other => other.to_string(),
        };
        url.query_pairs_mut().append_pair(k, &rendered);
    }
    Ok(())
}

fn body_of(
    scope: &Scope,
    method: &Method,
    body: Option<&Value>,
    headers: &mut Vec<(String, String)>,
) -> Result<Option<Vec<u8>>, EngineError> {
    if *method == Method::GET || *method == Method::HEAD {
        return Ok(None);
    }
    let Some(b) = body else { return Ok(None) };
    let rendered = scope.render_json(b)?;
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Ok(Some(serde_json::to_vec(&rendered).unwrap_or_default()))
}

pub fn redact_value(v: &mut Value, session: &Session) {
    match v {
        Value::String(s) => {
            let r = session.redact(s);
            if r != *s {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| redact_value(x, session)),
        Value::Object(m) => m.values_mut().for_each(|x| redact_value(x, session)),
        _ => {}
    }
}

/// Runs `action` with `input`.
pub async fn run(ctx: RunContext<'_>, action: &str, input: &Value) -> RunResult {
    let policy = policy_for(&ctx.policy, ctx.permissions, ctx.allowed_domains);
    let secret_values: Vec<String> = ctx.secrets.values().map(|s| s.expose().clone()).collect();
    let mut session = Session::new(policy, secret_values);
    let output = async {
        let Plan {
            request,
            outputs,
            mapping,
        } = prepare(&ctx, action, input)?;
        let ex = session.send(request).await?;
        check_status(&session, &ex)?;
        let mut out = mapping::map_response(&ex.body, &mapping, &outputs)?;
        redact_value(&mut out, &session);
        Ok(out)
    }
    .await;
    let output = output.map_err(|e| redact_error(e, &session));
    RunResult {
        output,
        trace: session.trace,
        console: Vec::new(),
        memory_used: None,
        usage: Usage::default(),
    }
}

pub fn redact_error(e: EngineError, session: &Session) -> EngineError {
    match e {
        EngineError::Network { message } => EngineError::Network {
            message: session.redact(&message),
        },
        EngineError::HttpStatus { status, excerpt } => EngineError::HttpStatus {
            status,
            excerpt: session.redact(&excerpt),
        },
        EngineError::InvalidInput { field, message } => EngineError::InvalidInput {
            field,
            message: session.redact(&message),
        },
        other => other,
    }
}
