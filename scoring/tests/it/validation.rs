//! Validation of wire-format responses: every refusal names its field and value, and
//! nothing is fixed silently.

use expect_test::{Expect, expect};
use rapport_scoring::definition::ConfidentialityMode;
use rapport_scoring::wire::{ConfidentialityChoice, Identity, ResponseV1};
use rapport_scoring::{template, validate};
use serde_json::json;

use crate::support::{response, with_email};

/// Validates `response` against `client-portal` (optionally switched to `mode`) and compares
/// the outcome, rendered as text, with `expect`.
fn check(mode: Option<ConfidentialityMode>, response: ResponseV1, expect: Expect) {
    let mut definition = template("client-portal").unwrap();
    if let Some(mode) = mode {
        definition.confidentiality = mode;
    }
    let outcome = match validate(&definition, &response) {
        Ok(valid) => format!(
            "ok: {} ratings, nps {:?}",
            valid.answers.ratings.len(),
            valid.answers.nps.map(|answer| answer.get())
        ),
        Err(errors) => errors
            .iter()
            .map(|error| format!("{}: {error}", error.field()))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    expect.assert_eq(&outcome);
}

fn portal(answers: serde_json::Value) -> ResponseV1 {
    response(
        "client-portal",
        1,
        answers,
        ConfidentialityChoice::Confidential,
    )
}

#[test]
fn a_complete_response_is_accepted() {
    check(
        None,
        portal(
            json!({"nps": 9, "trust": 6, "care": 7, "strength": "Responsive partners", "role": "decision-maker"}),
        ),
        expect!["ok: 2 ratings, nps Some(9)"],
    );
}

#[test]
fn out_of_range_and_wrong_types_are_refused() {
    check(
        None,
        portal(
            json!({"nps": 11, "trust": 0, "care": 6.5, "commitment": "7", "role": "ceo", "strength": 3}),
        ),
        expect![[r#"
            answers.nps: answers.nps must be 0..=10, got 11
            answers.trust: answers.trust must be 1..=7, got 0
            answers.commitment: answers.commitment must be a whole number, got "7"
            answers.care: answers.care must be 1..=7, got 6.5
            answers.strength: answers.strength must be a string, got 3
            answers.role: answers.role: "ceo" is not one of the offered options"#]],
    );
}

#[test]
fn a_required_question_left_out_and_an_unknown_question_are_refused() {
    check(
        None,
        portal(json!({"trust": 6, "loyalty": 5})),
        expect![[r#"
            answers.loyalty: answers.loyalty: the survey has no such question
            answers.nps: answers.nps is required"#]],
    );
}

#[test]
fn identity_with_an_anonymous_survey_is_refused() {
    let mut anonymous = with_email(
        response(
            "client-portal",
            1,
            json!({"nps": 3}),
            ConfidentialityChoice::Anonymous,
        ),
        "ana@example.com",
    );
    anonymous.invitation = Some("token".to_owned());
    check(
        Some(ConfidentialityMode::Anonymous),
        anonymous,
        expect![[r#"
            identity: identity must not be sent with an anonymous survey
            invitation: invitation must not be sent with an anonymous survey"#]],
    );
}

#[test]
fn a_choice_the_mode_does_not_offer_is_refused() {
    check(
        Some(ConfidentialityMode::Confidential),
        response(
            "client-portal",
            1,
            json!({"nps": 3}),
            ConfidentialityChoice::Identified,
        ),
        expect![
            "confidentiality: confidentiality must be confidential for a survey in confidential mode, got identified"
        ],
    );
    check(
        None,
        response(
            "client-portal",
            1,
            json!({"nps": 3}),
            ConfidentialityChoice::Anonymous,
        ),
        expect![
            "confidentiality: confidentiality must be confidential or identified for a survey in optional mode, got anonymous"
        ],
    );
}

#[test]
fn hostile_text_is_refused_not_cleaned() {
    let mut hostile =
        portal(json!({"nps": 5, "strength": "fine\u{202E}txt.exe", "weakness": "x".repeat(2001)}));
    hostile.identity = Some(Identity {
        name: Some("\u{0}".to_owned()),
        email: Some("not-an-email".to_owned()),
        organisation: None,
    });
    check(
        None,
        hostile,
        expect![[r#"
            identity.name: identity.name must not contain control characters
            identity.email: identity.email must be an email address
            answers.strength: answers.strength must not contain bidirectional override or byte-order characters
            answers.weakness: answers.weakness must be at most 2000 characters, got 2001"#]],
    );
}

#[test]
fn a_response_for_another_survey_or_version_is_refused() {
    let mut other = response(
        "post-negotiation",
        1,
        json!({"nps": 5}),
        ConfidentialityChoice::Confidential,
    );
    other.survey_version = 3;
    check(
        None,
        other,
        expect![[r#"
            survey_id: survey_id must be client-portal, got post-negotiation
            survey_version: survey_version must be 1, got 3"#]],
    );
}

#[test]
fn unknown_fields_and_bad_ids_never_parse() {
    let valid = serde_json::to_value(portal(json!({"nps": 9}))).unwrap();
    let refuse = |mutate: &dyn Fn(&mut serde_json::Value), needle: &str| {
        let mut document = valid.clone();
        mutate(&mut document);
        let error = serde_json::from_value::<ResponseV1>(document)
            .unwrap_err()
            .to_string();
        assert!(error.contains(needle), "{error} should contain {needle}");
    };
    refuse(&|doc| doc["extra"] = json!(1), "unknown field `extra`");
    refuse(
        &|doc| doc["identity"] = json!(["Ana Ruiz", "ana@client.example"]),
        "expected an object",
    );
    refuse(
        &|doc| doc["context"] = json!(["northwind", "msa-2026"]),
        "expected an object",
    );
    refuse(&|doc| doc["format"] = json!(2), "unsupported wire format 2");
    refuse(
        &|doc| doc["response_id"] = json!("123"),
        "response id must be a lowercase hyphenated UUID",
    );
    refuse(
        &|doc| doc["submitted_at"] = json!("yesterday"),
        "timestamp must be RFC 3339",
    );
    refuse(
        &|doc| doc["identity"] = json!({"name": "A", "phone": "1"}),
        "unknown field `phone`",
    );
    assert!(serde_json::from_value::<ResponseV1>(valid).is_ok());
}

/// Found by the `wire` fuzz target: a huge number parsed and written back must be the same
/// number, or a stored document would not be the one received.
#[test]
fn a_huge_number_survives_a_round_trip_exactly() {
    let huge = "88888888888881888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888884";
    let text = response_text_with_care(huge);
    let parsed: rapport_scoring::wire::ResponseV1 = serde_json::from_str(&text).unwrap();
    let again: rapport_scoring::wire::ResponseV1 =
        serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
    assert_eq!(again, parsed);
}

fn response_text_with_care(number: &str) -> String {
    format!(
        r#"{{"format":1,"response_id":"00000000-0000-4000-8000-000000000002","survey_id":"client-portal","survey_version":1,"answers":{{"care":{number},"nps":5}},"confidentiality":"confidential","submitted_at":"2026-11-23T09:30:00Z"}}"#
    )
}
