//! Properties of aggregation that must hold for any data: NPS bounds, merging chunks equals
//! one pass, order does not matter, filtering the columns equals reporting the filtered
//! responses, and suppression never leaks a small group's scores,
//! directly or as the total minus the groups shown.

use proptest::prelude::*;
use rapport_scoring::aggregate::Tally;
use rapport_scoring::close_loop::{Reason, conversation_reasons, needs_conversation};
use rapport_scoring::ids::QuestionId;
use rapport_scoring::validate::{Answers, NpsAnswer, Rating};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{
    ReportInput, ReportOptions, ResponseRecord, Scorer, SegmentField, build_report, report_of,
    template,
};

const ELEMENTS: [&str; 7] = [
    "trust",
    "commitment",
    "satisfaction",
    "uniqueness",
    "reliability",
    "responsiveness",
    "care",
];

fn arbitrary_record() -> impl Strategy<Value = ResponseRecord> {
    (
        proptest::option::weighted(0.9, 0u8..=10),
        proptest::collection::vec(proptest::option::weighted(0.7, 1u8..=7), 7),
        any::<bool>(),
        0usize..4,
        0usize..3,
    )
        .prop_map(|(nps, ratings, confidential, account, wave)| {
            let mut answers = Answers {
                nps: nps.map(|answer| NpsAnswer::try_from(answer).unwrap()),
                ..Answers::default()
            };
            for (element, rating) in ELEMENTS.iter().zip(ratings) {
                if let Some(rating) = rating {
                    answers.ratings.insert(
                        QuestionId::new(*element).unwrap(),
                        Rating::try_from(rating).unwrap(),
                    );
                }
            }
            ResponseRecord {
                answers,
                confidentiality: if confidential {
                    ConfidentialityChoice::Confidential
                } else {
                    ConfidentialityChoice::Identified
                },
                context: Context {
                    account: Some(format!("account-{account}")),
                    wave: Some(format!("2026-w{wave}")),
                    ..Context::default()
                },
                respondent_key: Some(format!("person-{}", account * 3 + wave % 2)),
                arrival: rapport_scoring::disclosure::Arrival::Invitation,
            }
        })
}

