//! Per-response scoring: NPS category, element, level and overall CRQ scores, the
//! relationship category and the contract-experience score.
//!
//! The widget calls this for the provisional result it shows; the server calls the very
//! same code for the score it stores. Level and overall scores are computed as exact
//! scaled integers ([`Scorer::measure`]) so that aggregation can add them up without any
//! rounding, in any order, on any machine.

use crate::answer::{Answers, NpsAnswer};
use crate::definition::{
    CategoryThresholds, MAX_LEVELS, MAX_RATED_ITEMS, Question, SurveyDefinition,
};
use crate::ids::{LevelId, QuestionId};
pub use crate::outcome::{NpsCategory, RelationshipCategory, ResponseScore};
use crate::wire::ConfidentialityChoice;

/// Marks an unanswered 0–10 question in an [`Observation`].
pub const NO_NPS: u8 = u8::MAX;
/// Marks an unanswered rating in an [`Observation`].
pub const NO_RATING: u8 = 0;
/// 64-bit words holding the ratings of one observation.
const RATING_WORDS: usize = MAX_RATED_ITEMS / 8;

/// The accumulator slot of contract-experience items, after the level slots.
const EXPERIENCE_SLOT: u8 = MAX_LEVELS as u8;

/// The compact, fixed-size form of one response that aggregation folds over: the 0–10
/// answer, every rating by position, and the confidentiality choice. It is `Copy` and
/// 34 bytes, so millions fit in cache-friendly arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Observation {
    /// The 0–10 answer, or [`NO_NPS`].
    pub nps: u8,
    /// Ratings 1–7 in the survey's rated-item order, or [`NO_RATING`].
    pub ratings: [u8; MAX_RATED_ITEMS],
    /// The confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
}

/// Level, overall and contract-experience scores of one response as exact scaled integers:
/// a score `s` is held as `s × scale`, where the scale makes every possible mean whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// Level scores × [`Scorer::level_scale`], in level order; `None` for an absent level.
    pub levels: [Option<u64>; MAX_LEVELS],
    /// Overall CRQ × [`Scorer::overall_scale`].
    pub overall: Option<u64>,
    /// Contract-experience score × [`Scorer::experience_scale`].
    pub experience: Option<u64>,
}

/// A survey definition compiled for scoring: rated items by position, their levels, and the
/// integer scales. Build one per survey version and reuse it.
#[derive(Debug, Clone)]
pub struct Scorer {
    rated_ids: Vec<QuestionId>,
    slot_of_rated: Vec<u8>,
    /// For each accumulator slot (levels, then contract experience), a byte mask over the
    /// ratings read as little-endian 64-bit words: 0xff where a rating belongs to the slot.
    slot_masks: [[u64; RATING_WORDS]; MAX_LEVELS + 1],
    /// How many 64-bit words of the ratings hold rated items.
    n_words: usize,
    level_ids: Vec<LevelId>,
    n_levels: usize,
    level_scale: u64,
    overall_scale: u64,
    experience_scale: u64,
    /// `level_scale / k` for a level with `k` answered elements (index `k`); 0 for `k = 0`,
    /// so an absent level adds nothing without a branch.
    level_factor: [u64; MAX_RATED_ITEMS + 1],
    /// `overall_scale / (level_scale × m)` for `m` present levels (index `m`); 0 for none.
    overall_factor: [u64; MAX_LEVELS + 1],
    /// `experience_scale / k` for `k` answered contract-experience items; 0 for none.
    experience_factor: [u64; MAX_RATED_ITEMS + 1],
    thresholds: CategoryThresholds,
    /// The highest contract-experience rating that needs a conversation.
    experience_threshold: u8,
    /// The thresholds as scaled integers: the least overall × scale of each category.
    scaled_thresholds: [u64; 3],
}

fn lcm_up_to(n: usize) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    (1..=n as u64).fold(1, |acc, k| acc / gcd(acc, k) * k)
}

/// `scale / k` for `k` in `1..=up_to`, 0 elsewhere.
fn factors<const N: usize>(scale: u64, up_to: usize) -> [u64; N] {
    let mut table = [0; N];
    for (k, factor) in table.iter_mut().enumerate().take(up_to + 1).skip(1) {
        *factor = scale / k as u64;
    }
    table
}

/// The scaled scores of one response without `Option`s, as the tally's hot loop wants them:
/// absent scores are 0 and their presence flags are 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawMeasure {
    pub(crate) levels: [u64; MAX_LEVELS],
    pub(crate) level_present: [u64; MAX_LEVELS],
    pub(crate) overall: u64,
    pub(crate) overall_present: u64,
    pub(crate) experience: u64,
    pub(crate) experience_present: u64,
}

