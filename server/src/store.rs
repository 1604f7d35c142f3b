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
//! acknowledges it. Responses are written by group commit: concurrent inserts share one
//! transaction and one flush, and each waits for that commit before it is answered. On
//! SQLite one thread with a connection of its own writes every batch with prepared
//! statements ([`sqlite_writer`]); on PostgreSQL four tasks take batches through the pool
//! ([`GroupCommit`]). Both run the same statements ([`sql`]). Inside the batch each response is still all-or-nothing with its sealed
//! identity and invitation update; if a batch fails, its responses are retried one
//! transaction each, so one bad row never takes others down with it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rapport_scoring::completion::InvitationRecord;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::disclosure::{Arrival, Release};
use rapport_scoring::entry::EntryLayout;
use rapport_scoring::score::ResponseScore;
use rapport_scoring::validate::Answers;
use rapport_scoring::wire::{ConfidentialityChoice, Context, Timestamp};
use rapport_scoring::{EntryContext, ReportInput, ResponseRecord, Scorer, templates};
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::invitation::Invitation;
use crate::metrics::{BATCH_BUCKETS, Histogram};
use futures_util::TryStreamExt as _;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, Row, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

mod sqlite_writer;

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    writer: mpsc::Sender<PendingInsert>,
    batch_sizes: Arc<std::sync::Mutex<Histogram>>,
    surveys: SurveyCache,
    reports: ReportCache,
}

/// Compiled survey versions by id and version.
type SurveyCache = Arc<std::sync::RwLock<HashMap<(String, u32), Arc<CompiledSurvey>>>>;

/// A survey version's responses as reports and the close-the-loop list read them: the
/// report columns ([`ReportInput`], which it dereferences to) and each row's response id.
#[derive(Debug, Clone)]
pub struct ReportColumns {
    input: ReportInput,
    /// Response ids as 128-bit numbers: every id ingest accepts is a canonical UUID.
    ids: Vec<u128>,
    /// The ids of rows that hold anything else, by row.
    other_ids: HashMap<usize, String>,
    /// What roles other than admin may see of these rows, decided once per set of rows.
    release: std::sync::OnceLock<Arc<Release>>,
}

impl ReportColumns {
    fn new(survey: &CompiledSurvey) -> Self {
        ReportColumns {
            input: ReportInput::new(survey),
            ids: Vec::new(),
            other_ids: HashMap::new(),
            release: std::sync::OnceLock::new(),
        }
    }

    /// What roles other than admin may see of these rows, with batches of `batch_size` (the
    /// survey version's minimum group size, the same for every call on one version):
    /// decided on the first call and kept until rows are added.
    pub fn release(&self, batch_size: u32) -> Arc<Release> {
        Arc::clone(self.release.get_or_init(|| {
            Arc::new(rapport_scoring::disclosure::release(
                &self.input,
                batch_size,
            ))
        }))
    }

    /// The response id of the `row`-th response.
    pub fn response_id(&self, row: usize) -> String {
        match self.other_ids.get(&row) {
            Some(id) => id.clone(),
            None => {
                let hex = format!("{:032x}", self.ids[row]);
                format!(
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            }
        }
    }

    fn push_id(&mut self, response_id: &str) {
        let packed = packed_uuid(response_id);
        if packed.is_none() {
            self.other_ids
                .insert(self.ids.len(), response_id.to_owned());
        }
        self.ids.push(packed.unwrap_or_default());
    }
}

/// A canonical UUID (lowercase hex, hyphens after the 8th, 12th, 16th and 20th digit) as the
/// number its digits spell; `None` for any other text.
fn packed_uuid(id: &str) -> Option<u128> {
    if id.len() != 36 {
        return None;
    }
    let mut packed = 0u128;
    for (at, byte) in id.bytes().enumerate() {
        let digit = match byte {
            b'-' if matches!(at, 8 | 13 | 18 | 23) => continue,
            _ if matches!(at, 8 | 13 | 18 | 23) => return None,
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            _ => return None,
        };
        packed = packed << 4 | u128::from(digit);
    }
    Some(packed)
}

impl std::ops::Deref for ReportColumns {
    type Target = ReportInput;
    fn deref(&self) -> &ReportInput {
        &self.input
    }
}

/// The report columns of the survey versions last reported on, each with the revision
/// counters it was read at (see [`Store::report_input`]). A cache only: every entry can be
/// rebuilt from the database, and a replica without it gives the same reports.
#[derive(Debug, Clone, Default)]
struct ReportCache {
    slots: Arc<std::sync::Mutex<HashMap<(String, u32), ReportSlot>>>,
}

/// One version's columns, behind a lock that one reader at a time holds while it brings
/// them up to date, so that concurrent reports read the new rows once.
type ReportSlot = Arc<Mutex<Option<CachedInput>>>;

#[derive(Debug)]
struct CachedInput {
    revision: i64,
    rewrites: i64,
    columns: Arc<ReportColumns>,
}

impl ReportCache {
    /// How many versions' columns are kept. A million responses take about 40 MB.
    const VERSIONS: usize = 8;

    /// The slot of a version, made (and another version's dropped, if the cache is full
    /// and one is not in use) if it has none.
    fn slot(&self, survey_id: &str, version: u32) -> anyhow::Result<ReportSlot> {
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| anyhow::anyhow!("report cache poisoned"))?;
        if let Some(slot) = slots.get(&(survey_id.to_owned(), version)) {
            return Ok(Arc::clone(slot));
        }
        if slots.len() >= Self::VERSIONS {
            let idle = slots
                .iter()
                .find(|(_, slot)| Arc::strong_count(slot) == 1)
                .map(|(key, _)| key.clone());
            if let Some(key) = idle {
                slots.remove(&key);
            }
        }
        let slot = ReportSlot::default();
        slots.insert((survey_id.to_owned(), version), Arc::clone(&slot));
        Ok(slot)
    }
}

/// A stored survey version with what scoring and reports compile from it, built once per
/// version and shared: a version never changes once stored. Dereferences to its definition.
#[derive(Debug)]
pub struct CompiledSurvey {
    definition: SurveyDefinition,
    scorer: Scorer,
    layout: EntryLayout,
}

impl CompiledSurvey {
    /// Compiles a validated definition.
    pub fn new(definition: SurveyDefinition) -> Self {
        CompiledSurvey {
            scorer: Scorer::new(&definition),
            layout: EntryLayout::new(&definition),
            definition,
        }
    }

    /// The definition.
    pub fn definition(&self) -> &SurveyDefinition {
        &self.definition
    }

    /// The compiled scorer.
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// The layout of this version's report entries.
    pub fn layout(&self) -> &EntryLayout {
        &self.layout
    }
}

