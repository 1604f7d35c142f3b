//! Who may read the results: the API tokens a programme lead makes, lists and revokes,
//! from `rapport token` or the dashboard's "People and access" page.
//!
//! A token is shown once, when it is made; afterwards only its [`TokenKey`] (a prefix of
//! its hash), role, accounts, label and dates are. The rules are the same wherever a token
//! is made: an `account` token names at least one account, other roles name none, and
//! account names follow the rules of a response's context, so a look-alike never silently
//! sees nothing. The last admin token cannot be revoked, so the programme is never left
//! without anyone who can manage it.

use crate::auth::{Role, new_token, token_hash};
use crate::store::{Store, StoredTokenListing, TokenKey};

/// How the audit names a change made on the command line.
pub const COMMAND_LINE: &str = "command line";

/// What a new token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Its role.
    pub role: Role,
    /// The accounts it may see (`account` tokens only).
    pub accounts: Vec<String>,
    /// Whose token it is: required, so that a list of tokens says who holds each.
    pub label: String,
}

/// Why a token could not be made or revoked, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// An `account` token without an account.
    #[error("an account token needs at least one account")]
    AccountsRequired,
    /// Accounts on a token that sees every account.
    #[error("only account tokens name accounts; {0} tokens see every account")]
    AccountsNotAllowed(&'static str),
    /// An account name that breaks the label rules.
    #[error("account {account:?} {problem}")]
    BadAccount {
        /// The account as given.
        account: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A token without a label.
    #[error("say whose token this is (a label such as \"Ana Ruiz, Northwind account team\")")]
    LabelRequired,
    /// A label that is too long or holds control characters.
    #[error("the label {0}")]
    BadLabel(String),
    /// No token has that key.
    #[error("no token has the key {0}")]
    NotFound(String),
    /// Revoking the only admin token.
    #[error("this is the only admin token: make another admin token before revoking it")]
    LastAdmin,
    /// The database failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A token just made: the only time the token itself is known.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token, to hand to its holder.
    pub token: String,
    /// Its short name in lists.
    pub key: TokenKey,
}

/// Checks `request`, then makes and stores a token for it, recording that `actor` (the
/// command line, or a signed-in token's label and role) made it.
pub async fn create_token(
    store: &Store,
    request: NewToken,
    actor: &str,
) -> Result<IssuedToken, AccessError> {
    let NewToken {
        role,
        accounts,
        label,
    } = request;
    let label = label.trim();
    if label.is_empty() {
        return Err(AccessError::LabelRequired);
    }
    if label.chars().count() > 200 || label.chars().any(char::is_control) {
        return Err(AccessError::BadLabel(
            "must be at most 200 characters on one line".to_owned(),
        ));
    }
    let accounts: Vec<String> = accounts
        .iter()
        .map(|account| {
            rapport_scoring::validate::Label::new(account)
                .map(String::from)
                .map_err(|problem| AccessError::BadAccount {
                    account: account.to_owned(),
                    problem: problem.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    match role {
        Role::Account if accounts.is_empty() => return Err(AccessError::AccountsRequired),
        Role::Admin | Role::Viewer if !accounts.is_empty() => {
            return Err(AccessError::AccountsNotAllowed(role.as_str()));
        }
        _ => {}
    }
    let token = new_token()?;
    let hash = token_hash(&token);
    store
        .add_token_audited(&hash, role, &accounts, label, actor)
        .await?;
    let key = TokenKey::parse(&hash[..TokenKey::LEN])
        .ok_or_else(|| anyhow::anyhow!("a token hash is not hex"))?;
    Ok(IssuedToken { token, key })
}

/// Every token, oldest first.
pub async fn list_tokens(store: &Store) -> anyhow::Result<Vec<StoredTokenListing>> {
    store.list_tokens().await
}

/// Revokes the token with `key`, signs out every dashboard session it opened, and records
/// that `actor` revoked it. Refuses to revoke the last admin token.
pub async fn revoke_token(store: &Store, key: &TokenKey, actor: &str) -> Result<Role, AccessError> {
    let tokens = store.list_tokens().await?;
    let Some(token) = tokens.iter().find(|token| &token.key == key) else {
        return Err(AccessError::NotFound(key.to_string()));
    };
    let admins = tokens
        .iter()
        .filter(|token| token.role == Role::Admin)
        .count();
    if token.role == Role::Admin && admins == 1 {
        return Err(AccessError::LastAdmin);
    }
    store
        .remove_token(key, actor)
        .await?
        .ok_or_else(|| AccessError::NotFound(key.to_string()))
}
