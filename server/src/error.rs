//! The one error type of the HTTP API. Every handler returns it; it becomes a JSON body
//! `{"error": "...", "details": [{"field": ..., "message": ...}]}` with the right status.
//! Internal errors are logged with their cause and answered with a generic message: a
//! database or key error never reaches a client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field, such as `answers.nps`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not well-formed JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is not `application/json`.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// The body is larger than the limit.
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The caller's role may not do this, whatever the resource.
    #[error("{0}")]
    Forbidden(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but breaks a rule; every problem is listed.
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Each field's problem.
        details: Vec<FieldError>,
    },
    /// The request contradicts what is stored (same response id, different body).
    #[error("{0}")]
    Conflict(String),
    /// The client sent more than its rate allows; it may try again after the wait.
    #[error("too many responses from this client; try again in {retry_after_seconds} s")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The database cannot take writes now (disk full, read-only, unreachable). Nothing
    /// was stored; the client should retry later.
    #[error(
        "the database cannot store responses right now ({0}); nothing was stored, try again later"
    )]
    Unavailable(&'static str),
    /// Anything else. Logged, never shown.
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for ApiError {
    /// Storage trouble the operator must fix (and the client can wait out) becomes
    /// [`ApiError::Unavailable`]; anything else is internal.
    fn from(error: anyhow::Error) -> Self {
        // sqlx's errors, and those of SQLite's writer thread (rusqlite).
        let unavailable =
            error
                .chain()
                .find_map(|cause| match cause.downcast_ref::<sqlx::Error>() {
                    Some(error) => storage_unavailable(error),
                    None => cause
                        .downcast_ref::<rusqlite::Error>()?
                        .sqlite_error_code()
                        .and_then(sqlite_unavailable),
                });
        match unavailable {
            Some(reason) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "the database cannot take writes"
                );
                ApiError::Unavailable(reason)
            }
            None => ApiError::Internal(error),
        }
    }
}

/// Why a database error means "not now" rather than "broken": disk full, read-only, or
/// the database out of reach. SQLite reports primary result codes (13 full, 8 read-only,
/// 10 I/O error, 14 cannot open; extended codes keep the primary in their low byte);
/// PostgreSQL reports SQLSTATEs (class 53 insufficient resources, 25006 read-only
/// transaction, class 08 connection exceptions, 57P0x shutting down).
pub fn storage_unavailable(error: &sqlx::Error) -> Option<&'static str> {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            Some("database unreachable")
        }
        sqlx::Error::Database(database) => {
            let code = database.code()?;
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                return sqlite_unavailable(rusqlite::ffi::Error::new(code.parse().ok()?).code);
            }
            match code.as_ref() {
                "25006" => Some("database is read-only"),
                "53100" => Some("disk full"),
                code if code.starts_with("53") => Some("database out of resources"),
                code if code.starts_with("08") || code.starts_with("57P0") => {
                    Some("database unreachable")
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Why a SQLite result code means "not now": disk full, read-only, or the file out of reach.
fn sqlite_unavailable(code: rusqlite::ErrorCode) -> Option<&'static str> {
    match code {
        rusqlite::ErrorCode::DiskFull => Some("disk full"),
        rusqlite::ErrorCode::ReadOnly => Some("database is read-only"),
        rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::CannotOpen => {
            Some("disk I/O error")
        }
        _ => None,
    }
}

/// Whether `field` holds who answered (`identity`, `identity.name`, …): its values are
/// never written into an error.
fn is_identity_field(field: &str) -> bool {
    field == "identity" || field.starts_with("identity.") || field.starts_with("identity[")
}

/// The path of an identity field cut to the fields an identity has: an unknown key sent
/// inside `identity` (`identity.Ana Ruiz`) is a value too.
fn identity_path(field: &str) -> String {
    let known = field
        .strip_prefix("identity.")
        .and_then(|rest| rest.split(['.', '[']).next())
        .filter(|name| ["name", "email", "organisation"].contains(name));
    match known {
        Some(name) => format!("identity.{name}"),
        None => "identity".to_owned(),
    }
}

/// A parser's message about an identity field without the value it quotes: serde writes
/// `invalid type: string "Ana Ruiz", expected struct Identity`, and an identity sent in the
/// wrong shape must not come back in the refusal, nor reach the logs and proxies a
/// refusal passes through. What is kept names only JSON types and the expected shape.
fn without_values(message: String) -> String {
    let expected = message
        .rfind(", expected ")
        .map(|at| &message[at..])
        .unwrap_or_default();
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // The kind of value comes before its quoted or back-quoted text: `string`,
            // `integer`, `floating point`, `map`, `null`.
            let kind = rest
                .split(['"', '`', ','])
                .next()
                .unwrap_or_default()
                .trim();
            return format!("{prefix}{kind}{expected}");
        }
    }
    for prefix in ["unknown field", "unknown variant"] {
        if message.starts_with(prefix) {
            return format!("{prefix}{expected}");
        }
    }
    if message.contains(['"', '`']) {
        return "is not valid".to_owned();
    }
    message
}

impl ApiError {
    /// A validation error about one field. A message about an identity field is stripped
    /// of any value it quotes.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut field = field.into();
        let message = if is_identity_field(&field) {
            field = identity_path(&field);
            without_values(message.into())
        } else {
            message.into()
        };
        ApiError::Invalid {
            message: message.clone(),
            details: vec![FieldError { field, message }],
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from(anyhow::Error::from(error))
    }
}

/// The body of every refusal: what went wrong and, for a 422, each field's problem.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, in words for people.
    pub error: String,
    /// Each field's problem; present only when a field is to blame.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (error, details) = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                (
                    "internal error; the server log has the details".to_owned(),
                    Vec::new(),
                )
            }
            ApiError::Invalid { details, .. } => (self.to_string(), details.clone()),
            _ => (self.to_string(), Vec::new()),
        };
        let mut response = (status, Json(ErrorBody { error, details })).into_response();
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            ApiError::Unavailable(_) => Some(5),
            _ => None,
        };
        if let Some(seconds) = retry_after
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}
