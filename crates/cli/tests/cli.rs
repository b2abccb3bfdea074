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
    assert!(out.contains("custom-db-query.js:7:16"), "{out}");

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
    std::fs::write(
        &file,
        "capability:\n  id: echo-cli\n  name: Echo CLI\n  version: 2.1.0\n  tags: [zebra]\n  actions: [{ id: echo, inputs: [{ name: q, type: string }] }]\n  integration: { type: api, endpoint: 'https://echo.example.com/e', params: { q: '${input.q}' } }\n  permissions: [network.http.get]\n",
    )
    .unwrap();
    let o = capsmith(h, &["import", file.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
