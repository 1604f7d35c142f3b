//! Reports: the overall figures, segment breakdowns by one field and by two (crossings) with
//! small-group and complementary suppression, the confidential-vs-identified comparison, the
//! wave comparison and open-text topic shares.
//!
//! The report is computed from [`ResponseRecord`]s, which the server builds from stored rows
//! and `rapport score` from a JSONL file. Any group smaller than the survey's minimum group
//! size shows its count only: this module never emits a score for such a group, whatever
//! the caller's role. Restricting *which* reports a role may request is the server's job.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Figures, Moments, Tally};
use crate::answer::Answers;
use crate::definition::{Question, SurveyDefinition};
use crate::drivers::key_drivers;
pub use crate::drivers::{Correlation, Driver, Drivers};
use crate::entry::{EntryError, EntryLayout};
use crate::ids::{QuestionId, SurveyId, TopicId};
pub use crate::mention::mentions;
use crate::score::{NO_NPS, NpsCategory, Observation, Scorer};
use crate::stats::{GroupMoments, WelchTest, welch};
use crate::validate::ValidResponse;
use crate::visibility::{Arrival, BatchId, RowRelease};
use crate::wire::{ConfidentialityChoice, Context};
pub use filter::{
    DayError, FilterError, LabelAction, LabelField, LabelRule, ReceivedDay, ReportFilter,
};
pub use snapshot::SnapshotError;
pub use versions::{SpanError, VersionSpan, shares_question, span_versions};

mod filter;
mod snapshot;
mod versions;

/// One response as reports see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRecord {
    /// Typed answers.
    pub answers: Answers,
    /// Confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
    /// Account, matter, wave.
    pub context: Context,
    /// A stable key that follows one respondent across waves (the invitation contact, or the
    /// email they typed), used only to link waves and never reported.
    pub respondent_key: Option<String>,
    /// How it reached the server.
    pub arrival: Arrival,
}

impl ResponseRecord {
    /// The record of a validated response, keyed by the email the respondent gave (lowercased).
    /// The server passes the invitation's contact instead when there is one.
    pub fn from_valid(valid: &ValidResponse) -> Self {
        let respondent_key = valid
            .wire
            .identity
            .as_ref()
            .and_then(|identity| identity.email.as_ref())
            .map(|email| email.trim().to_lowercase());
        ResponseRecord {
            answers: valid.answers.clone(),
            confidentiality: valid.wire.confidentiality,
            context: valid.wire.context.clone(),
            respondent_key,
            arrival: Arrival::Unverified,
        }
    }
}

/// A field a report can be broken down by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentField {
    /// The client account.
    Account,
    /// The matter or contract.
    Matter,
    /// The survey wave.
    Wave,
    /// `new` or `returning`.
    Returning,
    /// `confidential`, `identified` or `anonymous`.
    Confidentiality,
    /// `promoter`, `passive` or `detractor`.
    NpsCategory,
    /// The answer to a role or choice question.
    Question(QuestionId),
}

/// Why a report could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// `--by` named something that is neither a context field nor a role or choice question.
    #[error(
        "cannot segment by {field:?}: use account, matter, wave, returning, confidentiality, nps-category, or the id of a role or choice question"
    )]
    UnknownSegmentField {
        /// What was asked for.
        field: String,
    },
    /// A two-field breakdown named the same field twice.
    #[error(
        "cannot cross {field:?} with itself: name two different fields, as in returning:confidentiality"
    )]
    SameFieldTwice {
        /// The field named twice.
        field: String,
    },
}

impl SegmentField {
    /// Parses a segment name for `definition`.
    pub fn parse(definition: &SurveyDefinition, name: &str) -> Result<Self, ReportError> {
        Ok(match name {
            "account" => SegmentField::Account,
            "matter" => SegmentField::Matter,
            "wave" => SegmentField::Wave,
            "returning" | "new-returning" => SegmentField::Returning,
            "confidentiality" => SegmentField::Confidentiality,
            "nps-category" => SegmentField::NpsCategory,
            _ => match definition.question(name) {
                Some(question @ (Question::Role { .. } | Question::Choice { .. })) => {
                    SegmentField::Question(question.id().clone())
                }
                _ => {
                    return Err(ReportError::UnknownSegmentField {
                        field: name.chars().take(80).collect(),
                    });
                }
            },
        })
    }

    /// Every field a report of `definition` can be broken down by: the context fields, then
    /// the role and choice questions in definition order.
    pub fn every(definition: &SurveyDefinition) -> Vec<SegmentField> {
        let mut fields = vec![
            SegmentField::Account,
            SegmentField::Matter,
            SegmentField::Wave,
            SegmentField::Returning,
            SegmentField::Confidentiality,
            SegmentField::NpsCategory,
        ];
        fields.extend(
            definition
                .questions
                .iter()
                .filter(|question| {
                    matches!(question, Question::Role { .. } | Question::Choice { .. })
                })
                .map(|question| SegmentField::Question(question.id().clone())),
        );
        fields
    }

    /// The name used in reports.
    pub fn name(&self) -> &str {
        match self {
            SegmentField::Account => "account",
            SegmentField::Matter => "matter",
            SegmentField::Wave => "wave",
            SegmentField::Returning => "returning",
            SegmentField::Confidentiality => "confidentiality",
            SegmentField::NpsCategory => "nps-category",
            SegmentField::Question(id) => id.as_str(),
        }
    }
}

/// Two fields a report is broken down by at once, such as `returning:confidentiality`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPair {
    /// The field of the rows.
    pub first: SegmentField,
    /// The field of the columns, compared within each value of `first`.
    pub second: SegmentField,
}

impl FieldPair {
    /// What separates the two fields in a name: the canonical ASCII `:` (written by
    /// [`FieldPair::name`]) or the multiplication sign `×`.
    pub const SEPARATORS: [char; 2] = [':', '×'];

    /// The two halves of `name` when it names a pair of fields, else `None`.
    pub fn split(name: &str) -> Option<(&str, &str)> {
        name.split_once(Self::SEPARATORS)
    }

    /// Parses `first:second` (or `first×second`) for `definition`. Each half is a
    /// [`SegmentField`] name; the two must differ.
    pub fn parse(definition: &SurveyDefinition, name: &str) -> Result<Self, ReportError> {
        let Some((first, second)) = Self::split(name) else {
            return Err(ReportError::UnknownSegmentField {
                field: name.chars().take(80).collect(),
            });
        };
        let first = SegmentField::parse(definition, first.trim())?;
        let second = SegmentField::parse(definition, second.trim())?;
        if first == second {
            return Err(ReportError::SameFieldTwice {
                field: first.name().to_owned(),
            });
        }
        Ok(FieldPair { first, second })
    }

    /// The canonical name, `first:second`.
    pub fn name(&self) -> String {
        format!("{}:{}", self.first.name(), self.second.name())
    }
}

/// What to include in a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// Breakdowns to compute.
    pub segments: Vec<SegmentField>,
    /// Two-field breakdowns to compute.
    pub crossings: Vec<FieldPair>,
    /// Overrides the survey's minimum group size.
    pub min_group_size: Option<u32>,
}

