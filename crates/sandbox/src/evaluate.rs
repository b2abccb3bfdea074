//! Evaluations the worker makes for validation and tests, never for a run: a module's top level
//! (to read what `export default { … }` declares) and a test case's `assert` expression. Each
//! gets a fresh QuickJS runtime with a memory cap, a small stack and an interrupt deadline, and
//! no host function at all; the host's watchdog kills the worker if the interrupt is ignored.
//! This is the only place a module is evaluated outside a run, so it runs only here, in the
//! confined worker process.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Runtime, Value,
};

use capsmith_sandbox_protocol::{ConfigEntry, ModuleInfo};
use capsmith_sandbox_protocol::{Evaluation, JsProblem, Limits};

const STACK_LIMIT: usize = 256 * 1024;

/// A runtime with the limits; code running past the deadline is interrupted.
fn runtime(limits: Limits) -> Result<(Runtime, Context), String> {
    let internal = |e: rquickjs::Error| format!("JavaScript engine failed to start: {e}");
    let rt = Runtime::new().map_err(internal)?;
    rt.set_memory_limit(limits.memory_bytes);
    rt.set_max_stack_size(STACK_LIMIT);
    let deadline = Rc::new(Cell::new(
        Instant::now() + Duration::from_millis(limits.deadline_ms),
    ));
    rt.set_interrupt_handler(Some(Box::new(move || Instant::now() > deadline.get())));
    let ctx = crate::engine::new_context(&rt).map_err(internal)?;
    Ok((rt, ctx))
}

/// Position of a QuickJS error, from its stack (`    at file.js:4:9`).
fn error_position(stack: &str, file: &str) -> Option<(u32, u32)> {
    for line in stack.lines() {
        if let Some(idx) = line.find(&format!("{file}:")) {
            let tail = &line[idx + file.len() + 1..];
            let mut parts = tail.trim_end_matches(')').split(':');
            let l = parts.next()?.parse().ok()?;
            let c = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
            return Some((l, c));
        }
    }
    None
}

fn describe(err: CaughtError<'_>, file: &str) -> (String, Option<(u32, u32)>) {
    match err {
        CaughtError::Exception(ex) => {
            let msg = ex.message().unwrap_or_default();
            let name: String = ex
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".to_string());
            let stack = ex.stack().unwrap_or_default();
            let pos = match (
                ex.get::<_, Option<u32>>("lineNumber"),
                ex.get::<_, Option<u32>>("columnNumber"),
            ) {
                (Ok(Some(l)), Ok(Some(c))) if l > 0 => Some((l, c.max(1))),
                _ => error_position(&stack, file),
            };
            (format!("{name}: {msg}"), pos)
        }
        CaughtError::Value(v) if v.is_null() => ("out of memory (limit reached)".into(), None),
        CaughtError::Value(v) => (
            format!("threw a non-Error value: {:?}", v.type_name()),
            None,
        ),
        CaughtError::Error(rquickjs::Error::Exception) => ("uncaught exception".into(), None),
        CaughtError::Error(e) => (e.to_string(), None),
    }
}

fn problem(code: &str, message: impl Into<String>, pos: Option<(u32, u32)>) -> JsProblem {
    let (line, column) = pos.unwrap_or((1, 1));
    JsProblem {
        code: code.into(),
        message: message.into(),
        line,
        column,
    }
}

