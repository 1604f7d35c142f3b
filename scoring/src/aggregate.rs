//! Aggregation as a mergeable partial (a commutative monoid).
//!
//! A [`Tally`] holds only counts and exact integer sums, so adding responses one by one,
//! in chunks, in parallel or on several machines, then merging, gives bit-for-bit the same
//! tally in any order. [`Tally::figures`] turns it into the reported numbers: NPS with its
//! standard error and adjusted-Wald interval, the mean 0–10 answer and distribution, CRQ
//! element, level and overall means with spread and interval, relationship categories and
//! the confidentiality share.

use serde::{Deserialize, Serialize};

use crate::definition::MAX_LEVELS;
use crate::ids::{LevelId, QuestionId};
use crate::score::{Observation, RawMeasure, RelationshipCategory, Scorer};
use crate::stats::{Interval, MeanSpread, mean_sd_interval};
use crate::wire::ConfidentialityChoice;

/// Count, sum and sum of squares of exact scaled integer scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Moments {
    /// How many values.
    pub n: u64,
    /// Σ value.
    pub sum: u128,
    /// Σ value².
    pub sum_squares: u128,
}

impl Moments {
    /// Adds `value` when `present` is 1; adds nothing when both are 0.
    #[inline]
    fn add_weighted(&mut self, value: u64, present: u64) {
        self.n += present;
        self.sum += u128::from(value);
        self.sum_squares += u128::from(value) * u128::from(value);
    }

    fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_squares += other.sum_squares;
    }

    /// Mean, spread and interval of the unscaled values; `None` when empty.
    pub fn summarise(&self, scale: u64) -> Option<MeanFigures> {
        if self.n == 0 {
            return None;
        }
        let scale = scale as f64;
        let MeanSpread {
            mean,
            sd,
            interval_95,
        } = mean_sd_interval(
            self.n,
            self.sum as f64 / scale,
            self.sum_squares as f64 / (scale * scale),
        );
        Some(MeanFigures {
            n: self.n,
            mean,
            sd,
            interval_95,
        })
    }
}

/// The mergeable partial aggregate of a set of responses to one survey version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Responses counted.
    pub n: u64,
    /// How many answered 0, 1, … 10 (indices 0–10), and how many left it unanswered
    /// (index 11).
    pub nps_histogram: [u64; 12],
    /// Responses by confidentiality choice: anonymous, confidential, identified.
    pub confidentiality: [u64; 3],
    /// For each rated item, how many left it unanswered (index 0) or rated it 1, 2, … 7.
    pub rating_histograms: Vec<[u64; 8]>,
    /// Level scores, scaled by [`Scorer::level_scale`].
    pub levels: [Moments; MAX_LEVELS],
    /// Overall CRQ, scaled by [`Scorer::overall_scale`].
    pub overall: Moments,
    /// Contract-experience score, scaled by [`Scorer::experience_scale`].
    pub experience: Moments,
    /// Relationship categories, in [`RelationshipCategory::ALL`] order.
    pub categories: [u64; 4],
}

#[inline]
fn confidentiality_index(choice: ConfidentialityChoice) -> usize {
    // The enum's declaration order is anonymous, confidential, identified.
    choice as usize
}

impl Tally {
    /// The empty tally (the identity of [`Tally::merge`]) for a survey.
    pub fn new(scorer: &Scorer) -> Self {
        Tally {
            n: 0,
            nps_histogram: [0; 12],
            confidentiality: [0; 3],
            rating_histograms: vec![[0; 8]; scorer.rated_ids().len()],
            levels: [Moments::default(); MAX_LEVELS],
            overall: Moments::default(),
            experience: Moments::default(),
            categories: [0; 4],
        }
    }

    /// Counts one response.
    #[inline]
    pub fn add(&mut self, scorer: &Scorer, observation: &Observation) {
        self.add_measured(scorer, observation, &scorer.measure_raw(observation));
    }

