//! Reports: the overall figures, segment breakdowns with small-group suppression, the
//! confidential-vs-identified comparison, the wave comparison and open-text topic shares.
//!
//! The report is computed from [`ResponseRecord`]s, which the server builds from stored rows
//! and `rapport score` from a JSONL file. Any group smaller than the survey's minimum group
//! size shows its count only: this module never emits a score for such a group, whatever
//! the caller's role. Restricting *which* reports a role may request is the server's job.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::aggregate::{Figures, Moments, Tally};
use crate::definition::{Question, SurveyDefinition, TextPurpose};
use crate::ids::{QuestionId, SurveyId, TopicId};
use crate::score::{NpsCategory, Observation, Scorer, NO_NPS};
use crate::stats::{welch, GroupMoments, WelchTest};
use crate::validate::{Answers, ValidResponse};
use crate::wire::{ConfidentialityChoice, Context};

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
}

impl ResponseRecord {
    /// The record of a validated response, keyed by the email the respondent gave (lowercased).
    /// The server passes the invitation's contact instead when there is one.
    pub fn from_valid(valid: &ValidResponse) -> Self {
        let respondent_key = valid.wire.identity.as_ref().and_then(|identity| identity.email.as_ref()).map(|email| email.trim().to_lowercase());
        ResponseRecord { answers: valid.answers.clone(), confidentiality: valid.wire.confidentiality, context: valid.wire.context.clone(), respondent_key }
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
    #[error("cannot segment by {field:?}: use account, matter, wave, returning, confidentiality, nps-category, or the id of a role or choice question")]
    UnknownSegmentField {
        /// What was asked for.
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
                Some(question @ (Question::Role { .. } | Question::Choice { .. })) => SegmentField::Question(question.id().clone()),
                _ => return Err(ReportError::UnknownSegmentField { field: name.chars().take(80).collect() }),
            },
        })
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

/// What to include in a report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Breakdowns to compute.
    pub segments: Vec<SegmentField>,
    /// Overrides the survey's minimum group size.
    pub min_group_size: Option<u32>,
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
    /// Confidential vs identified; absent when the survey offers no choice or nobody chose.
    pub confidentiality_comparison: Option<ConfidentialityComparison>,
    /// Each pair of consecutive waves that share followed respondents.
    pub wave_comparisons: Vec<WaveComparison>,
    /// Topic shares over all respondents.
    pub topics: Vec<TopicShare>,
}

const NONE_VALUE: &str = "(none)";

/// Builds a report. Records must all answer `definition` (same id and version).
pub fn build_report(definition: &SurveyDefinition, records: &[ResponseRecord], options: &ReportOptions) -> Report {
    let scorer = Scorer::new(definition);
    let min_group_size = u64::from(options.min_group_size.unwrap_or(definition.min_group_size));
    let observations: Vec<Observation> = records.iter().map(|record| scorer.observe(&record.answers, record.confidentiality)).collect();
    let tally_of = |indices: &mut dyn Iterator<Item = usize>| {
        let mut tally = Tally::new(&scorer);
        for idx in indices {
            tally.add(&scorer, &observations[idx]);
        }
        tally
    };
    let overall = tally_of(&mut (0..records.len())).figures(&scorer);

    let returning = returning_flags(records);
    let segments = options
        .segments
        .iter()
        .map(|field| {
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (idx, record) in records.iter().enumerate() {
                groups.entry(segment_value(field, record, returning[idx])).or_default().push(idx);
            }
            Segmentation {
                field: field.name().to_owned(),
                groups: groups
                    .into_iter()
                    .map(|(value, members)| {
                        let n = members.len() as u64;
                        let suppressed = n < min_group_size;
                        let figures = (!suppressed).then(|| tally_of(&mut members.into_iter()).figures(&scorer));
                        SegmentGroup { value, n, suppressed, figures }
                    })
                    .collect(),
            }
        })
        .collect();

    let confidentiality_comparison = compare_confidentiality(&scorer, records, &observations, min_group_size);
    let wave_comparisons = compare_waves(&scorer, records, &observations, min_group_size);
    Report {
        survey_id: definition.id.clone(),
        survey_version: definition.version,
        min_group_size: min_group_size as u32,
        overall,
        segments,
        confidentiality_comparison,
        wave_comparisons,
        topics: topic_shares(definition, records),
    }
}

/// For each record: `Some(true)` if the respondent answered an earlier wave, `Some(false)` if
/// this is their first, `None` if it cannot be told. An explicit `context.returning` wins.
fn returning_flags(records: &[ResponseRecord]) -> Vec<Option<bool>> {
    let mut first_wave: BTreeMap<&str, &str> = BTreeMap::new();
    for record in records {
        if let (Some(key), Some(wave)) = (&record.respondent_key, &record.context.wave) {
            let first = first_wave.entry(key).or_insert(wave);
            if wave.as_str() < *first {
                *first = wave;
            }
        }
    }
    records
        .iter()
        .map(|record| {
            record.context.returning.or_else(|| match (&record.respondent_key, &record.context.wave) {
                (Some(key), Some(wave)) => Some(first_wave[key.as_str()] < wave.as_str()),
                _ => None,
            })
        })
        .collect()
}

