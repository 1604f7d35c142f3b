//! SQLite's group-commit writer: a thread of its own holding one connection, which writes
//! each batch of waiting responses in one transaction with prepared statements.
//!
//! SQLite takes one writer at a time, so every response goes through this one thread. It
//! talks to SQLite directly (`rusqlite`, linked to the same SQLite library as sqlx), not
//! through the pool: a statement through sqlx is a message to the connection's own thread
//! and back, with every bound value copied on the way, and on the one serial path of the
//! ingest that cost more than SQLite's own work. Here a statement is prepared once, bound
//! from borrowed values and stepped on the spot. The statements are the ones the PostgreSQL
//! writer runs ([`super::sql`], [`super::columns`]); the durability is the pool's: WAL,
//! `synchronous = FULL`.
//!
//! Being a plain thread, it blocks on the queue and on the disk without holding up the
//! runtime's workers, which serve HTTP meanwhile. The group-commit loop and the insert are
//! written once for both backends, as async code; here every step blocks the thread until
//! it is done and never waits on a future, so the loop runs to its end on its first poll.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use futures_util::FutureExt as _;
use rusqlite::types::ToSqlOutput;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension as _, ToSql, Transaction, TransactionBehavior, params,
};
use tokio::sync::mpsc;

use super::columns::{self, ColumnValue, ResponseRow};
use super::group_commit::{self, BatchWriter, MAX_BATCH, PendingInsert};
use super::responses::{
    AnswerPlace, InsertOutcome, NewResponse, ResponseTransaction, StoredBody, insert,
};
use super::{SQLITE_BUSY_TIMEOUT, SQLITE_PRAGMAS, SurveyVersion, now, sql};
use crate::metrics::Histogram;

/// The writer: the database file, its connection while that is trusted, and the queue.
#[derive(Debug)]
pub(super) struct SqliteWriter {
    path: PathBuf,
    /// `None` after a failed transaction (see [`SqliteWriter::write`]) until the next batch
    /// opens a fresh one.
    connection: Option<Connection>,
    receiver: mpsc::Receiver<PendingInsert>,
}

impl SqliteWriter {
    /// Opens the writer's connection to the database file at `path`, which the pool has
    /// created and migrated in WAL mode, to write what arrives on `receiver`.
    pub(super) fn open(
        path: &Path,
        receiver: mpsc::Receiver<PendingInsert>,
    ) -> anyhow::Result<Self> {
        let connection = connect(path)?;
        Ok(SqliteWriter {
            path: path.to_owned(),
            connection: Some(connection),
            receiver,
        })
    }

    /// Starts the thread, which writes what arrives until every sender is gone.
    pub(super) fn spawn(self, batch_sizes: Arc<std::sync::Mutex<Histogram>>) -> anyhow::Result<()> {
        std::thread::Builder::new()
            .name("rapport-sqlite-writer".to_owned())
            .spawn(move || finish(group_commit::run(self, &batch_sizes)))
            .context("starting the SQLite writer thread")?;
        Ok(())
    }
}

impl BatchWriter for SqliteWriter {
    /// Blocks the thread until a response arrives; while one batch commits, the next one
    /// gathers in the queue.
    async fn receive(&mut self, batch: &mut Vec<PendingInsert>) -> usize {
        self.receiver.blocking_recv_many(batch, MAX_BATCH)
    }

    /// Writes `responses` in one transaction: all committed, or none.
    ///
    /// A connection whose transaction failed is closed, and the next batch opens another:
    /// after an I/O error (a full disk) SQLite may have rolled the transaction back on its
    /// own or left it open, and a connection in a state nobody is sure of could acknowledge
    /// later writes it never made durable.
    async fn write(&mut self, responses: &[&NewResponse]) -> anyhow::Result<Vec<InsertOutcome>> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => self.connection.insert(connect(&self.path)?),
        };
        let written = write_batch(connection, responses).await;
        if written.is_err() {
            self.connection = None;
        }
        written
    }
}

/// Runs a future of this thread's to its end: one that never waits, since everything it does
/// blocks the thread instead.
fn finish<T>(future: impl Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("the SQLite writer blocks and never waits on a future")
}

/// A connection with the pool's settings ([`SQLITE_PRAGMAS`], [`SQLITE_BUSY_TIMEOUT`]), on a
/// file the pool has put in WAL mode.
fn connect(path: &Path) -> anyhow::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} for writing", path.display()))?;
    connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    for (name, value) in SQLITE_PRAGMAS {
        connection.pragma_update(None, name, value)?;
    }
    let journal: String = connection.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    anyhow::ensure!(
        journal.eq_ignore_ascii_case("wal"),
        "{} is in journal mode {journal}, not WAL",
        path.display()
    );
    Ok(connection)
}