    /// [`Tally::add`] with the observation already measured.
    #[inline]
    pub(crate) fn add_measured(
        &mut self,
        scorer: &Scorer,
        observation: &Observation,
        raw: &RawMeasure,
    ) {
        self.n += 1;
        // Branch-free: the unanswered marker lands in the last slot, and the choice's
        // discriminant is its index, because answer patterns are too random to predict.
        self.nps_histogram[usize::from(observation.nps.min(11))] += 1;
        self.confidentiality[confidentiality_index(observation.confidentiality)] += 1;
        for (histogram, rating) in self.rating_histograms.iter_mut().zip(observation.ratings) {
            histogram[usize::from(rating & 7)] += 1;
        }
        // Branch-free: an absent score is 0 with a presence of 0, so adding it changes nothing.
        for ((moments, scaled), present) in self
            .levels
            .iter_mut()
            .zip(raw.levels)
            .zip(raw.level_present)
            .take(scorer.n_levels())
        {
            moments.add_weighted(scaled, present);
        }
        self.overall.add_weighted(raw.overall, raw.overall_present);
        self.categories[scorer.category_index_of_scaled(raw.overall)] += raw.overall_present;
        self.experience
            .add_weighted(raw.experience, raw.experience_present);
    }

    /// Adds another tally of the same survey version into this one.
    ///
    /// # Panics
    /// If the tallies come from surveys with different rated items.
    pub fn merge(&mut self, other: &Tally) {
        assert_eq!(
            self.rating_histograms.len(),
            other.rating_histograms.len(),
            "tallies of different surveys cannot be merged"
        );
        self.n += other.n;
        for (mine, theirs) in self.nps_histogram.iter_mut().zip(other.nps_histogram) {
            *mine += theirs;
        }
        for (mine, theirs) in self.confidentiality.iter_mut().zip(other.confidentiality) {
            *mine += theirs;
        }
        for (mine, theirs) in self
            .rating_histograms
            .iter_mut()
            .zip(&other.rating_histograms)
        {
            for (count, other_count) in mine.iter_mut().zip(theirs) {
                *count += other_count;
            }
        }
        for (mine, theirs) in self.levels.iter_mut().zip(&other.levels) {
            mine.merge(theirs);
        }
        self.overall.merge(&other.overall);
        self.experience.merge(&other.experience);
        for (mine, theirs) in self.categories.iter_mut().zip(other.categories) {
            *mine += theirs;
        }
    }

    /// The reported figures.
    pub fn figures(&self, scorer: &Scorer) -> Figures {
        let elements = scorer
            .rated_ids()
            .iter()
            .enumerate()
            .map(|(rated_idx, id)| {
                let mut moments = Moments::default();
                for (rating, count) in self.rating_histograms[rated_idx].iter().enumerate().skip(1)
                {
                    let rating = rating as u128;
                    moments.n += count;
                    moments.sum += rating * u128::from(*count);
                    moments.sum_squares += rating * rating * u128::from(*count);
                }
                ItemFigures {
                    id: id.clone(),
                    level: scorer.level_of_rated(rated_idx).cloned(),
                    figures: moments.summarise(1),
                }
            })
            .collect();
        let levels = scorer
            .level_ids()
            .iter()
            .zip(&self.levels)
            .map(|(id, moments)| LevelFigures {
                id: id.clone(),
                figures: moments.summarise(scorer.level_scale()),
            })
            .collect();
        let has_crq = !scorer.level_ids().is_empty();
        Figures {
            n: self.n,
            nps: NpsFigures::from_histogram(
                self.nps_histogram[..11].try_into().expect("eleven answers"),
            ),
            items: elements,
            levels,
            crq: self.overall.summarise(scorer.overall_scale()),
            categories: has_crq.then(|| CategoryCounts {
                ambassador: self.categories[0],
                ambivalent: self.categories[1],
                stalker: self.categories[2],
                opponent: self.categories[3],
            }),
            contract_experience: self.experience.summarise(scorer.experience_scale()),
            confidentiality: ConfidentialityCounts::new(self.confidentiality),
        }
    }
}

/// NPS figures of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NpsFigures {
    /// Responses that answered the 0–10 question.
    pub answered: u64,
    /// 9–10 answers.
    pub promoters: u64,
    /// 7–8 answers.
    pub passives: u64,
    /// 0–6 answers.
    pub detractors: u64,
    /// %promoters − %detractors, −100..=100.
    pub nps: f64,
    /// Standard error of the NPS, in NPS points: 100·√((p + d − (p − d)²)/n).
    pub standard_error: f64,
    /// Adjusted-Wald 95% interval (n + 3, promoters and detractors + ¾), clamped to ±100.
    pub interval_95: Interval,
    /// The plain mean of the 0–10 answers ("average likelihood to recommend").
    pub mean: f64,
    /// How many answered 0, 1, … 10.
    pub distribution: [u64; 11],
}

