//! Typed answer values: the 0–10 answer, the 1–7 rating, and the typed answers of one
//! response.
//!
//! These types cannot hold an out-of-range value, so whatever holds one needs no further
//! check. Building them from a wire-format response, with every error named, is the work of
//! `validate`; this module only defines the values, so that `score`, `entry`, `report` and
//! `close_loop` can use them without depending on validation. It depends on `ids` only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{OptionId, QuestionId};

/// An answer to the 0–10 recommendation question. Cannot hold 11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct NpsAnswer(u8);

impl NpsAnswer {
    /// The answer, 0..=10.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for NpsAnswer {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, String> {
        if value <= 10 {
            Ok(NpsAnswer(value))
        } else {
            Err(format!("nps answer must be 0..=10, got {value}"))
        }
    }
}

impl From<NpsAnswer> for u8 {
    fn from(answer: NpsAnswer) -> u8 {
        answer.0
    }
}

/// A rating on the 1–7 agreement scale. Cannot hold 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    /// The rating, 1..=7.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, String> {
        if (1..=7).contains(&value) {
            Ok(Rating(value))
        } else {
            Err(format!("rating must be 1..=7, got {value}"))
        }
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> u8 {
        rating.0
    }
}

/// Typed answers of one response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answers {
    /// The 0–10 answer, if given.
    pub nps: Option<NpsAnswer>,
    /// 1–7 ratings of elements and contract-experience items.
    pub ratings: BTreeMap<QuestionId, Rating>,
    /// Open-text answers, never empty.
    pub texts: BTreeMap<QuestionId, String>,
    /// Chosen options of role and choice questions.
    pub choices: BTreeMap<QuestionId, Vec<OptionId>>,
}
