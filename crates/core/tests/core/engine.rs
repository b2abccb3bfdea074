//! The HTTP engine against a real server on loopback: templates, mapping, and every rule of
//! the network guard tried against its way around, with the server's log as the witness.

use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use capsmith_core::engine::guard::{AllowHosts, NetPolicy};
use capsmith_core::engine::http::{Prepared, Session};
use capsmith_core::engine::EngineError;
use serde_json::{json, Value};

use crate::loopback::Loopback;

struct Fixture {
    _dir: tempfile::TempDir,
    app: Capsmith,
    lb: Loopback,
    allow_loopback: bool,
}

async fn fixture(allow_loopback: bool) -> Fixture {
    let lb = Loopback::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    app.set_setting("network.timeout_ms", Some("1500"))
        .await
        .unwrap();
    app.set_setting("network.max_response_bytes", Some("1048576"))
        .await
        .unwrap();
    Fixture {
        _dir: dir,
        app,
        lb,
        allow_loopback,
    }
}

impl Fixture {
    /// Imports a declarative capability (see `declarative`) and, when the fixture allows
    /// loopback, grants it the stand-in (`settings allow-host`).
    async fn declare(&self, id: &str, endpoint: &str, extra: &str) {
        declarative(&self.app, id, endpoint, extra).await;
        if self.allow_loopback {
            crate::allow_loopback(&self.app, self.lb.port).await;
        }
    }
}

/// Imports a declarative capability calling `endpoint`.
async fn declarative(app: &Capsmith, id: &str, endpoint: &str, extra: &str) {
    let yaml = format!(
        "capability:\n  id: {id}\n  name: {id}\n  version: 1.0.0\n  actions:\n    - id: call\n      inputs:\n        - {{ name: q, type: string }}\n        - {{ name: seg, type: string }}\n        - {{ name: h, type: string }}\n        - {{ name: msg, type: string }}\n  integration:\n    type: api\n    endpoint: \"{endpoint}\"\n{extra}  permissions: [network.http.get, network.http.post]\n"
    );
    app.import_bytes(&format!("{id}.yaml"), yaml.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
}

async fn run(app: &Capsmith, id: &str, input: Value) -> capsmith_core::api::dto::RunReport {
    app.run_action(id, None, "call", &input, Origin::Cli)
        .await
        .unwrap()
}

fn kind(r: &capsmith_core::api::dto::RunReport) -> String {
    r.error
        .as_ref()
        .map(|e| e.kind.to_string())
        .unwrap_or_else(|| "ok".into())
}

#[tokio::test]
async fn templates_land_with_the_right_escaping() {
    let f = fixture(true).await;
    let extra = "    method: POST\n    params:\n      q: \"${input.q}\"\n    headers:\n      X-Note: \"${input.h}\"\n    body: { text: \"${input.msg}\", n: 1 }\n";
    f.declare(
        "echoer",
        &format!("{}/echo/${{input.seg}}", f.lb.base()),
        extra,
    )
    .await;
    let r = run(
        &f.app,
        "echoer",
        json!({"q": "a&b=c d", "seg": "../../admin", "h": "plain", "msg": "say \"hi\" ${API_KEY}"}),
    )
    .await;
    assert!(r.ok, "{:?}", r.error);
    let got = f.lb.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].target, "/echo/..%2F..%2Fadmin?q=a%26b%3Dc+d",
        "path input is one segment; query is form-encoded"
    );
    assert_eq!(got[0].header("x-note"), Some("plain"));
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        body,
        json!({"text": "say \"hi\" ${API_KEY}", "n": 1}),
        "one-pass templates, JSON-encoded"
    );
    assert_eq!(r.calls.len(), 1);
    assert_eq!(r.calls[0].status, Some(200));
}

