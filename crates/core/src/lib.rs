//! Capsmith core, the runtime: the local SQLite registry, the engine that runs capabilities
//! (HTTP under the network guard, workflows, the sandbox host), secrets in the OS keyring, the
//! marketplace client, and the `api` operations that the CLI and the desktop shell call. What a
//! manifest, a flow or a package is lives in `capsmith-format` (re-exported here). Nothing here
//! knows about Tauri or any UI.

pub mod api;
pub mod capdb;
pub mod dto;
pub mod engine;
pub mod error;
pub mod localserver;
pub mod openapi;
pub mod registry;
pub mod sandbox;
pub mod secrets;
pub mod sensitive;

// The formats (manifests, flows, packages, the marketplace's wire types, error kinds) are their
// own crate; they keep their paths here so the runtime and its callers read one namespace.
pub use capsmith_format::{
    diagnostics, error_kind, flow, manifest, market, package, path, validate,
};
pub use capsmith_format::{ErrorKind, FormatError};

pub use error::{CoreError, CoreResult};
