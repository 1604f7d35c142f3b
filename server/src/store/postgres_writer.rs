//! PostgreSQL's group-commit writers: four tasks that take batches of waiting responses
//! from one queue and write each in one transaction through the pool.
//!
//! New responses without an invitation, the bulk of any load, go in with one multi-row
//! statement per table; the rest take the insert both backends share
//! ([`super::responses::insert`]), through this module's [`ResponseTransaction`] for a
//! PostgreSQL connection. Several writers commit at once, so each takes the revision
//! counters its batch needs first, in one order, and locks an invitation's row before it
//! reads it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::query_builder::Separated;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use tokio::sync::{Mutex, mpsc};

use super::columns::{self, ColumnValue, ResponseRow};
use super::group_commit::{self, BatchWriter, MAX_BATCH, PendingInsert};
use super::responses::{
    AnswerPlace, InsertOutcome, NewResponse, ResponseTransaction, StoredBody, insert,
};
use super::{SurveyVersion, now, sql};
use crate::metrics::Histogram;

/// How many batches PostgreSQL writes at once.
const WRITERS: usize = 4;

/// Starts the writers, which write what arrives on `receiver` through `pool` until every
/// sender is gone.
pub(super) fn spawn(
    pool: &PgPool,
    receiver: mpsc::Receiver<PendingInsert>,
    batch_sizes: &Arc<std::sync::Mutex<Histogram>>,
) {
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..WRITERS {
        let writer = PostgresWriter {
            pool: pool.clone(),
            receiver: Arc::clone(&receiver),
        };
        let batch_sizes = Arc::clone(batch_sizes);
        tokio::spawn(async move { group_commit::run(writer, &batch_sizes).await });
    }
}

/// One of the writers: the pool, and the queue it shares with the others.
struct PostgresWriter {
    pool: PgPool,
    receiver: Arc<Mutex<mpsc::Receiver<PendingInsert>>>,
}

impl BatchWriter for PostgresWriter {
    async fn receive(&mut self, batch: &mut Vec<PendingInsert>) -> usize {
        self.receiver.lock().await.recv_many(batch, MAX_BATCH).await
    }

    /// Writes `responses` in one transaction: all committed, or none.
    ///
    /// New responses without an invitation, the bulk of any load, go in with one multi-row
    /// statement per table instead of a statement each: the per-statement round trip, not
    /// the flush, is what limits a large batch. Whatever that statement did not insert (a
    /// resend, a reused id, a second copy in the batch) and every answer to an invitation
    /// then takes the row-by-row path, which tells a duplicate from a conflict.
    ///
    /// A connection whose transaction failed is closed, never handed back to the pool: a
    /// connection in a state nobody is sure of could acknowledge later writes it never made
    /// durable.
    async fn write(&mut self, responses: &[&NewResponse]) -> anyhow::Result<Vec<InsertOutcome>> {
        let mut connection = self.pool.acquire().await?;
        let written = write_batch(&mut connection, responses).await;
        if written.is_err() {
            let _ = connection.close().await;
        }
        written
    }
}

