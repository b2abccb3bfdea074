//! The red-team suite: hostile capability code against the QuickJS sandbox in its worker
//! process. Every case must end with the right typed error within its limit, leave this process
//! alive, and leave the next invocation unaffected.

use std::time::{Duration, Instant};

use capsmith_core::api::dto::RunReport;
use capsmith_core::api::run::Origin;
use capsmith_core::api::Capsmith;
use serde_json::{json, Value};

use crate::loopback::Loopback;

/// Sandbox tests run one at a time: one of them kills this process's worker children.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn use_built_worker() {
    // SAFETY: set once, before any worker is started, to the same value by every test.
    unsafe { std::env::set_var("CAPSMITH_SANDBOX_BIN", crate::sandbox_bin()) };
}

async fn app() -> (tempfile::TempDir, Capsmith) {
    use_built_worker();
    let dir = tempfile::tempdir().unwrap();
    let app = Capsmith::open(dir.path().join("home")).await.unwrap();
    (dir, app)
}

/// Imports a code capability whose module is `actions` (the body of the `actions` object).
async fn code(app: &Capsmith, id: &str, actions: &str, permissions: &[&str], domains: &[&str]) {
    let source = format!("export default {{\n  id: '{id}',\n  actions: {{\n{actions}\n  }}\n}};\n");
    let doc = json!({"capability": {
        "id": id, "name": id, "version": "1.0.0", "type": "code",
        "code": {"source": source},
        "allowed_domains": domains,
        "permissions": permissions,
    }});
    app.import_bytes(&format!("{id}.json"), doc.to_string().as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
}

async fn run(app: &Capsmith, id: &str, action: &str, input: Value) -> (RunReport, Duration) {
    let t = Instant::now();
    let r = app
        .run_action(id, None, action, &input, Origin::Cli)
        .await
        .unwrap();
    (r, t.elapsed())
}

fn kind(r: &RunReport) -> &str {
    r.error.as_ref().map(|e| e.kind.as_str()).unwrap_or("ok")
}

/// The capability `still_fine` calls.
async fn benign(app: &Capsmith) {
    code(
        app,
        "benign",
        "    add({ a, b }) { return a + b; }",
        &["compute.light"],
        &[],
    )
    .await;
}

/// A benign call still works after each hostile one.
async fn still_fine(app: &Capsmith) {
    let (r, _) = run(app, "benign", "add", json!({"a": 2, "b": 3})).await;
    assert!(r.ok, "the next invocation is unaffected: {:?}", r.error);
    assert_eq!(r.output, Some(json!(5)));
}

#[tokio::test]
async fn the_design_data_analyzer_runs_on_csv() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    let (r, _) = run(&app, "data-analyzer", "analyzeDataset", json!({"dataset": "day,value\nmon,1\ntue,2\nwed,3\nthu,4\nfri,100\n", "analysisType": "statistical"})).await;
    assert!(r.ok, "{:?}", r.error);
    let out = r.output.unwrap();
    // Numbers of every numeric column: 1, 2, 3, 4, 100.
    assert_eq!(out["mean"], json!(22));
    assert_eq!(out["median"], json!(3));
    assert_eq!(out["outliers"], json!([100]));
    let (r, _) = run(
        &app,
        "data-analyzer",
        "analyzeDataset",
        json!({"dataset": "v\n1", "analysisType": "nope"}),
    )
    .await;
    assert_eq!(kind(&r), "js_error");
    assert!(r.error.unwrap().message.contains("Unknown analysis type"));
    let (r, _) = run(
        &app,
        "text-toolkit",
        "slugify",
        json!({"text": "Hello, World!"}),
    )
    .await;
    assert_eq!(r.output, Some(json!({"slug": "hello-world"})));
    let (r, _) = run(&app, "text-toolkit", "slugify", json!({})).await;
    assert_eq!(kind(&r), "invalid_input", "declared inputs are checked");
}

