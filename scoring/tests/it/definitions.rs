//! Loading survey definitions: the happy path from TOML, and errors that name the field.

use rapport_scoring::definition::{DefinitionError, SurveyDefinition};
use rapport_scoring::template;

const MINIMAL: &str = r#"
id = "pulse"
version = 2
title = { en = "Pulse", fr = "Pouls" }
confidentiality = "optional"

[[levels]]
id = "relationship"
label = { en = "Relationship" }

[[questions]]
kind = "nps"
id = "nps"
text = { en = "How likely are you to recommend us?" }
low_label = { en = "Not at all likely" }
high_label = { en = "Extremely likely" }

[[questions]]
kind = "element"
id = "trust"
level = "relationship"
text = { en = "We trust you." }
"#;

fn error_of(source: &str) -> DefinitionError {
    SurveyDefinition::parse(source).expect_err("definition should be refused")
}

#[test]
fn a_minimal_toml_definition_loads_with_defaults() {
    let definition = SurveyDefinition::parse(MINIMAL).unwrap();
    assert_eq!(definition.version, 2);
    assert_eq!(definition.min_group_size, 5);
    assert_eq!(definition.thresholds.ambassador, 5.5);
    assert!(definition.show_answer_summary);
    assert_eq!(
        definition.ask_identity,
        rapport_scoring::definition::IdentityRequest::WhenIdentified
    );
    assert_eq!(definition.programme_team, None);
    assert_eq!(
        definition
            .title
            .get(&"fr-CA".to_owned().try_into().unwrap()),
        "Pouls"
    );
    assert_eq!(
        definition.title.get(&"de".to_owned().try_into().unwrap()),
        "Pulse"
    );
}

#[test]
fn errors_name_the_bad_field() {
    let cases = [
        (
            MINIMAL.replace("level = \"relationship\"", "level = \"service\""),
            "questions[1].level",
            "no level `service` is defined",
        ),
        (
            MINIMAL.replace("version = 2", "version = 0"),
            "version",
            "version must be 1 or more",
        ),
        (
            MINIMAL.replace("kind = \"element\"", "kind = \"slider\""),
            "questions[1].kind",
            "unknown variant `slider`",
        ),
        (
            MINIMAL.replace("id = \"trust\"", "id = \"nps\""),
            "questions[1].id",
            "duplicate question id `nps`",
        ),
        (
            MINIMAL.replace(
                "text = { en = \"We trust you.\" }",
                "text = { fr = \"Confiance.\" }",
            ),
            "questions[1].text",
            "English (`en`) wording is required",
        ),
        (
            MINIMAL.replace("id = \"trust\"", "id = \"Trust!\""),
            "questions[1]",
            "question id must be 1..=64 characters of a-z, 0-9, '-' or '_' starting with a letter or digit, got \"Trust!\"",
        ),
        (
            MINIMAL.replace(
                "confidentiality = \"optional\"",
                "confidentiality = \"optional\"\nprogramme_team = { fr = \"l'équipe\" }",
            ),
            "programme_team",
            "English (`en`) wording is required",
        ),
        (
            MINIMAL.replace(
                "confidentiality = \"optional\"",
                "confidentiality = \"anonymous\"\nask_identity = \"always\"",
            ),
            "ask_identity",
            "an anonymous survey cannot ask for identity",
        ),
        (
            format!("ask_identity = \"sometimes\"\n{MINIMAL}"),
            "ask_identity",
            "unknown variant `sometimes`",
        ),
        (
            format!("colour = \"red\"\n{MINIMAL}"),
            "colour",
            "unknown field `colour`",
        ),
        (
            format!("allowed_origins = [\"https://portal.example.com/path\"]\n{MINIMAL}"),
            "allowed_origins[0]",
            "with no path",
        ),
        (
            format!("{MINIMAL}\n[thresholds]\nambassador = 4.0\nambivalent = 4.5\nstalker = 3.5\n"),
            "thresholds",
            "ambassador > ambivalent > stalker",
        ),
        (
            format!("{MINIMAL}\n[close_loop]\nexperience_threshold = 8\n"),
            "close_loop.experience_threshold",
            "experience_threshold must be 1..=7, got 8",
        ),
        (
            format!("{MINIMAL}\n[close_loop]\nexperience_threshold = 0\n"),
            "close_loop.experience_threshold",
            "experience_threshold must be 1..=7, got 0",
        ),
        (
            format!("{MINIMAL}\n[close_loop]\nexperience_treshold = 2\n"),
            "close_loop.experience_treshold",
            "unknown field `experience_treshold`",
        ),
    ];
    for (source, field, message) in cases {
        let error = error_of(&source);
        assert_eq!(error.field(), field, "{error}");
        assert!(
            error.to_string().contains(message),
            "{error} should mention {message}"
        );
    }
}

