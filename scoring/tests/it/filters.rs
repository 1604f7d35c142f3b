//! The received-day column, filters by date range and account, and label rules (hide and
//! merge), through the public API: hand-checked figures on the admin's live input, and the
//! batch-whole rule on a release, where a range or a hidden label that cuts a published
//! batch leaves the batch out whole.

use rapport_scoring::disclosure::{self, Arrival};
use rapport_scoring::report::{
    DayError, FilterError, LabelAction, LabelField, LabelRule, ReceivedDay, ReportFilter,
};
use rapport_scoring::validate::{Answers, NpsAnswer};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{
    Report, ReportInput, ReportOptions, ResponseRecord, SegmentField, report_of, template,
};

fn day(text: &str) -> ReceivedDay {
    ReceivedDay::parse(text).unwrap()
}

/// A response with only a 0–10 answer.
fn answer(
    nps: u8,
    account: &str,
    matter: &str,
    wave: &str,
    confidentiality: ConfidentialityChoice,
) -> ResponseRecord {
    ResponseRecord {
        answers: Answers {
            nps: Some(NpsAnswer::try_from(nps).unwrap()),
            ..Answers::default()
        },
        confidentiality,
        context: Context {
            account: Some(account.to_owned()),
            matter: Some(matter.to_owned()),
            wave: Some(wave.to_owned()),
            returning: None,
        },
        respondent_key: None,
        arrival: Arrival::Invitation,
    }
}

fn input_of(rows: &[(ResponseRecord, &str)]) -> ReportInput {
    let definition = template("client-portal").unwrap();
    let mut input = ReportInput::new(&definition);
    for (record, received) in rows {
        input.push_record_received(record, Some(day(received)));
    }
    input
}

fn report(input: &ReportInput, by: &[&str]) -> Report {
    let definition = template("client-portal").unwrap();
    report_of(
        &definition,
        input,
        &ReportOptions {
            segments: by
                .iter()
                .map(|field| SegmentField::parse(&definition, field).unwrap())
                .collect(),
            min_group_size: Some(1),
            crossings: Vec::new(),
        },
    )
}

/// (answered, promoters, detractors) of a report's overall NPS.
fn nps_counts(report: &Report) -> (u64, u64, u64) {
    report.overall.nps.as_ref().map_or((0, 0, 0), |nps| {
        (nps.answered, nps.promoters, nps.detractors)
    })
}

#[test]
fn days_are_parsed_counted_from_1970_and_refused_when_not_a_date() {
    // 1970-01-01 to 2026-01-01 is 56 years with 14 leap days (1972, 1976, …, 2024):
    // 56 × 365 + 14 = 20 454 days; then January (31) and February 2026 (28) make
    // 2026-03-01 day 20 454 + 59 = 20 513.
    assert_eq!(day("2026-03-01").days_since_epoch(), 20_513);
    assert_eq!(day("1970-01-01").days_since_epoch(), 0);
    assert_eq!(day("2026-03-01").to_string(), "2026-03-01");
    assert_eq!(day("2024-02-29").ymd(), (2024, 2, 29));
    for refused in [
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-3-1",
        "26-03-01",
        "2026/03/01",
        "",
        "2026-03-01T00:00:00Z",
        "+026-03-01",
    ] {
        assert_eq!(
            ReceivedDay::parse(refused),
            Err(DayError(refused.to_owned())),
            "{refused}"
        );
    }
    // A stored timestamp's day is its first ten characters (the server stores UTC).
    assert_eq!(
        ReceivedDay::of_timestamp("2026-06-30T23:59:59.999Z"),
        Some(day("2026-06-30"))
    );
    assert_eq!(ReceivedDay::of_timestamp("not a time"), None);
    assert_eq!(
        ReportFilter::new(Some(day("2026-06-30")), Some(day("2026-03-01")), None),
        Err(FilterError::EndsBeforeStart {
            from: day("2026-06-30"),
            to: day("2026-03-01"),
        })
    );
}

