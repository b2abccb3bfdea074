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

/// Everything reachable from `root` (what it links, or the modules it names), itself excluded.
fn closure<C>(g: &HashMap<String, C>, root: &str) -> BTreeSet<String>
where
    for<'a> &'a C: IntoIterator<Item = &'a String>,
{
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

/// The top-level modules of one crate (`src/<m>.rs` or `src/<m>/…`) and the modules each one
/// names through `crate::` paths (a name the crate root re-exports counts as the module it
/// comes from). Comments are skipped; `super::` never leaves a top-level module.
fn module_graph(src: &std::path::Path) -> HashMap<String, BTreeSet<String>> {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    fn code(text: &str) -> String {
        text.lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n")
    }
    fn ident(s: &str) -> &str {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        &s[..end]
    }
    let mut all = Vec::new();
    files(src, &mut all);
    let top = |p: &std::path::Path| -> Option<String> {
        let rel = p.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?.to_string();
        let name = first.trim_end_matches(".rs").to_string();
        (name != "lib" && name != "main").then_some(name)
    };
    let modules: BTreeSet<String> = all.iter().filter_map(|p| top(p)).collect();
    // What the root re-exports: `pub use error::{CoreError, CoreResult};` → both from `error`.
    let mut reexports: HashMap<String, String> = HashMap::new();
    for root in ["lib.rs", "main.rs"] {
        let Ok(text) = std::fs::read_to_string(src.join(root)) else {
            continue;
        };
        for stmt in code(&text).split(';') {
            let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
                continue;
            };
            let rest = rest.trim_start_matches("crate::");
            let m = ident(rest);
            if !modules.contains(m) {
                continue;
            }
            let names = rest[m.len()..].trim_start_matches("::");
            for n in names.trim_matches(|c| c == '{' || c == '}').split(',') {
                let n = n.split(" as ").last().unwrap_or(n).trim();
                reexports.insert(ident(n).to_string(), m.to_string());
            }
        }
    }
    let mut g: HashMap<String, BTreeSet<String>> = HashMap::new();
    for p in &all {
        let Some(from) = top(p) else { continue };
        let text = code(&std::fs::read_to_string(p).unwrap());
        let deps = g.entry(from.clone()).or_default();
        let mut named = Vec::new();
        for (i, _) in text.match_indices("crate::") {
            // `capsmith_core::x` is another crate, not this one's `crate::`.
            if text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[i + "crate::".len()..];
            if let Some(list) = rest.strip_prefix('{') {
                let list = &list[..list.find('}').unwrap_or(list.len())];
                named.extend(list.split(',').map(|s| ident(s.trim()).to_string()));
            } else {
                named.push(ident(rest).to_string());
            }
        }
        for n in named {
            let m = if modules.contains(&n) {
                Some(n)
            } else {
                reexports.get(&n).cloned()
            };
            if let Some(m) = m.filter(|m| *m != from) {
                deps.insert(m);
            }
        }
    }
    g
}

/// The modules on a cycle, if any: each strongly connected component with more than one.
fn cycles(g: &HashMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &str| closure(g, from);
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for m in g.keys() {
        let r = reach(m);
        let scc: BTreeSet<String> = r
            .iter()
            .filter(|o| *o != m && reach(o).contains(m))
            .cloned()
            .chain([m.clone()])
            .collect();
        if scc.len() > 1 && !out.contains(&scc) {
            out.push(scc);
        }
    }
    out
}

/// Layers inside each crate: its top-level modules call downwards only, so the modules of
/// every workspace crate form no cycle.
#[test]
fn no_crate_has_a_module_cycle() {
    let root = crate::repo_root();
    let mut crates: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    crates.push(root.join("src-tauri/src"));
    assert!(crates.len() >= 7, "read every crate: {crates:?}");
    let mut found = Vec::new();
    for src in &crates {
        let g = module_graph(src);
        for c in cycles(&g) {
            let edges: Vec<String> = c
                .iter()
                .map(|m| {
                    let to: Vec<&str> = g[m]
                        .iter()
                        .filter(|d| c.contains(*d))
                        .map(String::as_str)
                        .collect();
                    format!("{m} → {}", to.join(", "))
                })
                .collect();
            found.push(format!("{}: {}", src.display(), edges.join("; ")));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

/// The cycle finder sees a cycle when there is one (so a pass above means something).
#[test]
fn the_cycle_finder_finds_a_planted_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod a;\npub mod b;\npub mod c;\npub use c::{Thing, Other as O};\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::X;\n// crate::c in a comment is no edge\n",
    )
    .unwrap();
    std::fs::create_dir(src.join("b")).unwrap();
    std::fs::write(src.join("b/mod.rs"), "mod inner;\n").unwrap();
    std::fs::write(src.join("b/inner.rs"), "pub fn f(_: crate::Thing) {}\n").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "use crate::{a, O};\nuse other_crate::b;\n",
    )
    .unwrap();
    let g = module_graph(src);
    assert_eq!(g["a"], BTreeSet::from(["b".to_string()]));
    assert_eq!(
        g["b"],
        BTreeSet::from(["c".to_string()]),
        "a re-exported name counts"
    );
    assert_eq!(g["c"], BTreeSet::from(["a".to_string()]));
    let found = cycles(&g);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 3);
    // Without the back edge there is none.
    std::fs::write(src.join("c.rs"), "pub struct Thing;\npub struct Other;\n").unwrap();
    assert!(cycles(&module_graph(src)).is_empty());
}
