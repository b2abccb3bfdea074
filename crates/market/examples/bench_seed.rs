//! Fills a marketplace with N generated capabilities for the benchmarks (bench/market/run.sh):
//! each is a real package, signed and published through `store::publish`, so every check a
//! publish makes runs. Words, categories, tags, installs and ratings vary so search has work.
//!
//! `cargo run --release -p capsmith-market --example bench_seed -- DATA_DIR N [DATABASE_URL]`

use std::time::Instant;

use base64::Engine;
use capsmith_core::market::PublishRequest;
use capsmith_core::package::{self, Contents, SigningKey};
use capsmith_market::db::Db;
use capsmith_market::users::{self, NewUser};

const WORDS: &[&str] = &[
    "weather",
    "invoice",
    "slack",
    "github",
    "calendar",
    "email",
    "crm",
    "customer",
    "ticket",
    "forecast",
    "currency",
    "translate",
    "summarize",
    "search",
    "database",
    "report",
    "sales",
    "lead",
    "order",
    "shipping",
    "payment",
    "stock",
    "news",
    "map",
    "geocode",
    "image",
    "pdf",
    "ocr",
    "sentiment",
    "chat",
    "notify",
    "schedule",
    "backup",
    "sync",
    "export",
    "import",
];
const CATEGORIES: &[&str] = &[
    "Data",
    "Communication",
    "Finance",
    "CRM",
    "Developer Tools",
    "Productivity",
    "AI",
];

/// A word for capability `i` (splitmix64 of `i` and `salt`, so the words of one capability are
/// independent of each other).
fn word(i: usize, salt: usize) -> &'static str {
    let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (salt as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    WORDS[((z ^ (z >> 31)) % WORDS.len() as u64) as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::path::PathBuf::from(args.get(1).expect("DATA_DIR"));
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).expect("N");
    let db = Db::open(args.get(3).map(String::as_str), &data)
        .await
        .unwrap();
    users::add_user(
        &db,
        &NewUser {
            name: "bench".into(),
            verified: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let key = SigningKey::generate().unwrap();
    let user = users::by_name(&db, "bench").await.unwrap();
    users::set_key(&db, &user, &key.public_b64(), None)
        .await
        .unwrap();
    let user = users::by_name(&db, "bench").await.unwrap();
    let started = Instant::now();
    for i in 0..n {
        let (a, b, c) = (word(i, 1), word(i, 2), word(i, 3));
        let id = format!("{a}-{b}-{i}");
        let manifest = format!(
            "capability:\n  id: {id}\n  name: \"{} {b} {i}\"\n  version: 1.{}.0\n  description: \"{} {b} with {c} for agents\"\n  category: {}\n  tags: [{a}, {c}]\n  permissions: [network.http.get]\n  actions:\n    - id: run\n      inputs: {{ q: {{ type: string, required: true }} }}\n      outputs: {{ result: {{ type: string }} }}\n  integration:\n    type: api\n    method: GET\n    endpoint: https://api.{a}.example/v1?q=${{input.q}}\n    response_mapping: {{ result: data.result }}\n",
            a.to_uppercase(),
            i % 7,
            a,
            CATEGORIES[i % CATEGORIES.len()],
        );
        let bytes = package::build(&Contents {
            manifest_name: "manifest.yaml".into(),
            manifest,
            readme: Some(format!("# {id}\n\nGenerated for the benchmarks.\n")),
            tests: Some(r#"{"passed": 1, "failed": 0}"#.into()),
            ..Default::default()
        })
        .unwrap();
        let sha = package::sha256_hex(&bytes);
        let req = PublishRequest {
            package: base64::engine::general_purpose::STANDARD.encode(&bytes),
            signature: key.sign(&id, &format!("1.{}.0", i % 7), &sha),
            version: Some(format!("1.{}.0", i % 7)),
            visibility: Some("public".into()),
            org: None,
            price_cents: Some(if i % 10 == 0 { 500 } else { 0 }),
        };
        capsmith_market::store::publish(&db, &user, &id, &req)
            .await
            .unwrap();
        if (i + 1) % 10_000 == 0 {
            eprintln!(
                "{} published, {:.0}/s",
                i + 1,
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    // Popularity and ratings vary (direct writes: no request per install).
    sqlx::query(
        "UPDATE capabilities SET installs = (length(id) * 7919 + rowid * 104729) % 50000, \
         rating_sum = (rowid % 5 + 1) * 3 + rowid % 3, rating_count = 3, \
         rating_score = ((rowid % 5 + 1) * 3 + rowid % 3) * 1000 / 3",
    )
    .execute(&db.pool)
    .await
    .ok();
    eprintln!(
        "{n} capabilities in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
