//! Storage: the only module that knows SQL.
//!
//! Two backends behind one [`Store`]: SQLite (`sqlite://FILE`, the embedded default) and
//! PostgreSQL (`postgres://…`, for several replicas on one database). Every statement is
//! written once, in the SQL both understand (`$1` parameters, `ON CONFLICT`), and runs on
//! either pool through [`on_pool!`]; each backend has its own migrations, embedded in the
//! binary and run at start (PostgreSQL's under an advisory lock, so replicas that start
//! together migrate once).
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, PostgreSQL with its
//! default `synchronous_commit = on`, so a commit has reached the disk before the API
//! acknowledges it. Responses are written by group commit ([`group_commit`]): concurrent
//! inserts share one transaction and one flush, and each waits for that commit before it is
//! answered. On SQLite one thread with a connection of its own writes every batch with
//! prepared statements ([`sqlite_writer`]); on PostgreSQL four tasks take batches through
//! the pool ([`postgres_writer`]). Both run one insert ([`responses`]), the same statements
//! ([`sql`]) and one definition of the response columns and their values ([`columns`]).
//! Inside the batch each response is still all-or-nothing with its sealed identity and
//! invitation update; if a batch fails, its responses are retried one transaction each, so
//! one bad row never takes others down with it.
//!
//! One file per concern: this one opens and migrates the database; [`surveys`] stores
//! survey versions and compiles them once; [`reports`] keeps report columns in memory, and
//! [`bulk_read`] reads a whole version's rows into them at once (on SQLite through a read-only
//! connection of its own, on PostgreSQL by `COPY`);
//! [`exports`] reads stored responses back; [`follow_ups`], [`tokens`] (API tokens and
//! dashboard sessions), [`invitations`], [`display_names`] (what accounts and matters are
//! called), [`erase`] and [`webhooks`] (webhooks, their delivery log and how far responses
//! were scanned for them) hold one concern each.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rapport_scoring::disclosure::Arrival;
use rapport_scoring::wire::{ConfidentialityChoice, Timestamp};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::mpsc;

use crate::metrics::Histogram;

