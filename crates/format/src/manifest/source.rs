//! Turning bytes into text safely: size cap, encoding checks and format detection, each failure
//! a located finding rather than a panic or a garbled parse.

use std::io::Read;
use std::path::Path;

use crate::diagnostics::{Finding, Pos};
use crate::manifest::doc::MAX_FILE_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Yaml,
    Json,
    Js,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Yaml => "yaml",
            SourceFormat::Json => "json",
            SourceFormat::Js => "js",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "yaml" => Some(SourceFormat::Yaml),
            "json" => Some(SourceFormat::Json),
            "js" => Some(SourceFormat::Js),
            _ => None,
        }
    }

    /// By file extension first; otherwise by the first meaningful characters.
    pub fn detect(file_name: &str, text: &str) -> Self {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            return SourceFormat::Json;
        }
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            return SourceFormat::Yaml;
        }
        if lower.ends_with(".js") || lower.ends_with(".mjs") {
            return SourceFormat::Js;
        }
        let t = text.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            SourceFormat::Json
        } else if t.starts_with("export ")
            || t.starts_with("//")
            || t.starts_with("/*")
            || t.starts_with("const ")
        {
            SourceFormat::Js
        } else {
            SourceFormat::Yaml
        }
    }
}

/// Reads at most the size cap from `path`: a larger file is refused without reading it whole.
pub fn read_capped(path: &Path) -> std::io::Result<Result<Vec<u8>, Finding>> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Ok(Err(too_large(len)));
    }
    let mut buf = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Ok(Err(too_large(buf.len() as u64)));
    }
    Ok(Ok(buf))
}

fn too_large(len: u64) -> Finding {
    Finding::error(
        "file-too-large",
        format!(
            "file is {:.1} MiB; capability files are limited to {} MiB",
            len as f64 / (1024.0 * 1024.0),
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
    .hint("keep large data out of the manifest; reference it instead")
}

/// Position (1-based line, column in characters) of byte offset `at` in `bytes`.
pub fn pos_of_byte(bytes: &[u8], at: usize) -> Pos {
    let mut line = 1u32;
    let mut column = 1u32;
    for &b in &bytes[..at.min(bytes.len())] {
        if b == b'\n' {
            line += 1;
            column = 1;
        } else if b & 0xC0 != 0x80 {
            column += 1;
        }
    }
    Pos { line, column }
}

/// Checks and decodes a file's bytes as UTF-8 text.
pub fn decode(bytes: &[u8]) -> Result<String, Finding> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(
            Finding::error("unsupported-encoding", "file is UTF-16 encoded")
                .at_pos(Pos { line: 1, column: 1 })
                .hint("save it as UTF-8"),
        );
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            return Err(Finding::error(
                "invalid-utf8",
                format!(
                    "file is not valid UTF-8 (byte 0x{:02X} at offset {at})",
                    body[at]
                ),
            )
            .at_pos(pos_of_byte(body, at))
            .hint("capability files must be UTF-8 text; is this a binary file?"));
        }
    };
    if let Some(at) = text
        .bytes()
        .position(|b| b == 0 || (b < 0x20 && b != b'\n' && b != b'\r' && b != b'\t'))
    {
        return Err(Finding::error(
            "binary-content",
            format!("file contains a control character (0x{:02X})", body[at]),
        )
        .at_pos(pos_of_byte(body, at))
        .hint("capability files must be text; is this a binary file?"));
    }
    if text.trim().is_empty() {
        return Err(Finding::error("empty-file", "file is empty")
            .at_pos(Pos { line: 1, column: 1 })
            .hint("a capability file starts with `capability:` (YAML) or `{\"capability\": …}` (JSON)"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located() {
        let f = decode(b"capability:\n  id: \xff\xfe").unwrap_err();
        assert_eq!(f.code, "invalid-utf8");
        assert_eq!(f.pos, Some(Pos { line: 2, column: 7 }));
    }

    #[test]
    fn nul_and_empty_are_refused() {
        assert_eq!(decode(b"a: 1\n\0\0").unwrap_err().code, "binary-content");
        assert_eq!(decode(b"  \n\n").unwrap_err().code, "empty-file");
        assert_eq!(decode(b"").unwrap_err().code, "empty-file");
    }

    #[test]
    fn detects_format() {
        assert_eq!(SourceFormat::detect("x.yml", "{"), SourceFormat::Yaml);
        assert_eq!(SourceFormat::detect("x", " {\"a\":1}"), SourceFormat::Json);
        assert_eq!(
            SourceFormat::detect("x", "export default {}"),
            SourceFormat::Js
        );
        assert_eq!(SourceFormat::detect("x", "capability:"), SourceFormat::Yaml);
    }
}
