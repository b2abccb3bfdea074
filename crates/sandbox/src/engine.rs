//! Running one invocation inside the worker: a fresh QuickJS runtime with a memory limit, a
//! stack limit and an interrupt deadline; the prelude installs `console`, `utils` and (when
//! granted) `fetch`; the module's default export is read and the action called with `this`
//! bound as the design describes. A promise is driven here: jobs are run, and while only host
//! fetches are outstanding the worker blocks on the host's answers. Host-side watchdogs end the
//! process if anything (a builtin that ignores the interrupt) runs past the deadline.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::context::intrinsic;
use rquickjs::function::{Opt, This};
use rquickjs::promise::PromiseState;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Promise, Runtime, Value,
};

use capsmith_sandbox_protocol::{ConsoleLine, FromWorker, Invocation, Outcome, ToWorker};

const PRELUDE: &str = include_str!("prelude.js");

/// The prelude compiled once per process: parsing it for every call would cost more than the
/// rest of a small call together.
static PRELUDE_BYTECODE: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();

/// A context with the intrinsics sandboxed code gets: no module loader, no std/os.
pub(super) fn new_context(rt: &Runtime) -> rquickjs::Result<Context> {
    Context::custom::<(
        intrinsic::Eval,
        intrinsic::Json,
        intrinsic::Promise,
        intrinsic::RegExp,
        intrinsic::MapSet,
        intrinsic::Date,
        intrinsic::Proxy,
    )>(rt)
}

fn prelude_bytecode() -> Option<&'static [u8]> {
    PRELUDE_BYTECODE
        .get_or_init(|| {
            let rt = Runtime::new().ok()?;
            let ctx = new_context(&rt).ok()?;
            ctx.with(|ctx| {
                Module::declare(ctx, "prelude.js", PRELUDE)
                    .ok()?
                    .write(rquickjs::module::WriteOptions::default())
                    .ok()
            })
        })
        .as_deref()
}
const STACK_LIMIT: usize = 512 * 1024;
const MAX_CONSOLE_LINES: usize = 1000;
const MAX_CONSOLE_BYTES: usize = 256 * 1024;

/// The host side of the pipe, as the engine sees it.
pub trait HostIo {
    fn send(&mut self, msg: &FromWorker) -> std::io::Result<()>;
    /// Blocks for the host's next message; `None` when the host went away.
    fn recv(&mut self) -> std::io::Result<Option<ToWorker>>;
}

fn fail(kind: &str, message: impl Into<String>, console: Vec<ConsoleLine>) -> Outcome {
    Outcome {
        ok: false,
        output: None,
        kind: Some(kind.to_string()),
        message: Some(message.into()),
        console,
        memory_used: 0,
    }
}

/// Describes a caught exception without running more of the capability's code than needed
/// (the deadline still applies to getters it triggers).
fn describe(e: CaughtError<'_>, timed_out: bool) -> (String, String) {
    if timed_out {
        return (
            "timeout".into(),
            "the action ran past its deadline and was interrupted".into(),
        );
    }
    match e {
        CaughtError::Exception(ex) => {
            let msg = ex.message().unwrap_or_default();
            if msg.contains("out of memory") || msg.contains("too large to allocate") {
                return (
                    "out_of_memory".into(),
                    "the action ran out of memory (limit reached)".into(),
                );
            }
            if msg.contains("interrupted") {
                return (
                    "timeout".into(),
                    "the action ran past its deadline and was interrupted".into(),
                );
            }
            if msg.contains("stack") && msg.contains("exceeded") {
                return ("stack_overflow".into(), format!("RangeError: {msg}"));
            }
            // A refusal from the host (fetch, db) keeps its kind when the code does not catch it.
            if let Ok(kind) = ex.get::<_, String>("kind") {
                if kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') && !kind.is_empty() {
                    return (kind, msg);
                }
            }
            let name = ex
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".into());
            let stack = ex.stack().unwrap_or_default();
            let at = stack
                .lines()
                .find(|l| l.contains("capability.js:"))
                .map(|l| format!(" ({})", l.trim()))
                .unwrap_or_default();
            (
                "js_error".into(),
                format!("{name}: {msg}{at}").chars().take(2000).collect(),
            )
        }
        CaughtError::Value(v) if v.is_null() => (
            "out_of_memory".into(),
            "the action ran out of memory (limit reached)".into(),
        ),
        CaughtError::Value(v) => (
            "js_error".into(),
            format!("the action threw a {} value", v.type_name()),
        ),
        CaughtError::Error(err) => {
            let s = err.to_string();
            if s.contains("out of memory") || s.contains("Allocation") {
                (
                    "out_of_memory".into(),
                    "the action ran out of memory (limit reached)".into(),
                )
            } else {
                ("js_error".into(), s)
            }
        }
    }
}