impl std::ops::Deref for CompiledSurvey {
    type Target = SurveyDefinition;
    fn deref(&self) -> &SurveyDefinition {
        &self.definition
    }
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store holds. The body is compiled
/// once per backend, so each runs with its own driver's types; it must produce the same
/// type for both.
macro_rules! on_pool {
    ($pool_of:expr, |$pool:ident| $body:expr) => {
        match $pool_of {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The most responses written in one group-commit transaction.
const MAX_BATCH: usize = 256;

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

/// A response waiting for the writer, and where to send what became of it.
#[derive(Debug)]
struct PendingInsert {
    response: NewResponse,
    done: oneshot::Sender<anyhow::Result<InsertOutcome>>,
}

/// A survey and its latest version, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveySummary {
    /// Survey id.
    pub id: String,
    /// Latest version.
    pub version: u32,
    /// English title.
    pub title: String,
    /// Responses stored for all versions.
    pub responses: u64,
}

/// What adding a survey definition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// The definition was stored as this version.
    Added {
        /// The version it was stored as.
        version: u32,
    },
    /// The latest stored version already has this content.
    Unchanged {
        /// That latest version.
        version: u32,
    },
}

/// A validated, scored response ready to be written.
#[derive(Debug, Clone)]
pub struct NewResponse {
    /// The idempotency key.
    pub response_id: String,
    /// Survey id.
    pub survey_id: String,
    /// Survey version.
    pub survey_version: u32,
    /// Keyed digest of the canonical body ([`crate::identity::IdentityKey::body_digest`]), to
    /// tell a resend from a conflicting reuse of the id. Never a plain hash: the body holds
    /// the identity.
    pub body_sha256: String,
    /// The same digest under older identity keys, so a resend of a response stored before a
    /// key rotation is still recognised.
    pub earlier_body_digests: Vec<String>,
    /// The answers and score as their columns store them.
    pub scored: ScoredColumns,
    /// Confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
    /// Account, matter, wave.
    pub context: Context,
    /// Pseudonymous key following the respondent across waves.
    pub respondent_key: Option<String>,
    /// The report entry ([`rapport_scoring::entry`]) of the answers.
    pub report_entry: Vec<u8>,
    /// The widget's submit time.
    pub submitted_at: Timestamp,
    /// Identity sealed with the identity key; `None` for anonymous responses.
    pub sealed_identity: Option<Vec<u8>>,
    /// The invitation answered, whose earlier answers this response replaces.
    pub invitation_id: Option<String>,
    /// How it reached the server.
    pub arrival: Arrival,
    /// The survey's minimum group size: the size of the batches in which protected answers
    /// are published.
    pub batch_size: u32,
}

/// A response's validated answers and the server's score, in the form their columns take:
/// serialised while the request is handled, on any core, so the one writer every response
/// waits for only binds them.
#[derive(Debug, Clone)]
pub struct ScoredColumns {
    /// The typed answers, as JSON.
    answers: String,
    /// The 0–10 answer, if there is one.
    nps: Option<i64>,
    /// The score, as JSON.
    score: String,
    /// The overall CRQ score, if there is one.
    crq: Option<f64>,
}

impl ScoredColumns {
    /// The columns of `answers` and their `score`.
    pub fn new(answers: &Answers, score: &ResponseScore) -> anyhow::Result<Self> {
        Ok(ScoredColumns {
            answers: serde_json::to_string(answers)?,
            nps: answers.nps.map(|answer| i64::from(answer.get())),
            score: serde_json::to_string(score)?,
            crq: score.crq,
        })
    }

    /// The score as JSON, as stored: the receipt reuses it rather than serialise it again.
    pub fn score_json(&self) -> &str {
        &self.score
    }
}

/// A recorded invitation and, once answered, its answer's response id and survey version.
#[derive(Debug, Clone)]
pub struct StoredInvitation {
    /// What completion rates count.
    pub record: InvitationRecord,
    /// The response that answers it, and its survey version.
    pub answer: Option<(String, u32)>,
}

/// One stored response as an export reads it. The identity is still sealed: only the
/// export decides, by role, whether to open it.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// Response id.
    pub response_id: String,
    /// The widget's submit time.
    pub submitted_at: String,
    /// Anonymous, confidential or identified.
    pub confidentiality: ConfidentialityChoice,
    /// Account.
    pub account: Option<String>,
    /// Matter.
    pub matter: Option<String>,
    /// Wave.
    pub wave: Option<String>,
    /// Typed answers.
    pub answers: Answers,
    /// The server's score.
    pub score: ResponseScore,
    /// Sealed identity, when one was given.
    pub sealed_identity: Option<Vec<u8>>,
}

/// What a follow-up status is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FollowUpSubject {
    /// An identified response that needs a conversation, by response id.
    Response(String),
    /// An account's flag for the confidential and anonymous feedback of one wave (`""` for
    /// responses without a wave): who said what is never part of it.
    Account {
        /// The account.
        account: String,
        /// The wave.
        wave: String,
    },
}

/// How far the conversation about an item has got.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    /// Nobody has acted yet.
    #[default]
    Open,
    /// A conversation is planned or under way.
    InProgress,
    /// Followed up.
    Done,
}

impl FollowUpStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpStatus::Open => "open",
            FollowUpStatus::InProgress => "in_progress",
            FollowUpStatus::Done => "done",
        }
    }

    /// The status with this name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            FollowUpStatus::Open,
            FollowUpStatus::InProgress,
            FollowUpStatus::Done,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

/// A recorded follow-up status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRow {
    /// What it is about.
    pub subject: FollowUpSubject,
    /// The status.
    pub status: FollowUpStatus,
    /// What the person who followed up wrote.
    pub note: Option<String>,
    /// When it was last changed.
    pub updated_at: String,
}

/// What storing a response did.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    /// Stored now.
    Stored,
    /// Stored now, replacing the earlier answers to the same invitation.
    Replaced,
    /// The same response was stored before; here is the score stored then.
    Duplicate(ResponseScore),
    /// The id was used before for a different body.
    Conflict,
    /// Nothing stored: the invitation was answered before in confidence, and that answer is
    /// in a published batch, which must never change (see `rapport_scoring::disclosure`).
    PublishedBefore,
}

/// Whether an answer stands in a published batch, from what [`sql::EARLIER_ANSWER_PLACE`]
/// returns: it is protected and verified, and its position is within the whole batches of
/// `batch_size` that its account and choice have filled.
fn in_published_batch((position, total, protected): (i64, i64, i64), batch_size: u32) -> bool {
    let batch_size = i64::from(batch_size.max(1));
    protected == 1 && position >= 1 && position <= total / batch_size * batch_size
}

fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    Timestamp::from_unix_millis(millis)
}

/// The stored name of a confidentiality choice, back as the choice.
fn parse_arrival(stored: &str) -> anyhow::Result<Arrival> {
    Arrival::parse(stored)
        .ok_or_else(|| anyhow::anyhow!("stored response has an unknown arrival {stored:?}"))
}

fn parse_confidentiality(stored: &str) -> anyhow::Result<ConfidentialityChoice> {
    match stored {
        "anonymous" => Ok(ConfidentialityChoice::Anonymous),
        "confidential" => Ok(ConfidentialityChoice::Confidential),
        "identified" => Ok(ConfidentialityChoice::Identified),
        other => anyhow::bail!("stored response has an unknown confidentiality {other:?}"),
    }
}

