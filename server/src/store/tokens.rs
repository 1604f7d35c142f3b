//! API tokens and dashboard sessions: only their SHA-256 hashes are stored, never a token
//! or a session id itself, so the database alone lets nobody in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::audit::AUDIT_INSERT;
use super::{Store, now};
use crate::auth::{Caller, Role};

/// How often one server writes a token's `last_used_at`: the column tells a programme lead
/// whether a token is still in use, which does not need every request to write.
const LAST_USED_EVERY: Duration = Duration::from_secs(5 * 60);

/// When this process last wrote each token's `last_used_at`, by token hash.
#[derive(Debug, Clone, Default)]
pub(super) struct TokenUses(Arc<Mutex<HashMap<String, Instant>>>);

impl TokenUses {
    /// Whether the use of `token_sha256` now should be written, noting it if so.
    fn due(&self, token_sha256: &str) -> bool {
        let mut uses = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        match uses.get(token_sha256) {
            Some(last) if now.duration_since(*last) < LAST_USED_EVERY => false,
            _ => {
                uses.insert(token_sha256.to_owned(), now);
                true
            }
        }
    }
}

/// The short, public name of a token: the first twelve hex digits of its hash. It names a
/// token in lists and revocations without being usable as one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenKey(String);

impl TokenKey {
    /// How many hex digits of the hash a key has.
    pub const LEN: usize = 12;

    /// A key as typed or posted: exactly [`Self::LEN`] lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        (text.len() == Self::LEN
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)))
        .then(|| TokenKey(text.to_owned()))
    }

    fn of_hash(token_sha256: &str) -> Self {
        TokenKey(token_sha256.chars().take(Self::LEN).collect())
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token as the programme lead sees it in a list: never the token, never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokenListing {
    /// Its short name.
    pub key: TokenKey,
    /// Its role.
    pub role: Role,
    /// The accounts an `account` token sees.
    pub accounts: Vec<String>,
    /// Whose token it is.
    pub label: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was last used, to within a few minutes (RFC 3339); `None` if never.
    pub last_used_at: Option<String>,
}

/// How the access audit names a token.
fn audit_subject(key: &TokenKey, role: Role, label: Option<&str>) -> String {
    format!(
        "{} token {key} ({})",
        role.as_str(),
        label.unwrap_or("no label")
    )
}

#[derive(Debug, sqlx::FromRow)]
struct ListedToken {
    token_sha256: String,
    role: String,
    accounts: String,
    label: Option<String>,
    created_at: String,
    last_used_at: Option<String>,
}

/// A stored token's role and accounts, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredToken {
    role: String,
    /// The accounts, as a JSON array.
    accounts: String,
}

impl Store {
    /// Stores a new API token's hash with its role and accounts.
    pub async fn add_token(
        &self,
        token_sha256: &str,
        role: Role,
        accounts: &[String],
        label: Option<&str>,
    ) -> anyhow::Result<()> {
        let accounts = serde_json::to_string(accounts)?;
        on_pool!(&self.pool, |pool| {
            sqlx::query("INSERT INTO api_tokens (token_sha256, role, accounts, label, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_sha256)
                .bind(role.as_str())
                .bind(&accounts)
                .bind(label)
                .bind(now().as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Removes every API token labelled `label`; returns how many there were.
    pub async fn remove_tokens_labelled(&self, label: &str) -> anyhow::Result<u64> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query(
            "DELETE FROM api_tokens WHERE label = $1"
        )
        .bind(label)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Every token, oldest first, as [`StoredTokenListing`]s.
    pub async fn list_tokens(&self) -> anyhow::Result<Vec<StoredTokenListing>> {
        let rows: Vec<ListedToken> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT token_sha256, role, accounts, label, created_at, last_used_at FROM api_tokens ORDER BY created_at, token_sha256")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(StoredTokenListing {
                    key: TokenKey::of_hash(&row.token_sha256),
                    role: Role::parse(&row.role).context("stored token has an unknown role")?,
                    accounts: serde_json::from_str(&row.accounts)?,
                    label: row.label,
                    created_at: row.created_at,
                    last_used_at: row.last_used_at,
                })
            })
            .collect()
    }

    /// Stores a new API token's hash, as [`Store::add_token`] does, and records in the access
    /// audit who made it, in one transaction.
    pub async fn add_token_audited(
        &self,
        token_sha256: &str,
        role: Role,
        accounts: &[String],
        label: &str,
        actor: &str,
    ) -> anyhow::Result<()> {
        let accounts = serde_json::to_string(accounts)?;
        let at = now();
        let subject = audit_subject(&TokenKey::of_hash(token_sha256), role, Some(label));
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            sqlx::query("INSERT INTO api_tokens (token_sha256, role, accounts, label, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_sha256)
                .bind(role.as_str())
                .bind(&accounts)
                .bind(label)
                .bind(at.as_str())
                .execute(&mut *transaction)
                .await?;
            sqlx::query(AUDIT_INSERT)
                .bind(at.as_str())
                .bind("token made")
                .bind(&subject)
                .bind(actor)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
        });
        Ok(())
    }