#[tokio::test]
async fn header_injection_and_dot_segments_never_leave() {
    let f = fixture(true).await;
    f.declare(
        "hdr",
        &format!("{}/echo/${{input.seg}}", f.lb.base()),
        "    headers:\n      X-Note: \"${input.h}\"\n",
    )
    .await;
    let r = run(
        &f.app,
        "hdr",
        json!({"seg": "x", "h": "v\r\nX-Injected: 1"}),
    )
    .await;
    assert_eq!(kind(&r), "header_injection");
    let r = run(&f.app, "hdr", json!({"seg": "..", "h": "v"})).await;
    assert_eq!(kind(&r), "invalid_input");
    assert!(f.lb.requests().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed_in_any_spelling() {
    let f = fixture(false).await;
    let p = f.lb.port;
    for (i, host) in [
        "127.0.0.1",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("spell-{i}");
        f.declare(&id, &format!("https://{host}:{p}/echo"), "")
            .await;
        let r = run(&f.app, &id, json!({})).await;
        assert_eq!(kind(&r), "private_address", "{host}: {:?}", r.error);
        assert!(r.security_violation);
        let r = run(&f.app, &id, json!({})).await;
        assert!(!r.ok);
    }
    // Plain http to an allowed domain is refused too (before any lookup).
    f.declare("plain", &format!("http://localhost:{p}/echo"), "")
        .await;
    assert_eq!(
        kind(&run(&f.app, "plain", json!({})).await),
        "insecure_scheme"
    );
    assert!(
        f.lb.requests().is_empty(),
        "the loopback server received nothing"
    );
    let audit = f.app.runs(Some("spell-0"), 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|a| a.status == "denied"
        && a.security_violation
        && a.error_kind.as_deref() == Some("private_address")));
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_at_resolution() {
    let f = fixture(false).await;
    // `localhost` is an allowed domain of this manifest, but it resolves to 127.0.0.1/::1.
    f.declare("dns", &format!("https://localhost:{}/echo", f.lb.port), "")
        .await;
    let r = run(&f.app, "dns", json!({})).await;
    assert_eq!(kind(&r), "private_address", "{:?}", r.error);
    // The metadata address, listed as a domain, is refused too.
    f.declare("meta", "https://169.254.169.254/latest/meta-data", "")
        .await;
    assert_eq!(
        kind(&run(&f.app, "meta", json!({})).await),
        "private_address"
    );
    assert!(f.lb.requests().is_empty());
}

fn session(lb: &Loopback, secrets: &[&str]) -> Session {
    let policy = NetPolicy {
        domains: [
            format!("127.0.0.1:{}", lb.port),
            format!("localhost:{}", lb.port),
        ]
        .into(),
        may_get: true,
        may_post: true,
        max_calls: 20,
        allow_hosts: AllowHosts::parse(&format!("127.0.0.1:{0},localhost:{0}", lb.port)).unwrap(),
        timeout_ms: 1500,
        max_response_bytes: 1024 * 1024,
        ..Default::default()
    };
    Session::new(policy, secrets.iter().map(|s| s.to_string()).collect())
}

fn get(url: &str, headers: &[(&str, &str)]) -> Prepared {
    Prepared {
        method: reqwest::Method::GET,
        url: url::Url::parse(url).unwrap(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: None,
    }
}

#[tokio::test]
async fn cross_origin_redirect_drops_every_secret() {
    let lb = Loopback::start().await;
    let mut s = session(&lb, &["s3cr3t-value"]);
    let target = format!("http://localhost:{}/echo?key=s3cr3t-value&keep=1", lb.port);
    let start = format!("{}/redirect-to?to={}", lb.base(), urlencode(&target));
    let req = get(
        &start,
        &[
            ("X-Api-Key", "s3cr3t-value"),
            ("Authorization", "Bearer s3cr3t-value"),
            ("X-Custom", "token s3cr3t-value"),
            ("X-Trace", "t-1"),
        ],
    );
    let ex = s.send(req).await.unwrap();
    let echoed: Value = serde_json::from_slice(&ex.body).unwrap();
    let got = lb.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header("x-api-key"),
        Some("s3cr3t-value"),
        "same origin: sent"
    );
    let second = &got[1];
    for h in ["x-api-key", "authorization", "x-custom"] {
        assert_eq!(second.header(h), None, "{h} must not cross origins");
    }
    assert_eq!(second.header("x-trace"), Some("t-1"));
    assert!(!second.target.contains("s3cr3t"), "{}", second.target);
    assert!(second.target.contains("keep=1"));
    assert!(!echoed.to_string().contains("s3cr3t"));
    // The trace never shows the secret either.
    assert!(s.trace.iter().all(|t| !t.url.contains("s3cr3t")));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn redirects_are_checked_hop_by_hop() {
    let lb = Loopback::start().await;
    // Ten redirects are fine; the eleventh is refused.
    let mut s = session(&lb, &[]);
    assert!(s
        .send(get(&format!("{}/redirect?n=9", lb.base()), &[]))
        .await
        .is_ok());
    let mut s = session(&lb, &[]);
    let e = s
        .send(get(&format!("{}/redirect?n=10", lb.base()), &[]))
        .await
        .unwrap_err();
    assert_eq!(e, EngineError::TooManyRedirects { limit: 10 });
    // A redirect to the metadata address or an unlisted host never gets there.
    lb.clear();
    let mut s = session(&lb, &[]);
    let to = urlencode("http://169.254.169.254/latest/meta-data/");
    let e = s
        .send(get(&format!("{}/redirect-to?to={to}", lb.base()), &[]))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::PrivateAddress { .. }), "{e}");
    let mut s = session(&lb, &[]);
    let to = urlencode(&format!("http://127.0.0.2:{}/echo", lb.port));
    let e = s
        .send(get(&format!("{}/redirect-to?to={to}", lb.base()), &[]))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::PrivateAddress { .. }), "{e}");
    let mut s = session(&lb, &[]);
    let to = urlencode("https://elsewhere.example/steal");
    let e = s
        .send(get(&format!("{}/redirect-to?to={to}", lb.base()), &[]))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::DomainNotAllowed { .. }), "{e}");
    assert_eq!(
        lb.requests().len(),
        3,
        "only the redirecting requests arrived"
    );
    // A 303 after a POST continues as a GET without the body.
    let mut s = session(&lb, &[]);
    let mut post = get(
        &format!("{}/redirect-to?status=303&to=/echo", lb.base()),
        &[("Content-Type", "application/json")],
    );
    post.method = reqwest::Method::POST;
    post.body = Some(b"{\"a\":1}".to_vec());
    let ex = s.send(post).await.unwrap();
    let echoed: Value = serde_json::from_slice(&ex.body).unwrap();
    assert_eq!(echoed["method"], "GET");
    assert_eq!(echoed["body"], "");
}