impl ReportOptions {
    /// Adds the breakdown `name` asks for: one field ([`SegmentField::parse`]) or two, as in
    /// `returning:confidentiality` ([`FieldPair::parse`]). A breakdown already asked for is
    /// not added again.
    pub fn add_breakdown(
        &mut self,
        definition: &SurveyDefinition,
        name: &str,
    ) -> Result<(), ReportError> {
        if FieldPair::split(name).is_some() {
            let pair = FieldPair::parse(definition, name)?;
            if !self.crossings.contains(&pair) {
                self.crossings.push(pair);
            }
        } else {
            let field = SegmentField::parse(definition, name)?;
            if !self.segments.contains(&field) {
                self.segments.push(field);
            }
        }
        Ok(())
    }
}

/// One group of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SegmentGroup {
    /// The segment value (`(none)` when the field is missing).
    pub value: String,
    /// Responses in the group.
    pub n: u64,
    /// True when the group is below the minimum size: only `n` is reported.
    pub suppressed: bool,
    /// The group's figures; absent when suppressed.
    pub figures: Option<Figures>,
    /// In a breakdown by account or by matter: the display name of the account or matter
    /// whose id is `value`, when one is recorded (by an invitation or `rapport labels
    /// import`); absent otherwise. `value` stays the id. Reports compute over ids only;
    /// the server adds this name to groups it already returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Segmentation {
    /// The field broken down by.
    pub field: String,
    /// Groups, ordered by value.
    pub groups: Vec<SegmentGroup>,
}

/// One cell of a two-field breakdown: the responses with one value of each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CrossGroup {
    /// The value of the first field (`(none)` when missing).
    pub first: String,
    /// The value of the second field (`(none)` when missing).
    pub second: String,
    /// Responses in the cell.
    pub n: u64,
    /// True when the cell shows its count only: it is below the minimum size, or hidden
    /// so that no such cell can be recovered from its row or its column.
    pub suppressed: bool,
    /// The cell's figures; absent when suppressed.
    pub figures: Option<Figures>,
    /// The display name of `first` when the first field is the account or the matter and
    /// the server knows one; the value stays the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_label: Option<String>,
    /// The display name of `second`, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_label: Option<String>,
}

/// Within one value of the first field, two neighbouring shown cells of the second field
/// compared: do their respondents score differently?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CrossComparison {
    /// The value of the first field both cells share.
    pub within: String,
    /// The earlier value of the second field, in value order.
    pub first: String,
    /// The later value of the second field.
    pub second: String,
    /// Welch's t-test of `first` − `second` on the 0–10 answer.
    pub nps_test: Option<WelchTest>,
    /// Welch's t-test of `first` − `second` on overall CRQ.
    pub crq_test: Option<WelchTest>,
}

/// A breakdown by two fields at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Crossing {
    /// The field of the rows.
    pub first: String,
    /// The field of the columns.
    pub second: String,
    /// The cells that hold responses, ordered by first value, then second value.
    pub groups: Vec<CrossGroup>,
    /// Within each first value, each pair of consecutive shown cells compared; none where
    /// a row has fewer than two shown cells.
    pub comparisons: Vec<CrossComparison>,
}

/// One side of the confidential-vs-identified comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ComparisonGroup {
    /// Responses.
    pub n: u64,
    /// Mean 0–10 answer; absent when suppressed or unanswered.
    pub nps_mean: Option<f64>,
    /// Mean overall CRQ; absent when suppressed or unanswered.
    pub crq_mean: Option<f64>,
}

/// Do confidential respondents score differently from identified ones?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConfidentialityComparison {
    /// Respondents who kept confidentiality.
    pub confidential: ComparisonGroup,
    /// Respondents who waived it.
    pub identified: ComparisonGroup,
    /// True when either group is below the minimum size: counts only.
    pub suppressed: bool,
    /// Welch's t-test of confidential − identified on the 0–10 answer.
    pub nps_test: Option<WelchTest>,
    /// Welch's t-test of confidential − identified on overall CRQ.
    pub crq_test: Option<WelchTest>,
}

/// One group of a wave comparison: respondents of the first wave who made one choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WaveGroup {
    /// The choice made in the first wave: `confidential` or `identified`.
    pub choice: ConfidentialityChoice,
    /// Respondents of the first wave who made this choice.
    pub respondents: u64,
    /// How many of them also answered the second wave.
    pub completed: u64,
    /// `completed ÷ respondents`.
    pub completion_rate: f64,
    /// True when the group is below the minimum size: counts only.
    pub suppressed: bool,
    /// Mean 0–10 answer of the group in the first wave.
    pub nps_mean_first: Option<f64>,
    /// Mean 0–10 answer of those who completed the second wave, in the second wave.
    pub nps_mean_second: Option<f64>,
    /// Mean overall CRQ of the group in the first wave.
    pub crq_mean_first: Option<f64>,
    /// Mean overall CRQ of the completers in the second wave.
    pub crq_mean_second: Option<f64>,
    /// Mean of each completer's CRQ change (second − first), where both are known.
    pub crq_change: Option<f64>,
}

/// Completion and score change between two waves, by the choice made in the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WaveComparison {
    /// The earlier wave.
    pub first_wave: String,
    /// The later wave.
    pub second_wave: String,
    /// One group per first-wave choice.
    pub groups: Vec<WaveGroup>,
}

/// How often a topic is mentioned in strengths and weaknesses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TopicShare {
    /// Topic id.
    pub topic: TopicId,
    /// Topic name in English.
    pub label: String,
    /// Respondents whose strength text mentions it.
    pub strength_mentions: u64,
    /// `strength_mentions ÷ respondents`.
    pub strength_share: f64,
    /// Respondents whose weakness text mentions it.
    pub weakness_mentions: u64,
    /// `weakness_mentions ÷ respondents`.
    pub weakness_share: f64,
}

/// The full report of one survey version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    /// Survey id.
    pub survey_id: SurveyId,
    /// Survey version.
    pub survey_version: u32,
    /// Groups below this size show counts only.
    pub min_group_size: u32,
    /// All responses together.
    pub overall: Figures,
    /// Requested breakdowns.
    pub segments: Vec<Segmentation>,
    /// Requested two-field breakdowns; left out of the JSON when none was asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crossings: Vec<Crossing>,
    /// Confidential vs identified; absent when the survey offers no choice or nobody chose.
    pub confidentiality_comparison: Option<ConfidentialityComparison>,
    /// Each pair of consecutive waves that share followed respondents.
    pub wave_comparisons: Vec<WaveComparison>,
    /// Topic shares over all respondents.
    pub topics: Vec<TopicShare>,
    /// Key drivers: what moves the 0–10 answer, item by item ([`crate::drivers`]). Absent
    /// (and left out of the JSON) with fewer complete answers than
    /// [`crate::drivers::min_complete_cases`], or when the items cannot be told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drivers: Option<Drivers>,
    /// The survey versions the report counts, oldest first, when it spans more than one
    /// ([`span_versions`]); left out of the JSON for a report of one version.
    #[serde(default, skip_serializing_if = "versions::spans_one")]
    pub versions: Vec<VersionSpan>,
}

/// The value of the breakdown group that holds the responses without a value for the
/// field (no account, no wave, the question unanswered). It counts like any other group,
/// for suppression too.
pub const NONE_VALUE: &str = "(none)";

