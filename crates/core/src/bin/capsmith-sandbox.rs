//! The sandbox worker process (see `capsmith_core::sandbox::worker`). Started by the app and the
//! CLI, never by people.

fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--self-test") {
        println!("{}", capsmith_core::sandbox::worker::self_test());
        return std::process::ExitCode::SUCCESS;
    }
    capsmith_core::sandbox::worker::main()
}