impl Scorer {
    /// Compiles a validated definition.
    pub fn new(definition: &SurveyDefinition) -> Self {
        let level_ids: Vec<LevelId> = definition
            .levels
            .iter()
            .map(|level| level.id.clone())
            .collect();
        let mut rated_ids = Vec::new();
        let mut slot_of_rated = Vec::new();
        let mut elements_per_level = vec![0usize; level_ids.len()];
        let mut n_experience = 0;
        for question in &definition.questions {
            match question {
                Question::Element { id, level, .. } => {
                    let level_idx = level_ids
                        .iter()
                        .position(|candidate| candidate == level)
                        .expect("validated: element level exists");
                    elements_per_level[level_idx] += 1;
                    rated_ids.push(id.clone());
                    slot_of_rated.push(level_idx as u8);
                }
                Question::Experience { id, .. } => {
                    n_experience += 1;
                    rated_ids.push(id.clone());
                    slot_of_rated.push(EXPERIENCE_SLOT);
                }
                _ => {}
            }
        }
        let max_per_level = elements_per_level.iter().copied().max().unwrap_or(1);
        let level_scale = lcm_up_to(max_per_level);
        let overall_scale = level_scale * lcm_up_to(level_ids.len().max(1));
        let experience_scale = lcm_up_to(n_experience.max(1));
        let mut slot_masks = [[0u64; RATING_WORDS]; MAX_LEVELS + 1];
        for (rated_idx, slot) in slot_of_rated.iter().enumerate() {
            slot_masks[*slot as usize][rated_idx / 8] |= 0xff << (8 * (rated_idx % 8));
        }
        Scorer {
            slot_masks,
            n_words: slot_of_rated.len().div_ceil(8),
            level_factor: factors(level_scale, max_per_level),
            overall_factor: factors(overall_scale / level_scale, level_ids.len()),
            experience_factor: factors(experience_scale, n_experience),
            scaled_thresholds: [
                definition.thresholds.ambassador,
                definition.thresholds.ambivalent,
                definition.thresholds.stalker,
            ]
            .map(|threshold| (threshold * overall_scale as f64).ceil() as u64),
            rated_ids,
            slot_of_rated,
            n_levels: level_ids.len(),
            level_ids,
            level_scale,
            overall_scale,
            experience_scale,
            thresholds: definition.thresholds,
            experience_threshold: definition.close_loop.experience_threshold,
        }
    }

    /// The rated items (elements and contract-experience items) in observation order.
    pub fn rated_ids(&self) -> &[QuestionId] {
        &self.rated_ids
    }

    /// The level of each rated item, or `None` for a contract-experience item.
    pub fn level_of_rated(&self, rated_idx: usize) -> Option<&LevelId> {
        self.level_ids.get(self.slot_of_rated[rated_idx] as usize)
    }

    /// The pyramid levels, base first.
    pub fn level_ids(&self) -> &[LevelId] {
        &self.level_ids
    }

    /// Whether the survey has contract-experience items.
    pub fn has_experience(&self) -> bool {
        self.slot_of_rated.contains(&EXPERIENCE_SLOT)
    }

    /// Scale of level scores in [`Measured`].
    pub fn level_scale(&self) -> u64 {
        self.level_scale
    }

    /// Scale of overall CRQ in [`Measured`].
    pub fn overall_scale(&self) -> u64 {
        self.overall_scale
    }

    /// Scale of the contract-experience score in [`Measured`].
    pub fn experience_scale(&self) -> u64 {
        self.experience_scale
    }

    /// The category thresholds.
    pub fn thresholds(&self) -> CategoryThresholds {
        self.thresholds
    }

    /// The highest contract-experience rating (1–7) that puts a response on the
    /// close-the-loop list: the definition's `close_loop.experience_threshold`.
    pub fn experience_threshold(&self) -> u8 {
        self.experience_threshold
    }

    /// The compact form of a response's answers.
    pub fn observe(
        &self,
        answers: &Answers,
        confidentiality: ConfidentialityChoice,
    ) -> Observation {
        let mut ratings = [NO_RATING; MAX_RATED_ITEMS];
        for (slot, id) in ratings.iter_mut().zip(&self.rated_ids) {
            if let Some(rating) = answers.ratings.get(id) {
                *slot = rating.get();
            }
        }
        Observation {
            nps: answers.nps.map_or(NO_NPS, NpsAnswer::get),
            ratings,
            confidentiality,
        }
    }