#[tokio::test]
async fn runaway_code_is_stopped_within_its_limit() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    benign(&app).await;
    let cases: &[(&str, &str, &str)] = &[
        ("sync-loop", "    go() { for (;;) {} }", "timeout"),
        ("async-loop", "    async go() { for (;;) {} }", "timeout"),
        (
            "swallow",
            "    go() { for (;;) { try { for (;;) {} } catch (e) {} } }",
            "timeout",
        ),
        (
            "catch-loop",
            "    async go() { for (;;) { await Promise.reject(1).catch(() => {}); } }",
            "timeout",
        ),
        (
            "redos",
            "    go() { return /^(a+)+$/.test('a'.repeat(40) + '!'); }",
            "timeout",
        ),
        (
            "getter",
            "    go() { return { get x() { for (;;) {} } }; }",
            "timeout",
        ),
        (
            "never",
            "    async go() { await new Promise(() => {}); }",
            "never_settles",
        ),
        (
            "push",
            "    go() { const a = []; for (;;) a.push(new Array(100000).fill(1)); }",
            "out_of_memory",
        ),
        (
            "recursion",
            "    go() { const f = (n) => f(n + 1) + 1; return f(0); }",
            "stack_overflow",
        ),
        ("throw42", "    go() { throw 42; }", "js_error"),
        (
            "hostile-throw",
            "    go() { throw { get message() { for (;;) {} }, toString() { for (;;) {} } }; }",
            "js_error",
        ),
    ];
    for (id, body, expected) in cases {
        code(&app, id, body, &["compute.light"], &[]).await;
        let (r, took) = run(&app, id, "go", json!({})).await;
        assert_eq!(kind(&r), *expected, "{id}: {:?}", r.error);
        // compute.light is 1 s; the watchdog allows 100 ms more. Loose here: the machine is shared.
        assert!(took < Duration::from_millis(2500), "{id} took {took:?}");
        still_fine(&app).await;
    }
}

#[tokio::test]
async fn memory_and_output_bombs() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    benign(&app).await;
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "repeat",
            "    go() { return 'x'.repeat(2 ** 29).length; }",
            &["out_of_memory", "js_error"],
        ),
        (
            "bigint",
            "    go() { let x = 3n; for (;;) x = x * x; }",
            &["out_of_memory", "timeout"],
        ),
        (
            "deep-json",
            "    go() { return JSON.parse('['.repeat(1e6)); }",
            &["stack_overflow", "js_error"],
        ),
        (
            "huge-return",
            "    go() { return 'x'.repeat(100 * 1024 * 1024); }",
            &["output_too_large"],
        ),
        (
            "big-output",
            "    go() { return 'y'.repeat(10 * 1024 * 1024); }",
            &["output_too_large"],
        ),
        (
            "big-to-json",
            "    go() { return { toJSON() { return 'z'.repeat(50 * 1024 * 1024); } }; }",
            &["output_too_large"],
        ),
        (
            "wide-keys",
            "    go() { const o = {}; for (let i = 0; i < 200; i++) o['k'.repeat(60000) + i] = i; return o; }",
            &["output_too_large"],
        ),
    ];
    for (id, body, expected) in cases {
        code(&app, id, body, &["compute.light"], &[]).await;
        let (r, took) = run(&app, id, "go", json!({})).await;
        assert!(expected.contains(&kind(&r)), "{id}: {:?}", r.error);
        if *expected == ["output_too_large"] {
            assert!(
                r.error.as_ref().unwrap().message.contains("larger than"),
                "{id}: {:?}",
                r.error
            );
        }
        assert!(took < Duration::from_millis(2500), "{id} took {took:?}");
        still_fine(&app).await;
    }
    // Counting while writing refuses nothing within the cap: 400,000 small values (0.8 MB).
    code(
        &app,
        "many-small",
        "    go() { return new Array(400000).fill(1); }",
        &["compute.light"],
        &[],
    )
    .await;
    let (r, _) = run(&app, "many-small", "go", json!({})).await;
    assert!(r.ok, "{:?}", r.error);
    assert_eq!(r.output.unwrap().as_array().unwrap().len(), 400000);
}

