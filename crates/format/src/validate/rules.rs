//! Semantic checks over a typed manifest: the rules a schema cannot express (unique ids,
//! semver, permissions that cover what the integration does, templates that name real inputs,
//! workflow expressions that name earlier outputs…). Each check adds findings with a path;
//! none stops the others.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use crate::diagnostics::{Finding, Severity};
use crate::manifest::model::*;
use crate::manifest::permissions;
use crate::manifest::template::{self, Style};
use crate::path::DocPath;

mod connector;
mod examples;
mod workflow;

use connector::*;
use examples::*;
use workflow::*;

/// What validation derives about a capability besides findings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    pub kind: Option<Kind>,
    /// Permissions the integration needs, whether declared or not.
    pub inferred_permissions: Vec<String>,
    /// Hosts the capability may reach: from its endpoints plus `allowed_domains`.
    pub allowed_domains: Vec<String>,
    /// Configuration keys of type secret.
    pub secrets: Vec<String>,
}

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_config_key(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

struct Ctx<'a> {
    cap: &'a Capability,
    base: DocPath,
    out: Vec<Finding>,
    config_keys: HashSet<&'a str>,
    inferred: BTreeSet<String>,
    domains: BTreeSet<String>,
    /// Why each inferred permission is needed, for the message.
    reasons: HashMap<String, String>,
}

impl Ctx<'_> {
    fn err(&mut self, code: &'static str, path: DocPath, msg: impl Into<String>) -> &mut Finding {
        self.out.push(Finding::error(code, msg).at(path));
        self.out.last_mut().expect("just pushed")
    }
    fn warn(&mut self, code: &'static str, path: DocPath, msg: impl Into<String>) -> &mut Finding {
        self.out.push(Finding::warning(code, msg).at(path));
        self.out.last_mut().expect("just pushed")
    }
    fn need(&mut self, perm: &str, reason: String) {
        self.inferred.insert(perm.to_string());
        self.reasons.entry(perm.to_string()).or_insert(reason);
    }
}

/// Runs every semantic check. `js_actions` are the functions a code module exports, when known.
pub fn check(doc: &Document, js_actions: Option<&[String]>) -> (Analysis, Vec<Finding>) {
    let cap = &doc.capability;
    let base = DocPath::root().key("capability");
    let mut cx = Ctx {
        cap,
        base: base.clone(),
        out: Vec::new(),
        config_keys: cap.configuration.iter().map(|c| c.key.as_str()).collect(),
        inferred: BTreeSet::new(),
        domains: BTreeSet::new(),
        reasons: HashMap::new(),
    };

    if let Some(v) = doc.format_version {
        if v != FORMAT_VERSION {
            cx.out.push(
                Finding::error(
                    "unsupported-format-version",
                    format!("format_version {v} is not supported; this Capsmith reads version {FORMAT_VERSION}"),
                )
                .at(DocPath::root().key("format_version"))
                .hint("update Capsmith, or write the manifest in format version 1"),
            );
        }
    }
    metadata(&mut cx);
    let kind = kind(&mut cx);
    actions(&mut cx, kind);
    configuration(&mut cx);
    match kind {
        Some(Kind::Declarative) => declarative(&mut cx),
        Some(Kind::ApiConnector) => connector(&mut cx),
        Some(Kind::Workflow) => workflow(&mut cx),
        Some(Kind::Code) => code(&mut cx, js_actions),
        Some(Kind::Flow) => flows(&mut cx),
        None => {}
    }
    if matches!(kind, Some(Kind::Declarative | Kind::Workflow)) && !cx.cap.flows.is_empty() {
        flows(&mut cx);
    }
    examples(&mut cx, kind);
    schemas(&mut cx);
    dependencies(&mut cx);
    allowed_domains(&mut cx);
    permissions_check(&mut cx, kind);

    let secrets: Vec<String> = cap
        .configuration
        .iter()
        .filter(|c| c.ty == ConfigType::Secret)
        .map(|c| c.key.clone())
        .collect();
    for (i, c) in cap.configuration.iter().enumerate() {
        if c.ty == ConfigType::Secret {
            let label = c
                .label
                .as_deref()
                .map(|l| format!(": {l}"))
                .unwrap_or_default();
            let req = if c.required { "requires" } else { "can use" };
            cx.warn(
                "requires-secret",
                base.key("configuration").index(i).key("key"),
                format!("{req} {} (secret){label}", c.key),
            )
            .hint = Some(
                "you will be asked for it once; it is kept in the OS keyring, never in the library"
                    .into(),
            );
        }
    }
    if !cx.domains.is_empty() {
        let list: Vec<_> = cx.domains.iter().cloned().collect();
        cx.warn(
            "allowed-domains",
            base.clone(),
            format!("network access is limited to: {}", list.join(", ")),
        );
    }
    let analysis = Analysis {
        kind,
        inferred_permissions: cx.inferred.iter().cloned().collect(),
        allowed_domains: cx.domains.iter().cloned().collect(),
        secrets,
    };
    (analysis, cx.out)
}

