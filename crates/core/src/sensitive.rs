//! Values that must not be printed (`Sensitive`: Debug and Display say `[redacted]`) and the
//! redaction of secrets from text in every spelling they take on the way out. A leaf: the
//! engine uses it at the HTTP boundary, `secrets` (the keyring) hands values out in it.

use std::fmt;

/// A value that must not be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(v: T) -> Self {
        Sensitive(v)
    }
    /// The value itself, for the one place that must use it (the HTTP boundary).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Replaces every secret in `text` with `[redacted]`, in the spellings it takes on the way
/// out: as is, percent-encoded (paths), form-encoded (queries), JSON-escaped and base64 (basic
/// auth).
pub fn redact(text: &str, secrets: &[String]) -> String {
    use base64::Engine as _;
    const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        let json = serde_json::to_string(s).unwrap_or_default();
        let variants = [
            s.clone(),
            percent_encoding::utf8_percent_encode(s, COMPONENT).to_string(),
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>(),
            json.trim_matches('"').to_string(),
            base64::engine::general_purpose::STANDARD.encode(s),
        ];
        for v in variants {
            if !v.is_empty() && out.contains(&v) {
                out = out.replace(&v, "[redacted]");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_covers_encoded_spellings() {
        let secrets = vec!["ab+c/d=e f&g".to_string()];
        for leaked in [
            "ab+c/d=e f&g",
            "ab%2Bc%2Fd%3De%20f%26g",
            "ab%2Bc%2Fd%3De+f%26g",
        ] {
            assert_eq!(
                redact(&format!("x {leaked} y"), &secrets),
                "x [redacted] y",
                "{leaked}"
            );
        }
    }

    #[test]
    fn sensitive_never_prints() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }
}