    /// Removes the token with this key, and with it every dashboard session it opened, and
    /// records in the access audit that `actor` revoked it; returns its role, or `None` if
    /// no token has that key.
    pub async fn remove_token(&self, key: &TokenKey, actor: &str) -> anyhow::Result<Option<Role>> {
        let pattern = format!("{}%", key.as_str());
        let at = now();
        let removed: Option<(String, String, Option<String>)> = on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            let mut matching: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT token_sha256, role, label FROM api_tokens WHERE token_sha256 LIKE $1 LIMIT 2",
            )
            .bind(&pattern)
            .fetch_all(&mut *transaction)
            .await?;
            // Two tokens whose hashes share 48 bits: refuse rather than guess.
            anyhow::ensure!(
                matching.len() < 2,
                "two tokens share the key {key}, so neither was revoked"
            );
            let found = matching.pop();
            if let Some((token_sha256, role, label)) = &found {
                sqlx::query("DELETE FROM dashboard_sessions WHERE token_sha256 = $1")
                    .bind(token_sha256)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("DELETE FROM api_tokens WHERE token_sha256 = $1")
                    .bind(token_sha256)
                    .execute(&mut *transaction)
                    .await?;
                let role = Role::parse(role).context("stored token has an unknown role")?;
                sqlx::query(AUDIT_INSERT)
                    .bind(at.as_str())
                    .bind("token revoked")
                    .bind(audit_subject(key, role, label.as_deref()))
                    .bind(actor)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
            found
        });
        removed
            .map(|(_, role, _)| Role::parse(&role).context("stored token has an unknown role"))
            .transpose()
    }

    /// The caller a token hash belongs to, if any. Notes the token's use, at most once
    /// every few minutes per token and server.
    pub async fn caller_for_token_hash(
        &self,
        token_sha256: &str,
    ) -> anyhow::Result<Option<Caller>> {
        let stored: Option<StoredToken> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT role, accounts FROM api_tokens WHERE token_sha256 = $1")
                .bind(token_sha256)
                .fetch_optional(pool)
                .await?
        });
        if stored.is_some() && self.token_uses.due(token_sha256) {
            on_pool!(&self.pool, |pool| {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_sha256 = $2")
                    .bind(now().as_str())
                    .bind(token_sha256)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        stored
            .map(|stored| {
                let role = Role::parse(&stored.role).context("stored token has an unknown role")?;
                Ok(Caller {
                    role,
                    accounts: serde_json::from_str(&stored.accounts)?,
                })
            })
            .transpose()
    }

    /// Stores a dashboard session: the hash of its random id, the hash of the token it
    /// stands for, and when it ends (seconds since the Unix epoch). Sessions that have
    /// ended are deleted on the way.
    pub async fn add_dashboard_session(
        &self,
        session_sha256: &str,
        token_sha256: &str,
        expires_at: i64,
        now_seconds: i64,
    ) -> anyhow::Result<()> {
        on_pool!(&self.pool, |pool| {
            sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= $1")
                .bind(now_seconds)
                .execute(pool)
                .await?;
            sqlx::query("INSERT INTO dashboard_sessions (session_sha256, token_sha256, expires_at, created_at) VALUES ($1, $2, $3, $4)")
                .bind(session_sha256)
                .bind(token_sha256)
                .bind(expires_at)
                .bind(now().as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The caller of an unexpired dashboard session, by the hash of its id; `None` for an
    /// unknown, ended or revoked session, or one whose token was removed.
    pub async fn caller_for_dashboard_session(
        &self,
        session_sha256: &str,
        now_seconds: i64,
    ) -> anyhow::Result<Option<Caller>> {
        let token_sha256: Option<String> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(
                "SELECT token_sha256 FROM dashboard_sessions WHERE session_sha256 = $1 AND expires_at > $2",
            )
            .bind(session_sha256)
            .bind(now_seconds)
            .fetch_optional(pool)
            .await?
        });
        match token_sha256 {
            Some(token_sha256) => self.caller_for_token_hash(&token_sha256).await,
            None => Ok(None),
        }
    }

    /// The label and role of the token behind an unexpired dashboard session, for an audit
    /// log: who did something, never the token itself.
    pub async fn session_token_label(
        &self,
        session_sha256: &str,
        now_seconds: i64,
    ) -> anyhow::Result<Option<(Option<String>, String)>> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "SELECT t.label, t.role FROM dashboard_sessions s JOIN api_tokens t ON t.token_sha256 = s.token_sha256 \
             WHERE s.session_sha256 = $1 AND s.expires_at > $2"
        )
        .bind(session_sha256)
        .bind(now_seconds)
        .fetch_optional(pool)
        .await?
        }))
    }

    /// Deletes a dashboard session (signing out); returns whether there was one.
    pub async fn remove_dashboard_session(&self, session_sha256: &str) -> anyhow::Result<bool> {
        let removed = on_pool!(&self.pool, |pool| {
            sqlx::query("DELETE FROM dashboard_sessions WHERE session_sha256 = $1")
                .bind(session_sha256)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }
}