#[tokio::test]
async fn no_host_objects_and_no_state_between_runs() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    code(
        &app,
        "probe",
        r#"    escape() { try { return this.constructor.constructor('return this')(); } catch (e) { return 'blocked: ' + e.name; } },
    globals() {
      const g = (function () {}).constructor('return this')();
      return { names: Object.getOwnPropertyNames(g).filter((n) => n.startsWith('__host')),
               require: typeof require, process: typeof process, std: typeof std, os: typeof os,
               setTimeout: typeof setTimeout, fetch: typeof fetch, WebAssembly: typeof WebAssembly };
    },
    // A plain `import('os')` is refused when the module is validated; built at run time
    // instead, it must still find no module loader.
    async dynamicImport() { try { await (0, eval)("import('o' + 's')"); return 'imported'; } catch (e) { return 'rejected'; } },
    pollute() { Object.prototype.polluted = 'yes'; Array.prototype.push = () => 0; return 1; },
    check() { return { polluted: ({}).polluted === undefined ? 'clean' : 'polluted', push: [1].push(2) }; },
    bump() { globalThis.counter = (globalThis.counter || 0) + 1; return globalThis.counter; },
    spin() { for (;;) {} },"#,
        &["compute.light"],
        &[],
    )
    .await;
    let (r, _) = run(&app, "probe", "escape", json!({})).await;
    assert_eq!(r.output, Some(json!("blocked: TypeError")), "{:?}", r.error);
    let (r, _) = run(&app, "probe", "globals", json!({})).await;
    assert_eq!(
        r.output,
        Some(
            json!({"names": [], "require": "undefined", "process": "undefined", "std": "undefined", "os": "undefined",
                    "setTimeout": "undefined", "fetch": "undefined", "WebAssembly": "undefined"})
        ),
        "without a network permission there is no fetch"
    );
    let (r, _) = run(&app, "probe", "dynamicImport", json!({})).await;
    assert_eq!(r.output, Some(json!("rejected")));
    run(&app, "probe", "pollute", json!({})).await;
    let (r, _) = run(&app, "probe", "check", json!({})).await;
    assert_eq!(
        r.output,
        Some(json!({"polluted": "clean", "push": 2})),
        "a later run starts clean"
    );
    // Workers are reused between calls, their state never: a global set by one call is gone
    // in the next, also after a call that ran out of time.
    for _ in 0..3 {
        let (r, _) = run(&app, "probe", "bump", json!({})).await;
        assert_eq!(r.output, Some(json!(1)), "{:?}", r.error);
    }
    let (r, _) = run(&app, "probe", "spin", json!({})).await;
    assert_eq!(kind(&r), "timeout");
    let (r, _) = run(&app, "probe", "bump", json!({})).await;
    assert_eq!(r.output, Some(json!(1)));
}