/// Compiles and evaluates a module and reads its default export.
pub fn inspect(ev: &Evaluation) -> Result<ModuleInfo, JsProblem> {
    let file = ev.file.as_str();
    let (_rt, ctx) = runtime(ev.limits).map_err(|m| problem("js-engine", m, None))?;
    ctx.with(|ctx| {
        // A module that asks for another (which nothing here can load) is `js-import`.
        let failed = |e, otherwise: &str, prefix: &str| {
            let (msg, pos) = describe(e, file);
            let code = if msg.contains("could not load module") {
                "js-import"
            } else {
                otherwise
            };
            problem(code, format!("{prefix}{msg}"), pos)
        };
        let declared = Module::declare(ctx.clone(), file, ev.source.as_str())
            .catch(&ctx)
            .map_err(|e| failed(e, "js-syntax", ""))?;
        let module = declared
            .eval()
            .catch(&ctx)
            .and_then(|(m, p)| {
                p.finish::<()>().catch(&ctx)?;
                Ok(m)
            })
            .map_err(|e| failed(e, "js-evaluation", "module failed while loading: "))?;
        let default: Value = module
            .get("default")
            .unwrap_or_else(|_| Value::new_undefined(ctx.clone()));
        let Some(obj) = default.as_object() else {
            return Err(problem(
                "js-no-default-export",
                "the module has no `export default { … }` object",
                None,
            ));
        };
        Ok(read_info(&ctx, obj))
    })
}

fn opt_string(obj: &Object<'_>, key: &str) -> Option<String> {
    obj.get::<_, Option<String>>(key).ok().flatten()
}

fn read_info<'js>(ctx: &Ctx<'js>, obj: &Object<'js>) -> ModuleInfo {
    let mut info = ModuleInfo {
        id: opt_string(obj, "id"),
        name: opt_string(obj, "name"),
        version: opt_string(obj, "version"),
        description: opt_string(obj, "description"),
        icon: opt_string(obj, "icon"),
        author: opt_string(obj, "author"),
        category: opt_string(obj, "category"),
        tags: obj
            .get::<_, Option<Vec<String>>>("tags")
            .ok()
            .flatten()
            .unwrap_or_default(),
        permissions: obj
            .get::<_, Option<Vec<String>>>("permissions")
            .ok()
            .flatten(),
        ..Default::default()
    };
    if let Ok(Some(actions)) = obj.get::<_, Option<Object>>("actions") {
        for key in actions.keys::<String>().flatten() {
            if let Ok(v) = actions.get::<_, Value>(key.as_str()) {
                if v.is_function() || v.as_object().is_some_and(|o| o.as_function().is_some()) {
                    info.actions.push(key);
                }
            }
        }
    }
    if let Ok(Some(config)) = obj.get::<_, Option<Object>>("config") {
        let stringify: Option<Function> = ctx
            .globals()
            .get::<_, Object>("JSON")
            .ok()
            .and_then(|j| j.get("stringify").ok());
        for key in config.keys::<String>().flatten() {
            let entry = config.get::<_, Option<Object>>(key.as_str()).ok().flatten();
            let ty = entry.as_ref().and_then(|e| opt_string(e, "type"));
            let description = entry.as_ref().and_then(|e| opt_string(e, "description"));
            let default = entry
                .as_ref()
                .and_then(|e| e.get::<_, Value>("default").ok())
                .filter(|v| !v.is_undefined())
                .and_then(|v| {
                    stringify
                        .as_ref()?
                        .call::<_, Option<String>>((v,))
                        .ok()
                        .flatten()
                })
                .and_then(|s| serde_json::from_str(&s).ok());
            info.config.push(ConfigEntry {
                key,
                ty,
                default,
                description,
            });
        }
    }
    info
}

/// Evaluates a test assertion (a JS expression over `input` and `output`). `Ok(false)` when it
/// is falsy; `Err` when it does not run.
pub fn assertion(
    expr: &str,
    input: &serde_json::Value,
    output: &serde_json::Value,
    limits: Limits,
) -> Result<bool, String> {
    let (_rt, ctx) = runtime(limits)?;
    ctx.with(|ctx| {
        let bind = |name: &str, v: &serde_json::Value| -> Result<(), String> {
            let value = ctx.json_parse(v.to_string()).map_err(|e| e.to_string())?;
            ctx.globals().set(name, value).map_err(|e| e.to_string())
        };
        bind("input", input)?;
        bind("output", output)?;
        let src = format!("(function () {{ 'use strict'; return !!(\n{expr}\n); }})()");
        let r: rquickjs::Result<bool> = ctx.eval(src);
        r.catch(&ctx).map_err(|e| describe(e, "assert.js").0)
    })
}
