//! Key drivers: a hand-checked two-statement survey, the figures of an independent
//! reference (SciPy, statsmodels and NumPy, in `scoring/tests/reference/drivers.py`)
//! to 1e-9, the threshold of complete answers, and properties that hold for any data.

use proptest::prelude::*;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::report::Drivers;
use rapport_scoring::wire::{ConfidentialityChoice, ResponseV1};
use rapport_scoring::{ReportOptions, build_report, template};
use serde_json::{Value, json};

use crate::support::{record, response};

const TWO_STATEMENTS: &str = r#"
id = "two-statements"
version = 1
title = { en = "Two statements" }
confidentiality = "optional"
programme_team = { en = "the feedback team" }
min_group_size = 5

[[levels]]
id = "relationship"
label = { en = "Relationship" }

[[questions]]
kind = "nps"
id = "nps"
required = true
text = { en = "How likely are you to recommend us?" }
low_label = { en = "Not at all likely" }
high_label = { en = "Extremely likely" }

[[questions]]
kind = "element"
id = "trust"
level = "relationship"
text = { en = "We trust you." }

[[questions]]
kind = "element"
id = "care"
level = "relationship"
text = { en = "You care about us." }
"#;

fn drivers_of(definition: &SurveyDefinition, responses: &[ResponseV1]) -> Option<Drivers> {
    let records: Vec<_> = responses
        .iter()
        .map(|response| record(definition, response))
        .collect();
    build_report(definition, &records, &ReportOptions::default()).drivers
}

/// Twelve answers in four patterns of (trust, care): (5, 5) four times with 0–10 answers
/// 8, 10, 9, 9; (3, 3) four times with 2, 4, 3, 3; (5, 3) twice with 6, 8; (3, 5) twice
/// with 4, 6.
fn twelve_answers() -> Vec<ResponseV1> {
    let patterns: [(u8, u8, &[u8]); 4] = [
        (5, 5, &[8, 10, 9, 9]),
        (3, 3, &[2, 4, 3, 3]),
        (5, 3, &[6, 8]),
        (3, 5, &[4, 6]),
    ];
    let mut responses = Vec::new();
    for (trust, care, answers) in patterns {
        for nps in answers {
            let counter = responses.len() as u64;
            responses.push(response(
                "two-statements",
                counter,
                json!({ "nps": nps, "trust": trust, "care": care }),
                ConfidentialityChoice::Identified,
            ));
        }
    }
    responses
}

