//! Stored snapshots of report columns: a survey version's columns as one value
//! (`report_snapshots`, migration 0011), so that the first report after a start reads that
//! value and the rows committed since rather than every row.
//!
//! A snapshot is the scoring crate's bytes of the columns ([`ReportInput::to_snapshot`]) and
//! the rows' response ids, stored with the revision counters the columns were read at. It
//! is read only while the version's rewrites still equal its own, and then only with the
//! rows of a later revision, so the columns are always those a read of every row gives (the
//! server's tests compare them row for row). A snapshot that does not decode (written by
//! another format) is passed over, and the rows are read instead.
//!
//! Erasure: the transaction that changes or removes rows already counted deletes the
//! version's snapshot (a trigger on the rewrites counter), and a snapshot is stored only
//! after the counter, locked, still shows the rewrites its columns were read at. So no
//! snapshot holds an erased respondent's key once the erasure has committed.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use rapport_scoring::{ReportInput, SurveyDefinition};

use super::reports::{CachedInput, ReportColumns, RevisionCounters};
use super::surveys::CompiledSurvey;
use super::{Pool, Store};

/// The fewest rows worth a snapshot: fewer are read row by row in a few tens of
/// milliseconds. Once a version has one, another is stored after an eighth more rows (at
/// least this many), so a start never reads more than that since the last.
pub(super) const SNAPSHOT_MIN_ROWS: usize = 10_000;

/// The least time between two snapshots of one version that reports store on their own.
pub(super) const SNAPSHOT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// A stored snapshot, as read.
#[derive(Debug, sqlx::FromRow)]
struct StoredSnapshot {
    revision: i64,
    rewrites: i64,
    columns: Vec<u8>,
    response_ids: Vec<u8>,
}

/// The version's rewrites counter, in the transaction that stores a snapshot: locked on
/// PostgreSQL until commit, so a rewrite committing meanwhile either comes first (and the
/// snapshot is not stored) or waits and then deletes it. SQLite's `BEGIN IMMEDIATE` holds
/// the one write lock from the start instead.
const REWRITES: &str =
    "SELECT rewrites FROM report_revisions WHERE survey_id = $1 AND survey_version = $2";

impl Store {
    /// The stored snapshot of a version's columns, if one is usable at `counters`: read at
    /// the same rewrites, and at a revision not after the current one.
    pub(super) async fn stored_snapshot(
        &self,
        survey: &CompiledSurvey,
        counters: RevisionCounters,
    ) -> anyhow::Result<Option<CachedInput>> {
        let definition = survey.definition();
        let stored: Option<StoredSnapshot> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT revision, rewrites, columns, response_ids FROM report_snapshots WHERE survey_id = $1 AND survey_version = $2 AND rewrites = $3 AND revision <= $4")
                .bind(definition.id.as_str())
                .bind(i64::from(definition.version))
                .bind(counters.rewrites)
                .bind(counters.revision)
                .fetch_optional(pool)
                .await?
        });
        let Some(stored) = stored else {
            return Ok(None);
        };
        let (revision, rewrites) = (stored.revision, stored.rewrites);
        let definition = definition.clone();
        let decoded = tokio::task::spawn_blocking(move || {
            decode(&definition, &stored.columns, &stored.response_ids)
        })
        .await
        .context("the report snapshot reader stopped")?;
        match decoded {
            Ok(columns) => Ok(Some(CachedInput {
                revision,
                rewrites,
                snapshot_rows: columns.len(),
                from_snapshot: columns.len(),
                columns: Arc::new(columns),
            })),
            Err(error) => {
                tracing::info!(
                    survey = %survey.definition().id,
                    version = survey.definition().version,
                    "a stored report snapshot was passed over ({error:#}); the responses are read instead"
                );
                Ok(None)
            }
        }
    }

    /// Stores `columns`, read at `counters`, as the version's snapshot, unless rows already
    /// read were changed since (their rewrites moved): returns whether it was stored.
    pub(super) async fn store_snapshot(
        &self,
        survey_id: &str,
        version: u32,
        counters: RevisionCounters,
        columns: Arc<ReportColumns>,
    ) -> anyhow::Result<bool> {
        let (columns, response_ids) = tokio::task::spawn_blocking(move || {
            (columns.input.to_snapshot(), encode_ids(&columns))
        })
        .await
        .context("the report snapshot writer stopped")?;
        let (begin, rewrites) = match &self.pool {
            Pool::Sqlite(_) => ("BEGIN IMMEDIATE", REWRITES.to_owned()),
            Pool::Postgres(_) => ("BEGIN", format!("{REWRITES} FOR SHARE")),
        };
        let stored = on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin_with(begin).await?;
            let current: Option<i64> = sqlx::query_scalar(&rewrites)
                .bind(survey_id)
                .bind(i64::from(version))
                .fetch_optional(&mut *transaction)
                .await?;
            if current.unwrap_or_default() == counters.rewrites {
                sqlx::query("INSERT INTO report_snapshots (survey_id, survey_version, revision, rewrites, columns, response_ids) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (survey_id, survey_version) DO UPDATE SET revision = excluded.revision, rewrites = excluded.rewrites, columns = excluded.columns, response_ids = excluded.response_ids \
                     WHERE excluded.revision > report_snapshots.revision OR excluded.rewrites <> report_snapshots.rewrites")
                    .bind(survey_id)
                    .bind(i64::from(version))
                    .bind(counters.revision)
                    .bind(counters.rewrites)
                    .bind(&columns)
                    .bind(&response_ids)
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                true
            } else {
                transaction.rollback().await?;
                false
            }
        });
        Ok(stored)
    }

    /// [`Store::store_snapshot`] in the background, its outcome logged: a snapshot not stored
    /// costs the next start time, never a report.
    pub(super) async fn store_snapshot_logged(
        &self,
        survey_id: &str,
        version: u32,
        counters: RevisionCounters,
        columns: Arc<ReportColumns>,
    ) {
        let started = std::time::Instant::now();
        let rows = columns.len();
        match self
            .store_snapshot(survey_id, version, counters, columns)
            .await
        {
            Ok(true) => tracing::info!(
                survey = survey_id,
                version,
                responses = rows,
                seconds = started.elapsed().as_secs_f64(),
                "report snapshot stored"
            ),
            Ok(false) => tracing::debug!(
                survey = survey_id,
                version,
                "report snapshot not stored: rows were changed meanwhile"
            ),
            Err(error) => tracing::warn!(
                survey = survey_id,
                version,
                "storing a report snapshot failed ({error:#}); the next start reads the responses instead"
            ),
        }
    }
}

