//! Code capabilities run in a QuickJS sandbox inside a separate, OS-confined worker process,
//! the `capsmith-sandbox` crate (engines, confinement), which this crate does not link.
//! `protocol`: the frames on the pipe (the `capsmith-sandbox-protocol` crate); `host`: the
//! runtime's side (pool, watchdog, fetch under the network guard with secrets injected at the
//! HTTP boundary, evaluations for validation and tests).

pub mod host;
pub use capsmith_sandbox_protocol as protocol;
