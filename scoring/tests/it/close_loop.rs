//! Which responses need a close-the-loop conversation, and why, checked by hand.

use rapport_scoring::close_loop::{
    Reason, conversation_reasons, needs_conversation, strength_and_weakness,
};
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::score::RelationshipCategory;
use rapport_scoring::wire::ConfidentialityChoice;
use rapport_scoring::{Scorer, template, validate};
use serde_json::json;

use crate::support::response;

fn reasons(answers: serde_json::Value) -> Vec<Reason> {
    reasons_in(&template("client-portal").unwrap(), answers)
}

/// The reasons a response with `answers` to `definition` needs a conversation, checked
/// against the fast path the list sorts responses out with.
fn reasons_in(definition: &SurveyDefinition, answers: serde_json::Value) -> Vec<Reason> {
    let valid = validate(
        definition,
        &response(
            definition.id.as_str(),
            1,
            answers,
            ConfidentialityChoice::Confidential,
        ),
    )
    .unwrap();
    let scorer = Scorer::new(definition);
    let reasons = conversation_reasons(&scorer, &valid.answers);
    let observation = scorer.observe(&valid.answers, ConfidentialityChoice::Confidential);
    assert_eq!(
        needs_conversation(&scorer, &observation),
        !reasons.is_empty(),
        "the fast path disagrees with {reasons:?}"
    );
    reasons
}

fn low_experience(item: &str, rating: u8) -> Reason {
    Reason::LowExperience {
        item: rapport_scoring::QuestionId::new(item).unwrap(),
        rating,
    }
}

fn low(element: &str, rating: u8) -> Reason {
    Reason::LowElement {
        element: rapport_scoring::QuestionId::new(element).unwrap(),
        rating,
    }
}

#[test]
fn a_happy_client_needs_no_conversation() {
    assert_eq!(
        reasons(
            json!({"nps": 9, "trust": 6, "commitment": 7, "satisfaction": 6, "uniqueness": 5, "care": 6})
        ),
        []
    );
    // 7 is no detractor and 4 no low rating; overall (5 + 4 + 5) / 3 is Ambivalent.
    assert_eq!(
        reasons(json!({"nps": 7, "trust": 5, "uniqueness": 4, "care": 5})),
        []
    );
}

#[test]
fn a_detractor_an_opponent_and_each_low_element_are_named() {
    // Relationship (2 + 3) / 2 = 2.5, uniqueness 1, service 3: overall 13/6 < 3.5, an Opponent.
    let got = reasons(json!({"nps": 6, "trust": 2, "commitment": 3, "uniqueness": 1, "care": 3}));
    assert_eq!(
        got,
        [
            Reason::Detractor,
            Reason::Relationship {
                category: RelationshipCategory::Opponent
            },
            low("care", 3),
            low("commitment", 3),
            low("trust", 2),
            low("uniqueness", 1)
        ]
    );
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json[0], json!({"kind": "detractor"}));
    assert_eq!(
        json[1],
        json!({"kind": "relationship", "category": "opponent"})
    );
    assert_eq!(
        json[2],
        json!({"kind": "low_element", "element": "care", "rating": 3})
    );
}

#[test]
fn a_stalker_is_named_even_with_a_passive_score_and_no_low_element() {
    // Every element 4: overall 4.0, between the stalker (3.5) and ambivalent (4.5) thresholds.
    assert_eq!(
        reasons(json!({"nps": 8, "trust": 4, "uniqueness": 4, "care": 4})),
        [Reason::Relationship {
            category: RelationshipCategory::Stalker
        }]
    );
}

#[test]
fn a_contract_experience_item_at_or_below_the_default_threshold_is_named() {
    let negotiation = template("post-negotiation").unwrap();
    assert_eq!(negotiation.close_loop.experience_threshold, 3);
    // A passive who trusts the firm, but was not kept informed and found the scope missed.
    let got = reasons_in(
        &negotiation,
        json!({"nps": 8, "trust": 6, "satisfaction": 6, "kept-informed": 2, "meeting-scope": 3, "quick-replies": 4}),
    );
    assert_eq!(
        got,
        [
            low_experience("kept-informed", 2),
            low_experience("meeting-scope", 3)
        ]
    );
    assert_eq!(
        serde_json::to_value(&got[0]).unwrap(),
        json!({"kind": "low_experience", "item": "kept-informed", "rating": 2})
    );
    // One above the threshold needs no conversation.
    assert_eq!(
        reasons_in(
            &negotiation,
            json!({"nps": 8, "trust": 6, "satisfaction": 6, "kept-informed": 4, "meeting-scope": 4})
        ),
        []
    );
}

#[test]
fn the_survey_sets_how_low_an_experience_rating_must_be() {
    let mut strict = template("legal-contract-experience").unwrap();
    strict.close_loop.experience_threshold = 5;
    strict.validate().unwrap();
    let answers = json!({"nps": 9, "kept-informed": 5, "unexpected-changes": 6, "trust": 6});
    assert_eq!(
        reasons_in(&strict, answers.clone()),
        [low_experience("kept-informed", 5)]
    );
    strict.close_loop.experience_threshold = 1;
    assert_eq!(reasons_in(&strict, answers), []);
    // Reasons come in a fixed order: detractor, relationship, elements, then experience.
    assert_eq!(
        reasons_in(
            &strict,
            json!({"nps": 3, "quick-replies": 1, "care": 2, "kept-informed": 1})
        ),
        [
            Reason::Detractor,
            Reason::Relationship {
                category: RelationshipCategory::Opponent
            },
            low("care", 2),
            low_experience("kept-informed", 1),
            low_experience("quick-replies", 1)
        ]
    );
}

#[test]
fn strength_and_weakness_come_from_the_questions_with_those_purposes() {
    let definition = template("client-portal").unwrap();
    let answers =
        json!({"nps": 5, "strength": "Quick answers", "weakness": "Invoices arrive late"});
    let valid = validate(
        &definition,
        &response(
            "client-portal",
            1,
            answers,
            ConfidentialityChoice::Identified,
        ),
    )
    .unwrap();
    assert_eq!(
        strength_and_weakness(&definition, &valid.answers),
        (
            Some("Quick answers".to_owned()),
            Some("Invoices arrive late".to_owned())
        )
    );
    let valid = validate(
        &definition,
        &response(
            "client-portal",
            2,
            json!({"nps": 5}),
            ConfidentialityChoice::Identified,
        ),
    )
    .unwrap();
    assert_eq!(
        strength_and_weakness(&definition, &valid.answers),
        (None, None)
    );
}
