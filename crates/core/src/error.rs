//! The core's one error type. Every variant has a stable `kind` that crosses IPC and the CLI's
//! `--json` output unchanged, so callers switch on kinds, never on message text.

use crate::{ErrorKind, FormatError};
use std::path::PathBuf;

use crate::dto::{ApiError, ValidationReport};

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A manifest failed validation; the report holds every finding.
    #[error("{} is not a valid capability ({} error(s)); first: {}", .0.file, .0.errors.len(), .0.errors.first().map(|d| d.message.as_str()).unwrap_or("unknown"))]
    InvalidManifest(Box<ValidationReport>),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("file not found: {0}")]
    FileNotFound(PathBuf),
    #[error("{id}@{version} is already in the library with different content; bump the version to keep both")]
    VersionConflict { id: String, version: String },
    #[error("no capability `{0}` in the library")]
    NotFound(String),
    #[error("capability `{id}` is attached to agent(s) {agents}; detach it before removing it")]
    InUse { id: String, agents: String },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("registry database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("registry migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored definition of {id}@{version} is unreadable: {message}")]
    CorruptRecord {
        id: String,
        version: String,
        message: String,
    },
    #[error("cannot find a data directory for Capsmith; set CAPSMITH_HOME")]
    NoHomeDir,
    #[error("{message}; {hint}")]
    Keyring { message: String, hint: String },
    #[error("{id}@{version} cannot be published: {failed} of its {total} test case(s) fail; run `capsmith test {id}@{version}`")]
    TestsFailing {
        id: String,
        version: String,
        failed: u32,
        total: u32,
    },
    #[error("adding `{capability}` needs your consent to: {}", .permissions.join(", "))]
    ConsentRequired {
        capability: String,
        permissions: Vec<String>,
    },
    #[error("no set of versions satisfies every dependency:\n{explanation}")]
    Unresolvable { explanation: String },
    #[error("agent `{0}` does not exist")]
    AgentNotFound(String),
    /// A package or its signature was refused (`package_invalid`, `package_tampered`,
    /// `signature_invalid`, `publisher_key_changed`, `yanked`, …).
    #[error("{message}")]
    Package { code: ErrorKind, message: String },
    /// The marketplace answered with an error envelope (its stable code is kept).
    #[error("the marketplace refused: {message} ({code})")]
    Market {
        code: String,
        message: String,
        status: u16,
    },
    /// The marketplace cannot be reached; cached data still works.
    #[error("the marketplace at {url} cannot be reached ({reason}); browsing works offline from the cache")]
    MarketUnreachable { url: String, reason: String },
    /// A file given as a JSON Schema is not one: where, and why.
    #[error("{file}{}: {message}", .line.map(|l| format!(":{l}:{}", .column.unwrap_or(1))).unwrap_or_default())]
    InvalidSchema {
        file: String,
        line: Option<u32>,
        column: Option<u32>,
        message: String,
    },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
}

impl CoreError {
    /// Stable machine-readable kind, the key the UI and scripts switch on.
    pub fn kind(&self) -> &'static str {
        self.error_kind().as_str()
    }

    /// The kind as the typed enum (`ErrorKind`), what crosses to the UI.
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            CoreError::InvalidManifest(_) => ErrorKind::InvalidManifest,
            CoreError::Io { .. } => ErrorKind::Io,
            CoreError::FileNotFound(_) => ErrorKind::FileNotFound,
            CoreError::VersionConflict { .. } => ErrorKind::VersionConflict,
            CoreError::NotFound(_) => ErrorKind::NotFound,
            CoreError::InUse { .. } => ErrorKind::InUse,
            CoreError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            CoreError::Database(_) => ErrorKind::Database,
            CoreError::Migration(_) => ErrorKind::Migration,
            CoreError::CorruptRecord { .. } => ErrorKind::CorruptRecord,
            CoreError::NoHomeDir => ErrorKind::NoHomeDir,
            CoreError::Keyring { .. } => ErrorKind::KeyringUnavailable,
            CoreError::TestsFailing { .. } => ErrorKind::TestsFailing,
            CoreError::ConsentRequired { .. } => ErrorKind::ConsentRequired,
            CoreError::Unresolvable { .. } => ErrorKind::Unresolvable,
            CoreError::AgentNotFound(_) => ErrorKind::AgentNotFound,
            CoreError::Package { code, .. } => *code,
            // The server's stable codes that a caller acts on keep their own kind.
            CoreError::Market { code, .. } => match code.as_str() {
                "unauthorized" => ErrorKind::MarketUnauthorized,
                "forbidden" => ErrorKind::MarketForbidden,
                "payment_required" => ErrorKind::PaymentRequired,
                "namespace_taken" => ErrorKind::NamespaceTaken,
                "version_exists" => ErrorKind::VersionExists,
                "rate_limited" => ErrorKind::RateLimited,
                "not_found" => ErrorKind::MarketNotFound,
                _ => ErrorKind::Market,
            },
            CoreError::MarketUnreachable { .. } => ErrorKind::MarketUnreachable,
            CoreError::InvalidSchema { .. } => ErrorKind::InvalidSchema,
            CoreError::Engine(e) => e.error_kind(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            CoreError::FileNotFound(path)
        } else {
            CoreError::Io { path, source }
        }
    }
}

impl From<FormatError> for CoreError {
    fn from(e: FormatError) -> Self {
        match e {
            FormatError::Io { path, source } => CoreError::Io { path, source },
            FormatError::FileNotFound(p) => CoreError::FileNotFound(p),
            FormatError::Package { code, message } => CoreError::Package { code, message },
            FormatError::InvalidArgument(m) => CoreError::InvalidArgument(m),
        }
    }
}

impl From<&CoreError> for ApiError {
    fn from(e: &CoreError) -> Self {
        let (path, line, column, report) = match e {
            CoreError::InvalidManifest(r) => {
                let first = r.errors.first();
                (
                    first.and_then(|d| d.path.clone()),
                    first.and_then(|d| d.line),
                    first.and_then(|d| d.column),
                    Some(r.clone()),
                )
            }
            CoreError::Io { path, .. } | CoreError::FileNotFound(path) => {
                (Some(path.display().to_string()), None, None, None)
            }
            CoreError::InvalidSchema {
                file, line, column, ..
            } => (Some(file.clone()), *line, *column, None),
            _ => (None, None, None, None),
        };
        ApiError {
            kind: e.error_kind(),
            message: e.to_string(),
            path,
            line,
            column,
            report,
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::from(&e)
    }
}