fn metadata(cx: &mut Ctx) {
    let cap = cx.cap;
    let b = cx.base.clone();
    if !is_slug(&cap.id) {
        let suggestion: String = cap
            .id
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let f = cx.err(
            "bad-id",
            b.key("id"),
            format!(
                "id `{}` is not a valid slug: use lowercase letters, digits and single `-` (at most 64 characters; no `/`, `..` or spaces)",
                cap.id
            ),
        );
        if is_slug(&suggestion) {
            f.hint = Some(format!("try `{suggestion}`"));
        }
    }
    if cap.name.trim().is_empty() {
        cx.err("empty-name", b.key("name"), "name is empty");
    }
    match &cap.version {
        None => {
            cx.warn(
                "missing-version",
                b.clone(),
                "no `version`: the capability is stored as 0.0.0",
            )
            .hint = Some("add `version: \"1.0.0\"`".into());
        }
        Some(v) => {
            if let Err(e) = semver::Version::parse(v) {
                cx.err(
                    "invalid-version",
                    b.key("version"),
                    format!("version `{v}` is not semantic versioning: {e}"),
                )
                .hint = Some("write MAJOR.MINOR.PATCH, e.g. `1.0.0`".into());
            }
        }
    }
    if cap.tags.len() > 20 {
        cx.warn(
            "too-many-tags",
            b.key("tags"),
            "more than 20 tags; only the first 20 are searchable",
        );
    }
    for (field, url) in [("homepage", &cap.homepage)] {
        if let Some(u) = url {
            check_plain_url(cx, b.key(field), u);
        }
    }
}

fn kind(cx: &mut Ctx) -> Option<Kind> {
    let cap = cx.cap;
    let b = cx.base.clone();
    let present: Vec<(Kind, &str)> = [
        (cap.integration.is_some(), Kind::Declarative, "integration"),
        (
            cap.api.is_some() || !cap.endpoints.is_empty(),
            Kind::ApiConnector,
            "api/endpoints",
        ),
        (cap.workflow.is_some(), Kind::Workflow, "workflow"),
        (cap.code.is_some(), Kind::Code, "code"),
        (!cap.flows.is_empty(), Kind::Flow, "flows"),
    ]
    .into_iter()
    .filter(|(p, _, _)| *p)
    // A compiled declarative or workflow manifest keeps the flows it came from, for editing.
    .filter(|(_, k, _)| {
        !(*k == Kind::Flow && (cap.integration.is_some() || cap.workflow.is_some()))
    })
    .map(|(_, k, n)| (k, n))
    .collect();
    match (cap.kind, present.as_slice()) {
        (None, []) => {
            cx.err(
                "missing-integration",
                b,
                "nothing says how this capability works: add `integration` (declarative), `api` + `endpoints` (API connector), `workflow`, `code` or `flows`",
            );
            None
        }
        (None, [(k, _)]) => Some(*k),
        (Some(Kind::Code), []) => Some(Kind::Code), // a bare .js module carries its own code
        (Some(declared), _) => {
            for (k, name) in &present {
                if *k != declared {
                    cx.err(
                        "kind-mismatch",
                        b.key(name.split('/').next().unwrap_or(name)),
                        format!(
                            "`{name}` belongs to a {} capability, but this one is `{}`",
                            k.as_str(),
                            declared.as_str()
                        ),
                    );
                }
            }
            if !present.iter().any(|(k, _)| *k == declared) {
                let need = match declared {
                    Kind::Declarative => "integration",
                    Kind::ApiConnector => "api and endpoints",
                    Kind::Workflow => "workflow",
                    Kind::Code => "code",
                    Kind::Flow => "flows",
                };
                cx.err(
                    "missing-integration",
                    b.key("type"),
                    format!("a {} capability needs `{need}`", declared.as_str()),
                );
            }
            Some(declared)
        }
        (None, many) => {
            let names: Vec<_> = many.iter().map(|(_, n)| format!("`{n}`")).collect();
            cx.err(
                "kind-mismatch",
                b,
                format!(
                    "{} describe different kinds of capability; keep one, or set `type`",
                    names.join(" and ")
                ),
            );
            None
        }
    }
}

