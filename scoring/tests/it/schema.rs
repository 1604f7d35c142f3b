//! The JSON Schema of wire format v1 published in `docs/` is generated from the Rust types;
//! this test fails when they drift apart (regenerate with `UPDATE_EXPECT=1`).

use rapport_scoring::wire::response_schema;

#[test]
fn the_published_schema_matches_the_types() {
    let schema = serde_json::to_string_pretty(&response_schema()).unwrap() + "\n";
    expect_test::expect_file!["../../../docs/wire-format-v1.schema.json"].assert_eq(&schema);
}

#[test]
fn the_schema_refuses_unknown_fields_and_requires_the_core() {
    let schema = serde_json::to_value(response_schema()).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field.as_str().unwrap())
        .collect();
    for field in [
        "format",
        "response_id",
        "survey_id",
        "survey_version",
        "answers",
        "confidentiality",
        "submitted_at",
    ] {
        assert!(required.contains(&field), "{field} must be required");
    }
}

#[test]
fn the_example_in_the_wire_format_guide_is_valid_and_its_provisional_score_is_right() {
    let guide = include_str!("../../../docs/WIRE-FORMAT.md");
    let example = guide
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the guide has a JSON example");
    let response: rapport_scoring::ResponseV1 = serde_json::from_str(example).unwrap();
    let definition = rapport_scoring::template("client-portal").unwrap();
    let valid = rapport_scoring::validate(&definition, &response).unwrap();
    let score = rapport_scoring::Scorer::new(&definition).score(&valid.answers);
    assert!(
        score.agrees_with(response.provisional.as_ref().unwrap()),
        "{score:?}"
    );
}