/// An export row as selected: response id, submitted at, confidentiality, account, matter,
/// wave, answers, score, sealed identity.
type Exported = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<Vec<u8>>,
);

/// The report entry of a row from its stored answers and confidentiality: for rows stored
/// before entries existed, or whose entry no longer decodes.
fn entry_of_stored(
    survey: &CompiledSurvey,
    answers: &str,
    confidentiality: &str,
) -> anyhow::Result<Vec<u8>> {
    Ok(survey.layout.encode(
        &serde_json::from_str(answers)?,
        parse_confidentiality(confidentiality)?,
    ))
}

fn export_row(
    (
        response_id,
        submitted_at,
        confidentiality,
        account,
        matter,
        wave,
        answers,
        score,
        sealed_identity,
    ): Exported,
) -> anyhow::Result<ExportRow> {
    Ok(ExportRow {
        response_id,
        submitted_at,
        confidentiality: parse_confidentiality(&confidentiality)?,
        account,
        matter,
        wave,
        answers: serde_json::from_str(&answers)?,
        score: serde_json::from_str(&score)?,
        sealed_identity,
    })
}

/// The statements that store a response, shared by both writers: the group commit through
/// sqlx ([`GroupCommit`], PostgreSQL) and SQLite's writer thread ([`sqlite_writer`]).
/// Parameters are `$N`, numbered in order of first use, which is also how SQLite numbers
/// them when they are bound by position.
mod sql {
    /// Takes the next revision of a survey version (`$1`, `$2`); returns it.
    pub(super) const NEXT_REVISION: &str = "INSERT INTO report_revisions (survey_id, survey_version, revision, rewrites) VALUES ($1, $2, 1, 0) \
         ON CONFLICT (survey_id, survey_version) DO UPDATE SET revision = report_revisions.revision + 1 RETURNING revision";
    /// Counts a change to rows of a survey version (`$1`, `$2`) that were already counted.
    pub(super) const COUNT_REWRITE: &str = "INSERT INTO report_revisions (survey_id, survey_version, revision, rewrites) VALUES ($1, $2, 0, 1) \
         ON CONFLICT (survey_id, survey_version) DO UPDATE SET rewrites = report_revisions.rewrites + 1";
    /// The columns of a stored response, in the order every insert binds them.
    macro_rules! insert_response_columns {
        () => {
            "INSERT INTO responses (response_id, survey_id, survey_version, body_sha256, answers, confidentiality, account, matter, wave, \
             returning_respondent, respondent_key, score, nps, crq, submitted_at, received_at, report_entry, revision, arrival) "
        };
    }
    /// The start of an insert of responses, up to its `VALUES`, for the multi-row form.
    pub(super) const INSERT_RESPONSE_COLUMNS: &str = insert_response_columns!();
    /// Inserts one response unless its id is stored already.
    pub(super) const INSERT_RESPONSE: &str = concat!(
        insert_response_columns!(),
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (response_id) DO NOTHING"
    );
    /// A stored response's body digest and score, by id.
    pub(super) const STORED_DIGEST_AND_SCORE: &str =
        "SELECT body_sha256, score FROM responses WHERE response_id = $1";
    /// Stores a response's sealed identity.
    pub(super) const INSERT_IDENTITY: &str =
        "INSERT INTO respondent_identities (response_id, sealed) VALUES ($1, $2)";
    /// Locks an invitation's row (on PostgreSQL) before it is read.
    pub(super) const LOCK_INVITATION: &str =
        "UPDATE invitations SET response_id = response_id WHERE invitation_id = $1";
    /// The response that answers an invitation, if any.
    pub(super) const INVITATION_ANSWER: &str =
        "SELECT response_id FROM invitations WHERE invitation_id = $1";
    /// Removes a response (its identity goes with it, by cascade); returns its survey version.
    pub(super) const DELETE_RESPONSE: &str =
        "DELETE FROM responses WHERE response_id = $1 RETURNING survey_id, survey_version";
    /// Where an earlier response (`$1`) stands among the verified answers of its account and
    /// choice in its survey version, in the order reports read them: its position (from 1),
    /// how many there are, and whether it is protected and verified (1) or not (0). With the
    /// batch size, this tells whether it is in a published batch
    /// (`rapport_scoring::disclosure`).
    pub(super) const EARLIER_ANSWER_PLACE: &str = "WITH earlier AS (SELECT survey_id, survey_version, account, confidentiality, arrival, revision, received_at, response_id FROM responses WHERE response_id = $1), \
         unit AS (SELECT r.revision, r.received_at, r.response_id FROM responses r, earlier e WHERE r.survey_id = e.survey_id AND r.survey_version = e.survey_version \
           AND (r.account = e.account OR (r.account IS NULL AND e.account IS NULL)) AND r.confidentiality = e.confidentiality AND r.arrival <> 'unverified') \
         SELECT (SELECT COUNT(*) FROM unit u, earlier e WHERE u.revision < e.revision OR (u.revision = e.revision AND (u.received_at < e.received_at \
           OR (u.received_at = e.received_at AND u.response_id <= e.response_id)))), \
         (SELECT COUNT(*) FROM unit), \
         (SELECT COUNT(*) FROM earlier WHERE confidentiality <> 'identified' AND arrival <> 'unverified')";
    /// Records the response (`$1`) that answers an invitation (`$2`).
    pub(super) const SET_INVITATION_ANSWER: &str =
        "UPDATE invitations SET response_id = $1 WHERE invitation_id = $2";
}

/// Takes, in transaction `transaction`, the next revision of a survey version's responses
/// (see `migrations/*/0007_report_revisions.sql`): the value the rows this transaction adds
/// to it carry. The counter's row stays locked until commit, so revisions are committed in
/// order; a transaction takes the counters it needs first, sorted. (SQLite's writer holds
/// the one write lock instead; see [`sqlite_writer`].)
async fn next_revision(
    transaction: &mut sqlx::PgConnection,
    survey_id: &str,
    version: u32,
) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql::NEXT_REVISION)
        .bind(survey_id)
        .bind(i64::from(version))
        .fetch_one(&mut *transaction)
        .await?)
}

