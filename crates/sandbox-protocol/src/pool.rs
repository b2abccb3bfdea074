//! The host's end of the pipe, for every host: locating the worker program, starting workers
//! and refusing one whose confinement did not hold, a small pool of idle workers, the watchdog
//! that kills a worker past its deadline, and the evaluation-only requests (a module's
//! metadata, a test's `assert`). No engine and no network, database or keyring code: the
//! runtime adds what an invocation needs (fetch, db, ai) on top; the marketplace server uses
//! this alone to validate modules it is sent.

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::{
    read_frame, write_frame, Confinement, Evaluation, FromWorker, JsProblem, Limits, ModuleInfo,
    ToWorker,
};

/// Idle workers a pool keeps for the next call by default: as many as a host runs at once, so
/// a busy host never starts a process per call (a worker costs about 4 MB).
pub const DEFAULT_POOL_SIZE: usize = 4;
/// Time a worker gets past its deadline before the watchdog kills it.
pub const GRACE: Duration = Duration::from_millis(100);

/// The budget of an evaluation for validation or a test assertion: a module's top level, or
/// one expression. Generous for a busy machine; a module doing real work there is wrong anyway.
pub const EVALUATION_LIMITS: Limits = Limits {
    memory_bytes: 16 * 1024 * 1024,
    deadline_ms: 1000,
};

/// Why a worker could not do what it was asked. [`PoolError::kind`] is the stable name the
/// hosts report (`sandbox_unavailable`, `sandbox_unconfined`, `timeout`, `sandbox_crashed`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    #[error("{0}")]
    Unavailable(String),
    #[error("the sandbox worker could not confine itself (missing: {}), so code capabilities are refused; on a kernel without these features you may opt out with `capsmith settings set sandbox.allow_unconfined true` (Settings → Sandbox), and every run will then say it ran unconfined", .0.missing().join(", "))]
    Unconfined(Confinement),
    #[error("it ran past its {ms} ms deadline and its worker was stopped")]
    Timeout { ms: u64 },
    #[error("the sandbox worker died during the evaluation ({0})")]
    Crashed(String),
}

impl PoolError {
    pub fn kind(&self) -> &'static str {
        match self {
            PoolError::Unavailable(_) => "sandbox_unavailable",
            PoolError::Unconfined(_) => "sandbox_unconfined",
            PoolError::Timeout { .. } => "timeout",
            PoolError::Crashed(_) => "sandbox_crashed",
        }
    }
}

/// One worker process and its pipe. Dropping it kills the process.
pub struct Worker {
    child: Child,
    pub input: BufWriter<ChildStdin>,
    pub output: BufReader<ChildStdout>,
    pub confinement: Confinement,
}

