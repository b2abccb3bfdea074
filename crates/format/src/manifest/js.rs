//! Reading a JavaScript capability module (`export default { id, name, actions, … }`).
//! Syntax is checked here, in-process, by a memory-safe parser written in Rust (oxc): every
//! edit of a module, a workflow filter or a builder script is parsed without any JavaScript
//! engine. Evaluating a module's top level, to read what its default export declares, runs code
//! a stranger wrote: that happens only in the confined sandbox worker
//! ([`capsmith_sandbox_protocol::pool::inspect_module`]), with a deadline, a memory cap and the watchdog.

use oxc_allocator::Allocator;
use oxc_ast::ast::{ExportDefaultDeclarationKind, Expression, ObjectPropertyKind, Statement};
use oxc_parser::{ParseOptions, Parser};
use oxc_span::{GetSpan, SourceType};

use crate::diagnostics::{Finding, Pos};
use crate::manifest::source::pos_of_byte;

pub use capsmith_sandbox_protocol::{ConfigEntry, ModuleInfo};

/// A problem found in a module. `line`/`column` are within the JS source.
fn js_error(code: &'static str, msg: impl Into<String>, line: u32, column: u32) -> Finding {
    Finding::error(code, msg).at_pos(Pos { line, column })
}

/// The first syntax error of a parse, with its byte offset in the parsed text.
fn first_error(diagnostics: &[oxc_diagnostics::OxcDiagnostic]) -> Option<(String, usize)> {
    let d = diagnostics.first()?;
    let offset = d.labels.first().map(|l| l.offset() as usize).unwrap_or(0);
    Some((format!("SyntaxError: {}", d.message), offset))
}

/// Parses `source` as an ES module (strict, top-level `await` allowed).
fn parse_module<'a>(
    alloc: &'a Allocator,
    source: &'a str,
    options: ParseOptions,
) -> oxc_parser::ParserReturn<'a> {
    Parser::new(alloc, source, SourceType::mjs())
        .with_options(options)
        .parse()
}

/// Checks a module's syntax and that it imports nothing (a code capability reaches the world
/// only through the host APIs). Nothing is evaluated.
pub fn check_module(source: &str) -> Result<(), Finding> {
    let alloc = Allocator::default();
    let parsed = parse_module(&alloc, source, ParseOptions::default());
    if let Some((msg, at)) = first_error(&parsed.diagnostics) {
        let p = pos_of_byte(source.as_bytes(), at);
        return Err(js_error("js-syntax", msg, p.line, p.column)
            .hint("fix the JavaScript syntax error at this position"));
    }
    let record = &parsed.module_record;
    let imported = record
        .requested_modules
        .values()
        .flat_map(|v| v.iter().map(|r| r.span.start))
        .chain(record.dynamic_imports.iter().map(|d| d.span.start))
        .min();
    if let Some(at) = imported {
        let p = pos_of_byte(source.as_bytes(), at as usize);
        return Err(js_error(
            "js-import",
            "the module imports another module, which a code capability cannot do",
            p.line,
            p.column,
        )
        .hint("code capabilities cannot import modules; use the host APIs instead"));
    }
    Ok(())
}

/// Reads a module's metadata: its syntax is checked here, then its top level is evaluated in a
/// confined sandbox worker (never in this process).
pub fn inspect(file: &str, source: &str) -> Result<ModuleInfo, Finding> {
    check_module(source)?;
    capsmith_sandbox_protocol::pool::inspect_module(file, source).map_err(|p| {
        let code: &'static str = match p.code.as_str() {
            "js-syntax" => "js-syntax",
            "js-import" => "js-import",
            "js-evaluation" => "js-evaluation",
            "js-no-default-export" => "js-no-default-export",
            "sandbox-unconfined" => "sandbox-unconfined",
            "sandbox-unavailable" => "sandbox-unavailable",
            _ => "js-engine",
        };
        let f = js_error(code, p.message, p.line, p.column);
        match code {
            "js-no-default-export" => f.hint("a code capability is `export default { id, name, version, actions: { … }, permissions }`"),
            "js-import" => f.hint("code capabilities cannot import modules; use the host APIs instead"),
            "sandbox-unconfined" | "sandbox-unavailable" => f.hint("a module is only evaluated inside the confined sandbox worker; see `capsmith doctor`"),
            _ => f,
        }
    })
}