#[test]
fn two_statements_give_the_figures_worked_out_by_hand() {
    // By hand. Write trust = 4 + u, care = 4 + v with u, v = ±1. Every rating's mean is 4
    // and Σu² = Σv² = 12; Σuv = 4 + 4 − 2 − 2 = 4, so r(trust, care) = 4/12 = 1/3. The
    // pattern means of the 0–10 answer are 9, 3, 7, 5 = 6 + 2u + v exactly, and each
    // pattern's answers sit ±1 or 0 around its mean, so OLS fits 6 + 2u + v with residual
    // sum of squares 8 (eight rows off by 1). Σ(2u + v)² = 4·9 + 4·9 + 2·1 + 2·1 = 76, so
    // the 0–10 answer has Σ(y − 6)² = 76 + 8 = 84 and R² = 76/84 = 19/21.
    // Σu(y − 6) = Σu(2u + v) = 24 + 4 = 28 and Σv(y − 6) = 8 + 12 = 20, so
    // r(trust) = 28/√(12·84) and r(care) = 20/√(12·84).
    // Standardised coefficients: 2·√(12/84) = 2/√7 and 1/√7.
    // Their standard errors: √((1 − R²)/(n − p − 1) · 1/(1 − r²₁₂)) = √((2/21)/9 · 9/8)
    // = √(1/84), with t(0.975, 9) = 2.262157162798205 (the t table to its digits).
    // Relative weights: the correlation matrix [[1, a], [a, 1]], a = 1/3, has eigenvalues
    // 1 ± a with eigenvectors (1, ±1)/√2, so its symmetric root is [[c, s], [s, c]] with
    // c = (√(1 + a) + √(1 − a))/2, s = (√(1 + a) − √(1 − a))/2, and its inverse is
    // [[c', s'], [s', c']] with c' = (1/√(1 + a) + 1/√(1 − a))/2, s' = (1/√(1 + a) −
    // 1/√(1 − a))/2. Then β* = root⁻¹ r and each weight is Σₖ rootⱼₖ² β*ₖ².
    let definition = SurveyDefinition::from_toml(TWO_STATEMENTS).unwrap();
    let drivers = drivers_of(&definition, &twelve_answers()).expect("twelve complete answers");

    let close = |actual: f64, expected: f64, what: &str| {
        assert!(
            (actual - expected).abs() < 1e-12,
            "{what}: {actual} is not {expected}"
        );
    };
    assert_eq!(drivers.complete_cases, 12);
    assert_eq!(drivers.residual_df, 9);
    close(drivers.r_squared, 19.0 / 21.0, "R²");

    let [trust, care] = drivers.items.as_slice() else {
        panic!("two items expected, got {:?}", drivers.items)
    };
    assert_eq!((trust.id.as_str(), care.id.as_str()), ("trust", "care"));
    for item in [trust, care] {
        close(item.mean_rating, 4.0, "mean rating");
        assert_eq!(item.n_rated, 12);
        assert_eq!(item.correlation.n, 12);
        assert_eq!(
            item.level.as_ref().map(|level| level.as_str()),
            Some("relationship")
        );
    }
    let denominator = (12.0f64 * 84.0).sqrt();
    let (r_trust, r_care) = (28.0 / denominator, 20.0 / denominator);
    close(trust.correlation.r, r_trust, "r(trust)");
    close(care.correlation.r, r_care, "r(care)");
    // Fisher's z with n − 3 = 9: half-width 1.959963984540054/3.
    let fisher = |r: f64, sign: f64| (r.atanh() + sign * 1.959_963_984_540_054 / 3.0).tanh();
    close(
        trust.correlation.interval.low,
        fisher(r_trust, -1.0),
        "r low",
    );
    close(
        trust.correlation.interval.high,
        fisher(r_trust, 1.0),
        "r high",
    );

    let seven = 7.0f64.sqrt();
    close(trust.coefficient, 2.0 / seven, "β(trust)");
    close(care.coefficient, 1.0 / seven, "β(care)");
    let half_width = 2.262_157_162_798_205 * (1.0f64 / 84.0).sqrt();
    // The t quantile comes from our own series; allow for its last digits.
    assert!((trust.coefficient_interval.low - (2.0 / seven - half_width)).abs() < 1e-10);
    assert!((trust.coefficient_interval.high - (2.0 / seven + half_width)).abs() < 1e-10);
    assert!((care.coefficient_interval.low - (1.0 / seven - half_width)).abs() < 1e-10);

    let a = 1.0f64 / 3.0;
    let (up, down) = ((1.0 + a).sqrt(), (1.0 - a).sqrt());
    let (c, s) = ((up + down) / 2.0, (up - down) / 2.0);
    let (c_inv, s_inv) = ((1.0 / up + 1.0 / down) / 2.0, (1.0 / up - 1.0 / down) / 2.0);
    let beta_star = [
        c_inv * r_trust + s_inv * r_care,
        s_inv * r_trust + c_inv * r_care,
    ];
    let weight_trust = c * c * beta_star[0].powi(2) + s * s * beta_star[1].powi(2);
    let weight_care = s * s * beta_star[0].powi(2) + c * c * beta_star[1].powi(2);
    close(trust.relative_weight, weight_trust, "weight(trust)");
    close(care.relative_weight, weight_care, "weight(care)");
    close(trust.share, weight_trust / (19.0 / 21.0), "share(trust)");
    // Trust matters more than care here, and the page leads with it.
    assert!(trust.share > care.share);
}

#[test]
fn drivers_need_as_many_complete_answers_as_items_plus_ten() {
    // Two items: at least max(5, 2 + 10) = 12 complete answers. Eleven of the twelve
    // above, plus one without a care rating, are not enough.
    let definition = SurveyDefinition::from_toml(TWO_STATEMENTS).unwrap();
    let mut responses = twelve_answers();
    assert!(drivers_of(&definition, &responses).is_some());
    responses.pop();
    assert_eq!(drivers_of(&definition, &responses), None);
    responses.push(response(
        "two-statements",
        99,
        json!({ "nps": 7, "trust": 4 }),
        ConfidentialityChoice::Identified,
    ));
    assert_eq!(drivers_of(&definition, &responses), None);
}

#[test]
fn items_rated_alike_give_no_drivers() {
    // Care always equals trust: importance cannot be shared between them.
    let definition = SurveyDefinition::from_toml(TWO_STATEMENTS).unwrap();
    let responses: Vec<_> = (0..20u64)
        .map(|idx| {
            let rating = 1 + idx % 7;
            response(
                "two-statements",
                idx,
                json!({ "nps": (idx * 3) % 11, "trust": rating, "care": rating }),
                ConfidentialityChoice::Identified,
            )
        })
        .collect();
    assert_eq!(drivers_of(&definition, &responses), None);
}

