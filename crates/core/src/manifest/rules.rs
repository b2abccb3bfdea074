//! Semantic checks over a typed manifest: the rules a schema cannot express (unique ids,
//! semver, permissions that cover what the integration does, templates that name real inputs,
//! workflow expressions that name earlier outputs…). Each check adds findings with a path;
//! none stops the others.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use crate::diagnostics::{Finding, Severity};
use crate::manifest::model::*;
use crate::manifest::path::DocPath;
use crate::manifest::permissions;
use crate::manifest::template::{self, Style};

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
                .map(|h| crate::engine::guard::scope_entry(h, parsed.port()))
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

fn connector(cx: &mut Ctx) {
    let cap = cx.cap;
    let b = cx.base.clone();
    match &cap.api {
        None => {
            cx.err(
                "missing-api",
                b.clone(),
                "an API connector needs `api: { base_url: … }`",
            );
        }
        Some(api) => {
            if let Some(host) = check_endpoint_url(cx, b.key("api").key("base_url"), &api.base_url)
            {
                cx.domains.insert(host);
            }
            check_headers(cx, b.key("api").key("headers"), &api.headers);
            if let Some(auth) = &api.auth {
                auth_check(cx, b.key("api").key("auth"), auth);
            }
        }
    }
    if cap.endpoints.is_empty() {
        cx.err(
            "no-endpoints",
            b.clone(),
            "an API connector needs at least one endpoint",
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, e) in cap.endpoints.iter().enumerate() {
        let p = b.key("endpoints").index(i);
        if !is_ident(&e.id) {
            cx.err(
                "bad-action-id",
                p.key("id"),
                format!("endpoint id `{}` must be letters, digits, `-` or `_`", e.id),
            );
        }
        if let Some(first) = seen.insert(e.id.as_str(), i) {
            cx.err(
                "duplicate-action-id",
                p.key("id"),
                format!(
                    "endpoint id `{}` is already used by capability.endpoints[{first}]",
                    e.id
                ),
            );
        }
        fields(cx, p.key("inputs"), &e.inputs);
        fields(cx, p.key("outputs"), &e.outputs);
        if !e.path.starts_with('/') {
            cx.err(
                "bad-path",
                p.key("path"),
                format!("endpoint path `{}` must start with `/`", e.path),
            );
        }
        if e.path.contains("://") {
            cx.err(
                "templated-host",
                p.key("path"),
                "an endpoint path cannot hold a full URL; the host is `api.base_url`",
            );
        }
        let inputs = e.inputs.names();
        let perm = if e.method.is_read() {
            "network.http.get"
        } else {
            "network.http.post"
        };
        cx.need(
            perm,
            format!("endpoint `{}` ({} {})", e.id, e.method.as_str(), e.path),
        );
        check_headers(cx, p.key("headers"), &e.headers);
        check_scalar_params(cx, p.key("query"), &e.query);
        check_http_templates(
            cx,
            p.key("path"),
            &Value::String(e.path.clone()),
            &inputs,
            true,
        );
        check_http_templates(
            cx,
            p.key("headers"),
            &Value::Object(e.headers.clone()),
            &inputs,
            true,
        );
        check_http_templates(
            cx,
            p.key("query"),
            &Value::Object(e.query.clone()),
            &inputs,
            true,
        );
        if let Some(body) = &e.body {
            if e.method.is_read() {
                cx.warn(
                    "body-on-get",
                    p.key("body"),
                    format!(
                        "a {} request has no body; it will not be sent",
                        e.method.as_str()
                    ),
                );
            }
            check_http_templates(cx, p.key("body"), body, &inputs, true);
        }
        check_mapping(
            cx,
            p.key("response_mapping"),
            &e.response_mapping,
            &e.outputs,
        );
    }
    let mut seen = HashSet::new();
    for (i, t) in cap.triggers.iter().enumerate() {
        let p = b.key("triggers").index(i);
        if !seen.insert(t.id.as_str()) {
            cx.err(
                "duplicate-trigger-id",
                p.key("id"),
                format!("trigger id `{}` is declared twice", t.id),
            );
        }
        if t.ty == TriggerType::Schedule && t.cron.as_deref().is_none_or(|c| !valid_cron(c)) {
            cx.err(
                "bad-cron",
                p.key("cron"),
                "a schedule trigger needs `cron` with 5 or 6 fields (e.g. `0 9 * * 1-5`)",
            );
        }
        if t.ty == TriggerType::Webhook && t.event.is_none() {
            cx.warn(
                "webhook-without-event",
                p,
                "webhook trigger has no `event`: every delivery will fire it",
            );
        }
    }
}

fn auth_check(cx: &mut Ctx, p: DocPath, auth: &Auth) {
    let secret_keys: HashSet<&str> = cx
        .cap
        .configuration
        .iter()
        .filter(|c| c.ty == ConfigType::Secret)
        .map(|c| c.key.as_str())
        .collect();
    let need_secret = |cx: &mut Ctx, field: &str, key: &str| {
        if !secret_keys.contains(key) {
            cx.err(
                "auth-config-missing",
                p.key(field),
                format!(
                    "auth uses `{key}`, which is not declared as a secret under `configuration`"
                ),
            )
            .hint = Some(format!(
                "add `- key: {key}` with `type: secret` to `configuration`"
            ));
        }
    };
    match auth.ty {
        AuthType::None => {}
        AuthType::ApiKey | AuthType::Bearer => {
            let key = auth.key.clone().unwrap_or_else(|| "API_KEY".into());
            need_secret(cx, "key", &key);
            if auth.ty == AuthType::ApiKey && auth.name.is_none() {
                cx.err(
                    "auth-incomplete",
                    p.clone(),
                    "api_key auth needs `name`: the header or query parameter that carries the key",
                );
            }
        }
        AuthType::Basic => {
            for (field, k) in [
                ("username_key", &auth.username_key),
                ("password_key", &auth.password_key),
            ] {
                match k {
                    Some(k) => need_secret(cx, field, k),
                    None => {
                        cx.err(
                            "auth-incomplete",
                            p.clone(),
                            format!("basic auth needs `{field}`"),
                        );
                    }
                }
            }
        }
        AuthType::Oauth2 => {
            match &auth.token_url {
                Some(u) => {
                    if let Some(h) = check_endpoint_url(cx, p.key("token_url"), u) {
                        cx.domains.insert(h);
                    }
                }
                None => {
                    cx.err(
                        "auth-incomplete",
                        p.clone(),
                        "oauth2 auth needs `token_url`",
                    );
                }
            }
            match &auth.authorization_url {
                Some(u) => {
                    check_endpoint_url(cx, p.key("authorization_url"), u);
                }
                None => {
                    cx.warn(
                        "oauth2-no-authorization-url",
                        p.clone(),
                        "oauth2 auth has no `authorization_url`: users will have to paste a token obtained elsewhere",
                    );
                }
            }
        }
    }
}

/// A 5- or 6-field cron expression that the scheduler can run.
fn valid_cron(c: &str) -> bool {
    let n = c.split_whitespace().count();
    (n == 5 || n == 6)
        && croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(c)
            .is_ok()
}

/// Fields of the trigger payload, visible in workflow expressions as bare names.
fn payload_fields(trigger: &str, cap: &Capability) -> Vec<String> {
    match trigger {
        "manual" => cap.actions.iter().flat_map(|a| a.inputs.names()).collect(),
        other => crate::flow::trigger_payload(other)
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

/// Every named schema compiles as a JSON Schema (no remote `$ref` is ever fetched).
fn schemas(cx: &mut Ctx) {
    let cap = cx.cap;
    for (name, schema) in &cap.schemas {
        let path = cx.base.key("schemas").key(name);
        if !schema.is_object() && !schema.is_boolean() {
            cx.err(
                "bad-schema",
                path,
                format!("schema `{name}` must be a JSON Schema object"),
            );
        } else if let Err(e) = jsonschema::validator_for(schema) {
            cx.err(
                "bad-schema",
                path,
                format!("schema `{name}` is not a valid JSON Schema: {e}"),
            );
        }
    }
}

fn workflow(cx: &mut Ctx) {
    let cap = cx.cap;
    let Some(wf) = &cap.workflow else { return };
    let p = cx.base.key("workflow");
    let known_triggers = ["manual", "file_upload", "webhook", "schedule"];
    let trig = wf.trigger.as_str();
    if !known_triggers.contains(&trig) {
        let connector_trigger = trig
            .split_once('.')
            .is_some_and(|(c, t)| is_slug(c) && is_ident(t));
        if !connector_trigger {
            cx.err(
                "unknown-trigger",
                p.key("trigger"),
                format!(
                    "trigger `{trig}` is not one of {} nor `<capability>.<trigger>`",
                    known_triggers.join(", ")
                ),
            );
        }
    }
    if trig == "schedule" && wf.schedule.as_deref().is_none_or(|c| !valid_cron(c)) {
        cx.err(
            "bad-cron",
            p.key("schedule"),
            "a scheduled workflow needs `schedule` with a 5- or 6-field cron expression",
        );
    }
    if trig == "file_upload" {
        cx.need("file.read", "the file_upload trigger".into());
    }
    if let Some(filter) = &wf.filter {
        if let Err(mut f) = crate::manifest::js::check_expression(filter) {
            f.path = Some(p.key("filter"));
            f.pos = None;
            cx.out.push(f);
        }
    }
    if wf.steps.is_empty() {
        cx.err(
            "no-steps",
            p.key("steps"),
            "a workflow needs at least one step",
        );
    }
    let payload = payload_fields(trig, cap);
    let mut scope: Vec<String> = vec!["trigger".into(), "input".into(), "config".into()];
    scope.extend(payload);
    scope.extend(cx.config_keys.iter().map(|k| k.to_string()));
    let later: HashMap<String, (usize, String)> = wf
        .steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let mut v = vec![(s.id.clone(), (i, s.id.clone()))];
            if let Some(o) = &s.output {
                v.push((o.clone(), (i, s.id.clone())));
            }
            v
        })
        .collect();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let deps: HashSet<&str> = cap.dependencies.iter().map(|d| d.id.as_str()).collect();
    for (i, s) in wf.steps.iter().enumerate() {
        let sp = p.key("steps").index(i);
        if !is_ident(&s.id) {
            cx.err(
                "bad-step-id",
                sp.key("id"),
                format!("step id `{}` must be letters, digits, `-` or `_`", s.id),
            );
        }
        if let Some(first) = ids.insert(s.id.as_str(), i) {
            cx.err(
                "duplicate-step-id",
                sp.key("id"),
                format!("step id `{}` is already used by steps[{first}]", s.id),
            );
        }
        match s.action.split_once('.') {
            Some((c, a)) if !c.is_empty() && !a.is_empty() => {
                let perm = if s.action == "http.request" {
                    // The method decides: reading or changing something.
                    let read = matches!(
                        s.params.get("method").and_then(Value::as_str),
                        None | Some("GET" | "HEAD")
                    );
                    Some(if read {
                        "network.http.get"
                    } else {
                        "network.http.post"
                    })
                } else {
                    permissions::for_standard_action(&s.action)
                };
                if let Some(perm) = perm {
                    cx.need(perm, format!("step `{}` ({})", s.id, s.action));
                }
                if !permissions::STANDARD_ACTIONS.contains(&s.action.as_str()) && !deps.contains(c)
                {
                    cx.warn(
                        "unknown-step-action",
                        sp.key("action"),
                        format!("`{}` is not a standard action and `{c}` is not listed in `dependencies`", s.action),
                    )
                    .hint = Some(format!("add `- id: {c}` to `dependencies` so it is installed with this workflow"));
                }
            }
            _ => {
                cx.err(
                    "bad-step-action",
                    sp.key("action"),
                    format!(
                        "step action `{}` must be `<capability>.<action>` (e.g. `ai.analyze`)",
                        s.action
                    ),
                );
            }
        }
        // The error handler also sees `error`, the message of the failure it handles.
        let handler = wf
            .error_handling
            .as_ref()
            .and_then(|h| h.on_error.as_deref())
            == Some(s.id.as_str());
        if handler {
            scope.push("error".into());
        }
        let check_value = |cx: &mut Ctx, path: DocPath, v: &Value| {
            workflow_refs(cx, path, v, &scope, &later, i);
        };
        if let Some(input) = &s.input {
            check_value(cx, sp.key("input"), input);
        }
        for (k, v) in &s.params {
            // JavaScript is not a template: its `${…}` belong to template literals.
            if permissions::is_javascript_param(&s.action, k) {
                continue;
            }
            check_value(cx, sp.key(k), v);
        }
        if handler {
            scope.pop();
        }
        if let Some(w) = &s.when {
            if let Err(mut f) = crate::manifest::js::check_expression(w) {
                f.path = Some(sp.key("when"));
                f.pos = None;
                cx.out.push(f);
            }
        }
        for (ai, a) in s.after.iter().enumerate() {
            if !wf.steps[..i].iter().any(|x| &x.id == a) {
                cx.err(
                    "unknown-after",
                    sp.key("after").index(ai),
                    format!("`after` names `{a}`, which is not an earlier step of this workflow"),
                );
            }
        }
        if let Some(o) = &s.output {
            scope.push(o.clone());
        }
        scope.push(s.id.clone());
    }
    for (i, s) in wf.steps.iter().enumerate() {
        if s.action != "validate.schema" {
            continue;
        }
        let sp = p.key("steps").index(i).key("schema");
        match s.params.get("schema") {
            Some(Value::String(name)) if !name.contains("${") => {
                // Like an `on_error` handler, a schema may come from outside the manifest (the
                // user's schema library): a warning now, resolved when the workflow runs.
                if !cap.schemas.contains_key(name) {
                    let known: Vec<&str> = cap.schemas.keys().map(String::as_str).collect();
                    cx.warn(
                        "unknown-schema",
                        sp,
                        format!(
                            "no schema `{name}` in `schemas` (it has: {}); it must be in your schema library when the workflow runs",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                    .hint = Some(format!(
                        "define it under `schemas:`, or add it to the library: capsmith schema add {name} FILE"
                    ));
                }
            }
            Some(v @ Value::Object(_)) => {
                if let Err(e) = jsonschema::validator_for(v) {
                    cx.err("bad-schema", sp, format!("not a valid JSON Schema: {e}"));
                }
            }
            Some(Value::String(_)) => {}
            _ => {
                cx.err(
                    "missing-schema",
                    sp,
                    "validate.schema needs `schema`: a name from `schemas` or a JSON Schema object",
                );
            }
        }
    }
    if let Some(eh) = &wf.error_handling {
        if let Some(target) = &eh.on_error {
            let is_step = wf.steps.iter().any(|s| &s.id == target);
            let is_action = target
                .split_once('.')
                .is_some_and(|(c, a)| !c.is_empty() && !a.is_empty());
            if !is_step && !is_action {
                cx.warn(
                    "unknown-error-handler",
                    p.key("error_handling").key("on_error"),
                    format!("on_error `{target}` names no step of this workflow and no `<capability>.<action>`; it must be an installed capability when the workflow runs"),
                );
            }
        }
        if eh.retry.is_some_and(|r| r > 10) {
            cx.warn(
                "many-retries",
                p.key("error_handling").key("retry"),
                "more than 10 retries; a failing step will take a long time to give up",
            );
        }
    }
}

fn workflow_refs(
    cx: &mut Ctx,
    path: DocPath,
    v: &Value,
    scope: &[String],
    later: &HashMap<String, (usize, String)>,
    step: usize,
) {
    match v {
        Value::String(s) => match template::refs(s) {
            Err(at) => {
                cx.err(
                    "unterminated-template",
                    path,
                    format!("template at character {at} is never closed"),
                );
            }
            Ok(refs) => {
                for r in refs.iter().filter(|r| r.style == Style::Dollar) {
                    let root = r.root();
                    if scope.iter().any(|s| s == root) {
                        continue;
                    }
                    match later.get(root) {
                        Some((j, id)) if *j >= step => {
                            let when = if *j == step {
                                "this step".to_string()
                            } else {
                                format!("a later step (`{id}`)")
                            };
                            cx.err(
                                "unknown-reference",
                                path.clone(),
                                format!("`${{{}}}` is produced by {when}; a step can only use outputs of earlier steps", r.expr),
                            );
                        }
                        _ => {
                            let f = cx.err(
                                "unknown-reference",
                                path.clone(),
                                format!("`${{{}}}`: no earlier step outputs `{root}`, and it is not the trigger, an input or a configuration key", r.expr),
                            );
                            if let Some(c) = closest(root, scope.iter().map(String::as_str)) {
                                f.hint = Some(format!("did you mean `{c}`?"));
                            }
                        }
                    }
                }
            }
        },
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                workflow_refs(cx, path.index(i), x, scope, later, step);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                workflow_refs(cx, path.key(k), x, scope, later, step);
            }
        }
        _ => {}
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

fn examples(cx: &mut Ctx, kind: Option<Kind>) {
    let cap = cx.cap;
    let actions: Vec<(String, Fields, Fields)> = if kind == Some(Kind::ApiConnector) {
        cap.endpoints
            .iter()
            .map(|e| (e.id.clone(), e.inputs.clone(), e.outputs.clone()))
            .collect()
    } else {
        cap.actions
            .iter()
            .map(|a| (a.id.clone(), a.inputs.clone(), a.outputs.clone()))
            .collect()
    };
    let cases = cap
        .examples
        .iter()
        .enumerate()
        .map(|(i, e)| ("examples", i, e));
    let cases = cases.chain(cap.tests.iter().enumerate().map(|(i, e)| ("tests", i, e)));
    for (list, i, ex) in cases {
        let p = cx.base.key(list).index(i);
        if let Some(a) = &ex.assert {
            if let Err(mut f) = crate::manifest::js::check_expression(a) {
                f.path = Some(p.key("assert"));
                f.pos = None;
                cx.out.push(f);
            }
        }
        let target = match &ex.action {
            Some(a) => match actions.iter().find(|(id, _, _)| id == a) {
                Some(t) => t,
                None => {
                    cx.err(
                        "unknown-action",
                        p.key("action"),
                        format!("example names action `{a}`, which is not declared"),
                    );
                    continue;
                }
            },
            None => match actions.first() {
                Some(t) => {
                    if actions.len() > 1 {
                        cx.warn(
                            "example-without-action",
                            p.clone(),
                            format!(
                                "example has no `action`; it applies to the first one, `{}`",
                                t.0
                            ),
                        );
                    }
                    t
                }
                None => continue,
            },
        };
        let inputs = target.1.to_list();
        match &ex.input {
            Value::Object(m) => {
                if !inputs.is_empty() {
                    for k in m.keys() {
                        if !inputs.iter().any(|f| &f.name == k) {
                            cx.err(
                                "unknown-example-input",
                                p.key("input").key(k),
                                format!("example input `{k}` is not an input of `{}`", target.0),
                            );
                        }
                    }
                }
                for f in inputs.iter().filter(|f| f.required) {
                    if !m.contains_key(&f.name) {
                        cx.err(
                            "missing-example-input",
                            p.key("input"),
                            format!("example lacks the required input `{}`", f.name),
                        );
                    }
                }
            }
            _ => {
                cx.err(
                    "bad-example-input",
                    p.key("input"),
                    "example `input` must be an object of input values",
                );
            }
        }
        if let Some(Value::Object(m)) = &ex.expected_output {
            let outs = target.2.names();
            if !outs.is_empty() {
                for k in m.keys() {
                    if !outs.contains(k) {
                        cx.err(
                            "unknown-example-output",
                            p.key("expected_output").key(k),
                            format!("expected output `{k}` is not an output of `{}`", target.0),
                        );
                    }
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
                    .insert(crate::engine::guard::scope_entry(host, Some(n)));
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
