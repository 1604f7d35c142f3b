//! Reports that span several versions of a survey.
//!
//! A programme changes its survey between waves (a question added, the confidentiality
//! option removed) by storing a new version, and still wants one wave comparison and one
//! trend. [`span_versions`] carries the responses of earlier versions into the layout of the
//! version a report is about, question by question **by id**: a rating, a topic or a choice
//! keeps its meaning only where both versions give it the same id, and what the later version
//! asks that an earlier one did not is left unanswered in that earlier version's responses,
//! so every figure over a question counts only the versions that asked it. A version spans
//! only if it asks the same 0–10 question (by id): otherwise the headline would mix two
//! questions.
//!
//! Scores are recomputed under the report's version: its levels, its thresholds. Each row
//! remembers the version it answered, so the report says which versions it spans and what
//! each did not ask ([`VersionSpan`]).
//!
//! Disclosure holds across versions: each version's part is what its own release lets be
//! seen, each published batch keeps its rows and gets an id of its own in the whole, so a
//! filter or a breakdown still counts every batch whole or not at all.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{NO_BATCH, ReportInput};
use crate::definition::{Question, SurveyDefinition};
use crate::ids::QuestionId;
use crate::score::{NO_RATING, Observation};
use crate::visibility::BatchId;

/// A survey version a spanning report counts, as the report says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VersionSpan {
    /// The version.
    pub version: u32,
    /// How many of the report's responses answered it.
    pub n: u64,
    /// The questions of the report's version that this version did not ask, by id: their
    /// figures do not count this version's responses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_asked: Vec<QuestionId>,
}

/// What a spanning input remembers of each version it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SpannedVersion {
    pub(super) version: u32,
    pub(super) not_asked: Vec<QuestionId>,
}

/// Why versions cannot be reported on together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// A version of another survey.
    #[error("version {version} of survey {other:?} is not a version of survey {survey:?}")]
    OtherSurvey {
        /// The survey reported on.
        survey: String,
        /// The survey of the version offered.
        other: String,
        /// The version offered.
        version: u32,
    },
    /// A version that does not ask the report's 0–10 question.
    #[error(
        "version {version} does not ask the 0–10 question {question:?} of version {target}, so one report cannot count both"
    )]
    NoSharedQuestion {
        /// The version that cannot be spanned.
        version: u32,
        /// The version reported on.
        target: u32,
        /// The 0–10 question of the version reported on.
        question: String,
    },
    /// Versions given out of order, twice, or later than the one reported on.
    #[error("versions must be given oldest first, each once, ending with version {target}")]
    Order {
        /// The version reported on.
        target: u32,
    },
    /// Some parts are releases for a role other than admin and some are not.
    #[error("the parts must all be releases, or none")]
    MixedRelease,
}

/// Whether a version asks the same 0–10 question as the version reported on.
pub fn shares_question(target: &SurveyDefinition, earlier: &SurveyDefinition) -> bool {
    earlier.id == target.id && nps_id(earlier).is_some() && nps_id(earlier) == nps_id(target)
}

fn nps_id(definition: &SurveyDefinition) -> Option<&QuestionId> {
    definition
        .questions
        .iter()
        .find_map(|question| match question {
            Question::Nps { id, .. } => Some(id),
            _ => None,
        })
}

/// One report input over `parts`, each a version of `target`'s survey with the input of its
/// responses, oldest first and ending with `target` itself: every earlier version's
/// responses carried into `target`'s layout by question id. The parts are all releases
/// (what a role other than admin may see of each version) or none.
pub fn span_versions(
    target: &SurveyDefinition,
    parts: &[(&SurveyDefinition, &ReportInput)],
) -> Result<ReportInput, SpanError> {
    let order_refused = SpanError::Order {
        target: target.version,
    };
    match parts.last() {
        Some((last, _)) if last.version == target.version && last.id == target.id => {}
        _ => return Err(order_refused),
    }
    if parts
        .windows(2)
        .any(|pair| pair[0].0.version >= pair[1].0.version)
    {
        return Err(order_refused);
    }
    for (definition, _) in parts {
        if definition.id != target.id {
            return Err(SpanError::OtherSurvey {
                survey: target.id.to_string(),
                other: definition.id.to_string(),
                version: definition.version,
            });
        }
        if !shares_question(target, definition) {
            return Err(SpanError::NoSharedQuestion {
                version: definition.version,
                target: target.version,
                question: nps_id(target).map(ToString::to_string).unwrap_or_default(),
            });
        }
    }
    let released = parts
        .iter()
        .filter(|(_, input)| input.is_released())
        .count();
    if released != 0 && released != parts.len() {
        return Err(SpanError::MixedRelease);
    }
    let mut whole = ReportInput::new(target);
    whole.parts = Some(Vec::new());
    if released != 0 {
        whole.batches = Some(Vec::new());
    }
    let mut spanned = Vec::with_capacity(parts.len());
    for (part, (definition, input)) in parts.iter().enumerate() {
        spanned.push(SpannedVersion {
            version: definition.version,
            not_asked: not_asked(target, definition),
        });
        whole.carry(definition, target, input, part as u16);
    }
    whole.spanned = Arc::new(spanned);
    Ok(whole)
}