#[test]
fn a_definition_stored_under_the_former_name_of_the_answer_summary_still_loads() {
    let hidden = SurveyDefinition::parse(&format!("show_provisional_result = false\n{MINIMAL}"))
        .expect("the former name is still accepted");
    assert!(!hidden.show_answer_summary);
    let mut json = serde_json::to_value(template("client-portal").unwrap()).unwrap();
    let object = json.as_object_mut().unwrap();
    assert!(object.remove("show_answer_summary").is_some());
    object.insert("show_provisional_result".to_owned(), false.into());
    let loaded = SurveyDefinition::from_json(&json.to_string()).unwrap();
    assert!(!loaded.show_answer_summary);
}

#[test]
fn when_identity_is_asked_loads_from_toml_and_defaults_to_only_when_identified() {
    use rapport_scoring::definition::IdentityRequest;
    for (written, expected) in [
        ("always", IdentityRequest::Always),
        ("when-identified", IdentityRequest::WhenIdentified),
        ("never", IdentityRequest::Never),
    ] {
        let definition =
            SurveyDefinition::parse(&format!("ask_identity = \"{written}\"\n{MINIMAL}")).unwrap();
        assert_eq!(definition.ask_identity, expected);
        let again = SurveyDefinition::from_json(&serde_json::to_string(&definition).unwrap());
        assert_eq!(again.unwrap().ask_identity, expected);
    }
    // The default is not written out, so stored definitions and templates read as before.
    let toml = template("client-portal").unwrap().to_toml();
    assert!(!toml.contains("ask_identity"), "{toml}");
}

#[test]
fn the_experience_threshold_of_close_the_loop_loads_and_defaults_to_three() {
    assert_eq!(
        SurveyDefinition::parse(MINIMAL)
            .unwrap()
            .close_loop
            .experience_threshold,
        3
    );
    let strict = SurveyDefinition::parse(&format!(
        "{MINIMAL}\n[close_loop]\nexperience_threshold = 5\n"
    ))
    .unwrap();
    assert_eq!(strict.close_loop.experience_threshold, 5);
    let again = SurveyDefinition::parse(&strict.to_toml()).unwrap();
    assert_eq!(again.close_loop.experience_threshold, 5);
    let json = serde_json::to_value(&strict).unwrap();
    assert_eq!(
        json["close_loop"],
        serde_json::json!({"experience_threshold": 5})
    );
    // The default is not written out, so stored definitions and templates read as before.
    let toml = template("post-negotiation").unwrap().to_toml();
    assert!(!toml.contains("close_loop"), "{toml}");
}

#[test]
fn json_definitions_are_checked_the_same_way() {
    let mut value = serde_json::to_value(template("client-portal").unwrap()).unwrap();
    value["questions"][3]["level"] = "attic".into();
    let error = SurveyDefinition::from_json(&value.to_string()).unwrap_err();
    assert_eq!(error.field(), "questions[3].level");
    value["questions"][3]["level"] = 7.into();
    // Questions are tagged by `kind`, so a wrongly typed field is reported at the question.
    let error = SurveyDefinition::from_json(&value.to_string()).unwrap_err();
    assert_eq!(error.field(), "questions[3]", "{error}");
    assert!(
        error
            .to_string()
            .contains("invalid type: integer `7`, expected a string"),
        "{error}"
    );
    assert!(SurveyDefinition::from_json("{\"id\": \"x\"} trailing").is_err());
}

#[test]
fn a_level_without_elements_is_refused() {
    let source = MINIMAL
        .replace(
            "[[questions]]\nkind = \"element\"",
            "[[questions]]\nkind = \"experience\"",
        )
        .replace("level = \"relationship\"\ntext", "text");
    let error = error_of(&source);
    assert_eq!(error.field(), "levels[0]");
    assert!(error.to_string().contains("has no element"), "{error}");
}

#[test]
fn the_example_in_the_survey_guide_loads() {
    let guide = include_str!("../../../docs/SURVEYS.md");
    let example = guide
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the guide has a TOML example");
    let definition = SurveyDefinition::parse(example).unwrap();
    assert_eq!(definition.questions.len(), 5);
    assert_eq!(definition.topics[0].keywords, ["respons", "quick", "slow"]);
}

#[test]
fn the_published_templates_are_in_step_with_the_built_in_ones() {
    let published = [
        (
            "client-portal",
            expect_test::expect_file!["../../../docs/templates/client-portal.toml"],
        ),
        (
            "post-negotiation",
            expect_test::expect_file!["../../../docs/templates/post-negotiation.toml"],
        ),
        (
            "legal-contract-experience",
            expect_test::expect_file!["../../../docs/templates/legal-contract-experience.toml"],
        ),
    ];
    for (name, file) in published {
        file.assert_eq(&template(name).unwrap().to_toml());
    }
}
