//! Stored responses read back whole: the rows an export reads ([`ExportRow`], with the
//! identity still sealed), typed records of a version, and one response's sealed identity
//! and time of receipt.

use rapport_scoring::ResponseRecord;
use rapport_scoring::score::ResponseScore;
use rapport_scoring::validate::Answers;
use rapport_scoring::wire::{ConfidentialityChoice, Context};

use super::{Store, parse_arrival, parse_confidentiality};

/// One stored response as an export reads it. The identity is still sealed: only the
/// export decides, by role, whether to open it.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// Response id.
    pub response_id: String,
    /// The survey version it answered.
    pub survey_version: u32,
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

/// The columns of an export row and where they come from, up to the `WHERE`.
macro_rules! select_exported {
    () => {
        "SELECT r.response_id, r.survey_version, r.submitted_at, r.confidentiality, r.account, r.matter, r.wave, r.answers, r.score, i.sealed \
         FROM responses r LEFT JOIN respondent_identities i ON i.response_id = r.response_id "
    };
}

/// An export row as selected (`select_exported!`), before its stored text is parsed.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Exported {
    response_id: String,
    survey_version: i64,
    submitted_at: String,
    confidentiality: String,
    account: Option<String>,
    matter: Option<String>,
    wave: Option<String>,
    answers: String,
    score: String,
    sealed: Option<Vec<u8>>,
}

impl TryFrom<Exported> for ExportRow {
    type Error = anyhow::Error;

    fn try_from(exported: Exported) -> anyhow::Result<Self> {
        Ok(ExportRow {
            response_id: exported.response_id,
            survey_version: u32::try_from(exported.survey_version)?,
            submitted_at: exported.submitted_at,
            confidentiality: parse_confidentiality(&exported.confidentiality)?,
            account: exported.account,
            matter: exported.matter,
            wave: exported.wave,
            answers: serde_json::from_str(&exported.answers)?,
            score: serde_json::from_str(&exported.score)?,
            sealed_identity: exported.sealed,
        })
    }
}

/// A stored response as a typed record reads it, before its stored text is parsed.
#[derive(Debug, Clone, sqlx::FromRow)]
struct RecordRow {
    answers: String,
    confidentiality: String,
    account: Option<String>,
    matter: Option<String>,
    wave: Option<String>,
    returning_respondent: Option<bool>,
    respondent_key: Option<String>,
    arrival: String,
}

impl TryFrom<RecordRow> for ResponseRecord {
    type Error = anyhow::Error;

    fn try_from(row: RecordRow) -> anyhow::Result<Self> {
        Ok(ResponseRecord {
            answers: serde_json::from_str(&row.answers)?,
            confidentiality: parse_confidentiality(&row.confidentiality)?,
            context: Context {
                account: row.account,
                matter: row.matter,
                wave: row.wave,
                returning: row.returning_respondent,
            },
            respondent_key: row.respondent_key,
            arrival: parse_arrival(&row.arrival)?,
        })
    }
}

impl Store {
    /// Every stored response of a survey version with what an export needs, oldest first.
    pub async fn export_rows(
        &self,
        survey_id: &str,
        version: u32,
    ) -> anyhow::Result<Vec<ExportRow>> {
        let rows: Vec<Exported> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(concat!(
                select_exported!(),
                "WHERE r.survey_id = $1 AND r.survey_version = $2 ORDER BY r.revision, r.received_at, r.response_id"
            ))
            .bind(survey_id)
            .bind(i64::from(version))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ExportRow::try_from).collect()
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
                let mut builder =
                    sqlx::QueryBuilder::new(concat!(select_exported!(), "WHERE r.survey_id = "));
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
                exported.push(ExportRow::try_from(row)?);
            }
        }
        Ok(exported)
    }

    /// One stored response of a survey (any version), as an export reads it.
    pub async fn export_row(
        &self,
        survey_id: &str,
        response_id: &str,
    ) -> anyhow::Result<Option<ExportRow>> {
        let row: Option<Exported> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(concat!(
                select_exported!(),
                "WHERE r.survey_id = $1 AND r.response_id = $2"
            ))
            .bind(survey_id)
            .bind(response_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ExportRow::try_from).transpose()
    }

    /// Every response of one survey version as typed records, in the order received: what
    /// is stored, read back whole (reports use [`Store::report_input`], which is faster).
    pub async fn response_records(
        &self,
        survey_id: &str,
        version: u32,
    ) -> anyhow::Result<Vec<ResponseRecord>> {
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
        rows.into_iter().map(ResponseRecord::try_from).collect()
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
}

/// What emerging topics read of one stored response: its open texts (inside the stored
/// answers) and what decides who may count and quote them. No identity, no scores.
#[derive(Debug, Clone)]
pub struct TextSource {
    /// Response id, to find the row's release in the report columns.
    pub response_id: String,
    /// Anonymous, confidential or identified.
    pub confidentiality: ConfidentialityChoice,
    /// Account.
    pub account: Option<String>,
    /// Wave.
    pub wave: Option<String>,
    /// The locale the survey was shown in, when the widget sent one.
    pub locale: Option<String>,
    /// Typed answers.
    pub answers: Answers,
}

/// A [`TextSource`] as selected, before its stored text is parsed.
#[derive(Debug, Clone, sqlx::FromRow)]
struct TextSourceRow {
    response_id: String,
    confidentiality: String,
    account: Option<String>,
    wave: Option<String>,
    locale: Option<String>,
    answers: String,
}

impl Store {
    /// The open texts of every response of a survey version, oldest first, for emerging
    /// topics. Read only when they are asked for, so reports never carry texts.
    pub async fn text_sources(
        &self,
        survey_id: &str,
        version: u32,
    ) -> anyhow::Result<Vec<TextSource>> {
        let rows: Vec<TextSourceRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT response_id, confidentiality, account, wave, locale, answers FROM responses \
                 WHERE survey_id = $1 AND survey_version = $2 ORDER BY revision, received_at, response_id",
            )
            .bind(survey_id)
            .bind(i64::from(version))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(TextSource {
                    response_id: row.response_id,
                    confidentiality: parse_confidentiality(&row.confidentiality)?,
                    account: row.account,
                    wave: row.wave,
                    locale: row.locale,
                    answers: serde_json::from_str(&row.answers)?,
                })
            })
            .collect()
    }
}
