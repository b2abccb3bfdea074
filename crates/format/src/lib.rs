//! Capsmith's formats: what a capability manifest is (model, YAML/JSON/JavaScript parsing,
//! validation with positions), what a flow is (the graph, its analysis, its compilation to a
//! manifest), what a signed package is, what the marketplace and its clients say to each
//! other, and the error kinds every layer reports. Pure functions of their input: no database,
//! network, keyring or async runtime. The runtime (`capsmith-core`) and the marketplace server
//! (`capsmith-market`) both build on this; neither is needed to read or check a file.

pub mod diagnostics;
pub mod error;
pub mod error_kind;
pub mod examples;
pub mod flow;
pub mod manifest;
pub mod market;
pub mod package;
pub mod path;
pub mod validate;

pub use error::{FormatError, FormatResult};
pub use error_kind::ErrorKind;