/// A column of optional text (account, wave, …), each distinct value held once and every row
/// as a small code, so a million rows of a hundred accounts hold a hundred strings. The
/// dictionary is shared by the columns [`Interned::select`] makes, and copied only if one of
/// them grows it.
#[derive(Debug, Clone, Default)]
struct Interned {
    codes: Vec<u32>,
    values: Arc<Vec<Option<String>>>,
    by_key: Arc<HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>>,
    none: Option<u32>,
}

impl Interned {
    /// Appends a row whose value is identified by `key` and, the first time that key is
    /// seen, built by `value`.
    fn push_keyed(&mut self, key: &[u8], value: impl FnOnce() -> Option<String>) {
        let code = match self.by_key.get(key) {
            Some(code) => *code,
            None => {
                let code = self.values.len() as u32;
                Arc::make_mut(&mut self.values).push(value());
                Arc::make_mut(&mut self.by_key).insert(key.into(), code);
                code
            }
        };
        self.codes.push(code);
    }

    fn push(&mut self, value: Option<&str>) {
        match value {
            Some(text) => self.push_keyed(text.as_bytes(), || Some(text.to_owned())),
            None => {
                let values = &mut self.values;
                let code = *self.none.get_or_insert_with(|| {
                    Arc::make_mut(values).push(None);
                    (values.len() - 1) as u32
                });
                self.codes.push(code);
            }
        }
    }

    fn value(&self, row: usize) -> Option<&str> {
        self.values[self.codes[row] as usize].as_deref()
    }

    fn code(&self, row: usize) -> usize {
        self.codes[row] as usize
    }

    /// The same dictionary, shared, over the kept rows.
    fn select(&self, rows: &[usize]) -> Interned {
        Interned {
            codes: rows.iter().map(|row| self.codes[*row]).collect(),
            values: self.values.clone(),
            by_key: self.by_key.clone(),
            none: self.none,
        }
    }
}

/// The context of one response as a report reads it, borrowed from wherever it is stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryContext<'a> {
    /// Account.
    pub account: Option<&'a str>,
    /// Matter.
    pub matter: Option<&'a str>,
    /// Wave.
    pub wave: Option<&'a str>,
    /// New or returning, when the host page said so.
    pub returning: Option<bool>,
    /// The key following the respondent across waves.
    pub respondent_key: Option<&'a str>,
    /// How the response reached the server.
    pub arrival: Arrival,
    /// The day the server received it, when known.
    pub received_on: Option<ReceivedDay>,
}

/// What a report is computed from: one survey version's responses in columns (compact
/// observations, topic bits, and interned context), in the order they were received.
///
/// Filled from stored [report entries](crate::entry) with [`ReportInput::push_entry`], or from
/// typed answers with [`ReportInput::push_record`]; both give the same report.
#[derive(Debug, Clone)]
pub struct ReportInput {
    layout: EntryLayout,
    observations: Vec<Observation>,
    /// Topic bits, [`EntryLayout::topic_bytes`] per row: strengths, then weaknesses.
    topics: Vec<u8>,
    accounts: Interned,
    matters: Interned,
    waves: Interned,
    respondents: Interned,
    returning: Vec<Option<bool>>,
    arrivals: Vec<Arrival>,
    /// The day each response was received, as days since 1970-01-01 (`filter::NO_DAY` when
    /// unknown).
    received: Vec<i32>,
    /// Set only on what [`crate::disclosure::release`] lets a role other than admin see:
    /// each row's published batch, or [`NO_BATCH`] for an identified row. Filters and
    /// breakdowns then count each batch whole or not at all.
    batches: Option<Vec<BatchId>>,
    /// One column per role or choice question, in definition order.
    choices: Vec<Interned>,
    /// Set only on an input that spans versions ([`span_versions`]): each row's part, an
    /// index into `spanned`.
    parts: Option<Vec<u16>>,
    /// The versions of a spanning input, by part.
    spanned: Arc<Vec<versions::SpannedVersion>>,
    /// Each row's position in the input it was taken from (within its part, for a spanning
    /// input), once rows were selected or carried; `None` while row `i` is the `i`-th row
    /// pushed.
    origin: Option<Vec<u32>>,
}

/// Where a row of a narrowed or spanning input came from ([`ReportInput::source_row`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceRow {
    /// The part of a spanning input ([`span_versions`]), oldest version first; 0 for an
    /// input of one version.
    pub part: usize,
    /// The row in that part's input as it was pushed, before any release or filter.
    pub row: usize,
}

/// The batch of a row that belongs to none: an identified answer.
const NO_BATCH: BatchId = BatchId::MAX;

impl ReportInput {
    /// An empty input for a survey version.
    pub fn new(definition: &SurveyDefinition) -> Self {
        let layout = EntryLayout::new(definition);
        let choices = vec![Interned::default(); layout.choice_questions().count()];
        ReportInput {
            layout,
            observations: Vec::new(),
            topics: Vec::new(),
            accounts: Interned::default(),
            matters: Interned::default(),
            waves: Interned::default(),
            respondents: Interned::default(),
            returning: Vec::new(),
            arrivals: Vec::new(),
            received: Vec::new(),
            batches: None,
            choices,
            parts: None,
            spanned: Arc::default(),
            origin: None,
        }
    }

    /// Appends a response from its stored entry. Nothing is appended when the entry is not
    /// one of this version.
    pub fn push_entry(
        &mut self,
        entry: &[u8],
        context: EntryContext<'_>,
    ) -> Result<(), EntryError> {
        let entry = self.layout.decode(entry)?;
        self.observations.push(entry.observation);
        self.topics.extend_from_slice(entry.strengths);
        self.topics.extend_from_slice(entry.weaknesses);
        for ((column, choice), idx) in self.choices.iter_mut().zip(entry.choices()).zip(0..) {
            let layout = &self.layout;
            column.push_keyed(choice, || layout.choice_value(idx, choice));
        }
        self.accounts.push(context.account);
        self.matters.push(context.matter);
        self.waves.push(context.wave);
        self.respondents.push(context.respondent_key);
        self.returning.push(context.returning);
        self.arrivals.push(context.arrival);
        self.received.push(
            context
                .received_on
                .map_or(filter::NO_DAY, ReceivedDay::days_since_epoch),
        );
        if let Some(batches) = &mut self.batches {
            batches.push(NO_BATCH);
        }
        if let Some(parts) = &mut self.parts {
            // A row pushed as an entry answered the version the input was made for: the
            // last part.
            parts.push(self.spanned.len().saturating_sub(1) as u16);
        }
        if let Some(origin) = &mut self.origin {
            origin.push((self.observations.len() - 1) as u32);
        }
        Ok(())
    }

    /// Appends a response from its typed answers.
    pub fn push_record(&mut self, record: &ResponseRecord) {
        self.push_record_received(record, None);
    }

    /// Appends a response from its typed answers, received on `received_on`.
    pub fn push_record_received(
        &mut self,
        record: &ResponseRecord,
        received_on: Option<ReceivedDay>,
    ) {
        let entry = self.layout.encode(&record.answers, record.confidentiality);
        let context = EntryContext {
            account: record.context.account.as_deref(),
            matter: record.context.matter.as_deref(),
            wave: record.context.wave.as_deref(),
            returning: record.context.returning,
            respondent_key: record.respondent_key.as_deref(),
            arrival: record.arrival,
            received_on,
        };
        self.push_entry(&entry, context)
            .expect("an entry encoded by this layout decodes");
    }

