//! The sandbox worker's protocol, shared by the worker (`capsmith-sandbox`) and its hosts (the
//! runtime, the marketplace server): plain types and framing, and in [`pool`] the hosts' end of
//! the pipe (starting, pooling and watching workers). No engine, network, database or keyring.
//!
//! What the host and a sandbox worker say to each other over the worker's stdin/stdout: frames
//! of a 4-byte big-endian length and a JSON message. Frames are capped so a hostile worker cannot
//! make the host allocate without bound.

use std::io::{Read, Write};

pub mod pool;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    Invoke(Invocation),
    FetchResult {
        call: u64,
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    FetchError {
        call: u64,
        kind: String,
        message: String,
    },
    /// The result of a host call: rows of a `db.query` (or `{changes, last_insert_id}`), or
    /// an `ai.call` answer (`{content, model, usage}`).
    HostResult {
        call: u64,
        result: Value,
    },
    /// Evaluate a module's top level and read what its default export declares (validation:
    /// a stranger's module is only ever evaluated in a confined worker).
    Inspect(Evaluation),
    /// Evaluate a test case's `assert` expression over its input and output.
    Assert {
        expr: String,
        input: Value,
        output: Value,
        limits: Limits,
    },
}

/// A module to evaluate for its metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// The name positions are reported against (`weather.js`, `manifest.yaml#code`).
    pub file: String,
    pub source: String,
    pub limits: Limits,
}

/// The budget of one evaluation in the worker.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Limits {
    pub memory_bytes: usize,
    pub deadline_ms: u64,
}

/// Why a module could not be read: a diagnostic code (`js-syntax`, `js-import`,
/// `js-evaluation`, `js-no-default-export`, `js-engine`), a message and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsProblem {
    pub code: String,
    pub message: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// Sent once at start: how far the OS confinement got.
    Ready {
        confinement: Confinement,
    },
    Fetch {
        call: u64,
        url: String,
        method: String,
        headers: Vec<(String, String)>,
        body: Option<String>,
    },
    /// `this.db.query(sql, params)`: one parameterized statement on the capability's own data.
    Db {
        call: u64,
        sql: String,
        params: Vec<Value>,
    },
    /// `this.ai.call(request)`: a chat completion from the configured AI endpoint.
    Ai {
        call: u64,
        request: Value,
    },
    Done(Outcome),
    /// The answer to [`ToWorker::Inspect`].
    Inspected(Result<ModuleInfo, JsProblem>),
    /// The answer to [`ToWorker::Assert`]: whether it held, or why it did not run.
    Asserted(Result<bool, String>),
}

/// What the worker's OS confinement achieved, measured by the worker itself after applying it.
/// The host refuses a worker for which [`Confinement::missing`] is not empty, unless the user
/// opted out (`sandbox.allow_unconfined`). Every field defaults to "not achieved", so a worker
/// that leaves one out (an older or a fake worker) counts as unconfined there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Confinement {
    /// `RLIMIT_AS`: the address space is capped.
    pub rlimit_as: bool,
    /// `RLIMIT_NOFILE`: no new file descriptors beyond a handful.
    pub rlimit_nofile: bool,
    /// Landlock fully enforced: no filesystem access, no TCP bind/connect, no signals or
    /// abstract sockets outside the worker.
    pub landlock: bool,
    /// The seccomp allow-list filter is loaded.
    pub seccomp: bool,
}

impl Confinement {
    /// The parts of confinement that did not hold, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.rlimit_as {
            out.push("address-space limit");
        }
        if !self.rlimit_nofile {
            out.push("file-descriptor limit");
        }
        if !self.landlock {
            out.push("Landlock");
        }
        if !self.seccomp {
            out.push("seccomp filter");
        }
        out
    }

    pub fn is_full(&self) -> bool {
        self.missing().is_empty()
    }
}

/// One call of one action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invocation {
    pub source: String,
    pub action: String,
    pub input: Value,
    /// Non-secret configuration; secret keys appear as their `${KEY}` placeholder.
    pub config: Value,
    /// Host APIs granted by the permissions: `fetch`, `db`, `ai` (utils and console always).
    pub granted: Vec<String>,
    pub memory_bytes: usize,
    pub deadline_ms: u64,
    pub max_output_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ConsoleLine {
    pub level: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub ok: bool,
    pub output: Option<Value>,
    /// Error kind (`timeout`, `out_of_memory`, `js_error`, `unknown_action`, …) when not ok.
    pub kind: Option<String>,
    pub message: Option<String>,
    pub console: Vec<ConsoleLine>,
    pub memory_used: u64,
}

pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    if bytes.len() > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    w.write_all(&(bytes.len() as u32).to_be_bytes())?;
    w.write_all(&bytes)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at end of stream.
pub fn read_frame<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> std::io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(std::io::Error::other(format!(
            "frame of {n} bytes exceeds the {MAX_FRAME}-byte cap"
        )));
    }
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf)?;
    serde_json::from_slice(&buf)
        .map(Some)
        .map_err(std::io::Error::other)
}

/// What a module's default export declares about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub key: String,
    pub ty: Option<String>,
    pub default: Option<serde_json::Value>,
    pub description: Option<String>,
}
