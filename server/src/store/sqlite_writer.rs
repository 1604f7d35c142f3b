//! SQLite's group-commit writer: a thread of its own holding one connection, which writes
//! each batch of waiting responses in one transaction with prepared statements.
//!
//! SQLite takes one writer at a time, so every response goes through this one thread. It
//! talks to SQLite directly (`rusqlite`, linked to the same SQLite library as sqlx), not
//! through the pool: a statement through sqlx is a message to the connection's own thread
//! and back, with every bound value copied on the way, and on the one serial path of the
//! ingest that cost more than SQLite's own work. Here a statement is prepared once, bound
//! from borrowed values and stepped on the spot. The statements are the ones the PostgreSQL
//! writer runs ([`super::sql`]); the durability is the pool's: WAL, `synchronous = FULL`.
//!
//! Being a plain thread, it blocks on the queue and on the disk without holding up the
//! runtime's workers, which serve HTTP meanwhile.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension as _, Transaction, TransactionBehavior, params,
};
use tokio::sync::mpsc;

use super::{
    InsertOutcome, MAX_BATCH, NewResponse, PendingInsert, SQLITE_BUSY_TIMEOUT, SQLITE_PRAGMAS,
    in_published_batch, now, settle_batch, sql, start_batch,
};
use crate::metrics::Histogram;

/// The writer: the database file, and its connection while that is trusted.
#[derive(Debug)]
pub(super) struct SqliteWriter {
    path: PathBuf,
    /// `None` after a failed transaction (see [`SqliteWriter::write`]) until the next batch
    /// opens a fresh one.
    connection: Option<Connection>,
}

impl SqliteWriter {
    /// Opens the writer's connection to the database file at `path`, which the pool has
    /// created and migrated in WAL mode.
    pub(super) fn open(path: &Path) -> anyhow::Result<Self> {
        let connection = connect(path)?;
        Ok(SqliteWriter {
            path: path.to_owned(),
            connection: Some(connection),
        })
    }

    /// Starts the thread, which writes what arrives on `receiver` until every sender is gone.
    pub(super) fn spawn(
        self,
        receiver: mpsc::Receiver<PendingInsert>,
        batch_sizes: Arc<std::sync::Mutex<Histogram>>,
    ) -> anyhow::Result<()> {
        std::thread::Builder::new()
            .name("rapport-sqlite-writer".to_owned())
            .spawn(move || self.run(receiver, &batch_sizes))
            .context("starting the SQLite writer thread")?;
        Ok(())
    }

    /// Takes whatever responses are waiting, up to [`MAX_BATCH`], and writes them in one
    /// transaction; while it commits, the next batch gathers in the queue.
    fn run(
        mut self,
        mut receiver: mpsc::Receiver<PendingInsert>,
        batch_sizes: &std::sync::Mutex<Histogram>,
    ) {
        while let Some(first) = receiver.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH
                && let Ok(pending) = receiver.try_recv()
            {
                batch.push(pending);
            }
            start_batch(&mut batch, batch_sizes);
            let responses: Vec<&NewResponse> =
                batch.iter().map(|pending| &pending.response).collect();
            let written = self.write(&responses);
            drop(responses);
            for pending in settle_batch(batch, written) {
                let outcome = self
                    .write(&[&pending.response])
                    .map(|mut outcomes| outcomes.remove(0));
                let _ = pending.done.send(outcome);
            }
        }
    }

    /// Writes `responses` in one transaction: all committed, or none.
    ///
    /// A connection whose transaction failed is closed, and the next batch opens another:
    /// after an I/O error (a full disk) SQLite may have rolled the transaction back on its
    /// own or left it open, and a connection in a state nobody is sure of could acknowledge
    /// later writes it never made durable.
    fn write(&mut self, responses: &[&NewResponse]) -> anyhow::Result<Vec<InsertOutcome>> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => self.connection.insert(connect(&self.path)?),
        };
        let written = write_batch(connection, responses);
        if written.is_err() {
            self.connection = None;
        }
        written
    }
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
fn write_batch(
    connection: &mut Connection,
    responses: &[&NewResponse],
) -> anyhow::Result<Vec<InsertOutcome>> {
    // IMMEDIATE takes the write lock at once, so the transaction never has to upgrade a
    // read lock that another writer (a survey being added) has made stale.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
    let outcomes = responses
        .iter()
        .map(|response| {
            insert(
                &transaction,
                response,
                revisions[&(response.survey_id.as_str(), response.survey_version)],
                received_at.as_str(),
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    transaction.commit()?;
    Ok(outcomes)
}

/// Writes one response in `transaction`: the row and its sealed identity, or, if its id is
/// stored already (by this batch, an earlier one or another process), nothing. An invitation
/// answered before has its earlier answers replaced, unless they were published in
/// confidence.
fn insert(
    transaction: &Transaction<'_>,
    response: &NewResponse,
    revision: i64,
    received_at: &str,
) -> anyhow::Result<InsertOutcome> {
    // One response per invitation: the new answers replace the earlier ones in the same
    // transaction, so there is never a moment with both or neither.
    let mut earlier = None;
    if let Some(invitation_id) = &response.invitation_id {
        let answer: Option<String> = transaction
            .prepare_cached(sql::INVITATION_ANSWER)?
            .query_row([invitation_id], |row| row.get(0))
            .optional()?
            .flatten();
        earlier = answer.filter(|earlier| *earlier != response.response_id);
        if let Some(earlier) = &earlier {
            let place: (i64, i64, i64) = transaction
                .prepare_cached(sql::EARLIER_ANSWER_PLACE)?
                .query_row([earlier], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            if in_published_batch(place, response.batch_size) {
                return Ok(InsertOutcome::PublishedBefore);
            }
        }
    }
    let inserted = transaction
        .prepare_cached(sql::INSERT_RESPONSE)?
        .execute(params![
            response.response_id,
            response.survey_id,
            response.survey_version,
            response.body_sha256,
            response.scored.answers,
            response.confidentiality.as_str(),
            response.context.account,
            response.context.matter,
            response.context.wave,
            response.context.returning,
            response.respondent_key,
            response.scored.score,
            response.scored.nps,
            response.scored.crq,
            response.submitted_at.as_str(),
            received_at,
            response.report_entry,
            revision,
            response.arrival.as_str(),
        ])?;
    if inserted == 0 {
        let (digest, score): (String, String) = transaction
            .prepare_cached(sql::STORED_DIGEST_AND_SCORE)?
            .query_row([&response.response_id], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        return response.against_stored(&digest, &score);
    }
    if let Some(sealed) = &response.sealed_identity {
        transaction
            .prepare_cached(sql::INSERT_IDENTITY)?
            .execute(params![response.response_id, sealed])?;
    }
    let Some(invitation_id) = &response.invitation_id else {
        return Ok(InsertOutcome::Stored);
    };
    let mut outcome = InsertOutcome::Stored;
    if let Some(earlier) = &earlier {
        let removed: Option<(String, i64)> = transaction
            .prepare_cached(sql::DELETE_RESPONSE)?
            .query_row([earlier], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        if let Some((survey_id, version)) = removed {
            transaction
                .prepare_cached(sql::COUNT_REWRITE)?
                .execute(params![survey_id, version])?;
        }
        outcome = InsertOutcome::Replaced;
    }
    transaction
        .prepare_cached(sql::SET_INVITATION_ANSWER)?
        .execute(params![response.response_id, invitation_id])?;
    Ok(outcome)
}