#[test]
fn a_date_range_and_an_account_narrow_the_admin_report_to_the_answers_inside() {
    use ConfidentialityChoice::Identified;
    let input = input_of(&[
        (
            answer(10, "northwind", "m1", "w1", Identified),
            "2026-02-28",
        ),
        (answer(9, "northwind", "m1", "w1", Identified), "2026-03-01"),
        (answer(3, "contoso", "m2", "w1", Identified), "2026-04-15"),
        (answer(8, "northwind", "m1", "w1", Identified), "2026-06-30"),
        (answer(0, "northwind", "m1", "w1", Identified), "2026-07-01"),
    ]);
    // 1 March to 30 June holds the 9, the 3 and the 8: one promoter, one detractor, one
    // passive; NPS = (1 − 1) / 3 = 0.
    let spring = ReportFilter::new(Some(day("2026-03-01")), Some(day("2026-06-30")), None).unwrap();
    let narrowed = report(&input.filtered(&spring), &[]);
    assert_eq!(nps_counts(&narrowed), (3, 1, 1));
    assert_eq!(narrowed.overall.nps.as_ref().unwrap().nps, 0.0);
    // The same range for Northwind only: the 9 and the 8, NPS = (1 − 0) / 2 = +50.
    let northwind = ReportFilter {
        account: Some("northwind".to_owned()),
        ..spring.clone()
    };
    let narrowed = report(&input.filtered(&northwind), &[]);
    assert_eq!(nps_counts(&narrowed), (2, 1, 0));
    assert_eq!(narrowed.overall.nps.as_ref().unwrap().nps, 50.0);
    // Open-ended on one side: from 30 June on holds the 8 and the 0.
    let summer = ReportFilter::new(Some(day("2026-06-30")), None, None).unwrap();
    assert_eq!(
        nps_counts(&report(&input.filtered(&summer), &[])),
        (2, 0, 1)
    );
    // No filter keeps all five.
    assert_eq!(
        nps_counts(&report(&input.filtered(&ReportFilter::default()), &[])),
        (5, 2, 2)
    );
    // A response whose day is unknown passes no date bound, and passes an account filter.
    let mut unknown = input.clone();
    unknown.push_record(&answer(10, "northwind", "m1", "w1", Identified));
    assert_eq!(unknown.received_on(5), None);
    assert_eq!(unknown.filtered(&spring).len(), 3);
    let only_northwind = ReportFilter {
        account: Some("northwind".to_owned()),
        ..ReportFilter::default()
    };
    assert_eq!(unknown.filtered(&only_northwind).len(), 5);
}

/// Three verified confidential answers at Northwind on 1, 2 and 3 March (one batch of
/// three), three more on 4, 5 and 6 March (a second batch), and an identified answer on 2
/// March.
fn batched_programme() -> ReportInput {
    use ConfidentialityChoice::{Confidential, Identified};
    input_of(&[
        (
            answer(0, "northwind", "m1", "w1", Confidential),
            "2026-03-01",
        ),
        (
            answer(10, "northwind", "m1", "w1", Identified),
            "2026-03-02",
        ),
        (
            answer(2, "northwind", "m2", "w1", Confidential),
            "2026-03-02",
        ),
        (
            answer(9, "northwind", "m1", "w1", Confidential),
            "2026-03-03",
        ),
        (
            answer(10, "northwind", "m1", "w1", Confidential),
            "2026-03-04",
        ),
        (
            answer(10, "northwind", "m1", "w1", Confidential),
            "2026-03-05",
        ),
        (
            answer(7, "northwind", "m1", "w1", Confidential),
            "2026-03-06",
        ),
    ])
}

#[test]
fn a_date_range_that_cuts_a_published_batch_leaves_the_whole_batch_out() {
    let all = batched_programme();
    let released = disclosure::release(&all, 3);
    let visible = released.visible();
    assert_eq!(visible.len(), 7, "both batches are published");
    let range =
        |from: &str, to: &str| ReportFilter::new(Some(day(from)), Some(day(to)), None).unwrap();
    // 2 to 6 March cuts the first batch (its answer of 1 March is outside): the batch goes
    // whole, and what is left is the identified 10 and the second batch (10, 10, 7).
    let cut = visible.filtered(&range("2026-03-02", "2026-03-06"));
    assert_eq!(nps_counts(&report(&cut, &[])), (4, 3, 0));
    // So 2 to 6 March and 1 to 6 March, a day apart with one confidential answer between
    // them, differ by the first batch whole: three answers (0, 2, 9), never one.
    let whole = visible.filtered(&range("2026-03-01", "2026-03-06"));
    assert_eq!(nps_counts(&report(&whole, &[])), (7, 4, 2));
    // And 3 to 6 March, another day less, gives the same figures as 2 to 6 March but one
    // identified answer: the cut batch never shows in part.
    let later = visible.filtered(&range("2026-03-03", "2026-03-06"));
    assert_eq!(nps_counts(&report(&later, &[])), (3, 2, 0));
    // The admin's live input is cut by the day, answer by answer: 2 to 6 March holds six.
    assert_eq!(all.filtered(&range("2026-03-02", "2026-03-06")).len(), 6);
}

