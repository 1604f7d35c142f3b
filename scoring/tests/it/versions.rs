//! Reports that span survey versions: earlier versions' responses carried into the later
//! version's layout by question id, hand-checked; choices and topics keep their meaning by
//! id; each version's published batches stay whole in the spanning release; and the
//! refusals (another 0–10 question, versions out of order, releases mixed with live rows).

use rapport_scoring::definition::{ChoiceOption, Question, SurveyDefinition};
use rapport_scoring::disclosure::{self, Arrival};
use rapport_scoring::ids::{OptionId, QuestionId};
use rapport_scoring::report::{ReceivedDay, ReportFilter, SpanError, VersionSpan, span_versions};
use rapport_scoring::validate::{Answers, NpsAnswer, Rating};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{
    Report, ReportInput, ReportOptions, ResponseRecord, SegmentField, report_of, template,
};

fn qid(id: &str) -> QuestionId {
    QuestionId::new(id).unwrap()
}

/// `post-negotiation` as version 1, with groups of two.
fn version_one() -> SurveyDefinition {
    let mut definition = template("post-negotiation").unwrap();
    definition.min_group_size = 2;
    definition
}

/// Version 2: `satisfaction` is gone, a new element `care` joins the same level.
fn version_two() -> SurveyDefinition {
    let mut definition = version_one();
    definition.version = 2;
    definition
        .questions
        .retain(|question| question.id().as_str() != "satisfaction");
    let trust = definition
        .questions
        .iter()
        .find(|question| question.id().as_str() == "trust")
        .cloned()
        .unwrap();
    let Question::Element {
        level,
        text,
        required,
        ..
    } = trust
    else {
        panic!("trust is an element");
    };
    definition.questions.push(Question::Element {
        id: qid("care"),
        level,
        text,
        required,
    });
    definition.validate().unwrap();
    definition
}

fn record(
    nps: u8,
    ratings: &[(&str, u8)],
    wave: &str,
    confidentiality: ConfidentialityChoice,
) -> ResponseRecord {
    ResponseRecord {
        answers: Answers {
            nps: Some(NpsAnswer::try_from(nps).unwrap()),
            ratings: ratings
                .iter()
                .map(|(id, rating)| (qid(id), Rating::try_from(*rating).unwrap()))
                .collect(),
            ..Answers::default()
        },
        confidentiality,
        context: Context {
            account: Some("acme".to_owned()),
            wave: Some(wave.to_owned()),
            ..Context::default()
        },
        respondent_key: None,
        arrival: Arrival::Invitation,
    }
}

fn input(definition: &SurveyDefinition, records: &[(ResponseRecord, &str)]) -> ReportInput {
    let mut input = ReportInput::new(definition);
    for (record, day) in records {
        input.push_record_received(record, Some(ReceivedDay::parse(day).unwrap()));
    }
    input
}

fn report(definition: &SurveyDefinition, input: &ReportInput, by: &[&str]) -> Report {
    report_of(
        definition,
        input,
        &ReportOptions {
            segments: by
                .iter()
                .map(|field| SegmentField::parse(definition, field).unwrap())
                .collect(),
            ..ReportOptions::default()
        },
    )
}

fn mean_of(report: &Report, item: &str) -> Option<(u64, f64)> {
    report
        .overall
        .items
        .iter()
        .find(|figures| figures.id.as_str() == item)
        .and_then(|figures| figures.figures.as_ref())
        .map(|figures| (figures.n, figures.mean))
}

const IDENTIFIED: ConfidentialityChoice = ConfidentialityChoice::Identified;
const CONFIDENTIAL: ConfidentialityChoice = ConfidentialityChoice::Confidential;

