//! What can go wrong running an action. Guard refusals are their own variants (and are marked
//! as security violations in the audit log); every message is already redacted.

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
        match self {
            EngineError::DomainNotAllowed { .. } => "domain_not_allowed",
            EngineError::MethodNotPermitted { .. } => "permission_denied",
            EngineError::CallBudgetExceeded { .. } => "call_budget_exceeded",
            EngineError::InsecureScheme { .. } => "insecure_scheme",
            EngineError::PrivateAddress { .. } => "private_address",
            EngineError::TooManyRedirects { .. } => "too_many_redirects",
            EngineError::HeaderInjection { .. } => "header_injection",
            EngineError::ResponseTooLarge { .. } => "response_too_large",
            EngineError::ResponseHeadersTooLarge => "response_headers_too_large",
            EngineError::Timeout { .. } => "timeout",
            EngineError::BadScheme { .. } => "bad_scheme",
            EngineError::Network { .. } => "network",
            EngineError::HttpStatus { .. } => "http_status",
            EngineError::NotJson { .. } => "not_json",
            EngineError::InvalidInput { .. } => "invalid_input",
            EngineError::MissingConfig { .. } => "missing_config",
            EngineError::MappingEmpty { .. } => "mapping_empty",
            EngineError::MappingPath { .. } => "mapping_path",
            EngineError::OutputType { .. } => "output_type",
            EngineError::UnknownAction { .. } => "unknown_action",
            EngineError::NotRunnable { .. } => "not_runnable",
            EngineError::UnavailableAction { .. } => "unavailable_action",
            EngineError::SecretOutsideHttp { .. } => "secret_outside_http",
            EngineError::OAuthNotConnected { .. } => "oauth_not_connected",
            EngineError::BadRequest { .. } => "bad_request",
            EngineError::OAuth { .. } => "oauth",
            EngineError::FileRefused { .. } => "file_refused",
            EngineError::Extract { .. } => "extract_failed",
            EngineError::AiAnswer { .. } => "ai_answer",
            EngineError::SchemaMismatch { .. } => "schema_mismatch",
            EngineError::NotConfigured { .. } => "not_configured",
            EngineError::Data { .. } => "data",
            EngineError::Email { .. } => "email",
            EngineError::BudgetExceeded { .. } => "budget_exceeded",
            EngineError::Sandbox { kind, .. } => match kind.as_str() {
                "timeout" => "timeout",
                "out_of_memory" => "out_of_memory",
                "stack_overflow" => "stack_overflow",
                "output_too_large" => "output_too_large",
                "never_settles" => "never_settles",
                "unknown_action" => "unknown_action",
                "no_default_export" => "no_default_export",
                "sandbox_crashed" => "sandbox_crashed",
                "sandbox_unavailable" => "sandbox_unavailable",
                "sandbox_unconfined" => "sandbox_unconfined",
                "data" => "data",
                "js_error" => "js_error",
                "domain_not_allowed" => "domain_not_allowed",
                "permission_denied" => "permission_denied",
                "call_budget_exceeded" => "call_budget_exceeded",
                "insecure_scheme" => "insecure_scheme",
                "private_address" => "private_address",
                "missing_config" => "missing_config",
                "bad_request" => "bad_request",
                "network" => "network",
                _ => "sandbox",
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
