//! Closing the loop: which responses need a conversation with the client, and why.
//!
//! After a wave, the account manager meets each client to discuss its feedback. A response
//! needs that conversation when it is a detractor (0–6), when its relationship is a Stalker
//! or an Opponent, when it rates any CRQ element low ([`LOW_RATING`] or below on the 1–7
//! scale), or when it rates any contract-experience item at or below the survey's
//! `close_loop.experience_threshold` (default 3). This module only names the reasons; who
//! may see which response is the server's business.

use serde::{Deserialize, Serialize};

use crate::answer::Answers;
use crate::definition::{Question, SurveyDefinition, TextPurpose};
use crate::ids::QuestionId;
use crate::score::{NpsCategory, Observation, RelationshipCategory, Scorer};

/// The highest element rating (1–7) that counts as low: the disagreeing side of the scale.
pub const LOW_RATING: u8 = 3;

/// Why a response needs a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Reason {
    /// Answered 0–6 to the recommendation question.
    Detractor,
    /// The overall CRQ puts the relationship among the Stalkers or the Opponents.
    Relationship {
        /// The category.
        category: RelationshipCategory,
    },
    /// A CRQ element rated [`LOW_RATING`] or below.
    LowElement {
        /// The element.
        element: QuestionId,
        /// Its rating, 1–7.
        rating: u8,
    },
    /// A contract-experience item rated at or below the survey's
    /// `close_loop.experience_threshold` (default 3).
    LowExperience {
        /// The contract-experience item.
        item: QuestionId,
        /// Its rating, 1–7.
        rating: u8,
    },
}

/// Every reason a response needs a conversation, in a fixed order (detractor, relationship,
/// low elements by id, then low contract-experience items by id); empty when it needs none.
/// `scorer` is the response's survey version compiled, which says which rated items are
/// contract-experience items and how low a rating of theirs must be.
pub fn conversation_reasons(scorer: &Scorer, answers: &Answers) -> Vec<Reason> {
    let score = scorer.score(answers);
    let mut reasons = Vec::new();
    if score.nps_category == Some(NpsCategory::Detractor) {
        reasons.push(Reason::Detractor);
    }
    if let Some(category) = score
        .relationship
        .filter(|category| category.needs_conversation())
    {
        reasons.push(Reason::Relationship { category });
    }
    reasons.extend(
        score
            .elements
            .iter()
            .filter(|(_, rating)| **rating <= LOW_RATING)
            .map(|(element, rating)| Reason::LowElement {
                element: element.clone(),
                rating: *rating,
            }),
    );
    let mut low_experience: Vec<(&QuestionId, u8)> = scorer
        .rated_ids()
        .iter()
        .enumerate()
        .filter(|(rated_idx, _)| scorer.level_of_rated(*rated_idx).is_none())
        .filter_map(|(_, item)| Some((item, answers.ratings.get(item)?.get())))
        .filter(|(_, rating)| *rating <= scorer.experience_threshold())
        .collect();
    low_experience.sort();
    reasons.extend(
        low_experience
            .into_iter()
            .map(|(item, rating)| Reason::LowExperience {
                item: item.clone(),
                rating,
            }),
    );
    reasons
}

/// Whether a response needs a conversation, from its compact observation: the same answer as
/// `!conversation_reasons(scorer, &answers).is_empty()` for the response's answers, without
/// scoring them, so that a list of thousands of responses can be sorted out before any is
/// read in full.
pub fn needs_conversation(scorer: &Scorer, observation: &Observation) -> bool {
    if observation.nps <= 6 {
        return true;
    }
    if scorer
        .measure(observation)
        .overall
        .is_some_and(|overall| scorer.category_of_scaled(overall).needs_conversation())
    {
        return true;
    }
    observation
        .ratings
        .iter()
        .enumerate()
        .take(scorer.rated_ids().len())
        .any(|(rated_idx, rating)| {
            let low = match scorer.level_of_rated(rated_idx) {
                Some(_) => LOW_RATING,
                None => scorer.experience_threshold(),
            };
            (1..=low).contains(rating)
        })
}

/// What a response said, in its own words, about the greatest strength and the greatest
/// weakness (the open questions with those purposes), joined when a survey asks several.
pub fn strength_and_weakness(
    definition: &SurveyDefinition,
    answers: &Answers,
) -> (Option<String>, Option<String>) {
    let said = |wanted: TextPurpose| {
        let texts: Vec<&str> = definition
            .questions
            .iter()
            .filter_map(|question| match question {
                Question::Text { id, purpose, .. } if *purpose == wanted => {
                    answers.texts.get(id).map(String::as_str)
                }
                _ => None,
            })
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    };
    (said(TextPurpose::Strength), said(TextPurpose::Weakness))
}