    /// How many responses.
    pub fn len(&self) -> usize {
        self.observations.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
    }

    /// The account of the `row`-th response.
    pub fn account(&self, row: usize) -> Option<&str> {
        self.accounts.value(row)
    }

    /// The wave of the `row`-th response.
    pub fn wave(&self, row: usize) -> Option<&str> {
        self.waves.value(row)
    }

    /// The observation (0–10 answer, ratings, confidentiality) of the `row`-th response.
    pub fn observation(&self, row: usize) -> &Observation {
        &self.observations[row]
    }

    /// The confidentiality choice of the `row`-th response.
    pub fn confidentiality(&self, row: usize) -> ConfidentialityChoice {
        self.observations[row].confidentiality
    }

    /// How the `row`-th response reached the server.
    pub fn arrival(&self, row: usize) -> Arrival {
        self.arrivals[row]
    }

    /// A number standing for the account of the `row`-th response: equal for equal accounts.
    pub fn account_code(&self, row: usize) -> usize {
        self.accounts.code(row)
    }

    /// How many distinct account codes [`ReportInput::account_code`] can return.
    pub(crate) fn n_account_codes(&self) -> usize {
        self.accounts.values.len()
    }

    /// Whether this input is a release for a role other than admin, whose filters and
    /// breakdowns count each published batch whole or not at all.
    pub fn is_released(&self) -> bool {
        self.batches.is_some()
    }

    /// The rows `release` lets be seen, each with its batch. Used by
    /// [`crate::disclosure::release`].
    pub(crate) fn released(&self, release: &[RowRelease]) -> ReportInput {
        let rows: Vec<usize> = (0..self.len())
            .filter(|row| matches!(release[*row], RowRelease::Live | RowRelease::Published(_)))
            .collect();
        let mut visible = self.select(&rows);
        visible.batches = Some(
            rows.iter()
                .map(|row| match release[*row] {
                    RowRelease::Published(batch) => batch,
                    _ => NO_BATCH,
                })
                .collect(),
        );
        visible
    }

    /// The responses for which `keep` holds, in the same order. On a release, a published
    /// batch of which `keep` would drop any row is dropped whole.
    pub fn filter(&self, keep: impl Fn(&ReportInput, usize) -> bool) -> ReportInput {
        let mut rows: Vec<usize> = (0..self.len()).filter(|row| keep(self, *row)).collect();
        if let Some(batches) = &self.batches {
            // A batch is kept whole when every one of its rows was kept.
            let kept = batch_sizes(batches, rows.iter().copied());
            let all = batch_sizes(batches, 0..self.len());
            rows.retain(|row| {
                let batch = batches[*row];
                batch == NO_BATCH || kept[batch as usize] == all[batch as usize]
            });
        }
        self.select(&rows)
    }

    /// The given rows, in the given order, with every column.
    fn select(&self, rows: &[usize]) -> ReportInput {
        let topic_stride = 2 * self.layout.topic_bytes();
        ReportInput {
            layout: self.layout.clone(),
            observations: rows.iter().map(|row| self.observations[*row]).collect(),
            topics: rows
                .iter()
                .flat_map(|row| &self.topics[row * topic_stride..(row + 1) * topic_stride])
                .copied()
                .collect(),
            accounts: self.accounts.select(rows),
            matters: self.matters.select(rows),
            waves: self.waves.select(rows),
            respondents: self.respondents.select(rows),
            returning: rows.iter().map(|row| self.returning[*row]).collect(),
            arrivals: rows.iter().map(|row| self.arrivals[*row]).collect(),
            received: rows.iter().map(|row| self.received[*row]).collect(),
            batches: self
                .batches
                .as_ref()
                .map(|batches| rows.iter().map(|row| batches[*row]).collect()),
            choices: self
                .choices
                .iter()
                .map(|column| column.select(rows))
                .collect(),
            parts: versions::select_parts(&self.parts, rows),
            spanned: Arc::clone(&self.spanned),
            origin: Some(
                rows.iter()
                    .map(|row| self.source_row(*row).row as u32)
                    .collect(),
            ),
        }
    }

    /// Where the `row`-th response came from: its part and its row as first pushed, so a
    /// caller can find what else it stores of it (texts, response id) after a release, a
    /// filter or a span.
    pub fn source_row(&self, row: usize) -> SourceRow {
        SourceRow {
            part: self
                .parts
                .as_ref()
                .map_or(0, |parts| usize::from(parts[row])),
            row: self
                .origin
                .as_ref()
                .map_or(row, |origin| origin[row] as usize),
        }
    }

    /// What a role other than admin may see of the `row`-th response, on a release: live
    /// (identified) or published in its batch (ids unique across the parts of a spanning
    /// input). Every row of an input that is not a release is live.
    pub fn row_release(&self, row: usize) -> RowRelease {
        match &self.batches {
            Some(batches) if batches[row] != NO_BATCH => RowRelease::Published(batches[row]),
            _ => RowRelease::Live,
        }
    }
}

/// One more than the largest batch id in `batches`: the length of a table by batch id.
fn n_batch_slots(batches: &[BatchId]) -> usize {
    batches
        .iter()
        .filter(|batch| **batch != NO_BATCH)
        .max()
        .map_or(0, |batch| *batch as usize + 1)
}

/// How many of `rows` each published batch has, by batch id (batch ids are dense).
fn batch_sizes(batches: &[BatchId], rows: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut counts = vec![0u32; n_batch_slots(batches)];
    for row in rows {
        if batches[row] != NO_BATCH {
            counts[batches[row] as usize] += 1;
        }
    }
    counts
}

/// One group of [`ReportInput::split_by`].
#[derive(Debug, Clone)]
pub struct SplitGroup {
    /// The field's value, as a breakdown names its group.
    pub value: String,
    /// How many responses the group counts (on a release, whole batches only).
    pub n: u64,
    /// Whether the group is hidden as a breakdown group would be: smaller than the minimum
    /// group size, or hidden beside such a group so that neither can be worked out from the
    /// total. A hidden group gives its count only.
    pub hidden: bool,
    /// The group's responses, through [`ReportInput::filter`]: on a release, a published
    /// batch that falls in two groups is in neither. Empty when hidden.
    pub rows: ReportInput,
}

impl ReportInput {
    /// The responses split by the values of `field`, in value order, each group counted and
    /// hidden exactly as the breakdown by `field` counts and hides it in a report, so that a
    /// figure computed per group (emerging topics) follows the same rules as the report's.
    pub fn split_by(&self, field: &SegmentField, min_group_size: u32) -> Vec<SplitGroup> {
        let min_group_size = u64::from(min_group_size);
        let returning = (*field == SegmentField::Returning).then(|| returning_flags(self));
        let groups = FieldGroups::of(self, field, returning.as_deref().unwrap_or_default());
        let counted = GroupCounts::of(self, &groups.row_group, groups.values.len());
        let mut hidden = counted.small(min_group_size);
        let all: Vec<usize> = (0..groups.values.len()).collect();
        hide_complements(&counted.counts, &all, &mut hidden, min_group_size);
        groups
            .values
            .iter()
            .enumerate()
            .filter(|(group, _)| counted.counts[*group] > 0)
            .map(|(group, value)| SplitGroup {
                value: value.clone(),
                n: counted.counts[group],
                hidden: hidden[group],
                rows: if hidden[group] {
                    self.select(&[])
                } else {
                    self.filter(|_, row| groups.row_group[row] as usize == group)
                },
            })
            .collect()
    }
}

