//! Fresh databases for each measurement, and the raw inserts that set the ceiling.
//!
//! A fresh database is a new SQLite file under the bench directory (on the same disk as the
//! project, never a RAM disk) or a new database on the given PostgreSQL server. It is created
//! and migrated by the server's own [`Store::open`], so it has exactly the server's tables
//! and indexes.
//!
//! The raw inserts run the same two statements the server's group-commit writer runs for a
//! response without an invitation (the row, then its sealed identity), with the same
//! durability: SQLite in WAL mode with `synchronous = FULL`, PostgreSQL with
//! `synchronous_commit` on (its default; checked). They must never relax either, or the
//! ceiling would be a different, cheaper promise.

use std::str::FromStr as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rapport_server::store::{SQLITE_BUSY_TIMEOUT, SQLITE_PRAGMAS, Store};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection as _, PgPool, SqlitePool};

use crate::responses::{SURVEY_ID, StoredRow};

/// Where fresh databases are made.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// SQLite files in this directory.
    Sqlite(std::path::PathBuf),
    /// New databases beside the one this URL names.
    Postgres(String),
}

impl Backend {
    /// The name used in reports.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// The URL of a new, empty, migrated database called `label`.
    pub(crate) async fn fresh(&self, label: &str) -> anyhow::Result<String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = match self {
            Backend::Sqlite(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let file = dir.join(format!("{label}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                format!("sqlite://{}", file.display())
            }
            Backend::Postgres(server) => {
                let name = format!(
                    "rapport_bench_{label}_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                )
                .replace('-', "_");
                let mut admin = sqlx::PgConnection::connect(server)
                    .await
                    .context("connecting to the PostgreSQL server")?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await?;
                let base = server
                    .rsplit_once('/')
                    .context("a PostgreSQL URL ends with /DATABASE")?
                    .0;
                format!("{base}/{name}")
            }
        };
        Store::open(&url)
            .await
            .with_context(|| format!("creating {url}"))?
            .close()
            .await;
        Ok(url)
    }
}

/// The server's insert of a response row, up to its values.
const INSERT_RESPONSES: &str = "INSERT INTO responses (response_id, survey_id, survey_version, body_sha256, answers, confidentiality, account, matter, wave, \
     returning_respondent, respondent_key, score, nps, crq, submitted_at, received_at, report_entry)";
/// The server's insert of a sealed identity.
const INSERT_IDENTITY: &str =
    "INSERT INTO respondent_identities (response_id, sealed) VALUES ($1, $2)";
/// What the server's insert does when the id is stored already.
const ON_CONFLICT: &str = "ON CONFLICT (response_id) DO NOTHING";

/// How raw inserts write a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InsertMethod {
    /// The server's statements, one row at a time (two statements for a row with identity).
    RowByRow,
    /// One multi-row `INSERT … VALUES (…), (…)` per table.
    MultiRow,
    /// The server's statements one row at a time, prepared once on one connection of SQLite's
    /// own (`rusqlite`), bound and stepped in place: how the server's SQLite writer works.
    /// SQLite only.
    Prepared,
}

impl InsertMethod {
    /// The name used in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            InsertMethod::RowByRow => "row by row",
            InsertMethod::MultiRow => "multi-row",
            InsertMethod::Prepared => "prepared, row by row",
        }
    }

    /// The methods that apply to `backend`.
    pub(crate) fn for_backend(backend: &Backend) -> &'static [InsertMethod] {
        match backend {
            Backend::Sqlite(_) => &[
                InsertMethod::RowByRow,
                InsertMethod::MultiRow,
                InsertMethod::Prepared,
            ],
            Backend::Postgres(_) => &[InsertMethod::RowByRow, InsertMethod::MultiRow],
        }
    }
}

/// A pool on a database with the server's durability settings.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    /// SQLite, WAL, `synchronous = FULL`.
    Sqlite(SqlitePool),
    /// PostgreSQL, `synchronous_commit = on`.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$of` holds; compiled once per driver.
