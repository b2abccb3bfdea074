//! The crate graph is the architecture: `cargo metadata`'s resolved dependency graph (normal
//! dependencies, transitively, for this platform) is checked against the arrows the design
//! forbids. A crate that gains one of them fails here, not in a review.

use std::collections::{BTreeSet, HashMap};

// The banned lists name crates by package name; `forbid` also matches their `-suffixed` family
// (`keyring` matches `keyring-core`).

/// What talks to the world or keeps state: a database, the network, the keyring, mail, an
/// async runtime, the Secret Service's bus.
const SERVICES: &[&str] = &[
    "sqlx",
    "libsqlite3-sys",
    "reqwest",
    "hyper",
    "keyring",
    "lettre",
    "axum",
    "tokio",
    "zbus",
];

/// Package name → the package names it depends on (normal dependencies only).
fn graph() -> HashMap<String, Vec<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            "x86_64-unknown-linux-gnu",
        ])
        .current_dir(crate::repo_root())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut g = HashMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let name = names[node["id"].as_str().unwrap()].to_string();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| names[d["pkg"].as_str().unwrap()].to_string())
            .collect();
        g.insert(name, deps);
    }
    g
}

/// Everything `root` links, itself excluded.
fn closure(g: &HashMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(n) = todo.pop() {
        for d in g.get(&n).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

fn forbid(g: &HashMap<String, Vec<String>>, krate: &str, why: &str, banned: &[&str]) {
    let links = closure(g, krate);
    let found: Vec<&str> = banned
        .iter()
        .copied()
        .filter(|b| {
            links
                .iter()
                .any(|l| l == b || l.starts_with(&format!("{b}-")))
        })
        .collect();
    assert!(found.is_empty(), "{krate} must not link {found:?}: {why}");
}

#[test]
fn the_dependency_graph_keeps_the_layers() {
    let g = graph();
    for k in [
        "capsmith-sandbox",
        "capsmith-sandbox-protocol",
        "capsmith-format",
        "capsmith-core",
        "capsmith-market",
    ] {
        assert!(g.contains_key(k), "the workspace has no {k}");
    }
    // The graph is read right: what each side must link, it does.
    assert!(closure(&g, "capsmith-sandbox").contains("rquickjs"));
    assert!(closure(&g, "capsmith-core").contains("sqlx"));
    assert!(closure(&g, "capsmith-core").contains("capsmith-sandbox-protocol"));
    assert!(closure(&g, "capsmith-format").contains("petgraph"));
    assert!(closure(&g, "capsmith-format").contains("capsmith-sandbox-protocol"));
    assert!(closure(&g, "capsmith-market").contains("capsmith-format"));
    let with = |extra: &[&'static str]| [SERVICES, extra].concat();
    forbid(
        &g,
        "capsmith-sandbox",
        "the worker evaluates strangers' code; only its protocol and its engine belong in it",
        &with(&["capsmith-core", "rustls"]),
    );
    // The protocol is plain data and the hosts' end of the pipe (libc: to kill a worker past
    // its deadline): the runtime and the server link it without an engine.
    forbid(
        &g,
        "capsmith-sandbox-protocol",
        "it is types, framing and worker processes, linked by the runtime and the server",
        &with(&["rquickjs", "landlock", "seccompiler", "capsmith-core"]),
    );
    // The formats are pure functions of a file: anyone may link them to read or check one.
    forbid(
        &g,
        "capsmith-format",
        "it says what a manifest, a flow, a package and a wire message are; it does no I/O beyond reading a file and asking a sandbox worker",
        &with(&["rquickjs", "capsmith-core"]),
    );
    // The marketplace server stores and serves packages; it does not run capabilities.
    forbid(
        &g,
        "capsmith-market",
        "the server builds on the formats, not on the runtime (which runs capabilities)",
        &["capsmith-core", "keyring-core", "lettre", "rquickjs"],
    );
    // QuickJS is linked by the worker alone.
    for k in [
        "capsmith-core",
        "capsmith-cli",
        "capsmith-market",
        "capsmith-app",
    ] {
        if g.contains_key(k) {
            forbid(
                &g,
                k,
                "JavaScript runs only in the sandbox worker, a separate process",
                &["rquickjs", "rquickjs-core", "rquickjs-sys"],
            );
        }
    }
}

/// Every file under `crates/core/src`, with its text.
fn core_sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&crate::repo_root().join("crates/core/src"), &mut out);
    out
}

/// Tables with one owner module: no other file writes them (the owners so far; more table
/// groups move to `registry/` as issue 15 goes on).
#[test]
fn tables_are_written_only_by_their_owner() {
    let owners: &[(&str, &str)] = &[
        ("executions", "registry/executions.rs"),
        ("market_", "registry/market.rs"),
    ];
    let sources = core_sources();
    assert!(
        sources.iter().any(|(p, _)| p.ends_with("registry/mod.rs")),
        "read the core's sources"
    );
    for (table, owner) in owners {
        let writes = [
            format!("INTO {table}"),
            format!("UPDATE {table}"),
            format!("DELETE FROM {table}"),
        ];
        let writers: Vec<&str> = sources
            .iter()
            .filter(|(_, text)| writes.iter().any(|w| text.contains(w.as_str())))
            .map(|(path, _)| path.as_str())
            .collect();
        assert!(
            writers.iter().all(|p| p.ends_with(owner)),
            "`{table}` is written outside {owner}: {writers:?}"
        );
        assert!(!writers.is_empty(), "{owner} writes `{table}`");
    }
}
