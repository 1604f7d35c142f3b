//! Erasure on request: a respondent's sealed identities, pseudonymous key and invitation
//! contacts are removed, while their answers stay in every aggregate, linked to nobody.

use super::{Pool, Store, SurveyVersion, now};

impl Store {
    /// Erases a respondent on request: every sealed identity of the responses their
    /// pseudonymous key links, the key itself, and the sealed contact of their
    /// invitations, in one transaction. Answers stay, unlinked from anyone, so every
    /// aggregate stays as it was. Returns how many responses and invitations were touched.
    pub async fn erase_respondent(&self, respondent_key: &str) -> anyhow::Result<(u64, u64)> {
        let tombstone = format!("erased:{}", now());
        let counts = on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            // Reports follow respondents across waves by this key: the versions it leaves
            // must be read again by any report cache.
            let versions: Vec<SurveyVersion> =
                sqlx::query_as("SELECT DISTINCT survey_id, survey_version FROM responses WHERE respondent_key = $1 ORDER BY survey_id, survey_version")
                    .bind(respondent_key)
                    .fetch_all(&mut *transaction)
                    .await?;
            for version in &versions {
                count_rewrite!(transaction, &version.survey_id, version.survey_version);
            }
            sqlx::query("DELETE FROM respondent_identities WHERE response_id IN (SELECT response_id FROM responses WHERE respondent_key = $1)")
                .bind(respondent_key)
                .execute(&mut *transaction)
                .await?;
            let responses =
                sqlx::query("UPDATE responses SET respondent_key = NULL WHERE respondent_key = $1")
                    .bind(respondent_key)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
            let invitations = sqlx::query("UPDATE invitations SET contact_key = $1 || invitation_id, sealed_contact = $2 WHERE contact_key = $3")
                .bind(&tombstone)
                .bind(Vec::<u8>::new())
                .bind(respondent_key)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            transaction.commit().await?;
            (responses, invitations)
        });
        // Earlier versions of the erased rows also live in SQLite's write-ahead log until a
        // checkpoint; copy the log into the database and truncate it now. Its first column
        // tells whether readers kept it from finishing.
        if let Pool::Sqlite(pool) = &self.pool {
            let busy: i64 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(pool)
                .await?;
            if busy != 0 {
                tracing::warn!(
                    "the write-ahead log could not be truncated after an erasure (readers were active); it will be on the next checkpoint"
                );
            }
        }
        Ok(counts)
    }
}
