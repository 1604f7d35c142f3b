//! Reports' reading of stored responses: each survey version's report entries as columns
//! ([`ReportColumns`]), kept in memory per version ([`ReportCache`]) and brought up to date
//! by revision, and the background fill of entries for rows stored before they existed.
//!
//! The cache is never needed for correctness: every read first asks the database for the
//! version's revision counters, and columns whose rows were changed or removed since are
//! read again, whole.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use futures_util::TryStreamExt as _;
use rapport_scoring::disclosure::Release;
use rapport_scoring::entry::EntryLayout;
use rapport_scoring::report::ReceivedDay;
use rapport_scoring::{EntryContext, ReportInput};
use sqlx::Row as _;
use tokio::sync::Mutex;

use super::bulk_read;
use super::report_snapshots::{SNAPSHOT_INTERVAL, SNAPSHOT_MIN_ROWS};
use super::surveys::CompiledSurvey;
use super::{Store, parse_arrival, parse_confidentiality};

/// How many revisions since the columns were last read make a read in bulk worth its start
/// (a connection of its own, or a `COPY`): a revision is one transaction of the writers,
/// holding one response or a group commit's batch of them.
const BULK_FROM_REVISIONS: i64 = 256;

/// A survey version's responses as reports and the close-the-loop list read them: the
/// report columns ([`ReportColumns::input`]) and each row's response id.
#[derive(Debug, Clone)]
pub struct ReportColumns {
    pub(super) input: ReportInput,
    /// Response ids as 128-bit numbers: every id ingest accepts is a canonical UUID.
    pub(super) ids: Vec<u128>,
    /// The ids of rows that hold anything else, by row.
    pub(super) other_ids: HashMap<usize, String>,
    /// What roles other than admin may see of these rows, decided once per set of rows.
    release: OnceLock<Arc<Release>>,
    /// The row of each id in `ids`, built when first asked for, once per set of rows.
    rows_by_id: OnceLock<HashMap<u128, usize>>,
    /// Changes whenever the rows change; see [`ReportColumns::generation`].
    generation: u64,
}

