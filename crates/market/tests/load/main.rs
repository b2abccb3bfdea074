//! The marketplace under load, over loopback: concurrent clients publishing, installing,
//! reviewing, syncing, searching and downloading for a while against one server on SQLite, then
//! against two servers on one PostgreSQL database. Bounded (a fixed number of clients, each one
//! request at a time) and it stops itself. What must hold: no 5xx, no lost or duplicated
//! version, install and review counts exactly what the clients were told, memory flat.
//!
//! `CAPSMITH_LOAD_SECS` (default 5, as the test command runs it) and `CAPSMITH_LOAD_CLIENTS`
//! (default 16) size it; the figures go to stdout and `target/load-report.md`. The figures in
//! docs/benchmarks.md come from
//! `CAPSMITH_LOAD_SECS=60 cargo test --release -p capsmith-market --test load -- --nocapture`.

#[allow(dead_code)]
#[path = "../market/support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use capsmith_core::package::SigningKey;
use serde_json::json;

use support::*;

fn env_u64(k: &str, default: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift): no dependency, the same run every time.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What the clients saw, to check the servers against afterwards.
#[derive(Default)]
struct Tally {
    /// Per operation: latencies in ms.
    latencies: BTreeMap<&'static str, Vec<f64>>,
    /// Per status class.
    statuses: BTreeMap<u16, u64>,
    server_errors: Vec<String>,
    /// Versions each capability was told were published (201).
    published: HashMap<String, BTreeSet<String>>,
    /// Installs each capability was told were counted (204).
    installs: HashMap<String, i64>,
    /// Who was told their review was stored (200), per capability.
    reviewers: HashMap<String, BTreeSet<usize>>,
    /// Re-publishing a version already published: every one must be refused with 409.
    duplicate_refusals: u64,
    duplicates_accepted: u64,
    /// What each client's change-feed view held at the end, per capability: versions.
    feeds: Vec<HashMap<String, BTreeSet<String>>>,
}

