//! The server's one error type. Every variant has a stable `code` and an HTTP status; the
//! response body is always the envelope `{"error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use capsmith_format::market::{ErrorBody, ErrorEnvelope};

pub type MarketResult<T> = Result<T, MarketError>;

#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first: send `Authorization: Bearer <token>` (tokens come from `capsmith-market user add`)")]
    Unauthorized,
    #[error("the token is not valid")]
    BadToken,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{id}@{version} is already published; versions are immutable, publish a new version")]
    VersionExists { id: String, version: String },
    #[error("the id `{id}` belongs to another publisher ({owner}); choose another id")]
    NamespaceTaken { id: String, owner: String },
    #[error("{0} is a paid capability; an administrator must grant you an entitlement first")]
    PaymentRequired(String),
    #[error("too many requests; try again in {0} s")]
    RateLimited(u64),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    PackageInvalid(String),
    #[error("{0}")]
    SignatureInvalid(String),
    #[error("{0}")]
    TestsFailing(String),
    #[error("{0}")]
    Revoked(String),
    #[error(
        "register your public key first (`PUT /v1/me/key`; `capsmith publish` does it for you)"
    )]
    NoPublicKey,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("cannot use {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

impl MarketError {
    pub fn code(&self) -> &'static str {
        match self {
            MarketError::BadRequest(_) => "bad_request",
            MarketError::Unauthorized | MarketError::BadToken => "unauthorized",
            MarketError::Forbidden(_) => "forbidden",
            MarketError::NotFound(_) => "not_found",
            MarketError::VersionExists { .. } => "version_exists",
            MarketError::NamespaceTaken { .. } => "namespace_taken",
            MarketError::PaymentRequired(_) => "payment_required",
            MarketError::RateLimited(_) => "rate_limited",
            MarketError::TooLarge(_) => "too_large",
            MarketError::PackageInvalid(_) => "package_invalid",
            MarketError::SignatureInvalid(_) => "signature_invalid",
            MarketError::TestsFailing(_) => "tests_failing",
            MarketError::Revoked(_) => "revoked",
            MarketError::NoPublicKey => "no_public_key",
            MarketError::Database(_)
            | MarketError::Migration(_)
            | MarketError::Io { .. }
            | MarketError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            MarketError::BadRequest(_) => StatusCode::BAD_REQUEST,
            MarketError::Unauthorized | MarketError::BadToken => StatusCode::UNAUTHORIZED,
            MarketError::Forbidden(_) | MarketError::NamespaceTaken { .. } => StatusCode::FORBIDDEN,
            MarketError::NotFound(_) => StatusCode::NOT_FOUND,
            MarketError::VersionExists { .. } => StatusCode::CONFLICT,
            MarketError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            MarketError::Revoked(_) => StatusCode::GONE,
            MarketError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            MarketError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            MarketError::PackageInvalid(_)
            | MarketError::SignatureInvalid(_)
            | MarketError::TestsFailing(_)
            | MarketError::NoPublicKey => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_string(),
                message: self.to_string(),
            },
        }
    }
}

impl From<capsmith_format::FormatError> for MarketError {
    fn from(e: capsmith_format::FormatError) -> Self {
        match e.kind() {
            "signature_invalid" => MarketError::SignatureInvalid(e.to_string()),
            "package_invalid" | "package_tampered" => MarketError::PackageInvalid(e.to_string()),
            _ => MarketError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for MarketError {
    fn into_response(self) -> Response {
        if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            eprintln!("capsmith-market: {self}");
        }
        let mut res = (self.status(), axum::Json(self.envelope())).into_response();
        if let MarketError::RateLimited(s) = self {
            if let Ok(v) = s.to_string().parse() {
                res.headers_mut().insert("retry-after", v);
            }
        }
        res
    }
}
