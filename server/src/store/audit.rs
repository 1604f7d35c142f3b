//! The audit log: every change to the programme (tokens, surveys, invitations, webhooks),
//! who made it and when, in one table. Each change is written in the same transaction as the
//! change itself, with [`AUDIT_INSERT`], so there is never a change without its entry nor an
//! entry without its change.

use super::{Store, now};

/// Appends an entry: `$1` when, `$2` the action, `$3` the subject, `$4` the actor.
pub(super) const AUDIT_INSERT: &str =
    "INSERT INTO audit_log (at, action, subject, actor) VALUES ($1, $2, $3, $4)";

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// When (RFC 3339).
    pub at: String,
    /// What was done, starting with what it was done to: `token made`, `token revoked`,
    /// `survey made`, `survey version saved`, `invitations made`, `invitation resent`,
    /// `webhook created`, `webhook removed`.
    pub action: String,
    /// What it was done to: a token by its key, role and label; a survey by id and
    /// version; invitations by survey and count; a webhook by id and receiving host. Never a
    /// token, a secret or a link.
    pub subject: String,
    /// Who: the command line, or the label and role of the token signed in.
    pub actor: String,
}

impl Store {
    /// The audit entries whose action starts with `action_prefix` (`token`, `survey`,
    /// `invitation`, `webhook`; empty for all), newest first: at most `limit` of them.
    pub async fn audit_entries(
        &self,
        action_prefix: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<AuditRow>> {
        let pattern = format!("{action_prefix}%");
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT at, action, subject, actor FROM audit_log WHERE action LIKE $1 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(&pattern)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Records that `actor` did `action` to `subject`, for a change that is a single
    /// write elsewhere; a change written here records itself in its own transaction.
    pub async fn record_audit(
        &self,
        action: &str,
        subject: &str,
        actor: &str,
    ) -> anyhow::Result<()> {
        on_pool!(&self.pool, |pool| {
            sqlx::query(AUDIT_INSERT)
                .bind(now().as_str())
                .bind(action)
                .bind(subject)
                .bind(actor)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }
}