impl NpsFigures {
    /// Figures from a 0–10 histogram; `None` when nobody answered.
    pub fn from_histogram(histogram: &[u64; 11]) -> Option<Self> {
        let answered: u64 = histogram.iter().sum();
        if answered == 0 {
            return None;
        }
        let detractors: u64 = histogram[..7].iter().sum();
        let passives = histogram[7] + histogram[8];
        let promoters = histogram[9] + histogram[10];
        let n = answered as f64;
        let (p, d) = (promoters as f64 / n, detractors as f64 / n);
        let standard_error = 100.0 * ((p + d - (p - d).powi(2)) / n).max(0.0).sqrt();
        let adjusted_n = n + 3.0;
        let (adjusted_p, adjusted_d) = (
            (promoters as f64 + 0.75) / adjusted_n,
            (detractors as f64 + 0.75) / adjusted_n,
        );
        let adjusted_nps = adjusted_p - adjusted_d;
        let adjusted_se = ((adjusted_p + adjusted_d - adjusted_nps.powi(2)) / adjusted_n)
            .max(0.0)
            .sqrt();
        let weighted_sum: u64 = histogram
            .iter()
            .enumerate()
            .map(|(answer, count)| answer as u64 * count)
            .sum();
        Some(NpsFigures {
            answered,
            promoters,
            passives,
            detractors,
            nps: 100.0 * (p - d),
            standard_error,
            interval_95: Interval {
                low: (100.0 * (adjusted_nps - 1.96 * adjusted_se)).max(-100.0),
                high: (100.0 * (adjusted_nps + 1.96 * adjusted_se)).min(100.0),
            },
            mean: weighted_sum as f64 / n,
            distribution: *histogram,
        })
    }
}

/// Mean with spread and a t-based 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MeanFigures {
    /// How many values.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation; absent below two values.
    pub sd: Option<f64>,
    /// 95% interval of the mean; absent below two values.
    pub interval_95: Option<Interval>,
}

/// Figures of one rated item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemFigures {
    /// Question id.
    pub id: QuestionId,
    /// Pyramid level; absent for contract-experience items.
    pub level: Option<LevelId>,
    /// Mean rating; absent when nobody rated it.
    pub figures: Option<MeanFigures>,
}

/// Figures of one pyramid level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LevelFigures {
    /// Level id.
    pub id: LevelId,
    /// Mean level score; absent when no response had the level.
    pub figures: Option<MeanFigures>,
}

/// Responses per relationship category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CategoryCounts {
    /// Ambassadors.
    pub ambassador: u64,
    /// Ambivalent.
    pub ambivalent: u64,
    /// Stalkers.
    pub stalker: u64,
    /// Opponents.
    pub opponent: u64,
}

impl CategoryCounts {
    /// The count of one category.
    pub fn get(&self, category: RelationshipCategory) -> u64 {
        match category {
            RelationshipCategory::Ambassador => self.ambassador,
            RelationshipCategory::Ambivalent => self.ambivalent,
            RelationshipCategory::Stalker => self.stalker,
            RelationshipCategory::Opponent => self.opponent,
        }
    }
}

/// Responses by confidentiality choice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConfidentialityCounts {
    /// Anonymous responses.
    pub anonymous: u64,
    /// Responses that kept confidentiality.
    pub confidential: u64,
    /// Responses that waived it.
    pub identified: u64,
    /// Confidential ÷ (confidential + identified): the opt-in rate; absent when both are 0.
    pub confidential_share: Option<f64>,
}

impl ConfidentialityCounts {
    fn new([anonymous, confidential, identified]: [u64; 3]) -> Self {
        let choosers = confidential + identified;
        ConfidentialityCounts {
            anonymous,
            confidential,
            identified,
            confidential_share: (choosers > 0).then(|| confidential as f64 / choosers as f64),
        }
    }
}

/// Everything reported about one group of responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Figures {
    /// Responses in the group.
    pub n: u64,
    /// NPS figures; absent when nobody answered the 0–10 question.
    pub nps: Option<NpsFigures>,
    /// Each rated item (CRQ elements, then contract-experience items, in survey order).
    pub items: Vec<ItemFigures>,
    /// Each pyramid level, base first.
    pub levels: Vec<LevelFigures>,
    /// Overall CRQ.
    pub crq: Option<MeanFigures>,
    /// Relationship categories; absent for surveys without CRQ elements.
    pub categories: Option<CategoryCounts>,
    /// Contract-experience score.
    pub contract_experience: Option<MeanFigures>,
    /// Confidentiality choices.
    pub confidentiality: ConfidentialityCounts,
}
