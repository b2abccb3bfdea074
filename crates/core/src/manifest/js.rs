//! Reading a JavaScript capability module (`export default { id, name, actions, … }`) with
//! QuickJS: syntax errors with their line and column, and the module's declared metadata.
//! Evaluating the module's top level runs code a stranger wrote, so it happens in a fresh
//! runtime with a small memory limit, a small stack and a deadline, with no host functions and
//! no module loader. (Running actions is the sandbox's job, not this module's.)

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::context::intrinsic;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Runtime, Value,
};

use crate::diagnostics::{Finding, Pos};

const MEMORY_LIMIT: usize = 16 * 1024 * 1024;
const STACK_LIMIT: usize = 256 * 1024;
const DEADLINE: Duration = Duration::from_millis(250);

/// What a module's default export declares about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub author: Option<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub permissions: Option<Vec<String>>,
    /// Names of the functions under `actions`, in declaration order.
    pub actions: Vec<String>,
    /// `config` entries.
    pub config: Vec<ConfigEntry>,
}

/// One entry of a module's `config` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigEntry {
    pub key: String,
    pub ty: Option<String>,
    pub default: Option<serde_json::Value>,
    pub description: Option<String>,
}

/// The problems found in a module. `line`/`column` are within the JS source.
fn js_error(code: &'static str, msg: impl Into<String>, line: u32, column: u32) -> Finding {
    Finding::error(code, msg).at_pos(Pos { line, column })
}

fn fresh_runtime() -> Result<(Runtime, Context), Finding> {
    runtime(Some(DEADLINE))
}

/// A runtime with the limits; with a deadline, code that runs past it is interrupted.
fn runtime(deadline: Option<Duration>) -> Result<(Runtime, Context), Finding> {
    let internal = |e: rquickjs::Error| {
        Finding::error(
            "js-engine",
            format!("JavaScript engine failed to start: {e}"),
        )
    };
    let rt = Runtime::new().map_err(internal)?;
    rt.set_memory_limit(MEMORY_LIMIT);
    rt.set_max_stack_size(STACK_LIMIT);
    if let Some(limit) = deadline {
        let deadline = Rc::new(Cell::new(Instant::now() + limit));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || Instant::now() > d.get())));
    }
    let ctx = Context::custom::<(
        intrinsic::Eval,
        intrinsic::Json,
        intrinsic::Promise,
        intrinsic::RegExp,
        intrinsic::MapSet,
        intrinsic::Date,
    )>(&rt)
    .map_err(internal)?;
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

/// Checks that `expr` is a syntactically valid JavaScript expression (workflow filters).
pub fn check_expression(expr: &str) -> Result<(), Finding> {
    let (_rt, ctx) = fresh_runtime()?;
    ctx.with(|ctx| {
        // Compiling a function body parses the expression without running it.
        let src = format!("(function () {{ return (\n{expr}\n); }})");
        let r: rquickjs::Result<Value> = ctx.eval_with_options(src, {
            let mut o = rquickjs::context::EvalOptions::default();
            o.global = true;
            o.strict = true;
            o.filename = Some("expression.js".into());
            o
        });
        match r.catch(&ctx) {
            Ok(_) => Ok(()),
            Err(e) => {
                let (msg, pos) = describe(e, "expression.js");
                let (line, column) = pos
                    .map(|(l, c)| (l.saturating_sub(1).max(1), c))
                    .unwrap_or((1, 1));
                Err(js_error(
                    "expression-syntax",
                    format!("invalid expression: {msg}"),
                    line,
                    column,
                ))
            }
        }
    })
}

/// Checks many snippets (a flow's conditions, expressions and scripts) for syntax. Each is
/// compiled as the body of a module's default function and never evaluated: text that closes
/// the function early only becomes module code that does not run.
pub struct SyntaxChecker {
    /// Made on the first snippet that is not already known.
    engine: std::cell::RefCell<Option<(Runtime, Context, usize)>>,
}

/// Verdicts of snippets already checked in this process, by a hash of their text.
static SYNTAX_VERDICTS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<u64, Result<(), String>>>,
> = std::sync::LazyLock::new(Default::default);
const SYNTAX_VERDICTS_MAX: usize = 200_000;

/// Forgets every syntax verdict (a benchmark measuring a first compilation uses it).
pub fn forget_syntax_verdicts() {
    if let Ok(mut m) = SYNTAX_VERDICTS.lock() {
        m.clear();
    }
}

