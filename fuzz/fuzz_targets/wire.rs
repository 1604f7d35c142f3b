//! Fuzz target: a response body from the network. Parsing the wire format, validating it
//! against every built-in survey, and scoring what validates must never panic, and a
//! parsed document must survive a serialise-and-parse round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rapport_scoring::wire::ResponseV1;
use rapport_scoring::{Scorer, templates, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<ResponseV1>(data) else {
        return;
    };
    let again: ResponseV1 = serde_json::from_str(
        &serde_json::to_string(&response).expect("a parsed response serialises"),
    )
    .expect("a serialised response parses");
    assert_eq!(again, response);
    for definition in templates::templates() {
        if let Ok(valid) = validate(&definition, &response) {
            let score = Scorer::new(&definition).score(&valid.answers);
            assert!(
                score.crq.is_none_or(|crq| (1.0..=7.0).contains(&crq)),
                "CRQ out of 1–7: {crq:?}",
                crq = score.crq
            );
        }
    }
});