/// Applies a sync page to a client's view; the new cursor and whether more follows.
fn apply_page(
    view: &mut HashMap<String, BTreeSet<String>>,
    page: &serde_json::Value,
) -> (i64, bool) {
    for item in page["items"].as_array().into_iter().flatten() {
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let versions = item["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["version"].as_str().map(str::to_string))
            .collect();
        view.insert(id, versions);
    }
    (
        page["cursor"].as_i64().unwrap_or(0),
        page["more"].as_bool().unwrap_or(false),
    )
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn run_load(label: &str, store: &Store, servers: &[Server]) -> String {
    let secs = env_u64("CAPSMITH_LOAD_SECS", 5);
    let clients = env_u64("CAPSMITH_LOAD_CLIENTS", 16) as usize;
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let pids: Vec<u32> = servers.iter().map(|s| s.pid()).collect();
    let tally = Arc::new(Mutex::new(Tally::default()));

    // Each client is a user with a key of its own and a capability of its own.
    let mut setup = Vec::new();
    for c in 0..clients {
        let token = add_user(store, &format!("load{c}"), &[]);
        let key = SigningKey::generate().unwrap();
        let api = Api::new(&urls[c % urls.len()], Some(&token));
        assert_eq!(
            api.put("/v1/me/key", json!({"public_key": key.public_b64()}))
                .await
                .status,
            200
        );
        setup.push((token, key));
    }

    // Memory: sampled every 250 ms per server; the first fifth of the run is warm-up.
    let sampling = Arc::new(Mutex::new(Vec::<(f64, Vec<u64>)>::new()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let sampler = {
        let sampling = sampling.clone();
        let pids = pids.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let at = started.elapsed().as_secs_f64();
                let rss = pids.iter().map(|p| rss_kib(*p)).collect();
                sampling.lock().unwrap().push((at, rss));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let mut tasks = Vec::new();
    for (c, (token, key)) in setup.into_iter().enumerate() {
        let tally = tally.clone();
        let url = urls[c % urls.len()].clone();
        tasks.push(tokio::spawn(async move {
            let api = Api::new(&url, Some(&token));
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((c as u64 + 1) * 0x1000_0001));
            let own = format!("load-{c}");
            let mut next_patch = 0u32;
            let mut cursor = 0i64;
            let mut view: HashMap<String, BTreeSet<String>> = HashMap::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let other = format!("load-{}", rng.below(clients as u64));
                let t0 = Instant::now();
                let (op, reply) = match n % 8 {
                    0 => {
                        // Every fifth publish re-sends the last version: it must be refused.
                        let again = next_patch > 0 && n.is_multiple_of(40);
                        let v = if again { next_patch - 1 } else { next_patch };
                        let m = manifest(&own, &format!("1.0.{v}"), &[], "load.example");
                        let (req, _) = publish_request(&key, &m, 0);
                        let r = api
                            .post(
                                &format!("/v1/capabilities/{own}/versions"),
                                serde_json::to_value(&req).unwrap(),
                            )
                            .await;
                        let mut t = tally.lock().unwrap();
                        if again {
                            if r.status == 409 {
                                t.duplicate_refusals += 1;
                            } else if r.status < 300 {
                                t.duplicates_accepted += 1;
                            }
                        } else if r.status == 201 {
                            t.published
                                .entry(own.clone())
                                .or_default()
                                .insert(format!("1.0.{v}"));
                            next_patch += 1;
                        }
                        drop(t);
                        ("publish", r)
                    }
                    1..=3 => {
                        let r = api
                            .post(&format!("/v1/capabilities/{other}/installs"), json!({}))
                            .await;
                        if r.status == 204 {
                            *tally.lock().unwrap().installs.entry(other).or_default() += 1;
                        }
                        ("install", r)
                    }
                    4 => {
                        let stars = 1 + rng.below(5);
                        let r = api
                            .put(
                                &format!("/v1/capabilities/{other}/review"),
                                json!({"stars": stars, "text": format!("run {n}")}),
                            )
                            .await;
                        if r.status == 200 {
                            tally
                                .lock()
                                .unwrap()
                                .reviewers
                                .entry(other)
                                .or_default()
                                .insert(c);
                        }
                        ("review", r)
                    }
                    5 => {
                        let r = api.get(&format!("/v1/sync?since={cursor}&limit=200")).await;
                        if r.status == 200 {
                            cursor = apply_page(&mut view, &r.json()).0;
                        }
                        ("sync", r)
                    }
                    6 => (
                        "search",
                        api.get("/v1/capabilities?q=load&per_page=24").await,
                    ),
                    _ => {
                        let r = api
                            .get(&format!("/v1/capabilities/{other}/versions/1.0.0/package"))
                            .await;
                        ("download", r)
                    }
                };
                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                let mut t = tally.lock().unwrap();
                *t.statuses.entry(reply.status / 100 * 100).or_default() += 1;
                if reply.status >= 500 {
                    t.server_errors.push(format!(
                        "{op}: {} {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
                t.latencies.entry(op).or_default().push(ms);
                drop(t);
                n += 1;
            }
            // Caught up after the load: the feed must have missed nothing.
            tokio::time::sleep(Duration::from_millis(300)).await;
            loop {
                let r = api.get(&format!("/v1/sync?since={cursor}&limit=200")).await;
                if r.status != 200 {
                    break;
                }
                let (c, more) = apply_page(&mut view, &r.json());
                cursor = c;
                if !more {
                    break;
                }
            }
            tally.lock().unwrap().feeds.push(view);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    sampler.await.unwrap();
    // Every server's listing cache notices a change within 100 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut t = std::mem::take(&mut *tally.lock().unwrap());
    assert!(
        t.server_errors.is_empty(),
        "{label}: {} 5xx answers, first: {:?}",
        t.server_errors.len(),
        t.server_errors.first()
    );
    assert_eq!(
        t.duplicates_accepted, 0,
        "{label}: a version was published twice"
    );

    // What the servers hold is exactly what the clients were told, read through each server.
    let mut versions_checked = 0;
    for url in &urls {
        let anon = Api::new(url, None);
        for c in 0..clients {
            let id = format!("load-{c}");
            let told = t.published.get(&id).cloned().unwrap_or_default();
            let r = anon.get(&format!("/v1/capabilities/{id}")).await;
            if told.is_empty() {
                assert_eq!(r.status, 404, "{label}: {id} was never published");
                continue;
            }
            let l = r.json();
            let held: Vec<String> = l["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["version"].as_str().unwrap().to_string())
                .collect();
            let held_set: BTreeSet<String> = held.iter().cloned().collect();
            assert_eq!(
                held.len(),
                held_set.len(),
                "{label}: {id} lists a version twice"
            );
            assert_eq!(held_set, told, "{label}: {id}'s versions (lost or extra)");
            versions_checked += held.len();
            assert_eq!(
                l["installs"].as_i64().unwrap(),
                t.installs.get(&id).copied().unwrap_or(0),
                "{label}: {id}'s install count"
            );
            assert_eq!(
                l["rating_count"].as_i64().unwrap(),
                t.reviewers.get(&id).map(|s| s.len() as i64).unwrap_or(0),
                "{label}: {id}'s review count"
            );
        }
    }

    // Every client's change-feed view, caught up, holds exactly what was published: with
    // writers on two servers, a change numbered below the cursor never commits after it.
    for (i, view) in t.feeds.iter().enumerate() {
        for (id, told) in &t.published {
            assert_eq!(
                view.get(id),
                Some(told),
                "{label}: client {i}'s synced view of {id}"
            );
        }
    }

    // Memory: the peak after warm-up against the level at its end.
    let samples = sampling.lock().unwrap().clone();
    let warm = elapsed / 5.0;
    let mut memory = Vec::new();
    for (i, pid) in pids.iter().enumerate() {
        let after: Vec<u64> = samples
            .iter()
            .filter(|(at, _)| *at >= warm)
            .map(|(_, r)| r[i])
            .collect();
        let at_warm = after.first().copied().unwrap_or(0);
        let peak = after.iter().copied().max().unwrap_or(0);
        let end = after.last().copied().unwrap_or(0);
        // Flat: no more than 64 MiB (or half again) above where it stood after warm-up.
        assert!(
            peak <= at_warm + (at_warm / 2).max(64 * 1024),
            "{label}: server {pid} grew from {at_warm} KiB to {peak} KiB"
        );
        // The curve at each quarter of the run, to tell a plateau from a leak.
        let quarters: Vec<String> = [0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|q| {
                samples
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= elapsed * q)
                    .map(|(_, r)| format!("{}", r[i] / 1024))
                    .unwrap_or_default()
            })
            .collect();
        memory.push(format!(
            "{} → {} MiB (peak {}; at each quarter {})",
            at_warm / 1024,
            end / 1024,
            peak / 1024,
            quarters.join(" / ")
        ));
    }

    // Then the same number of readers on data that stays put.
    let steady = read_only_phase(&urls, &pids, clients, secs.div_ceil(2).max(4)).await;
    let mut steady_text = Vec::new();
    for (i, (start, end)) in steady.iter().enumerate() {
        assert!(
            *end <= start + (start / 10).max(16 * 1024),
            "{label}: server {} grew from {start} KiB to {end} KiB on read-only traffic",
            pids[i]
        );
        steady_text.push(format!("{} → {} MiB", start / 1024, end / 1024));
    }

    let total: usize = t.latencies.values().map(Vec::len).sum();
    let mut rows = String::new();
    for (op, v) in t.latencies.iter_mut() {
        rows.push_str(&format!(
            "| {label} | {op} | {} | {:.1} | {:.1} | {:.1} |\n",
            v.len(),
            v.len() as f64 / elapsed,
            percentile(v, 0.5),
            percentile(v, 0.99)
        ));
    }
    let statuses: Vec<String> = t
        .statuses
        .iter()
        .map(|(k, v)| format!("{}xx: {v}", k / 100))
        .collect();
    format!(
        "### {label}: {clients} clients, {elapsed:.0} s\n\n\
         {total} requests ({:.0}/s); {}; versions checked: {versions_checked} (none lost or \
         duplicated; {} re-publishes refused with 409); install and review counts exact; every \
         client's synced view complete; \
         server memory after warm-up → end: {}; then read-only traffic on data that stays put \
         for half as long, after a quarter of it to warm up: {}.\n\n\
         | run | operation | requests | per s | p50 ms | p99 ms |\n|---|---|---:|---:|---:|---:|\n{rows}\n",
        total as f64 / elapsed,
        statuses.join(", "),
        t.duplicate_refusals,
        memory.join("; "),
        steady_text.join("; ")
    )
}

/// Read-only traffic (detail pages, search, sync from the start, downloads) on data that no
/// longer grows, for `secs`: the servers' memory at its start and end, per server, in KiB. A
/// server that leaks per request grows here; one whose memory follows its data does not.
async fn read_only_phase(
    urls: &[String],
    pids: &[u32],
    clients: usize,
    secs: u64,
) -> Vec<(u64, u64)> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    // A first pass warms every cache the readers will touch.
    let warm_until = Instant::now() + Duration::from_secs(secs / 4);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let api = Api::new(&urls[c % urls.len()], None);
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let id = format!("load-{}", n % clients as u64);
                let r = match n % 4 {
                    0 => api.get(&format!("/v1/capabilities/{id}")).await,
                    1 => api.get("/v1/capabilities?q=load&per_page=24").await,
                    2 => api.get("/v1/sync?since=0&limit=200").await,
                    _ => {
                        api.get(&format!("/v1/capabilities/{id}/versions/1.0.0/package"))
                            .await
                    }
                };
                assert!(r.status < 500, "read-only phase: {}", r.status);
                n += 1;
            }
        }));
    }
    while Instant::now() < warm_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let start: Vec<u64> = pids.iter().map(|p| rss_kib(*p)).collect();
    for t in tasks {
        t.await.unwrap();
    }
    let end: Vec<u64> = pids.iter().map(|p| rss_kib(*p)).collect();
    start.into_iter().zip(end).collect()
}

fn report(text: &str) {
    println!("{text}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/load-report.md");
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{text}");
    }
}

const ENV: &[(&str, &str)] = &[
    // Publishing as fast as the clients can: the load, not the limit, is under test.
    ("CAPSMITH_MARKET_PUBLISH_PER_MINUTE", "1000000"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_on_sqlite_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = store("sqlite", dir.path());
    let server = Server::start(&store, ENV);
    let text = run_load("SQLite, one server", &store, std::slice::from_ref(&server)).await;
    report(&text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgresql_under_load() {
    let store = Store::Postgres(pg_database());
    let a = Server::start(&store, ENV);
    let b = Server::start(&store, ENV);
    let text = run_load("PostgreSQL, two servers", &store, &[a, b]).await;
    report(&text);
}
