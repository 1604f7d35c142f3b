//! Completion rates from recorded invitations: of the people invited, how many answered,
//! per wave, per account, and by the confidentiality choice they made in the wave before.
//!
//! The last breakdown is the one DOMAIN.md warns about: clients who chose confidentiality
//! and then go quiet. Like every breakdown, a group smaller than the minimum group size
//! shows its invitation count only, since "one person invited, one answered" would say
//! whether that person answered.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::wire::ConfidentialityChoice;

/// One recorded invitation and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    /// The account invited.
    pub account: String,
    /// The matter, if the invitation named one.
    pub matter: Option<String>,
    /// The wave, if the invitation named one.
    pub wave: Option<String>,
    /// The keyed hash of the contact, the same across waves.
    pub contact_key: String,
    /// The choice made in the answer, or `None` while unanswered.
    pub answered: Option<ConfidentialityChoice>,
}

/// How many were invited and how many answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CompletionRate {
    /// Invitations.
    pub invited: u64,
    /// Answered invitations; absent when suppressed.
    pub answered: Option<u64>,
    /// `answered ÷ invited`; absent when suppressed.
    pub rate: Option<f64>,
    /// True when fewer than the minimum group size were invited: the count only.
    pub suppressed: bool,
}

impl CompletionRate {
    fn new(invited: u64, answered: u64, min_group_size: u64) -> Self {
        let suppressed = invited < min_group_size;
        CompletionRate {
            invited,
            answered: (!suppressed).then_some(answered),
            rate: (!suppressed && invited > 0).then(|| answered as f64 / invited as f64),
            suppressed,
        }
    }
}

/// A labelled completion rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CompletionGroup {
    /// The wave, account or choice.
    pub value: String,
    /// Its completion.
    #[serde(flatten)]
    pub completion: CompletionRate,
}

/// Completion in one wave of the people invited to the wave before, by what they did then:
/// `confidential`, `identified`, `anonymous`, or `no answer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PreviousChoiceCompletion {
    /// The earlier wave.
    pub previous_wave: String,
    /// The wave whose completion is counted.
    pub wave: String,
    /// One group per choice in the earlier wave.
    pub groups: Vec<CompletionGroup>,
}

/// Every completion figure of a survey's invitations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Completion {
    /// All invitations.
    pub overall: CompletionRate,
    /// By wave, in wave order; invitations without a wave are left out.
    pub by_wave: Vec<CompletionGroup>,
    /// By account, in account order.
    pub by_account: Vec<CompletionGroup>,
    /// By matter, in matter order; invitations without a matter are left out.
    #[serde(default)]
    pub by_matter: Vec<CompletionGroup>,
    /// For each pair of consecutive waves, completion in the later by the earlier choice.
    pub by_previous_choice: Vec<PreviousChoiceCompletion>,
}

/// The label of what an invitee did in a wave.
fn choice_label(answered: Option<ConfidentialityChoice>) -> &'static str {
    answered.map_or("no answer", ConfidentialityChoice::as_str)
}

fn groups<'a>(
    records: impl Iterator<Item = (String, &'a InvitationRecord)>,
    min_group_size: u64,
) -> Vec<CompletionGroup> {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (value, record) in records {
        let count = counts.entry(value).or_default();
        count.0 += 1;
        count.1 += u64::from(record.answered.is_some());
    }
    counts
        .into_iter()
        .map(|(value, (invited, answered))| CompletionGroup {
            value,
            completion: CompletionRate::new(invited, answered, min_group_size),
        })
        .collect()
}

/// Completion rates of `records`; groups with fewer than `min_group_size` invitations
/// show their count only. Waves are ordered by name (name them so that this is time order,
/// e.g. `2026-h1`).
pub fn completion(records: &[InvitationRecord], min_group_size: u32) -> Completion {
    let min = u64::from(min_group_size);
    let answered = records
        .iter()
        .filter(|record| record.answered.is_some())
        .count() as u64;
    let by_wave = groups(
        records
            .iter()
            .filter_map(|record| Some((record.wave.clone()?, record))),
        min,
    );
    let by_account = groups(
        records
            .iter()
            .map(|record| (record.account.clone(), record)),
        min,
    );
    let by_matter = groups(
        records
            .iter()
            .filter_map(|record| Some((record.matter.clone()?, record))),
        min,
    );
    // What each contact did in each wave; a contact invited twice in a wave counts as
    // having answered if either was answered.
    let mut did: HashMap<(&str, &str), Option<ConfidentialityChoice>> = HashMap::new();
    for record in records {
        if let Some(wave) = &record.wave {
            let entry = did
                .entry((wave.as_str(), record.contact_key.as_str()))
                .or_insert(None);
            *entry = entry.or(record.answered);
        }
    }
    let by_previous_choice = by_wave
        .windows(2)
        .map(|pair| {
            let (previous, wave) = (pair[0].value.as_str(), pair[1].value.as_str());
            let invited_again = records
                .iter()
                .filter(|record| record.wave.as_deref() == Some(wave))
                .filter_map(|record| {
                    let before = did.get(&(previous, record.contact_key.as_str()))?;
                    Some((choice_label(*before).to_owned(), record))
                });
            PreviousChoiceCompletion {
                previous_wave: previous.to_owned(),
                wave: wave.to_owned(),
                groups: groups(invited_again, min),
            }
        })
        .collect();
    Completion {
        overall: CompletionRate::new(records.len() as u64, answered, min),
        by_wave,
        by_account,
        by_matter,
        by_previous_choice,
    }
}
