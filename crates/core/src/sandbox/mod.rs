//! Code capabilities run in a QuickJS sandbox inside a separate, OS-confined worker process.
//! `protocol`: the frames on the pipe; `engine` and `worker`: the worker's side (fresh runtime
//! per call, limits, host APIs by permission); `host`: the app's side (pool, watchdog, fetch
//! under the network guard with secrets injected at the HTTP boundary); `evaluate`: the
//! worker's evaluations for validation and tests (a module's metadata, `assert` expressions).

pub mod engine;
pub mod evaluate;
pub mod host;
pub mod protocol;
pub mod worker;
