//! The sandbox worker process: confines itself (no filesystem, no network, an address-space
//! cap), says how far the confinement got, then serves invocations from stdin until the host
//! closes it. One invocation at a time; each gets a fresh QuickJS runtime.

use std::io::{BufReader, BufWriter, Stdin, Stdout};

use super::engine::{self, HostIo};
use super::protocol::{read_frame, write_frame, FromWorker, ToWorker};

/// Address space granted to a worker: the largest JS heap plus the engine and the runtime.
pub const ADDRESS_SPACE_BYTES: u64 = 1024 * 1024 * 1024;

struct Pipe {
    input: BufReader<Stdin>,
    output: BufWriter<Stdout>,
}

impl HostIo for Pipe {
    fn send(&mut self, msg: &FromWorker) -> std::io::Result<()> {
        write_frame(&mut self.output, msg)
    }
    fn recv(&mut self) -> std::io::Result<Option<ToWorker>> {
        read_frame(&mut self.input)
    }
}

/// Applies the OS confinement to this process and reports what holds.
pub fn confine() -> String {
    let mut parts = Vec::new();
    #[cfg(unix)]
    unsafe {
        let lim = libc::rlimit {
            rlim_cur: ADDRESS_SPACE_BYTES,
            rlim_max: ADDRESS_SPACE_BYTES,
        };
        if libc::setrlimit(libc::RLIMIT_AS, &lim) == 0 {
            parts.push("rlimit-as");
        }
        let files = libc::rlimit {
            rlim_cur: 16,
            rlim_max: 16,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &files) == 0 {
            parts.push("rlimit-nofile");
        }
        let procs = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::setrlimit(libc::RLIMIT_CORE, &procs) == 0 {
            parts.push("no-core");
        }
    }
    #[cfg(target_os = "linux")]
    {
        use landlock::{
            Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope, ABI,
        };
        let abi = ABI::V6;
        let status = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
            .and_then(|r| r.scope(Scope::from_all(abi)))
            .and_then(|r| r.create())
            .and_then(|r| r.restrict_self());
        match status {
            Ok(s) if s.ruleset == RulesetStatus::FullyEnforced => parts.push("landlock"),
            Ok(s) if s.ruleset == RulesetStatus::PartiallyEnforced => {
                parts.push("landlock-partial")
            }
            _ => parts.push("no-landlock"),
        }
    }
    parts.join(",")
}

/// The worker's main loop.
pub fn main() -> std::process::ExitCode {
    let confinement = confine();
    let mut pipe = Pipe {
        input: BufReader::new(std::io::stdin()),
        output: BufWriter::new(std::io::stdout()),
    };
    if pipe.send(&FromWorker::Ready { confinement }).is_err() {
        return std::process::ExitCode::from(1);
    }
    loop {
        match pipe.recv() {
            Ok(Some(ToWorker::Invoke(inv))) => {
                let outcome = engine::run(&inv, &mut pipe);
                if pipe.send(&FromWorker::Done(outcome)).is_err() {
                    return std::process::ExitCode::from(1);
                }
            }
            Ok(Some(_)) => {} // a late answer to a finished invocation
            Ok(None) => return std::process::ExitCode::SUCCESS,
            Err(_) => return std::process::ExitCode::from(1),
        }
    }
}