#[tokio::test]
async fn fetch_goes_through_the_guard() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    let lb = Loopback::start().await;
    let base = lb.base();
    code(
        &app,
        "fetcher",
        &format!(
            r#"    async get({{ url }}) {{ try {{ const r = await fetch(url); return {{ status: r.status, body: await r.json() }}; }} catch (e) {{ return {{ refused: e.message }}; }} }},
    async flood() {{ const rs = await Promise.allSettled(Array.from({{ length: 1000 }}, () => fetch('{base}/echo'))); return rs.filter((r) => r.status === 'fulfilled').length; }},
    async proxyOptions() {{ const o = new Proxy({{}}, {{ get: (t, k) => (k === 'method' ? 'GET' : undefined) }}); const r = await fetch('{base}/echo', o); return (await r.json()).method; }},
    async toctou() {{ let n = 0; const u = {{ toString() {{ n++; return n === 1 ? '{base}/echo' : 'http://169.254.169.254/'; }} }}; const r = await fetch(u); return {{ reads: n, target: (await r.json()).target }}; }},
    async otherSecret() {{ try {{ await fetch('{base}/echo', {{ headers: {{ Authorization: 'Bearer ${{OTHER_CAPABILITY_KEY}}' }} }}); return 'sent'; }} catch (e) {{ return e.message; }} }},"#
        ),
        &["compute.light", "network.http.get"],
        &[&format!("127.0.0.1:{}", lb.port)],
    )
    .await;
    crate::allow_loopback(&app, lb.port).await;
    let (r, _) = run(
        &app,
        "fetcher",
        "get",
        json!({"url": format!("{base}/echo")}),
    )
    .await;
    assert_eq!(r.output.as_ref().unwrap()["status"], 200, "{:?}", r.error);
    assert_eq!(r.calls.len(), 1, "the run reports the call");
    lb.clear();
    for url in [
        "https://example.com/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        &format!("{base}/redirect-to?to=http://169.254.169.254/"),
    ] {
        let (r, _) = run(&app, "fetcher", "get", json!({"url": url})).await;
        let refused = r
            .output
            .as_ref()
            .and_then(|o| o["refused"].as_str())
            .unwrap_or_default()
            .to_string();
        assert!(
            ["domain_not_allowed", "private_address", "insecure_scheme"]
                .iter()
                .any(|k| refused.starts_with(k)),
            "{url}: {:?} {:?}",
            r.output,
            r.error
        );
    }
    assert_eq!(
        lb.requests().len(),
        1,
        "only the redirecting request arrived"
    );
    lb.clear();
    let (r, _) = run(&app, "fetcher", "flood", json!({})).await;
    assert_eq!(r.output, Some(json!(10)), "{:?}", r.error);
    assert_eq!(
        lb.requests().len(),
        10,
        "exactly the budget reached the server"
    );
    let (r, _) = run(&app, "fetcher", "proxyOptions", json!({})).await;
    assert_eq!(r.output, Some(json!("GET")), "{:?}", r.error);
    lb.clear();
    let (r, _) = run(&app, "fetcher", "toctou", json!({})).await;
    assert_eq!(
        r.output,
        Some(json!({"reads": 1, "target": "/echo"})),
        "{:?}",
        r.error
    );
    let (r, _) = run(&app, "fetcher", "otherSecret", json!({})).await;
    assert!(
        r.output
            .as_ref()
            .and_then(|o| o.as_str())
            .is_some_and(|s| s.starts_with("missing_config")),
        "{:?}",
        r.output
    );
}

#[tokio::test]
async fn a_killed_worker_costs_one_call() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    benign(&app).await;
    code(
        &app,
        "slow",
        "    go() { for (;;) {} }",
        &["compute.moderate"],
        &[],
    )
    .await;
    let me = std::process::id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        // SIGKILL this process's sandbox workers (and nothing else).
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let is_worker = stat.contains("(capsmith-sandbo");
            if is_worker && fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(me) {
                let pid: i32 = entry.file_name().to_string_lossy().parse().unwrap();
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    });
    let (r, took) = run(&app, "slow", "go", json!({})).await;
    killer.join().unwrap();
    assert_eq!(kind(&r), "sandbox_crashed", "{:?}", r.error);
    assert!(
        took < Duration::from_secs(5),
        "ended by the crash, not the 10 s deadline: {took:?}"
    );
    still_fine(&app).await;
}

