//! Every kind an error reaches the UI, the CLI's `--json` and scripts with: one enum with a
//! stable snake_case form, exported to TypeScript (`ui/src/generated/ErrorKind.ts`), so the UI's
//! switches over kinds are checked by its compiler and a kind cannot be misspelt on either side.

use serde::{Deserialize, Serialize};

macro_rules! kinds {
    ($($variant:ident = $text:literal,)*) => {
        /// A stable, machine-readable error kind.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
        pub enum ErrorKind {
            $(#[serde(rename = $text)] $variant,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $text,)*
                }
            }

            /// The kind spelt `text`, if there is one.
            pub fn parse(text: &str) -> Option<ErrorKind> {
                match text {
                    $($text => Some(ErrorKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    AgentNotFound = "agent_not_found",
    AiAnswer = "ai_answer",
    BadRequest = "bad_request",
    BadScheme = "bad_scheme",
    BudgetExceeded = "budget_exceeded",
    CallBudgetExceeded = "call_budget_exceeded",
    ConsentRequired = "consent_required",
    CorruptRecord = "corrupt_record",
    Data = "data",
    Database = "database",
    DomainNotAllowed = "domain_not_allowed",
    Email = "email",
    ExtractFailed = "extract_failed",
    FileNotFound = "file_not_found",
    FileRefused = "file_refused",
    HeaderInjection = "header_injection",
    HttpStatus = "http_status",
    IdTaken = "id_taken",
    InUse = "in_use",
    InsecureScheme = "insecure_scheme",
    InvalidArgument = "invalid_argument",
    InvalidFlow = "invalid_flow",
    InvalidInput = "invalid_input",
    InvalidManifest = "invalid_manifest",
    InvalidSchema = "invalid_schema",
    Io = "io",
    JsError = "js_error",
    KeyringUnavailable = "keyring_unavailable",
    ListingMismatch = "listing_mismatch",
    MappingEmpty = "mapping_empty",
    MappingPath = "mapping_path",
    Market = "market",
    MarketForbidden = "market_forbidden",
    MarketNotFound = "market_not_found",
    MarketUnauthorized = "market_unauthorized",
    MarketUnreachable = "market_unreachable",
    Migration = "migration",
    MissingConfig = "missing_config",
    NamespaceTaken = "namespace_taken",
    Network = "network",
    NeverSettles = "never_settles",
    NoDefaultExport = "no_default_export",
    NoHomeDir = "no_home_dir",
    NotConfigured = "not_configured",
    NotFound = "not_found",
    NotJson = "not_json",
    NotRunnable = "not_runnable",
    Oauth = "oauth",
    OauthNotConnected = "oauth_not_connected",
    OutOfMemory = "out_of_memory",
    OutputTooLarge = "output_too_large",
    OutputType = "output_type",
    PackageInvalid = "package_invalid",
    PackageTampered = "package_tampered",
    PaymentRequired = "payment_required",
    PermissionDenied = "permission_denied",
    PrivateAddress = "private_address",
    PublisherKeyChanged = "publisher_key_changed",
    RateLimited = "rate_limited",
    ResponseHeadersTooLarge = "response_headers_too_large",
    ResponseTooLarge = "response_too_large",
    Revoked = "revoked",
    Sandbox = "sandbox",
    SandboxCrashed = "sandbox_crashed",
    SandboxUnavailable = "sandbox_unavailable",
    SandboxUnconfined = "sandbox_unconfined",
    SchemaMismatch = "schema_mismatch",
    SecretOutsideHttp = "secret_outside_http",
    SecretsWithheld = "secrets_withheld",
    SignatureInvalid = "signature_invalid",
    StackOverflow = "stack_overflow",
    TestsFailing = "tests_failing",
    Timeout = "timeout",
    TooManyRedirects = "too_many_redirects",
    UnavailableAction = "unavailable_action",
    UnknownAction = "unknown_action",
    Unresolvable = "unresolvable",
    VersionConflict = "version_conflict",
    VersionExists = "version_exists",
    Yanked = "yanked",
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_and_serializes_as_its_text() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert!(seen.insert(k.as_str()), "{k} twice");
            assert_eq!(ErrorKind::parse(k.as_str()), Some(*k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
            assert!(k
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(ErrorKind::parse("no_such_kind"), None);
    }
}
