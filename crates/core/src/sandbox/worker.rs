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
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    parts.push(if deny_syscalls() {
        "seccomp"
    } else {
        "no-seccomp"
    });
    parts.join(",")
}

/// System calls the worker never needs: making sockets, starting programs or processes,
/// opening files, and the kernel's more dangerous corners. They fail with EPERM (a filter that
/// kills would turn a library's harmless probe into a crash).
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn deny_syscalls() -> bool {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    let mut denied: Vec<i64> = vec![
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_clone,
        libc::SYS_clone3,
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_reboot,
        libc::SYS_personality,
    ];
    #[cfg(target_arch = "x86_64")]
    denied.extend([
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_open,
        libc::SYS_creat,
    ]);
    let rules = denied.into_iter().map(|s| (s, vec![])).collect();
    let Ok(arch) = TargetArch::try_from(std::env::consts::ARCH) else {
        return false;
    };
    let Ok(filter) = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    ) else {
        return false;
    };
    let Ok(program) = BpfProgram::try_from(filter) else {
        return false;
    };
    seccompiler::apply_filter(&program).is_ok()
}

/// `capsmith-sandbox --self-test`: confine, then try what confinement must refuse, and print
/// what happened (tests read it). Each attempt reports the errno it got, or "allowed".
pub fn self_test() -> String {
    let confinement = confine();
    let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    let mut report = serde_json::Map::new();
    report.insert("confinement".into(), confinement.into());
    #[cfg(unix)]
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        report.insert(
            "socket".into(),
            if s >= 0 {
                "allowed".into()
            } else {
                errno().into()
            },
        );
        let path = c"/etc/hostname";
        let f = libc::open(path.as_ptr(), libc::O_RDONLY);
        report.insert(
            "open".into(),
            if f >= 0 {
                "allowed".into()
            } else {
                errno().into()
            },
        );
        let pid = libc::fork();
        if pid == 0 {
            libc::_exit(0);
        }
        report.insert(
            "fork".into(),
            if pid > 0 {
                "allowed".into()
            } else {
                errno().into()
            },
        );
        let prog = c"/bin/true";
        let argv = [prog.as_ptr(), std::ptr::null()];
        let r = libc::execv(prog.as_ptr(), argv.as_ptr());
        report.insert(
            "exec".into(),
            if r == 0 {
                "allowed".into()
            } else {
                errno().into()
            },
        );
        let big = libc::mmap(
            std::ptr::null_mut(),
            4 << 30,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        report.insert(
            "mmap_4gib".into(),
            if big != libc::MAP_FAILED {
                "allowed".into()
            } else {
                errno().into()
            },
        );
    }
    serde_json::Value::Object(report).to_string()
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