fn fields(cx: &mut Ctx, path: DocPath, fields: &Fields) {
    let mut seen = HashSet::new();
    for (i, f) in fields.to_list().iter().enumerate() {
        let p = match fields {
            Fields::List(_) => path.index(i).key("name"),
            Fields::Map(_) => path.key(&f.name),
        };
        if !is_ident(&f.name) {
            cx.err(
                "bad-field-name",
                p.clone(),
                format!(
                    "field name `{}` must be letters, digits, `-` or `_`",
                    f.name
                ),
            );
        }
        if !seen.insert(f.name.clone()) {
            cx.err(
                "duplicate-field",
                p,
                format!("field `{}` is declared twice", f.name),
            );
        }
    }
}

fn actions(cx: &mut Ctx, kind: Option<Kind>) {
    let cap = cx.cap;
    let b = cx.base.key("actions");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, a) in cap.actions.iter().enumerate() {
        if !is_ident(&a.id) {
            cx.err(
                "bad-action-id",
                b.index(i).key("id"),
                format!("action id `{}` must be letters, digits, `-` or `_`", a.id),
            );
        }
        if let Some(first) = seen.insert(a.id.as_str(), i) {
            cx.err(
                "duplicate-action-id",
                b.index(i).key("id"),
                format!(
                    "action id `{}` is already used by capability.actions[{first}]",
                    a.id
                ),
            );
        }
        fields(cx, b.index(i).key("inputs"), &a.inputs);
        fields(cx, b.index(i).key("outputs"), &a.outputs);
    }
    let needs_actions = matches!(kind, Some(Kind::Declarative | Kind::Workflow | Kind::Flow));
    let workflow_level = kind == Some(Kind::Flow)
        && cap
            .flows
            .iter()
            .all(|f| f.action == crate::flow::WORKFLOW_ACTION);
    if needs_actions && cap.actions.is_empty() && kind != Some(Kind::Workflow) && !workflow_level {
        cx.err(
            "no-actions",
            cx.base.clone(),
            "the capability declares no actions",
        )
        .hint = Some("add `actions:` with at least one action (id, inputs, outputs)".into());
    }
    if kind == Some(Kind::Declarative) && cap.actions.len() > 1 {
        cx.err(
            "declarative-single-action",
            b.index(1),
            "a declarative capability has one `integration`, so one action; use an API connector (`endpoints`) for several",
        );
    }
    if kind == Some(Kind::ApiConnector) && !cap.actions.is_empty() {
        cx.warn(
            "actions-ignored",
            b,
            "an API connector's actions are its `endpoints`; `actions` is ignored",
        );
    }
}

fn configuration(cx: &mut Ctx) {
    let cap = cx.cap;
    let b = cx.base.key("configuration");
    let mut seen = HashSet::new();
    for (i, c) in cap.configuration.iter().enumerate() {
        let p = b.index(i);
        if !is_config_key(&c.key) {
            cx.err(
                "bad-config-key",
                p.key("key"),
                format!(
                    "configuration key `{}` must be letters, digits and `_` (e.g. API_KEY)",
                    c.key
                ),
            );
        }
        if !seen.insert(c.key.as_str()) {
            cx.err(
                "duplicate-config-key",
                p.key("key"),
                format!("configuration key `{}` is declared twice", c.key),
            );
        }
        if c.ty == ConfigType::Secret && c.default.is_some() {
            cx.err(
                "secret-default",
                p.key("default"),
                format!(
                    "secret `{}` cannot have a default: it would be shipped in the manifest",
                    c.key
                ),
            );
        }
        if let Some(u) = &c.help_url {
            check_plain_url(cx, p.key("help_url"), u);
        }
    }
}

