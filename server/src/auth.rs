//! Who is asking: API tokens and their roles.
//!
//! - `admin`, the programme lead: everything, including respondent identity.
//! - `account`, an account manager or lawyer: reports restricted to their accounts, and
//!   the rows of identified respondents there; confidential respondents only inside
//!   aggregates that respect the minimum group size.
//! - `viewer`, an executive: aggregate reports only.
//!
//! Tokens are random, shown once, and stored only as a SHA-256 hash. A missing or unknown
//! token is refused the same way whatever the reason, and the refusal names no account.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::AppState;

/// A role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The programme lead.
    Admin,
    /// Scoped to one or more accounts.
    Account,
    /// Aggregates only.
    Viewer,
}

impl Role {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Account => "account",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a stored role name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Role::Admin),
            "account" => Some(Role::Account),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    /// Their role.
    pub role: Role,
    /// The accounts an `account` caller may see; empty for other roles.
    pub accounts: Vec<String>,
}

impl Caller {
    /// Whether this caller may see data of `account`.
    pub fn sees_account(&self, account: Option<&str>) -> bool {
        match self.role {
            Role::Admin | Role::Viewer => true,
            Role::Account => {
                account.is_some_and(|account| self.accounts.iter().any(|mine| mine == account))
            }
        }
    }
}

/// A fresh random token, `rpt_` and 64 hex characters.
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| anyhow::anyhow!("no randomness for a token: {error}"))?;
    Ok(format!("rpt_{}", hex::encode(bytes)))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The caller a token belongs to, or `None` for an unknown token. Every way of presenting
/// a token (the API's bearer header, the dashboard's session cookie) goes through here.
pub async fn caller_for_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Caller>, crate::error::ApiError> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    Ok(state
        .store
        .caller_for_token_hash(&token_hash(token))
        .await?)
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
        match caller_for_token(state, token).await {
            Ok(Some(caller)) => Ok(caller),
            Ok(None) => Err(Unauthorised.into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}