/// A number no other set of report columns in this process has had.
fn next_generation() -> u64 {
    static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl ReportColumns {
    fn new(survey: &CompiledSurvey) -> Self {
        Self::from_parts(
            ReportInput::new(survey.definition()),
            Vec::new(),
            HashMap::new(),
        )
    }

    /// Columns of `input`, with each row's response id.
    pub(super) fn from_parts(
        input: ReportInput,
        ids: Vec<u128>,
        other_ids: HashMap<usize, String>,
    ) -> Self {
        ReportColumns {
            input,
            ids,
            other_ids,
            release: OnceLock::new(),
            rows_by_id: OnceLock::new(),
            generation: next_generation(),
        }
    }

    /// A number that names these rows as they are: it changes whenever rows are read into
    /// the columns or they are read again, and no other columns in this process share it.
    /// What is computed from the rows can be kept under it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The report columns, what every report of the version is computed from.
    pub fn input(&self) -> &ReportInput {
        &self.input
    }

    /// How many responses the columns hold.
    pub fn len(&self) -> usize {
        self.input.len()
    }

    /// Whether the columns hold no response.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
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

    /// The row of the response `response_id`, if these columns hold it.
    pub fn row_of(&self, response_id: &str) -> Option<usize> {
        match packed_uuid(response_id) {
            Some(packed) => self
                .rows_by_id
                .get_or_init(|| {
                    self.ids
                        .iter()
                        .enumerate()
                        .filter(|(row, _)| !self.other_ids.contains_key(row))
                        .map(|(row, id)| (*id, row))
                        .collect()
                })
                .get(&packed)
                .copied(),
            None => self
                .other_ids
                .iter()
                .find(|(_, id)| id.as_str() == response_id)
                .map(|(row, _)| *row),
        }
    }

    /// Appends a row from its stored report entry, and returns whether it did: not when the
    /// row has none or it does not decode, for then the report reads the row's answers
    /// instead ([`ReportColumns::push_computed`]).
    pub(super) fn push_stored(
        &mut self,
        entry: Option<&[u8]>,
        context: EntryContext<'_>,
        response_id: &str,
    ) -> bool {
        let pushed = entry.is_some_and(|entry| self.input.push_entry(entry, context).is_ok());
        if pushed {
            self.push_id(response_id);
        }
        pushed
    }

    /// Appends a row from the report entry computed from its stored answers
    /// ([`entry_from_answers`]).
    pub(super) fn push_computed(
        &mut self,
        entry: &[u8],
        context: EntryContext<'_>,
        response_id: &str,
    ) -> anyhow::Result<()> {
        self.input.push_entry(entry, context)?;
        self.push_id(response_id);
        Ok(())
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
/// number its digits spell; `None` for any other text. Every row a report reads passes
/// through here, so the digits are gathered into one array and read in two halves of
/// sixteen, in loops of fixed length that the compiler unrolls.
fn packed_uuid(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|at| bytes[*at] != b'-') {
        return None;
    }
    let mut digits = [0u8; 32];
    digits[..8].copy_from_slice(&bytes[..8]);
    digits[8..12].copy_from_slice(&bytes[9..13]);
    digits[12..16].copy_from_slice(&bytes[14..18]);
    digits[16..20].copy_from_slice(&bytes[19..23]);
    digits[20..].copy_from_slice(&bytes[24..]);
    let half = |digits: &[u8; 16]| -> Option<u64> {
        let mut packed = 0u64;
        let mut valid = true;
        for byte in digits {
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                _ => {
                    valid = false;
                    0
                }
            };
            packed = packed << 4 | u64::from(digit);
        }
        valid.then_some(packed)
    };
    let (high, low) = digits.split_at(16);
    let high = half(high.try_into().ok()?)?;
    let low = half(low.try_into().ok()?)?;
    Some(u128::from(high) << 64 | u128::from(low))
}

/// The report columns of the survey versions last reported on, each with the revision
/// counters it was read at (see [`Store::report_input`]). A cache only: every entry can be
/// rebuilt from the database, and a replica without it gives the same reports.
#[derive(Debug, Clone, Default)]
pub(super) struct ReportCache {
    slots: Arc<std::sync::Mutex<HashMap<(String, u32), ReportSlot>>>,
    /// When this server last stored each version's snapshot on its own.
    snapshots_stored: Arc<std::sync::Mutex<HashMap<(String, u32), std::time::Instant>>>,
}

/// One version's columns, behind a lock that one reader at a time holds while it brings
/// them up to date, so that concurrent reports read the new rows once.
type ReportSlot = Arc<Mutex<Option<CachedInput>>>;

/// A version's columns as held, with the counters they were read at.
#[derive(Debug)]
pub(super) struct CachedInput {
    pub(super) revision: i64,
    pub(super) rewrites: i64,
    pub(super) columns: Arc<ReportColumns>,
    /// How many of the rows the last snapshot stored or read holds
    /// ([`super::report_snapshots`]).
    pub(super) snapshot_rows: usize,
    /// How many of the rows were read from a stored snapshot, not row by row.
    pub(super) from_snapshot: usize,
}

impl ReportCache {
    /// How many versions' columns are kept. A million responses take about 40 MB.
    const VERSIONS: usize = 8;

    /// Whether a report may store a snapshot of a version on its own now: not within
    /// [`SNAPSHOT_INTERVAL`] of the last it stored, since every change to rows already read
    /// (an invitation answered again) drops the version's snapshot and would otherwise
    /// have the next report write the whole version again. Records the time when it may.
    fn may_store_snapshot(&self, survey_id: &str, version: u32) -> bool {
        let Ok(mut stored) = self.snapshots_stored.lock() else {
            return false;
        };
        let now = std::time::Instant::now();
        match stored.get(&(survey_id.to_owned(), version)) {
            Some(last) if now.duration_since(*last) < SNAPSHOT_INTERVAL => false,
            _ => {
                stored.insert((survey_id.to_owned(), version), now);
                true
            }
        }
    }

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

/// What [`Store::read_report_columns`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponsesRead {
    /// Responses now in memory.
    pub responses: u64,
    /// Of those, responses read from stored snapshots rather than row by row.
    pub from_snapshots: u64,
}

/// A version's columns, up to date, and how many of their rows a stored snapshot gave.
struct ColumnsRead {
    columns: Arc<ReportColumns>,
    from_snapshot: usize,
}

/// A version's revision counters (`report_revisions`); both 0 for a version never written.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub(super) struct RevisionCounters {
    pub(super) revision: i64,
    pub(super) rewrites: i64,
}

