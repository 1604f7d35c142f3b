//! Two-field breakdowns: cell figures and Welch tests checked by hand (and against SciPy's
//! `ttest_ind(equal_var=False)`), suppression by row and by column, the batch rule on a
//! release, and the DOMAIN.md finding that needs two fields to be seen.

use rapport_scoring::disclosure::{self, Arrival};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{
    FieldPair, Report, ReportInput, ReportOptions, ResponseRecord, SegmentField, SurveyDefinition,
    build_report, report_of, template,
};
use serde_json::json;

use super::reports::{crq, opt_in_programme};
use crate::support::{record, response};

/// A response with one 0–10 answer and every CRQ element rated `rating` (so its overall
/// CRQ is `rating`), in `account`, new or returning.
fn answer(
    definition: &SurveyDefinition,
    counter: u64,
    (account, returning, choice): (&str, bool, ConfidentialityChoice),
    (nps, rating): (u8, u8),
) -> ResponseRecord {
    let mut answers = crq(rating);
    answers["nps"] = json!(nps);
    let mut response = response("client-portal", counter, answers, choice);
    response.context = Context {
        account: Some(account.to_owned()),
        returning: Some(returning),
        ..Context::default()
    };
    record(definition, &response)
}

fn options(definition: &SurveyDefinition, pair: &str, min_group_size: u32) -> ReportOptions {
    ReportOptions {
        segments: Vec::new(),
        crossings: vec![FieldPair::parse(definition, pair).unwrap()],
        min_group_size: Some(min_group_size),
    }
}

/// Each cell as `(first, second, n, shown)`.
fn cells(report: &Report) -> Vec<(String, String, u64, bool)> {
    report.crossings[0]
        .groups
        .iter()
        .map(|cell| {
            assert_eq!(cell.suppressed, cell.figures.is_none());
            (
                cell.first.clone(),
                cell.second.clone(),
                cell.n,
                !cell.suppressed,
            )
        })
        .collect()
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

const CONFIDENTIAL: ConfidentialityChoice = ConfidentialityChoice::Confidential;
const IDENTIFIED: ConfidentialityChoice = ConfidentialityChoice::Identified;

#[test]
fn cell_figures_and_tests_match_a_hand_computed_table() {
    let definition = template("client-portal").unwrap();
    // (returning, choice, [(0–10 answer, CRQ)]), one line per cell.
    let table = [
        (false, CONFIDENTIAL, vec![(2, 3), (4, 4), (6, 5)]),
        (false, IDENTIFIED, vec![(7, 5), (8, 6), (9, 6), (10, 7)]),
        (true, CONFIDENTIAL, vec![(5, 4), (7, 4), (6, 5)]),
        (true, IDENTIFIED, vec![(8, 6), (8, 6), (9, 7)]),
    ];
    let mut records = Vec::new();
    for (returning, choice, answers) in &table {
        for scores in answers {
            let counter = records.len() as u64;
            records.push(answer(
                &definition,
                counter,
                ("acme", *returning, *choice),
                *scores,
            ));
        }
    }
    // The ASCII and the multiplication-sign forms name the same pair.
    assert_eq!(
        FieldPair::parse(&definition, "returning×confidentiality").unwrap(),
        FieldPair::parse(&definition, "returning:confidentiality").unwrap()
    );
    let report = build_report(
        &definition,
        &records,
        &options(&definition, "returning×confidentiality", 3),
    );
    let crossing = &report.crossings[0];
    assert_eq!(
        (crossing.first.as_str(), crossing.second.as_str()),
        ("returning", "confidentiality")
    );
    let means: Vec<_> = crossing
        .groups
        .iter()
        .map(|cell| {
            let figures = cell.figures.as_ref().unwrap();
            (
                cell.first.as_str(),
                cell.second.as_str(),
                cell.n,
                figures.nps.as_ref().unwrap().mean,
                figures.crq.as_ref().unwrap().mean,
            )
        })
        .collect();
    assert_eq!(
        means,
        [
            ("new", "confidential", 3, 4.0, 4.0),
            ("new", "identified", 4, 8.5, 6.0),
            ("returning", "confidential", 3, 6.0, 13.0 / 3.0),
            ("returning", "identified", 3, 25.0 / 3.0, 19.0 / 3.0),
        ]
    );
    // Within new: 0–10 means 4 (variance 4, n 3) and 8.5 (variance 5/3, n 4).
    // SE² = 4/3 + 5/12 = 1.75, t = −4.5/√1.75; df = 1.75² / ((4/3)²/2 + (5/12)²/3).
    // SciPy: t = −3.401680257, df = 3.234718826, p = 0.037815082.
    let comparisons: Vec<_> = crossing
        .comparisons
        .iter()
        .map(|comparison| {
            let (nps, crq) = (comparison.nps_test.unwrap(), comparison.crq_test.unwrap());
            (
                comparison.within.as_str(),
                comparison.first.as_str(),
                comparison.second.as_str(),
                [nps.difference, nps.t, nps.df, nps.p_value],
                [crq.difference, crq.t, crq.df, crq.p_value],
            )
        })
        .collect();
    let expected = [
        (
            "new",
            [-4.5, -3.401_680_257, 3.234_718_826, 0.037_815_082],
            [-2.0, -2.828_427_125, 3.857_142_857, 0.049_460_559],
        ),
        (
            "returning",
            [-7.0 / 3.0, -3.5, 3.2, 0.035_652_663],
            [-2.0, -4.242_640_687, 4.0, 0.013_235_600],
        ),
    ];
    assert_eq!(comparisons.len(), expected.len());
    for (actual, (within, nps, crq)) in comparisons.iter().zip(expected) {
        assert_eq!(
            (actual.0, actual.1, actual.2),
            (within, "confidential", "identified")
        );
        for (got, want) in actual.3.iter().zip(nps).chain(actual.4.iter().zip(crq)) {
            assert!((got - want).abs() < 1e-6, "{actual:?}");
        }
    }
}

#[test]
fn a_pair_of_one_field_or_of_unknown_fields_is_refused_with_its_reason() {
    let definition = template("client-portal").unwrap();
    let error = FieldPair::parse(&definition, "wave:wave").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot cross \"wave\" with itself"),
        "{error}"
    );
    let error = FieldPair::parse(&definition, "returning:trust").unwrap_err();
    assert!(
        error.to_string().starts_with("cannot segment by \"trust\""),
        "{error}"
    );
    assert!(FieldPair::parse(&definition, "account").is_err());
    assert_eq!(
        FieldPair::parse(&definition, " account : wave ")
            .unwrap()
            .name(),
        "account:wave"
    );
}