/// One transaction: the revision of each survey version in the batch, then each response.
async fn write_batch(
    connection: &mut Connection,
    responses: &[&NewResponse],
) -> anyhow::Result<Vec<InsertOutcome>> {
    // IMMEDIATE takes the write lock at once, so the transaction never has to upgrade a
    // read lock that another writer (a survey being added) has made stale.
    let mut transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut revisions = HashMap::new();
    for response in responses {
        let key = (response.survey_id.as_str(), response.survey_version);
        if let std::collections::hash_map::Entry::Vacant(slot) = revisions.entry(key) {
            slot.insert(
                transaction
                    .prepare_cached(sql::NEXT_REVISION)?
                    .query_row(params![key.0, key.1], |row| row.get::<_, i64>(0))?,
            );
        }
    }
    let received_at = now();
    let mut outcomes = Vec::with_capacity(responses.len());
    for response in responses {
        let row = ResponseRow {
            response,
            received_at: received_at.as_str(),
            revision: revisions[&(response.survey_id.as_str(), response.survey_version)],
        };
        outcomes.push(insert(&mut transaction, row).await?);
    }
    transaction.commit()?;
    Ok(outcomes)
}

impl ToSql for ColumnValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            ColumnValue::Text(text) => text.to_sql(),
            ColumnValue::Integer(integer) => integer.to_sql(),
            ColumnValue::Real(real) => real.to_sql(),
            ColumnValue::Boolean(boolean) => boolean.to_sql(),
            ColumnValue::Blob(bytes) => bytes.to_sql(),
        }
    }
}

/// The statements of an insert on the writer's transaction. The transaction holds
/// SQLite's one write lock from its start, so an invitation's row needs no lock of its own.
impl ResponseTransaction for Transaction<'_> {
    async fn lock_invitation(&mut self, _invitation_id: &str) -> anyhow::Result<()> {
        Ok(())
    }

    async fn invitation_answer(&mut self, invitation_id: &str) -> anyhow::Result<Option<String>> {
        let answer: Option<Option<String>> = self
            .prepare_cached(sql::INVITATION_ANSWER)?
            .query_row([invitation_id], |row| row.get(0))
            .optional()?;
        Ok(answer.flatten())
    }

    async fn invitation_replaced(&mut self, invitation_id: &str) -> anyhow::Result<bool> {
        let replaced: Option<Option<String>> = self
            .prepare_cached(sql::INVITATION_REPLACED_BY)?
            .query_row([invitation_id], |row| row.get(0))
            .optional()?;
        Ok(replaced.flatten().is_some())
    }

    async fn answer_place(&mut self, response_id: &str) -> anyhow::Result<AnswerPlace> {
        Ok(self
            .prepare_cached(sql::EARLIER_ANSWER_PLACE)?
            .query_row([response_id], |row| {
                Ok(AnswerPlace {
                    position: row.get("position")?,
                    total: row.get("total")?,
                    protected: row.get("protected")?,
                    survey_version: row.get("survey_version")?,
                })
            })?)
    }

    async fn insert_row(&mut self, row: &ResponseRow<'_>) -> anyhow::Result<bool> {
        let inserted = self
            .prepare_cached(columns::insert_one())?
            .execute(rusqlite::params_from_iter(row.values()))?;
        Ok(inserted > 0)
    }

    async fn stored_body(&mut self, response_id: &str) -> anyhow::Result<StoredBody> {
        Ok(self
            .prepare_cached(sql::STORED_DIGEST_AND_SCORE)?
            .query_row([response_id], |row| {
                Ok(StoredBody {
                    body_sha256: row.get("body_sha256")?,
                    score: row.get("score")?,
                })
            })?)
    }

    async fn insert_identity(&mut self, response_id: &str, sealed: &[u8]) -> anyhow::Result<()> {
        self.prepare_cached(sql::INSERT_IDENTITY)?
            .execute(params![response_id, sealed])?;
        Ok(())
    }

    async fn delete_response(
        &mut self,
        response_id: &str,
    ) -> anyhow::Result<Option<SurveyVersion>> {
        Ok(self
            .prepare_cached(sql::DELETE_RESPONSE)?
            .query_row([response_id], |row| {
                Ok(SurveyVersion {
                    survey_id: row.get("survey_id")?,
                    survey_version: row.get("survey_version")?,
                })
            })
            .optional()?)
    }

    async fn count_rewrite(&mut self, version: &SurveyVersion) -> anyhow::Result<()> {
        self.prepare_cached(sql::COUNT_REWRITE)?
            .execute(params![version.survey_id, version.survey_version])?;
        Ok(())
    }

    async fn set_invitation_answer(
        &mut self,
        response_id: &str,
        invitation_id: &str,
    ) -> anyhow::Result<()> {
        self.prepare_cached(sql::SET_INVITATION_ANSWER)?
            .execute(params![response_id, invitation_id])?;
        Ok(())
    }
}
