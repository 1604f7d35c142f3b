//! Reports: figures checked by hand, the DOMAIN.md programme tables rebuilt from raw
//! responses, and snapshots of the report JSON.
//!
//! The raw responses of the two DOMAIN.md programmes are generated here and kept in
//! `tests/fixtures/*.jsonl` (regenerate with `UPDATE_EXPECT=1`), so that `rapport score`
//! can be tested on the very same files.

use rapport_scoring::wire::{ConfidentialityChoice, Context, ResponseV1};
use rapport_scoring::{ReportOptions, SegmentField, build_report, template};
use serde_json::json;

use crate::support::{record, response, with_email};

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

#[test]
fn nps_figures_match_a_hand_computed_example() {
    let definition = template("client-portal").unwrap();
    let answers = [10, 9, 9, 8, 7, 6, 5, 0, 10, 3];
    let records: Vec<_> = answers
        .iter()
        .enumerate()
        .map(|(idx, answer)| {
            let trust = [7, 5, 6]
                .get(idx)
                .map_or(json!(null), |rating| json!(rating));
            let mut answers = json!({"nps": answer});
            if !trust.is_null() {
                answers["trust"] = trust;
            }
            record(
                &definition,
                &response(
                    "client-portal",
                    idx as u64,
                    answers,
                    ConfidentialityChoice::Confidential,
                ),
            )
        })
        .collect();
    let report = build_report(&definition, &records, &ReportOptions::default());
    let nps = report.overall.nps.unwrap();
    assert_eq!((nps.promoters, nps.passives, nps.detractors), (4, 2, 4));
    assert!(close(nps.nps, 0.0));
    assert!(close(nps.mean, 6.7));
    // SE = 100·√((0.4 + 0.4 − 0²)/10); adjusted Wald: n = 13, p = d = 4.75/13.
    assert!((nps.standard_error - 28.284_271_247).abs() < 1e-6);
    assert!((nps.interval_95.high - 46.470_197_868).abs() < 1e-6);
    assert!((nps.interval_95.low + 46.470_197_868).abs() < 1e-6);
    assert_eq!(nps.distribution, [1, 0, 0, 1, 0, 1, 1, 1, 1, 2, 2]);
    let trust = report
        .overall
        .items
        .iter()
        .find(|item| item.id.as_str() == "trust")
        .unwrap()
        .figures
        .unwrap();
    assert_eq!(trust.n, 3);
    assert!(close(trust.mean, 6.0) && close(trust.sd.unwrap(), 1.0));
    // t(0.975, 2) · 1/√3 = 2.48414.
    assert!((trust.interval_95.unwrap().high - 8.484_137_711).abs() < 1e-6);
}

/// `n` answers on 0–10 that add up to `total`, spread around their mean.
fn spread(n: usize, total: usize) -> Vec<u8> {
    let base = total / n;
    let mut values: Vec<i64> = (0..n)
        .map(|idx| (base + usize::from(idx < total % n)) as i64)
        .collect();
    for pair in values.chunks_mut(2) {
        if let [first, second] = pair
            && *first + 2 <= 10
            && *second >= 2
        {
            *first += 2;
            *second -= 2;
        }
    }
    assert_eq!(values.iter().sum::<i64>() as usize, total);
    values.into_iter().map(|value| value as u8).collect()
}

const ACCOUNTS: [&str; 4] = ["northwind", "contoso", "fabrikam", "globex"];
const ROLES: [&str; 3] = ["decision-maker", "day-to-day", "operational"];

pub(crate) fn crq(rating: u8) -> serde_json::Value {
    json!({"trust": rating, "commitment": rating, "satisfaction": rating, "uniqueness": rating, "reliability": rating, "responsiveness": rating, "care": rating})
}

fn programme_response(
    counter: u64,
    email: &str,
    wave: &str,
    nps: u8,
    rating: u8,
    choice: ConfidentialityChoice,
) -> ResponseV1 {
    let mut answers = crq(rating);
    answers["nps"] = json!(nps);
    answers["role"] = json!(ROLES[counter as usize % 3]);
    let mut response = with_email(response("client-portal", counter, answers, choice), email);
    response.context = Context {
        account: Some(ACCOUNTS[counter as usize % 4].to_owned()),
        wave: Some(wave.to_owned()),
        ..Context::default()
    };
    response
}

