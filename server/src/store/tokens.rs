//! API tokens and dashboard sessions: only their SHA-256 hashes are stored, never a token
//! or a session id itself, so the database alone lets nobody in.

use anyhow::Context as _;

use super::{Store, now};
use crate::auth::{Caller, Role};

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

    /// The caller a token hash belongs to, if any.
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
