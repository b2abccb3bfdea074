//! The format crate's one error type: reading a file, and refusing a package or a key. Every
//! variant has a stable kind ([`FormatError::error_kind`]); the runtime keeps it when it wraps
//! one of these (`CoreError: From<FormatError>`).

use std::path::PathBuf;

use crate::ErrorKind;

pub type FormatResult<T> = Result<T, FormatError>;

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("file not found: {0}")]
    FileNotFound(PathBuf),
    /// A package, a key or a signature was refused (`package_invalid`, `package_tampered`,
    /// `signature_invalid`, …).
    #[error("{message}")]
    Package { code: ErrorKind, message: String },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl FormatError {
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            FormatError::Io { .. } => ErrorKind::Io,
            FormatError::FileNotFound(_) => ErrorKind::FileNotFound,
            FormatError::Package { code, .. } => *code,
            FormatError::InvalidArgument(_) => ErrorKind::InvalidArgument,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.error_kind().as_str()
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            FormatError::FileNotFound(path)
        } else {
            FormatError::Io { path, source }
        }
    }
}