#[tokio::test]
async fn call_budget_and_methods() {
    let lb = Loopback::start().await;
    let mut s = session(&lb, &[]);
    s.policy.max_calls = 3;
    let e = s
        .send(get(&format!("{}/redirect?n=5", lb.base()), &[]))
        .await
        .unwrap_err();
    assert_eq!(e, EngineError::CallBudgetExceeded { limit: 3 });
    assert_eq!(lb.requests().len(), 3);
    let mut s = session(&lb, &[]);
    s.policy.may_post = false;
    let mut post = get(&format!("{}/echo", lb.base()), &[]);
    post.method = reqwest::Method::DELETE;
    assert!(matches!(
        s.send(post).await,
        Err(EngineError::MethodNotPermitted { .. })
    ));
    let mut s = session(&lb, &[]);
    assert!(matches!(
        s.send(get("https://not-listed.example/echo", &[])).await,
        Err(EngineError::DomainNotAllowed { .. })
    ));
    assert_eq!(lb.requests().len(), 3, "refused requests never arrived");
}

#[tokio::test]
async fn hostile_responses_are_cut_off() {
    let lb = Loopback::start().await;
    let cases = [
        ("/endless", "response_too_large"),
        ("/gzip-bomb", "response_too_large"),
        ("/trickle", "timeout"),
        ("/many-headers", "response_headers_too_large"),
    ];
    for (path, expected) in cases {
        let mut s = session(&lb, &[]);
        let e = s
            .send(get(&format!("{}{path}", lb.base()), &[]))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), expected, "{path}: {e}");
    }
}

#[tokio::test]
async fn userinfo_tricks() {
    let lb = Loopback::start().await;
    let mut s = session(&lb, &[]);
    let e = s
        .send(get(
            &format!("http://user:pw@127.0.0.1:{}/echo", lb.port),
            &[],
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::BadRequest { .. }), "{e}");
    // `allowed@evil` puts the allowed name in the userinfo: the host is evil.example.
    let e = s
        .send(get(
            &format!("http://127.0.0.1:{}@evil.example/echo", lb.port),
            &[],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            EngineError::BadRequest { .. } | EngineError::DomainNotAllowed { .. }
        ),
        "{e}"
    );
    assert!(lb.requests().is_empty());
}

#[tokio::test]
async fn environment_proxies_are_ignored() {
    let lb = Loopback::start().await;
    let proxy = Loopback::start().await;
    // SAFETY: tests in this binary do not read these variables concurrently in a way that
    // matters; the engine must ignore them in any case.
    unsafe {
        std::env::set_var("HTTPS_PROXY", proxy.base());
        std::env::set_var("HTTP_PROXY", proxy.base());
        std::env::set_var("ALL_PROXY", proxy.base());
    }
    let mut s = session(&lb, &[]);
    let ex = s.send(get(&format!("{}/echo", lb.base()), &[])).await;
    unsafe {
        std::env::remove_var("HTTPS_PROXY");
        std::env::remove_var("HTTP_PROXY");
        std::env::remove_var("ALL_PROXY");
    }
    assert!(ex.is_ok());
    assert!(proxy.requests().is_empty(), "the proxy saw nothing");
    assert_eq!(lb.requests().len(), 1);
}