/// One transaction: the revision of each survey version in the batch, the bulk insert, then
/// each response the bulk insert did not store.
async fn write_batch(
    connection: &mut PgConnection,
    responses: &[&NewResponse],
) -> anyhow::Result<Vec<InsertOutcome>> {
    let mut seen = HashSet::new();
    let bulk: Vec<&NewResponse> = responses
        .iter()
        .copied()
        .filter(|response| {
            response.invitation_id.is_none() && seen.insert(response.response_id.as_str())
        })
        .collect();
    let received_at = now();
    let mut transaction = sqlx::Connection::begin(connection).await?;
    // An invitation answered before may have its earlier answer replaced, which must not
    // happen once that answer is in a published batch. The batch is decided by the
    // counter of the earlier answer's version, which may not be one this batch adds to: it
    // is locked too, so that no other writer completes that batch between the check and
    // the replacement. Invitations first, then counters, each in one order, so that two
    // writers never wait for each other's.
    let mut invitations: Vec<&str> = responses
        .iter()
        .filter_map(|response| response.invitation_id.as_deref())
        .collect();
    invitations.sort_unstable();
    invitations.dedup();
    let mut earlier_versions = Vec::new();
    for invitation_id in invitations {
        transaction.lock_invitation(invitation_id).await?;
        let earlier: Option<SurveyVersion> = sqlx::query_as(sql::INVITATION_ANSWER_VERSION)
            .bind(invitation_id)
            .fetch_optional(&mut *transaction)
            .await?;
        earlier_versions.extend(earlier);
    }
    // Every counter this batch adds to (`true`) or only reads batches by (`false`).
    let mut versions: Vec<(&str, i64, bool)> = responses
        .iter()
        .map(|response| {
            (
                response.survey_id.as_str(),
                i64::from(response.survey_version),
                true,
            )
        })
        .chain(
            earlier_versions
                .iter()
                .map(|earlier| (earlier.survey_id.as_str(), earlier.survey_version, false)),
        )
        .collect();
    // Sorted with `true` after `false`, so the deduplication keeps an added-to counter.
    versions.sort_unstable();
    versions.dedup_by(|later, kept| {
        let same = (later.0, later.1) == (kept.0, kept.1);
        if same {
            kept.2 |= later.2;
        }
        same
    });
    let mut revisions = HashMap::with_capacity(versions.len());
    for (survey_id, version, adds) in versions {
        if adds {
            revisions.insert(
                (survey_id, u32::try_from(version)?),
                next_revision(&mut transaction, survey_id, version).await?,
            );
        } else {
            sqlx::query(sql::LOCK_REVISION)
                .bind(survey_id)
                .bind(version)
                .execute(&mut *transaction)
                .await?;
        }
    }
    // Every response's version is in the map: it was built from them.
    let revision_of =
        |response: &NewResponse| revisions[&(response.survey_id.as_str(), response.survey_version)];
    let mut inserted = HashSet::new();
    // Written in chunks whose sizes are powers of two: the statement text depends on the
    // number of rows, and sqlx keeps every statement it prepares on each pooled connection
    // (up to 100), so a text per batch size would hold hundreds of large prepared statements
    // and the server's memory would creep up under steady load. This way a connection
    // prepares at most 2 × 9 insert statements, ever.
    for chunk in power_of_two_chunks(&bulk) {
        // MAX_BATCH rows of 20 parameters stay far below PostgreSQL's limit.
        let rows = chunk.iter().map(|response| ResponseRow {
            response,
            received_at: received_at.as_str(),
            revision: revision_of(response),
        });
        let mut builder = insert_rows(rows);
        builder.push(" RETURNING response_id");
        let ids: Vec<String> = builder
            .build_query_scalar()
            .fetch_all(&mut *transaction)
            .await?;
        inserted.extend(ids);
    }
    let identities: Vec<(&String, &Vec<u8>)> = bulk
        .iter()
        .filter(|response| inserted.contains(&response.response_id))
        .filter_map(|response| {
            response
                .sealed_identity
                .as_ref()
                .map(|sealed| (&response.response_id, sealed))
        })
        .collect();
    for chunk in power_of_two_chunks(&identities) {
        let mut builder =
            QueryBuilder::new("INSERT INTO respondent_identities (response_id, sealed) ");
        builder.push_values(chunk, |mut values, (response_id, sealed)| {
            values.push_bind(*response_id).push_bind(*sealed);
        });
        builder.build().execute(&mut *transaction).await?;
    }
    let mut outcomes = Vec::with_capacity(responses.len());
    for response in responses {
        // Each id is inserted once; a second copy of it in the batch is answered by the
        // row-by-row path, as a duplicate or a conflict of the first.
        if inserted.remove(&response.response_id) {
            outcomes.push(InsertOutcome::Stored);
        } else {
            let received_at = now();
            let row = ResponseRow {
                response,
                received_at: received_at.as_str(),
                revision: revision_of(response),
            };
            outcomes.push(insert(&mut *transaction, row).await?);
        }
    }
    transaction.commit().await?;
    Ok(outcomes)
}

/// The insert of `rows`, each unless its id is stored already, with their values bound in
/// the order of the response columns ([`columns`]).
fn insert_rows<'args>(
    rows: impl IntoIterator<Item = ResponseRow<'args>>,
) -> QueryBuilder<'args, Postgres> {
    let mut builder = QueryBuilder::new(columns::insert_head());
    builder.push_values(rows, |mut values, row| {
        for value in row.values() {
            push_value(&mut values, value);
        }
    });
    builder.push(sql::ON_STORED_RESPONSE);
    builder
}

/// Binds one value of a response row, as the type its column has.
fn push_value<'args>(
    values: &mut Separated<'_, 'args, Postgres, &'static str>,
    value: ColumnValue<'args>,
) {
    match value {
        ColumnValue::Text(text) => values.push_bind(text),
        ColumnValue::Integer(integer) => values.push_bind(integer),
        ColumnValue::Real(real) => values.push_bind(real),
        ColumnValue::Boolean(boolean) => values.push_bind(boolean),
        ColumnValue::Blob(bytes) => values.push_bind(bytes),
    };
}

