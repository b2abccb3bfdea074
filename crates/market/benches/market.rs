//! The marketplace client against a server with many capabilities (bench/market/run.sh seeds
//! 100,000 and points CAPSMITH_BENCH_MARKET_DATA at them): a full sync into an empty cache, an
//! unchanged re-sync (one request answered 304), and offline search in the cache.
//!
//! `CAPSMITH_BENCH_MARKET_DATA=DIR cargo bench -p capsmith-market --bench market`

use std::sync::Arc;
use std::time::{Duration, Instant};

use capsmith_core::api::market::{MarketProgress, MarketQuery};
use capsmith_core::api::Capsmith;
use capsmith_market::db::Db;
use capsmith_market::http::{AppState, Limits};
use criterion::{criterion_group, criterion_main, Criterion};

fn quiet(_: MarketProgress) {}

fn bench(c: &mut Criterion) {
    let data = std::env::var("CAPSMITH_BENCH_MARKET_DATA").expect(
        "set CAPSMITH_BENCH_MARKET_DATA to a seeded marketplace (bench/market/run.sh does)",
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let db = Db::open(None, std::path::Path::new(&data)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(AppState {
            db,
            limiter: Default::default(),
            limits: Limits::default(),
            listings: Default::default(),
        });
        tokio::spawn(capsmith_market::http::serve(state, listener));
        url
    });
    // The client finds the marketplace through the environment (no sign-in, no keyring).
    std::env::set_var("CAPSMITH_MARKET_URL", &url);
    let dir = tempfile::tempdir().unwrap();
    let app = rt
        .block_on(Capsmith::open(dir.path().join("home")))
        .unwrap();

    let mut g = c.benchmark_group("market");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    let cached = rt.block_on(app.market_sync(true, &quiet)).unwrap().cached;
    eprintln!("cache holds {cached} listings");
    g.bench_function(format!("full_sync_{cached}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let r = rt.block_on(app.market_sync(true, &quiet)).unwrap();
                total += t.elapsed();
                assert_eq!(r.cached, cached);
            }
            total
        })
    });
    g.sample_size(50);
    g.bench_function("unchanged_resync", |b| {
        b.iter(|| {
            let r = rt.block_on(app.market_sync(false, &quiet)).unwrap();
            assert!(r.unchanged);
        })
    });
    // Offline search in the cache, one benchmark per kind of query (criterion's median is the
    // p50 the goal speaks of).
    let queries: [(&str, MarketQuery); 6] = [
        (
            "one_word",
            MarketQuery {
                text: Some("weather".into()),
                ..Default::default()
            },
        ),
        (
            "two_words",
            MarketQuery {
                text: Some("invoice slack".into()),
                ..Default::default()
            },
        ),
        (
            "word_in_category",
            MarketQuery {
                text: Some("pdf".into()),
                category: Some("Finance".into()),
                ..Default::default()
            },
        ),
        (
            "top_rated",
            MarketQuery {
                sort: Some("rating".into()),
                ..Default::default()
            },
        ),
        (
            "category",
            MarketQuery {
                category: Some("CRM".into()),
                ..Default::default()
            },
        ),
        (
            "paid_recent",
            MarketQuery {
                price: Some("paid".into()),
                sort: Some("recent".into()),
                ..Default::default()
            },
        ),
    ];
    for (name, q) in &queries {
        g.bench_function(format!("offline_search/{name}"), |b| {
            b.iter(|| {
                let page = rt.block_on(app.market_search(q)).unwrap();
                assert!(!page.items.is_empty(), "no results for {q:?}");
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