/// Counts by account (rows) and confidentiality (columns), all identified answers live.
fn account_table(counts: &[(&str, u64, u64)], min_group_size: u32) -> Report {
    let definition = template("client-portal").unwrap();
    let mut records = Vec::new();
    for (account, n_confidential, n_identified) in counts {
        for (n, choice) in [(n_confidential, CONFIDENTIAL), (n_identified, IDENTIFIED)] {
            for _ in 0..*n {
                let counter = records.len() as u64;
                records.push(answer(
                    &definition,
                    counter,
                    (account, false, choice),
                    (counter as u8 % 11, 4),
                ));
            }
        }
    }
    build_report(
        &definition,
        &records,
        &options(&definition, "account:confidentiality", min_group_size),
    )
}

#[test]
fn a_small_cell_hides_a_complement_in_its_row_and_in_its_column() {
    // a/confidential (2) is below 5. Its row would give it away (a's total minus 10), so
    // a/identified hides too; its column would too (the confidential total minus the
    // others), so the smaller of b/confidential and c/confidential hides: a tie, broken by
    // value order, so b.
    let report = account_table(&[("c", 6, 9), ("a", 2, 10), ("b", 6, 8)], 5);
    let owned =
        |first: &str, second: &str, n, shown| (first.to_owned(), second.to_owned(), n, shown);
    assert_eq!(
        cells(&report),
        [
            owned("a", "confidential", 2, false),
            owned("a", "identified", 10, false),
            owned("b", "confidential", 6, false),
            owned("b", "identified", 8, true),
            owned("c", "confidential", 6, true),
            owned("c", "identified", 9, true),
        ]
    );
    // Only rows with two shown cells are compared.
    let compared: Vec<_> = report.crossings[0]
        .comparisons
        .iter()
        .map(|comparison| comparison.within.as_str())
        .collect();
    assert_eq!(compared, ["c"]);
}