/// The rows' response ids: a `u32` count of rows, each packed id (16 bytes, little-endian),
/// then a `u32` count of the ids that are not canonical UUIDs, each as its row (`u64`) and
/// its text, length first.
fn encode_ids(columns: &ReportColumns) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + columns.ids.len() * 16);
    out.extend_from_slice(&(columns.ids.len() as u64).to_le_bytes());
    for id in &columns.ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    let mut others: Vec<(&usize, &String)> = columns.other_ids.iter().collect();
    others.sort_unstable();
    out.extend_from_slice(&(others.len() as u32).to_le_bytes());
    for (row, id) in others {
        out.extend_from_slice(&(*row as u64).to_le_bytes());
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id.as_bytes());
    }
    out
}

/// The columns a stored snapshot holds, checked to be whole.
fn decode(
    definition: &SurveyDefinition,
    columns: &[u8],
    response_ids: &[u8],
) -> anyhow::Result<ReportColumns> {
    let input = ReportInput::from_snapshot(definition, columns)?;
    let mut bytes = response_ids;
    let mut take = |len: usize| -> anyhow::Result<&[u8]> {
        anyhow::ensure!(bytes.len() >= len, "response ids cut short");
        let (taken, rest) = bytes.split_at(len);
        bytes = rest;
        Ok(taken)
    };
    let rows = u64::from_le_bytes(take(8)?.try_into()?);
    anyhow::ensure!(
        rows == input.len() as u64,
        "{rows} response ids for {} rows",
        input.len()
    );
    let ids = take(input.len() * 16)?
        .chunks_exact(16)
        .map(|id| u128::from_le_bytes(id.try_into().expect("16 bytes")))
        .collect();
    let others = u32::from_le_bytes(take(4)?.try_into()?);
    let mut other_ids = HashMap::new();
    for _ in 0..others {
        let row = usize::try_from(u64::from_le_bytes(take(8)?.try_into()?))?;
        anyhow::ensure!(row < input.len(), "a response id beyond the last row");
        let len = u32::from_le_bytes(take(4)?.try_into()?) as usize;
        let id = std::str::from_utf8(take(len)?)?.to_owned();
        other_ids.insert(row, id);
    }
    anyhow::ensure!(bytes.is_empty(), "bytes after the response ids");
    Ok(ReportColumns::from_parts(input, ids, other_ids))
}