type Pending<'js> = Rc<RefCell<HashMap<u64, (Function<'js>, Function<'js>)>>>;

pub fn run(inv: &Invocation, io: &mut dyn HostIo) -> Outcome {
    let Ok(rt) = Runtime::new() else {
        return fail("sandbox", "the JavaScript engine failed to start", vec![]);
    };
    rt.set_memory_limit(inv.memory_bytes);
    rt.set_max_stack_size(STACK_LIMIT);
    let deadline = Instant::now() + Duration::from_millis(inv.deadline_ms);
    let timed_out = Rc::new(Cell::new(false));
    let t = timed_out.clone();
    rt.set_interrupt_handler(Some(Box::new(move || {
        let over = Instant::now() > deadline;
        if over {
            t.set(true);
        }
        over
    })));
    let Ok(ctx) = new_context(&rt) else {
        return fail("sandbox", "the JavaScript context failed to start", vec![]);
    };
    let console: Rc<RefCell<(Vec<ConsoleLine>, usize)>> = Rc::new(RefCell::new((Vec::new(), 0)));
    let io = RefCell::new(io);
    let mut outcome = ctx.with(|ctx| invoke(&ctx, inv, &io, &console, &timed_out));
    outcome.console = std::mem::take(&mut console.borrow_mut().0);
    outcome.memory_used = rt.memory_usage().malloc_size.max(0) as u64;
    outcome
}