#[test]
fn every_row_and_column_keeps_its_hidden_cells_at_the_minimum_size_together() {
    // a/confidential (1) and c/confidential (3) are below 5. Their rows hide a/identified
    // and c/identified; their column holds 4 hidden, so b/confidential (5, the smallest
    // shown there) hides too, and b's row then holds 5 hidden: enough.
    let report = account_table(&[("a", 1, 7), ("b", 5, 6), ("c", 3, 20), ("d", 9, 8)], 5);
    let hidden: Vec<_> = cells(&report)
        .into_iter()
        .filter(|cell| !cell.3)
        .map(|cell| format!("{}/{}", cell.0, cell.1))
        .collect();
    assert_eq!(
        hidden,
        [
            "a/confidential",
            "a/identified",
            "b/confidential",
            "c/confidential",
            "c/identified"
        ]
    );
    // Every row's and every column's hidden cells are none or at least 5 together.
    let crossing = &report.crossings[0];
    for line in ["a", "b", "c", "d", "confidential", "identified"] {
        let hidden_total: u64 = crossing
            .groups
            .iter()
            .filter(|cell| cell.suppressed && (cell.first == line || cell.second == line))
            .map(|cell| cell.n)
            .sum();
        assert!(
            hidden_total == 0 || hidden_total >= 5,
            "{line}: {hidden_total}"
        );
    }
}

#[test]
fn on_a_release_a_batch_counts_in_a_cell_only_when_all_of_it_falls_there() {
    let definition = template("client-portal").unwrap();
    let k = definition.min_group_size;
    let mut input = ReportInput::new(&definition);
    let mut push = |returning: bool, choice| {
        let counter = input.len() as u64;
        let mut record = answer(&definition, counter, ("acme", returning, choice), (5, 4));
        record.arrival = Arrival::Invitation;
        input.push_record(&record);
    };
    // The first batch of k confidential answers: all new but one. The second: all new.
    for idx in 0..k {
        push(idx == 0, CONFIDENTIAL);
    }
    for _ in 0..k {
        push(false, CONFIDENTIAL);
    }
    for idx in 0..2 * k {
        push(idx % 2 == 0, IDENTIFIED);
    }
    let release = disclosure::release(&input, k);
    let report = report_of(
        &definition,
        release.visible(),
        &options(&definition, "returning:confidentiality", k),
    );
    let k = u64::from(k);
    // The split batch counts in neither new/confidential nor returning/confidential.
    assert_eq!(
        cells(&report),
        [
            ("new".to_owned(), "confidential".to_owned(), k, true),
            ("new".to_owned(), "identified".to_owned(), k, true),
            ("returning".to_owned(), "identified".to_owned(), k, true),
        ]
    );
    // The programme team, on every row, sees both batches.
    let admin = report_of(
        &definition,
        &input,
        &options(&definition, "returning:confidentiality", k as u32),
    );
    assert_eq!(admin.crossings[0].groups[0].n, 2 * k - 1);
}

#[test]
fn new_respondents_who_kept_confidentiality_score_lower_seen_only_by_two_fields() {
    let definition = template("client-portal").unwrap();
    let records: Vec<_> = opt_in_programme()
        .iter()
        .map(|response| record(&definition, response))
        .collect();
    let report = build_report(
        &definition,
        &records,
        &ReportOptions {
            segments: vec![SegmentField::Returning],
            crossings: vec![FieldPair::parse(&definition, "returning:confidentiality").unwrap()],
            min_group_size: None,
        },
    );
    let within_new = report.crossings[0]
        .comparisons
        .iter()
        .find(|comparison| comparison.within == "new")
        .unwrap();
    assert_eq!(
        (within_new.first.as_str(), within_new.second.as_str()),
        ("confidential", "identified")
    );
    let test = within_new.nps_test.unwrap();
    assert!(test.difference < -2.0, "{test:?}");
    assert!(test.p_value < 0.001, "{test:?}");
    let new_confidential = report.crossings[0]
        .groups
        .iter()
        .find(|cell| cell.first == "new" && cell.second == "confidential")
        .unwrap();
    assert_eq!(new_confidential.n, 19);
    assert!(close(
        new_confidential
            .figures
            .as_ref()
            .unwrap()
            .nps
            .as_ref()
            .unwrap()
            .mean,
        // 3, 5, 6, 4, 7 repeated over 19 answers.
        93.0 / 19.0
    ));
}

#[test]
fn every_field_a_report_can_be_broken_down_by_is_named_and_parses_back() {
    let definition = template("client-portal").unwrap();
    let fields = SegmentField::every(&definition);
    let names: Vec<&str> = fields.iter().map(SegmentField::name).collect();
    // The six context fields, then the template's role question, by its id.
    let role = definition.role_question().unwrap().id().as_str();
    assert_eq!(
        names,
        [
            "account",
            "matter",
            "wave",
            "returning",
            "confidentiality",
            "nps-category",
            role
        ]
    );
    for field in &fields {
        assert_eq!(
            &SegmentField::parse(&definition, field.name()).unwrap(),
            field
        );
    }
    // Any two different fields make a two-field breakdown.
    let pair = format!("{}:{}", names[3], names[6]);
    assert!(FieldPair::parse(&definition, &pair).is_ok(), "{pair}");
}