/// Builds a report. Records must all answer `definition` (same id and version).
pub fn build_report(
    definition: &SurveyDefinition,
    records: &[ResponseRecord],
    options: &ReportOptions,
) -> Report {
    let mut input = ReportInput::new(definition);
    for record in records {
        input.push_record(record);
    }
    report_of(definition, &input, options)
}

/// Builds a report from its columns. `input` must have been made for `definition`.
pub fn report_of(
    definition: &SurveyDefinition,
    input: &ReportInput,
    options: &ReportOptions,
) -> Report {
    let scorer = Scorer::new(definition);
    let min_group_size = u64::from(options.min_group_size.unwrap_or(definition.min_group_size));
    // One pass for the overall figures and the confidentiality comparison: a tally per
    // choice (in `ConfidentialityChoice` order), merged for the whole.
    // The wave comparison needs each row's overall score again; keep it only then.
    let (wave_names, wave_ranks) = wave_ranks(input);
    let follows_respondents =
        wave_names.len() >= 2 && input.respondents.values.iter().any(Option::is_some);
    let (by_choice, overall_scores) =
        tally_by_choice(&scorer, &input.observations, follows_respondents);
    let mut overall = Tally::new(&scorer);
    for tally in &by_choice {
        overall.merge(tally);
    }
    let returning = options
        .segments
        .iter()
        .chain(
            options
                .crossings
                .iter()
                .flat_map(|pair| [&pair.first, &pair.second]),
        )
        .any(|field| *field == SegmentField::Returning)
        .then(|| returning_flags(input));
    let returning = returning.as_deref().unwrap_or_default();
    let segments = options
        .segments
        .iter()
        .map(|field| Segmentation {
            field: field.name().to_owned(),
            groups: segment_groups(&scorer, input, field, returning, min_group_size),
        })
        .collect();
    let crossings = options
        .crossings
        .iter()
        .map(|pair| crossing(&scorer, input, pair, returning, min_group_size))
        .collect();
    Report {
        survey_id: definition.id.clone(),
        survey_version: definition.version,
        min_group_size: min_group_size as u32,
        overall: overall.figures(&scorer),
        segments,
        crossings,
        confidentiality_comparison: compare_confidentiality(
            &scorer,
            &by_choice[ConfidentialityChoice::Confidential as usize],
            &by_choice[ConfidentialityChoice::Identified as usize],
            min_group_size,
        ),
        // The wave comparison follows single respondents from one wave to the next, so no
        // figure of it is a union of whole batches: it is for the programme team alone.
        wave_comparisons: if follows_respondents && !input.is_released() {
            compare_waves(
                &scorer,
                input,
                &wave_names,
                &wave_ranks,
                &overall_scores,
                min_group_size,
            )
        } else {
            Vec::new()
        },
        topics: topic_shares(definition, input),
        // From the same rows as every other figure: on a release, identified answers and
        // whole published batches only.
        drivers: key_drivers(&scorer, &input.observations, min_group_size),
        versions: input.version_spans(),
    }
}

/// `fold` over consecutive ranges that cover `0..n`, in order: one per core when `n` is
/// large enough to be worth the threads (never on WebAssembly), else one. What it folds
/// into must merge (tallies are a monoid), so the parts may run at once.
fn in_parts<T: Send>(n: usize, fold: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    // Below this, starting threads costs more than it saves.
    const PARALLEL_FROM: usize = 100_000;
    let parts = if cfg!(target_family = "wasm") || n < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(8)
    };
    if parts == 1 {
        return vec![fold(0..n)];
    }
    let part_len = n.div_ceil(parts);
    let fold = &fold;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(part_len)
            .map(|start| scope.spawn(move || fold(start..(start + part_len).min(n))))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Tallies per confidentiality choice (in `ConfidentialityChoice` order), and, when
/// `keep_scores`, each row's overall CRQ (scaled, or [`NO_SCORE`]).
fn tally_by_choice(
    scorer: &Scorer,
    observations: &[Observation],
    keep_scores: bool,
) -> ([Tally; 3], Vec<u64>) {
    let partials = in_parts(observations.len(), |rows| {
        let mut by_choice = [Tally::new(scorer), Tally::new(scorer), Tally::new(scorer)];
        let mut scores = Vec::with_capacity(if keep_scores { rows.len() } else { 0 });
        for observation in &observations[rows] {
            let raw = scorer.measure_raw(observation);
            by_choice[observation.confidentiality as usize].add_measured(scorer, observation, &raw);
            if keep_scores {
                scores.push(if raw.overall_present == 1 {
                    raw.overall
                } else {
                    NO_SCORE
                });
            }
        }
        (by_choice, scores)
    });
    let mut merged = [Tally::new(scorer), Tally::new(scorer), Tally::new(scorer)];
    let mut overall_scores = Vec::with_capacity(if keep_scores { observations.len() } else { 0 });
    for (partial, scores) in &partials {
        for (total, part) in merged.iter_mut().zip(partial) {
            total.merge(part);
        }
        overall_scores.extend_from_slice(scores);
    }
    (merged, overall_scores)
}

/// The waves the rows answered, in name order, and the rank there of each wave code
/// (`None` for "no wave" and for waves no row answered).
fn wave_ranks(input: &ReportInput) -> (Vec<&str>, Vec<Option<usize>>) {
    let mut present = vec![false; input.waves.values.len()];
    for code in &input.waves.codes {
        present[*code as usize] = true;
    }
    let mut named: Vec<(usize, &str)> = input
        .waves
        .values
        .iter()
        .enumerate()
        .filter(|(code, _)| present[*code])
        .filter_map(|(code, value)| Some((code, value.as_deref()?)))
        .collect();
    named.sort_by(|a, b| a.1.cmp(b.1));
    let mut ranks = vec![None; input.waves.values.len()];
    for (rank, (code, _)) in named.iter().enumerate() {
        ranks[*code] = Some(rank);
    }
    (named.into_iter().map(|(_, name)| name).collect(), ranks)
}

/// For each row: `Some(true)` if the respondent answered an earlier wave, `Some(false)` if
/// this is their first, `None` if it cannot be told. An explicit `context.returning` wins.
fn returning_flags(input: &ReportInput) -> Vec<Option<bool>> {
    let (_, ranks) = wave_ranks(input);
    let keyed = |row: usize| -> Option<(usize, usize)> {
        input.respondents.value(row)?;
        Some((input.respondents.code(row), ranks[input.waves.code(row)]?))
    };
    let mut first_rank: Vec<usize> = vec![usize::MAX; input.respondents.values.len()];
    for row in 0..input.len() {
        if let Some((key, rank)) = keyed(row) {
            first_rank[key] = first_rank[key].min(rank);
        }
    }
    (0..input.len())
        .map(|row| {
            input.returning[row].or_else(|| keyed(row).map(|(key, rank)| first_rank[key] < rank))
        })
        .collect()
}

