//! Hostile input: each file is refused with a located, readable error — never a hang, a stack
//! overflow or a panic. (How fast: `cargo bench -p capsmith-core`, docs/benchmarks.md.)

use std::io::Write;
use std::time::{Duration, Instant};

use capsmith_core::api;
use capsmith_core::api::dto::ValidationReport;

fn write(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    (dir, path)
}

fn refused(name: &str, bytes: &[u8]) -> ValidationReport {
    let (_dir, path) = write(name, bytes);
    let t = Instant::now();
    let r = api::validate_file(&path).expect("readable");
    // A guard against hangs, not a timing goal.
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "{name} took {:?}",
        t.elapsed()
    );
    assert!(!r.valid, "{name} must be invalid");
    assert!(!r.errors.is_empty());
    r
}

fn located(r: &ValidationReport, code: &str) {
    let e = &r.errors[0];
    assert_eq!(e.code, code, "{:#?}", r.errors);
    assert!(
        e.line.is_some() && e.column.is_some(),
        "{e:?} must have a position"
    );
    assert!(!e.message.is_empty());
}

pub fn alias_bomb() -> String {
    let mut s =
        String::from("capability:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        s.push_str(&format!("  a{i}: &a{i} [{}]\n", vec![p; 9].join(", ")));
    }
    s
}

#[test]
fn billion_laughs() {
    located(&refused("bomb.yaml", alias_bomb().as_bytes()), "alias-bomb");
}

#[test]
fn deep_nesting_yaml_and_json() {
    located(
        &refused("deep.yaml", "[".repeat(200_000).as_bytes()),
        "too-deep",
    );
    located(
        &refused("deep.json", "[".repeat(200_000).as_bytes()),
        "too-deep",
    );
    let mut s = String::new();
    for _ in 0..200_000 {
        s.push_str("{\"a\":");
    }
    located(&refused("deep-obj.json", s.as_bytes()), "too-deep");
    let mut y = String::new();
    for i in 0..300 {
        y.push_str(&" ".repeat(i));
        y.push_str("a:\n");
    }
    located(&refused("deep-block.yaml", y.as_bytes()), "too-deep");
}

#[test]
fn sixty_megabyte_file() {
    let big = vec![b'a'; 60 * 1024 * 1024];
    let r = refused("big.yaml", &big);
    assert_eq!(r.errors[0].code, "file-too-large");
    assert!(r.errors[0].message.contains("60.0 MiB"));
}

#[test]
fn invalid_utf8_and_binary_garbage() {
    located(
        &refused("latin1.yaml", b"capability:\n  name: caf\xe9\n"),
        "invalid-utf8",
    );
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let r = refused("garbage.bin", &garbage);
    assert!(
        matches!(r.errors[0].code.as_str(), "invalid-utf8" | "binary-content"),
        "{:?}",
        r.errors
    );
    located(
        &refused("nul.yaml", b"capability:\n  id: a\0b\n"),
        "binary-content",
    );
    located(
        &refused("utf16.json", b"\xff\xfe{\x00}\x00"),
        "unsupported-encoding",
    );
}

#[test]
fn empty_files() {
    located(&refused("empty.yaml", b""), "empty-file");
    located(&refused("blank.json", b"  \n\t\n"), "empty-file");
    located(
        &refused("comment.yaml", b"# only a comment\n"),
        "empty-file",
    );
}

#[test]
fn yaml_tags() {
    let r = refused(
        "tag.yaml",
        b"capability:\n  id: !!python/object/apply:os.system ['rm -rf /']\n",
    );
    located(&r, "yaml-tag");
    assert_eq!(r.errors[0].line, Some(2));
    located(
        &refused("tag2.yaml", b"capability: !custom\n  id: x\n"),
        "yaml-tag",
    );
}

#[test]
fn trailing_garbage_after_json() {
    let r = refused(
        "trail.json",
        b"{\"capability\": {\"id\": \"x\", \"name\": \"X\"}}\n}} extra",
    );
    located(&r, "trailing-content");
    assert_eq!(r.errors[0].line, Some(2));
}

#[test]
fn hostile_javascript_modules_are_stopped() {
    located(
        &refused(
            "loop.js",
            b"for(;;){}\nexport default {id:'x', actions:{a(){}}};\n",
        ),
        "js-evaluation",
    );
    located(
        &refused(
            "oom.js",
            b"const a=[]; for(;;) a.push('x'.repeat(1<<20));\nexport default {};\n",
        ),
        "js-evaluation",
    );
    located(
        &refused(
            "recurse.js",
            b"function f(){return f()+1}\nf();\nexport default {};\n",
        ),
        "js-evaluation",
    );
    located(
        &refused(
            "import.js",
            b"import * as os from 'os';\nexport default {};\n",
        ),
        "js-import",
    );
    let r = refused("nodefault.js", b"export const x = 1;\n");
    assert_eq!(r.errors[0].code, "js-no-default-export");
}
