//! A capability's own SQLite database (never the registry), queried one statement at a time on
//! the capability's behalf. What a statement may do is decided by what SQLite itself will do
//! when it runs it, not by its first word: an authorizer (`sqlite3_set_authorizer`) sees every
//! table read, row insert, update and delete, schema change, ATTACH (which VACUUM and VACUUM
//! INTO also ask for), PRAGMA and function call while the statement is compiled, and maps each
//! to `data.read`, `data.write`, `data.delete` or a refusal. So `WITH a AS (SELECT 1) DELETE
//! FROM t` needs `data.delete`, and `INSERT … SELECT` needs `data.read` too. An action code it
//! does not know is refused.
//!
//! Every statement runs under the action's deadline (a progress handler interrupts it), rows
//! are stepped one at a time and cut at the row cap without reading the rest, and the result's
//! size is counted as it is built. The C API is used directly (the same SQLite that sqlx links):
//! the authorizer and the progress handler are per-connection callbacks that sqlx does not
//! expose.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::Path;
use std::time::Instant;

use libsqlite3_sys as ffi;
use serde_json::Value;

use crate::engine::EngineError;

/// What the capability's permissions grant on its database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants {
    pub read: bool,
    pub write: bool,
    pub delete: bool,
}

/// Limits of one statement.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// When the statement is interrupted (the action's own deadline).
    pub deadline: Instant,
    /// Rows returned at most; the rest are never read.
    pub max_rows: usize,
    /// Bytes of result (as JSON, counted while rows are read) before the statement is refused.
    pub max_bytes: usize,
}

/// Pragmas that only read the schema, whatever their argument; every other pragma is refused
/// (with a value or without: `PRAGMA journal_mode` reads, `PRAGMA journal_mode = OFF` writes).
const READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];

/// Functions refused whatever the permissions: loading native code, and the FTS3 tokenizer
/// hook that takes a raw pointer.
const REFUSED_FUNCTIONS: &[&str] = &["load_extension", "fts3_tokenizer"];

/// Why the authorizer said no: a permission the capability lacks, or something never allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Denial {
    Needs(&'static str),
    Never(String),
}

