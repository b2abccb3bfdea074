//! Capsmith core: the domain of capability manifests (model, parsing, validation, JSON Schema),
//! the local SQLite registry, and the `api` operations that the CLI and the desktop shell call.
//! Nothing here knows about Tauri or any UI.

pub mod api;
pub mod capdb;
pub mod diagnostics;
pub mod engine;
pub mod error;
pub mod error_kind;
pub mod flow;
pub mod localserver;
pub mod manifest;
pub mod market;
pub mod openapi;
pub mod package;
pub mod registry;
pub mod sandbox;
pub mod secrets;

pub use error::{CoreError, CoreResult};
pub use error_kind::ErrorKind;