#[tokio::test]
async fn db_is_the_capabilitys_own_and_follows_its_permissions() {
    let _g = SERIAL.lock().await;
    let (dir, app) = app().await;
    let body = r#"    async setup() { await this.db.query('CREATE TABLE IF NOT EXISTS customers (name TEXT, status TEXT)'); return 1; },
    async add({ name, status }) { return this.db.query('INSERT INTO customers (name, status) VALUES ($1, $2)', [name, status]); },
    async find({ status }) { return this.db.query('SELECT name FROM customers WHERE status = $1 ORDER BY name', [status]); },
    async two() { try { await this.db.query('SELECT 1; DROP TABLE customers'); return 'ran'; } catch (e) { return e.message; } },
    async attach() { try { await this.db.query("ATTACH DATABASE 'registry.sqlite3' AS r"); return 'ran'; } catch (e) { return e.message; } },
    async wipe() { try { await this.db.query('DELETE FROM customers'); return 'deleted'; } catch (e) { return e.message; } },"#;
    code(
        &app,
        "crm",
        body,
        &["compute.light", "data.read", "data.write"],
        &[],
    )
    .await;
    run(&app, "crm", "setup", json!({})).await;
    let (r, _) = run(
        &app,
        "crm",
        "add",
        json!({"name": "Ada", "status": "active"}),
    )
    .await;
    assert_eq!(r.output.as_ref().unwrap()["changes"], 1, "{:?}", r.error);
    // A parameter is data, never SQL.
    run(
        &app,
        "crm",
        "add",
        json!({"name": "x'); DROP TABLE customers; --", "status": "active"}),
    )
    .await;
    run(&app, "crm", "add", json!({"name": "Bob", "status": "gone"})).await;
    let (r, _) = run(&app, "crm", "find", json!({"status": "active"})).await;
    assert_eq!(
        r.output,
        Some(json!([{"name": "Ada"}, {"name": "x'); DROP TABLE customers; --"}])),
        "{:?}",
        r.error
    );
    let (r, _) = run(&app, "crm", "two", json!({})).await;
    assert!(
        r.output
            .as_ref()
            .unwrap()
            .as_str()
            .unwrap()
            .contains("one statement"),
        "{:?}",
        r.output
    );
    let (r, _) = run(&app, "crm", "attach", json!({})).await;
    assert!(
        r.output
            .as_ref()
            .unwrap()
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{:?}",
        r.output
    );
    let (r, _) = run(&app, "crm", "wipe", json!({})).await;
    assert!(
        r.output
            .as_ref()
            .unwrap()
            .as_str()
            .unwrap()
            .contains("data.delete"),
        "deleting needs data.delete: {:?}",
        r.output
    );
    assert!(
        dir.path().join("home/data/crm.sqlite3").exists(),
        "its own file, beside the registry"
    );
    // Read-only: writes are refused.
    code(
        &app,
        "crm-reader",
        body,
        &["compute.light", "data.read"],
        &[],
    )
    .await;
    let (r, _) = run(&app, "crm-reader", "setup", json!({})).await;
    assert_eq!(kind(&r), "permission_denied", "{:?}", r.error);
    assert!(r.security_violation);
    assert!(r.error.unwrap().message.contains("data.write"));
    // No data permission: no db at all.
    code(
        &app,
        "no-db",
        "    go() { return typeof this.db + '/' + typeof db; }",
        &["compute.light"],
        &[],
    )
    .await;
    let (r, _) = run(&app, "no-db", "go", json!({})).await;
    assert_eq!(r.output, Some(json!("undefined/undefined")));
    assert!(
        app.list(None).await.unwrap().iter().any(|c| c.id == "crm"),
        "the registry is intact"
    );
}

#[tokio::test]
async fn fetches_that_never_answer_or_outlive_the_action() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    let lb = Loopback::start().await;
    benign(&app).await;
    let base = lb.base();
    code(
        &app,
        "late",
        &format!(
            "    hang() {{ return fetch('{base}/trickle').then((r) => r.text()); }},\n    fireAndForget() {{ fetch('{base}/echo'); return 'returned'; }},\n    async asyncForget() {{ fetch('{base}/echo?async'); return 'returned'; }},\n    async afterOne() {{ await fetch('{base}/echo?first'); fetch('{base}/echo?second'); fetch('{base}/echo?third'); return 'ok'; }},"
        ),
        &["compute.light", "network.http.get"],
        &[&format!("127.0.0.1:{}", lb.port)],
    )
    .await;
    crate::allow_loopback(&app, lb.port).await;
    let (r, took) = run(&app, "late", "hang", json!({})).await;
    assert_eq!(kind(&r), "timeout", "{:?}", r.error);
    assert!(took < Duration::from_millis(2500), "{took:?}");
    still_fine(&app).await;
    lb.clear();
    let (r, _) = run(&app, "late", "fireAndForget", json!({})).await;
    assert_eq!(r.output, Some(json!("returned")), "{:?}", r.error);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        lb.requests().is_empty(),
        "a call the action did not wait for is never sent"
    );
    // The same for an async action, and for calls made after the last one it waited for.
    let (r, _) = run(&app, "late", "asyncForget", json!({})).await;
    assert_eq!(r.output, Some(json!("returned")), "{:?}", r.error);
    let (r, _) = run(&app, "late", "afterOne", json!({})).await;
    assert_eq!(r.output, Some(json!("ok")), "{:?}", r.error);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let targets: Vec<String> = lb.requests().iter().map(|q| q.target.clone()).collect();
    assert_eq!(targets, ["/echo?first"], "only the awaited call was sent");
}