/// Each row's code in a small dictionary of display values for `field`, and that
/// dictionary. Several codes may share a display value (every missing value is `(none)`).
fn field_codes(
    input: &ReportInput,
    field: &SegmentField,
    returning: &[Option<bool>],
) -> (Vec<usize>, Vec<String>) {
    // Detractor, passive, promoter, unanswered: the order of `NpsCategory`'s variants.
    let category = |row: usize| match input.observations[row].nps {
        0..=6 => 0,
        7..=8 => 1,
        9..=10 => 2,
        _ => 3,
    };
    let text_column = |column: &Interned| -> (Vec<usize>, Vec<String>) {
        (
            column.codes.iter().map(|code| *code as usize).collect(),
            column
                .values
                .iter()
                .map(|value| value.clone().unwrap_or_else(|| NONE_VALUE.to_owned()))
                .collect(),
        )
    };
    match field {
        SegmentField::Account => text_column(&input.accounts),
        SegmentField::Matter => text_column(&input.matters),
        SegmentField::Wave => text_column(&input.waves),
        SegmentField::Returning => (
            returning
                .iter()
                .map(|flag| match flag {
                    Some(false) => 0,
                    Some(true) => 1,
                    None => 2,
                })
                .collect(),
            vec![
                "new".to_owned(),
                "returning".to_owned(),
                NONE_VALUE.to_owned(),
            ],
        ),
        SegmentField::Confidentiality => (
            input
                .observations
                .iter()
                .map(|observation| observation.confidentiality as usize)
                .collect(),
            [
                ConfidentialityChoice::Anonymous,
                ConfidentialityChoice::Confidential,
                ConfidentialityChoice::Identified,
            ]
            .map(|choice| choice.as_str().to_owned())
            .to_vec(),
        ),
        SegmentField::NpsCategory => (
            (0..input.len()).map(category).collect(),
            [
                NpsCategory::Detractor,
                NpsCategory::Passive,
                NpsCategory::Promoter,
            ]
            .iter()
            .map(|category| category.as_str().to_owned())
            .chain([NONE_VALUE.to_owned()])
            .collect(),
        ),
        SegmentField::Question(id) => match input
            .layout
            .choice_questions()
            .position(|question| question == id)
        {
            Some(idx) => text_column(&input.choices[idx]),
            None => (vec![0; input.len()], vec![NONE_VALUE.to_owned()]),
        },
    }
}

/// The values of one field as groups: group `i` is the `i`-th value in value order, so
/// that which groups are hidden never depends on the order the responses arrived in.
struct FieldGroups {
    /// Each row's group.
    row_group: Vec<u32>,
    /// Each group's value, in value order.
    values: Vec<String>,
}

impl FieldGroups {
    fn of(input: &ReportInput, field: &SegmentField, returning: &[Option<bool>]) -> Self {
        let (codes, names) = field_codes(input, field, returning);
        // Codes whose display values are equal form one group.
        let mut values = names.clone();
        values.sort_unstable();
        values.dedup();
        let group_of_code: Vec<u32> = names
            .iter()
            .map(|name| {
                values
                    .binary_search(name)
                    .expect("every name is among the values") as u32
            })
            .collect();
        FieldGroups {
            row_group: codes.iter().map(|code| group_of_code[*code]).collect(),
            values,
        }
    }
}

/// The rows of a breakdown counted into its groups (numbered `0..counts.len()`, each row's
/// in `row_group`): on a release, a published batch counts in a group only when all of it
/// falls there, so every figure holds whole batches.
struct GroupCounts<'a> {
    row_group: &'a [u32],
    /// Which rows count, on a release; every row otherwise.
    counted: Option<Vec<bool>>,
    /// Counted rows by group.
    counts: Vec<u64>,
}

impl<'a> GroupCounts<'a> {
    fn of(input: &ReportInput, row_group: &'a [u32], n_groups: usize) -> Self {
        let counted: Option<Vec<bool>> = input.batches.as_ref().map(|batches| {
            // Each batch's group, or SPLIT once two of its rows fall in different groups.
            const UNSEEN: u32 = u32::MAX - 1;
            const SPLIT: u32 = u32::MAX;
            let mut group_of_batch = vec![UNSEEN; n_batch_slots(batches)];
            for (batch, group) in batches.iter().zip(row_group) {
                if *batch != NO_BATCH {
                    let whole = &mut group_of_batch[*batch as usize];
                    if *whole == UNSEEN {
                        *whole = *group;
                    } else if *whole != *group {
                        *whole = SPLIT;
                    }
                }
            }
            batches
                .iter()
                .map(|batch| *batch == NO_BATCH || group_of_batch[*batch as usize] != SPLIT)
                .collect()
        });
        let mut counts = vec![0u64; n_groups];
        let mut group_counts = GroupCounts {
            row_group,
            counted,
            counts: Vec::new(),
        };
        for row in 0..row_group.len() {
            if group_counts.is_counted(row) {
                counts[row_group[row] as usize] += 1;
            }
        }
        group_counts.counts = counts;
        group_counts
    }

    fn is_counted(&self, row: usize) -> bool {
        self.counted.as_ref().is_none_or(|counted| counted[row])
    }

    /// Whether a group has responses and is not hidden.
    fn shown(&self, hidden: &[bool], group: usize) -> bool {
        self.counts[group] > 0 && !hidden[group]
    }

    /// A tally of each shown group's counted rows; `None` for the others.
    fn tallies(&self, scorer: &Scorer, input: &ReportInput, hidden: &[bool]) -> Vec<Option<Tally>> {
        let empty = || -> Vec<Option<Tally>> {
            (0..self.counts.len())
                .map(|group| self.shown(hidden, group).then(|| Tally::new(scorer)))
                .collect()
        };
        let partials = in_parts(self.row_group.len(), |rows| {
            let mut tallies = empty();
            for row in rows {
                if !self.is_counted(row) {
                    continue;
                }
                if let Some(tally) = &mut tallies[self.row_group[row] as usize] {
                    tally.add(scorer, &input.observations[row]);
                }
            }
            tallies
        });
        let mut tallies = empty();
        for partial in &partials {
            for (total, part) in tallies.iter_mut().zip(partial) {
                if let (Some(total), Some(part)) = (total, part) {
                    total.merge(part);
                }
            }
        }
        tallies
    }

    /// Every group below the minimum size (and above zero).
    fn small(&self, min_group_size: u64) -> Vec<bool> {
        self.counts
            .iter()
            .map(|n| *n > 0 && *n < min_group_size)
            .collect()
    }
}

/// The groups of one breakdown: every row's value, counted, and tallied where the group is
/// large enough to be shown.
fn segment_groups(
    scorer: &Scorer,
    input: &ReportInput,
    field: &SegmentField,
    returning: &[Option<bool>],
    min_group_size: u64,
) -> Vec<SegmentGroup> {
    let groups = FieldGroups::of(input, field, returning);
    let counted = GroupCounts::of(input, &groups.row_group, groups.values.len());
    let mut hidden = counted.small(min_group_size);
    let all: Vec<usize> = (0..groups.values.len()).collect();
    hide_complements(&counted.counts, &all, &mut hidden, min_group_size);
    let tallies = counted.tallies(scorer, input, &hidden);
    groups
        .values
        .into_iter()
        .enumerate()
        .filter(|(group, _)| counted.counts[*group] > 0)
        .map(|(group, value)| SegmentGroup {
            value,
            n: counted.counts[group],
            suppressed: hidden[group],
            figures: tallies[group].as_ref().map(|tally| tally.figures(scorer)),
            label: None,
        })
        .collect()
}

