//! The sandbox worker process (see `capsmith_core::sandbox::worker`). Started by the app and the
//! CLI, never by people.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--self-test") {
        let file = args.get(2).map(String::as_str);
        println!("{}", capsmith_core::sandbox::worker::self_test(file));
        return std::process::ExitCode::SUCCESS;
    }
    capsmith_core::sandbox::worker::main()
}