fn segment_value(field: &SegmentField, record: &ResponseRecord, returning: Option<bool>) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| NONE_VALUE.to_owned());
    match field {
        SegmentField::Account => text(&record.context.account),
        SegmentField::Matter => text(&record.context.matter),
        SegmentField::Wave => text(&record.context.wave),
        SegmentField::Returning => match returning {
            Some(true) => "returning".to_owned(),
            Some(false) => "new".to_owned(),
            None => NONE_VALUE.to_owned(),
        },
        SegmentField::Confidentiality => record.confidentiality.as_str().to_owned(),
        SegmentField::NpsCategory => record.answers.nps.map_or(NONE_VALUE, |answer| NpsCategory::of(answer).as_str()).to_owned(),
        SegmentField::Question(id) => match record.answers.choices.get(id) {
            Some(chosen) if !chosen.is_empty() => chosen.iter().map(|option| option.as_str()).collect::<Vec<_>>().join("+"),
            _ => NONE_VALUE.to_owned(),
        },
    }
}

/// Σx and Σx² of the 0–10 answers, and of the overall CRQ, of a set of observations.
#[derive(Default, Clone, Copy)]
struct ScoreSums {
    nps: Moments,
    crq: Moments,
}

impl ScoreSums {
    fn add(&mut self, scorer: &Scorer, observation: &Observation) {
        if observation.nps != NO_NPS {
            let answer = u128::from(observation.nps);
            self.nps.n += 1;
            self.nps.sum += answer;
            self.nps.sum_squares += answer * answer;
        }
        if let Some(scaled) = scorer.measure(observation).overall {
            self.crq.n += 1;
            self.crq.sum += u128::from(scaled);
            self.crq.sum_squares += u128::from(scaled) * u128::from(scaled);
        }
    }

    fn nps_mean(&self) -> Option<f64> {
        (self.nps.n > 0).then(|| self.nps.sum as f64 / self.nps.n as f64)
    }

    fn crq_mean(&self, scorer: &Scorer) -> Option<f64> {
        (self.crq.n > 0).then(|| self.crq.sum as f64 / self.crq.n as f64 / scorer.overall_scale() as f64)
    }

    fn nps_moments(&self) -> Option<GroupMoments> {
        GroupMoments::from_sums(self.nps.n, self.nps.sum as f64, self.nps.sum_squares as f64)
    }

    fn crq_moments(&self, scorer: &Scorer) -> Option<GroupMoments> {
        let scale = scorer.overall_scale() as f64;
        GroupMoments::from_sums(self.crq.n, self.crq.sum as f64 / scale, self.crq.sum_squares as f64 / (scale * scale))
    }
}

fn compare_confidentiality(scorer: &Scorer, records: &[ResponseRecord], observations: &[Observation], min_group_size: u64) -> Option<ConfidentialityComparison> {
    let (mut confidential, mut identified) = (ScoreSums::default(), ScoreSums::default());
    let (mut n_confidential, mut n_identified) = (0u64, 0u64);
    for (record, observation) in records.iter().zip(observations) {
        match record.confidentiality {
            ConfidentialityChoice::Confidential => {
                n_confidential += 1;
                confidential.add(scorer, observation);
            }
            ConfidentialityChoice::Identified => {
                n_identified += 1;
                identified.add(scorer, observation);
            }
            ConfidentialityChoice::Anonymous => {}
        }
    }
    if n_identified == 0 && n_confidential == 0 {
        return None;
    }
    let suppressed = n_confidential < min_group_size || n_identified < min_group_size;
    let group = |n, sums: &ScoreSums| ComparisonGroup {
        n,
        nps_mean: if suppressed { None } else { sums.nps_mean() },
        crq_mean: if suppressed { None } else { sums.crq_mean(scorer) },
    };
    let test = |first: Option<GroupMoments>, second: Option<GroupMoments>| match (suppressed, first, second) {
        (false, Some(first), Some(second)) => welch(first, second),
        _ => None,
    };
    Some(ConfidentialityComparison {
        confidential: group(n_confidential, &confidential),
        identified: group(n_identified, &identified),
        suppressed,
        nps_test: test(confidential.nps_moments(), identified.nps_moments()),
        crq_test: test(confidential.crq_moments(scorer), identified.crq_moments(scorer)),
    })
}