impl Worker {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The worker executable: `$CAPSMITH_SANDBOX_BIN`, else `capsmith-sandbox` beside the running
/// program (or one directory up, where cargo puts binaries next to test executables).
pub fn locate_worker() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CAPSMITH_SANDBOX_BIN")
        .map(PathBuf::from)
        .filter(|p| p.exists())
    {
        return Some(p);
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [
        dir.join("capsmith-sandbox"),
        dir.parent()?.join("capsmith-sandbox"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

fn spawn() -> Result<Worker, PoolError> {
    let unavailable = |m: &str| PoolError::Unavailable(m.to_string());
    let bin = locate_worker().ok_or_else(|| unavailable("the sandbox worker `capsmith-sandbox` was not found next to this program (set CAPSMITH_SANDBOX_BIN)"))?;
    let mut child = Command::new(&bin)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| PoolError::Unavailable(format!("cannot start {}: {e}", bin.display())))?;
    let input = BufWriter::new(child.stdin.take().ok_or_else(|| unavailable("no stdin"))?);
    let mut output = BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| unavailable("no stdout"))?,
    );
    let confinement = match read_frame::<FromWorker>(&mut output) {
        Ok(Some(FromWorker::Ready { confinement })) => confinement,
        _ => return Err(unavailable("the sandbox worker did not start")),
    };
    // Dropping the child here (on refusal) kills it.
    Ok(Worker {
        child,
        input,
        output,
        confinement,
    })
}

/// A call the watchdog keeps an eye on.
struct Watch {
    pid: u32,
    deadline: std::time::Instant,
    done: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
}

/// One thread for all calls: it sleeps until the earliest deadline and kills a worker still
/// running then. (A thread per call would cost more than a small call itself.)
fn watchdog() -> std::sync::mpsc::Sender<Watch> {
    let (tx, rx) = std::sync::mpsc::channel::<Watch>();
    std::thread::Builder::new()
        .name("capsmith-sandbox-watchdog".into())
        .spawn(move || {
            let mut watched: Vec<Watch> = Vec::new();
            loop {
                watched.retain(|w| !w.done.load(Ordering::SeqCst));
                let now = std::time::Instant::now();
                for w in watched.iter().filter(|w| w.deadline <= now) {
                    w.killed.store(true, Ordering::SeqCst);
                    #[cfg(unix)]
                    unsafe {
                        libc::kill(w.pid as i32, libc::SIGKILL);
                    }
                }
                watched.retain(|w| w.deadline > now);
                let next = watched.iter().map(|w| w.deadline).min();
                let msg = match next {
                    Some(d) => rx.recv_timeout(d.saturating_duration_since(now)),
                    None => rx
                        .recv()
                        .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
                };
                match msg {
                    Ok(w) => watched.push(w),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .map(|_| tx.clone())
        .unwrap_or(tx)
}

/// A call under the watchdog: set [`Watched::finish`] when it is over; [`Watched::was_killed`]
/// says whether the watchdog stopped the worker first.
pub struct Watched {
    done: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
}

impl Watched {
    pub fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
    }

    pub fn was_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// Idle workers and the watchdog of one host.
pub struct Pool {
    size: usize,
    idle: Mutex<Vec<Worker>>,
    watch: Mutex<Option<std::sync::mpsc::Sender<Watch>>>,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new(DEFAULT_POOL_SIZE)
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sandbox::Pool")
    }
}

impl Pool {
    /// A pool that keeps up to `size` idle workers.
    pub fn new(size: usize) -> Self {
        Pool {
            size,
            idle: Mutex::new(Vec::new()),
            watch: Mutex::new(None),
        }
    }

    /// An idle or a new worker, refused (and killed) unless fully confined or the user opted
    /// out. Checked on every call, so a pooled worker is refused too once the opt-out ends.
    pub fn take(&self, allow_unconfined: bool) -> Result<Worker, PoolError> {
        // A pooled worker that died while idle is dropped, not handed out.
        let pooled = self.idle.lock().ok().and_then(|mut v| {
            while let Some(mut w) = v.pop() {
                if matches!(w.child.try_wait(), Ok(None)) {
                    return Some(w);
                }
            }
            None
        });
        let w = match pooled {
            Some(w) => w,
            None => spawn()?,
        };
        if !w.confinement.is_full() && !allow_unconfined {
            return Err(PoolError::Unconfined(w.confinement.clone()));
        }
        Ok(w)
    }

    /// Keeps a worker that finished its call cleanly for the next one.
    pub fn give_back(&self, w: Worker) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.size {
                idle.push(w);
            }
        }
    }

    /// Starts a worker and reports its confinement (for `capsmith doctor` and Settings).
    pub fn probe(&self) -> Result<Confinement, PoolError> {
        let w = spawn()?;
        let c = w.confinement.clone();
        self.give_back(w);
        Ok(c)
    }

    /// Puts a worker under the watchdog: past `deadline` (unless finished) it is killed.
    /// (Interrupts cannot stop every builtin or a worker blocked elsewhere.)
    pub fn watch(&self, worker: &Worker, deadline: Duration) -> Watched {
        let killed = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let watch = || Watch {
            pid: worker.pid(),
            deadline: std::time::Instant::now() + deadline,
            done: done.clone(),
            killed: killed.clone(),
        };
        if let Ok(mut guard) = self.watch.lock() {
            let tx = guard.get_or_insert_with(watchdog);
            if tx.send(watch()).is_err() {
                // The watchdog thread is gone: start another for this and later calls.
                let fresh = watchdog();
                let _ = fresh.send(watch());
                *guard = Some(fresh);
            }
        }
        Watched { done, killed }
    }

    /// Sends one evaluation (`Inspect`, `Assert`) to a worker and waits for its one answer,
    /// under the watchdog. Blocks: call it from `spawn_blocking` or a thread of its own.
    pub fn evaluate_blocking(
        &self,
        msg: &ToWorker,
        deadline_ms: u64,
        allow_unconfined: bool,
    ) -> Result<FromWorker, PoolError> {
        let mut worker = self.take(allow_unconfined)?;
        let watched = self.watch(&worker, Duration::from_millis(deadline_ms) + GRACE);
        let answer = write_frame(&mut worker.input, msg)
            .map_err(|e| e.to_string())
            .and_then(|()| loop {
                match read_frame::<FromWorker>(&mut worker.output) {
                    Ok(Some(FromWorker::Ready { .. })) => {}
                    Ok(Some(reply)) => break Ok(reply),
                    Ok(None) => break Err("the sandbox worker exited".to_string()),
                    Err(e) => break Err(e.to_string()),
                }
            });
        watched.finish();
        match answer {
            Ok(reply) => {
                self.give_back(worker);
                Ok(reply)
            }
            Err(_) if watched.was_killed() => Err(PoolError::Timeout { ms: deadline_ms }),
            Err(msg) => Err(PoolError::Crashed(msg)),
        }
    }

    /// Evaluates a test case's `assert` expression in a worker: `Ok(false)` when it is falsy,
    /// `Err` (with the reason) when it does not run.
    pub fn eval_assertion(
        &self,
        expr: &str,
        input: &Value,
        output: &Value,
        allow_unconfined: bool,
    ) -> Result<bool, String> {
        let msg = ToWorker::Assert {
            expr: expr.to_string(),
            input: input.clone(),
            output: output.clone(),
            limits: EVALUATION_LIMITS,
        };
        match self.evaluate_blocking(&msg, EVALUATION_LIMITS.deadline_ms, allow_unconfined) {
            Ok(FromWorker::Asserted(answer)) => answer,
            Ok(_) => Err("the sandbox worker answered something else".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Whether validation may evaluate in a worker that is not fully confined: the user's opt-out
/// (`sandbox.allow_unconfined`), set when a library opens and when the setting changes.
/// Validation has no library at hand (it is a pure function of the text), hence a process-wide
/// flag; runs read the setting itself.
static VALIDATION_ALLOWS_UNCONFINED: AtomicBool = AtomicBool::new(false);

/// The workers that validation evaluates modules in, apart from any library's.
static VALIDATION: std::sync::LazyLock<Pool> = std::sync::LazyLock::new(Pool::default);

/// See [`VALIDATION_ALLOWS_UNCONFINED`].
pub fn set_validation_allows_unconfined(allow: bool) {
    VALIDATION_ALLOWS_UNCONFINED.store(allow, Ordering::SeqCst);
}

/// Reads a module's metadata by evaluating it in a confined worker (never in this process).
/// Blocks for at most the evaluation deadline plus the watchdog's grace. A worker that cannot
/// be started or confined is a problem of the module's validation: it fails closed.
pub fn inspect_module(file: &str, source: &str) -> Result<ModuleInfo, JsProblem> {
    let msg = ToWorker::Inspect(Evaluation {
        file: file.to_string(),
        source: source.to_string(),
        limits: EVALUATION_LIMITS,
    });
    let allow = VALIDATION_ALLOWS_UNCONFINED.load(Ordering::SeqCst);
    let fail = |code: &str, message: String| JsProblem {
        code: code.into(),
        message,
        line: 1,
        column: 1,
    };
    match VALIDATION.evaluate_blocking(&msg, EVALUATION_LIMITS.deadline_ms, allow) {
        Ok(FromWorker::Inspected(answer)) => answer,
        Ok(_) => Err(fail(
            "sandbox-crashed",
            "the sandbox worker answered something else".into(),
        )),
        Err(PoolError::Timeout { ms }) => Err(fail(
            "js-evaluation",
            format!("module failed while loading: its top level ran past the {ms} ms deadline, and its worker was stopped"),
        )),
        Err(e) => Err(fail(&e.kind().replace('_', "-"), e.to_string())),
    }
}
