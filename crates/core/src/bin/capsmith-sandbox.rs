//! The sandbox worker process (see `capsmith_core::sandbox::worker`). Started by the app and the
//! CLI, never by people.

fn main() -> std::process::ExitCode {
    capsmith_core::sandbox::worker::main()
}
