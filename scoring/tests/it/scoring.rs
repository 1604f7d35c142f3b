//! Per-response scores checked by hand against the CRQ rules in DOMAIN.md.

use rapport_scoring::score::{NpsCategory, RelationshipCategory};
use rapport_scoring::wire::ConfidentialityChoice;
use rapport_scoring::{Scorer, template, validate};
use serde_json::json;

use crate::support::response;

fn score(survey: &str, answers: serde_json::Value) -> rapport_scoring::ResponseScore {
    let definition = template(survey).unwrap();
    let valid = validate(
        &definition,
        &response(survey, 1, answers, ConfidentialityChoice::Confidential),
    )
    .unwrap();
    Scorer::new(&definition).score(&valid.answers)
}

#[test]
fn nps_categories_follow_the_bands() {
    let categories: Vec<_> = (0..=10)
        .map(|answer| {
            score("client-portal", json!({"nps": answer}))
                .nps_category
                .unwrap()
        })
        .collect();
    assert_eq!(
        categories
            .iter()
            .filter(|category| **category == NpsCategory::Detractor)
            .count(),
        7
    );
    assert_eq!(
        categories[7..9],
        [NpsCategory::Passive, NpsCategory::Passive]
    );
    assert_eq!(
        categories[9..],
        [NpsCategory::Promoter, NpsCategory::Promoter]
    );
}

#[test]
fn each_level_weighs_the_same_and_unanswered_elements_are_left_out() {
    // Relationship: trust 7, commitment unanswered, satisfaction 4 -> 5.5.
    // Uniqueness: 3. Service: reliability 6, responsiveness 5, care 4 -> 5.
    // Overall = (5.5 + 3 + 5) / 3 = 4.5 -> Ambivalent (at the threshold).
    let scored = score(
        "client-portal",
        json!({"nps": 8, "trust": 7, "satisfaction": 4, "uniqueness": 3, "reliability": 6, "responsiveness": 5, "care": 4}),
    );
    assert_eq!(scored.levels["relationship"], 5.5);
    assert_eq!(scored.levels["uniqueness"], 3.0);
    assert_eq!(scored.levels["service"], 5.0);
    assert_eq!(scored.crq, Some(4.5));
    assert_eq!(scored.relationship, Some(RelationshipCategory::Ambivalent));
    assert_eq!(scored.elements.len(), 6);
}

#[test]
fn absent_levels_are_absent_and_so_is_the_overall_when_all_are() {
    let only_service = score(
        "client-portal",
        json!({"nps": 2, "care": 2, "reliability": 3}),
    );
    assert_eq!(only_service.levels.len(), 1);
    assert_eq!(only_service.crq, Some(2.5));
    assert_eq!(
        only_service.relationship,
        Some(RelationshipCategory::Opponent)
    );
    let nothing_rated = score("client-portal", json!({"nps": 10}));
    assert!(nothing_rated.levels.is_empty());
    assert_eq!(nothing_rated.crq, None);
    assert_eq!(nothing_rated.relationship, None);
}

#[test]
fn thirds_are_exact_and_thresholds_are_inclusive() {
    // Relationship (7 + 6 + 6) / 3 = 19/3; overall = (19/3 + 5 + 5) / 3 = 49/9 = 5.444… -> Ambivalent.
    let scored = score(
        "client-portal",
        json!({"nps": 8, "trust": 7, "commitment": 6, "satisfaction": 6, "uniqueness": 5, "reliability": 5, "responsiveness": 5, "care": 5}),
    );
    assert!((scored.crq.unwrap() - 49.0 / 9.0).abs() < 1e-12);
    assert_eq!(scored.relationship, Some(RelationshipCategory::Ambivalent));
    let ambassador = score(
        "client-portal",
        json!({"nps": 8, "trust": 6, "uniqueness": 5, "care": 6}),
    );
    // (6 + 5 + 6) / 3 = 5.667 -> Ambassador.
    assert_eq!(
        ambassador.relationship,
        Some(RelationshipCategory::Ambassador)
    );
    let stalker = score(
        "client-portal",
        json!({"nps": 8, "trust": 4, "uniqueness": 3, "care": 4}),
    );
    // (4 + 3 + 4) / 3 = 3.667 -> Stalker.
    assert_eq!(stalker.relationship, Some(RelationshipCategory::Stalker));
    assert!(stalker.relationship.unwrap().needs_conversation());
}

#[test]
fn contract_experience_is_the_mean_of_its_answered_items() {
    let scored = score(
        "post-negotiation",
        json!({"nps": 9, "kept-informed": 6, "quick-replies": 3, "trust": 6}),
    );
    assert_eq!(scored.contract_experience, Some(4.5));
    assert_eq!(scored.crq, Some(6.0));
    let none = score("post-negotiation", json!({"nps": 9}));
    assert_eq!(none.contract_experience, None);
}

#[test]
fn scores_agree_with_themselves_and_not_with_a_tampered_copy() {
    let scored = score("client-portal", json!({"nps": 9, "trust": 7, "care": 5}));
    assert!(scored.agrees_with(&scored.clone()));
    let mut tampered = scored.clone();
    tampered.crq = Some(tampered.crq.unwrap() + 0.1);
    assert!(!scored.agrees_with(&tampered));
}
