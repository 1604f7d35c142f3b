//! What scoring says about one response, as data: its NPS category, its relationship
//! category and [`ResponseScore`], the scores the widget sends as its provisional result
//! and the server stores.
//!
//! The scores are computed by `score`; this module holds only their shapes and the fixed
//! meaning of each category, so that the wire format can carry a score without depending
//! on the code that computes it. It depends on `ids` and `answer` only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answer::NpsAnswer;
use crate::ids::{LevelId, QuestionId};

/// Where a 0–10 answer falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum NpsCategory {
    /// 0–6.
    Detractor,
    /// 7–8.
    Passive,
    /// 9–10.
    Promoter,
}

impl NpsCategory {
    /// The category of a 0–10 answer.
    pub fn of(answer: NpsAnswer) -> Self {
        match answer.get() {
            0..=6 => NpsCategory::Detractor,
            7..=8 => NpsCategory::Passive,
            _ => NpsCategory::Promoter,
        }
    }

    /// The lowercase name used on the wire and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            NpsCategory::Detractor => "detractor",
            NpsCategory::Passive => "passive",
            NpsCategory::Promoter => "promoter",
        }
    }
}

/// The relationship category, from the overall CRQ and the survey's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RelationshipCategory {
    /// Overall CRQ at or above the ambassador threshold (default 5.5).
    Ambassador,
    /// At or above the ambivalent threshold (default 4.5).
    Ambivalent,
    /// At or above the stalker threshold (default 3.5). Needs an honest conversation.
    Stalker,
    /// Below the stalker threshold. Needs an honest conversation.
    Opponent,
}

impl RelationshipCategory {
    /// All categories, best first; the order of category counts in reports.
    pub const ALL: [RelationshipCategory; 4] = [
        RelationshipCategory::Ambassador,
        RelationshipCategory::Ambivalent,
        RelationshipCategory::Stalker,
        RelationshipCategory::Opponent,
    ];

    /// The lowercase name used on the wire and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipCategory::Ambassador => "ambassador",
            RelationshipCategory::Ambivalent => "ambivalent",
            RelationshipCategory::Stalker => "stalker",
            RelationshipCategory::Opponent => "opponent",
        }
    }

    /// Whether this relationship calls for a close-the-loop conversation.
    pub fn needs_conversation(self) -> bool {
        matches!(
            self,
            RelationshipCategory::Stalker | RelationshipCategory::Opponent
        )
    }
}

/// The scores of one response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResponseScore {
    /// NPS category, when the 0–10 question was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_category: Option<NpsCategory>,
    /// Element ratings (1–7) by element id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub elements: BTreeMap<QuestionId, u8>,
    /// Level scores: the mean of the answered elements of each level; absent levels left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<LevelId, f64>,
    /// Overall CRQ: the mean of the level scores, so each level weighs the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crq: Option<f64>,
    /// Relationship category from the overall CRQ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<RelationshipCategory>,
    /// Contract-experience score: the mean of the answered contract-experience items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_experience: Option<f64>,
}

impl ResponseScore {
    /// Whether two scores agree, allowing for floating-point noise in a peer that computed
    /// the means another way. Used to detect a widget/server mismatch.
    pub fn agrees_with(&self, other: &ResponseScore) -> bool {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        };
        self.nps_category == other.nps_category
            && self.elements == other.elements
            && self.relationship == other.relationship
            && close(self.crq, other.crq)
            && close(self.contract_experience, other.contract_experience)
            && self.levels.len() == other.levels.len()
            && self
                .levels
                .iter()
                .all(|(level, score)| close(Some(*score), other.levels.get(level).copied()))
    }
}
