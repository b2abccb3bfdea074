//! The `capsmith` binary, run as a user would: exit codes, reports, JSON output, a real
//! registry in a temporary home.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn capsmith(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsmith"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("CAPSMITH_HOME")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes a manifest to `file` and imports it; the import must succeed.
fn import_ok(home: &Path, file: &Path, text: &str) -> Output {
    std::fs::write(file, text).unwrap();
    let o = capsmith(home, &["import", file.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn example(name: &str) -> String {
    root()
        .join("assets/examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn validate_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let ok = capsmith(
        home.path(),
        &[
            "validate",
            &example("weather-lookup.yaml"),
            &example("currency-converter.yaml"),
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("✅ valid"));
    assert!(
        stdout(&ok).contains("warning[no-permissions]"),
        "warnings are shown but do not fail"
    );

    let bad = capsmith(
        home.path(),
        &[
            "validate",
            &example("weather-lookup.yaml"),
            &example("custom-db-query.js"),
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    let out = stdout(&bad);
    assert!(out.contains("error[js-syntax]"), "{out}");
    assert!(out.contains("custom-db-query.js:7:3"), "{out}");

    let missing = capsmith(home.path(), &["validate", "/nonexistent/file.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("file not found"));

    let usage = capsmith(home.path(), &["validate"]);
    assert_eq!(usage.status.code(), Some(2));

    // Oversized and empty files are invalid (1), each with a report, not usage errors.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; 5 * 1024 * 1024]).unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, b"").unwrap();
    let o = capsmith(
        home.path(),
        &["validate", big.to_str().unwrap(), empty.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("file-too-large") && stdout(&o).contains("empty-file"));
}

#[test]
fn validate_json_reports() {
    let home = tempfile::tempdir().unwrap();
    let bad = root().join("tests/fixtures/invalid/many-problems.yaml");
    let o = capsmith(
        home.path(),
        &[
            "validate",
            "--json",
            &example("slack-integration.json"),
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let reports = v.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["valid"], true);
    assert_eq!(reports[1]["valid"], false);
    let e = &reports[1]["errors"][0];
    for key in ["code", "message", "path", "line", "column", "file"] {
        assert!(e.get(key).is_some(), "error lacks {key}: {e}");
    }
    assert!(reports[1]["warnings"].is_array());
}

#[test]
fn import_list_show_export_remove() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("echo.yaml");
    let o = import_ok(h, &file, "capability:\n  id: echo-cli\n  name: Echo CLI\n  version: 2.1.0\n  tags: [zebra]\n  actions: [{ id: echo, inputs: [{ name: q, type: string }] }]\n  integration: { type: api, endpoint: 'https://echo.example.com/e', params: { q: '${input.q}' } }\n  permissions: [network.http.get]\n");
    assert!(stdout(&o).contains("imported echo-cli@2.1.0"));

    let o = capsmith(h, &["list", "--json", "zebra"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], "echo-cli");

    let o = capsmith(h, &["list"]);
    assert!(
        stdout(&o).contains("weather-lookup"),
        "seeded examples are listed"
    );

    let o = capsmith(h, &["show", "echo-cli@2.1.0"]);
    assert!(stdout(&o).contains("in  q: string"), "{}", stdout(&o));

    let out = dir.path().join("out.json");
    let o = capsmith(
        h,
        &[
            "export",
            "echo-cli",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(exported["capability"]["version"], "2.1.0");
    // The export validates and re-imports as the same capability (a no-op).
    let o = capsmith(h, &["import", out.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("already present: echo-cli@2.1.0"),
        "{}",
        stdout(&o)
    );

    let o = capsmith(h, &["remove", "echo-cli"]);
    assert_eq!(o.status.code(), Some(0));
    let o = capsmith(h, &["show", "echo-cli"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error[not_found]"));
}

#[test]
fn failed_import_reports_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let before = stdout(&capsmith(h, &["list", "--json"]));
    let bad = root().join("tests/fixtures/invalid/duplicate-keys.json");
    let o = capsmith(
        h,
        &[
            "import",
            &example("weather-lookup.yaml"),
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("duplicate-key"));
    assert_eq!(stdout(&capsmith(h, &["list", "--json"])), before);
}

#[test]
fn help_everywhere_and_schema() {
    let home = tempfile::tempdir().unwrap();
    for sub in ["validate", "import", "list", "show", "export", "remove"] {
        let o = capsmith(home.path(), &[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub} --help");
        assert!(stdout(&o).contains("Usage"), "{sub}");
    }
    let o = capsmith(home.path(), &["schema"]);
    let on_disk =
        std::fs::read_to_string(root().join("assets/schema/capability.schema.json")).unwrap();
    assert_eq!(stdout(&o), on_disk);
    // No colour when not a TTY.
    assert!(!stdout(&capsmith(home.path(), &["list"])).contains('\x1b'));
}

/// A tiny HTTP server on loopback for the run/test commands: `/echo` answers with the request
/// line, `/v1/current` with a weather reading (for Bearer wk-1 only).
fn stand_in() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // One thread per connection: a hanging answer must not hold up the others.
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap_or(0);
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if line.to_ascii_lowercase().starts_with("authorization:") {
                        auth = line[14..].trim().to_string();
                    }
                }
                let target = first.split(' ').nth(1).unwrap_or("/").to_string();
                STAND_IN_LOG.lock().unwrap().push(target.clone());
                // `/hang-once/<tag>`: the first request never gets an answer (a step in progress
                // when its process dies); later ones are answered at once.
                if target.starts_with("/hang-once/") {
                    let first_time = STAND_IN_LOG
                        .lock()
                        .unwrap()
                        .iter()
                        .filter(|t| **t == target)
                        .count()
                        == 1;
                    if first_time {
                        std::thread::sleep(std::time::Duration::from_secs(120));
                    }
                }
                let (status, body) = if target.starts_with("/api/chat.postMessage") {
                    if auth == "Bearer xoxb-cli" {
                        ("200 OK", serde_json::json!({"ok": true, "ts": "1.2"}))
                    } else {
                        (
                            "200 OK",
                            serde_json::json!({"ok": false, "error": "invalid_auth"}),
                        )
                    }
                } else if target.starts_with("/v1/current") {
                    if auth == "Bearer wk-1" {
                        (
                            "200 OK",
                            serde_json::json!({"data": {"temp": 72, "weather": [{"main": "Sunny"}], "main": {"humidity": 45}}}),
                        )
                    } else {
                        ("401 Unauthorized", serde_json::json!({"error": "bad key"}))
                    }
                } else {
                    (
                        "200 OK",
                        serde_json::json!({"method": first.split(' ').next(), "target": target}),
                    )
                };
                let body = body.to_string();
                let mut s = stream;
                let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            });
        }
    });
    port
}

/// Every request target the stand-ins received (tests use distinct paths).
static STAND_IN_LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn received(target: &str) -> usize {
    STAND_IN_LOG
        .lock()
        .unwrap()
        .iter()
        .filter(|t| *t == target)
        .count()
}

fn capsmith_stdin(home: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_capsmith"));
    cmd.arg("--home")
        .arg(home)
        .args(args)
        .env_remove("CAPSMITH_HOME")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn run_test_runs_and_settings() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let port = stand_in();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("echo.yaml");
    std::fs::write(
        &file,
        format!("capability:\n  id: echo-run\n  name: Echo\n  version: 1.0.0\n  actions: [{{ id: call, inputs: [{{ name: q, type: string }}] }}]\n  integration: {{ type: api, endpoint: 'http://127.0.0.1:{port}/echo', params: {{ q: '${{input.q}}' }} }}\n  examples:\n    - input: {{ q: hi }}\n      expected_output: {{ method: GET }}\n      assert: \"output.target.includes('q=hi')\"\n  permissions: [network.http.get]\n"),
    )
    .unwrap();
    assert_eq!(
        capsmith(h, &["import", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );

    // The guard refuses loopback until the user allows it.
    let o = capsmith(
        h,
        &["run", "echo-run", "call", "--input", "{\"q\": \"hi\"}"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("blocked by the network guard"),
        "{}",
        stdout(&o)
    );

    let o = capsmith(h, &["settings", "allow-host", "echo-run", "nonsense"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid_argument"));
    let allow = format!("127.0.0.1:{port}");
    let o = capsmith(h, &["settings", "allow-host", "echo-run", &allow]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout(&capsmith(h, &["settings", "allowed-hosts", "echo-run"])).contains(&allow));
    // The global list is no more; the error says what to use.
    let o = capsmith(h, &["settings", "set", "network.allow_hosts", &allow]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("allow-host"));

    let o = capsmith(
        h,
        &[
            "run",
            "echo-run",
            "call",
            "--input",
            "{\"q\": \"a b\"}",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["output"]["target"], "/echo?q=a+b");
    assert_eq!(v["calls"][0]["status"], 200);

    let o = capsmith_stdin(
        h,
        &["run", "echo-run", "call", "--input", "-"],
        "{\"q\": \"from stdin\"}",
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("q=from+stdin"));

    assert_eq!(
        capsmith(h, &["run", "echo-run", "call", "--input", "{not json"])
            .status
            .code(),
        Some(2)
    );
    let o = capsmith(h, &["run", "echo-run", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("error[unknown_action]"));

    let o = capsmith(h, &["test", "echo-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("1 passed, 0 failed"));

    let o = capsmith(h, &["runs", "echo-run", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let statuses: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["ok", "error", "ok", "ok", "denied"],
        "newest first"
    );
    assert!(stdout(&capsmith(h, &["runs"])).contains("echo-run"));
}

#[test]
fn config_secrets_go_to_the_keyring() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let port = stand_in();
    let weather = std::fs::read_to_string(root().join("assets/examples/weather-lookup.yaml"))
        .unwrap()
        .replace(
            "https://api.weather.com",
            &format!("http://127.0.0.1:{port}"),
        )
        .replace("\"weather-lookup\"", "\"weather-cli\"");
    let file = home.path().join("w.yaml");
    std::fs::write(&file, weather).unwrap();
    assert_eq!(
        capsmith(h, &["import", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    capsmith(
        h,
        &[
            "settings",
            "allow-host",
            "weather-cli",
            &format!("127.0.0.1:{port}"),
        ],
    );

    // No keyring reachable: a clear error, and nothing stored anywhere else.
    let o = capsmith_stdin(
        h,
        &["config", "set", "weather-cli", "API_KEY", "-"],
        "wk-1\n",
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keyring_unavailable") && err.contains("keyring"),
        "{err}"
    );

    // With the session's Secret Service (scripts/test provides one).
    let o = capsmith_stdin(
        h,
        &["config", "set", "weather-cli", "API_KEY", "-"],
        "wk-1\n",
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "needs a Secret Service (run via scripts/test): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        stdout(&capsmith(h, &["config", "get", "weather-cli", "API_KEY"])).trim(),
        "[secret]"
    );
    assert!(stdout(&capsmith(h, &["config", "list", "weather-cli"])).contains("[secret]"));
    let o = capsmith(
        h,
        &[
            "run",
            "weather-cli",
            "get-weather",
            "--input",
            "{\"location\": \"Paris\"}",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["output"],
        serde_json::json!({"temperature": 72, "condition": "Sunny", "humidity": 45})
    );
    let o = capsmith(h, &["config", "set", "weather-cli", "NOPE", "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no configuration key `NOPE`"));
    assert_eq!(
        capsmith(h, &["config", "unset", "weather-cli", "API_KEY"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        capsmith(h, &["config", "get", "weather-cli", "API_KEY"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn import_openapi_from_a_file() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let spec = root().join("tests/fixtures/openapi/petstore.yaml");
    let out = home.path().join("pets.yaml");
    let o = capsmith(
        h,
        &[
            "import-openapi",
            spec.to_str().unwrap(),
            "--id",
            "pets",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The written manifest validates on its own.
    assert_eq!(
        capsmith(h, &["validate", out.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        capsmith(h, &["show", "pets"]).status.code(),
        Some(1),
        "-o does not import"
    );
    let o = capsmith(
        h,
        &["import-openapi", spec.to_str().unwrap(), "--id", "pets"],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("imported pets@1.0.0"));
    assert!(stdout(&capsmith(h, &["show", "pets"])).contains("show-pet-by-id"));
    let o = capsmith(h, &["import-openapi", "/nonexistent/spec.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn slack_example_runs_from_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let port = stand_in();
    let slack = std::fs::read_to_string(root().join("assets/examples/slack-integration.json"))
        .unwrap()
        .replace(
            "https://slack.com/api\"",
            &format!("http://127.0.0.1:{port}/api\""),
        )
        .replace("\"slack-integration\"", "\"slack-cli\"");
    let file = home.path().join("slack.json");
    std::fs::write(&file, slack).unwrap();
    assert_eq!(
        capsmith(h, &["import", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    capsmith(
        h,
        &[
            "settings",
            "allow-host",
            "slack-cli",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let o = capsmith(
        h,
        &[
            "run",
            "slack-cli",
            "send-message",
            "--input",
            "{\"channel\": \"C1\", \"message\": \"hi\"}",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("error[oauth_not_connected]"),
        "{}",
        stdout(&o)
    );
    let o = capsmith_stdin(
        h,
        &["config", "set", "slack-cli", "OAUTH2_ACCESS_TOKEN", "-"],
        "xoxb-cli\n",
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "needs a Secret Service (run via scripts/test): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = capsmith(
        h,
        &[
            "run",
            "slack-cli",
            "send-message",
            "--input",
            "{\"channel\": \"C1\", \"message\": \"hi\"}",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["output"]["ok"], true);
    assert!(
        !stdout(&o).contains("xoxb-cli"),
        "the token never appears in output"
    );
}

#[test]
fn flow_compile_from_manifest_and_schema() {
    let home = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/flows/customer-lookup.flow.json");
    let fixture = fixture.display().to_string();
    let ok = capsmith(home.path(), &["flow", "compile", &fixture]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout(&ok).contains("type: declarative"));
    assert!(stdout(&ok).contains("response_mapping:"));
    let json = capsmith(
        home.path(),
        &["flow", "compile", &fixture, "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["capability"]["type"], "declarative");

    // A broken flow: diagnostics name the node, exit 1, no manifest printed.
    let text = std::fs::read_to_string(&fixture)
        .unwrap()
        .replace("\"target\": \"format\"", "\"target\": \"nowhere\"");
    let bad = home.path().join("bad.flow.json");
    std::fs::write(&bad, text).unwrap();
    let out = capsmith(home.path(), &["flow", "compile", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[dangling-edge] action lookup, edge e3"),
        "{err}"
    );
    assert!(err.contains("node format"), "{err}");
    let j = capsmith(
        home.path(),
        &["flow", "compile", bad.to_str().unwrap(), "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["target"] == "edge:e3"));

    // A stored capability (a seeded example) and a file open as flows; code does not.
    let w = capsmith(home.path(), &["flow", "from-manifest", "weather-lookup"]);
    assert_eq!(
        w.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&w.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&w.stdout).unwrap();
    let kinds: Vec<&str> = doc["capability"]["flows"][0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["input", "api_call", "output"]);
    // …and that flow document compiles back.
    let reopened = home.path().join("weather.flow.json");
    std::fs::write(&reopened, &w.stdout).unwrap();
    let back = capsmith(
        home.path(),
        &["flow", "compile", reopened.to_str().unwrap()],
    );
    assert_eq!(
        back.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    let code = capsmith(
        home.path(),
        &["flow", "from-manifest", &example("text-toolkit.yaml")],
    );
    assert_eq!(code.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&code.stderr).contains("code capability does not open"));

    let schema = capsmith(home.path(), &["flow", "schema"]);
    assert_eq!(
        stdout(&schema),
        std::fs::read_to_string(root().join("assets/schema/flow.schema.json")).unwrap()
    );
}

#[test]
fn agents_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let created = capsmith(h, &["agent", "create", "Support Bot"]);
    assert_eq!(
        created.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // Without consent (no --yes, not a terminal) nothing is added.
    let refused = capsmith(h, &["agent", "add", "support-bot", "text-toolkit"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stdout(&refused).contains("asks for these permissions"));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("consent_required"));
    let added = capsmith(h, &["agent", "add", "support-bot", "text-toolkit", "--yes"]);
    assert_eq!(
        added.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(stdout(&added).contains("text-toolkit.slugify"));
    let run = capsmith(
        h,
        &[
            "agent",
            "run",
            "support-bot",
            "text-toolkit.slugify",
            "--input",
            r#"{"text": "Hello World"}"#,
            "--json",
        ],
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["output"]["slug"], "hello-world");
    let list = capsmith(h, &["agent", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["capabilities"][0]["capability"], "text-toolkit");
    let removed = capsmith(h, &["agent", "remove", "support-bot", "text-toolkit"]);
    assert_eq!(removed.status.code(), Some(0));
    let gone = capsmith(
        h,
        &[
            "agent",
            "run",
            "support-bot",
            "text-toolkit.slugify",
            "--input",
            "{}",
        ],
    );
    assert_eq!(gone.status.code(), Some(1));
}

#[test]
fn a_workflow_killed_mid_run_resumes_without_repeating_completed_steps() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let port = stand_in();
    let yaml = format!(
        "capability:\n  id: wf-resume\n  name: Resumable\n  version: 1.0.0\n  type: workflow\n  actions: [{{ id: go }}]\n  workflow:\n    steps:\n      - {{ id: one, action: http.request, method: POST, url: 'http://127.0.0.1:{port}/echo/wf-one' }}\n      - {{ id: two, action: http.request, url: 'http://127.0.0.1:{port}/hang-once/wf-two', after: [one] }}\n      - {{ id: three, action: http.request, method: POST, url: 'http://127.0.0.1:{port}/echo/wf-three', after: [two] }}\n  permissions: [network.http.get, network.http.post]\n  allowed_domains: ['127.0.0.1:{port}']\n"
    );
    let file = h.join("wf.yaml");
    std::fs::write(&file, yaml).unwrap();
    assert_eq!(
        capsmith(h, &["import", file.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let allow = format!("127.0.0.1:{port}");
    assert_eq!(
        capsmith(h, &["settings", "allow-host", "wf-resume", &allow])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        capsmith(h, &["settings", "set", "network.timeout_ms", "60000"])
            .status
            .code(),
        Some(0)
    );

    // The run is killed while step `two` waits for its answer.
    let mut child = Command::new(env!("CARGO_BIN_EXE_capsmith"))
        .arg("--home")
        .arg(h)
        .args(["workflow", "run", "wf-resume"])
        .env_remove("CAPSMITH_HOME")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while received("/hang-once/wf-two") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "step two never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let runs = capsmith(h, &["workflow", "runs", "wf-resume", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(v[0]["status"], "interrupted", "{v}");
    let steps: Vec<(&str, &str)> = v[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("one", "ok"), ("two", "running")]);
    let run_id = v[0]["id"].as_i64().unwrap().to_string();

    let resumed = capsmith(h, &["workflow", "resume", &run_id, "--json"]);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stdout)
    );
    let r: serde_json::Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(r["status"], "ok");
    assert_eq!(r["resumed_from"].as_i64().unwrap().to_string(), run_id);
    // Step one's side effect happened once; two ran again; three ran for the first time.
    assert_eq!(received("/echo/wf-one"), 1);
    assert_eq!(received("/hang-once/wf-two"), 2);
    assert_eq!(received("/echo/wf-three"), 1);
    // A finished run does not resume.
    let again = capsmith(h, &["workflow", "resume", &r["id"].to_string()]);
    assert_eq!(again.status.code(), Some(1));
}

/// A stand-in for the sandbox worker that speaks the protocol but reports weaker confinement
/// (no Landlock) and would run anything it is sent: the host must refuse it before sending code.
const WEAK_WORKER: &str = r#"#!/usr/bin/python3
import json, struct, sys
def send(msg):
    b = json.dumps(msg).encode()
    sys.stdout.buffer.write(struct.pack(">I", len(b)) + b)
    sys.stdout.buffer.flush()
send({"type": "ready", "confinement": {"rlimit_as": True, "rlimit_nofile": True, "landlock": False, "seccomp": True}})
while True:
    head = sys.stdin.buffer.read(4)
    if len(head) < 4:
        break
    msg = json.loads(sys.stdin.buffer.read(struct.unpack(">I", head)[0]))
    if msg.get("type") == "invoke":
        send({"type": "done", "ok": True, "output": {"slug": "ran-outside-confinement"}, "kind": None, "message": None, "console": [], "memory_used": 0})
    if msg.get("type") == "inspect":
        send({"type": "inspected", "Ok": {"id": "probe", "name": "P", "version": "1.0.0", "description": None, "icon": None, "author": None, "category": None, "tags": [], "permissions": ["compute.light"], "actions": ["a"], "config": []}})
"#;

#[test]
fn a_worker_that_is_not_fully_confined_is_refused_unless_the_user_opts_out() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let fake = home.path().join("weak-worker");
    std::fs::write(&fake, WEAK_WORKER).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fake = fake.to_str().unwrap();
    // The library is made (and its examples seeded) with the real worker; a weak one appears
    // afterwards.
    let o = capsmith(h, &["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("text-toolkit"), "{}", stdout(&o));
    // Validation evaluates a module only in a confined worker: with the weak one, a JavaScript
    // capability does not validate, and says why.
    let module = h.join("probe.js");
    std::fs::write(
        &module,
        "export default { id: 'probe', name: 'P', version: '1.0.0', permissions: ['compute.light'], actions: { a() { return 1 } } };\n",
    )
    .unwrap();
    let o = capsmith_stdin(
        h,
        &["validate", module.to_str().unwrap()],
        "",
        &[("CAPSMITH_SANDBOX_BIN", fake)],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error[sandbox-unconfined]") && out.contains("missing: Landlock"),
        "{out}"
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "text-toolkit",
            "slugify",
            "--input",
            r#"{"text": "Hi there"}"#,
        ];
        args.extend_from_slice(extra);
        capsmith_stdin(h, &args, "", &[("CAPSMITH_SANDBOX_BIN", fake)])
    };
    let report =
        || -> serde_json::Value { serde_json::from_slice(&run(&["--json"]).stdout).unwrap() };
    let o = run(&[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("error[sandbox_unconfined]"), "{out}");
    assert!(
        out.contains("missing: Landlock"),
        "names what is missing: {out}"
    );
    assert!(!out.contains("ran-outside-confinement"), "{out}");
    let r = report();
    assert_eq!(r["error"]["kind"], "sandbox_unconfined");
    assert_eq!(r["sandbox_unconfined"], false);

    // The opt-out is explicit, and every report says it is on.
    let o = capsmith(h, &["settings", "set", "sandbox.allow_unconfined", "maybe"]);
    assert_eq!(o.status.code(), Some(1), "only true or false");
    let o = capsmith(h, &["settings", "set", "sandbox.allow_unconfined", "true"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("ran-outside-confinement"), "{out}");
    assert!(
        out.contains("sandbox.allow_unconfined"),
        "the report says so: {out}"
    );
    assert_eq!(report()["sandbox_unconfined"], true);
    let o = capsmith_stdin(
        h,
        &["validate", module.to_str().unwrap()],
        "",
        &[("CAPSMITH_SANDBOX_BIN", fake)],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "validation honours the opt-out: {}",
        stdout(&o)
    );

    // Turned off again: refused again.
    capsmith(h, &["settings", "unset", "sandbox.allow_unconfined"]);
    let o = run(&[]);
    assert!(
        stdout(&o).contains("error[sandbox_unconfined]"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_named_schema_comes_from_the_manifest_or_the_users_library() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // Not in the manifest: a warning, not an error.
    import_ok(h, &h.join("check.yaml"), "capability:\n  id: person-check\n  name: Person check\n  version: 1.0.0\n  type: workflow\n  actions: [{ id: go, inputs: [{ name: person, type: object }] }]\n  workflow:\n    steps:\n      - { id: check, action: validate.schema, input: '${input.person}', schema: person }\n  permissions: [compute.light]\n");
    let run = |person: &str| {
        capsmith(
            h,
            &[
                "workflow",
                "run",
                "person-check",
                "--input",
                &format!("{{\"person\": {person}}}"),
                "--json",
            ],
        )
    };
    let o = run(r#"{"name": "Ada"}"#);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("capsmith schema add person"),
        "{}",
        stdout(&o)
    );
    // A broken schema file is refused with its file, line and column; nothing is stored.
    let bad = h.join("person.json");
    std::fs::write(
        &bad,
        "{\n  \"type\": \"object\",\n  \"required\": [\"name\"\n}\n",
    )
    .unwrap();
    let o = capsmith(h, &["schema", "add", "person", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid_schema") && err.contains("person.json:4:"),
        "{err}"
    );
    std::fs::write(&bad, "{\"type\": \"object\", \"required\": 7}").unwrap();
    let o = capsmith(h, &["schema", "add", "person", bad.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a valid JSON Schema"));
    assert!(stdout(&capsmith(h, &["schema", "list"])).contains("no schemas yet"));
    // Added to the library: the run resolves it.
    let good = h.join("person.yaml");
    std::fs::write(
        &good,
        "type: object\nrequired: [name]\nproperties:\n  name: { type: string }\n",
    )
    .unwrap();
    let o = capsmith(h, &["schema", "add", "person", good.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(run(r#"{"name": "Ada"}"#).status.code(), Some(0));
    let o = run(r#"{"age": 3}"#);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("does not match the schema"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        capsmith(h, &["schema", "remove", "person"]).status.code(),
        Some(0)
    );
    assert_eq!(run(r#"{"name": "Ada"}"#).status.code(), Some(1));
}