/// A string the module's `export default { … }` object literal gives `key` as a literal
/// (`version: '1.2.0'`), read from the syntax tree without evaluating anything. `None` when the
/// module does not parse, or the value is computed.
pub fn declared_string(source: &str, key: &str) -> Option<String> {
    let alloc = Allocator::default();
    let parsed = parse_module(&alloc, source, ParseOptions::default());
    if !parsed.diagnostics.is_empty() {
        return None;
    }
    parsed.program.body.iter().find_map(|stmt| {
        let Statement::ExportDefaultDeclaration(d) = stmt else {
            return None;
        };
        let ExportDefaultDeclarationKind::ObjectExpression(obj) = &d.declaration else {
            return None;
        };
        obj.properties.iter().find_map(|p| match p {
            ObjectPropertyKind::ObjectProperty(prop)
                if !prop.computed && prop.key.static_name().as_deref() == Some(key) =>
            {
                match &prop.value {
                    Expression::StringLiteral(s) => Some(s.value.as_str().to_string()),
                    Expression::TemplateLiteral(t) if t.expressions.is_empty() => t
                        .quasis
                        .first()
                        .and_then(|q| q.value.cooked.as_ref())
                        .map(|c| c.as_str().to_string()),
                    _ => None,
                }
            }
            _ => None,
        })
    })
}

/// Checks that `expr` is one whole JavaScript expression (a workflow filter, a `when`, an
/// assertion): text that would close the surrounding code early is refused too.
pub fn check_expression(expr: &str) -> Result<(), Finding> {
    expression_syntax(expr).map_err(|(msg, p)| {
        js_error(
            "expression-syntax",
            format!("invalid expression: {msg}"),
            p.line,
            p.column,
        )
    })
}

/// `Err((message, position within expr))` when `expr` is not exactly one expression.
fn expression_syntax(expr: &str) -> Result<(), (String, Pos)> {
    // `(` and a newline: the expression starts on line 2, column 1 of the wrapper.
    let wrapped = format!("(\n{expr}\n)");
    let alloc = Allocator::default();
    let parsed = parse_module(&alloc, &wrapped, ParseOptions::default());
    // An error in the wrapper's closing `)` (the expression ended too soon) is at its end.
    let end = 2 + expr.len();
    let at_expr = |at: usize| {
        let p = pos_of_byte(wrapped.as_bytes(), at.min(end));
        Pos {
            line: p.line.saturating_sub(1).max(1),
            column: if p.line <= 1 { 1 } else { p.column },
        }
    };
    if let Some((msg, at)) = first_error(&parsed.diagnostics) {
        return Err((msg, at_expr(at)));
    }
    // The whole text must be the one parenthesised expression the wrapper opened.
    let whole = match parsed.program.body.as_slice() {
        [Statement::ExpressionStatement(s)] => match &s.expression {
            Expression::ParenthesizedExpression(p) => {
                p.span.start == 0 && p.span.end as usize == wrapped.len()
            }
            _ => false,
        },
        _ => false,
    };
    if !whole || !parsed.program.directives.is_empty() {
        let at = match parsed.program.body.as_slice() {
            [first, _, ..] => first.span().end as usize,
            _ => 2,
        };
        return Err((
            "SyntaxError: this is more than one expression (it closes the expression early)".into(),
            at_expr(at),
        ));
    }
    Ok(())
}

/// `Err((message, position within body))` when `body` is not a valid async function body.
fn body_syntax(body: &str) -> Result<(), (String, Pos)> {
    let alloc = Allocator::default();
    let options = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    let parsed = parse_module(&alloc, body, options);
    if let Some((msg, at)) = first_error(&parsed.diagnostics) {
        return Err((msg, pos_of_byte(body.as_bytes(), at)));
    }
    // A body is a function's: no import or export.
    if let Some(s) = parsed
        .program
        .body
        .iter()
        .find(|s| s.is_module_declaration())
    {
        return Err((
            "SyntaxError: import and export are not allowed in a script".into(),
            pos_of_byte(body.as_bytes(), s.span().start as usize),
        ));
    }
    Ok(())
}

/// Checks many snippets (a flow's conditions, expressions and scripts) for syntax, remembering
/// the verdict of each text already seen in this process: the builder checks the whole flow
/// on every edit.
#[derive(Debug, Default)]
pub struct SyntaxChecker;

/// Verdicts of snippets already checked in this process, by a hash of their text.
/// A verdict by (is a body, hash of the text).
type Verdicts = std::collections::HashMap<(bool, u64), Result<(), String>>;
static SYNTAX_VERDICTS: std::sync::LazyLock<std::sync::Mutex<Verdicts>> =
    std::sync::LazyLock::new(Default::default);
const SYNTAX_VERDICTS_MAX: usize = 200_000;

/// Forgets every syntax verdict (a benchmark measuring a first check uses it).
pub fn forget_syntax_verdicts() {
    if let Ok(mut m) = SYNTAX_VERDICTS.lock() {
        m.clear();
    }
}