/// A row's stored answers and confidentiality, what its report entry is computed from.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredAnswers {
    answers: String,
    confidentiality: String,
}

impl StoredAnswers {
    /// The report entry of the row: for rows stored before entries existed, or whose entry
    /// no longer decodes.
    fn entry(&self, layout: &EntryLayout) -> anyhow::Result<Vec<u8>> {
        entry_from_answers(layout, &self.answers, &self.confidentiality)
    }
}

/// The report entry of a row computed from its stored answers and confidentiality (as
/// [`STORED_ANSWERS`] selects them): for rows stored before entries existed, or whose entry
/// no longer decodes.
pub(super) fn entry_from_answers(
    layout: &EntryLayout,
    answers: &str,
    confidentiality: &str,
) -> anyhow::Result<Vec<u8>> {
    Ok(layout.encode(
        &serde_json::from_str(answers)?,
        parse_confidentiality(confidentiality)?,
    ))
}

/// The columns every read of report rows selects, in this order: what the
/// `responses_for_release` index holds, so that the database reads that index and never the
/// table's much wider rows. [`report_rows`] selects them; the bulk readers
/// ([`super::bulk_read`]) read them by position.
pub(super) const REPORT_ROW_COLUMNS: [&str; 9] = [
    "report_entry",
    "response_id",
    "account",
    "matter",
    "wave",
    "returning_respondent",
    "respondent_key",
    "arrival",
    "received_at",
];

/// The rows of one survey version with a revision in `(after, up_to]`, in committed order:
/// the statement every reader of report rows runs, with its four values written as given
/// (parameters `$1` to `$4`, or literals where a statement takes no parameters).
pub(super) fn report_rows(survey_id: &str, version: &str, after: &str, up_to: &str) -> String {
    format!(
        "SELECT {} FROM responses WHERE survey_id = {survey_id} AND survey_version = {version} \
         AND revision > {after} AND revision <= {up_to} ORDER BY revision, received_at, response_id",
        REPORT_ROW_COLUMNS.join(", ")
    )
}

/// A row's answers and confidentiality, by response id (`$1`): what a row without a usable
/// report entry is read from.
pub(super) const STORED_ANSWERS: &str =
    "SELECT answers, confidentiality FROM responses WHERE response_id = $1";

/// A response without a report entry, as the background fill reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct MissingEntry {
    response_id: String,
    survey_id: String,
    survey_version: i64,
    #[sqlx(flatten)]
    stored: StoredAnswers,
}