/// The cells of a two-field breakdown, counted, suppressed by row and by column, tallied
/// where shown, and neighbouring shown cells of each row compared.
fn crossing(
    scorer: &Scorer,
    input: &ReportInput,
    pair: &FieldPair,
    returning: &[Option<bool>],
    min_group_size: u64,
) -> Crossing {
    let rows = FieldGroups::of(input, &pair.first, returning);
    let columns = FieldGroups::of(input, &pair.second, returning);
    let n_columns = columns.values.len();
    let n_cells = rows.values.len() * n_columns;
    let row_cell: Vec<u32> = rows
        .row_group
        .iter()
        .zip(&columns.row_group)
        .map(|(row, column)| row * n_columns as u32 + column)
        .collect();
    let counted = GroupCounts::of(input, &row_cell, n_cells);
    let hidden = hidden_cells(
        &counted.counts,
        rows.values.len(),
        n_columns,
        counted.small(min_group_size),
        min_group_size,
    );
    let tallies = counted.tallies(scorer, input, &hidden);
    let mut groups = Vec::new();
    let mut comparisons = Vec::new();
    for (row_idx, within) in rows.values.iter().enumerate() {
        let cells = row_idx * n_columns..(row_idx + 1) * n_columns;
        for (cell, value) in cells.clone().zip(&columns.values) {
            if counted.counts[cell] > 0 {
                groups.push(CrossGroup {
                    first: within.clone(),
                    second: value.clone(),
                    n: counted.counts[cell],
                    suppressed: hidden[cell],
                    figures: tallies[cell].as_ref().map(|tally| tally.figures(scorer)),
                    first_label: None,
                    second_label: None,
                });
            }
        }
        let shown: Vec<usize> = cells.filter(|cell| counted.shown(&hidden, *cell)).collect();
        for neighbours in shown.windows(2) {
            let [earlier, later] = [neighbours[0], neighbours[1]].map(|cell| {
                ScoreSums::of_tally(tallies[cell].as_ref().expect("shown cells are tallied"))
            });
            let (nps_test, crq_test) = earlier.tests(&later, scorer);
            comparisons.push(CrossComparison {
                within: within.clone(),
                first: columns.values[neighbours[0] % n_columns].clone(),
                second: columns.values[neighbours[1] % n_columns].clone(),
                nps_test,
                crq_test,
            });
        }
    }
    Crossing {
        first: pair.first.name().to_owned(),
        second: pair.second.name().to_owned(),
        groups,
        comparisons,
    }
}

/// Which cells of a table (`n_rows` × `n_columns`, row by row) show counts only: those
/// `hidden` already, then the one-field rule ([`hide_complements`]) applied to every row and
/// every column in turn until nothing changes. Otherwise a hidden cell could be recovered
/// by subtracting the shown cells from its row's total or its column's total, which the
/// one-field breakdowns and the overall figures give.
fn hidden_cells(
    counts: &[u64],
    n_rows: usize,
    n_columns: usize,
    mut hidden: Vec<bool>,
    min_group_size: u64,
) -> Vec<bool> {
    let lines: Vec<Vec<usize>> = (0..n_rows)
        .map(|row| {
            (0..n_columns)
                .map(|column| row * n_columns + column)
                .collect()
        })
        .chain(
            (0..n_columns).map(|column| (0..n_rows).map(|row| row * n_columns + column).collect()),
        )
        .collect();
    // Cells are only ever added, so this ends.
    while lines.iter().fold(false, |changed, line| {
        hide_complements(counts, line, &mut hidden, min_group_size) | changed
    }) {}
    hidden
}

/// Complementary suppression within one line of groups (`line`, in value order): if the
/// hidden groups of the line hold some responses but fewer than the minimum size together,
/// hides the next smallest shown groups until they do. Otherwise the line's total minus the
/// groups shown would give the hidden ones away. Ties between equal counts go to the group
/// that comes first in value order. Returns whether it hid any.
fn hide_complements(
    counts: &[u64],
    line: &[usize],
    hidden: &mut [bool],
    min_group_size: u64,
) -> bool {
    let mut hidden_total: u64 = line
        .iter()
        .filter(|group| hidden[**group])
        .map(|group| counts[*group])
        .sum();
    if hidden_total == 0 || hidden_total >= min_group_size {
        return false;
    }
    let mut next: Vec<usize> = line
        .iter()
        .copied()
        .filter(|group| counts[*group] > 0 && !hidden[*group])
        .collect();
    // Stable, so equal counts keep value order.
    next.sort_by_key(|group| counts[*group]);
    let mut changed = false;
    for group in next {
        if hidden_total >= min_group_size {
            break;
        }
        hidden[group] = true;
        hidden_total += counts[group];
        changed = true;
    }
    changed
}

/// Σx and Σx² of the 0–10 answers, and of the overall CRQ, of a set of observations.
#[derive(Default, Clone, Copy)]
struct ScoreSums {
    nps: Moments,
    crq: Moments,
}

impl ScoreSums {
    /// The sums of the responses a tally counted.
    fn of_tally(tally: &Tally) -> Self {
        let mut nps = Moments::default();
        for (answer, count) in tally.nps_histogram[..11].iter().enumerate() {
            let answer = answer as u128;
            nps.n += count;
            nps.sum += answer * u128::from(*count);
            nps.sum_squares += answer * answer * u128::from(*count);
        }
        ScoreSums {
            nps,
            crq: tally.overall,
        }
    }

    /// Adds a 0–10 answer (or [`NO_NPS`]) and an overall CRQ, scaled (or [`NO_SCORE`]).
    fn add(&mut self, nps: u8, overall: u64) {
        if nps != NO_NPS {
            let answer = u128::from(nps);
            self.nps.n += 1;
            self.nps.sum += answer;
            self.nps.sum_squares += answer * answer;
        }
        if overall != NO_SCORE {
            self.crq.n += 1;
            self.crq.sum += u128::from(overall);
            self.crq.sum_squares += u128::from(overall) * u128::from(overall);
        }
    }

    fn nps_mean(&self) -> Option<f64> {
        (self.nps.n > 0).then(|| self.nps.sum as f64 / self.nps.n as f64)
    }

    fn crq_mean(&self, scorer: &Scorer) -> Option<f64> {
        (self.crq.n > 0)
            .then(|| self.crq.sum as f64 / self.crq.n as f64 / scorer.overall_scale() as f64)
    }

    fn nps_moments(&self) -> Option<GroupMoments> {
        GroupMoments::from_sums(self.nps.n, self.nps.sum as f64, self.nps.sum_squares as f64)
    }

    fn crq_moments(&self, scorer: &Scorer) -> Option<GroupMoments> {
        let scale = scorer.overall_scale() as f64;
        GroupMoments::from_sums(
            self.crq.n,
            self.crq.sum as f64 / scale,
            self.crq.sum_squares as f64 / (scale * scale),
        )
    }

    /// Welch's t-tests of these responses' means minus `other`'s, on the 0–10 answer and
    /// on overall CRQ; each absent when a side has too few answers or neither has spread.
    fn tests(&self, other: &ScoreSums, scorer: &Scorer) -> (Option<WelchTest>, Option<WelchTest>) {
        let test =
            |first: Option<GroupMoments>, second: Option<GroupMoments>| welch(first?, second?);
        (
            test(self.nps_moments(), other.nps_moments()),
            test(self.crq_moments(scorer), other.crq_moments(scorer)),
        )
    }
}

