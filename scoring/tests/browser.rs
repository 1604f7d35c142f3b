//! The scoring crate inside a real browser: the same code, compiled to WebAssembly and run
//! in headless Chromium, must give the numbers the server computes natively.
//!
//! Run by `cargo xtask test` with `wasm-bindgen-test-runner`; on the host this file is empty.
#![cfg(target_arch = "wasm32")]

use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::wire::ResponseV1;
use rapport_scoring::{
    RelationshipCategory, ReportOptions, ResponseRecord, Scorer, SegmentField, build_report,
    template, validate,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const WAVES: &str = include_str!("../../tests/fixtures/domain-waves.jsonl");

#[wasm_bindgen_test]
fn the_guide_example_scores_the_same_in_the_browser() {
    let guide = include_str!("../../docs/WIRE-FORMAT.md");
    let example = guide
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let response: ResponseV1 = serde_json::from_str(example).unwrap();
    let definition = template("client-portal").unwrap();
    let valid = validate(&definition, &response).unwrap();
    let score = Scorer::new(&definition).score(&valid.answers);
    assert_eq!(score.relationship, Some(RelationshipCategory::Ambassador));
    assert!((score.crq.unwrap() - 35.0 / 6.0).abs() < 1e-12);
    assert!(score.agrees_with(response.provisional.as_ref().unwrap()));
}

#[wasm_bindgen_test]
fn the_domain_wave_table_is_reproduced_in_the_browser() {
    let definition = template("client-portal").unwrap();
    let records: Vec<ResponseRecord> = WAVES
        .lines()
        .map(|line| {
            ResponseRecord::from_valid(
                &validate(&definition, &serde_json::from_str(line).unwrap()).unwrap(),
            )
        })
        .collect();
    let report = build_report(
        &definition,
        &records,
        &ReportOptions {
            segments: vec![SegmentField::Account],
            min_group_size: None,
            crossings: Vec::new(),
        },
    );
    let groups = &report.wave_comparisons[0].groups;
    assert_eq!((groups[0].respondents, groups[0].completed), (40, 22));
    assert!((groups[0].nps_mean_first.unwrap() - 6.3).abs() < 1e-9);
    assert!((groups[1].nps_mean_second.unwrap() - 7.2).abs() < 1e-9);
    assert_eq!(report.segments[0].groups.len(), 4);
}

#[wasm_bindgen_test]
fn definitions_load_from_toml_in_the_browser() {
    let toml = template("post-negotiation").unwrap().to_toml();
    let definition = SurveyDefinition::from_toml(&toml).unwrap();
    assert_eq!(definition, template("post-negotiation").unwrap());
}