impl Store {
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
        Ok(self.bring_up_to_date(survey).await?.columns)
    }

    /// [`Store::report_input`], and how the columns were brought up to date.
    async fn bring_up_to_date(&self, survey: &CompiledSurvey) -> anyhow::Result<ColumnsRead> {
        let definition = survey.definition();
        let slot = self
            .reports
            .slot(definition.id.as_str(), definition.version)?;
        let mut cached = slot.lock().await;
        let counters: RevisionCounters = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT revision, rewrites FROM report_revisions WHERE survey_id = $1 AND survey_version = $2")
                .bind(definition.id.as_str())
                .bind(i64::from(definition.version))
                .fetch_optional(pool)
                .await?
                .unwrap_or_default()
        });
        let RevisionCounters { revision, rewrites } = counters;
        let held_usable = cached
            .as_ref()
            .is_some_and(|held| held.rewrites == rewrites && held.revision <= revision);
        if !held_usable {
            // Columns never read, or whose rows were changed since: the stored snapshot, if
            // one of these rows is kept, and the rows committed after it.
            *cached = self.stored_snapshot(survey, counters).await?;
        }
        let read_since = match cached.as_ref() {
            Some(held) if held.revision == revision => None,
            Some(held) => Some(held.revision),
            None => Some(-1),
        };
        if let Some(since) = read_since {
            let held = cached.get_or_insert_with(|| CachedInput {
                revision: -1,
                rewrites,
                columns: Arc::new(ReportColumns::new(survey)),
                snapshot_rows: 0,
                from_snapshot: 0,
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
        let held = cached.as_mut().context("report cache emptied while held")?;
        let rows = held.columns.len();
        if rows >= SNAPSHOT_MIN_ROWS
            && rows - held.snapshot_rows >= (held.snapshot_rows / 8).max(SNAPSHOT_MIN_ROWS)
            && self
                .reports
                .may_store_snapshot(definition.id.as_str(), definition.version)
        {
            // Enough rows since the last snapshot that the next start would read them
            // for longer than it reads a snapshot: store one, without the report waiting.
            held.snapshot_rows = rows;
            let store = self.clone();
            let (survey_id, version) = (definition.id.as_str().to_owned(), definition.version);
            let columns = Arc::clone(&held.columns);
            let counters = RevisionCounters {
                revision: held.revision,
                rewrites: held.rewrites,
            };
            tokio::spawn(async move {
                store
                    .store_snapshot_logged(&survey_id, version, counters, columns)
                    .await;
            });
        }
        Ok(ColumnsRead {
            columns: Arc::clone(&held.columns),
            from_snapshot: held.from_snapshot,
        })
    }

    /// Stores a snapshot of a survey version's report columns, brought up to date first,
    /// so that the next start reads it rather than every row; returns how many responses it
    /// holds, or `None` when rows already read changed while it was written (it is then not
    /// stored). Reports store one on their own once enough rows were added since the last;
    /// this stores one now, whatever the count, for callers that need it at a known point
    /// (the server's tests).
    pub async fn store_report_snapshot(
        &self,
        survey: &CompiledSurvey,
    ) -> anyhow::Result<Option<usize>> {
        let definition = survey.definition();
        let slot = self
            .reports
            .slot(definition.id.as_str(), definition.version)?;
        self.bring_up_to_date(survey).await?;
        let (columns, counters) = {
            let mut cached = slot.lock().await;
            let held = cached.as_mut().context("report cache emptied while held")?;
            held.snapshot_rows = held.columns.len();
            (
                Arc::clone(&held.columns),
                RevisionCounters {
                    revision: held.revision,
                    rewrites: held.rewrites,
                },
            )
        };
        let rows = columns.len();
        Ok(self
            .store_snapshot(
                definition.id.as_str(),
                definition.version,
                counters,
                columns,
            )
            .await?
            .then_some(rows))
    }

    /// Reads into memory the report columns of the latest version of the surveys with the
    /// most responses, as many as are kept, and returns how many responses they hold and
    /// how many of those came from stored snapshots.
    pub async fn read_report_columns(&self) -> anyhow::Result<ResponsesRead> {
        let mut surveys = self.list_surveys().await?;
        surveys.sort_by_key(|summary| std::cmp::Reverse(summary.responses));
        let mut read = ResponsesRead::default();
        for summary in surveys
            .iter()
            .filter(|summary| summary.responses > 0)
            .take(ReportCache::VERSIONS)
        {
            if let Some(survey) = self.survey(&summary.id, Some(summary.version)).await? {
                let columns = self.bring_up_to_date(&survey).await?;
                read.responses += columns.columns.len() as u64;
                read.from_snapshots += columns.from_snapshot as u64;
            }
        }
        Ok(read)
    }

    /// Appends to `columns` the rows of one survey version with a revision in
    /// `(after, up_to]`, in committed order.
    ///
    /// A whole version, or many revisions, is read in bulk ([`super::bulk_read`]): on SQLite
    /// by a read-only connection of its own on a blocking thread, on PostgreSQL by `COPY`.
    /// The few rows committed since the last report are read through the pool
    /// ([`Store::read_report_rows_through_pool`]), which costs more per row and nothing to
    /// start. Both give the same columns.
    async fn read_report_rows(
        &self,
        survey: &CompiledSurvey,
        after: i64,
        up_to: i64,
        columns: &mut ReportColumns,
    ) -> anyhow::Result<()> {
        // New rows can complete batches: the release is decided again when next asked for.
        columns.release = OnceLock::new();
        columns.rows_by_id = OnceLock::new();
        columns.generation = next_generation();
        if after >= 0 && up_to - after < BULK_FROM_REVISIONS {
            return self
                .read_report_rows_through_pool(survey, after, up_to, columns)
                .await;
        }
        match (&self.pool, &self.sqlite_file) {
            (super::Pool::Sqlite(_), Some(file)) => {
                let definition = survey.definition();
                let read = bulk_read::SqliteRead {
                    file: Arc::clone(file),
                    layout: survey.layout().clone(),
                    survey_id: definition.id.as_str().to_owned(),
                    version: definition.version,
                    after,
                    up_to,
                };
                // The columns go to the blocking thread and come back filled.
                let mut taken = std::mem::replace(columns, ReportColumns::new(survey));
                *columns =
                    tokio::task::spawn_blocking(move || read.run(&mut taken).map(|()| taken))
                        .await
                        .context("the SQLite report reader stopped")??;
                Ok(())
            }
            (super::Pool::Postgres(pool), _) => {
                bulk_read::read_postgres(pool, survey, after, up_to, columns).await
            }
            (super::Pool::Sqlite(_), None) => {
                self.read_report_rows_through_pool(survey, after, up_to, columns)
                    .await
            }
        }
    }

    /// The report columns of one survey version read afresh, row by row through the pool,
    /// with neither the columns kept in memory nor the bulk readers: the reference that the
    /// bulk readers must equal, row for row (the server's tests compare them).
    pub async fn report_input_row_by_row(
        &self,
        survey: &CompiledSurvey,
    ) -> anyhow::Result<ReportColumns> {
        let mut columns = ReportColumns::new(survey);
        self.read_report_rows_through_pool(survey, -1, i64::MAX, &mut columns)
            .await?;
        Ok(columns)
    }

    /// [`Store::read_report_rows`] through the pool: one query, each row decoded by the
    /// driver and borrowed from it, not copied into a struct.
    async fn read_report_rows_through_pool(
        &self,
        survey: &CompiledSurvey,
        after: i64,
        up_to: i64,
        columns: &mut ReportColumns,
    ) -> anyhow::Result<()> {
        let definition = survey.definition();
        let statement = report_rows("$1", "$2", "$3", "$4");
        on_pool!(&self.pool, |pool| {
            let mut rows = sqlx::query(&statement)
                .bind(definition.id.as_str())
                .bind(i64::from(definition.version))
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
                    received_on: ReceivedDay::of_timestamp(row.try_get(8)?),
                };
                let entry: Option<&[u8]> = row.try_get(0)?;
                let response_id: &str = row.try_get(1)?;
                if !columns.push_stored(entry, context, response_id) {
                    let stored: StoredAnswers = sqlx::query_as(STORED_ANSWERS)
                        .bind(response_id)
                        .fetch_one(pool)
                        .await?;
                    columns.push_computed(&stored.entry(survey.layout())?, context, response_id)?;
                }
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
            let rows: Vec<MissingEntry> = on_pool!(&self.pool, |pool| {
                sqlx::query_as("SELECT response_id, survey_id, survey_version, answers, confidentiality FROM responses WHERE report_entry IS NULL LIMIT $1")
                    .bind(CHUNK)
                    .fetch_all(pool)
                    .await?
            });
            if rows.is_empty() {
                return Ok(filled);
            }
            let mut entries = Vec::with_capacity(rows.len());
            for missing in rows {
                let version = u32::try_from(missing.survey_version)
                    .context("stored survey version out of range")?;
                let survey = self
                    .survey(&missing.survey_id, Some(version))
                    .await?
                    .with_context(|| {
                        format!(
                            "response {} answers a survey version that is not stored",
                            missing.response_id
                        )
                    })?;
                entries.push((missing.stored.entry(survey.layout())?, missing.response_id));
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
}

#[cfg(test)]
mod tests {
    use super::{CompiledSurvey, ReportColumns};

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
}