fn invoke<'js>(
    ctx: &Ctx<'js>,
    inv: &Invocation,
    io: &RefCell<&mut dyn HostIo>,
    console: &Rc<RefCell<(Vec<ConsoleLine>, usize)>>,
    timed_out: &Rc<Cell<bool>>,
) -> Outcome {
    let err = |e: CaughtError<'_>| {
        let (k, m) = describe(e, timed_out.get());
        fail(&k, m, vec![])
    };
    // Host functions, captured by the prelude and then removed from the global object.
    let c = console.clone();
    let log = Function::new(ctx.clone(), move |level: String, text: String| {
        let mut c = c.borrow_mut();
        if c.0.len() < MAX_CONSOLE_LINES && c.1 + text.len() <= MAX_CONSOLE_BYTES {
            c.1 += text.len();
            c.0.push(ConsoleLine { level, text });
        }
    });
    let pending: Pending<'js> = Rc::new(RefCell::new(HashMap::new()));
    // Resolvers of calls the action never waited for must not outlive the call: JS values held
    // from Rust when the runtime is freed would abort the worker.
    struct ClearOnExit<'a, 'js>(&'a Pending<'js>);
    impl Drop for ClearOnExit<'_, '_> {
        fn drop(&mut self) {
            self.0.borrow_mut().clear();
        }
    }
    let _clear = ClearOnExit(&pending);
    let outbox: Rc<RefCell<Vec<FromWorker>>> = Rc::new(RefCell::new(Vec::new()));
    let next_call = Rc::new(Cell::new(0u64));
    let globals = ctx.globals();
    let setup = (|| -> rquickjs::Result<()> {
        globals.set("__host_log", log?)?;
        if inv.granted.iter().any(|g| g == "fetch") {
            let (p, n, out) = (pending.clone(), next_call.clone(), outbox.clone());
            let fetch = Function::new(
                ctx.clone(),
                move |ctx: Ctx<'js>,
                      url: String,
                      method: String,
                      headers: String,
                      body: Opt<Option<String>>|
                      -> rquickjs::Result<Promise<'js>> {
                    let (promise, resolve, reject) = Promise::new(&ctx)?;
                    let call = n.get() + 1;
                    n.set(call);
                    let headers: Vec<(String, String)> =
                        serde_json::from_str(&headers).unwrap_or_default();
                    // Queued; the event loop sends it before it next waits for the host.
                    out.borrow_mut().push(FromWorker::Fetch {
                        call,
                        url,
                        method,
                        headers,
                        body: body.0.flatten(),
                    });
                    p.borrow_mut().insert(call, (resolve, reject));
                    Ok(promise)
                },
            )?;
            globals.set("__host_fetch", fetch)?;
        }
        if inv.granted.iter().any(|g| g == "db") {
            let (p, n, out) = (pending.clone(), next_call.clone(), outbox.clone());
            let db = Function::new(
                ctx.clone(),
                move |ctx: Ctx<'js>,
                      sql: String,
                      params: String|
                      -> rquickjs::Result<Promise<'js>> {
                    let (promise, resolve, reject) = Promise::new(&ctx)?;
                    let call = n.get() + 1;
                    n.set(call);
                    let params: Vec<serde_json::Value> =
                        serde_json::from_str(&params).unwrap_or_default();
                    out.borrow_mut().push(FromWorker::Db { call, sql, params });
                    p.borrow_mut().insert(call, (resolve, reject));
                    Ok(promise)
                },
            )?;
            globals.set("__host_db", db)?;
        }
        if inv.granted.iter().any(|g| g == "ai") {
            let (p, n, out) = (pending.clone(), next_call.clone(), outbox.clone());
            let ai = Function::new(
                ctx.clone(),
                move |ctx: Ctx<'js>, request: String| -> rquickjs::Result<Promise<'js>> {
                    let (promise, resolve, reject) = Promise::new(&ctx)?;
                    let call = n.get() + 1;
                    n.set(call);
                    let request: serde_json::Value =
                        serde_json::from_str(&request).unwrap_or_default();
                    out.borrow_mut().push(FromWorker::Ai { call, request });
                    p.borrow_mut().insert(call, (resolve, reject));
                    Ok(promise)
                },
            )?;
            globals.set("__host_ai", ai)?;
        }
        let prelude = match prelude_bytecode() {
            // SAFETY: the bytes are bytecode this process compiled from its own prelude, and
            // they live for the whole process (`'static`), as QuickJS's ROM reads require.
            Some(bytes) => unsafe { Module::load(ctx.clone(), bytes)? },
            None => Module::declare(ctx.clone(), "prelude.js", PRELUDE)?,
        };
        let (_m, p) = prelude.eval()?;
        while ctx.execute_pending_job() {}
        if let PromiseState::Rejected = p.state() {
            p.result::<()>().unwrap_or(Ok(()))?;
        }
        Ok(())
    })();
    if let Err(e) = setup.catch(ctx) {
        return err(e);
    }

    // The capability's module.
    let module = match Module::declare(ctx.clone(), "capability.js", inv.source.as_str()).catch(ctx)
    {
        Ok(m) => m,
        Err(e) => return err(e),
    };
    let evaluated = module.eval().catch(ctx).and_then(|(m, p)| {
        while ctx.execute_pending_job() {}
        match p.state() {
            PromiseState::Rejected => p.result::<()>().unwrap_or(Ok(())).catch(ctx).map(|_| m),
            _ => Ok(m),
        }
    });
    let module = match evaluated {
        Ok(m) => m,
        Err(e) => return err(e),
    };
    let default: Value = module
        .get("default")
        .unwrap_or_else(|_| Value::new_undefined(ctx.clone()));
    let Some(cap) = default.as_object() else {
        return fail(
            "no_default_export",
            "the module has no `export default { … }` object",
            vec![],
        );
    };
    let actions: Object = match cap.get::<_, Option<Object>>("actions") {
        Ok(Some(a)) => a,
        _ => {
            return fail(
                "unknown_action",
                "the module's default export has no `actions` object",
                vec![],
            )
        }
    };
    let func: Function = match actions
        .get::<_, Value>(inv.action.as_str())
        .ok()
        .and_then(|v| v.into_function())
    {
        Some(f) => f,
        None => {
            let names: Vec<String> = actions.keys::<String>().flatten().collect();
            return fail(
                "unknown_action",
                format!(
                    "no action `{}` in the module (it has: {})",
                    inv.action,
                    names.join(", ")
                ),
                vec![],
            );
        }
    };
    let (make_this, output_json): (Function, Function) = match (
        globals.get("__capsmith_this"),
        globals.get("__capsmith_output"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return fail("sandbox", "the prelude did not install", vec![]),
    };
    let call = (|| -> rquickjs::Result<Value<'js>> {
        let config = ctx.json_parse(inv.config.to_string())?;
        let this: Object = make_this.call((actions.clone(), config))?;
        let input = ctx.json_parse(inv.input.to_string())?;
        func.call((This(this), input))
    })();
    let mut result = match call.catch(ctx) {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    // An async action: run jobs; while only host calls are outstanding, wait for the host.
    // Host calls go out one at a time, and only while the action's promise is still pending:
    // a call the action did not wait for is never sent once it has settled (the host performs
    // calls one after another anyway, so nothing is lost by not sending them ahead).
    if let Some(promise) = result.as_promise().cloned() {
        let mut in_flight = false;
        loop {
            while ctx.execute_pending_job() {}
            if timed_out.get() {
                return fail(
                    "timeout",
                    "the action ran past its deadline and was interrupted",
                    vec![],
                );
            }
            match promise.state() {
                PromiseState::Resolved | PromiseState::Rejected => break,
                PromiseState::Pending => {}
            }
            if !in_flight {
                let next = {
                    let mut out = outbox.borrow_mut();
                    (!out.is_empty()).then(|| out.remove(0))
                };
                if let Some(msg) = next {
                    if io.borrow_mut().send(&msg).is_err() {
                        return fail("sandbox", "the host went away", vec![]);
                    }
                    in_flight = true;
                }
            }
            if !in_flight {
                return fail(
                    "never_settles",
                    "the action returned a promise that can never settle (nothing is pending)",
                    vec![],
                );
            }
            let msg = match io.borrow_mut().recv() {
                Ok(Some(m)) => m,
                _ => return fail("sandbox", "the host went away", vec![]),
            };
            in_flight = false;
            let settle = |call: u64,
                          ok: bool,
                          value: rquickjs::Result<Value<'js>>|
             -> rquickjs::Result<()> {
                if let Some((resolve, reject)) = pending.borrow_mut().remove(&call) {
                    let v = value?;
                    if ok {
                        resolve.call::<_, ()>((v,))?;
                    } else {
                        reject.call::<_, ()>((v,))?;
                    }
                }
                Ok(())
            };
            let r = match msg {
                ToWorker::FetchResult {
                    call,
                    status,
                    headers,
                    body,
                } => {
                    let payload =
                        serde_json::json!({"status": status, "headers": headers, "body": body})
                            .to_string();
                    settle(
                        call,
                        true,
                        rquickjs::String::from_str(ctx.clone(), &payload).map(|s| s.into_value()),
                    )
                }
                ToWorker::FetchError {
                    call,
                    kind,
                    message,
                } => {
                    let e = rquickjs::Exception::from_message(
                        ctx.clone(),
                        &format!("{kind}: {message}"),
                    )
                    .map(|e| e.into_value());
                    let e = e.and_then(|v| {
                        if let Some(o) = v.as_object() {
                            o.set("kind", kind.as_str())?;
                        }
                        Ok(v)
                    });
                    settle(call, false, e)
                }
                ToWorker::HostResult { call, result } => settle(
                    call,
                    true,
                    rquickjs::String::from_str(ctx.clone(), &result.to_string())
                        .map(|s| s.into_value()),
                ),
                ToWorker::Invoke(_) | ToWorker::Inspect(_) | ToWorker::Assert { .. } => Ok(()),
            };
            if let Err(e) = r.catch(ctx) {
                return err(e);
            }
        }
        match promise.result::<Value>() {
            Some(Ok(v)) => result = v,
            Some(Err(e)) => return err(Err::<(), _>(e).catch(ctx).unwrap_err()),
            None => {
                return fail(
                    "never_settles",
                    "the action's promise did not settle",
                    vec![],
                )
            }
        }
    }
    // Output: JSON text, size-checked while it is written (see the prelude's
    // `__capsmith_output`), and again exactly before it is copied out of the engine.
    let too_large = || {
        fail(
            "output_too_large",
            format!(
                "the action's output is larger than {} bytes",
                inv.max_output_bytes
            ),
            vec![],
        )
    };
    let written = output_json
        .call::<_, Value>((result, inv.max_output_bytes as f64))
        .catch(ctx);
    let json = match written {
        Ok(v) if v.is_string() => v.into_string().expect("checked: a string"),
        Ok(v) if v.is_number() => return too_large(),
        Ok(_) => {
            return Outcome {
                ok: true,
                output: Some(serde_json::Value::Null),
                kind: None,
                message: None,
                console: vec![],
                memory_used: 0,
            }
        }
        Err(e) => return err(e),
    };
    let text = match json.to_string() {
        Ok(t) => t,
        Err(e) => return fail("js_error", e.to_string(), vec![]),
    };
    if text.len() > inv.max_output_bytes {
        return too_large();
    }
    match serde_json::from_str(&text) {
        Ok(v) => Outcome {
            ok: true,
            output: Some(v),
            kind: None,
            message: None,
            console: vec![],
            memory_used: 0,
        },
        Err(e) => fail("js_error", format!("the output is not JSON: {e}"), vec![]),
    }
}