#[tokio::test]
async fn mapping_and_http_errors_are_reported_by_name() {
    let f = fixture(true).await;
    let extra = "    response_mapping:\n      missing: \"data.nope\"\n";
    f.declare("mapper", &format!("{}/echo", f.lb.base()), extra)
        .await;
    let r = run(&f.app, "mapper", json!({})).await;
    assert_eq!(kind(&r), "mapping_empty");
    assert!(r.error.unwrap().message.contains("data.nope"));
    f.declare("notfound", &format!("{}/nowhere", f.lb.base()), "")
        .await;
    let r = run(&f.app, "notfound", json!({})).await;
    assert_eq!(kind(&r), "http_status");
    let r = f
        .app
        .run_action("notfound", None, "nope", &json!({}), Origin::Cli)
        .await
        .unwrap();
    assert_eq!(kind(&r), "unknown_action");
    let r = run(&f.app, "notfound", json!({"zzz": 1})).await;
    assert_eq!(kind(&r), "invalid_input");
    // Statistics follow the audit log.
    let s = f.app.registry().summary("notfound").await.unwrap();
    assert_eq!(s.id, "notfound");
    let runs = f.app.runs(Some("notfound"), 10).await.unwrap();
    assert_eq!(runs.len(), 3);
}

#[tokio::test]
async fn publishing_needs_passing_tests() {
    let f = fixture(true).await;
    let extra = "  examples:\n    - input: {}\n      expected_output: { method: GET }\n";
    f.declare("pub-ok", &format!("{}/echo", f.lb.base()), extra)
        .await;
    let s = f.app.registry().summary("pub-ok").await.unwrap();
    assert_eq!(s.status.as_str(), "draft", "an import is a draft");
    let s = f
        .app
        .set_status(
            "pub-ok",
            None,
            capsmith_core::api::dto::CapabilityStatus::Published,
        )
        .await
        .unwrap();
    assert_eq!(s.status.as_str(), "published");
    let failing = "  examples:\n    - input: {}\n      expected_output: { method: POST }\n";
    f.declare("pub-bad", &format!("{}/echo", f.lb.base()), failing)
        .await;
    let e = f
        .app
        .set_status(
            "pub-bad",
            None,
            capsmith_core::api::dto::CapabilityStatus::Published,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "tests_failing", "{e}");
    assert_eq!(
        f.app
            .registry()
            .summary("pub-bad")
            .await
            .unwrap()
            .status
            .as_str(),
        "draft"
    );
}

#[tokio::test]
async fn neither_inputs_nor_allow_hosts_widen_where_requests_go() {
    let f = fixture(true).await;
    // An input glued onto a configured base could extend its host: refused at validation.
    let yaml = "capability:\n  id: base-ext\n  name: B\n  version: 1.0.0\n  actions: [{ id: call, inputs: [{ name: sub, type: string }] }]\n  integration: { type: api, endpoint: '${BASE}{{sub}}/x' }\n  configuration: [{ key: BASE, type: string }]\n  permissions: [network.http.get]\n";
    let e = f
        .app
        .import_bytes("b.yaml", yaml.as_bytes())
        .await
        .unwrap_err();
    let report = capsmith_core::api::dto::ApiError::from(&e).report.unwrap();
    assert!(
        report.errors.iter().any(|d| d.code == "templated-host"),
        "{report:?}"
    );
    // `{{X}}` in the host is an input even when a configuration key is also called X.
    let yaml = "capability:\n  id: mustache-host\n  name: M\n  version: 1.0.0\n  actions: [{ id: call, inputs: [{ name: X, type: string }] }]\n  integration: { type: api, endpoint: 'https://{{X}}.example.com/x' }\n  configuration: [{ key: X, type: string }]\n  permissions: [network.http.get]\n";
    let e = f
        .app
        .import_bytes("m.yaml", yaml.as_bytes())
        .await
        .unwrap_err();
    assert!(capsmith_core::api::dto::ApiError::from(&e)
        .report
        .unwrap()
        .errors
        .iter()
        .any(|d| d.code == "templated-host"));
    // The user allowed 127.0.0.1:PORT for one capability; another that does not list it cannot
    // reach it.
    let lb = &f.lb;
    let mut s = session(lb, &[]);
    s.policy.domains = ["api.example.com".to_string()].into();
    let e = s
        .send(get(&format!("{}/echo", lb.base()), &[]))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::DomainNotAllowed { .. }), "{e}");
    assert!(lb.requests().is_empty());
}

