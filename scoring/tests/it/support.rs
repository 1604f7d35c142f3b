//! Builders for wire-format responses and report records used across the test modules.

use rapport_scoring::ResponseRecord;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::ids::{ResponseId, SurveyId};
use rapport_scoring::validate::validate;
use rapport_scoring::wire::{
    ConfidentialityChoice, Context, FormatVersion, Identity, ResponseV1, Timestamp,
};

/// A deterministic response id from a counter.
pub(crate) fn response_id(counter: u64) -> ResponseId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&counter.to_be_bytes());
    ResponseId::from_random_bytes(bytes)
}

/// A response to `survey` (version 1) with `answers` given as a JSON object.
pub(crate) fn response(
    survey: &str,
    counter: u64,
    answers: serde_json::Value,
    confidentiality: ConfidentialityChoice,
) -> ResponseV1 {
    ResponseV1 {
        format: FormatVersion,
        response_id: response_id(counter),
        survey_id: SurveyId::new(survey).unwrap(),
        survey_version: 1,
        locale: None,
        answers: serde_json::from_value(answers).unwrap(),
        confidentiality,
        identity: None,
        invitation: None,
        context: Context::default(),
        started_at: None,
        submitted_at: Timestamp::parse("2026-11-23T09:30:00Z").unwrap(),
        provisional: None,
        signed_context: None,
    }
}

/// Sets the email identity of a response.
pub(crate) fn with_email(mut response: ResponseV1, email: &str) -> ResponseV1 {
    response.identity = Some(Identity {
        email: Some(email.to_owned()),
        ..Identity::default()
    });
    response
}

/// Validates and turns a response into a report record, panicking on invalid input.
pub(crate) fn record(definition: &SurveyDefinition, response: &ResponseV1) -> ResponseRecord {
    match validate(definition, response) {
        Ok(valid) => ResponseRecord::from_valid(&valid),
        Err(errors) => panic!("test response is invalid: {errors:?}"),
    }
}