struct Guard {
    grants: Grants,
    deadline: Instant,
    /// The time the statement was given, for the timeout's message.
    budget_ms: u64,
    denial: Option<Denial>,
    interrupted: bool,
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: SQLite passes NUL-terminated strings valid for the callback's duration.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl Guard {
    /// The decision for one action code (see <https://sqlite.org/c3ref/c_alter_table.html>).
    fn decide(&self, code: c_int, a3: &str, a4: Option<&str>) -> Result<(), Denial> {
        let need = |granted: bool, p: &'static str| {
            if granted {
                Ok(())
            } else {
                Err(Denial::Needs(p))
            }
        };
        let g = self.grants;
        // SQLite's own bookkeeping on the schema table while it compiles a CREATE, DROP or
        // ALTER: allowed here, because the statement's own action (CREATE_TABLE, DROP_TABLE,
        // SELECT…) is what needs the permission, and DEFENSIVE mode refuses direct writes to it.
        let schema_table = matches!(
            a3.to_ascii_lowercase().as_str(),
            "sqlite_master" | "sqlite_schema" | "sqlite_temp_master" | "sqlite_temp_schema"
        );
        match code {
            ffi::SQLITE_READ | ffi::SQLITE_INSERT | ffi::SQLITE_UPDATE | ffi::SQLITE_DELETE
                if schema_table =>
            {
                Ok(())
            }
            ffi::SQLITE_SELECT | ffi::SQLITE_READ | ffi::SQLITE_RECURSIVE => {
                need(g.read, "data.read")
            }
            // A function computes; the data it sees was authorised as read already. Only the
            // ones that reach outside SQL are refused.
            ffi::SQLITE_FUNCTION => {
                let name = a4.unwrap_or(a3).to_ascii_lowercase();
                if REFUSED_FUNCTIONS.contains(&name.as_str()) {
                    return Err(Denial::Never(format!("the function {name}()")));
                }
                Ok(())
            }
            ffi::SQLITE_INSERT | ffi::SQLITE_UPDATE => need(g.write, "data.write"),
            ffi::SQLITE_DELETE => need(g.delete, "data.delete"),
            ffi::SQLITE_CREATE_TABLE
            | ffi::SQLITE_CREATE_INDEX
            | ffi::SQLITE_CREATE_VIEW
            | ffi::SQLITE_CREATE_TRIGGER
            | ffi::SQLITE_CREATE_TEMP_TABLE
            | ffi::SQLITE_CREATE_TEMP_INDEX
            | ffi::SQLITE_CREATE_TEMP_VIEW
            | ffi::SQLITE_CREATE_TEMP_TRIGGER
            | ffi::SQLITE_ALTER_TABLE
            | ffi::SQLITE_REINDEX
            | ffi::SQLITE_ANALYZE => need(g.write, "data.write"),
            ffi::SQLITE_DROP_TABLE
            | ffi::SQLITE_DROP_INDEX
            | ffi::SQLITE_DROP_VIEW
            | ffi::SQLITE_DROP_TRIGGER
            | ffi::SQLITE_DROP_TEMP_TABLE
            | ffi::SQLITE_DROP_TEMP_INDEX
            | ffi::SQLITE_DROP_TEMP_VIEW
            | ffi::SQLITE_DROP_TEMP_TRIGGER => need(g.delete, "data.delete"),
            ffi::SQLITE_TRANSACTION | ffi::SQLITE_SAVEPOINT => Ok(()),
            // `PRAGMA table_info(t)` and `pragma_table_info('t')` alike; the argument of these
            // is a table's name, never a value to set.
            ffi::SQLITE_PRAGMA => {
                let name = a3.to_ascii_lowercase();
                if READ_PRAGMAS.contains(&name.as_str()) {
                    need(g.read, "data.read")
                } else {
                    Err(Denial::Never(format!("PRAGMA {name}")))
                }
            }
            ffi::SQLITE_ATTACH | ffi::SQLITE_DETACH => Err(Denial::Never("ATTACH/DETACH".into())),
            ffi::SQLITE_CREATE_VTABLE | ffi::SQLITE_DROP_VTABLE => {
                Err(Denial::Never("virtual tables".into()))
            }
            // Anything this list does not know (a future SQLite's new action) is refused.
            other => Err(Denial::Never(format!("SQLite action {other}"))),
        }
    }
}

unsafe extern "C" fn authorize(
    user: *mut c_void,
    code: c_int,
    a3: *const c_char,
    a4: *const c_char,
    _db: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    // SAFETY: `user` is the `Guard` owned by `query`, alive while the connection is.
    let guard = unsafe { &mut *(user as *mut Guard) };
    let a4 = (!a4.is_null()).then(|| text(a4));
    match guard.decide(code, &text(a3), a4.as_deref()) {
        Ok(()) => ffi::SQLITE_OK,
        Err(d) => {
            guard.denial.get_or_insert(d);
            ffi::SQLITE_DENY
        }
    }
}

unsafe extern "C" fn progress(user: *mut c_void) -> c_int {
    // SAFETY: as in `authorize`.
    let guard = unsafe { &mut *(user as *mut Guard) };
    if Instant::now() >= guard.deadline {
        guard.interrupted = true;
        1
    } else {
        0
    }
}

/// An open connection, closed on drop.
struct Conn(*mut ffi::sqlite3);

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_open_v2; every statement on it was finalized
        // before (statements live inside `run`, which returns before the connection drops).
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

struct Stmt(*mut ffi::sqlite3_stmt);

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: finalizing a statement (or NULL) is always allowed once.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

fn bad(message: impl Into<String>) -> EngineError {
    EngineError::BadRequest {
        message: message.into(),
    }
}