/// The first DOMAIN.md programme: wave 1 with optional confidentiality, wave 2 six months
/// later without it. 40 chose confidentiality (mean 6.3), 22 of them (55%) answered wave 2
/// (mean 7.5); 50 waived it (mean 7.1), 35 of them (70%) answered wave 2 (mean 7.2).
fn waves_programme() -> Vec<ResponseV1> {
    let mut responses = Vec::new();
    let mut counter = 0;
    let mut add_group = |prefix: &str,
                         n_first: usize,
                         first_total: usize,
                         n_second: usize,
                         second_total: usize,
                         choice,
                         ratings: (u8, u8)| {
        let first = spread(n_first, first_total);
        let second = spread(n_second, second_total);
        for (idx, nps) in first.iter().enumerate() {
            counter += 1;
            responses.push(programme_response(
                counter,
                &format!("{prefix}-{idx}@client.example"),
                "2026-h1",
                *nps,
                ratings.0,
                choice,
            ));
        }
        for (idx, nps) in second.iter().enumerate() {
            counter += 1;
            let identified = ConfidentialityChoice::Identified;
            responses.push(programme_response(
                counter,
                &format!("{prefix}-{idx}@client.example"),
                "2026-h2",
                *nps,
                ratings.1,
                identified,
            ));
        }
    };
    add_group(
        "kept",
        40,
        252,
        22,
        165,
        ConfidentialityChoice::Confidential,
        (4, 5),
    );
    add_group(
        "waived",
        50,
        355,
        35,
        252,
        ConfidentialityChoice::Identified,
        (6, 6),
    );
    responses
}

/// The second DOMAIN.md programme: 26% chose confidentiality overall, 38% of first-time
/// respondents, and confidential respondents scored lower.
pub(crate) fn opt_in_programme() -> Vec<ResponseV1> {
    let mut responses = Vec::new();
    for idx in 0..100u64 {
        let first_time = idx < 50;
        let confidential = if first_time { idx < 19 } else { idx < 57 };
        let nps = match (confidential, first_time) {
            (true, true) => [3, 5, 6, 4, 7][idx as usize % 5],
            (true, false) => [6, 7, 8, 5, 7][idx as usize % 5],
            (false, _) => [8, 9, 10, 7, 9][idx as usize % 5],
        };
        let choice = if confidential {
            ConfidentialityChoice::Confidential
        } else {
            ConfidentialityChoice::Identified
        };
        let mut response = programme_response(
            1000 + idx,
            &format!("p{idx}@client.example"),
            "2026-h2",
            nps,
            if confidential { 4 } else { 6 },
            choice,
        );
        response.context.returning = Some(!first_time);
        responses.push(response);
    }
    responses
}

fn jsonl(responses: &[ResponseV1]) -> String {
    responses
        .iter()
        .map(|response| serde_json::to_string(response).unwrap() + "\n")
        .collect()
}

#[test]
fn the_fixtures_for_rapport_score_are_in_step_with_the_generators() {
    expect_test::expect_file!["../../../tests/fixtures/domain-waves.jsonl"]
        .assert_eq(&jsonl(&waves_programme()));
    expect_test::expect_file!["../../../tests/fixtures/domain-opt-in.jsonl"]
        .assert_eq(&jsonl(&opt_in_programme()));
}

