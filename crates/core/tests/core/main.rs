//! Integration tests for capsmith-core; modules mirror `src/`.

mod agents;
mod api;
mod architecture;
mod bindings;
mod engine;
mod flow;
mod hostile;
mod keyring;
mod loopback;
mod manifest;
mod openapi;
mod registry;
mod sandbox;

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The sandbox worker, built by its own crate (`cargo test --workspace` builds it; alone:
/// `cargo build -p capsmith-sandbox` first), beside the test executable's folder.
pub fn sandbox_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target folder")
        .join("capsmith-sandbox");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p capsmith-sandbox` (or `cargo test --workspace`)",
        bin.display()
    );
    bin
}

pub fn examples_dir() -> PathBuf {
    repo_root().join("assets/examples")
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// What a user does with `capsmith settings allow-host ID 127.0.0.1:PORT` for the loopback
/// stand-in: here for every capability the library holds now (grants are per capability, so
/// one imported later is not covered).
pub async fn allow_loopback(app: &capsmith_core::api::Capsmith, port: u16) {
    for c in app.list(None).await.unwrap() {
        for host in ["127.0.0.1", "localhost"] {
            app.allow_host(&c.id, &format!("{host}:{port}"))
                .await
                .unwrap();
        }
    }
}