#[test]
fn earlier_answers_count_where_their_question_was_asked() {
    let (one, two) = (version_one(), version_two());
    let first = input(
        &one,
        &[
            (
                record(9, &[("trust", 6), ("satisfaction", 4)], "2025", IDENTIFIED),
                "2025-03-01",
            ),
            (
                record(3, &[("trust", 2), ("satisfaction", 2)], "2025", IDENTIFIED),
                "2025-03-02",
            ),
        ],
    );
    let second = input(
        &two,
        &[
            (
                record(10, &[("trust", 7), ("care", 5)], "2026", IDENTIFIED),
                "2026-03-01",
            ),
            (
                record(6, &[("trust", 4), ("care", 3)], "2026", IDENTIFIED),
                "2026-03-02",
            ),
        ],
    );
    let spanning = span_versions(&two, &[(&one, &first), (&two, &second)]).unwrap();
    let report = report(&two, &spanning, &["wave"]);

    assert_eq!(report.overall.n, 4);
    let nps = report.overall.nps.as_ref().unwrap();
    // Promoters 9 and 10, detractors 3 and 6: NPS 0.
    assert_eq!((nps.promoters, nps.detractors, nps.nps), (2, 2, 0.0));
    // Trust was asked by both: (6 + 2 + 7 + 4) / 4.
    assert_eq!(mean_of(&report, "trust"), Some((4, 4.75)));
    // Care by version 2 only: (5 + 3) / 2.
    assert_eq!(mean_of(&report, "care"), Some((2, 4.0)));
    // Satisfaction is not a question of the version reported on.
    assert_eq!(mean_of(&report, "satisfaction"), None);
    // The relationship level: trust alone in version 1 (6, 2), the mean of trust and care
    // in version 2 (6, 3.5): (6 + 2 + 6 + 3.5) / 4.
    let level = report.overall.levels[0].figures.as_ref().unwrap();
    assert_eq!((level.n, level.mean), (4, 4.375));
    assert_eq!(
        report.versions,
        vec![
            VersionSpan {
                version: 1,
                n: 2,
                not_asked: vec![qid("care")],
            },
            VersionSpan {
                version: 2,
                n: 2,
                not_asked: Vec::new(),
            },
        ]
    );
    // The wave breakdown puts each version's wave in its own group.
    let waves: Vec<(&str, u64)> = report.segments[0]
        .groups
        .iter()
        .map(|group| (group.value.as_str(), group.n))
        .collect();
    assert_eq!(waves, [("2025", 2), ("2026", 2)]);

    // A report of one version does not list versions; neither does a span whose filter
    // leaves one version.
    let alone = report_of(&two, &second, &ReportOptions::default());
    assert!(alone.versions.is_empty());
    assert!(
        !serde_json::to_string(&alone)
            .unwrap()
            .contains("\"versions\"")
    );
    let later_only = spanning.filtered(
        &ReportFilter::new(Some(ReceivedDay::parse("2026-01-01").unwrap()), None, None).unwrap(),
    );
    let narrowed = report_of(&two, &later_only, &ReportOptions::default());
    assert_eq!(narrowed.versions.len(), 1);
    assert!(
        !serde_json::to_string(&narrowed)
            .unwrap()
            .contains("\"versions\"")
    );
}