#[tokio::test]
async fn a_secret_body_never_follows_a_cross_origin_307() {
    let lb = Loopback::start().await;
    let mut s = session(&lb, &["body-secret-123"]);
    let to = urlencode(&format!("http://localhost:{}/echo", lb.port));
    let mut post = get(
        &format!("{}/redirect-to?status=307&to={to}", lb.base()),
        &[("Content-Type", "application/json")],
    );
    post.method = reqwest::Method::POST;
    post.body = Some(b"{\"key\":\"body-secret-123\"}".to_vec());
    let e = s.send(post).await.unwrap_err();
    assert!(matches!(e, EngineError::BadRequest { .. }), "{e}");
    assert_eq!(lb.requests().len(), 1, "only the first origin saw it");
}

#[tokio::test]
async fn a_host_without_a_port_is_its_schemes_default_port_only() {
    // The policy check runs before any connection: nothing resolves or connects.
    let p = NetPolicy {
        domains: ["api.ok.test".to_string(), "api.ok.test:8443".to_string()].into(),
        may_get: true,
        ..Default::default()
    };
    let get = reqwest::Method::GET;
    for ok in [
        "https://api.ok.test/v1",
        "https://api.ok.test:443/v1",
        "https://API.OK.TEST:8443/v1",
    ] {
        assert!(p.check(&url::Url::parse(ok).unwrap(), &get).is_ok(), "{ok}");
    }
    for refused in [
        "https://api.ok.test:22/",
        "https://api.ok.test:80/",
        "https://api.ok.test:8444/",
        "https://api.ok.test:65535/",
    ] {
        let e = p
            .check(&url::Url::parse(refused).unwrap(), &get)
            .unwrap_err();
        assert!(
            matches!(&e, EngineError::DomainNotAllowed { host, .. } if host.starts_with("api.ok.test:")),
            "{refused}: {e}"
        );
    }
    // Over the real stack: a loopback port the manifest does not name is never connected to,
    // even with the user's allow-list for it.
    let lb = Loopback::start().await;
    let mut s = session(&lb, &[]);
    s.policy.domains = ["127.0.0.1".to_string()].into();
    let e = s
        .send(get_req(&format!("{}/echo", lb.base())))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::DomainNotAllowed { .. }), "{e}");
    assert!(lb.requests().is_empty());
}

fn get_req(url: &str) -> Prepared {
    get(url, &[])
}

#[tokio::test]
async fn a_host_allowed_for_one_capability_stays_refused_for_another() {
    let f = fixture(false).await;
    let endpoint = format!("{}/echo", f.lb.base());
    f.declare("granted", &endpoint, "").await;
    f.declare("bystander", &endpoint, "").await;
    // Neither may reach a service on this machine until the user allows it, per capability.
    for id in ["granted", "bystander"] {
        assert_eq!(kind(&run(&f.app, id, json!({})).await), "private_address");
    }
    let port = f.lb.port;
    assert!(f
        .app
        .allow_host("granted", &format!("127.0.0.1:{port}"))
        .await
        .unwrap()
        .contains(&format!("127.0.0.1:{port}")));
    let r = run(&f.app, "granted", json!({})).await;
    assert!(r.ok, "{:?}", r.error);
    let r = run(&f.app, "bystander", json!({})).await;
    assert_eq!(kind(&r), "private_address", "{:?}", r.error);
    assert_eq!(
        f.lb.requests().len(),
        1,
        "only the granted capability got through"
    );
    // The old global list is gone, and says what to use instead.
    let e = f
        .app
        .set_setting("network.allow_hosts", Some(&format!("127.0.0.1:{port}")))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("allow-host"), "{e}");
    // Grants name an installed capability and one HOST:PORT; taking one back ends it.
    assert!(f
        .app
        .allow_host("no-such-capability", "127.0.0.1:1")
        .await
        .is_err());
    for bad in ["127.0.0.1", "127.0.0.1:x", "a:1,b:2", ":80"] {
        assert!(f.app.allow_host("granted", bad).await.is_err(), "{bad}");
    }
    assert!(f
        .app
        .disallow_host("granted", &format!("127.0.0.1:{port}"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        kind(&run(&f.app, "granted", json!({})).await),
        "private_address"
    );
    // Removing the capability removes its grants with it.
    f.app
        .allow_host("granted", &format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    f.app.remove("granted", None).await.unwrap();
    f.declare("granted", &endpoint, "").await;
    assert!(f.app.allowed_hosts("granted").await.unwrap().is_empty());
}
