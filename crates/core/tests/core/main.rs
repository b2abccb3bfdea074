//! Integration tests for capsmith-core; modules mirror `src/`.

mod agents;
mod api;
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

pub fn examples_dir() -> PathBuf {
    repo_root().join("assets/examples")
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}
