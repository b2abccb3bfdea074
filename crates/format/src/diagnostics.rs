//! Findings about a document: collected, never thrown, so an editor can show every problem at
//! once. Each finding names the file, the path in the document and, where the source has one,
//! a 1-based line and column.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::path::DocPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A 1-based position in a source text (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `duplicate-key`, `unknown-permission`.
    pub code: String,
    pub message: String,
    pub file: String,
    /// Path in the document, e.g. `capability.actions[1].id`.
    pub path: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub hint: Option<String>,
}

/// What a check reports before the file name and positions are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub path: Option<DocPath>,
    /// A position known directly (parse errors); otherwise looked up from `path`.
    pub pos: Option<Pos>,
    pub hint: Option<String>,
}

impl Finding {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Error,
            code,
            message: message.into(),
            path: None,
            pos: None,
            hint: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(code, message)
        }
    }
    pub fn at(mut self, path: DocPath) -> Self {
        self.path = Some(path);
        self
    }
    pub fn at_pos(mut self, pos: Pos) -> Self {
        self.pos = Some(pos);
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}
