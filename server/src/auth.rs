//! Who is asking: API tokens and their roles.
//!
//! - `admin`, the programme lead: everything, including respondent identity.
//! - `account`, an account manager or lawyer: reports restricted to their accounts, and
//!   the rows of identified respondents there; confidential respondents only inside
//!   aggregates that respect the minimum group size.
//! - `viewer`, an executive: aggregate reports only.
//!
//! Tokens are random, shown once, and stored only as a SHA-256 hash. A missing or unknown
//! token is refused the same way whatever the reason, and the refusal names no account
//! (see [`crate::http_auth`], which finds the caller of a request).
//!
//! The store keeps tokens by role, so this module is a leaf below it: it must never import
//! the state, the store or a handler.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