/// The questions of `target` that `earlier` does not ask (by id), in `target`'s order.
fn not_asked(target: &SurveyDefinition, earlier: &SurveyDefinition) -> Vec<QuestionId> {
    target
        .questions
        .iter()
        .map(Question::id)
        .filter(|id| !earlier.questions.iter().any(|asked| asked.id() == *id))
        .cloned()
        .collect()
}

impl ReportInput {
    /// Appends every row of `input`, made for `source`, carried into this input's layout
    /// (made for `target`) by question id, as part `part`.
    fn carry(
        &mut self,
        source: &SurveyDefinition,
        target: &SurveyDefinition,
        input: &ReportInput,
        part: u16,
    ) {
        // Where each of the target's rated items, topics and choice questions sits in the
        // source, if it asks it.
        let rated_from: Vec<Option<usize>> = self
            .layout
            .rated()
            .iter()
            .map(|id| input.layout.rated().iter().position(|asked| asked == id))
            .collect();
        let topic_from: Vec<Option<usize>> = target
            .topics
            .iter()
            .map(|topic| source.topics.iter().position(|asked| asked.id == topic.id))
            .collect();
        let source_choices: Vec<&QuestionId> = input.layout.choice_questions().collect();
        let choice_from: Vec<Option<usize>> = self
            .layout
            .choice_questions()
            .map(|id| source_choices.iter().position(|asked| *asked == id))
            .collect();
        let source_stride = input.layout.topic_bytes();
        let stride = self.layout.topic_bytes();
        let batch_offset = self.batches.as_deref().map_or(0, super::n_batch_slots) as BatchId;
        for row in 0..input.len() {
            let from = input.observations[row];
            let mut ratings = [NO_RATING; crate::definition::MAX_RATED_ITEMS];
            for (slot, at) in ratings.iter_mut().zip(&rated_from) {
                if let Some(at) = at {
                    *slot = from.ratings[*at];
                }
            }
            self.observations.push(Observation { ratings, ..from });
            let source_topics =
                &input.topics[row * 2 * source_stride..(row + 1) * 2 * source_stride];
            for half in 0..2 {
                let bits = &source_topics[half * source_stride..(half + 1) * source_stride];
                let mut carried = vec![0u8; stride];
                for (topic, at) in topic_from.iter().enumerate() {
                    if let Some(at) = at
                        && bits[at / 8] & (1 << (at % 8)) != 0
                    {
                        carried[topic / 8] |= 1 << (topic % 8);
                    }
                }
                self.topics.extend(carried);
            }
            for (idx, (column, at)) in self.choices.iter_mut().zip(&choice_from).enumerate() {
                let chosen = at.and_then(|at| input.choices[at].value(row));
                let encoded = self
                    .layout
                    .encode_choice(idx, chosen.into_iter().flat_map(|value| value.split('+')));
                let layout = &self.layout;
                column.push_keyed(&encoded, || layout.choice_value(idx, &encoded));
            }
            self.accounts.push(input.accounts.value(row));
            self.matters.push(input.matters.value(row));
            self.waves.push(input.waves.value(row));
            self.respondents.push(input.respondents.value(row));
            self.returning.push(input.returning[row]);
            self.arrivals.push(input.arrivals[row]);
            self.received.push(input.received[row]);
            if let Some(batches) = &mut self.batches {
                let batch = input.batches.as_ref().map_or(NO_BATCH, |held| held[row]);
                batches.push(if batch == NO_BATCH {
                    NO_BATCH
                } else {
                    batch + batch_offset
                });
            }
            if let Some(parts) = &mut self.parts {
                parts.push(part);
            }
            self.origin
                .get_or_insert_with(Vec::new)
                .push(input.source_row(row).row as u32);
        }
    }

    /// The versions this input holds responses of, with how many each, oldest first; one
    /// entry per version that has responses. Empty for an input of one version.
    pub fn version_spans(&self) -> Vec<VersionSpan> {
        let Some(parts) = &self.parts else {
            return Vec::new();
        };
        let mut counts = vec![0u64; self.spanned.len()];
        for part in parts {
            counts[usize::from(*part)] += 1;
        }
        self.spanned
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(spanned, n)| VersionSpan {
                version: spanned.version,
                n,
                not_asked: spanned.not_asked.clone(),
            })
            .collect()
    }
}

/// Whether a report's versions need saying: more than one.
pub(super) fn spans_one(spans: &[VersionSpan]) -> bool {
    spans.len() <= 1
}

/// The rows of the kept `rows`' parts, for [`ReportInput::select`].
pub(super) fn select_parts(parts: &Option<Vec<u16>>, rows: &[usize]) -> Option<Vec<u16>> {
    parts
        .as_ref()
        .map(|parts| rows.iter().map(|row| parts[*row]).collect())
}
