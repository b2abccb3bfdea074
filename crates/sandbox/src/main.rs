//! The sandbox worker process: the only place capability JavaScript is evaluated. Started by the
//! app, the CLI and the marketplace server, never by people. It confines itself (rlimits,
//! Landlock, seccomp) before reading a frame; this crate links no database, network, keyring or
//! mail code (checked by `capsmith-core`'s `architecture` test), so confinement is not the only
//! thing keeping it off them.

use capsmith_sandbox::worker;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--self-test") {
        let file = args.get(2).map(String::as_str);
        println!("{}", worker::self_test(file));
        return std::process::ExitCode::SUCCESS;
    }
    worker::main()
}