fn compare_waves(scorer: &Scorer, records: &[ResponseRecord], observations: &[Observation], min_group_size: u64) -> Vec<WaveComparison> {
    // The latest response of each respondent in each wave.
    let mut by_wave: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (idx, record) in records.iter().enumerate() {
        if let (Some(key), Some(wave)) = (&record.respondent_key, &record.context.wave) {
            by_wave.entry(wave).or_default().insert(key, idx);
        }
    }
    let waves: Vec<&str> = by_wave.keys().copied().collect();
    waves
        .windows(2)
        .map(|pair| {
            let (first, second) = (&by_wave[pair[0]], &by_wave[pair[1]]);
            let groups = [ConfidentialityChoice::Confidential, ConfidentialityChoice::Identified]
                .into_iter()
                .filter_map(|choice| {
                    let members: Vec<(&str, usize)> =
                        first.iter().filter(|(_, idx)| records[**idx].confidentiality == choice).map(|(key, idx)| (*key, *idx)).collect();
                    if members.is_empty() {
                        return None;
                    }
                    let (mut sums_first, mut sums_second) = (ScoreSums::default(), ScoreSums::default());
                    let (mut completed, mut n_changes, mut change_sum) = (0u64, 0u64, 0i128);
                    for (key, first_idx) in &members {
                        sums_first.add(scorer, &observations[*first_idx]);
                        if let Some(second_idx) = second.get(key) {
                            completed += 1;
                            sums_second.add(scorer, &observations[*second_idx]);
                            let before = scorer.measure(&observations[*first_idx]).overall;
                            let after = scorer.measure(&observations[*second_idx]).overall;
                            if let (Some(before), Some(after)) = (before, after) {
                                n_changes += 1;
                                change_sum += i128::from(after) - i128::from(before);
                            }
                        }
                    }
                    let respondents = members.len() as u64;
                    let suppressed = respondents < min_group_size;
                    let shown = |value: Option<f64>| if suppressed { None } else { value };
                    Some(WaveGroup {
                        choice,
                        respondents,
                        completed,
                        completion_rate: completed as f64 / respondents as f64,
                        suppressed,
                        nps_mean_first: shown(sums_first.nps_mean()),
                        nps_mean_second: shown(sums_second.nps_mean()),
                        crq_mean_first: shown(sums_first.crq_mean(scorer)),
                        crq_mean_second: shown(sums_second.crq_mean(scorer)),
                        crq_change: shown((n_changes > 0).then(|| change_sum as f64 / n_changes as f64 / scorer.overall_scale() as f64)),
                    })
                })
                .collect::<Vec<_>>();
            WaveComparison { first_wave: pair[0].to_owned(), second_wave: pair[1].to_owned(), groups }
        })
        .filter(|comparison| comparison.groups.iter().any(|group| group.completed > 0))
        .collect()
}

/// Whether `text` mentions any keyword: a case-insensitive match at the start of a word, so
/// the stem `respons` matches "Responsive" but `cost` does not match "accost".
pub fn mentions(text: &str, keywords: &[String]) -> bool {
    let keywords: Vec<String> = keywords.iter().map(|keyword| keyword.trim().to_lowercase()).collect();
    mentions_lowered(&text.to_lowercase(), &keywords)
}

/// [`mentions`] for a text and keywords already lowercased (and the keywords trimmed), so
/// that a report lowercases each text and keyword once, not once per topic and record.
fn mentions_lowered(lowered: &str, lowered_keywords: &[String]) -> bool {
    lowered_keywords
        .iter()
        .any(|keyword| lowered.match_indices(keyword.as_str()).any(|(at, _)| lowered[..at].chars().next_back().is_none_or(|before| !before.is_alphanumeric())))
}

fn topic_shares(definition: &SurveyDefinition, records: &[ResponseRecord]) -> Vec<TopicShare> {
    let text_ids = |wanted: TextPurpose| -> BTreeSet<&QuestionId> {
        definition
            .questions
            .iter()
            .filter_map(|question| match question {
                Question::Text { id, purpose, .. } if *purpose == wanted => Some(id),
                _ => None,
            })
            .collect()
    };
    let (strength_ids, weakness_ids) = (text_ids(TextPurpose::Strength), text_ids(TextPurpose::Weakness));
    let keywords: Vec<Vec<String>> =
        definition.topics.iter().map(|topic| topic.keywords.iter().map(|keyword| keyword.trim().to_lowercase()).collect()).collect();
    // One pass over the records, lowercasing each text once for every topic.
    let mut mentions_by_topic = vec![(0u64, 0u64); definition.topics.len()];
    let lowered = |record: &ResponseRecord, ids: &BTreeSet<&QuestionId>| -> Vec<String> {
        ids.iter().filter_map(|id| record.answers.texts.get(*id)).map(|text| text.to_lowercase()).collect()
    };
    for record in records {
        let (strengths, weaknesses) = (lowered(record, &strength_ids), lowered(record, &weakness_ids));
        if strengths.is_empty() && weaknesses.is_empty() {
            continue;
        }
        for ((strength_mentions, weakness_mentions), keywords) in mentions_by_topic.iter_mut().zip(&keywords) {
            *strength_mentions += u64::from(strengths.iter().any(|text| mentions_lowered(text, keywords)));
            *weakness_mentions += u64::from(weaknesses.iter().any(|text| mentions_lowered(text, keywords)));
        }
    }
    let n = records.len().max(1) as f64;
    definition
        .topics
        .iter()
        .zip(mentions_by_topic)
        .map(|(topic, (strength_mentions, weakness_mentions))| TopicShare {
            topic: topic.id.clone(),
            label: topic.label.english().to_owned(),
            strength_mentions,
            strength_share: strength_mentions as f64 / n,
            weakness_mentions,
            weakness_share: weakness_mentions as f64 / n,
        })
        .collect()
}