#[test]
fn merging_renames_before_grouping_and_hiding_drops_rows_batch_whole() {
    use ConfidentialityChoice::Identified;
    let input = input_of(&[
        (
            answer(10, "northwind", "m1", "2026-h1", Identified),
            "2026-03-01",
        ),
        (
            answer(9, "northwind-test", "m1", "2026-H1", Identified),
            "2026-03-02",
        ),
        (
            answer(3, "test-co", "m1", "2026-h1", Identified),
            "2026-03-03",
        ),
        (
            answer(6, "contoso", "m2", "2026-h1", Identified),
            "2026-03-04",
        ),
    ]);
    let rules = [
        LabelRule {
            field: LabelField::Account,
            value: "northwind-test".to_owned(),
            action: LabelAction::MergeInto("northwind".to_owned()),
        },
        LabelRule {
            field: LabelField::Wave,
            value: "2026-H1".to_owned(),
            action: LabelAction::MergeInto("2026-h1".to_owned()),
        },
        LabelRule {
            field: LabelField::Account,
            value: "test-co".to_owned(),
            action: LabelAction::Hide,
        },
    ];
    let labelled = input.with_labels(&rules);
    let by = report(&labelled, &["account", "wave"]);
    let groups = |field: usize| -> Vec<(String, u64)> {
        let mut groups: Vec<(String, u64)> = by.segments[field]
            .groups
            .iter()
            .map(|group| (group.value.clone(), group.n))
            .collect();
        groups.sort();
        groups
    };
    // Northwind holds its own 10 and the merged 9; test-co is gone; one wave of three.
    assert_eq!(
        groups(0),
        [("contoso".to_owned(), 1), ("northwind".to_owned(), 2)]
    );
    assert_eq!(groups(1), [("2026-h1".to_owned(), 3)]);
    assert_eq!(
        labelled.accounts_present(),
        ["contoso".to_owned(), "northwind".to_owned()]
    );
    // The account filter reads merged values: "northwind" now holds both answers.
    let northwind = ReportFilter {
        account: Some("northwind".to_owned()),
        ..ReportFilter::default()
    };
    assert_eq!(labelled.filtered(&northwind).len(), 2);

    // On a release, hiding the matter of one answer of a published batch leaves the whole
    // batch out: the batch of 1–3 March holds m1, m2 and m1.
    let released = disclosure::release(&batched_programme(), 3);
    let hide_m2 = [LabelRule {
        field: LabelField::Matter,
        value: "m2".to_owned(),
        action: LabelAction::Hide,
    }];
    let hidden = released.visible().with_labels(&hide_m2);
    // Left: the identified 10 and the second batch (10, 10, 7).
    assert_eq!(nps_counts(&report(&hidden, &[])), (4, 3, 0));
    // Merging m2 into m1 moves no answer in or out: all seven stay, in one matter group.
    let merge_m2 = [LabelRule {
        field: LabelField::Matter,
        value: "m2".to_owned(),
        action: LabelAction::MergeInto("m1".to_owned()),
    }];
    let merged = report(&released.visible().with_labels(&merge_m2), &["matter"]);
    assert_eq!(merged.overall.n, 7);
    assert_eq!(merged.segments[0].groups.len(), 1);
    assert_eq!(merged.segments[0].groups[0].n, 7);
}

#[test]
fn a_snapshot_keeps_each_responses_day() {
    let input = batched_programme();
    let definition = template("client-portal").unwrap();
    let read_back = ReportInput::from_snapshot(&definition, &input.to_snapshot()).unwrap();
    let days: Vec<_> = (0..input.len()).map(|row| input.received_on(row)).collect();
    let read_days: Vec<_> = (0..read_back.len())
        .map(|row| read_back.received_on(row))
        .collect();
    assert_eq!(read_days, days);
    assert_eq!(read_days[0], Some(day("2026-03-01")));
}