impl SyntaxChecker {
    pub fn new() -> Result<Self, Finding> {
        Ok(SyntaxChecker)
    }

    /// A JavaScript expression: `Err(message)` when it does not parse as one whole expression.
    pub fn expression(&self, expr: &str) -> Result<(), String> {
        Self::remembered(false, expr, |t| expression_syntax(t).map_err(describe))
    }

    /// A function body (`return input.a + 1;`), `await` allowed.
    pub fn body(&self, body: &str) -> Result<(), String> {
        Self::remembered(true, body, |t| body_syntax(t).map_err(describe))
    }

    fn remembered(
        body: bool,
        text: &str,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        let key = (body, h.finish());
        if let Some(v) = SYNTAX_VERDICTS
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return v;
        }
        let verdict = check(text);
        if let Ok(mut m) = SYNTAX_VERDICTS.lock() {
            if m.len() >= SYNTAX_VERDICTS_MAX {
                m.clear();
            }
            m.insert(key, verdict.clone());
        }
        verdict
    }
}

fn describe((msg, p): (String, Pos)) -> String {
    format!("{msg} (line {}, column {})", p.line, p.column)
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
    use std::time::{Duration, Instant};

    #[test]
    fn reads_metadata_in_the_worker() {
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
        let p = e.pos.unwrap();
        // At the `async` that may not be there.
        assert_eq!((p.line, p.column), (4, 3), "{e:?}");
        let e = check_module("const a = ;\nexport default {};").unwrap_err();
        assert_eq!(e.pos.unwrap().line, 1, "{e:?}");
    }

    #[test]
    fn runaway_module_is_stopped() {
        let t = Instant::now();
        let e = inspect("loop.js", "while (true) {}\nexport default {};").unwrap_err();
        assert_eq!(e.code, "js-evaluation", "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(10));
        let e = inspect(
            "mem.js",
            "let a = []; while (true) a.push(new Array(1e5).fill(1));\nexport default {};",
        )
        .unwrap_err();
        assert_eq!(e.code, "js-evaluation", "{e:?}");
    }

    #[test]
    fn imports_refused_before_anything_runs() {
        for src in [
            "import os from 'os';\nexport default {};",
            "export * from 'os';\nexport default {};",
            "export default { a: () => import('os') };",
        ] {
            let e = check_module(src).unwrap_err();
            assert_eq!(e.code, "js-import", "{src}: {e:?}");
        }
    }

    #[test]
    fn a_module_cannot_touch_this_process() {
        // The top level runs in the worker: what it can see is QuickJS and nothing else, and
        // a module that would reach the host's globals finds none.
        let e = inspect(
            "probe.js",
            "if (typeof std !== 'undefined' || typeof os !== 'undefined' || typeof require !== 'undefined' || typeof __host_fetch !== 'undefined') throw new Error('reached');\nthrow new Error('isolated');\nexport default {};",
        )
        .unwrap_err();
        assert!(e.message.contains("isolated"), "{e:?}");
    }

    #[test]
    fn assertions_run_in_the_worker() {
        let host = capsmith_sandbox_protocol::pool::Pool::default();
        let out = serde_json::json!({"temperature": 72});
        let eval = |e: &str| host.eval_assertion(e, &serde_json::json!({}), &out, false);
        assert_eq!(eval("output.temperature > -100"), Ok(true));
        assert_eq!(eval("output.temperature < 0"), Ok(false));
        assert!(eval("output.nope.x").is_err());
        assert_eq!(
            eval("typeof fetch === 'undefined' && typeof require === 'undefined'"),
            Ok(true)
        );
        assert!(eval("(() => { for(;;){} })()").is_err());
    }

    #[test]
    fn expressions() {
        assert!(check_expression("file.type === 'pdf' && file.name.includes('invoice')").is_ok());
        let e = check_expression("file.type === ").unwrap_err();
        assert_eq!(e.code, "expression-syntax");
        let e = check_expression("a &&\n  b ===").unwrap_err();
        assert_eq!(e.pos.unwrap().line, 2, "{e:?}");
        // Closing the expression early and running statements is refused.
        assert!(check_expression("1); while (true) {} (1").is_err());
        assert!(check_expression("1), (2").is_err());
    }

    #[test]
    fn declared_strings_are_read_without_evaluating() {
        let src = "while (true) {}\nexport default { id: 'a', version: `1.2.0`, name: NAME };";
        assert_eq!(declared_string(src, "version").as_deref(), Some("1.2.0"));
        assert_eq!(declared_string(src, "id").as_deref(), Some("a"));
        assert_eq!(declared_string(src, "name"), None);
    }
}