#[test]
fn choices_and_topics_keep_their_meaning_by_id() {
    let mut one = template("client-portal").unwrap();
    one.min_group_size = 1;
    let mut two = one.clone();
    two.version = 2;
    // Version 2 drops the option `operational` and offers a new one first, so every
    // option's position changes; it drops the first topic too.
    for question in &mut two.questions {
        if let Question::Role { options, .. } = question {
            options.retain(|option| option.id.as_str() != "operational");
            let label = options[0].label.clone();
            options.insert(
                0,
                ChoiceOption {
                    id: OptionId::new("in-house-counsel").unwrap(),
                    label,
                },
            );
        }
    }
    let dropped_topic = two.topics.remove(0);
    two.validate().unwrap();
    let kept_topic = two.topics[0].clone();

    let answered = |role: &str, strength: &str| ResponseRecord {
        answers: Answers {
            nps: Some(NpsAnswer::try_from(8).unwrap()),
            texts: [(qid("strength"), strength.to_owned())].into(),
            choices: [(qid("role"), vec![OptionId::new(role).unwrap()])].into(),
            ..Answers::default()
        },
        confidentiality: IDENTIFIED,
        context: Context::default(),
        respondent_key: None,
        arrival: Arrival::Invitation,
    };
    let first_keyword = |topic: &rapport_scoring::definition::Topic| topic.keywords[0].clone();
    let mut first = ReportInput::new(&one);
    first.push_record(&answered(
        "day-to-day",
        &format!("they were {}", first_keyword(&kept_topic)),
    ));
    first.push_record(&answered(
        "operational",
        &format!("they were {}", first_keyword(&dropped_topic)),
    ));
    let mut second = ReportInput::new(&two);
    second.push_record(&answered("day-to-day", "nothing to add"));
    second.push_record(&answered("in-house-counsel", "nothing to add"));

    let spanning = span_versions(&two, &[(&one, &first), (&two, &second)]).unwrap();
    let report = report(&two, &spanning, &["role"]);
    let roles: Vec<(&str, u64)> = report.segments[0]
        .groups
        .iter()
        .map(|group| (group.value.as_str(), group.n))
        .collect();
    // `day-to-day` from both versions is one group; `operational`, no longer offered, is
    // no answer.
    assert_eq!(
        roles,
        [("(none)", 1), ("day-to-day", 2), ("in-house-counsel", 1)]
    );
    let shares: Vec<(&str, u64)> = report
        .topics
        .iter()
        .map(|share| (share.topic.as_str(), share.strength_mentions))
        .collect();
    assert!(shares.contains(&(kept_topic.id.as_str(), 1)), "{shares:?}");
    assert!(
        !shares
            .iter()
            .any(|(topic, _)| *topic == dropped_topic.id.as_str())
    );
}

#[test]
fn each_versions_batches_stay_whole_in_a_spanning_release() {
    let (one, two) = (version_one(), version_two());
    // Version 1: three verified confidential answers, so one batch of two and one waiting;
    // version 2: two, one batch. Batches of two (the minimum group size).
    let first = input(
        &one,
        &[
            (record(9, &[], "2025", CONFIDENTIAL), "2025-03-01"),
            (record(2, &[], "2025", CONFIDENTIAL), "2025-03-02"),
            (record(7, &[], "2025", CONFIDENTIAL), "2025-03-03"),
            (record(10, &[], "2025", IDENTIFIED), "2025-03-04"),
        ],
    );
    let second = input(
        &two,
        &[
            (record(4, &[], "2026", CONFIDENTIAL), "2026-03-01"),
            (record(8, &[], "2026", CONFIDENTIAL), "2026-03-05"),
        ],
    );
    let (first_release, second_release) = (
        disclosure::release(&first, 2),
        disclosure::release(&second, 2),
    );
    let spanning = span_versions(
        &two,
        &[
            (&one, first_release.visible()),
            (&two, second_release.visible()),
        ],
    )
    .unwrap();
    assert!(spanning.is_released());
    // One batch of each version and the identified answer; the third version-1 answer waits.
    assert_eq!(spanning.len(), 5);

    // A range that cuts version 2's batch in half drops that batch whole, and only it:
    // version 1's batch has an id of its own in the whole.
    let range =
        ReportFilter::new(None, Some(ReceivedDay::parse("2026-03-02").unwrap()), None).unwrap();
    let narrowed = report_of(&two, &spanning.filtered(&range), &ReportOptions::default());
    let versions: Vec<(u32, u64)> = narrowed
        .versions
        .iter()
        .map(|span| (span.version, span.n))
        .collect();
    assert_eq!(narrowed.overall.n, 3);
    assert_eq!(versions, [(1, 3)]);
    let nps = narrowed.overall.nps.as_ref().unwrap();
    // 9, 2 (the batch) and 10 (identified).
    assert_eq!((nps.promoters, nps.detractors), (2, 1));

    // Cutting version 1's batch leaves version 2's.
    let range =
        ReportFilter::new(Some(ReceivedDay::parse("2025-03-02").unwrap()), None, None).unwrap();
    let narrowed = report_of(&two, &spanning.filtered(&range), &ReportOptions::default());
    let versions: Vec<(u32, u64)> = narrowed
        .versions
        .iter()
        .map(|span| (span.version, span.n))
        .collect();
    assert_eq!(versions, [(1, 1), (2, 2)]);
}