#[test]
fn the_worker_confines_itself_before_running_anything() {
    // The worker binary confines itself, then makes, as raw syscalls, what confinement must
    // refuse: each is denied by the seccomp allow-list itself (EPERM), whatever Landlock and the
    // rlimits would also have said.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "still here").unwrap();
    let out = std::process::Command::new(crate::sandbox_bin())
        .arg("--self-test")
        .arg(&victim)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(
        report["confinement"],
        json!({"rlimit_as": true, "rlimit_nofile": true, "landlock": true, "seccomp": true}),
        "full confinement on this kernel: {report}"
    );
    for attempt in [
        "socket", "openat", "unlinkat", "kill", "ptrace", "fork", "execve",
    ] {
        assert_eq!(
            report[attempt],
            json!(libc_eperm()),
            "{attempt} must fail with EPERM from the filter: {report}"
        );
    }
    assert_ne!(report["mmap_4gib"], json!("allowed"), "{report}");
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "still here",
        "the file the worker tried to delete is intact"
    );
}

/// EPERM, the errno the seccomp filter answers with.
fn libc_eperm() -> i64 {
    1
}

/// Rows of `t` in a capability's own database, read by the test itself.
async fn rows_in(path: &std::path::Path) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

#[tokio::test]
async fn db_statements_are_authorised_by_what_sqlite_will_do() {
    use sqlx::Connection;
    let _g = SERIAL.lock().await;
    let (dir, app) = app().await;
    // The reader's database holds three rows, put there by the test.
    let data = dir.path().join("home/data");
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("reader.sqlite3");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let body = r#"    async q({ sql }) { try { return { rows: await this.db.query(sql) }; } catch (e) { return { kind: e.kind, message: e.message }; } },"#;
    code(&app, "reader", body, &["compute.light", "data.read"], &[]).await;
    let escape = dir.path().join("escaped.sqlite3");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "WITH a AS (SELECT 1) DELETE FROM t".into(),
            "permission_denied",
            "data.delete",
        ),
        (
            "WITH a AS (SELECT 1) UPDATE t SET v = 'x'".into(),
            "permission_denied",
            "data.write",
        ),
        (
            "INSERT INTO t (v) SELECT v FROM t".into(),
            "permission_denied",
            "data.write",
        ),
        (
            "REPLACE INTO t VALUES (1, 'z')".into(),
            "permission_denied",
            "data.write",
        ),
        (
            "CREATE TABLE u (y)".into(),
            "permission_denied",
            "data.write",
        ),
        ("DROP TABLE t".into(), "permission_denied", "data.delete"),
        (
            "  /* hi */ delete from t".into(),
            "permission_denied",
            "data.delete",
        ),
        (
            format!("VACUUM INTO '{}'", escape.display()),
            "bad_request",
            "not allowed",
        ),
        ("VACUUM".into(), "bad_request", "not allowed"),
        (
            format!("ATTACH DATABASE '{}' AS x", escape.display()),
            "bad_request",
            "not allowed",
        ),
        (
            "PRAGMA writable_schema = ON".into(),
            "bad_request",
            "not allowed",
        ),
        (
            "PRAGMA journal_mode = OFF".into(),
            "bad_request",
            "not allowed",
        ),
        (
            "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libm.so.6')".into(),
            "bad_request",
            "not allowed",
        ),
        (
            "SELECT 1; DELETE FROM t".into(),
            "bad_request",
            "one statement",
        ),
        (
            "CREATE VIRTUAL TABLE v USING fts5(a)".into(),
            "bad_request",
            "not allowed",
        ),
    ];
    for (sql, kind, says) in &cases {
        let (r, _) = run(&app, "reader", "q", json!({ "sql": sql })).await;
        let out = r.output.clone().unwrap_or_default();
        assert_eq!(out["kind"], json!(kind), "{sql}: {out} {:?}", r.error);
        assert!(
            out["message"].as_str().unwrap_or("").contains(says),
            "{sql}: {out}"
        );
    }
    assert!(!escape.exists(), "VACUUM INTO / ATTACH wrote no file");
    assert_eq!(rows_in(&file).await, 3, "nothing was changed");
    // What it may do, it does: reads, through a CTE or the schema pragmas.
    for sql in [
        "WITH a AS (SELECT x FROM t) SELECT count(*) AS n FROM a",
        "SELECT count(*) AS n FROM pragma_table_info('t')",
    ] {
        let (r, _) = run(&app, "reader", "q", json!({ "sql": sql })).await;
        let out = r.output.unwrap();
        assert!(out["rows"][0]["n"].as_i64().unwrap() >= 2, "{sql}: {out}");
    }

    // A writer without data.delete may insert and update, not delete.
    code(
        &app,
        "writer",
        body,
        &["compute.light", "data.read", "data.write"],
        &[],
    )
    .await;
    for (sql, ok) in [
        ("CREATE TABLE t (x INTEGER PRIMARY KEY, v TEXT)", true),
        ("INSERT INTO t (v) VALUES ('a'), ('b')", true),
        ("UPDATE t SET v = 'c' WHERE x = 1 RETURNING v", true),
        ("DELETE FROM t WHERE x = 1", false),
        ("WITH gone AS (SELECT 1) DELETE FROM t", false),
        ("DROP TABLE t", false),
    ] {
        let (r, _) = run(&app, "writer", "q", json!({ "sql": sql })).await;
        let out = r.output.unwrap();
        assert_eq!(out.get("rows").is_some(), ok, "{sql}: {out}");
    }
    assert_eq!(rows_in(&data.join("writer.sqlite3")).await, 2);
}

