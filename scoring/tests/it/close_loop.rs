//! Which responses need a close-the-loop conversation, and why, checked by hand.

use rapport_scoring::close_loop::{Reason, conversation_reasons, strength_and_weakness};
use rapport_scoring::score::RelationshipCategory;
use rapport_scoring::wire::ConfidentialityChoice;
use rapport_scoring::{Scorer, template, validate};
use serde_json::json;

use crate::support::response;

fn reasons(answers: serde_json::Value) -> Vec<Reason> {
    let definition = template("client-portal").unwrap();
    let valid = validate(
        &definition,
        &response(
            "client-portal",
            1,
            answers,
            ConfidentialityChoice::Confidential,
        ),
    )
    .unwrap();
    conversation_reasons(&Scorer::new(&definition).score(&valid.answers))
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
