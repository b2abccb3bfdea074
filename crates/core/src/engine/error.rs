//! What can go wrong running an action. Guard refusals are their own variants (and are marked
//! as security violations in the audit log); every message is already redacted.

use crate::ErrorKind;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("`{host}` is not among the domains this capability may reach ({allowed}); a host listed without a port is reachable on its scheme's default port only")]
    DomainNotAllowed { host: String, allowed: String },
    #[error("{method} requests need the `{permission}` permission, which this capability does not declare")]
    MethodNotPermitted { method: String, permission: String },
    #[error("network call budget exhausted: at most {limit} calls per run")]
    CallBudgetExceeded { limit: u32 },
    #[error("plain http to `{host}` is refused; use https, or allow the host for this capability (capsmith settings allow-host ID HOST:PORT, or its Configure tab)")]
    InsecureScheme { host: String },
    #[error("`{host}` resolves to {addr}, a private/loopback/link-local address; refused (allow it for this capability: capsmith settings allow-host ID HOST:PORT, or its Configure tab)")]
    PrivateAddress { host: String, addr: String },
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: u32 },
    #[error("header `{header}` would contain a line break; refused")]
    HeaderInjection { header: String },
    #[error("the response is larger than {limit} bytes (after decompression); cut off")]
    ResponseTooLarge { limit: u64 },
    #[error("the response has too many or too large headers")]
    ResponseHeadersTooLarge,
    #[error("no complete response within {ms} ms")]
    Timeout { ms: u64 },
    #[error("URL scheme `{scheme}` is not allowed")]
    BadScheme { scheme: String },
    #[error("network error: {message}")]
    Network { message: String },
    #[error("the API answered {status}: {excerpt}")]
    HttpStatus { status: u16, excerpt: String },
    #[error("the response is not JSON, so `{output}` cannot be mapped from it")]
    NotJson { output: String },
    #[error("input `{field}`: {message}")]
    InvalidInput { field: String, message: String },
    #[error(
        "configuration `{key}` is not set; set it with `capsmith config set {capability} {key}`"
    )]
    MissingConfig { capability: String, key: String },
    #[error("response_mapping `{output}`: the path `{path}` matched nothing in the response")]
    MappingEmpty { output: String, path: String },
    #[error("response_mapping `{output}`: invalid path `{path}`: {message}")]
    MappingPath {
        output: String,
        path: String,
        message: String,
    },
    #[error("output `{output}` should be {expected} but the response has {found}")]
    OutputType {
        output: String,
        expected: String,
        found: String,
    },
    #[error("no action `{action}` in this capability (it has: {available})")]
    UnknownAction { action: String, available: String },
    #[error("`{action}` is neither an action of an installed capability nor a standard action this version provides")]
    UnavailableAction { action: String },
    #[error("the secret `{key}` can only be used in an API call's URL, headers, query or body, where it is filled in at the network boundary")]
    SecretOutsideHttp { key: String },
    #[error("{kind} capabilities cannot be run by the HTTP engine")]
    NotRunnable { kind: String },
    #[error("OAuth2 is not connected for this capability: store a token with `capsmith config set {capability} OAUTH2_ACCESS_TOKEN -`")]
    OAuthNotConnected { capability: String },
    #[error("invalid request: {message}")]
    BadRequest { message: String },
    #[error("OAuth2: {message}")]
    OAuth { message: String },
    /// An outcome of sandboxed code: `timeout`, `out_of_memory`, `js_error`, `sandbox_crashed`…
    #[error("{message}")]
    Sandbox { kind: String, message: String },
    #[error("`{path}`: {reason}")]
    FileRefused { path: String, reason: String },
    #[error("{message}")]
    Extract { message: String },
    #[error("{message}")]
    AiAnswer { message: String },
    #[error("the data does not match the schema ({count} problem(s)): {details}")]
    SchemaMismatch { count: usize, details: String },
    #[error("{what} is not set up: {how}")]
    NotConfigured { what: String, how: String },
    #[error("user data: {message}")]
    Data { message: String },
    #[error("email: {message}")]
    Email { message: String },
    #[error("the agent `{agent}` reached its monthly budget ({spent:.4} of {cap:.4}); paid calls are blocked until next month or a higher budget")]
    BudgetExceeded { agent: String, spent: f64, cap: f64 },
}

