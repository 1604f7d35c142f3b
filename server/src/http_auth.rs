//! Who is asking, for a request: the caller of an API token, found in the database, and
//! the `Authorization: Bearer` extractor every result endpoint takes.
//!
//! Roles and token hashing are [`crate::auth`]'s; this module only looks a token up and
//! refuses a request without a valid one, the same way whatever the reason.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{Caller, token_hash};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

/// The caller a token belongs to, or `None` for an unknown token. Every way of presenting
/// a token (the API's bearer header, the dashboard's session cookie) goes through here.
pub async fn caller_for_token(store: &Store, token: &str) -> Result<Option<Caller>, ApiError> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    Ok(store.caller_for_token_hash(&token_hash(token)).await?)
}

/// Refusal of a request without a valid token.
#[derive(Debug)]
pub struct Unauthorised;

impl IntoResponse for Unauthorised {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": "a valid API token is required: send it as 'Authorization: Bearer <token>'" });
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(body),
        )
            .into_response()
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Unauthorised.into_response())?;
        match caller_for_token(&state.store, token).await {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(Unauthorised.into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}