/// Snippets compiled in one runtime before it is replaced (compiled modules stay in it).
const SNIPPETS_PER_RUNTIME: usize = 1024;

impl SyntaxChecker {
    pub fn new() -> Result<Self, Finding> {
        Ok(SyntaxChecker {
            engine: std::cell::RefCell::new(None),
        })
    }

    /// A JavaScript expression: `Err(message)` when it does not parse.
    pub fn expression(&self, expr: &str) -> Result<(), String> {
        self.compile(&format!(
            "export default function (input, config) {{ return (\n{expr}\n); }}"
        ))
    }

    /// A function body (`return input.a + 1;`), `await` allowed.
    pub fn body(&self, body: &str) -> Result<(), String> {
        self.compile(&format!(
            "export default async function (input, config) {{\n{body}\n}}"
        ))
    }

    fn compile(&self, src: &str) -> Result<(), String> {
        // The builder recompiles the whole flow on every edit: a snippet already checked is
        // not compiled again (the verdict depends on the text alone).
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        src.hash(&mut h);
        let key = h.finish();
        if let Some(v) = SYNTAX_VERDICTS
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return v;
        }
        let verdict = match self.compile_once(src, false) {
            // Earlier snippets' modules filled the runtime: say so only if a fresh one fails too.
            Err(m) if m.contains("out of memory") => self.compile_once(src, true),
            other => other,
        };
        if let Ok(mut m) = SYNTAX_VERDICTS.lock() {
            if m.len() >= SYNTAX_VERDICTS_MAX {
                m.clear();
            }
            m.insert(key, verdict.clone());
        }
        verdict
    }

    fn compile_once(&self, src: &str, fresh: bool) -> Result<(), String> {
        let mut slot = self.engine.borrow_mut();
        if fresh || slot.as_ref().is_none_or(|e| e.2 >= SNIPPETS_PER_RUNTIME) {
            // Nothing is evaluated, so no deadline: a long flow must not run out of time.
            let (rt, ctx) = runtime(None).map_err(|f| f.message)?;
            *slot = Some((rt, ctx, 0));
        }
        let Some(engine) = slot.as_mut() else {
            return Err("the JavaScript engine did not start".into());
        };
        engine.2 += 1;
        let name = format!("snippet{}.js", engine.2);
        engine.1.with(|ctx| {
            Module::declare(ctx.clone(), name.as_str(), src)
                .catch(&ctx)
                .map(|_| ())
                .map_err(|e| describe(e, &name).0)
        })
    }
}

/// Evaluates a test assertion (a JS expression over `input` and `output`) in a fresh runtime
/// with no host functions. `Ok(false)` when it is falsy; `Err` when it does not run.
pub fn eval_assertion(
    expr: &str,
    input: &serde_json::Value,
    output: &serde_json::Value,
) -> Result<bool, String> {
    let (_rt, ctx) = fresh_runtime().map_err(|f| f.message)?;
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

/// Compiles and evaluates `source` as an ES module and reads its default export.
pub fn inspect(file: &str, source: &str) -> Result<ModuleInfo, Finding> {
    let (_rt, ctx) = fresh_runtime()?;
    ctx.with(|ctx| {
        let declared = Module::declare(ctx.clone(), file, source).catch(&ctx);
        let declared = match declared {
            Ok(m) => m,
            Err(e) => {
                let (msg, pos) = describe(e, file);
                let code = if msg.contains("could not load module") { "js-import" } else { "js-syntax" };
                let (l, c) = pos.unwrap_or((1, 1));
                return Err(js_error(code, msg, l, c).hint(if code == "js-syntax" {
                    "fix the JavaScript syntax error at this position"
                } else {
                    "code capabilities cannot import modules; use the host APIs instead"
                }));
            }
        };
        let evaluated = declared.eval().catch(&ctx).and_then(|(m, p)| {
            p.finish::<()>().catch(&ctx)?;
            Ok(m)
        });
        let module = match evaluated {
            Ok(m) => m,
            Err(e) => {
                let (msg, pos) = describe(e, file);
                let code = if msg.contains("could not load module") || msg.contains("module") && msg.contains("not") {
                    "js-import"
                } else {
                    "js-evaluation"
                };
                let (l, c) = pos.unwrap_or((1, 1));
                return Err(js_error(code, format!("module failed while loading: {msg}"), l, c));
            }
        };
        let default: Value = module.get("default").unwrap_or_else(|_| Value::new_undefined(ctx.clone()));
        let Some(obj) = default.as_object() else {
            return Err(js_error(
                "js-no-default-export",
                "the module has no `export default { … }` object",
                1,
                1,
            )
            .hint("a code capability is `export default { id, name, version, actions: { … }, permissions }`"));
        };
        read_info(&ctx, obj)
    })
}

fn opt_string(obj: &Object<'_>, key: &str) -> Option<String> {
    obj.get::<_, Option<String>>(key).ok().flatten()
}

fn read_info<'js>(ctx: &Ctx<'js>, obj: &Object<'js>) -> Result<ModuleInfo, Finding> {
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
    Ok(info)
}