/// Runs `$body` with `$pool` bound to whichever pool the store holds. The body is compiled
/// once per backend, so each runs with its own driver's types; it must produce the same
/// type for both.
macro_rules! on_pool {
    ($pool_of:expr, |$pool:ident| $body:expr) => {
        match $pool_of {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// Records, in transaction `$tx`, that rows of a survey version already counted were
/// changed or removed ([`sql::COUNT_REWRITE`]), so that a report cache of it reads the
/// version again.
macro_rules! count_rewrite {
    ($tx:expr, $survey_id:expr, $version:expr) => {{
        sqlx::query($crate::store::sql::COUNT_REWRITE)
            .bind($survey_id)
            .bind($version)
            .execute(&mut *$tx)
            .await?;
    }};
}

mod audit;
mod bulk_read;
mod columns;
mod display_names;
mod erase;
mod exports;
mod follow_ups;
mod group_commit;
mod invitations;
mod label_rules;
mod postgres_writer;
mod report_snapshots;
mod reports;
mod responses;
mod sql;
mod sqlite_writer;
mod surveys;
mod tokens;
mod webhooks;

pub use audit::AuditRow;
pub use columns::ScoredColumns;
pub use display_names::{DisplayName, DisplayNames, NameKind};
pub use exports::{ExportRow, TextSource};
pub use follow_ups::{FollowUpRow, FollowUpStatus, FollowUpSubject};
pub use invitations::{
    InvitationAction, InvitationAudit, InvitationListing, InvitationState, NewInvitation,
    ResendSource, StoredInvitation,
};
pub use label_rules::RuleAdded;
pub use reports::{ReportColumns, ResponsesRead};
pub use responses::{InsertOutcome, NewResponse};
pub use surveys::{AddOutcome, CompiledSurvey, SurveyChange, SurveySummary};
pub use tokens::{StoredTokenListing, TokenKey};
pub use webhooks::{
    AttemptOutcome, ClaimedDelivery, DeliveryRow, NewDelivery, NewWebhook, ScannedResponse,
    VersionToScan, WebhookRow,
};

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    writer: mpsc::Sender<group_commit::PendingInsert>,
    batch_sizes: Arc<std::sync::Mutex<Histogram>>,
    surveys: surveys::SurveyCache,
    reports: reports::ReportCache,
    invitations: invitations::InvitationCache,
    /// When this process last wrote each token's `last_used_at`.
    token_uses: tokens::TokenUses,
    /// The SQLite database file, which report columns are read from in bulk by a read-only
    /// connection of their own ([`bulk_read`]); `None` on PostgreSQL.
    sqlite_file: Option<Arc<Path>>,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The settings of every SQLite connection, the pool's and the writer's (`sqlite_writer`),
/// besides WAL: a commit has reached the disk before it returns, foreign keys hold, and
/// deleted content (an erased identity) is overwritten, not left in free space. Public so
/// that a benchmark's raw inserts run with exactly the server's settings.
pub const SQLITE_PRAGMAS: [(&str, &str); 3] = [
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("secure_delete", "ON"),
];

/// How long a SQLite connection waits for another's write lock.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`: `sqlite://FILE` or
    /// `postgres://…` (also `postgresql://…`).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let (writer, receiver) = mpsc::channel(group_commit::MAX_BATCH * 4);
        let mut sqlite_file = None;
        let batch_sizes = Arc::new(std::sync::Mutex::new(Histogram::default()));
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("parsing database URL {url:?}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let options = SQLITE_PRAGMAS
                .iter()
                .fold(options, |options, (name, value)| {
                    options.pragma(*name, *value)
                });
            let file = options.get_filename().to_owned();
            // The writer has a connection of its own (`sqlite_writer`), which an in-memory
            // database would not share; it would not keep responses anyway.
            anyhow::ensure!(
                !url.contains(":memory:") && !url.contains("mode=memory"),
                "{url:?} names an in-memory database, which would lose every response when the server stops: name a file, e.g. sqlite://rapport.db"
            );
            let lock_file = PathBuf::from(format!("{}-migrate.lock", file.display()));
            // sqlx takes no lock on SQLite, so processes starting together on one file would
            // each try to create the tables. An exclusive lock on a file beside the database
            // lets one open and migrate it while the others wait, then find nothing left to
            // do. It is taken before the first connection, since turning a new file to WAL
            // can fail at once, without waiting, while another process does the same.
            let lock = tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_file)
                    .with_context(|| format!("opening {}", lock_file.display()))?;
                file.lock()
                    .with_context(|| format!("locking {}", lock_file.display()))?;
                Ok(file)
            })
            .await??;
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .with_context(|| format!("opening {url}"))?;
            sqlx::migrate!("migrations/sqlite")
                .run(&pool)
                .await
                .context("migrating the database")?;
            drop(lock);
            // SQLite has one writer at a time: one thread with a connection of its own.
            sqlite_writer::SqliteWriter::open(&file, receiver)?.spawn(Arc::clone(&batch_sizes))?;
            sqlite_file = Some(Arc::from(file));
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context("connecting to PostgreSQL (is it running, and does the URL name an existing database?)")?;
            sqlx::migrate!("migrations/postgres")
                .run(&pool)
                .await
                .context("migrating the database")?;
            postgres_writer::spawn(&pool, receiver, &batch_sizes);
            Pool::Postgres(pool)
        } else {
            anyhow::bail!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://USER@HOST/DATABASE"
            );
        };
        let store = Store {
            pool,
            writer,
            batch_sizes,
            surveys: Arc::default(),
            reports: reports::ReportCache::default(),
            invitations: invitations::InvitationCache::default(),
            token_uses: tokens::TokenUses::default(),
            sqlite_file,
        };
        store.register_builtin_templates().await?;
        Ok(store)
    }

    /// How many responses each group-commit transaction has held so far.
    pub fn batch_sizes(&self) -> Histogram {
        self.batch_sizes
            .lock()
            .map(|histogram| histogram.clone())
            .unwrap_or_default()
    }

    /// Whether the database answers: a trivial query through the pool.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let one: i64 = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT)"
        )
        .fetch_one(pool)
        .await?);
        anyhow::ensure!(one == 1, "the database answered {one} to SELECT 1");
        anyhow::ensure!(!self.writer.is_closed(), "the database writer has stopped");
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        on_pool!(&self.pool, |pool| pool.close().await);
    }
}

/// The time now, as stored.
fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    Timestamp::from_unix_millis(millis)
}

/// The stored name of an arrival, back as the arrival.
fn parse_arrival(stored: &str) -> anyhow::Result<Arrival> {
    Arrival::parse(stored)
        .ok_or_else(|| anyhow::anyhow!("stored response has an unknown arrival {stored:?}"))
}

/// The stored name of a confidentiality choice, back as the choice.
fn parse_confidentiality(stored: &str) -> anyhow::Result<ConfidentialityChoice> {
    match stored {
        "anonymous" => Ok(ConfidentialityChoice::Anonymous),
        "confidential" => Ok(ConfidentialityChoice::Confidential),
        "identified" => Ok(ConfidentialityChoice::Identified),
        other => anyhow::bail!("stored response has an unknown confidentiality {other:?}"),
    }
}

/// A survey version as a row names it: what a removed response belonged to, or a version
/// whose rows an erasure changed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct SurveyVersion {
    survey_id: String,
    survey_version: i64,
}