fn check_plain_url(cx: &mut Ctx, path: DocPath, u: &str) {
    match url::Url::parse(u) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
        Ok(parsed) => {
            cx.err(
                "bad-scheme",
                path,
                format!("URL scheme `{}` is not allowed; use https", parsed.scheme()),
            );
        }
        Err(e) => {
            cx.err("bad-url", path, format!("`{u}` is not a valid URL: {e}"));
        }
    }
}

/// Checks an endpoint URL: http(s) only, and no input can choose the scheme, host or port.
fn check_endpoint_url(cx: &mut Ctx, path: DocPath, u: &str) -> Option<String> {
    let refs = match template::refs(u) {
        Ok(r) => r,
        Err(at) => {
            cx.err(
                "unterminated-template",
                path,
                format!("template at character {at} is never closed"),
            );
            return None;
        }
    };
    // A configuration value may supply the whole base (`${BASE_URL}/v1`): the user sets it.
    // What follows it must start the path: `${BASE_URL}{{sub}}` would let an input extend the
    // host.
    if u.starts_with("${") {
        if let Some(r) = refs.first() {
            if r.style == Style::Dollar && cx.config_keys.contains(r.root()) {
                let after = u.find('}').map(|i| &u[i + 1..]).unwrap_or("");
                if !(after.is_empty() || after.starts_with('/') || after.starts_with('?')) {
                    cx.err("templated-host", path, format!("`{u}`: what follows `${{{}}}` must start with `/`, or an input could extend the host", r.expr));
                }
                return None;
            }
        }
    }
    let (scheme, rest) = match u.split_once("://") {
        Some(parts) => parts,
        None => {
            cx.err(
                "bad-url",
                path,
                format!("`{u}` is not an absolute URL (it needs https://)"),
            );
            return None;
        }
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        cx.err(
            "bad-scheme",
            path,
            format!("URL scheme `{scheme}` is not allowed; only http and https"),
        )
        .hint = Some("capabilities reach the network over HTTP(S) only".into());
        return None;
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains("${") || authority.contains("{{") {
        // `{{x}}` is always an input; `${X}` is configuration only when X is a declared key.
        let from_input = refs.iter().any(|r| {
            r.offset < scheme.len() + 3 + authority_end
                && (r.style == Style::Mustache
                    || r.root() == "input"
                    || !cx.config_keys.contains(r.root()))
        });
        if from_input {
            cx.err(
                "templated-host",
                path,
                format!("the host of `{u}` comes from a template: an input must never choose where a request goes"),
            )
            .hint = Some("put the host in the URL literally; pass inputs in the path or query".into());
            return None;
        }
        return None;
    }
    // Replace templates with a placeholder to parse the rest.
    let mut plain = u.to_string();
    for r in refs.iter().rev() {
        let end = u[r.offset..]
            .find('}')
            .map(|e| r.offset + e + 1)
            .unwrap_or(u.len());
        let end = if r.style == Style::Mustache {
            end + 1
        } else {
            end
        }
        .min(u.len());
        plain.replace_range(r.offset..end, "x");
    }
    match url::Url::parse(&plain) {
        Ok(parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                cx.err(
                    "credentials-in-url",
                    path,
                    "credentials in a URL leak into logs; use `configuration` with a secret",
                );
                return None;
            }
            // The scope entry: the host, with the port when it is not the scheme's default.
            parsed
                .host_str()
                .map(|h| crate::manifest::permissions::scope_entry(h, parsed.port()))
        }
        Err(e) => {
            cx.err("bad-url", path, format!("`{u}` is not a valid URL: {e}"));
            None
        }
    }
}