impl EngineError {
    pub fn kind(&self) -> &'static str {
        self.error_kind().as_str()
    }

    /// The kind as the typed enum.
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            EngineError::DomainNotAllowed { .. } => ErrorKind::DomainNotAllowed,
            EngineError::MethodNotPermitted { .. } => ErrorKind::PermissionDenied,
            EngineError::CallBudgetExceeded { .. } => ErrorKind::CallBudgetExceeded,
            EngineError::InsecureScheme { .. } => ErrorKind::InsecureScheme,
            EngineError::PrivateAddress { .. } => ErrorKind::PrivateAddress,
            EngineError::TooManyRedirects { .. } => ErrorKind::TooManyRedirects,
            EngineError::HeaderInjection { .. } => ErrorKind::HeaderInjection,
            EngineError::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            EngineError::ResponseHeadersTooLarge => ErrorKind::ResponseHeadersTooLarge,
            EngineError::Timeout { .. } => ErrorKind::Timeout,
            EngineError::BadScheme { .. } => ErrorKind::BadScheme,
            EngineError::Network { .. } => ErrorKind::Network,
            EngineError::HttpStatus { .. } => ErrorKind::HttpStatus,
            EngineError::NotJson { .. } => ErrorKind::NotJson,
            EngineError::InvalidInput { .. } => ErrorKind::InvalidInput,
            EngineError::MissingConfig { .. } => ErrorKind::MissingConfig,
            EngineError::MappingEmpty { .. } => ErrorKind::MappingEmpty,
            EngineError::MappingPath { .. } => ErrorKind::MappingPath,
            EngineError::OutputType { .. } => ErrorKind::OutputType,
            EngineError::UnknownAction { .. } => ErrorKind::UnknownAction,
            EngineError::NotRunnable { .. } => ErrorKind::NotRunnable,
            EngineError::UnavailableAction { .. } => ErrorKind::UnavailableAction,
            EngineError::SecretOutsideHttp { .. } => ErrorKind::SecretOutsideHttp,
            EngineError::OAuthNotConnected { .. } => ErrorKind::OauthNotConnected,
            EngineError::BadRequest { .. } => ErrorKind::BadRequest,
            EngineError::OAuth { .. } => ErrorKind::Oauth,
            EngineError::FileRefused { .. } => ErrorKind::FileRefused,
            EngineError::Extract { .. } => ErrorKind::ExtractFailed,
            EngineError::AiAnswer { .. } => ErrorKind::AiAnswer,
            EngineError::SchemaMismatch { .. } => ErrorKind::SchemaMismatch,
            EngineError::NotConfigured { .. } => ErrorKind::NotConfigured,
            EngineError::Data { .. } => ErrorKind::Data,
            EngineError::Email { .. } => ErrorKind::Email,
            EngineError::BudgetExceeded { .. } => ErrorKind::BudgetExceeded,
            // The kinds a worker may report keep their name; anything else it says (it runs a
            // stranger's code) is `sandbox`, so it cannot pose as, say, a consent refusal.
            EngineError::Sandbox { kind, .. } => match ErrorKind::parse(kind) {
                Some(
                    k @ (ErrorKind::Timeout
                    | ErrorKind::OutOfMemory
                    | ErrorKind::StackOverflow
                    | ErrorKind::OutputTooLarge
                    | ErrorKind::NeverSettles
                    | ErrorKind::UnknownAction
                    | ErrorKind::NoDefaultExport
                    | ErrorKind::SandboxCrashed
                    | ErrorKind::SandboxUnavailable
                    | ErrorKind::SandboxUnconfined
                    | ErrorKind::Data
                    | ErrorKind::JsError
                    | ErrorKind::DomainNotAllowed
                    | ErrorKind::PermissionDenied
                    | ErrorKind::CallBudgetExceeded
                    | ErrorKind::InsecureScheme
                    | ErrorKind::PrivateAddress
                    | ErrorKind::MissingConfig
                    | ErrorKind::BadRequest
                    | ErrorKind::Network),
                ) => k,
                _ => ErrorKind::Sandbox,
            },
        }
    }

    /// Whether trying again may succeed: network trouble, timeouts, a server's 5xx or 429, a
    /// model's unusable answer. A refusal, a bad input or data that fails its schema fails the
    /// same way every time, so retries skip it.
    pub fn is_transient(&self) -> bool {
        match self {
            EngineError::Network { .. }
            | EngineError::Timeout { .. }
            | EngineError::AiAnswer { .. }
            | EngineError::Email { .. }
            | EngineError::Data { .. } => true,
            EngineError::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            EngineError::Sandbox { kind, .. } => {
                matches!(
                    kind.as_str(),
                    "network" | "sandbox_crashed" | "sandbox_unavailable"
                )
            }
            _ => false,
        }
    }

    /// Refusals by the guard: audited as security violations.
    pub fn is_security_violation(&self) -> bool {
        if let EngineError::Sandbox { kind, .. } = self {
            return matches!(
                kind.as_str(),
                "domain_not_allowed"
                    | "permission_denied"
                    | "call_budget_exceeded"
                    | "insecure_scheme"
                    | "private_address"
                    | "too_many_redirects"
                    | "header_injection"
            );
        }
        matches!(
            self,
            EngineError::DomainNotAllowed { .. }
                | EngineError::MethodNotPermitted { .. }
                | EngineError::CallBudgetExceeded { .. }
                | EngineError::InsecureScheme { .. }
                | EngineError::PrivateAddress { .. }
                | EngineError::TooManyRedirects { .. }
                | EngineError::HeaderInjection { .. }
                | EngineError::ResponseTooLarge { .. }
                | EngineError::ResponseHeadersTooLarge
                | EngineError::BadScheme { .. }
                | EngineError::FileRefused { .. }
        )
    }
}
