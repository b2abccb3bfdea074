//! The worker's side of the sandbox: `engine` (a fresh QuickJS runtime per call, limits, host
//! APIs by grant), `evaluate` (a module's metadata and test `assert` expressions, for
//! validation), `worker` (confinement, then the frame loop). The `capsmith-sandbox` binary is
//! `worker::main`; the runtime never links this library (its benches do, to measure the engine
//! in-process).

pub mod engine;
pub mod evaluate;
pub mod worker;
