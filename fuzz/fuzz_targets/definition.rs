//! Fuzz target: a survey definition file, as TOML or JSON. Loading must never panic, and a
//! definition that loads must validate, build a scorer, and survive a TOML round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rapport_scoring::{Scorer, SurveyDefinition};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    for loaded in [
        SurveyDefinition::from_toml(source),
        SurveyDefinition::from_json(source),
    ] {
        let Ok(definition) = loaded else { continue };
        definition.validate().expect("a loaded definition is valid");
        let _ = Scorer::new(&definition);
        let again = SurveyDefinition::from_toml(&definition.to_toml())
            .expect("a loaded definition round-trips through TOML");
        assert_eq!(again, definition);
    }
});
