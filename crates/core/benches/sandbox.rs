//! The sandbox against the design's proposed peer, side by side in one run: a full capability
//! invocation (load the module, install the granted APIs, call, JSON in and out) in a fresh
//! QuickJS runtime in-process, the same through a worker process, and Node's `vm` with a new
//! context per call (bench/node-vm-peer.js). Prints p50/p99, calls/s and peak RSS; the figures
//! go to docs/benchmarks.md.
//!
//! cargo bench -p capsmith-core --bench sandbox

use std::time::Instant;

use capsmith_core::engine::guard::NetPolicy;
use capsmith_core::engine::http::Session;
use capsmith_core::sandbox::host::{FetchContext, SandboxHost};
use capsmith_core::sandbox::protocol::{FromWorker, Invocation, ToWorker};
use capsmith_sandbox::engine::{self, HostIo};
use serde_json::json;

const CALLS: usize = 1000;
const SOURCE: &str = "export default { id: 'bench', actions: {\n  add({ a, b }) { return { sum: a + b, mean: this.utils.mean([a, b]) }; }\n} };\n";

struct NoHost;
impl HostIo for NoHost {
    fn send(&mut self, _: &FromWorker) -> std::io::Result<()> {
        Ok(())
    }
    fn recv(&mut self) -> std::io::Result<Option<ToWorker>> {
        Ok(None)
    }
}

fn invocation(i: usize) -> Invocation {
    Invocation {
        source: SOURCE.into(),
        action: "add".into(),
        input: json!({"a": i, "b": 2}),
        config: json!({}),
        granted: vec![],
        memory_bytes: 128 << 20,
        deadline_ms: 1000,
        max_output_bytes: 1 << 20,
    }
}

fn fetch_context() -> FetchContext {
    FetchContext {
        session: Session::new(NetPolicy::default(), vec![]),
        capability: "bench".into(),
        config: Default::default(),
        secrets: Default::default(),
        db: None,
        ai: None,
        usage: Default::default(),
    }
}

fn peak_rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Peak RSS of this process's sandbox workers, summed.
fn workers_peak_rss_mb() -> f64 {
    let me = std::process::id().to_string();
    let mut total = 0.0;
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = e.file_name().to_string_lossy().to_string();
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().nth(1).map(str::to_string));
        if stat.contains("(capsmith-sandbo") && ppid.as_deref() == Some(me.as_str()) {
            total += peak_rss_mb(&pid);
        }
    }
    total
}

struct Figures {
    name: String,
    p50: f64,
    p99: f64,
    per_s: f64,
    rss: f64,
}

fn figures(name: &str, mut lat: Vec<f64>, total_s: f64, rss: f64) -> Figures {
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((p * lat.len() as f64) as usize).min(lat.len() - 1)];
    Figures {
        name: name.into(),
        p50: pct(0.5),
        p99: pct(0.99),
        per_s: lat.len() as f64 / total_s,
        rss,
    }
}

fn main() {
    // `cargo bench` passes flags such as --bench; this harness takes none.
    let mut rows = Vec::new();

    // In-process: a fresh runtime per call.
    for i in 0..50 {
        engine::run(&invocation(i), &mut NoHost);
    }
    let mut lat = Vec::with_capacity(CALLS);
    let start = Instant::now();
    for i in 0..CALLS {
        let t = Instant::now();
        let o = engine::run(&invocation(i), &mut NoHost);
        assert!(o.ok, "{o:?}");
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    rows.push(figures(
        "capsmith in-process (fresh QuickJS runtime per call)",
        lat,
        start.elapsed().as_secs_f64(),
        peak_rss_mb("self"),
    ));

    // Through worker processes (the product path).
    std::env::set_var(
        "CAPSMITH_SANDBOX_BIN",
        // Built by its own crate (`cargo build --release -p capsmith-sandbox`), beside the
        // bench's folder.
        std::env::current_exe()
            .unwrap()
            .parent()
            .and_then(|d| d.parent())
            .unwrap()
            .join("capsmith-sandbox"),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let host = std::sync::Arc::new(SandboxHost::default());
    for i in 0..50 {
        host.invoke_blocking(invocation(i), fetch_context(), false);
    }
    let mut lat = Vec::with_capacity(CALLS);
    let start = Instant::now();
    for i in 0..CALLS {
        let t = Instant::now();
        let r = host.invoke_blocking(invocation(i), fetch_context(), false);
        assert!(r.outcome.ok, "{:?}", r.outcome);
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    rows.push(figures(
        "capsmith via worker process, sequential",
        lat,
        start.elapsed().as_secs_f64(),
        peak_rss_mb("self") + workers_peak_rss_mb(),
    ));

    // Concurrent: 1,000 invocations from 4 callers at once (the pool keeps 2 workers warm).
    let start = Instant::now();
    let lat = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(CALLS)));
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let (host, lat, handle) = (host.clone(), lat.clone(), rt.handle().clone());
            std::thread::spawn(move || {
                let _g = handle.enter();
                for i in 0..CALLS / 4 {
                    let t = Instant::now();
                    let r = host.invoke_blocking(invocation(k * 1000 + i), fetch_context(), false);
                    assert!(r.outcome.ok);
                    lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let lat = std::mem::take(&mut *lat.lock().unwrap());
    rows.push(figures(
        "capsmith via worker processes, 4 concurrent callers",
        lat,
        start.elapsed().as_secs_f64(),
        peak_rss_mb("self") + workers_peak_rss_mb(),
    ));

    // The peer, in the same run.
    let peer = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../bench/node-vm-peer.js"
        ))
        .arg(CALLS.to_string())
        .output();
    let node = match peer {
        Ok(o) if o.status.success() => serde_json::from_slice::<serde_json::Value>(&o.stdout).ok(),
        _ => None,
    };
    if let Some(n) = &node {
        rows.push(Figures {
            name: format!(
                "Node {} vm: new context + script + runInContext(timeout) per call",
                n["node"].as_str().unwrap_or("")
            ),
            p50: n["p50_ms"].as_f64().unwrap_or(0.0),
            p99: n["p99_ms"].as_f64().unwrap_or(0.0),
            per_s: n["calls_per_s"].as_f64().unwrap_or(0.0),
            rss: n["peak_rss_mb"].as_f64().unwrap_or(0.0),
        });
    }
    println!("\n| mode ({CALLS} calls) | p50 | p99 | calls/s | peak RSS |\n| --- | --- | --- | --- | --- |");
    for r in &rows {
        println!(
            "| {} | {:.3} ms | {:.3} ms | {:.0} | {:.1} MB |",
            r.name, r.p50, r.p99, r.per_s, r.rss
        );
    }
    if let Some(n) = node.as_ref().and_then(|n| n["p50_ms"].as_f64()) {
        println!(
            "\np50 ratio to Node vm: in-process {:.3}x, worker process {:.3}x",
            rows[0].p50 / n,
            rows[1].p50 / n
        );
    } else {
        println!("\n(node not found: no peer figures)");
    }
}
