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
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|field| field.as_str().unwrap()).collect();
    for field in ["format", "response_id", "survey_id", "survey_version", "answers", "confidentiality", "submitted_at"] {
        assert!(required.contains(&field), "{field} must be required");
    }
}
