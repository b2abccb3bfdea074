//! The design's weather and Slack examples run end to end against loopback stand-ins with
//! their keys in the real OS keyring (a gnome-keyring in a D-Bus session; `scripts/test`
//! starts one), and a planted secret is looked for everywhere it must not be.

use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use capsmith_core::secrets::Sensitive;
use serde_json::json;

use crate::examples_dir;
use crate::loopback::{Loopback, SLACK_TOKEN, WEATHER_KEY};

async fn app_with_loopback() -> (tempfile::TempDir, Capsmith, Loopback) {
    let lb = Loopback::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    (dir, app, lb)
}

/// The design's manifest with only its host pointed at the stand-in (and a new id, so it sits
/// beside the seeded original).
fn retarget(file: &str, from: &str, to: &str, id_from: &str, id_to: &str) -> String {
    std::fs::read_to_string(examples_dir().join(file))
        .unwrap()
        .replace(from, to)
        .replace(id_from, id_to)
}

fn require_keyring(e: &capsmith_core::CoreError) -> ! {
    panic!("{e}\nthese tests need a Secret Service: run them through scripts/test (D-Bus session + gnome-keyring)")
}

#[tokio::test]
async fn weather_runs_end_to_end_with_its_key_in_the_keyring() {
    let (_dir, app, lb) = app_with_loopback().await;
    let yaml = retarget(
        "weather-lookup.yaml",
        "https://api.weather.com",
        &lb.base(),
        "\"weather-lookup\"",
        "\"weather-lookup-local\"",
    );
    app.import_bytes("weather.yaml", yaml.as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    // Without the key the run says which key is missing and how to set it.
    let r = app
        .run_action(
            "weather-lookup-local",
            None,
            "get-weather",
            &json!({"location": "New York"}),
            Origin::Cli,
        )
        .await
        .unwrap();
    assert_eq!(
        r.error.as_ref().map(|e| e.kind.as_str()),
        Some("missing_config"),
        "{:?}",
        r.error
    );
    if let Err(e) = app
        .config_set(
            "weather-lookup-local",
            "API_KEY",
            Sensitive::new(WEATHER_KEY.into()),
        )
        .await
    {
        require_keyring(&e);
    }
    let listed = app.config_list("weather-lookup-local").await.unwrap();
    assert!(
        listed[0].set && listed[0].value.is_none(),
        "secret values are never returned: {listed:?}"
    );
    let r = app
        .run_action(
            "weather-lookup-local",
            None,
            "get-weather",
            &json!({"location": "New York"}),
            Origin::App,
        )
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    assert_eq!(
        r.output,
        Some(json!({"temperature": 72, "condition": "Sunny", "humidity": 45}))
    );
    let sent = lb.requests();
    assert_eq!(
        sent.last().unwrap().header("authorization"),
        Some(format!("Bearer {WEATHER_KEY}").as_str())
    );
    assert_eq!(sent.last().unwrap().target, "/v1/current?location=New+York");
    // The design's example is a passing test case against the stand-in.
    let report = app.test("weather-lookup-local", None).await.unwrap();
    assert_eq!((report.passed, report.failed), (1, 0), "{report:#?}");
    let audit = app.runs(Some("weather-lookup-local"), 10).await.unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[0].origin, "test");
    assert!(app
        .config_unset("weather-lookup-local", "API_KEY")
        .await
        .unwrap());
    assert!(!app.config_list("weather-lookup-local").await.unwrap()[0].set);
}