/// Runs one statement with bound `params` on the database at `path` and returns its rows as
/// JSON objects, or `{changes, last_insert_id}` for a statement that returns no columns.
/// `what` names the caller in errors (`db.query`, `database.query`).
pub fn query(
    what: &str,
    path: &Path,
    sql: &str,
    params: &[Value],
    grants: Grants,
    limits: Limits,
) -> Result<Value, EngineError> {
    let mut guard = Box::new(Guard {
        grants,
        deadline: limits.deadline,
        budget_ms: limits
            .deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as u64,
        denial: None,
        interrupted: false,
    });
    let may_change = grants.write || grants.delete;
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let flags = if may_change || !path.exists() {
        ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE
    } else {
        ffi::SQLITE_OPEN_READONLY
    } | ffi::SQLITE_OPEN_NOMUTEX
        | ffi::SQLITE_OPEN_NOFOLLOW;
    let c_path = CString::new(path.to_string_lossy().as_bytes())
        .map_err(|_| bad(format!("{what}: the database path holds a NUL byte")))?;
    let mut raw = std::ptr::null_mut();
    // SAFETY: plain FFI calls on a handle this function owns (closed by `Conn`'s drop); the
    // callbacks' user data is `guard`, which outlives the connection (dropped after `conn`).
    let conn = unsafe {
        let rc = ffi::sqlite3_open_v2(c_path.as_ptr(), &mut raw, flags, std::ptr::null());
        let conn = Conn(raw);
        if rc != ffi::SQLITE_OK {
            return Err(bad(format!(
                "{what}: cannot open the capability's database: {}",
                errmsg(raw)
            )));
        }
        let db = conn.0;
        ffi::sqlite3_extended_result_codes(db, 1);
        let mut out: c_int = 0;
        for (op, on) in [
            (ffi::SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0),
            (ffi::SQLITE_DBCONFIG_DEFENSIVE, 1),
            (ffi::SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
            (ffi::SQLITE_DBCONFIG_ENABLE_TRIGGER, 1),
            (ffi::SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE, 0),
        ] {
            ffi::sqlite3_db_config(db, op, on as c_int, &mut out as *mut c_int);
        }
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
        ffi::sqlite3_limit(
            db,
            ffi::SQLITE_LIMIT_LENGTH,
            limits.max_bytes.min(i32::MAX as usize) as c_int,
        );
        ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
        ffi::sqlite3_busy_timeout(db, 1000);
        let user = &mut *guard as *mut Guard as *mut c_void;
        ffi::sqlite3_set_authorizer(db, Some(authorize), user);
        ffi::sqlite3_progress_handler(db, 1000, Some(progress), user);
        conn
    };
    let result = run(what, &conn, sql, params, &mut guard, limits);
    drop(conn);
    result
}

fn errmsg(db: *mut ffi::sqlite3) -> String {
    if db.is_null() {
        return "out of memory".into();
    }
    // SAFETY: a live handle's message, copied at once.
    text(unsafe { ffi::sqlite3_errmsg(db) })
}

/// Turns a failed prepare/step into the error the caller sees: the permission the authorizer
/// asked for, a refusal, the deadline, or SQLite's own message.
fn failure(what: &str, conn: &Conn, guard: &Guard) -> EngineError {
    if let Some(d) = &guard.denial {
        return match d {
            Denial::Needs(p) => EngineError::MethodNotPermitted {
                method: what.into(),
                permission: (*p).into(),
            },
            Denial::Never(thing) => bad(format!("{what}: {thing} is not allowed")),
        };
    }
    if guard.interrupted || Instant::now() >= guard.deadline {
        return EngineError::Timeout {
            ms: guard.budget_ms,
        };
    }
    bad(format!("{what}: {}", errmsg(conn.0)))
}

fn run(
    what: &str,
    conn: &Conn,
    sql: &str,
    params: &[Value],
    guard: &mut Guard,
    limits: Limits,
) -> Result<Value, EngineError> {
    let db = conn.0;
    let bytes = sql.as_bytes();
    let mut stmt = Stmt(std::ptr::null_mut());
    let mut tail: *const c_char = std::ptr::null();
    // SAFETY: `bytes` outlives the prepare; `tail` points into it.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(
            db,
            bytes.as_ptr() as *const c_char,
            bytes.len() as c_int,
            &mut stmt.0,
            &mut tail,
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(failure(what, conn, guard));
    }
    if stmt.0.is_null() {
        return Err(bad(format!("{what}: the statement is empty")));
    }
    // One statement per call: whatever follows must compile to nothing (space, `;`, comments).
    let used = tail as usize - bytes.as_ptr() as usize;
    let rest = &bytes[used.min(bytes.len())..];
    if !rest.iter().all(|b| b.is_ascii_whitespace() || *b == b';') {
        let mut next = Stmt(std::ptr::null_mut());
        // SAFETY: as above, on the rest of the same buffer.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db,
                rest.as_ptr() as *const c_char,
                rest.len() as c_int,
                &mut next.0,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK || !next.0.is_null() {
            guard.denial = None;
            return Err(bad(format!("{what} runs one statement at a time")));
        }
    }
    // SAFETY: a prepared statement; every bind copies (SQLITE_TRANSIENT).
    let expected = unsafe { ffi::sqlite3_bind_parameter_count(stmt.0) } as usize;
    if expected != params.len() {
        return Err(bad(format!(
            "{what}: the statement has {expected} placeholder(s) but {} value(s) were given",
            params.len()
        )));
    }
    for (i, p) in params.iter().enumerate() {
        let idx = i as c_int + 1;
        // SAFETY: as above.
        let rc = unsafe {
            match p {
                Value::Null => ffi::sqlite3_bind_null(stmt.0, idx),
                Value::Bool(b) => ffi::sqlite3_bind_int64(stmt.0, idx, *b as i64),
                Value::Number(n) if n.is_i64() => {
                    ffi::sqlite3_bind_int64(stmt.0, idx, n.as_i64().unwrap_or(0))
                }
                Value::Number(n) => {
                    ffi::sqlite3_bind_double(stmt.0, idx, n.as_f64().unwrap_or(0.0))
                }
                other => {
                    let s = match other {
                        Value::String(s) => s.clone(),
                        v => v.to_string(),
                    };
                    ffi::sqlite3_bind_text64(
                        stmt.0,
                        idx,
                        s.as_ptr() as *const c_char,
                        s.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    )
                }
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(failure(what, conn, guard));
        }
    }
    // SAFETY: as above.
    let columns = unsafe { ffi::sqlite3_column_count(stmt.0) };
    let names: Vec<String> = (0..columns)
        .map(|i| text(unsafe { ffi::sqlite3_column_name(stmt.0, i) }))
        .collect();
    let mut rows = Vec::new();
    let mut size = 2usize;
    loop {
        if columns > 0 && rows.len() >= limits.max_rows {
            break; // the rest is never read
        }
        // SAFETY: as above.
        let rc = unsafe { ffi::sqlite3_step(stmt.0) };
        if rc == ffi::SQLITE_DONE {
            break;
        }
        if rc != ffi::SQLITE_ROW {
            return Err(failure(what, conn, guard));
        }
        let mut obj = serde_json::Map::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let i = i as c_int;
            // SAFETY: a row is current; the column pointers are read before the next step.
            let v = unsafe {
                match ffi::sqlite3_column_type(stmt.0, i) {
                    ffi::SQLITE_INTEGER => Value::from(ffi::sqlite3_column_int64(stmt.0, i)),
                    ffi::SQLITE_FLOAT => Value::from(ffi::sqlite3_column_double(stmt.0, i)),
                    ffi::SQLITE_NULL => Value::Null,
                    ffi::SQLITE_BLOB => {
                        Value::String(format!("[{} bytes]", ffi::sqlite3_column_bytes(stmt.0, i)))
                    }
                    _ => {
                        let p = ffi::sqlite3_column_text(stmt.0, i);
                        let n = ffi::sqlite3_column_bytes(stmt.0, i) as usize;
                        if p.is_null() {
                            Value::Null
                        } else {
                            let b = std::slice::from_raw_parts(p, n);
                            Value::String(String::from_utf8_lossy(b).into_owned())
                        }
                    }
                }
            };
            size += name.len() + 4 + json_size(&v);
            obj.insert(name.clone(), v);
        }
        if size > limits.max_bytes {
            return Err(EngineError::Data {
                message: format!(
                    "{what}: the result is larger than {} bytes; select fewer rows or columns",
                    limits.max_bytes
                ),
            });
        }
        rows.push(Value::Object(obj));
    }
    if columns > 0 {
        return Ok(Value::Array(rows));
    }
    // SAFETY: as above.
    let (changes, last) = unsafe {
        (
            ffi::sqlite3_changes64(db),
            ffi::sqlite3_last_insert_rowid(db),
        )
    };
    Ok(serde_json::json!({"changes": changes, "last_insert_id": last}))
}

fn json_size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 2,
        Value::Null => 4,
        other => other.to_string().len(),
    }
}