fn fixture(path: &str) -> Vec<ResponseV1> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::read_to_string(format!("{root}/{path}"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn drivers_agree_with_scipy_statsmodels_and_numpy_to_1e9() {
    let expected: Value = serde_json::from_str(include_str!("../reference/drivers.expected.json"))
        .expect("the reference's output is JSON");
    let expected = expected.as_object().expect("an object by fixture");
    assert!(
        expected.len() >= 3,
        "every fixture has its expected figures"
    );
    let mut compared = 0;
    for (path, want) in expected {
        let responses = fixture(path);
        let definition = template(responses[0].survey_id.as_str()).unwrap();
        let drivers = drivers_of(&definition, &responses);
        let (Some(drivers), false) = (&drivers, want.is_null()) else {
            assert_eq!(drivers.is_none(), want.is_null(), "{path}: {drivers:?}");
            continue;
        };
        let mut close = |actual: f64, want: &Value, what: &str| {
            let want = want
                .as_f64()
                .unwrap_or_else(|| panic!("{path}: {what} missing"));
            assert!(
                (actual - want).abs() <= 1e-9,
                "{path}: {what}: {actual} differs from the reference {want}"
            );
            compared += 1;
        };
        assert_eq!(
            drivers.complete_cases,
            want["complete_cases"].as_u64().unwrap()
        );
        assert_eq!(drivers.residual_df, want["residual_df"].as_u64().unwrap());
        close(drivers.r_squared, &want["r_squared"], "R²");
        let want_items = want["items"].as_array().unwrap();
        assert_eq!(drivers.items.len(), want_items.len(), "{path}");
        for (item, want) in drivers.items.iter().zip(want_items) {
            assert_eq!(item.id.as_str(), want["id"].as_str().unwrap(), "{path}");
            assert_eq!(item.n_rated, want["n_rated"].as_u64().unwrap());
            assert_eq!(item.correlation.n, want["r_n"].as_u64().unwrap());
            let id = item.id.as_str();
            close(
                item.mean_rating,
                &want["mean_rating"],
                &format!("{id} mean"),
            );
            close(item.correlation.r, &want["r"], &format!("{id} r"));
            close(
                item.correlation.interval.low,
                &want["r_low"],
                &format!("{id} r low"),
            );
            close(
                item.correlation.interval.high,
                &want["r_high"],
                &format!("{id} r high"),
            );
            close(item.coefficient, &want["coefficient"], &format!("{id} β"));
            close(
                item.coefficient_interval.low,
                &want["coefficient_low"],
                &format!("{id} β low"),
            );
            close(
                item.coefficient_interval.high,
                &want["coefficient_high"],
                &format!("{id} β high"),
            );
            close(
                item.relative_weight,
                &want["relative_weight"],
                &format!("{id} weight"),
            );
            close(item.share, &want["share"], &format!("{id} share"));
        }
    }
    // One fixture with drivers: 1 + 12 × 9 figures.
    assert!(compared >= 109, "only {compared} figures compared");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the answers, relative weights are non-negative and add up to R², shares to
    /// one, each coefficient lies inside its interval and each r inside its interval.
    #[test]
    fn relative_weights_add_up_to_r_squared(
        rows in prop::collection::vec(
            (0u8..=10, prop::collection::vec(prop::option::weighted(0.9, 1u8..=7), 7)),
            17..60,
        )
    ) {
        let definition = template("client-portal").unwrap();
        let items = ["trust", "commitment", "satisfaction", "uniqueness", "reliability",
            "responsiveness", "care"];
        let responses: Vec<_> = rows.iter().enumerate().map(|(idx, (nps, ratings))| {
            let mut answers = serde_json::Map::new();
            answers.insert("nps".into(), json!(nps));
            for (item, rating) in items.iter().zip(ratings) {
                if let Some(rating) = rating {
                    answers.insert((*item).into(), json!(rating));
                }
            }
            response("client-portal", idx as u64, Value::Object(answers),
                ConfidentialityChoice::Identified)
        }).collect();
        if let Some(drivers) = drivers_of(&definition, &responses) {
            prop_assert!(drivers.complete_cases >= 17);
            let total: f64 = drivers.items.iter().map(|item| item.relative_weight).sum();
            prop_assert!((total - drivers.r_squared).abs() < 1e-10);
            let shares: f64 = drivers.items.iter().map(|item| item.share).sum();
            prop_assert!((shares - 1.0).abs() < 1e-9 || drivers.r_squared == 0.0);
            prop_assert!((0.0..=1.0).contains(&drivers.r_squared));
            for item in &drivers.items {
                prop_assert!(item.relative_weight >= -1e-15);
                prop_assert!(item.coefficient_interval.low <= item.coefficient);
                prop_assert!(item.coefficient <= item.coefficient_interval.high);
                prop_assert!(item.correlation.interval.low <= item.correlation.r);
                prop_assert!(item.correlation.r <= item.correlation.interval.high);
                prop_assert!((1.0..=7.0).contains(&item.mean_rating));
            }
        }
    }
}
