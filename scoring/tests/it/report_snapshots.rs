//! Report columns stored as a snapshot and read back are the same columns: the same report,
//! the same bytes when stored again, and the same after more responses are added. A snapshot
//! of another survey, of another format, or cut short is refused.

use proptest::prelude::*;
use rapport_scoring::disclosure::Arrival;
use rapport_scoring::ids::{OptionId, QuestionId};
use rapport_scoring::validate::{Answers, NpsAnswer, Rating};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{
    ReportInput, ReportOptions, ResponseRecord, SegmentField, report_of, template,
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
const TEXTS: [&str; 4] = [
    "Quick replies and clear updates",
    "Réactivité exemplaire",
    "Nothing in particular",
    "Deep expertise, slow invoices",
];
const ROLES: [&str; 3] = ["decision-maker", "day-to-day", "operational"];

fn label(prefix: &str, pick: Option<usize>) -> Option<String> {
    pick.map(|pick| format!("{prefix}-{pick}"))
}

fn arbitrary_record() -> impl Strategy<Value = ResponseRecord> {
    (
        (
            proptest::option::weighted(0.9, 0u8..=10),
            proptest::collection::vec(proptest::option::weighted(0.7, 1u8..=7), 7),
            0usize..3,
            proptest::option::of(0usize..TEXTS.len()),
            proptest::option::of(0usize..TEXTS.len()),
            proptest::option::of(0usize..ROLES.len()),
        ),
        (
            proptest::option::weighted(0.8, 0usize..5),
            proptest::option::of(0usize..3),
            proptest::option::of(0usize..3),
            proptest::option::of(any::<bool>()),
            proptest::option::of(0usize..40),
            0usize..3,
        ),
    )
        .prop_map(
            |(
                (nps, ratings, confidentiality, strength, weakness, role),
                (account, matter, wave, returning, respondent, arrival),
            )| {
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
                for (question, text) in [("strength", strength), ("weakness", weakness)] {
                    if let Some(text) = text {
                        answers
                            .texts
                            .insert(QuestionId::new(question).unwrap(), TEXTS[text].to_owned());
                    }
                }
                if let Some(role) = role {
                    answers.choices.insert(
                        QuestionId::new("role").unwrap(),
                        vec![OptionId::new(ROLES[role]).unwrap()],
                    );
                }
                ResponseRecord {
                    answers,
                    confidentiality: [
                        ConfidentialityChoice::Anonymous,
                        ConfidentialityChoice::Confidential,
                        ConfidentialityChoice::Identified,
                    ][confidentiality],
                    context: Context {
                        account: label("société", account),
                        matter: label("matter", matter),
                        wave: label("2026-w", wave),
                        returning,
                    },
                    respondent_key: label("person", respondent),
                    arrival: [
                        Arrival::Invitation,
                        Arrival::SignedContext,
                        Arrival::Unverified,
                    ][arrival],
                }
            },
        )
}

fn options(definition: &rapport_scoring::SurveyDefinition) -> ReportOptions {
    let segments = [
        "account",
        "matter",
        "wave",
        "returning",
        "confidentiality",
        "nps-category",
        "role",
    ]
    .iter()
    .map(|field| SegmentField::parse(definition, field).unwrap())
    .collect();
    ReportOptions {
        segments,
        min_group_size: Some(2),
        crossings: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn columns_read_back_from_a_snapshot_are_the_columns_stored(
        records in proptest::collection::vec(arbitrary_record(), 0..120),
        later in proptest::collection::vec(arbitrary_record(), 0..20),
    ) {
        let definition = template("client-portal").unwrap();
        let mut stored = ReportInput::new(&definition);
        for record in &records {
            stored.push_record(record);
        }
        let snapshot = stored.to_snapshot();
        let mut read = ReportInput::from_snapshot(&definition, &snapshot).unwrap();
        prop_assert_eq!(read.len(), records.len());
        prop_assert_eq!(read.to_snapshot(), snapshot.clone());
        let options = options(&definition);
        prop_assert_eq!(report_of(&definition, &read, &options), report_of(&definition, &stored, &options));
        // The dictionaries' lookups are rebuilt: rows added after the read intern as they
        // would have.
        for record in &later {
            stored.push_record(record);
            read.push_record(record);
        }
        prop_assert_eq!(read.to_snapshot(), stored.to_snapshot());
        prop_assert_eq!(report_of(&definition, &read, &options), report_of(&definition, &stored, &options));
        for row in 0..read.len() {
            prop_assert_eq!(read.observation(row), stored.observation(row));
            prop_assert_eq!(read.account(row), stored.account(row));
            prop_assert_eq!(read.wave(row), stored.wave(row));
        }
    }

    #[test]
    fn a_snapshot_cut_short_or_changed_is_refused(
        records in proptest::collection::vec(arbitrary_record(), 1..30),
        cut in any::<prop::sample::Index>(),
    ) {
        let definition = template("client-portal").unwrap();
        let mut input = ReportInput::new(&definition);
        for record in &records {
            input.push_record(record);
        }
        let snapshot = input.to_snapshot();
        let cut = cut.index(snapshot.len());
        prop_assert!(ReportInput::from_snapshot(&definition, &snapshot[..cut]).is_err());
        let mut longer = snapshot.clone();
        longer.push(0);
        prop_assert!(ReportInput::from_snapshot(&definition, &longer).is_err());
    }
}

#[test]
fn a_snapshot_of_another_survey_or_format_is_refused() {
    let portal = template("client-portal").unwrap();
    let mut input = ReportInput::new(&portal);
    input.push_record(&ResponseRecord {
        answers: Answers {
            nps: Some(NpsAnswer::try_from(9).unwrap()),
            ..Answers::default()
        },
        confidentiality: ConfidentialityChoice::Confidential,
        context: Context::default(),
        respondent_key: None,
        arrival: Arrival::Unverified,
    });
    let snapshot = input.to_snapshot();
    assert!(ReportInput::from_snapshot(&portal, &snapshot).is_ok());
    let negotiation = template("post-negotiation").unwrap();
    let refused = ReportInput::from_snapshot(&negotiation, &snapshot).unwrap_err();
    assert!(refused.to_string().contains("another layout"), "{refused}");
    let mut other_format = snapshot.clone();
    other_format[4] += 1;
    assert!(ReportInput::from_snapshot(&portal, &other_format).is_err());
    let mut bad_confidentiality = snapshot.clone();
    // Header (4 + 1 + 3 × 2 + 8 bytes), then the row's 0–10 answer and seven ratings.
    bad_confidentiality[19 + 1 + 7] = 3;
    assert!(ReportInput::from_snapshot(&portal, &bad_confidentiality).is_err());
    let mut bad_answer = snapshot;
    bad_answer[19] = 11;
    assert!(ReportInput::from_snapshot(&portal, &bad_answer).is_err());
}