fn tally(scorer: &Scorer, records: &[ResponseRecord]) -> Tally {
    let mut tally = Tally::new(scorer);
    for record in records {
        tally.add(
            scorer,
            &scorer.observe(&record.answers, record.confidentiality),
        );
    }
    tally
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn nps_and_its_interval_stay_within_plus_minus_100(records in proptest::collection::vec(arbitrary_record(), 1..200)) {
        let definition = template("client-portal").unwrap();
        let scorer = Scorer::new(&definition);
        if let Some(nps) = tally(&scorer, &records).figures(&scorer).nps {
            prop_assert!((-100.0..=100.0).contains(&nps.nps));
            prop_assert!(nps.interval_95.low >= -100.0 && nps.interval_95.high <= 100.0);
            prop_assert!(nps.interval_95.low <= nps.interval_95.high);
            prop_assert!((0.0..=10.0).contains(&nps.mean));
        }
    }

    #[test]
    fn merging_chunks_equals_one_pass_whatever_the_split(
        records in proptest::collection::vec(arbitrary_record(), 0..200),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let definition = template("client-portal").unwrap();
        let scorer = Scorer::new(&definition);
        let one_pass = tally(&scorer, &records);
        let mut boundaries: Vec<usize> = cuts.iter().map(|cut| cut.index(records.len() + 1)).collect();
        boundaries.extend([0, records.len()]);
        boundaries.sort_unstable();
        let mut merged = Tally::new(&scorer);
        for window in boundaries.windows(2) {
            merged.merge(&tally(&scorer, &records[window[0]..window[1]]));
        }
        prop_assert_eq!(&merged, &one_pass);
        prop_assert_eq!(merged.figures(&scorer), one_pass.figures(&scorer));
    }

    #[test]
    fn shuffling_responses_changes_nothing(
        records in proptest::collection::vec(arbitrary_record(), 0..120),
        seed in any::<u64>(),
    ) {
        let definition = template("client-portal").unwrap();
        let mut shuffled = records.clone();
        // Fisher–Yates with a small linear congruential generator, seeded by proptest.
        let mut state = seed | 1;
        for idx in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(idx, (state >> 33) as usize % (idx + 1));
        }
        let options = ReportOptions { segments: vec![SegmentField::Account, SegmentField::Wave], min_group_size: None, crossings: Vec::new() };
        let report = build_report(&definition, &records, &options);
        let report_shuffled = build_report(&definition, &shuffled, &options);
        prop_assert_eq!(report.overall, report_shuffled.overall);
        prop_assert_eq!(report.segments, report_shuffled.segments);
        prop_assert_eq!(report.wave_comparisons.len(), report_shuffled.wave_comparisons.len());
    }

    #[test]
    fn filtering_the_input_equals_reporting_the_filtered_records(
        records in proptest::collection::vec(arbitrary_record(), 0..120),
        account in 0usize..4,
        only_identified in any::<bool>(),
    ) {
        let definition = template("client-portal").unwrap();
        let wanted = format!("account-{account}");
        let keep = |account: Option<&str>, choice: ConfidentialityChoice| {
            account == Some(wanted.as_str()) && (!only_identified || choice == ConfidentialityChoice::Identified)
        };
        let mut input = ReportInput::new(&definition);
        for record in &records {
            input.push_record(record);
        }
        let filtered = input.filter(|input, row| keep(input.account(row), input.confidentiality(row)));
        let kept: Vec<ResponseRecord> = records.iter().filter(|record| keep(record.context.account.as_deref(), record.confidentiality)).cloned().collect();
        prop_assert_eq!(filtered.len(), kept.len());
        let options = ReportOptions {
            segments: vec![SegmentField::Account, SegmentField::Wave, SegmentField::Returning, SegmentField::NpsCategory],
            min_group_size: Some(2),
            crossings: Vec::new(),
        };
        prop_assert_eq!(report_of(&definition, &filtered, &options), build_report(&definition, &kept, &options));
    }

    #[test]
    fn suppression_never_leaks_a_score_for_a_small_group(
        records in proptest::collection::vec(arbitrary_record(), 0..60),
        min_group_size in 1u32..12,
    ) {
        let definition = template("client-portal").unwrap();
        let options = ReportOptions {
            segments: vec![SegmentField::Account, SegmentField::Wave, SegmentField::Confidentiality, SegmentField::Returning],
            min_group_size: Some(min_group_size),
            crossings: Vec::new(),
        };
        let report = build_report(&definition, &records, &options);
        let min = u64::from(min_group_size);
        for segmentation in &report.segments {
            for group in &segmentation.groups {
                prop_assert!(group.n >= min || group.suppressed);
                prop_assert_eq!(group.figures.is_none(), group.suppressed);
            }
            // Complementary suppression: the hidden groups hold at least the minimum size
            // together, or every group is hidden, so the total minus the groups shown never
            // gives a small group away.
            let hidden: u64 = segmentation.groups.iter().filter(|group| group.suppressed).map(|group| group.n).sum();
            let all_hidden = segmentation.groups.iter().all(|group| group.suppressed);
            prop_assert!(hidden == 0 || hidden >= min || all_hidden);
        }
        if let Some(comparison) = &report.confidentiality_comparison
            && (comparison.confidential.n < min || comparison.identified.n < min)
        {
            prop_assert!(comparison.suppressed);
            prop_assert!(comparison.confidential.nps_mean.is_none() && comparison.identified.nps_mean.is_none());
            prop_assert!(comparison.confidential.crq_mean.is_none() && comparison.identified.crq_mean.is_none());
            prop_assert!(comparison.nps_test.is_none() && comparison.crq_test.is_none());
        }
        for wave in &report.wave_comparisons {
            for group in &wave.groups {
                if group.respondents < min {
                    prop_assert!(group.suppressed);
                    prop_assert!(group.nps_mean_first.is_none() && group.nps_mean_second.is_none());
                    prop_assert!(group.crq_mean_first.is_none() && group.crq_change.is_none());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The scorer's exact-integer arithmetic agrees with the plain definition: level score =
    /// mean of answered elements, overall = mean of present level scores.
    #[test]
    fn exact_scores_agree_with_the_plain_definition(
        ratings in proptest::collection::vec(proptest::option::weighted(0.6, 1u8..=7), 12),
    ) {
        let definition = template("legal-contract-experience").unwrap();
        let scorer = Scorer::new(&definition);
        let ids = ["kept-informed", "unexpected-changes", "problem-handling", "meeting-scope", "quick-replies"]
            .into_iter()
            .chain(ELEMENTS);
        let mut answers = Answers::default();
        for (id, rating) in ids.zip(&ratings) {
            if let Some(rating) = rating {
                answers.ratings.insert(QuestionId::new(id).unwrap(), Rating::try_from(*rating).unwrap());
            }
        }
        let score = scorer.score(&answers);
        let mean = |values: &[Option<u8>]| {
            let given: Vec<f64> = values.iter().flatten().map(|value| f64::from(*value)).collect();
            (!given.is_empty()).then(|| given.iter().sum::<f64>() / given.len() as f64)
        };
        let levels: Vec<f64> = [mean(&ratings[5..8]), mean(&ratings[8..9]), mean(&ratings[9..12])].into_iter().flatten().collect();
        let overall = (!levels.is_empty()).then(|| levels.iter().sum::<f64>() / levels.len() as f64);
        match (score.crq, overall) {
            (Some(exact), Some(plain)) => prop_assert!((exact - plain).abs() < 1e-9, "{exact} vs {plain}"),
            (exact, plain) => prop_assert_eq!(exact, plain),
        }
        match (score.contract_experience, mean(&ratings[..5])) {
            (Some(exact), Some(plain)) => prop_assert!((exact - plain).abs() < 1e-9),
            (exact, plain) => prop_assert_eq!(exact, plain),
        }
        prop_assert_eq!(score.levels.len(), levels.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The close-the-loop list sorts responses out by their observation; it must agree with the
    /// reasons named from the answers, for every contract-experience threshold a survey may set.
    #[test]
    fn needing_a_conversation_agrees_with_the_reasons_named(
        nps in proptest::option::weighted(0.9, 0u8..=10),
        ratings in proptest::collection::vec(proptest::option::weighted(0.8, 1u8..=7), 12),
        experience_threshold in 1u8..=7,
    ) {
        let mut definition = template("legal-contract-experience").unwrap();
        definition.close_loop.experience_threshold = experience_threshold;
        definition.validate().unwrap();
        let scorer = Scorer::new(&definition);
        let mut answers = Answers { nps: nps.map(|answer| NpsAnswer::try_from(answer).unwrap()), ..Answers::default() };
        for (id, rating) in scorer.rated_ids().iter().zip(ratings) {
            if let Some(rating) = rating {
                answers.ratings.insert(id.clone(), Rating::try_from(rating).unwrap());
            }
        }
        let observation = scorer.observe(&answers, ConfidentialityChoice::Identified);
        let reasons = conversation_reasons(&scorer, &answers);
        prop_assert_eq!(needs_conversation(&scorer, &observation), !reasons.is_empty());
        // A low experience rating is named exactly when an item is at or below the threshold.
        let lowest_experience = scorer
            .rated_ids()
            .iter()
            .enumerate()
            .filter(|(rated_idx, _)| scorer.level_of_rated(*rated_idx).is_none())
            .filter_map(|(_, item)| answers.ratings.get(item).map(|rating| rating.get()))
            .min();
        let named = reasons.iter().any(|reason| matches!(reason, Reason::LowExperience { .. }));
        prop_assert_eq!(named, lowest_experience.is_some_and(|lowest| lowest <= experience_threshold));
    }
}
