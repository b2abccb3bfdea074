//! API connectors: several endpoints under one base URL, their authentication (API key,
//! bearer, basic, OAuth2) and triggers.

use super::*;

pub(super) fn connector(cx: &mut Ctx) {
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

pub(super) fn auth_check(cx: &mut Ctx, p: DocPath, auth: &Auth) {
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