/// Where `needle` first appears in `source` as a property (`needle:`), for locating findings
/// about a module's metadata.
pub fn locate_property(source: &str, needle: &str) -> Option<Pos> {
    let mut from = 0;
    while let Some(i) = source[from..].find(needle) {
        let at = from + i;
        let after = source[at + needle.len()..].trim_start();
        let before_ok = at == 0 || !source.as_bytes()[at - 1].is_ascii_alphanumeric();
        if before_ok && (after.starts_with(':') || after.starts_with('(')) {
            return Some(crate::manifest::source::pos_of_byte(source.as_bytes(), at));
        }
        from = at + needle.len();
    }
    None
}

/// Where the string literal `value` first appears in `source`.
pub fn locate_literal(source: &str, value: &str) -> Option<Pos> {
    for q in ['\'', '"', '`'] {
        if let Some(i) = source.find(&format!("{q}{value}{q}")) {
            return Some(crate::manifest::source::pos_of_byte(source.as_bytes(), i));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata() {
        let src = "export default {\n  id: 'x-y',\n  name: 'X',\n  actions: { async a(i) { return i }, b() {} },\n  config: { max: { type: 'number', default: 10, description: 'd' } },\n  permissions: ['data.read']\n};\n";
        let info = inspect("m.js", src).unwrap();
        assert_eq!(info.id.as_deref(), Some("x-y"));
        assert_eq!(info.actions, vec!["a", "b"]);
        assert_eq!(info.permissions, Some(vec!["data.read".to_string()]));
        assert_eq!(info.config[0].key, "max");
        assert_eq!(info.config[0].default, Some(serde_json::json!(10)));
    }

    #[test]
    fn syntax_error_has_position() {
        let src = "export default {\n  id: 'q',\n\n  async actions: {\n    x() {}\n  }\n};\n";
        let e = inspect("q.js", src).unwrap_err();
        assert_eq!(e.code, "js-syntax");
        assert_eq!(e.pos.unwrap().line, 4, "{e:?}");
    }

    #[test]
    fn runaway_module_is_stopped() {
        let t = Instant::now();
        let e = inspect("loop.js", "while (true) {}\nexport default {};").unwrap_err();
        assert_eq!(e.code, "js-evaluation");
        assert!(t.elapsed() < Duration::from_secs(3));
        let e = inspect(
            "mem.js",
            "let a = []; while (true) a.push(new Array(1e5).fill(1));\nexport default {};",
        )
        .unwrap_err();
        assert_eq!(e.code, "js-evaluation");
    }

    #[test]
    fn imports_refused() {
        let e = inspect("imp.js", "import os from 'os';\nexport default {};").unwrap_err();
        assert_eq!(e.code, "js-import", "{e:?}");
    }

    #[test]
    fn assertions() {
        let out = serde_json::json!({"temperature": 72});
        assert_eq!(
            eval_assertion("output.temperature > -100", &serde_json::json!({}), &out),
            Ok(true)
        );
        assert_eq!(
            eval_assertion("output.temperature < 0", &serde_json::json!({}), &out),
            Ok(false)
        );
        assert!(eval_assertion("output.nope.x", &serde_json::json!({}), &out).is_err());
        assert!(eval_assertion(
            "typeof fetch === 'undefined' && typeof require === 'undefined'",
            &serde_json::json!({}),
            &out
        )
        .unwrap());
        assert!(eval_assertion("(() => { for(;;){} })()", &serde_json::json!({}), &out).is_err());
    }

    #[test]
    fn expressions() {
        assert!(check_expression("file.type === 'pdf' && file.name.includes('invoice')").is_ok());
        assert_eq!(
            check_expression("file.type === ").unwrap_err().code,
            "expression-syntax"
        );
    }
}