fn compare_confidentiality(
    scorer: &Scorer,
    confidential: &Tally,
    identified: &Tally,
    min_group_size: u64,
) -> Option<ConfidentialityComparison> {
    let (n_confidential, n_identified) = (confidential.n, identified.n);
    let (confidential, identified) = (
        ScoreSums::of_tally(confidential),
        ScoreSums::of_tally(identified),
    );
    if n_identified == 0 && n_confidential == 0 {
        return None;
    }
    let suppressed = n_confidential < min_group_size || n_identified < min_group_size;
    let group = |n, sums: &ScoreSums| ComparisonGroup {
        n,
        nps_mean: if suppressed { None } else { sums.nps_mean() },
        crq_mean: if suppressed {
            None
        } else {
            sums.crq_mean(scorer)
        },
    };
    let (nps_test, crq_test) = if suppressed {
        (None, None)
    } else {
        confidential.tests(&identified, scorer)
    };
    Some(ConfidentialityComparison {
        confidential: group(n_confidential, &confidential),
        identified: group(n_identified, &identified),
        suppressed,
        nps_test,
        crq_test,
    })
}

/// A row's overall CRQ (scaled) where it has none.
const NO_SCORE: u64 = u64::MAX;

/// What the wave comparison keeps of a respondent's latest response in one wave.
#[derive(Clone, Copy)]
struct WaveAnswer {
    /// The 0–10 answer or [`NO_NPS`].
    nps: u8,
    /// The confidentiality choice's index, or `NOT_ANSWERED`.
    choice: u8,
    /// The overall CRQ (scaled), or [`NO_SCORE`].
    overall: u64,
}

impl WaveAnswer {
    const NOT_ANSWERED: u8 = u8::MAX;
    const ABSENT: WaveAnswer = WaveAnswer {
        nps: NO_NPS,
        choice: Self::NOT_ANSWERED,
        overall: NO_SCORE,
    };
}

/// One confidentiality choice's side of a wave comparison, as it is summed.
#[derive(Default, Clone, Copy)]
struct WaveSums {
    respondents: u64,
    completed: u64,
    first: ScoreSums,
    second: ScoreSums,
    n_changes: u64,
    change_sum: i128,
}

/// `overall_scores` holds each row's overall CRQ (scaled) or [`NO_SCORE`]. Every pass reads
/// rows or respondents in order: a million responses do not fit a cache, and following
/// row numbers at random would wait on memory for each.
fn compare_waves(
    scorer: &Scorer,
    input: &ReportInput,
    wave_names: &[&str],
    ranks: &[Option<usize>],
    overall_scores: &[u64],
    min_group_size: u64,
) -> Vec<WaveComparison> {
    // The latest response of each respondent in each wave, by wave rank and respondent code.
    let n_respondents = input.respondents.values.len();
    let mut latest = vec![vec![WaveAnswer::ABSENT; n_respondents]; wave_names.len()];
    for (row, (respondent, wave)) in input
        .respondents
        .codes
        .iter()
        .zip(&input.waves.codes)
        .enumerate()
    {
        if input.respondents.none == Some(*respondent) {
            continue;
        }
        if let Some(rank) = ranks[*wave as usize] {
            let observation = &input.observations[row];
            latest[rank][*respondent as usize] = WaveAnswer {
                nps: observation.nps,
                choice: observation.confidentiality as u8,
                overall: overall_scores[row],
            };
        }
    }
    (0..wave_names.len() - 1)
        .map(|rank| {
            let mut sums = [WaveSums::default(); 3];
            for (first, second) in latest[rank].iter().zip(&latest[rank + 1]) {
                if first.choice == WaveAnswer::NOT_ANSWERED {
                    continue;
                }
                let group = &mut sums[usize::from(first.choice)];
                group.respondents += 1;
                group.first.add(first.nps, first.overall);
                if second.choice != WaveAnswer::NOT_ANSWERED {
                    group.completed += 1;
                    group.second.add(second.nps, second.overall);
                    if first.overall != NO_SCORE && second.overall != NO_SCORE {
                        group.n_changes += 1;
                        group.change_sum += i128::from(second.overall) - i128::from(first.overall);
                    }
                }
            }
            let groups = [
                ConfidentialityChoice::Confidential,
                ConfidentialityChoice::Identified,
            ]
            .into_iter()
            .filter_map(|choice| {
                let group = &sums[choice as usize];
                if group.respondents == 0 {
                    return None;
                }
                let suppressed = group.respondents < min_group_size;
                let shown = |value: Option<f64>| if suppressed { None } else { value };
                Some(WaveGroup {
                    choice,
                    respondents: group.respondents,
                    completed: group.completed,
                    completion_rate: group.completed as f64 / group.respondents as f64,
                    suppressed,
                    nps_mean_first: shown(group.first.nps_mean()),
                    nps_mean_second: shown(group.second.nps_mean()),
                    crq_mean_first: shown(group.first.crq_mean(scorer)),
                    crq_mean_second: shown(group.second.crq_mean(scorer)),
                    crq_change: shown((group.n_changes > 0).then(|| {
                        group.change_sum as f64
                            / group.n_changes as f64
                            / scorer.overall_scale() as f64
                    })),
                })
            })
            .collect::<Vec<_>>();
            WaveComparison {
                first_wave: wave_names[rank].to_owned(),
                second_wave: wave_names[rank + 1].to_owned(),
                groups,
            }
        })
        .filter(|comparison| comparison.groups.iter().any(|group| group.completed > 0))
        .collect()
}

fn topic_shares(definition: &SurveyDefinition, input: &ReportInput) -> Vec<TopicShare> {
    let topic_bytes = input.layout.topic_bytes();
    let mut mentions_by_topic = vec![(0u64, 0u64); input.layout.n_topics()];
    if topic_bytes > 0 {
        // How often each byte value occurs at each position of a row's topic bits, then the
        // bits counted from those: one increment per byte instead of one per topic.
        let mut histograms = vec![[0u64; 256]; 2 * topic_bytes];
        for row in input.topics.chunks_exact(2 * topic_bytes) {
            for (histogram, byte) in histograms.iter_mut().zip(row) {
                histogram[usize::from(*byte)] += 1;
            }
        }
        let count_bit = |histogram: &[u64; 256], bit: usize| -> u64 {
            histogram
                .iter()
                .enumerate()
                .filter(|(byte, _)| byte >> bit & 1 == 1)
                .map(|(_, n)| n)
                .sum()
        };
        for (topic_idx, (strength_mentions, weakness_mentions)) in
            mentions_by_topic.iter_mut().enumerate()
        {
            *strength_mentions = count_bit(&histograms[topic_idx / 8], topic_idx % 8);
            *weakness_mentions = count_bit(&histograms[topic_bytes + topic_idx / 8], topic_idx % 8);
        }
    }
    let n = input.len().max(1) as f64;
    definition
        .topics
        .iter()
        .zip(mentions_by_topic)
        .map(
            |(topic, (strength_mentions, weakness_mentions))| TopicShare {
                topic: topic.id.clone(),
                label: topic.label.english().to_owned(),
                strength_mentions,
                strength_share: strength_mentions as f64 / n,
                weakness_mentions,
                weakness_share: weakness_mentions as f64 / n,
            },
        )
        .collect()
}