macro_rules! on_pool {
    ($of:expr, |$pool:ident| $body:expr) => {
        match $of {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

impl Pool {
    /// Connects to `url` with up to `connections` connections.
    pub(crate) async fn connect(url: &str, connections: u32) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            // The server's own settings, so the ceiling's durability cannot drift from it.
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let options = SQLITE_PRAGMAS
                .iter()
                .fold(options, |options, (name, value)| {
                    options.pragma(*name, *value)
                });
            Ok(Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(connections)
                    .connect_with(options)
                    .await?,
            ))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(connections)
                .connect(url)
                .await?;
            let synchronous_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(&pool)
                .await?;
            let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&pool).await?;
            anyhow::ensure!(
                synchronous_commit == "on" && fsync == "on",
                "PostgreSQL must run with fsync and synchronous_commit on, got {fsync} and {synchronous_commit}"
            );
            Ok(Pool::Postgres(pool))
        }
    }

    /// How many responses the database holds.
    pub(crate) async fn count_responses(&self) -> anyhow::Result<u64> {
        let count: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM responses WHERE survey_id = $1"
        )
        .bind(SURVEY_ID)
        .fetch_one(pool)
        .await?);
        Ok(u64::try_from(count)?)
    }

    /// The id of every stored response, in no particular order.
    pub(crate) async fn response_ids(&self) -> anyhow::Result<Vec<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT response_id FROM responses WHERE survey_id = $1"
        )
        .bind(SURVEY_ID)
        .fetch_all(pool)
        .await?))
    }

    /// The stored answers and confidentiality of every response, for the export DuckDB reads.
    pub(crate) async fn answers(&self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT answers, confidentiality FROM responses WHERE survey_id = $1"
        )
        .bind(SURVEY_ID)
        .fetch_all(pool)
        .await?))
    }

    /// Writes `rows` in one transaction and commits: with the server's statements one row at
    /// a time, or with one multi-row statement per table.
    pub(crate) async fn insert_batch(
        &self,
        rows: &[StoredRow],
        method: InsertMethod,
    ) -> anyhow::Result<()> {
        on_pool!(self, |pool| {
            let mut transaction = pool.begin().await?;
            match method {
                InsertMethod::RowByRow => {
                    let statement = format!(
                        "{INSERT_RESPONSES} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) {ON_CONFLICT}"
                    );
                    for row in rows {
                        let inserted = sqlx::query(&statement)
                            .bind(&row.response_id)
                            .bind(SURVEY_ID)
                            .bind(row.survey_version)
                            .bind(&row.body_sha256)
                            .bind(&row.answers)
                            .bind(row.confidentiality)
                            .bind(&row.account)
                            .bind(&row.matter)
                            .bind(&row.wave)
                            .bind(row.returning)
                            .bind(&row.respondent_key)
                            .bind(&row.score)
                            .bind(row.nps)
                            .bind(row.crq)
                            .bind(&row.submitted_at)
                            .bind(&row.received_at)
                            .bind(&row.report_entry)
                            .execute(&mut *transaction)
                            .await?
                            .rows_affected();
                        anyhow::ensure!(
                            inserted == 1,
                            "response {} was already stored",
                            row.response_id
                        );
                        if let Some(sealed) = &row.sealed_identity {
                            sqlx::query(INSERT_IDENTITY)
                                .bind(&row.response_id)
                                .bind(sealed)
                                .execute(&mut *transaction)
                                .await?;
                        }
                    }
                }
                InsertMethod::Prepared => anyhow::bail!(
                    "prepared inserts run on a connection of their own (raw_inserts), not through the pool"
                ),
                InsertMethod::MultiRow => {
                    // At most 1,000 rows a statement, within both databases' limits on parameters.
                    for rows in rows.chunks(1_000) {
                        let mut builder = sqlx::QueryBuilder::new(INSERT_RESPONSES);
                        builder.push(" ");
                        builder.push_values(rows, |mut values, row| {
                            values
                                .push_bind(&row.response_id)
                                .push_bind(SURVEY_ID)
                                .push_bind(row.survey_version)
                                .push_bind(&row.body_sha256)
                                .push_bind(&row.answers)
                                .push_bind(row.confidentiality)
                                .push_bind(&row.account)
                                .push_bind(&row.matter)
                                .push_bind(&row.wave)
                                .push_bind(row.returning)
                                .push_bind(&row.respondent_key)
                                .push_bind(&row.score)
                                .push_bind(row.nps)
                                .push_bind(row.crq)
                                .push_bind(&row.submitted_at)
                                .push_bind(&row.received_at)
                                .push_bind(&row.report_entry);
                        });
                        builder.push(" ");
                        builder.push(ON_CONFLICT);
                        let inserted = builder
                            .build()
                            .execute(&mut *transaction)
                            .await?
                            .rows_affected();
                        anyhow::ensure!(
                            inserted == rows.len() as u64,
                            "{} of {} responses were already stored",
                            rows.len() as u64 - inserted,
                            rows.len()
                        );
                        let identified: Vec<(&String, &Vec<u8>)> = rows
                            .iter()
                            .filter_map(|row| {
                                row.sealed_identity
                                    .as_ref()
                                    .map(|sealed| (&row.response_id, sealed))
                            })
                            .collect();
                        if !identified.is_empty() {
                            let mut builder = sqlx::QueryBuilder::new(
                                "INSERT INTO respondent_identities (response_id, sealed) ",
                            );
                            builder.push_values(identified, |mut values, (response_id, sealed)| {
                                values.push_bind(response_id).push_bind(sealed);
                            });
                            builder.build().execute(&mut *transaction).await?;
                        }
                    }
                }
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// Writes `rows` with PostgreSQL's `COPY … FROM STDIN` in one transaction, the rows and
    /// then their sealed identities: the fastest way PostgreSQL takes bulk data, for filling
    /// millions of rows. An error on SQLite, which has no `COPY`.
    pub(crate) async fn copy_rows(&self, rows: &[StoredRow]) -> anyhow::Result<()> {
        let Pool::Postgres(pool) = self else {
            anyhow::bail!("COPY is PostgreSQL's; SQLite takes multi-row inserts");
        };
        let mut transaction = pool.begin().await?;
        let mut text = String::with_capacity(rows.len() * 1_200);
        for row in rows {
            let fields = [
                Some(copy_text(&row.response_id)),
                Some(SURVEY_ID.to_owned()),
                Some(row.survey_version.to_string()),
                Some(copy_text(&row.body_sha256)),
                Some(copy_text(&row.answers)),
                Some(row.confidentiality.to_owned()),
                row.account.as_deref().map(copy_text),
                row.matter.as_deref().map(copy_text),
                row.wave.as_deref().map(copy_text),
                row.returning.map(|returning| returning.to_string()),
                row.respondent_key.as_deref().map(copy_text),
                Some(copy_text(&row.score)),
                row.nps.map(|nps| nps.to_string()),
                row.crq.map(|crq| format!("{crq:?}")),
                Some(copy_text(&row.submitted_at)),
                Some(copy_text(&row.received_at)),
                Some(copy_bytes(&row.report_entry)),
            ];
            push_copy_line(&mut text, &fields);
        }
        let columns = INSERT_RESPONSES.trim_start_matches("INSERT INTO ");
        let mut copy = transaction
            .copy_in_raw(&format!("COPY {columns} FROM STDIN"))
            .await?;
        copy.send(text.into_bytes()).await?;
        let copied = copy.finish().await?;
        anyhow::ensure!(
            copied == rows.len() as u64,
            "COPY stored {copied} of {} rows",
            rows.len()
        );
        let mut text = String::new();
        for row in rows {
            if let Some(sealed) = &row.sealed_identity {
                push_copy_line(
                    &mut text,
                    &[Some(copy_text(&row.response_id)), Some(copy_bytes(sealed))],
                );
            }
        }
        let mut copy = transaction
            .copy_in_raw("COPY respondent_identities (response_id, sealed) FROM STDIN")
            .await?;
        copy.send(text.into_bytes()).await?;
        copy.finish().await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Closes the pool.
    pub(crate) async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }
}

/// What the raw inserts achieved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CeilingResult {
    /// Rows written.
    pub(crate) rows: usize,
    /// Wall time from the first transaction to the last commit.
    pub(crate) elapsed: Duration,
}

impl CeilingResult {
    /// Rows per second.
    pub(crate) fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
}

/// Writes `rows` into the database at `url` from `writers` tasks, each committing batches of
/// `batch` rows with `method`: what a plain program can do with the server's tables and
/// durability.
pub(crate) async fn raw_inserts(
    url: &str,
    rows: &[StoredRow],
    writers: usize,
    batch: usize,
    method: InsertMethod,
) -> anyhow::Result<CeilingResult> {
    let pool = Pool::connect(url, writers as u32).await?;
    let n_rows = rows.len();
    let elapsed = if method == InsertMethod::Prepared {
        let Some(file) = url.strip_prefix("sqlite://") else {
            anyhow::bail!(
                "prepared inserts through rusqlite are SQLite's; {url} is not a SQLite file"
            );
        };
        anyhow::ensure!(
            writers == 1,
            "SQLite has one writer at a time, so prepared inserts take one writer, not {writers}"
        );
        let (file, rows) = (std::path::PathBuf::from(file), rows.to_vec());
        tokio::task::spawn_blocking(move || prepared_inserts(&file, &rows, batch)).await??
    } else {
        let batches: Vec<Vec<StoredRow>> = rows.chunks(batch).map(<[StoredRow]>::to_vec).collect();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(batches.into_iter()));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..writers {
            let (pool, queue) = (pool.clone(), std::sync::Arc::clone(&queue));
            tasks.push(tokio::spawn(async move {
                loop {
                    let next = queue
                        .lock()
                        .map_err(|_| anyhow::anyhow!("batch queue poisoned"))?
                        .next();
                    let Some(batch) = next else {
                        return anyhow::Ok(());
                    };
                    pool.insert_batch(&batch, method).await?;
                }
            }));
        }
        for task in tasks {
            task.await??;
        }
        started.elapsed()
    };
    let stored = pool.count_responses().await?;
    pool.close().await;
    anyhow::ensure!(
        stored == n_rows as u64,
        "raw inserts stored {stored} rows, expected {n_rows}"
    );
    Ok(CeilingResult {
        rows: n_rows,
        elapsed,
    })
}

/// Writes `rows` into the SQLite file `file` in transactions of `batch` rows, with the
/// server's two statements prepared once on one connection with the server's durability
/// (WAL, `synchronous = FULL`); returns the time from the first transaction to the last
/// commit.
fn prepared_inserts(
    file: &std::path::Path,
    rows: &[StoredRow],
    batch: usize,
) -> anyhow::Result<Duration> {
    let mut connection = rusqlite::Connection::open(file)?;
    connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    for (name, value) in SQLITE_PRAGMAS {
        connection.pragma_update(None, name, value)?;
    }
    let journal: String = connection.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    anyhow::ensure!(
        journal.eq_ignore_ascii_case("wal"),
        "{} is in journal mode {journal}, not WAL",
        file.display()
    );
    let insert = format!(
        "{INSERT_RESPONSES} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) {ON_CONFLICT}"
    );
    let started = Instant::now();
    for rows in rows.chunks(batch) {
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for row in rows {
            let inserted = transaction
                .prepare_cached(&insert)?
                .execute(rusqlite::params![
                    row.response_id,
                    SURVEY_ID,
                    row.survey_version,
                    row.body_sha256,
                    row.answers,
                    row.confidentiality,
                    row.account,
                    row.matter,
                    row.wave,
                    row.returning,
                    row.respondent_key,
                    row.score,
                    row.nps,
                    row.crq,
                    row.submitted_at,
                    row.received_at,
                    row.report_entry,
                ])?;
            anyhow::ensure!(
                inserted == 1,
                "response {} was already stored",
                row.response_id
            );
            if let Some(sealed) = &row.sealed_identity {
                transaction
                    .prepare_cached(INSERT_IDENTITY)?
                    .execute(rusqlite::params![row.response_id, sealed])?;
            }
        }
        transaction.commit()?;
    }
    Ok(started.elapsed())
}

/// A text value in `COPY`'s text format: backslash, tab, newline and carriage return escaped.
fn copy_text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A `bytea` value in `COPY`'s text format: `\x` and hex, its backslash escaped.
fn copy_bytes(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(3 + 2 * bytes.len());
    text.push_str("\\\\x");
    for byte in bytes {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// One `COPY` text line: fields separated by tabs, `\N` for NULL.
fn push_copy_line(text: &mut String, fields: &[Option<String>]) {
    for (idx, field) in fields.iter().enumerate() {
        if idx > 0 {
            text.push('\t');
        }
        text.push_str(field.as_deref().unwrap_or("\\N"));
    }
    text.push('\n');
}

/// How many report snapshots the database at `url` holds (see the server's
/// `store::report_snapshots`).
pub(crate) async fn report_snapshots(url: &str) -> anyhow::Result<i64> {
    let pool = Pool::connect(url, 1).await?;
    Ok(on_pool!(&pool, |pool| {
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM report_snapshots")
            .fetch_one(pool)
            .await?;
        pool.close().await;
        count
    }))
}

/// Deletes every report snapshot of the database at `url`, so that the next start reads
/// every row, as the first start after an upgrade or an erasure does.
pub(crate) async fn delete_report_snapshots(url: &str) -> anyhow::Result<()> {
    let pool = Pool::connect(url, 1).await?;
    on_pool!(&pool, |pool| {
        sqlx::query("DELETE FROM report_snapshots")
            .execute(pool)
            .await?;
        pool.close().await;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responses::{RowMaker, now};

    /// Every stored column of every response and identity, in id order.
    async fn contents(url: &str) -> Vec<String> {
        let pool = SqlitePool::connect(url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT json_array(r.response_id, r.survey_id, r.survey_version, r.body_sha256, r.answers, r.confidentiality, r.account, r.matter, r.wave, \
             r.returning_respondent, r.respondent_key, r.score, r.nps, r.crq, r.submitted_at, r.received_at, hex(r.report_entry), hex(i.sealed)) \
             FROM responses r LEFT JOIN respondent_identities i USING (response_id) ORDER BY r.response_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    }

    #[tokio::test]
    async fn every_ceiling_method_stores_the_same_rows() {
        let dir =
            std::env::temp_dir().join(format!("rapport-bench-methods-{}", std::process::id()));
        let backend = Backend::Sqlite(dir.clone());
        let maker = RowMaker::new().unwrap();
        let received_at = now();
        let rows: Vec<StoredRow> = (0..40)
            .map(|index| maker.row(index, &received_at).unwrap())
            .collect();
        assert!(
            rows.iter().any(|row| row.sealed_identity.is_some())
                && rows.iter().any(|row| row.sealed_identity.is_none())
        );
        let mut stored = Vec::new();
        for &method in InsertMethod::for_backend(&backend) {
            let url = backend
                .fresh(&format!("method-{}", stored.len()))
                .await
                .unwrap();
            let result = raw_inserts(&url, &rows, 1, 16, method).await.unwrap();
            assert_eq!(result.rows, rows.len());
            stored.push((method, contents(&url).await));
        }
        assert_eq!(stored.len(), 3);
        assert_eq!(stored[0].1.len(), rows.len());
        for (method, contents) in &stored[1..] {
            assert_eq!(
                contents,
                &stored[0].1,
                "{} stored other rows than {}",
                method.name(),
                stored[0].0.name()
            );
        }
        // Writing a stored row again is an error, never a silent skip that would flatter the rate.
        let url = backend.fresh("method-again").await.unwrap();
        raw_inserts(&url, &rows[..1], 1, 16, InsertMethod::Prepared)
            .await
            .unwrap();
        assert!(
            raw_inserts(&url, &rows[..1], 1, 16, InsertMethod::Prepared)
                .await
                .is_err()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