#[tokio::test]
async fn slack_connector_runs_both_endpoints() {
    let (_dir, app, lb) = app_with_loopback().await;
    let json_text = retarget(
        "slack-integration.json",
        "https://slack.com/api\"",
        &format!("{}/api\"", lb.base()),
        "\"slack-integration\"",
        "\"slack-local\"",
    );
    app.import_bytes("slack.json", json_text.as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    let r = app
        .run_action(
            "slack-local",
            None,
            "send-message",
            &json!({"channel": "C1", "message": "hi"}),
            Origin::Cli,
        )
        .await
        .unwrap();
    assert_eq!(
        r.error.as_ref().map(|e| e.kind.as_str()),
        Some("oauth_not_connected"),
        "{r:?}"
    );
    if let Err(e) = app
        .config_set(
            "slack-local",
            "OAUTH2_ACCESS_TOKEN",
            Sensitive::new(SLACK_TOKEN.into()),
        )
        .await
    {
        require_keyring(&e);
    }
    let r = app
        .run_action(
            "slack-local",
            None,
            "send-message",
            &json!({"channel": "C1", "message": "hello \"team\""}),
            Origin::Cli,
        )
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    let out = r.output.unwrap();
    assert_eq!(out["ok"], true);
    assert_eq!(out["message"]["text"], "hello \"team\"");
    let r = app
        .run_action(
            "slack-local",
            None,
            "list-channels",
            &json!({}),
            Origin::Cli,
        )
        .await
        .unwrap();
    assert_eq!(r.output.unwrap()["channels"][1]["name"], "random");
    let r = app
        .run_action(
            "slack-local",
            None,
            "send-message",
            &json!({"channel": "C1"}),
            Origin::Cli,
        )
        .await
        .unwrap();
    assert_eq!(
        r.error.unwrap().kind,
        "invalid_input",
        "a required input is missing"
    );
}

#[tokio::test]
async fn a_planted_secret_is_nowhere_but_the_keyring() {
    let (dir, app, lb) = app_with_loopback().await;
    // URL-special characters: the secret also travels percent- and form-encoded.
    let planted = "PLANTED s3cr3t/9f+8e=7d&6c";
    // An API that echoes the request back, headers included: the secret comes back in the body.
    let yaml = format!(
        "capability:\n  id: leaky\n  name: Leaky\n  version: 1.0.0\n  actions:\n    - id: call\n      inputs: [{{ name: q, type: string }}]\n  integration:\n    type: api\n    endpoint: \"{}/echo\"\n    params: {{ q: \"${{input.q}}\", k: \"${{TOKEN}}\" }}\n    headers: {{ Authorization: \"Bearer ${{TOKEN}}\" }}\n  configuration:\n    - {{ key: TOKEN, type: secret, required: true }}\n  examples:\n    - input: {{ q: x }}\n      expected_output: {{ method: GET }}\n  permissions: [network.http.get]\n",
        lb.base()
    );
    app.import_bytes("leaky.yaml", yaml.as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    if let Err(e) = app
        .config_set("leaky", "TOKEN", Sensitive::new(planted.into()))
        .await
    {
        require_keyring(&e);
    }
    let r = app
        .run_action("leaky", None, "call", &json!({"q": "x"}), Origin::App)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    assert!(
        lb.requests()[0]
            .header("authorization")
            .unwrap()
            .contains(planted),
        "the API did receive it"
    );
    assert!(
        lb.requests()[0]
            .target
            .contains("k=PLANTED+s3cr3t%2F9f%2B8e%3D7d%266c"),
        "{}",
        lb.requests()[0].target
    );
    let report_text = serde_json::to_string(&r).unwrap();
    assert!(
        !report_text.contains(planted),
        "run report leaks: {report_text}"
    );
    assert!(report_text.contains("[redacted]"));
    // Test runs report their runs too.
    let t = app.test("leaky", None).await.unwrap();
    assert!(!serde_json::to_string(&t).unwrap().contains(planted));
    // Exports, the audit log, and the SQLite files themselves.
    let mut haystacks = vec![
        app.export("leaky", None, "yaml")
            .await
            .unwrap()
            .into_bytes(),
        app.export("leaky", None, "json")
            .await
            .unwrap()
            .into_bytes(),
        serde_json::to_vec(&app.runs(None, 100).await.unwrap()).unwrap(),
        serde_json::to_vec(&app.config_list("leaky").await.unwrap()).unwrap(),
    ];
    sqlx::query("PRAGMA wal_checkpoint(FULL)")
        .execute(app.registry().pool())
        .await
        .unwrap();
    for entry in walk(dir.path()) {
        haystacks.push(std::fs::read(entry).unwrap());
    }
    let spellings = [
        planted.to_string(),
        "PLANTED+s3cr3t%2F9f%2B8e%3D7d%266c".to_string(),
        "PLANTED%20s3cr3t%2F9f%2B8e%3D7d%266c".to_string(),
    ];
    for h in &haystacks {
        for s in &spellings {
            assert!(
                !h.windows(s.len()).any(|w| w == s.as_bytes()),
                "the planted secret leaked as {s}"
            );
        }
    }
    // Removing the capability takes its secret out of the keyring too.
    app.remove("leaky", None).await.unwrap();
    assert!(app
        .secrets()
        .retrieve("leaky", "TOKEN")
        .await
        .unwrap()
        .is_none());
    assert!(haystacks.len() >= 6, "the registry files were scanned");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn two_libraries_never_share_secrets() {
    let (_d1, a, _lb1) = app_with_loopback().await;
    let (_d2, b, _lb2) = app_with_loopback().await;
    assert_ne!(a.secrets().service(), b.secrets().service());
    if let Err(e) = a
        .config_set(
            "weather-lookup",
            "API_KEY",
            Sensitive::new("only-in-a".into()),
        )
        .await
    {
        require_keyring(&e);
    }
    assert!(a.config_list("weather-lookup").await.unwrap()[0].set);
    assert!(
        !b.config_list("weather-lookup").await.unwrap()[0].set,
        "library b sees a's secret"
    );
}

fn oauth_manifest(lb: &Loopback) -> String {
    format!(
        "capability:\n  id: profile-api\n  name: Profile API\n  version: 1.0.0\n  type: api-connector\n  api:\n    base_url: {0}/api\n    auth:\n      type: oauth2\n      authorization_url: {0}/oauth/authorize\n      token_url: {0}/oauth/token\n      scopes: [profile]\n  endpoints:\n    - {{ id: profile, method: GET, path: /profile }}\n  permissions: [network.http.get]\n",
        lb.base()
    )
}

/// A browser: follows the authorization redirects back to Capsmith's loopback listener.
fn browser(url: &url::Url) {
    let url = url.clone();
    tokio::spawn(async move {
        let _ = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await;
    });
}

#[tokio::test]
async fn oauth2_authorization_code_with_pkce_and_refresh() {
    let (_dir, app, lb) = app_with_loopback().await;
    app.import_bytes("p.yaml", oauth_manifest(&lb).as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    // No client id yet: Connect says which key to set.
    let e = app
        .oauth_connect("profile-api", browser, std::time::Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "missing_config", "{e}");
    app.config_set(
        "profile-api",
        "OAUTH2_CLIENT_ID",
        Sensitive::new("capsmith-test".into()),
    )
    .await
    .unwrap();
    if let Err(e) = app
        .oauth_connect("profile-api", browser, std::time::Duration::from_secs(10))
        .await
    {
        if e.kind() == "keyring_unavailable" {
            require_keyring(&e);
        }
        panic!("connect failed: {e}");
    }
    let r = app
        .run_action("profile-api", None, "profile", &json!({}), Origin::Cli)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    assert_eq!(r.output.as_ref().unwrap()["user"], "ada");
    assert!(
        !serde_json::to_string(&r).unwrap().contains("at-1"),
        "the token is redacted from the report"
    );
    let authz = lb
        .requests()
        .into_iter()
        .find(|q| q.target.starts_with("/oauth/authorize"))
        .unwrap();
    assert!(
        authz.target.contains("code_challenge_method=S256")
            && authz
                .target
                .contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A")
    );
    // The provider revokes the token: the run refreshes once and succeeds with a new one.
    lb.oauth.lock().unwrap().valid.remove("at-1");
    let r = app
        .run_action("profile-api", None, "profile", &json!({}), Origin::Cli)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    let last = lb
        .requests()
        .into_iter()
        .rev()
        .find(|q| q.target == "/api/profile")
        .unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer at-2"));
    let listed = app.config_list("profile-api").await.unwrap();
    let refresh = listed
        .iter()
        .find(|c| c.key == "OAUTH2_REFRESH_TOKEN")
        .unwrap();
    assert!(refresh.set && refresh.value.is_none());
}

#[tokio::test]
async fn oauth2_redirect_with_a_forged_state_is_refused() {
    let (_dir, app, lb) = app_with_loopback().await;
    app.import_bytes("p.yaml", oauth_manifest(&lb).as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    app.config_set(
        "profile-api",
        "OAUTH2_CLIENT_ID",
        Sensitive::new("capsmith-test".into()),
    )
    .await
    .unwrap();
    let forger = |url: &url::Url| {
        let redirect = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        tokio::spawn(async move {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let _ = client
                .get(format!("{redirect}?code=stolen&state=not-the-one"))
                .send()
                .await;
        });
    };
    let e = app
        .oauth_connect("profile-api", forger, std::time::Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "oauth");
    assert!(e.to_string().contains("state"), "{e}");
}

#[tokio::test]
async fn sandboxed_code_sends_secrets_it_never_holds() {
    // SAFETY: every test that starts a worker sets the same value.
    unsafe { std::env::set_var("CAPSMITH_SANDBOX_BIN", crate::sandbox_bin()) };
    let (_dir, app, lb) = app_with_loopback().await;
    let source = format!(
        "export default {{ id: 'code-secret', actions: {{\n  async call() {{\n    const r = await fetch('{}/echo', {{ headers: {{ Authorization: 'Bearer ${{API_KEY}}' }} }});\n    const echoed = await r.json();\n    return {{ seen: this.config.API_KEY, echoedAuth: echoed.headers.authorization }};\n  }}\n}} }};\n",
        lb.base()
    );
    let doc = json!({"capability": {"id": "code-secret", "name": "Code secret", "version": "1.0.0", "type": "code",
        "code": {"source": source}, "allowed_domains": [format!("127.0.0.1:{}", lb.port)],
        "configuration": [{"key": "API_KEY", "type": "secret", "required": true}],
        "permissions": ["compute.light", "network.http.get"]}});
    app.import_bytes("c.json", doc.to_string().as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    if let Err(e) = app
        .config_set(
            "code-secret",
            "API_KEY",
            Sensitive::new("sk-live-abcdef".into()),
        )
        .await
    {
        require_keyring(&e);
    }
    let r = app
        .run_action("code-secret", None, "call", &json!({}), Origin::Cli)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    // The API received the real key; the code saw only the placeholder, and even the echo came
    // back redacted.
    assert_eq!(
        lb.requests()[0].header("authorization"),
        Some("Bearer sk-live-abcdef")
    );
    assert_eq!(
        r.output,
        Some(json!({"seen": "${API_KEY}", "echoedAuth": "Bearer [redacted]"}))
    );
}

#[tokio::test]
async fn sandboxed_code_calls_the_configured_ai_endpoint() {
    // SAFETY: every test that starts a worker sets the same value.
    unsafe { std::env::set_var("CAPSMITH_SANDBOX_BIN", crate::sandbox_bin()) };
    let (_dir, app, lb) = app_with_loopback().await;
    app.set_setting("ai.base_url", Some(&format!("{}/v1", lb.base())))
        .await
        .unwrap();
    app.set_setting("ai.model", Some("test-model"))
        .await
        .unwrap();
    if let Err(e) = app.set_setting("ai.api_key", Some("ai-key-1")).await {
        require_keyring(&e);
    }
    let shown = app.settings().await.unwrap();
    assert_eq!(
        shown.iter().find(|s| s.key == "ai.api_key").unwrap().value,
        json!("[secret]")
    );
    let doc = json!({"capability": {"id": "asker", "name": "Asker", "version": "1.0.0", "type": "code",
        "code": {"source": "export default { id: 'asker', actions: { async ask({ q }) { const r = await this.ai.call(q); return { answer: r.content, model: r.model }; } } };"},
        "permissions": ["compute.light", "ai.call"]}});
    app.import_bytes("a.json", doc.to_string().as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    let r = app
        .run_action("asker", None, "ask", &json!({"q": "hello"}), Origin::Cli)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.error);
    assert_eq!(
        r.output,
        Some(json!({"answer": "HELLO", "model": "test-model"}))
    );
    assert!(!serde_json::to_string(&r).unwrap().contains("ai-key-1"));
    // Without ai.call there is no ai object.
    let doc = json!({"capability": {"id": "no-ai", "name": "No AI", "version": "1.0.0", "type": "code",
        "code": {"source": "export default { id: 'no-ai', actions: { go() { return typeof this.ai; } } };"}, "permissions": ["compute.light"]}});
    app.import_bytes("n.json", doc.to_string().as_bytes())
        .await
        .unwrap();
    crate::allow_loopback(&app, lb.port).await;
    let r = app
        .run_action("no-ai", None, "go", &json!({}), Origin::Cli)
        .await
        .unwrap();
    assert_eq!(r.output, Some(json!("undefined")));
}