/// Records, in transaction `$tx`, that rows of a survey version already counted were
/// changed or removed, so that a report cache of it reads the version again.
macro_rules! count_rewrite {
    ($tx:expr, $survey_id:expr, $version:expr) => {{
        sqlx::query(sql::COUNT_REWRITE)
            .bind($survey_id)
            .bind($version)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Writes one response inside the open PostgreSQL transaction `transaction`, row by row,
/// and tells what became of it. SQLite's writer does the same with the same statements
/// ([`sqlite_writer`]).
async fn insert_in(
    transaction: &mut sqlx::PgConnection,
    response: &NewResponse,
    revision: i64,
) -> anyhow::Result<InsertOutcome> {
    // One response per invitation: the new answers replace the earlier ones, in the same
    // transaction, so there is never a moment with both or neither, unless the earlier ones
    // were published in confidence. The first statement locks the invitation's row, so two
    // replicas answering the same invitation at once take turns instead of both keeping
    // their answers.
    let mut earlier = None;
    if let Some(invitation_id) = &response.invitation_id {
        sqlx::query(sql::LOCK_INVITATION)
            .bind(invitation_id)
            .execute(&mut *transaction)
            .await?;
        let answer: Option<String> = sqlx::query_scalar(sql::INVITATION_ANSWER)
            .bind(invitation_id)
            .fetch_optional(&mut *transaction)
            .await?
            .flatten();
        earlier = answer.filter(|earlier| *earlier != response.response_id);
        if let Some(earlier) = &earlier {
            let place: (i64, i64, i64) = sqlx::query_as(sql::EARLIER_ANSWER_PLACE)
                .bind(earlier)
                .fetch_one(&mut *transaction)
                .await?;
            if in_published_batch(place, response.batch_size) {
                return Ok(InsertOutcome::PublishedBefore);
            }
        }
    }
    let inserted = sqlx::query(sql::INSERT_RESPONSE)
        .bind(&response.response_id)
        .bind(&response.survey_id)
        .bind(i64::from(response.survey_version))
        .bind(&response.body_sha256)
        .bind(&response.scored.answers)
        .bind(response.confidentiality.as_str())
        .bind(&response.context.account)
        .bind(&response.context.matter)
        .bind(&response.context.wave)
        .bind(response.context.returning)
        .bind(&response.respondent_key)
        .bind(&response.scored.score)
        .bind(response.scored.nps)
        .bind(response.scored.crq)
        .bind(response.submitted_at.as_str())
        .bind(now().as_str())
        .bind(&response.report_entry)
        .bind(revision)
        .bind(response.arrival.as_str())
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    if inserted == 0 {
        // Stored before (by this batch, another request or another replica): a resend if the
        // body is the same, a conflict if not. Either way nothing is written.
        let row = sqlx::query(sql::STORED_DIGEST_AND_SCORE)
            .bind(&response.response_id)
            .fetch_one(&mut *transaction)
            .await?;
        return response.against_stored(row.get("body_sha256"), row.get("score"));
    }
    if let Some(sealed) = &response.sealed_identity {
        sqlx::query(sql::INSERT_IDENTITY)
            .bind(&response.response_id)
            .bind(sealed)
            .execute(&mut *transaction)
            .await?;
    }
    let Some(invitation_id) = &response.invitation_id else {
        return Ok(InsertOutcome::Stored);
    };
    let mut outcome = InsertOutcome::Stored;
    if let Some(earlier) = &earlier {
        let removed: Option<(String, i64)> = sqlx::query_as(sql::DELETE_RESPONSE)
            .bind(earlier)
            .fetch_optional(&mut *transaction)
            .await?;
        if let Some((survey_id, version)) = removed {
            count_rewrite!(transaction, &survey_id, version);
        }
        outcome = InsertOutcome::Replaced;
    }
    sqlx::query(sql::SET_INVITATION_ANSWER)
        .bind(&response.response_id)
        .bind(invitation_id)
        .execute(&mut *transaction)
        .await?;
    Ok(outcome)
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`: `sqlite://FILE` or
    /// `postgres://…` (also `postgresql://…`).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let (writer, receiver) = mpsc::channel(MAX_BATCH * 4);
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
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .with_context(|| format!("opening {url}"))?;
            // sqlx takes no lock on SQLite, so processes starting together on one file would
            // each try to create the tables. An exclusive lock on a file beside the database
            // lets one migrate while the others wait, then find nothing left to do.
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
            sqlx::migrate!("migrations/sqlite")
                .run(&pool)
                .await
                .context("migrating the database")?;
            drop(lock);
            // SQLite has one writer at a time: one thread with a connection of its own.
            sqlite_writer::SqliteWriter::open(&file)?.spawn(receiver, Arc::clone(&batch_sizes))?;
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
            // PostgreSQL takes several batches at once.
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..4 {
                tokio::spawn(
                    GroupCommit {
                        pool: pool.clone(),
                        receiver: Arc::clone(&receiver),
                        batch_sizes: Arc::clone(&batch_sizes),
                    }
                    .run(),
                );
            }
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
            reports: ReportCache::default(),
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

    /// Stores version 1 of each built-in template that is not stored yet. Replicas that
    /// start together may both try; the primary key keeps one.
    async fn register_builtin_templates(&self) -> anyhow::Result<()> {
        for definition in templates::templates() {
            definition.validate()?;
            on_pool!(&self.pool, |pool| {
                sqlx::query("INSERT INTO surveys (id, version, definition, created_at) SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM surveys WHERE id = $1) ON CONFLICT DO NOTHING")
                    .bind(definition.id.as_str())
                    .bind(i64::from(definition.version))
                    .bind(serde_json::to_string(&definition)?)
                    .bind(now().as_str())
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        Ok(())
    }

    /// Stores a definition. A survey not stored yet keeps the definition's own version. For a
    /// stored survey, content equal to the latest version's (whatever version number the
    /// definition carries) changes nothing; other content becomes the next version, so a
    /// stored version is never rewritten under the responses that answered it.
    pub async fn add_survey(&self, definition: &SurveyDefinition) -> anyhow::Result<AddOutcome> {
        definition.validate()?;
        let latest: Option<(i64, String)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT version, definition FROM surveys WHERE id = $1 ORDER BY version DESC LIMIT 1")
                .bind(definition.id.as_str())
                .fetch_optional(pool)
                .await?
        });
        let mut stored = definition.clone();
        if let Some((latest_version, latest_text)) = latest {
            let latest_version =
                u32::try_from(latest_version).context("stored survey version out of range")?;
            let mut same_content = definition.clone();
            same_content.version = latest_version;
            if serde_json::from_str::<SurveyDefinition>(&latest_text)
                .context("stored survey definition does not parse")?
                == same_content
            {
                return Ok(AddOutcome::Unchanged {
                    version: latest_version,
                });
            }
            stored.version = latest_version
                .checked_add(1)
                .context("survey version overflow")?;
        }
        // Two concurrent adds of the same survey race for one version; the primary key lets
        // one win and turns the other into an error rather than a rewritten version.
        let text = serde_json::to_string(&stored)?;
        on_pool!(&self.pool, |pool| {
            sqlx::query(
                "INSERT INTO surveys (id, version, definition, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(stored.id.as_str())
            .bind(i64::from(stored.version))
            .bind(&text)
            .bind(now().as_str())
            .execute(pool)
            .await
            .with_context(|| format!("storing survey {} version {}", stored.id, stored.version))?
            .rows_affected()
        });
        Ok(AddOutcome::Added {
            version: stored.version,
        })
    }

    /// A survey version, or its latest version when `version` is `None`. A stored version
    /// never changes, so versions are compiled once and cached; which version is the latest
    /// is always asked of the database (one indexed lookup), since another process may have
    /// added one.
    pub async fn survey(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> anyhow::Result<Option<Arc<CompiledSurvey>>> {
        let version = match version {
            Some(version) => version,
            None => {
                let latest: Option<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
                    "SELECT MAX(version) FROM surveys WHERE id = $1"
                )
                .bind(id)
                .fetch_one(pool)
                .await?);
                let Some(latest) = latest else {
                    return Ok(None);
                };
                u32::try_from(latest).context("stored survey version out of range")?
            }
        };
        if let Some(cached) = self
            .surveys
            .read()
            .map_err(|_| anyhow::anyhow!("survey cache poisoned"))?
            .get(&(id.to_owned(), version))
        {
            return Ok(Some(cached.clone()));
        }
        let text: Option<String> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar("SELECT definition FROM surveys WHERE id = $1 AND version = $2")
                .bind(id)
                .bind(i64::from(version))
                .fetch_optional(pool)
                .await?
        });
        let Some(text) = text else { return Ok(None) };
        let definition: SurveyDefinition =
            serde_json::from_str(&text).context("stored survey definition does not parse")?;
        let compiled = Arc::new(CompiledSurvey::new(definition));
        self.surveys
            .write()
            .map_err(|_| anyhow::anyhow!("survey cache poisoned"))?
            .insert(
                (compiled.id.to_string(), compiled.version),
                compiled.clone(),
            );
        Ok(Some(compiled))
    }

    /// Every survey with its latest version and response count.
    pub async fn list_surveys(&self) -> anyhow::Result<Vec<SurveySummary>> {
        let rows: Vec<(String, i64, String, i64)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT s.id, s.version, s.definition, (SELECT COUNT(*) FROM responses r WHERE r.survey_id = s.id) AS n \
                 FROM surveys s WHERE s.version = (SELECT MAX(version) FROM surveys t WHERE t.id = s.id) ORDER BY s.id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, version, definition, n)| {
                let definition: SurveyDefinition = serde_json::from_str(&definition)?;
                Ok(SurveySummary {
                    id,
                    version: u32::try_from(version)?,
                    title: definition.title.english().to_owned(),
                    responses: u64::try_from(n)?,
                })
            })
            .collect()
    }

    /// Stores a response and its sealed identity, or recognises it. Returns once the
    /// transaction that holds it has committed (see [`sqlite_writer`] and [`GroupCommit`]).
    pub async fn insert_response(&self, response: NewResponse) -> anyhow::Result<InsertOutcome> {
        let (done, outcome) = oneshot::channel();
        self.writer
            .send(PendingInsert { response, done })
            .await
            .map_err(|_| anyhow::anyhow!("the database writer has stopped"))?;
        outcome
            .await
            .map_err(|_| anyhow::anyhow!("the database writer stopped before answering"))?
    }

    /// How many responses a survey has (all versions).
    pub async fn count_responses(&self, survey_id: &str) -> anyhow::Result<u64> {
        let count: i64 = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM responses WHERE survey_id = $1"
        )
        .bind(survey_id)
        .fetch_one(pool)
        .await?);
        Ok(u64::try_from(count)?)
    }

    /// What a report of one survey version is computed from: every response, in the order
    /// committed, as columns. Each row's report entry is decoded as it arrives; a row
    /// without one (stored before entries existed, and not yet filled in) or with one that
    /// does not decode is read from its answers instead, so the report is the same.
    ///
    /// The columns are kept in memory per version (see [`ReportCache`]). Each call reads
    /// the version's revision counter, one row, and then only the rows committed since the
    /// last call; if rows already read were changed or removed since, the version is read
    /// again, whole. Nothing about correctness depends on the cache: a replica that has
    /// never read a version reads it all, and every replica gets the same columns.
    pub async fn report_input(
        &self,
        survey: &CompiledSurvey,
    ) -> anyhow::Result<Arc<ReportColumns>> {
        let slot = self.reports.slot(survey.id.as_str(), survey.version)?;
        let mut cached = slot.lock().await;
        let (revision, rewrites): (i64, i64) = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT revision, rewrites FROM report_revisions WHERE survey_id = $1 AND survey_version = $2")
                .bind(survey.id.as_str())
                .bind(i64::from(survey.version))
                .fetch_optional(pool)
                .await?
                .unwrap_or((0, 0))
        });
        let read_since = match cached.as_ref() {
            Some(held) if held.rewrites == rewrites && held.revision == revision => None,
            Some(held) if held.rewrites == rewrites && held.revision < revision => {
                Some(held.revision)
            }
            _ => {
                *cached = None;
                Some(-1)
            }
        };
        if let Some(since) = read_since {
            let held = cached.get_or_insert_with(|| CachedInput {
                revision: -1,
                rewrites,
                columns: Arc::new(ReportColumns::new(survey)),
            });
            // Columns shared with a report still being computed are copied, not changed
            // under it.
            let read = self
                .read_report_rows(survey, since, revision, Arc::make_mut(&mut held.columns))
                .await;
            if let Err(error) = read {
                // Half-appended columns are never kept.
                *cached = None;
                return Err(error);
            }
            held.revision = revision;
        }
        cached
            .as_ref()
            .map(|held| Arc::clone(&held.columns))
            .context("report cache emptied while held")
    }

    /// Reads into memory the report columns of the latest version of the surveys with the
    /// most responses, as many as are kept, and returns how many responses they hold.
    pub async fn read_report_columns(&self) -> anyhow::Result<u64> {
        let mut surveys = self.list_surveys().await?;
        surveys.sort_by_key(|summary| std::cmp::Reverse(summary.responses));
        let mut read = 0;
        for summary in surveys
            .iter()
            .filter(|summary| summary.responses > 0)
            .take(ReportCache::VERSIONS)
        {
            if let Some(survey) = self.survey(&summary.id, Some(summary.version)).await? {
                read += self.report_input(&survey).await?.len() as u64;
            }
        }
        Ok(read)
    }

    /// Appends to `input` the rows of one survey version with a revision in
    /// `(after, up_to]`, in committed order. Selects only what the
    /// `responses_for_report_revisions` index holds, so the database reads that index and
    /// never the table's much wider rows.
    async fn read_report_rows(
        &self,
        survey: &CompiledSurvey,
        after: i64,
        up_to: i64,
        columns: &mut ReportColumns,
    ) -> anyhow::Result<()> {
        // New rows can complete batches: the release is decided again when next asked for.
        columns.release = std::sync::OnceLock::new();
        on_pool!(&self.pool, |pool| {
            let mut rows = sqlx::query(
                "SELECT report_entry, response_id, account, matter, wave, returning_respondent, respondent_key, arrival FROM responses \
                 WHERE survey_id = $1 AND survey_version = $2 AND revision > $3 AND revision <= $4 ORDER BY revision, received_at, response_id",
            )
            .bind(survey.id.as_str())
            .bind(i64::from(survey.version))
            .bind(after)
            .bind(up_to)
            .fetch(pool);
            while let Some(row) = rows.try_next().await? {
                let context = EntryContext {
                    account: row.try_get(2)?,
                    matter: row.try_get(3)?,
                    wave: row.try_get(4)?,
                    returning: row.try_get(5)?,
                    respondent_key: row.try_get(6)?,
                    arrival: parse_arrival(row.try_get(7)?)?,
                };
                let entry: Option<&[u8]> = row.try_get(0)?;
                let response_id: &str = row.try_get(1)?;
                if entry.is_none_or(|entry| columns.input.push_entry(entry, context).is_err()) {
                    let (answers, confidentiality): (String, String) = sqlx::query_as(
                        "SELECT answers, confidentiality FROM responses WHERE response_id = $1",
                    )
                    .bind(response_id)
                    .fetch_one(pool)
                    .await?;
                    columns.input.push_entry(
                        &entry_of_stored(survey, &answers, &confidentiality)?,
                        context,
                    )?;
                }
                columns.push_id(response_id);
            }
        });
        Ok(())
    }

    /// Fills in the report entry of responses stored before entries existed, a chunk per
    /// transaction, and returns how many it filled. Safe to run on several replicas at once:
    /// an entry is a function of the row, so whoever writes it writes the same bytes.
    pub async fn fill_report_entries(&self, progress: impl Fn(u64)) -> anyhow::Result<u64> {
        const CHUNK: i64 = 1000;
        let mut filled = 0u64;
        loop {
            type Missing = (String, String, i64, String, String);
            let rows: Vec<Missing> = on_pool!(&self.pool, |pool| {
                sqlx::query_as("SELECT response_id, survey_id, survey_version, answers, confidentiality FROM responses WHERE report_entry IS NULL LIMIT $1")
                    .bind(CHUNK)
                    .fetch_all(pool)
                    .await?
            });
            if rows.is_empty() {
                return Ok(filled);
            }
            let mut entries = Vec::with_capacity(rows.len());
            for (response_id, survey_id, version, answers, confidentiality) in rows {
                let version =
                    u32::try_from(version).context("stored survey version out of range")?;
                let survey = self
                    .survey(&survey_id, Some(version))
                    .await?
                    .with_context(|| {
                        format!(
                            "response {response_id} answers a survey version that is not stored"
                        )
                    })?;
                entries.push((
                    entry_of_stored(&survey, &answers, &confidentiality)?,
                    response_id,
                ));
            }
            on_pool!(&self.pool, |pool| {
                let mut transaction = pool.begin().await?;
                for (entry, response_id) in &entries {
                    sqlx::query("UPDATE responses SET report_entry = $1 WHERE response_id = $2 AND report_entry IS NULL")
                        .bind(entry)
                        .bind(response_id)
                        .execute(&mut *transaction)
                        .await?;
                }
                transaction.commit().await?;
            });
            filled += entries.len() as u64;
            progress(filled);
        }
    }

    /// Every response of one survey version as typed records, in the order received: what
    /// is stored, read back whole (reports use [`Store::report_input`], which is faster).
    pub async fn response_records(
        &self,
        survey_id: &str,
        version: u32,
    ) -> anyhow::Result<Vec<ResponseRecord>> {
        type RecordRow = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<bool>,
            Option<String>,
            String,
        );
        let rows: Vec<RecordRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT answers, confidentiality, account, matter, wave, returning_respondent, respondent_key, arrival FROM responses \
                 WHERE survey_id = $1 AND survey_version = $2 ORDER BY revision, received_at, response_id",
            )
            .bind(survey_id)
            .bind(i64::from(version))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(
                    answers,
                    confidentiality,
                    account,
                    matter,
                    wave,
                    returning,
                    respondent_key,
                    arrival,
                )| {
                    Ok(ResponseRecord {
                        answers: serde_json::from_str(&answers)?,
                        confidentiality: parse_confidentiality(&confidentiality)?,
                        context: Context {
                            account,
                            matter,
                            wave,
                            returning,
                        },
                        respondent_key,
                        arrival: parse_arrival(&arrival)?,
                    })
                },
            )
            .collect()
    }

    /// The sealed identity stored for a response, if any.
    pub async fn sealed_identity(&self, response_id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT sealed FROM respondent_identities WHERE response_id = $1"
        )
        .bind(response_id)
        .fetch_optional(pool)
        .await?))
    }

    /// When a response was received, if it is stored.
    pub async fn received_at(&self, response_id: &str) -> anyhow::Result<Option<String>> {
        Ok(on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT received_at FROM responses WHERE response_id = $1"
        )
        .bind(response_id)
        .fetch_optional(pool)
        .await?))
    }

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
        let row: Option<(String, String)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT role, accounts FROM api_tokens WHERE token_sha256 = $1")
                .bind(token_sha256)
                .fetch_optional(pool)
                .await?
        });
        row.map(|(role, accounts)| {
            let role = Role::parse(&role).context("stored token has an unknown role")?;
            Ok(Caller {
                role,
                accounts: serde_json::from_str(&accounts)?,
            })
        })
        .transpose()
    }

    /// Every stored response of a survey version with what an export needs, oldest first.
    pub async fn export_rows(
        &self,
        survey_id: &str,
        version: u32,
    ) -> anyhow::Result<Vec<ExportRow>> {
        let rows: Vec<Exported> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT r.response_id, r.submitted_at, r.confidentiality, r.account, r.matter, r.wave, r.answers, r.score, i.sealed \
                 FROM responses r LEFT JOIN respondent_identities i ON i.response_id = r.response_id \
                 WHERE r.survey_id = $1 AND r.survey_version = $2 ORDER BY r.revision, r.received_at, r.response_id",
            )
            .bind(survey_id)
            .bind(i64::from(version))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(export_row).collect()
    }

    /// The export rows of the given responses of a survey, in no particular order; ids not
    /// stored (or of another survey) are left out.
    pub async fn export_rows_by_id(
        &self,
        survey_id: &str,
        response_ids: &[&str],
    ) -> anyhow::Result<Vec<ExportRow>> {
        let mut exported = Vec::with_capacity(response_ids.len());
        for ids in response_ids.chunks(500) {
            let rows: Vec<Exported> = on_pool!(&self.pool, |pool| {
                let mut builder = sqlx::QueryBuilder::new(
                    "SELECT r.response_id, r.submitted_at, r.confidentiality, r.account, r.matter, r.wave, r.answers, r.score, i.sealed \
                     FROM responses r LEFT JOIN respondent_identities i ON i.response_id = r.response_id WHERE r.survey_id = ",
                );
                builder.push_bind(survey_id).push(" AND r.response_id IN (");
                let mut separated = builder.separated(", ");
                for id in ids {
                    separated.push_bind(*id);
                }
                builder.push(")");
                // Not kept prepared: the last chunk's length, and so the text, varies.
                builder
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(pool)
                    .await?
            });
            for row in rows {
                exported.push(export_row(row)?);
            }
        }
        Ok(exported)
    }

    /// Records an invitation so that its link is honoured and completion can be counted.
    pub async fn add_invitation(
        &self,
        invitation: &Invitation,
        contact_key: &str,
        sealed_contact: &[u8],
    ) -> anyhow::Result<()> {
        on_pool!(&self.pool, |pool| {
            sqlx::query(
                "INSERT INTO invitations (invitation_id, survey_id, contact_key, sealed_contact, account, matter, wave, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&invitation.id)
            .bind(&invitation.survey)
            .bind(contact_key)
            .bind(sealed_contact)
            .bind(&invitation.account)
            .bind(&invitation.matter)
            .bind(&invitation.wave)
            .bind(invitation.expires)
            .bind(now().as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    /// Whether an invitation is recorded, and the response currently answering it.
    pub async fn invitation_state(
        &self,
        invitation_id: &str,
    ) -> anyhow::Result<Option<Option<String>>> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(sql::INVITATION_ANSWER)
                .bind(invitation_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Every follow-up status recorded for a survey.
    pub async fn follow_ups(&self, survey_id: &str) -> anyhow::Result<Vec<FollowUpRow>> {
        type Stored = (String, String, String, String, Option<String>, String);
        let rows: Vec<Stored> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT kind, subject, wave, status, note, updated_at FROM follow_ups WHERE survey_id = $1").bind(survey_id).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(kind, subject, wave, status, note, updated_at)| {
                let subject = match kind.as_str() {
                    "response" => FollowUpSubject::Response(subject),
                    "account" => FollowUpSubject::Account {
                        account: subject,
                        wave,
                    },
                    other => anyhow::bail!("stored follow-up has an unknown kind {other:?}"),
                };
                let status = FollowUpStatus::parse(&status).with_context(|| {
                    format!("stored follow-up has an unknown status {status:?}")
                })?;
                Ok(FollowUpRow {
                    subject,
                    status,
                    note,
                    updated_at,
                })
            })
            .collect()
    }

    /// Records the follow-up status of one item, replacing what was recorded before.
    pub async fn set_follow_up(
        &self,
        survey_id: &str,
        subject: &FollowUpSubject,
        status: FollowUpStatus,
        note: Option<&str>,
    ) -> anyhow::Result<String> {
        let (kind, key, wave) = match subject {
            FollowUpSubject::Response(response_id) => ("response", response_id.as_str(), ""),
            FollowUpSubject::Account { account, wave } => {
                ("account", account.as_str(), wave.as_str())
            }
        };
        let updated_at = now().to_string();
        on_pool!(&self.pool, |pool| {
            sqlx::query(
                "INSERT INTO follow_ups (survey_id, kind, subject, wave, status, note, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (survey_id, kind, subject, wave) DO UPDATE SET status = excluded.status, note = excluded.note, updated_at = excluded.updated_at",
            )
            .bind(survey_id)
            .bind(kind)
            .bind(key)
            .bind(wave)
            .bind(status.as_str())
            .bind(note)
            .bind(&updated_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated_at)
    }

    /// One stored response of a survey (any version), as an export reads it.
    pub async fn export_row(
        &self,
        survey_id: &str,
        response_id: &str,
    ) -> anyhow::Result<Option<ExportRow>> {
        let row: Option<Exported> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT r.response_id, r.submitted_at, r.confidentiality, r.account, r.matter, r.wave, r.answers, r.score, i.sealed \
                 FROM responses r LEFT JOIN respondent_identities i ON i.response_id = r.response_id \
                 WHERE r.survey_id = $1 AND r.response_id = $2",
            )
            .bind(survey_id)
            .bind(response_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(export_row).transpose()
    }

    /// Every recorded invitation of a survey with the choice made in its answer, if any, and
    /// that answer's response id and survey version.
    pub async fn invitation_records(
        &self,
        survey_id: &str,
    ) -> anyhow::Result<Vec<StoredInvitation>> {
        type InvitationRow = (
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let rows: Vec<InvitationRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT i.account, i.wave, i.contact_key, r.confidentiality, r.response_id, r.survey_version FROM invitations i \
                 LEFT JOIN responses r ON r.response_id = i.response_id WHERE i.survey_id = $1 ORDER BY i.created_at, i.invitation_id",
            )
            .bind(survey_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(account, wave, contact_key, answered, response_id, version)| {
                    Ok(StoredInvitation {
                        record: InvitationRecord {
                            account,
                            wave,
                            contact_key,
                            answered: answered.as_deref().map(parse_confidentiality).transpose()?,
                        },
                        answer: match (response_id, version) {
                            (Some(response_id), Some(version)) => {
                                Some((response_id, u32::try_from(version)?))
                            }
                            _ => None,
                        },
                    })
                },
            )
            .collect()
    }

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
            let versions: Vec<(String, i64)> =
                sqlx::query_as("SELECT DISTINCT survey_id, survey_version FROM responses WHERE respondent_key = $1 ORDER BY survey_id, survey_version")
                    .bind(respondent_key)
                    .fetch_all(&mut *transaction)
                    .await?;
            for (survey_id, version) in &versions {
                count_rewrite!(transaction, survey_id, *version);
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
        // checkpoint; copy the log into the database and truncate it now.
        if let Pool::Sqlite(pool) = &self.pool {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
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

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        on_pool!(&self.pool, |pool| pool.close().await);
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

/// PostgreSQL's writer behind [`Store::insert_response`]: takes whatever responses are waiting (up
/// to [`MAX_BATCH`]) and writes them in one transaction, so that concurrent requests share
/// one commit, and so one flush to disk, instead of queueing for one each. A response is
/// answered only after the commit that holds it; while one batch commits, the next one
/// gathers, so batches grow with the load and a lone request waits for nobody.
struct GroupCommit {
    pool: PgPool,
    receiver: Arc<Mutex<mpsc::Receiver<PendingInsert>>>,
    batch_sizes: Arc<std::sync::Mutex<Histogram>>,
}

impl GroupCommit {
    async fn run(self) {
        loop {
            let mut batch = Vec::new();
            {
                let mut receiver = self.receiver.lock().await;
                if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                    return;
                }
            }
            start_batch(&mut batch, &self.batch_sizes);
            let responses: Vec<&NewResponse> =
                batch.iter().map(|pending| &pending.response).collect();
            let written = self.write(&responses).await;
            drop(responses);
            for pending in settle_batch(batch, written) {
                let outcome = self
                    .write(&[&pending.response])
                    .await
                    .map(|mut outcomes| outcomes.remove(0));
                let _ = pending.done.send(outcome);
            }
        }
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
    async fn write(&self, responses: &[&NewResponse]) -> anyhow::Result<Vec<InsertOutcome>> {
        let mut seen = std::collections::HashSet::new();
        let bulk: Vec<&NewResponse> = responses
            .iter()
            .copied()
            .filter(|response| {
                response.invitation_id.is_none() && seen.insert(response.response_id.as_str())
            })
            .collect();
        let received_at = now();
        {
            let mut connection = self.pool.acquire().await?;
            let written: anyhow::Result<Vec<InsertOutcome>> = async {
                let mut transaction = sqlx::Connection::begin(&mut *connection).await?;
                // Every counter this batch needs, first and in one order, so that two
                // writers never wait for each other's.
                let mut versions: Vec<(&str, u32)> = responses
                    .iter()
                    .map(|response| (response.survey_id.as_str(), response.survey_version))
                    .collect();
                versions.sort_unstable();
                versions.dedup();
                let mut revisions = HashMap::with_capacity(versions.len());
                for (survey_id, version) in versions {
                    revisions.insert(
                        (survey_id, version),
                        next_revision(&mut transaction, survey_id, version).await?,
                    );
                }
                // Every response's version is in the map: it was built from them.
                let revision_of = |response: &NewResponse| {
                    revisions[&(response.survey_id.as_str(), response.survey_version)]
                };
                let mut inserted = std::collections::HashSet::new();
                // Written in chunks whose sizes are powers of two: the statement text depends on
                // the number of rows, and sqlx keeps every statement it prepares on each pooled
                // connection (up to 100), so a text per batch size would hold hundreds of large
                // prepared statements and the server's memory would creep up under steady load.
                // This way a connection prepares at most 2 × 9 insert statements, ever.
                for chunk in power_of_two_chunks(&bulk) {
                    // MAX_BATCH rows of 18 parameters stay far below PostgreSQL's limit.
                    let mut builder = sqlx::QueryBuilder::new(sql::INSERT_RESPONSE_COLUMNS);
                    builder.push_values(chunk, |mut values, response| {
                        values
                            .push_bind(&response.response_id)
                            .push_bind(&response.survey_id)
                            .push_bind(i64::from(response.survey_version))
                            .push_bind(&response.body_sha256)
                            .push_bind(&response.scored.answers)
                            .push_bind(response.confidentiality.as_str())
                            .push_bind(&response.context.account)
                            .push_bind(&response.context.matter)
                            .push_bind(&response.context.wave)
                            .push_bind(response.context.returning)
                            .push_bind(&response.respondent_key)
                            .push_bind(&response.scored.score)
                            .push_bind(response.scored.nps)
                            .push_bind(response.scored.crq)
                            .push_bind(response.submitted_at.as_str())
                            .push_bind(received_at.as_str())
                            .push_bind(&response.report_entry)
                            .push_bind(revision_of(response))
                            .push_bind(response.arrival.as_str());
                    });
                    builder.push(" ON CONFLICT (response_id) DO NOTHING RETURNING response_id");
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
                    let mut builder = sqlx::QueryBuilder::new(
                        "INSERT INTO respondent_identities (response_id, sealed) ",
                    );
                    builder.push_values(chunk, |mut values, (response_id, sealed)| {
                        values.push_bind(*response_id).push_bind(*sealed);
                    });
                    builder.build().execute(&mut *transaction).await?;
                }
                let mut outcomes = Vec::with_capacity(responses.len());
                for response in responses {
                    // Each id is inserted once; a second copy of it in the batch is answered by
                    // the row-by-row path, as a duplicate or a conflict of the first.
                    if inserted.remove(&response.response_id) {
                        outcomes.push(InsertOutcome::Stored);
                    } else {
                        outcomes.push(
                            insert_in(&mut transaction, response, revision_of(response)).await?,
                        );
                    }
                }
                transaction.commit().await?;
                Ok(outcomes)
            }
            .await;
            if written.is_err() {
                let _ = connection.close().await;
            }
            written
        }
    }
}

/// What every writer does with a batch it has taken, before writing it: sorts it by response
/// id, the same order in every batch, so that two writers taking row locks (PostgreSQL)
/// cannot wait for each other in a cycle; and counts its size.
fn start_batch(batch: &mut [PendingInsert], batch_sizes: &std::sync::Mutex<Histogram>) {
    batch.sort_by(|a, b| a.response.response_id.cmp(&b.response.response_id));
    tracing::debug!(size = batch.len(), "group commit");
    if let Ok(mut sizes) = batch_sizes.lock() {
        sizes.observe(&BATCH_BUCKETS, batch.len() as f64);
    }
}

/// Answers every response of a batch with what writing it in one transaction did. A batch
/// of more than one that failed is handed back, for its responses to be written one
/// transaction each, so one bad row never takes the others down with it; a batch of one
/// gets its own error, with its cause intact for the caller to classify (a full disk is a
/// 503, not a 500).
fn settle_batch(
    mut batch: Vec<PendingInsert>,
    written: anyhow::Result<Vec<InsertOutcome>>,
) -> Vec<PendingInsert> {
    match written {
        Ok(outcomes) => {
            for (pending, outcome) in batch.into_iter().zip(outcomes) {
                let _ = pending.done.send(Ok(outcome));
            }
            Vec::new()
        }
        Err(error) if batch.len() > 1 => {
            tracing::warn!(
                size = batch.len(),
                "group commit failed ({error:#}); writing its responses one by one"
            );
            batch
        }
        Err(error) => {
            if let Some(pending) = batch.pop() {
                let _ = pending.done.send(Err(error));
            }
            Vec::new()
        }
    }
}

impl NewResponse {
    /// What this response is, given the body digest and score stored under its id: a
    /// resend of the stored response (the same body, under the current identity key or an
    /// earlier one), or a conflicting reuse of the id.
    fn against_stored(
        &self,
        stored_digest: &str,
        stored_score: &str,
    ) -> anyhow::Result<InsertOutcome> {
        Ok(
            if stored_digest == self.body_sha256
                || self
                    .earlier_body_digests
                    .iter()
                    .any(|earlier| earlier == stored_digest)
            {
                InsertOutcome::Duplicate(serde_json::from_str(stored_score)?)
            } else {
                InsertOutcome::Conflict
            },
        )
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
    use super::{CompiledSurvey, ReportColumns, power_of_two_chunks};

    #[test]
    fn report_columns_give_back_every_response_id_as_stored() {
        let survey = CompiledSurvey::new(
            rapport_scoring::template("client-portal").expect("built-in template"),
        );
        let mut columns = ReportColumns::new(&survey);
        let ids = [
            "00000000-0000-4000-8000-000000000001",
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
            "0A1B2C3D-0000-4000-8000-000000000000",
            "0a1b2c3d000040008000000000000000",
            "0a1b2c3d-0000-4000-8000-00000000000",
            "0a1b2c3d-0000-4000-8000-0000000000000",
            "+a1b2c3d-0000-4000-8000-000000000000",
            "not a uuid",
            "",
        ];
        for id in ids {
            columns.push_id(id);
        }
        let back: Vec<String> = (0..ids.len()).map(|row| columns.response_id(row)).collect();
        assert_eq!(back, ids);
        assert_eq!(
            columns.other_ids.len(),
            7,
            "only canonical UUIDs are packed"
        );
    }

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
