//! The columns of a stored response and the values a response gives them, defined once.
//!
//! [`RESPONSE_COLUMNS`] pairs each column's name with how a row's value for it is read, in
//! the order every insert binds them. Both writers build their statements from it and bind
//! the values it yields in a loop: SQLite's one row at a time ([`super::sqlite_writer`]),
//! PostgreSQL's one row or many at once ([`super::postgres_writer`]). A column is added,
//! removed or reordered here, and nowhere else.

use std::sync::LazyLock;

use rapport_scoring::score::ResponseScore;
use rapport_scoring::validate::Answers;

use super::responses::NewResponse;
use super::sql;

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

/// One value of a response row, borrowed from the response, as either driver binds it.
/// `None` is SQL `NULL`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum ColumnValue<'a> {
    /// Text.
    Text(Option<&'a str>),
    /// A 64-bit integer.
    Integer(Option<i64>),
    /// A double-precision number.
    Real(Option<f64>),
    /// A boolean (an integer 0 or 1 on SQLite).
    Boolean(Option<bool>),
    /// Bytes.
    Blob(&'a [u8]),
}

/// A response as its writer stores it: the response, and what the writer adds to it.
#[derive(Debug, Clone, Copy)]
pub(super) struct ResponseRow<'a> {
    /// The response.
    pub(super) response: &'a NewResponse,
    /// When its batch reached the writer.
    pub(super) received_at: &'a str,
    /// The revision of its survey version that its transaction took.
    pub(super) revision: i64,
}

/// A column of the `responses` table: its name, and how a row's value for it is read.
type Column = (
    &'static str,
    for<'row, 'a> fn(&'row ResponseRow<'a>) -> ColumnValue<'a>,
);

/// Every column an insert of a response writes, in the order its values are bound.
const RESPONSE_COLUMNS: [Column; 20] = {
    use ColumnValue::{Blob, Boolean, Integer, Real, Text};
    [
        ("response_id", |row| Text(Some(&row.response.response_id))),
        ("survey_id", |row| Text(Some(&row.response.survey_id))),
        ("survey_version", |row| {
            Integer(Some(i64::from(row.response.survey_version)))
        }),
        ("body_sha256", |row| Text(Some(&row.response.body_sha256))),
        ("answers", |row| Text(Some(&row.response.scored.answers))),
        ("confidentiality", |row| {
            Text(Some(row.response.confidentiality.as_str()))
        }),
        ("account", |row| {
            Text(row.response.context.account.as_deref())
        }),
        ("matter", |row| Text(row.response.context.matter.as_deref())),
        ("wave", |row| Text(row.response.context.wave.as_deref())),
        ("returning_respondent", |row| {
            Boolean(row.response.context.returning)
        }),
        ("respondent_key", |row| {
            Text(row.response.respondent_key.as_deref())
        }),
        ("score", |row| Text(Some(&row.response.scored.score))),
        ("nps", |row| Integer(row.response.scored.nps)),
        ("crq", |row| Real(row.response.scored.crq)),
        ("submitted_at", |row| {
            Text(Some(row.response.submitted_at.as_str()))
        }),
        ("received_at", |row| Text(Some(row.received_at))),
        ("report_entry", |row| Blob(&row.response.report_entry)),
        ("revision", |row| Integer(Some(row.revision))),
        ("arrival", |row| Text(Some(row.response.arrival.as_str()))),
        ("locale", |row| Text(row.response.locale.as_deref())),
    ]
};

impl<'a> ResponseRow<'a> {
    /// The row's values, one per column of [`RESPONSE_COLUMNS`], in its order.
    pub(super) fn values(&self) -> impl Iterator<Item = ColumnValue<'a>> + '_ {
        RESPONSE_COLUMNS.iter().map(|(_, value)| value(self))
    }
}

/// The start of an insert of response rows, up to its `VALUES`: for the multi-row form,
/// whose placeholders the statement builder numbers.
pub(super) fn insert_head() -> &'static str {
    static HEAD: LazyLock<String> = LazyLock::new(|| {
        let names: Vec<&str> = RESPONSE_COLUMNS.iter().map(|(name, _)| *name).collect();
        format!("INSERT INTO responses ({}) ", names.join(", "))
    });
    &HEAD
}

/// Inserts one response unless its id is stored already: its values are `$1`, `$2`, … in
/// the order of [`RESPONSE_COLUMNS`].
pub(super) fn insert_one() -> &'static str {
    static INSERT: LazyLock<String> = LazyLock::new(|| {
        let placeholders: Vec<String> = (1..=RESPONSE_COLUMNS.len())
            .map(|number| format!("${number}"))
            .collect();
        format!(
            "{}VALUES ({}){}",
            insert_head(),
            placeholders.join(", "),
            sql::ON_STORED_RESPONSE
        )
    });
    &INSERT
}

#[cfg(test)]
mod tests {
    use super::RESPONSE_COLUMNS;

    #[test]
    fn every_response_column_is_named_once() {
        let mut names: Vec<&str> = RESPONSE_COLUMNS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RESPONSE_COLUMNS.len());
    }
}