#[tokio::test]
async fn runaway_and_huge_queries_stop_at_their_limits() {
    let _g = SERIAL.lock().await;
    let (_d, app) = app().await;
    benign(&app).await;
    let body = r#"    async forever() { return this.db.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c'); },
    async many() { return (await this.db.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c')).length; },
    async wide() { return this.db.query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5000) SELECT printf('%.*c', 5000, 'x') AS s FROM c"); },"#;
    code(&app, "runaway", body, &["compute.light", "data.read"], &[]).await;
    // Unbounded rows: cut at the cap without reading the rest (an endless CTE).
    let (r, _) = run(&app, "runaway", "many", json!({})).await;
    assert_eq!(r.output, Some(json!(10_000)), "{:?}", r.error);
    // 25 MB of text: refused as it is read.
    let (r, _) = run(&app, "runaway", "wide", json!({})).await;
    assert_eq!(kind(&r), "data", "{:?}", r.error);
    assert!(r.error.unwrap().message.contains("larger than"));
    // Four endless queries at once end at their deadline (compute.light: 1 s), and a fifth,
    // benign capability is not kept waiting behind them.
    let t = Instant::now();
    let runaways: Vec<_> = (0..4)
        .map(|_| run(&app, "runaway", "forever", json!({})))
        .collect();
    let (runaways, (benign, _)) = tokio::join!(
        futures_util::future::join_all(runaways),
        run(&app, "benign", "add", json!({"a": 1, "b": 2}))
    );
    for (r, _) in &runaways {
        assert_eq!(kind(r), "timeout", "{:?}", r.error);
    }
    assert_eq!(benign.output, Some(json!(3)), "{:?}", benign.error);
    // Without the interrupt each runaway ran for more than 30 s; with it, all five are done
    // within a few deadlines even on a loaded machine.
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    still_fine(&app).await;
}
