//! The sandbox worker process: confines itself (no filesystem, no network, an address-space
//! cap), says how far the confinement got, then serves invocations from stdin until the host
//! closes it. One invocation (or evaluation) at a time; each gets a fresh QuickJS runtime.

use std::io::{BufReader, BufWriter, Stdin, Stdout};

use crate::engine::{self, HostIo};
use capsmith_sandbox_protocol::{read_frame, write_frame, Confinement, FromWorker, ToWorker};

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

/// Applies the OS confinement to this process and reports what holds. The order matters:
/// rlimits first (they need no syscall the filter allows), then Landlock, then the seccomp
/// allow-list last, since it forbids the syscalls the other two need.
pub fn confine() -> Confinement {
    let mut c = Confinement::default();
    #[cfg(unix)]
    unsafe {
        let lim = libc::rlimit {
            rlim_cur: ADDRESS_SPACE_BYTES,
            rlim_max: ADDRESS_SPACE_BYTES,
        };
        c.rlimit_as = libc::setrlimit(libc::RLIMIT_AS, &lim) == 0;
        let files = libc::rlimit {
            rlim_cur: 16,
            rlim_max: 16,
        };
        c.rlimit_nofile = libc::setrlimit(libc::RLIMIT_NOFILE, &files) == 0;
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
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
        c.landlock = matches!(status, Ok(s) if s.ruleset == RulesetStatus::FullyEnforced);
    }
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    {
        c.seccomp = allow_only_what_the_worker_needs();
    }
    c
}

/// The seccomp filter: an allow-list, default deny. Everything not listed fails with EPERM (a
/// filter that killed would turn a library's harmless probe into a crash; EPERM is as final,
/// since nothing can lift the filter). The list is what the worker was measured to use after
/// confining itself (strace over the red-team and host-API suites, see docs/security.md):
/// reading and writing its two pipes, memory, time, futexes, randomness, signals to itself, and
/// exiting. No socket, file, process, or kernel-object call is on it.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn allow_only_what_the_worker_needs() -> bool {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let plain: Vec<i64> = vec![
        // The two pipes.
        libc::SYS_read,
        libc::SYS_write,
        // Memory: the allocator (the address space stays capped by RLIMIT_AS).
        libc::SYS_mmap,
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_mprotect,
        libc::SYS_madvise,
        libc::SYS_brk,
        // Time (normally the vDSO answers without a syscall), locks, seeds.
        libc::SYS_clock_gettime,
        libc::SYS_gettimeofday,
        libc::SYS_futex,
        libc::SYS_getrandom,
        // Signals to itself (a stack-overflow guard, `abort()`), and exiting.
        libc::SYS_sigaltstack,
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigprocmask,
        libc::SYS_getpid,
        libc::SYS_gettid,
        libc::SYS_exit,
        libc::SYS_exit_group,
    ];
    let mut rules: std::collections::BTreeMap<i64, Vec<SeccompRule>> =
        plain.into_iter().map(|s| (s, vec![])).collect();
    // `abort()` raises SIGABRT on its own thread: tgkill, to this process only.
    let me = unsafe { libc::getpid() } as u64;
    let Ok(own) = SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, me)
        .and_then(|c| SeccompRule::new(vec![c]))
    else {
        return false;
    };
    rules.insert(libc::SYS_tgkill, vec![own]);
    let Ok(arch) = TargetArch::try_from(std::env::consts::ARCH) else {
        return false;
    };
    let Ok(filter) = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    ) else {
        return false;
    };
    let Ok(program) = BpfProgram::try_from(filter) else {
        return false;
    };
    seccompiler::apply_filter(&program).is_ok()
}

/// `capsmith-sandbox --self-test [FILE]`: confine, then make, as raw system calls, the calls
/// that confinement must refuse, and print what happened as JSON (tests read it). Each attempt
/// reports the errno it got, or "allowed". FILE is an existing file the test owns: the worker
/// tries to open and to delete it.
pub fn self_test(file: Option<&str>) -> String {
    #[cfg(unix)]
    let parent = unsafe { libc::getppid() };
    let confinement = confine();
    let mut report = serde_json::Map::new();
    report.insert(
        "confinement".into(),
        serde_json::to_value(&confinement).unwrap_or_default(),
    );
    #[cfg(target_os = "linux")]
    unsafe {
        let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let mut record = |name: &str, r: libc::c_long| {
            let v: serde_json::Value = if r >= 0 {
                "allowed".into()
            } else {
                errno().into()
            };
            report.insert(name.into(), v);
        };
        let target = std::ffi::CString::new(file.unwrap_or("/etc/hostname")).unwrap_or_default();
        record(
            "socket",
            libc::syscall(libc::SYS_socket, libc::AF_INET, libc::SOCK_STREAM, 0),
        );
        record(
            "openat",
            libc::syscall(
                libc::SYS_openat,
                libc::AT_FDCWD,
                target.as_ptr(),
                libc::O_RDONLY,
            ),
        );
        record(
            "unlinkat",
            libc::syscall(libc::SYS_unlinkat, libc::AT_FDCWD, target.as_ptr(), 0),
        );
        record("kill", libc::syscall(libc::SYS_kill, parent, 0));
        record(
            "ptrace",
            libc::syscall(
                libc::SYS_ptrace,
                libc::PTRACE_ATTACH,
                parent,
                std::ptr::null::<u8>(),
                std::ptr::null::<u8>(),
            ),
        );
        let pid = libc::fork();
        if pid == 0 {
            libc::_exit(0);
        }
        record("fork", if pid > 0 { 0 } else { -1 });
        let big = libc::mmap(
            std::ptr::null_mut(),
            4 << 30,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        record("mmap_4gib", if big != libc::MAP_FAILED { 0 } else { -1 });
        // Last: were it allowed, the process would become /bin/true and print nothing, which
        // the test reads as a failure too.
        let prog = c"/bin/true";
        let argv = [prog.as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null::<libc::c_char>()];
        record(
            "execve",
            libc::syscall(
                libc::SYS_execve,
                prog.as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
            ),
        );
    }
    let _ = file;
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
            Ok(Some(ToWorker::Inspect(ev))) => {
                let answer = crate::evaluate::inspect(&ev);
                if pipe.send(&FromWorker::Inspected(answer)).is_err() {
                    return std::process::ExitCode::from(1);
                }
            }
            Ok(Some(ToWorker::Assert {
                expr,
                input,
                output,
                limits,
            })) => {
                let answer = crate::evaluate::assertion(&expr, &input, &output, limits);
                if pipe.send(&FromWorker::Asserted(answer)).is_err() {
                    return std::process::ExitCode::from(1);
                }
            }
            Ok(Some(_)) => {} // a late answer to a finished invocation
            Ok(None) => return std::process::ExitCode::SUCCESS,
            Err(_) => return std::process::ExitCode::from(1),
        }
    }
}