#[test]
fn versions_that_cannot_be_counted_together_are_refused() {
    let (one, two) = (version_one(), version_two());
    let (first, second) = (ReportInput::new(&one), ReportInput::new(&two));

    let mut renamed = version_one();
    for question in &mut renamed.questions {
        if let Question::Nps { id, .. } = question {
            *id = qid("recommend");
        }
    }
    renamed.validate().unwrap();
    let renamed_input = ReportInput::new(&renamed);
    assert_eq!(
        span_versions(&two, &[(&renamed, &renamed_input), (&two, &second)]).err(),
        Some(SpanError::NoSharedQuestion {
            version: 1,
            target: 2,
            question: "nps".to_owned(),
        })
    );
    assert!(matches!(
        span_versions(&two, &[(&two, &second), (&one, &first)]),
        Err(SpanError::Order { target: 2 })
    ));
    assert!(matches!(
        span_versions(&two, &[(&one, &first)]),
        Err(SpanError::Order { target: 2 })
    ));
    let mut other = template("client-portal").unwrap();
    other.version = 1;
    let other_input = ReportInput::new(&other);
    assert!(matches!(
        span_versions(&two, &[(&other, &other_input), (&two, &second)]),
        Err(SpanError::OtherSurvey { .. })
    ));
    let released = disclosure::release(&first, 2);
    assert_eq!(
        span_versions(&two, &[(&one, released.visible()), (&two, &second)]).err(),
        Some(SpanError::MixedRelease)
    );
}

#[test]
fn a_split_counts_and_hides_groups_as_the_report_does() {
    let one = version_one();
    // Batches of two: the first two confidential answers fall in wave a, the next two in
    // waves a and b, so that batch belongs to no single wave; one identified answer in b.
    let live = input(
        &one,
        &[
            (record(9, &[], "a", CONFIDENTIAL), "2026-01-01"),
            (record(8, &[], "a", CONFIDENTIAL), "2026-01-02"),
            (record(2, &[], "a", CONFIDENTIAL), "2026-01-03"),
            (record(3, &[], "b", CONFIDENTIAL), "2026-01-04"),
            (record(10, &[], "b", IDENTIFIED), "2026-01-05"),
            (record(10, &[], "c", IDENTIFIED), "2026-01-06"),
        ],
    );
    let release = disclosure::release(&live, 2);
    let visible = release.visible();
    let split = visible.split_by(&SegmentField::Wave, 2);
    let report = report(&one, visible, &["wave"]);
    let from_report: Vec<(&str, u64, bool)> = report.segments[0]
        .groups
        .iter()
        .filter(|group| group.n > 0)
        .map(|group| (group.value.as_str(), group.n, group.suppressed))
        .collect();
    let from_split: Vec<(&str, u64, bool)> = split
        .iter()
        .map(|group| (group.value.as_str(), group.n, group.hidden))
        .collect();
    assert_eq!(from_split, from_report);
    // Wave a holds the first batch only, b and c an identified answer each: too few, so
    // both are hidden and give their counts only.
    assert_eq!(
        from_split,
        [("a", 2, false), ("b", 1, true), ("c", 1, true)]
    );
    let wave_a = &split[0].rows;
    assert_eq!(wave_a.len(), 2);
    assert!(split[1].rows.is_empty() && split[2].rows.is_empty());
    // Each kept row says where it came from and in which batch.
    assert_eq!(wave_a.source_row(1).row, 1);
    assert!(matches!(
        wave_a.row_release(0),
        disclosure::RowRelease::Published(_)
    ));
}