    /// Scaled scores without branches on the answers: every rating is added to its level's
    /// slot (an unanswered rating is 0 and counts 0), and table look-ups turn sums and counts
    /// into means. Random answer patterns would defeat a branch predictor.
    #[inline]
    pub(crate) fn measure_raw(&self, observation: &Observation) -> RawMeasure {
        // SWAR: eight ratings per 64-bit word. A rating is at most 7 (three bits), so
        // OR-ing the word with itself shifted by one and two leaves bit 0 of each byte set
        // exactly where a rating was given; multiplying by 0x0101…01 sums a word's bytes
        // into its top byte (at most 8 × 7 = 56, so nothing carries out).
        const ONES: u64 = 0x0101_0101_0101_0101;
        let mut words = [0u64; RATING_WORDS];
        let mut given = [0u64; RATING_WORDS];
        for word_idx in 0..self.n_words.min(RATING_WORDS) {
            let bytes: [u8; 8] = observation.ratings[word_idx * 8..word_idx * 8 + 8]
                .try_into()
                .expect("eight bytes");
            words[word_idx] = u64::from_le_bytes(bytes);
            given[word_idx] =
                (words[word_idx] | words[word_idx] >> 1 | words[word_idx] >> 2) & ONES;
        }
        let mut sums = [0u64; MAX_LEVELS + 1];
        let mut counts = [0usize; MAX_LEVELS + 1];
        let slot_sum = |slot: usize,
                        sums: &mut [u64; MAX_LEVELS + 1],
                        counts: &mut [usize; MAX_LEVELS + 1]| {
            for word_idx in 0..self.n_words.min(RATING_WORDS) {
                let mask = self.slot_masks[slot][word_idx];
                sums[slot] += (words[word_idx] & mask).wrapping_mul(ONES) >> 56;
                counts[slot] += ((given[word_idx] & mask).wrapping_mul(ONES) >> 56) as usize;
            }
        };
        for slot in 0..self.n_levels.min(MAX_LEVELS) {
            slot_sum(slot, &mut sums, &mut counts);
        }
        slot_sum(EXPERIENCE_SLOT as usize, &mut sums, &mut counts);
        let mut levels = [0u64; MAX_LEVELS];
        let mut level_present = [0u64; MAX_LEVELS];
        let mut level_total = 0;
        for level_idx in 0..self.n_levels.min(MAX_LEVELS) {
            levels[level_idx] = sums[level_idx] * self.level_factor[counts[level_idx]];
            level_present[level_idx] = u64::from(counts[level_idx] > 0);
            level_total += levels[level_idx];
        }
        let n_present = level_present.iter().sum::<u64>() as usize;
        let experience_count = counts[EXPERIENCE_SLOT as usize];
        RawMeasure {
            levels,
            level_present,
            overall: level_total * self.overall_factor[n_present],
            overall_present: u64::from(n_present > 0),
            experience: sums[EXPERIENCE_SLOT as usize] * self.experience_factor[experience_count],
            experience_present: u64::from(experience_count > 0),
        }
    }

    /// Level, overall and contract-experience scores as exact scaled integers.
    #[inline]
    pub fn measure(&self, observation: &Observation) -> Measured {
        let raw = self.measure_raw(observation);
        let mut levels = [None; MAX_LEVELS];
        for (level, (scaled, present)) in levels
            .iter_mut()
            .zip(raw.levels.iter().zip(raw.level_present))
        {
            *level = (present == 1).then_some(*scaled);
        }
        Measured {
            levels,
            overall: (raw.overall_present == 1).then_some(raw.overall),
            experience: (raw.experience_present == 1).then_some(raw.experience),
        }
    }

    /// How many pyramid levels the survey has.
    #[inline]
    pub fn n_levels(&self) -> usize {
        self.n_levels
    }

    /// The index in [`RelationshipCategory::ALL`] of a scaled overall CRQ, without branches.
    #[inline]
    pub(crate) fn category_index_of_scaled(&self, overall_scaled: u64) -> usize {
        3 - self
            .scaled_thresholds
            .iter()
            .map(|threshold| usize::from(overall_scaled >= *threshold))
            .sum::<usize>()
    }

    /// The relationship category of an overall CRQ held × [`Scorer::overall_scale`].
    #[inline]
    pub fn category_of_scaled(&self, overall_scaled: u64) -> RelationshipCategory {
        RelationshipCategory::ALL[self.category_index_of_scaled(overall_scaled)]
    }

    /// The full score of one response: what the widget shows and the server stores.
    pub fn score(&self, answers: &Answers) -> ResponseScore {
        let observation = self.observe(answers, ConfidentialityChoice::Confidential);
        let measured = self.measure(&observation);
        ResponseScore {
            nps_category: answers.nps.map(NpsCategory::of),
            elements: self
                .rated_ids
                .iter()
                .zip(&self.slot_of_rated)
                .filter(|(_, slot)| **slot != EXPERIENCE_SLOT)
                .filter_map(|(id, _)| {
                    answers
                        .ratings
                        .get(id)
                        .map(|rating| (id.clone(), rating.get()))
                })
                .collect(),
            levels: self
                .level_ids
                .iter()
                .zip(measured.levels)
                .filter_map(|(id, scaled)| {
                    scaled.map(|scaled| (id.clone(), scaled as f64 / self.level_scale as f64))
                })
                .collect(),
            crq: measured
                .overall
                .map(|scaled| scaled as f64 / self.overall_scale as f64),
            relationship: measured
                .overall
                .map(|scaled| self.category_of_scaled(scaled)),
            contract_experience: measured
                .experience
                .map(|scaled| scaled as f64 / self.experience_scale as f64),
        }
    }
}