/// Scope for templates in HTTP integrations: which inputs exist.
fn check_http_templates(
    cx: &mut Ctx,
    path: DocPath,
    value: &Value,
    inputs: &[String],
    mustache_ok: bool,
) {
    match value {
        Value::String(s) => match template::refs(s) {
            Err(at) => {
                cx.err(
                    "unterminated-template",
                    path,
                    format!("template at character {at} is never closed"),
                );
            }
            Ok(refs) => {
                for r in refs {
                    check_http_ref(cx, path.clone(), &r, inputs, mustache_ok);
                }
            }
        },
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_http_templates(cx, path.index(i), v, inputs, mustache_ok);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                check_http_templates(cx, path.key(k), v, inputs, mustache_ok);
            }
        }
        _ => {}
    }
}

fn check_http_ref(
    cx: &mut Ctx,
    path: DocPath,
    r: &template::TemplateRef,
    inputs: &[String],
    mustache_ok: bool,
) {
    let known = || {
        if inputs.is_empty() {
            "none".to_string()
        } else {
            inputs.join(", ")
        }
    };
    match r.style {
        Style::Mustache => {
            if !mustache_ok {
                cx.warn(
                    "mustache-template",
                    path.clone(),
                    format!(
                        "`{{{{{}}}}}` is connector syntax; here write `${{input.{}}}`",
                        r.expr, r.expr
                    ),
                );
            }
            if !inputs.iter().any(|i| i == r.root()) {
                let msg = format!(
                    "`{{{{{}}}}}` names no declared input (declared: {})",
                    r.expr,
                    known()
                );
                cx.err("unknown-input", path, msg);
            }
        }
        Style::Dollar if r.root() == "input" => match r.second() {
            Some(name) if inputs.iter().any(|i| i == name) => {}
            Some(name) => {
                let msg = format!(
                    "`${{{}}}` names no declared input `{name}` (declared: {})",
                    r.expr,
                    known()
                );
                let f = cx.err("unknown-input", path, msg);
                if let Some(s) = closest(name, inputs.iter().map(String::as_str)) {
                    f.hint = Some(format!("did you mean `input.{s}`?"));
                }
            }
            None => {
                cx.err(
                    "unknown-input",
                    path,
                    "`${input}` must name an input: `${input.name}`",
                );
            }
        },
        Style::Dollar => {
            let root = r.root();
            if !cx.config_keys.contains(root) {
                let keys: Vec<&str> = cx.config_keys.iter().copied().collect();
                let f = cx.err(
                    "unknown-config-key",
                    path,
                    format!(
                        "`${{{}}}` names no configuration key (declared: {})",
                        r.expr,
                        if keys.is_empty() {
                            "none".into()
                        } else {
                            keys.join(", ")
                        }
                    ),
                );
                f.hint = Some(match closest(root, keys.iter().copied()) {
                    Some(s) => format!("did you mean `${{{s}}}`?"),
                    None => format!("declare it under `configuration:` (- key: {root}), or use `${{input.{root}}}` for an input"),
                });
            }
        }
    }
}

fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (c, strsim::jaro_winkler(name, c)))
        .filter(|(_, s)| *s >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

fn check_headers(cx: &mut Ctx, path: DocPath, headers: &serde_json::Map<String, Value>) {
    for (name, v) in headers {
        let p = path.key(name);
        if !is_header_name(name) {
            cx.err(
                "bad-header-name",
                p.clone(),
                format!("`{name}` is not a valid HTTP header name"),
            );
        }
        match v {
            Value::String(s) if s.contains(['\r', '\n']) => {
                cx.err("header-crlf", p, format!("header `{name}` contains a line break (CR/LF): it could inject extra headers"));
            }
            Value::String(_) => {}
            _ => {
                cx.err(
                    "header-not-string",
                    p,
                    format!("header `{name}` must be a string"),
                );
            }
        }
    }
}

fn check_scalar_params(cx: &mut Ctx, path: DocPath, params: &serde_json::Map<String, Value>) {
    for (k, v) in params {
        if matches!(v, Value::Array(_) | Value::Object(_) | Value::Null) {
            cx.err(
                "param-not-scalar",
                path.key(k),
                format!("query parameter `{k}` must be a string, number or boolean"),
            );
        }
    }
}

fn check_mapping(
    cx: &mut Ctx,
    path: DocPath,
    mapping: &serde_json::Map<String, Value>,
    outputs: &Fields,
) {
    let declared = outputs.names();
    for (k, v) in mapping {
        match v {
            Value::String(s) if !s.trim().is_empty() => {}
            _ => {
                cx.err("bad-mapping", path.key(k), format!("response_mapping `{k}` must be a path in the response, e.g. `data.items[0].name`"));
            }
        }
        if !declared.is_empty() && !declared.contains(k) {
            cx.err(
                "unknown-output",
                path.key(k),
                format!(
                    "response_mapping `{k}` is not a declared output (declared: {})",
                    declared.join(", ")
                ),
            );
        }
    }
}

fn declarative(cx: &mut Ctx) {
    let cap = cx.cap;
    let Some(int) = &cap.integration else { return };
    let p = cx.base.key("integration");
    let action = cap.actions.first();
    let inputs = action.map(|a| a.inputs.names()).unwrap_or_default();
    if let Some(host) = check_endpoint_url(cx, p.key("endpoint"), &int.endpoint) {
        cx.domains.insert(host);
    }
    let m = int.method();
    let perm = if m.is_read() {
        "network.http.get"
    } else {
        "network.http.post"
    };
    cx.need(perm, format!("{} {}", m.as_str(), int.endpoint));
    check_headers(cx, p.key("headers"), &int.headers);
    check_scalar_params(cx, p.key("params"), &int.params);
    check_http_templates(
        cx,
        p.key("endpoint"),
        &Value::String(int.endpoint.clone()),
        &inputs,
        false,
    );
    check_http_templates(
        cx,
        p.key("headers"),
        &Value::Object(int.headers.clone()),
        &inputs,
        false,
    );
    check_http_templates(
        cx,
        p.key("params"),
        &Value::Object(int.params.clone()),
        &inputs,
        false,
    );
    if let Some(body) = &int.body {
        if m.is_read() {
            cx.warn(
                "body-on-get",
                p.key("body"),
                format!("a {} request has no body; it will not be sent", m.as_str()),
            );
        }
        check_http_templates(cx, p.key("body"), body, &inputs, false);
    }
    if let Some(a) = action {
        check_mapping(
            cx,
            p.key("response_mapping"),
            &int.response_mapping,
            &a.outputs,
        );
        if int.response_mapping.is_empty() && !a.outputs.is_empty() {
            cx.warn("no-response-mapping", p.clone(), "outputs are declared but there is no `response_mapping`: the whole response body becomes the result");
        }
    }
}

fn code(cx: &mut Ctx, js_actions: Option<&[String]>) {
    let cap = cx.cap;
    let p = cx.base.key("code");
    // Host APIs the code uses but no permission grants: it would fail at run time.
    if let Some(src) = cap.code.as_ref().and_then(|c| c.source.as_deref()) {
        let declared = cap.permissions.clone().unwrap_or_default();
        let has = |p: &str| declared.iter().any(|d| d == p);
        let uses = [
            (
                "fetch(",
                "fetch",
                has("network.http.get") || has("network.http.post"),
                "network.http.get or network.http.post",
            ),
            (
                "db.query(",
                "db",
                has("data.read") || has("data.write"),
                "data.read or data.write",
            ),
            ("ai.call(", "ai", has("ai.call"), "ai.call"),
        ];
        for (needle, api, granted, perm) in uses {
            if src.contains(needle) && !granted {
                cx.warn(
                    "api-not-permitted",
                    p.key("source"),
                    format!("the code calls `{api}`, which no declared permission grants ({perm}); the call will fail"),
                )
                .hint = Some(format!("add {perm} to `permissions`"));
            }
        }
    }
    if let Some(c) = &cap.code {
        if c.source.is_none() && c.module.is_none() {
            cx.err("missing-code", p.clone(), "`code` needs `source` (inline JavaScript) or `module` (a .js file beside the manifest)");
        }
        if c.source.is_some() && c.module.is_some() {
            cx.err(
                "ambiguous-code",
                p.clone(),
                "`code` has both `source` and `module`; keep one",
            );
        }
    }
    if let Some(fns) = js_actions {
        if fns.is_empty() {
            cx.err(
                "no-actions",
                p.clone(),
                "the module's `actions` object has no functions",
            );
        }
        for (i, a) in cap.actions.iter().enumerate() {
            if !fns.iter().any(|f| f == &a.id) {
                cx.err(
                    "missing-action-function",
                    cx.base.key("actions").index(i).key("id"),
                    format!(
                        "action `{}` has no function in the module's `actions` (found: {})",
                        a.id,
                        fns.join(", ")
                    ),
                );
            }
        }
    }
    let declared = cap.permissions.clone().unwrap_or_default();
    if !declared.iter().any(|d| d.starts_with("compute.")) {
        cx.need("compute.light", "running code (up to 1 s per call)".into());
    }
}

fn flows(cx: &mut Ctx) {
    let cap = cx.cap;
    let actions: HashSet<&str> = cap.actions.iter().map(|a| a.id.as_str()).collect();
    for (fi, flow) in cap.flows.iter().enumerate() {
        let p = cx.base.key("flows").index(fi);
        if !actions.contains(flow.action.as_str()) && flow.action != crate::flow::WORKFLOW_ACTION {
            cx.err(
                "unknown-action",
                p.key("action"),
                format!(
                    "flow implements action `{}`, which is not declared under `actions`",
                    flow.action
                ),
            );
        }
        let mut ids = HashSet::new();
        for (ni, n) in flow.nodes.iter().enumerate() {
            if !ids.insert(n.id.as_str()) {
                cx.err(
                    "duplicate-node-id",
                    p.key("nodes").index(ni).key("id"),
                    format!("node id `{}` is used twice", n.id),
                );
            }
        }
        let mut edge_ids = HashSet::new();
        for (ei, e) in flow.edges.iter().enumerate() {
            let ep = p.key("edges").index(ei);
            if !edge_ids.insert(e.id.as_str()) {
                cx.err(
                    "duplicate-edge-id",
                    ep.key("id"),
                    format!("edge id `{}` is used twice", e.id),
                );
            }
            for (field, node) in [("source", &e.source), ("target", &e.target)] {
                if !ids.contains(node.as_str()) {
                    cx.err(
                        "dangling-edge",
                        ep.key(field),
                        format!(
                            "edge `{}` connects to node `{node}`, which does not exist",
                            e.id
                        ),
                    );
                }
            }
        }
        // The graph as a whole: cycles, connections, ports, templates, node data.
        let fcx = crate::flow::Context {
            config_keys: cx.config_keys.iter().map(|k| k.to_string()).collect(),
        };
        for f in crate::flow::analyze(flow, &fcx).findings {
            if f.code == "dangling-edge" {
                continue; // reported above, per field
            }
            let at = match f.target.split_once(':') {
                Some(("node", id)) => flow.nodes.iter().position(|n| n.id == id).map(|j| {
                    let at = p.key("nodes").index(j);
                    match &f.key {
                        Some(k) if flow.nodes[j].data.contains_key(k) => at.key("data").key(k),
                        _ => at,
                    }
                }),
                Some(("edge", id)) => flow
                    .edges
                    .iter()
                    .position(|e| e.id == id)
                    .map(|j| p.key("edges").index(j)),
                _ => None,
            };
            let at = at.unwrap_or_else(|| p.clone());
            match f.severity {
                Severity::Error => {
                    cx.err(f.code, at, f.message);
                }
                Severity::Warning => {
                    cx.warn(f.code, at, f.message);
                }
            }
        }
    }
}

fn dependencies(cx: &mut Ctx) {
    let cap = cx.cap;
    dependency_list(cx, "dependencies", &cap.dependencies);
    dependency_list(cx, "conflicts_with", &cap.conflicts_with);
    for (i, c) in cap.conflicts_with.iter().enumerate() {
        if cap.dependencies.iter().any(|d| d.id == c.id) {
            cx.err(
                "depends-on-conflict",
                cx.base.key("conflicts_with").index(i).key("id"),
                format!("`{}` is both a dependency and a conflict", c.id),
            );
        }
    }
}

/// `dependencies` and `conflicts_with` entries: a capability id (not this one, not twice) and
/// a semver requirement.
fn dependency_list(cx: &mut Ctx, key: &str, list: &[crate::manifest::model::Dependency]) {
    let cap = cx.cap;
    let mut seen = HashSet::new();
    for (i, d) in list.iter().enumerate() {
        let p = cx.base.key(key).index(i);
        if !is_slug(&d.id) {
            cx.err(
                "bad-id",
                p.key("id"),
                format!("dependency id `{}` is not a valid capability id", d.id),
            );
        }
        if d.id == cap.id {
            cx.err(
                "self-dependency",
                p.key("id"),
                "a capability cannot depend on or conflict with itself",
            );
        }
        if !seen.insert(d.id.as_str()) {
            cx.err(
                "duplicate-dependency",
                p.key("id"),
                format!("`{}` is listed twice in `{key}`", d.id),
            );
        }
        if let Err(e) = semver::VersionReq::parse(&d.version) {
            cx.err(
                "invalid-version-req",
                p.key("version"),
                format!("`{}` is not a version requirement: {e}", d.version),
            )
            .hint = Some("e.g. `^1.2`, `>=1.0, <2`, or `*`".into());
        }
    }
}

/// `allowed_domains`: host names, each reachable on its scheme's default port; another port is
/// written with the host (`api.example.com:8443`).
fn allowed_domains(cx: &mut Ctx) {
    let cap = cx.cap;
    for (i, d) in cap.allowed_domains.iter().enumerate() {
        let p = cx.base.key("allowed_domains").index(i);
        let (host, port) = match d.rsplit_once(':') {
            Some((h, port)) => (h, Some(port.parse::<u16>().ok().filter(|n| *n > 0))),
            None => (d.as_str(), None),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && !d.contains("://")
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        match (host_ok, port) {
            (true, None) => {
                cx.domains.insert(d.to_ascii_lowercase());
            }
            (true, Some(Some(n))) => {
                cx.domains
                    .insert(crate::manifest::permissions::scope_entry(host, Some(n)));
            }
            (true, Some(None)) => {
                cx.err(
                    "bad-domain",
                    p,
                    format!("`{d}`: the port must be a number from 1 to 65535"),
                );
            }
            (false, _) => {
                cx.err(
                    "bad-domain",
                    p,
                    format!(
                        "`{d}` is not a host name (write `api.example.com`, or `api.example.com:8443` for another port than the scheme's default; no scheme or path)"
                    ),
                );
            }
        }
    }
}

fn permissions_check(cx: &mut Ctx, kind: Option<Kind>) {
    let cap = cx.cap;
    let p = cx.base.key("permissions");
    let inferred: Vec<String> = cx.inferred.iter().cloned().collect();
    match &cap.permissions {
        None => {
            if !inferred.is_empty() {
                cx.warn(
                    "no-permissions",
                    cx.base.clone(),
                    format!(
                        "no `permissions` declared; inferred from the integration: {}",
                        inferred.join(", ")
                    ),
                )
                .hint = Some(format!(
                    "declare them: permissions: [{}]",
                    inferred
                        .iter()
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            } else if kind.is_some() {
                cx.warn(
                    "no-permissions",
                    cx.base.clone(),
                    "no `permissions` declared",
                );
            }
        }
        Some(declared) => {
            let mut seen = HashSet::new();
            for (i, perm) in declared.iter().enumerate() {
                if !seen.insert(perm.as_str()) {
                    cx.warn(
                        "duplicate-permission",
                        p.index(i),
                        format!("permission `{perm}` is listed twice"),
                    );
                }
                if !permissions::is_known(perm) {
                    let f = cx.err(
                        "unknown-permission",
                        p.index(i),
                        format!("unknown permission `{perm}`"),
                    );
                    f.hint = Some(match permissions::suggest(perm) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            "see the permission list in the docs (data.read, network.http.get, …)"
                                .into()
                        }
                    });
                }
            }
            for need in &inferred {
                // A heavier compute class covers a lighter one.
                let covered = declared.contains(need)
                    || (need == "compute.light"
                        && declared.iter().any(|d| d.starts_with("compute.")));
                if !covered {
                    let why = cx.reasons.get(need).cloned().unwrap_or_default();
                    cx.err(
                        "missing-permission",
                        p.clone(),
                        format!("{why} needs `{need}`, which `permissions` does not declare"),
                    )
                    .hint = Some(format!("add \"{need}\" to `permissions`"));
                }
            }
        }
    }
}