/// Takes, in `transaction`, the next revision of a survey version's responses (see
/// `migrations/*/0007_report_revisions.sql`): the value the rows this transaction adds to
/// it carry. The counter's row stays locked until commit, so revisions are committed in
/// order; a transaction takes the counters it needs first, sorted. (SQLite's writer holds
/// the one write lock instead; see [`super::sqlite_writer`].)
async fn next_revision(
    transaction: &mut PgConnection,
    survey_id: &str,
    version: i64,
) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql::NEXT_REVISION)
        .bind(survey_id)
        .bind(version)
        .fetch_one(&mut *transaction)
        .await?)
}

impl ResponseTransaction for PgConnection {
    async fn lock_invitation(&mut self, invitation_id: &str) -> anyhow::Result<()> {
        sqlx::query(sql::LOCK_INVITATION)
            .bind(invitation_id)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn invitation_answer(&mut self, invitation_id: &str) -> anyhow::Result<Option<String>> {
        let answer: Option<Option<String>> = sqlx::query_scalar(sql::INVITATION_ANSWER)
            .bind(invitation_id)
            .fetch_optional(&mut *self)
            .await?;
        Ok(answer.flatten())
    }

    async fn invitation_replaced(&mut self, invitation_id: &str) -> anyhow::Result<bool> {
        let replaced: Option<Option<String>> = sqlx::query_scalar(sql::INVITATION_REPLACED_BY)
            .bind(invitation_id)
            .fetch_optional(&mut *self)
            .await?;
        Ok(replaced.flatten().is_some())
    }

    async fn answer_place(&mut self, response_id: &str) -> anyhow::Result<AnswerPlace> {
        Ok(sqlx::query_as(sql::EARLIER_ANSWER_PLACE)
            .bind(response_id)
            .fetch_one(&mut *self)
            .await?)
    }

    async fn insert_row(&mut self, row: &ResponseRow<'_>) -> anyhow::Result<bool> {
        let inserted = insert_rows([*row])
            .build()
            .execute(&mut *self)
            .await?
            .rows_affected();
        Ok(inserted > 0)
    }

    async fn stored_body(&mut self, response_id: &str) -> anyhow::Result<StoredBody> {
        Ok(sqlx::query_as(sql::STORED_DIGEST_AND_SCORE)
            .bind(response_id)
            .fetch_one(&mut *self)
            .await?)
    }

    async fn insert_identity(&mut self, response_id: &str, sealed: &[u8]) -> anyhow::Result<()> {
        sqlx::query(sql::INSERT_IDENTITY)
            .bind(response_id)
            .bind(sealed)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn delete_response(
        &mut self,
        response_id: &str,
    ) -> anyhow::Result<Option<SurveyVersion>> {
        Ok(sqlx::query_as(sql::DELETE_RESPONSE)
            .bind(response_id)
            .fetch_optional(&mut *self)
            .await?)
    }

    async fn count_rewrite(&mut self, version: &SurveyVersion) -> anyhow::Result<()> {
        count_rewrite!(self, &version.survey_id, version.survey_version);
        Ok(())
    }

    async fn set_invitation_answer(
        &mut self,
        response_id: &str,
        invitation_id: &str,
    ) -> anyhow::Result<()> {
        sqlx::query(sql::SET_INVITATION_ANSWER)
            .bind(response_id)
            .bind(invitation_id)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

/// `items` cut into consecutive chunks whose lengths are powers of two, largest first: the
/// binary digits of `items.len()`, so there are at most `log2(len) + 1` of them.
fn power_of_two_chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let size = 1 << items.len().ilog2();
        let (chunk, rest) = items.split_at(size);
        items = rest;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::power_of_two_chunks;

    #[test]
    fn chunks_are_powers_of_two_that_cover_the_items_in_order() {
        for len in 0..=600usize {
            let items: Vec<usize> = (0..len).collect();
            let chunks: Vec<&[usize]> = power_of_two_chunks(&items).collect();
            assert!(
                chunks.iter().all(|chunk| chunk.len().is_power_of_two()),
                "{len}: {chunks:?}"
            );
            assert_eq!(chunks.len(), len.count_ones() as usize, "{len}");
            assert!(
                chunks.windows(2).all(|pair| pair[0].len() > pair[1].len()),
                "{len}"
            );
            assert_eq!(chunks.concat(), items);
        }
    }
}