#[test]
fn the_wave_table_of_domain_md_is_reproduced_from_raw_responses() {
    let definition = template("client-portal").unwrap();
    let records: Vec<_> = waves_programme()
        .iter()
        .map(|response| record(&definition, response))
        .collect();
    let report = build_report(&definition, &records, &ReportOptions::default());
    let [comparison] = report.wave_comparisons.as_slice() else {
        panic!("one pair of waves expected")
    };
    assert_eq!(
        (
            comparison.first_wave.as_str(),
            comparison.second_wave.as_str()
        ),
        ("2026-h1", "2026-h2")
    );
    let table: Vec<_> = comparison
        .groups
        .iter()
        .map(|group| {
            (
                group.choice,
                group.respondents,
                group.completed,
                (group.completion_rate * 100.0).round(),
                group.nps_mean_first.unwrap(),
                group.nps_mean_second.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            (ConfidentialityChoice::Confidential, 40, 22, 55.0, 6.3, 7.5),
            (ConfidentialityChoice::Identified, 50, 35, 70.0, 7.1, 7.2)
        ]
    );
    assert!(close(comparison.groups[0].crq_change.unwrap(), 1.0));
    assert!(close(comparison.groups[1].crq_change.unwrap(), 0.0));
}

#[test]
fn the_opt_in_rates_and_the_score_gap_of_domain_md_are_reproduced() {
    let definition = template("client-portal").unwrap();
    let records: Vec<_> = opt_in_programme()
        .iter()
        .map(|response| record(&definition, response))
        .collect();
    let options = ReportOptions {
        segments: vec![SegmentField::Returning],
        min_group_size: None,
        crossings: Vec::new(),
    };
    let report = build_report(&definition, &records, &options);
    assert!(close(
        report.overall.confidentiality.confidential_share.unwrap(),
        0.26
    ));
    let shares: Vec<_> = report.segments[0]
        .groups
        .iter()
        .map(|group| {
            (
                group.value.as_str(),
                group
                    .figures
                    .as_ref()
                    .unwrap()
                    .confidentiality
                    .confidential_share
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(shares, [("new", 0.38), ("returning", 0.14)]);
    let comparison = report.confidentiality_comparison.unwrap();
    let nps_test = comparison.nps_test.unwrap();
    assert!(
        nps_test.difference < 0.0,
        "confidential respondents score lower: {nps_test:?}"
    );
    assert!(
        nps_test.p_value < 0.01,
        "and the gap is unlikely to be chance: {nps_test:?}"
    );
}

#[test]
fn report_json_snapshot() {
    let definition = template("client-portal").unwrap();
    let mut responses = waves_programme();
    responses[0].answers.insert(
        "strength".try_into().unwrap(),
        json!("Quick replies and real expertise"),
    );
    responses[1].answers.insert(
        "weakness".try_into().unwrap(),
        json!("Billing is slow; costs are unclear"),
    );
    responses[2].answers.insert(
        "weakness".try_into().unwrap(),
        json!("The invoice arrived late"),
    );
    let records: Vec<_> = responses
        .iter()
        .map(|response| record(&definition, response))
        .collect();
    let options = ReportOptions {
        segments: vec![
            SegmentField::Account,
            SegmentField::parse(&definition, "role").unwrap(),
        ],
        min_group_size: Some(25),
        crossings: Vec::new(),
    };
    insta::assert_json_snapshot!(build_report(&definition, &records, &options));
}

#[test]
fn unknown_segment_fields_are_refused_by_name() {
    let definition = template("client-portal").unwrap();
    let error = SegmentField::parse(&definition, "trust").unwrap_err();
    assert!(
        error.to_string().starts_with("cannot segment by \"trust\""),
        "{error}"
    );
}

/// Large inputs are tallied in parts, one per core, and merged: the figures are those of
/// the small input they repeat, counts multiplied and means unchanged.
#[test]
fn a_large_report_tallied_in_parts_agrees_with_the_small_one_it_repeats() {
    const COPIES: usize = 6_000;
    let definition = template("client-portal").unwrap();
    let block: Vec<_> = (0..20u64)
        .map(|counter| {
            let mut answers = json!({"nps": counter % 11, "trust": 1 + counter % 7, "care": 1 + (counter * 3) % 7});
            if counter % 4 != 0 {
                answers["uniqueness"] = json!(1 + (counter * 5) % 7);
            }
            let choice = if counter % 3 == 0 { ConfidentialityChoice::Identified } else { ConfidentialityChoice::Confidential };
            record(&definition, &response("client-portal", counter, answers, choice))
        })
        .collect();
    let repeated: Vec<_> = (0..COPIES).flat_map(|_| block.iter().cloned()).collect();
    assert!(
        repeated.len() >= 100_000,
        "large enough to be tallied in parts"
    );
    let options = ReportOptions::default();
    let (small, large) = (
        build_report(&definition, &block, &options),
        build_report(&definition, &repeated, &options),
    );
    let (small_nps, large_nps) = (
        small.overall.nps.as_ref().unwrap(),
        large.overall.nps.as_ref().unwrap(),
    );
    assert_eq!(large.overall.n, small.overall.n * COPIES as u64);
    assert_eq!(
        (
            large_nps.promoters,
            large_nps.passives,
            large_nps.detractors
        ),
        (
            small_nps.promoters * COPIES as u64,
            small_nps.passives * COPIES as u64,
            small_nps.detractors * COPIES as u64
        )
    );
    assert!(close(large_nps.nps, small_nps.nps) && close(large_nps.mean, small_nps.mean));
    let (small_crq, large_crq) = (
        small.overall.crq.as_ref().unwrap(),
        large.overall.crq.as_ref().unwrap(),
    );
    assert_eq!(large_crq.n, small_crq.n * COPIES as u64);
    assert!(
        close(large_crq.mean, small_crq.mean),
        "{} against {}",
        large_crq.mean,
        small_crq.mean
    );
    for (large_level, small_level) in large.overall.levels.iter().zip(&small.overall.levels) {
        let (large_level, small_level) = (
            large_level.figures.as_ref().unwrap(),
            small_level.figures.as_ref().unwrap(),
        );
        assert!(
            close(large_level.mean, small_level.mean)
                && large_level.n == small_level.n * COPIES as u64
        );
    }
    let (small_split, large_split) = (
        small.confidentiality_comparison.unwrap(),
        large.confidentiality_comparison.unwrap(),
    );
    assert_eq!(
        large_split.confidential.n,
        small_split.confidential.n * COPIES as u64
    );
    assert_eq!(
        large_split.identified.n,
        small_split.identified.n * COPIES as u64
    );
    let (small_categories, large_categories) = (
        small.overall.categories.as_ref().unwrap(),
        large.overall.categories.as_ref().unwrap(),
    );
    assert_eq!(
        [
            large_categories.ambassador,
            large_categories.ambivalent,
            large_categories.stalker,
            large_categories.opponent
        ],
        [
            small_categories.ambassador,
            small_categories.ambivalent,
            small_categories.stalker,
            small_categories.opponent
        ]
        .map(|n| n * COPIES as u64)
    );
}
