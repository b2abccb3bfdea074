//! How long validation takes on the design's examples and on hostile files (the issue asks for
//! "a located error in well under a second"). Results: docs/benchmarks.md.
//!
//! cargo bench -p capsmith-core --bench validate

use std::path::PathBuf;

use capsmith_core::manifest::SourceFormat;
use capsmith_core::validate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn examples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/examples");
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn alias_bomb() -> String {
    let mut s =
        String::from("capability:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        s.push_str(&format!("  a{i}: &a{i} [{}]\n", vec![p; 9].join(", ")));
    }
    s
}

fn hostile() -> Vec<(&'static str, Vec<u8>)> {
    let mut deep_obj = String::new();
    for _ in 0..200_000 {
        deep_obj.push_str("{\"a\":");
    }
    let garbage: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        ("alias-bomb.yaml", alias_bomb().into_bytes()),
        ("deep-200k.yaml", "[".repeat(200_000).into_bytes()),
        ("deep-200k.json", deep_obj.into_bytes()),
        ("invalid-utf8-1MB.yaml", {
            let mut v = b"capability:\n  name: ".to_vec();
            v.extend(std::iter::repeat_n(b'a', 1_000_000));
            v.push(0xff);
            v
        }),
        ("garbage-1MB.bin", garbage),
        (
            "python-tag.yaml",
            b"capability:\n  id: !!python/object/apply:os.system ['id']\n".to_vec(),
        ),
        (
            "trailing.json",
            b"{\"capability\": {\"id\": \"x\"}} garbage".to_vec(),
        ),
        ("empty.yaml", Vec::new()),
        (
            "js-infinite-loop.js",
            b"for(;;){}\nexport default {};".to_vec(),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("validate-example");
    for (name, text) in examples() {
        let fmt = SourceFormat::detect(&name, &text);
        g.bench_with_input(BenchmarkId::from_parameter(&name), &text, |b, t| {
            b.iter(|| validate::check_text(&name, t, fmt, None))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("validate-hostile");
    g.sample_size(10);
    for (name, bytes) in hostile() {
        g.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, by| {
            b.iter(|| {
                let c = validate::check_bytes(name, by);
                assert!(!c.is_valid());
            })
        });
    }
    // A 60 MB file on disk: refused from its size, without being read.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'a'; 60 * 1024 * 1024]).unwrap();
    g.bench_function("file-60MB.yaml", |b| {
        b.iter(|| {
            let c = validate::check_file(&big).unwrap();
            assert!(!c.is_valid());
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
