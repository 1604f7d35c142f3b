//! The widget's components rendered in a real browser: mounted into a detached element
//! with an inline definition, the survey shows its scales as accessible radio groups.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use wasm_bindgen::JsCast as _;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn an_inline_survey_renders_its_radio_groups_in_the_chosen_language() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document
        .create_element("rapport-survey")
        .unwrap()
        .dyn_into()
        .unwrap();
    let root = document.create_element("div").unwrap();
    let definition =
        serde_json::to_string(&rapport_scoring::template("post-negotiation").unwrap()).unwrap();
    let config = serde_json::json!({ "survey": "post-negotiation", "server": "http://127.0.0.1:9", "locales": ["de"], "definition": definition });
    let mut handle = rapport_widget::mount(root.clone(), host, &config.to_string()).unwrap();
    for _ in 0..50 {
        if root.query_selector("[role=radiogroup]").unwrap().is_some() {
            break;
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
    }
    let groups = root.query_selector_all("[role=radiogroup]").unwrap();
    assert_eq!(
        groups.length(),
        8,
        "one NPS scale and seven agreement scales"
    );
    let nps_points = root.query_selector_all(".scale-11 [role=radio]").unwrap();
    assert_eq!(nps_points.length(), 11);
    let text = root.text_content().unwrap();
    assert!(text.contains("Wie wahrscheinlich ist es"), "{text}");
    assert!(text.contains("Antworten senden"), "{text}");
    let tab_stops = root.query_selector_all(".scale-11 [tabindex='0']").unwrap();
    assert_eq!(
        tab_stops.length(),
        1,
        "roving tabindex: one tab stop per group"
    );
    handle.unmount();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(root.child_element_count(), 0);
}

#[wasm_bindgen_test]
async fn the_confidentiality_choice_names_who_holds_the_identity_before_the_respondent_chooses() {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document
        .create_element("rapport-survey")
        .unwrap()
        .dyn_into()
        .unwrap();
    let root = document.create_element("div").unwrap();
    let mut definition = rapport_scoring::template("client-portal").unwrap();
    definition.programme_team = Some(rapport_scoring::definition::Text(
        [(
            rapport_scoring::Locale::english(),
            "the client feedback team at Hartley & Voss".to_owned(),
        )]
        .into_iter()
        .collect(),
    ));
    let config = serde_json::json!({
        "survey": "client-portal",
        "server": "http://127.0.0.1:9",
        "locales": ["en"],
        "definition": serde_json::to_string(&definition).unwrap(),
    });
    let mut handle = rapport_widget::mount(root.clone(), host, &config.to_string()).unwrap();
    let mut holder = None;
    for _ in 0..50 {
        holder = root.query_selector("#identity-holder").unwrap();
        if holder.is_some() {
            break;
        }
        yew::platform::time::sleep(Duration::from_millis(20)).await;
    }
    let holder = holder
        .expect("the widget says who can see the identity")
        .text_content()
        .unwrap();
    assert_eq!(
        holder,
        "Who can see who you are: the client feedback team at Hartley & Voss. \
         The team you are rating never sees who said what."
    );
    handle.unmount();
}
