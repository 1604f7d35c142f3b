//! The widget's state in a real browser: the reducer's rules for answers, the
//! confidentiality choice, submission and refusals, run under wasm-bindgen-test in
//! headless Chromium.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;
use std::rc::Rc;

use rapport_scoring::ids::{Locale, ResponseId};
use rapport_scoring::wire::{ConfidentialityChoice, Timestamp};
use rapport_scoring::{ConfidentialityMode, template};
use rapport_widget::i18n::choose_locale;
use rapport_widget::state::{Action, IdentityField, Phase, SurveyState};
use serde_json::json;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::Reducible as _;

wasm_bindgen_test_configure!(run_in_browser);

fn fresh(mode: ConfidentialityMode) -> Rc<SurveyState> {
    let mut definition = template("client-portal").unwrap();
    definition.confidentiality = mode;
    Rc::new(SurveyState::new(
        Rc::new(definition),
        Locale::english(),
        ResponseId::from_random_bytes([7; 16]),
        Timestamp::from_unix_millis(0),
    ))
}

fn at(millis: i64) -> Timestamp {
    Timestamp::from_unix_millis(millis)
}

#[wasm_bindgen_test]
fn optional_mode_starts_confidential_and_asks_identity_only_when_identified() {
    let state = fresh(ConfidentialityMode::Optional);
    assert_eq!(state.confidentiality, ConfidentialityChoice::Confidential);
    assert!(!state.asks_identity());
    let state = state.reduce(Action::Choose(ConfidentialityChoice::Identified));
    assert!(state.asks_identity());
    let state = state.reduce(Action::EditIdentity(
        IdentityField::Email,
        "ana@client.example".into(),
    ));
    assert_eq!(
        state.to_wire(at(1)).identity.unwrap().email.as_deref(),
        Some("ana@client.example")
    );
    // Back to confidential: the typed identity is not sent.
    let state = state.reduce(Action::Choose(ConfidentialityChoice::Confidential));
    assert_eq!(state.to_wire(at(1)).identity, None);
}

#[wasm_bindgen_test]
fn anonymous_mode_never_sends_identity_and_refuses_other_choices() {
    let state = fresh(ConfidentialityMode::Anonymous);
    let state = state.reduce(Action::EditIdentity(IdentityField::Name, "Ana".into()));
    let state = state.reduce(Action::Choose(ConfidentialityChoice::Identified));
    assert_eq!(state.confidentiality, ConfidentialityChoice::Anonymous);
    let wire = state.to_wire(at(1));
    assert_eq!(
        (wire.identity, wire.confidentiality),
        (None, ConfidentialityChoice::Anonymous)
    );
}

#[wasm_bindgen_test]
fn an_anonymous_survey_opened_from_an_invitation_link_sends_no_token_and_can_be_submitted() {
    let mut state = (*fresh(ConfidentialityMode::Anonymous)).clone();
    state.invitation = Some("signed-invitation-token".into());
    let state = Rc::new(state)
        .reduce(Action::Answer("nps".into(), json!(8)))
        .reduce(Action::Submit(at(1)));
    assert_eq!(state.phase, Phase::Sending, "errors: {:?}", state.errors);
    assert_eq!(state.to_wire(at(1)).invitation, None);
}

#[wasm_bindgen_test]
fn a_blocked_send_is_not_an_outage_and_keeps_the_answers_out_of_reach_of_a_second_send() {
    let sending = fresh(ConfidentialityMode::Optional)
        .reduce(Action::Answer("nps".into(), json!(9)))
        .reduce(Action::Answer("trust".into(), json!(6)))
        .reduce(Action::Submit(at(1)));
    assert_eq!(sending.phase, Phase::Sending);
    let blocked = sending.clone().reduce(Action::Blocked);
    assert_eq!(blocked.phase, Phase::Blocked);
    assert_eq!(blocked.answers.get("nps"), Some(&json!(9)));
    // A response that waited for the network can turn out to be refused, too.
    let queued = sending.reduce(Action::Queue);
    assert_eq!(queued.reduce(Action::Blocked).phase, Phase::Blocked);
    // Nothing the respondent does sends it again or changes it on this page.
    for action in [
        Action::Submit(at(2)),
        Action::Answer("nps".into(), json!(1)),
        Action::Queue,
    ] {
        let same = blocked.clone().reduce(action);
        assert!(Rc::ptr_eq(&blocked, &same));
    }
    // A form being filled in is never blocked.
    let filling = fresh(ConfidentialityMode::Optional);
    assert!(Rc::ptr_eq(
        &filling,
        &filling.clone().reduce(Action::Blocked)
    ));
}

#[wasm_bindgen_test]
fn submitting_validates_then_sends_once_and_a_refusal_returns_to_the_form() {
    let state = fresh(ConfidentialityMode::Optional);
    let state = state.reduce(Action::Submit(at(1)));
    assert_eq!(state.phase, Phase::Filling);
    assert_eq!(
        state.errors.get("answers.nps").map(String::as_str),
        Some("Please answer this question.")
    );
    let state = state
        .reduce(Action::Answer("nps".into(), json!(9)))
        .reduce(Action::Answer("trust".into(), json!(6)));
    assert!(
        !state.errors.contains_key("answers.nps"),
        "answering clears the question's error"
    );
    let state = state.reduce(Action::Submit(at(2)));
    assert_eq!(state.phase, Phase::Sending);
    // While sending, nothing can change the answers or send again.
    let same = state.clone().reduce(Action::Answer("nps".into(), json!(1)));
    assert!(Rc::ptr_eq(&state, &same));
    let refused = state
        .clone()
        .reduce(Action::Refused("survey closed".into(), BTreeMap::new()));
    assert_eq!(refused.phase, Phase::Filling);
    assert_eq!(
        refused.errors.get("form").map(String::as_str),
        Some("survey closed")
    );
    assert_eq!(
        refused.answers.get("nps"),
        Some(&json!(9)),
        "answers stay on screen after a refusal"
    );
    let done = state.reduce(Action::Acknowledged);
    let Phase::Done(score) = &done.phase else {
        panic!("expected the thank-you phase")
    };
    assert_eq!(score.crq, Some(6.0));
}

#[wasm_bindgen_test]
fn a_restored_draft_keeps_its_response_id_so_a_resend_is_recognised() {
    let state = fresh(ConfidentialityMode::Optional).reduce(Action::Answer("nps".into(), json!(4)));
    let draft = state.draft();
    let restored = fresh(ConfidentialityMode::Optional);
    let restored = Rc::new(SurveyState {
        response_id: ResponseId::from_random_bytes([9; 16]),
        ..(*restored).clone()
    })
    .reduce(Action::Restore(draft));
    assert_eq!(restored.response_id, state.response_id);
    assert_eq!(restored.progress(), (1, 11));
}

#[wasm_bindgen_test]
fn the_locale_comes_from_the_attribute_then_the_browser_then_english() {
    assert_eq!(choose_locale(["fr", "de-DE"]).as_str(), "fr");
    assert_eq!(choose_locale(["pt-BR", "nl-NL"]).as_str(), "nl-NL");
    assert_eq!(choose_locale(["ja"]).as_str(), "en");
    assert_eq!(choose_locale(["DE"]).as_str(), "de");
}

#[wasm_bindgen_test]
fn a_restored_response_still_in_the_outbox_waits_instead_of_offering_the_form_again() {
    let answered =
        fresh(ConfidentialityMode::Optional).reduce(Action::Answer("nps".into(), json!(10)));
    let resumed = fresh(ConfidentialityMode::Optional)
        .reduce(Action::Restore(answered.draft()))
        .reduce(Action::Resume);
    assert_eq!(resumed.phase, Phase::Queued);
    assert_eq!(
        resumed.response_id, answered.response_id,
        "the waiting response keeps its idempotency key"
    );
    let submitted_again = resumed.clone().reduce(Action::Submit(at(3)));
    assert!(
        Rc::ptr_eq(&resumed, &submitted_again),
        "a waiting response cannot be submitted a second time"
    );
    let done = resumed.reduce(Action::Acknowledged);
    let Phase::Done(score) = &done.phase else {
        panic!("expected the thank-you phase, got {:?}", done.phase)
    };
    assert_eq!(
        score.nps_category,
        Some(rapport_scoring::score::NpsCategory::Promoter),
        "scored from the restored answers"
    );
}

#[wasm_bindgen_test]
fn validation_messages_are_in_the_respondents_language_and_keyed_by_question() {
    let mut state = (*fresh(ConfidentialityMode::Optional)).clone();
    state.locale = choose_locale(["fr"]);
    let state = Rc::new(state)
        .reduce(Action::Answer("nps".into(), json!(11)))
        .reduce(Action::Choose(ConfidentialityChoice::Identified))
        .reduce(Action::EditIdentity(
            IdentityField::Email,
            "pas un e-mail".into(),
        ))
        .reduce(Action::Submit(at(1)));
    assert_eq!(state.phase, Phase::Filling);
    assert_eq!(
        state.errors.get("answers.nps").map(String::as_str),
        Some("Veuillez choisir une valeur de 0 à 10.")
    );
    assert_eq!(
        state.errors.get("identity.email").map(String::as_str),
        Some("Veuillez saisir une adresse e-mail valide, ou laisser le champ vide.")
    );
}

#[wasm_bindgen_test]
fn a_portals_signed_contact_is_sent_as_signed_and_never_asked_for() {
    let mut state = (*fresh(ConfidentialityMode::Optional)).clone();
    state.signed = Some(rapport_widget::state::SignedContact {
        context: rapport_scoring::wire::SignedContext {
            expires: 1_900_000_000,
            signature: "ab".repeat(32),
        },
        name: Some("Grace Hopper".into()),
        email: "grace.hopper@northwind.example".into(),
    });
    let state = Rc::new(state);
    assert!(
        !state.asks_identity(),
        "the portal already said who answers"
    );
    // Whatever is typed, the signed contact is what is sent, with the signature.
    let state = state
        .reduce(Action::Choose(ConfidentialityChoice::Identified))
        .reduce(Action::EditIdentity(
            IdentityField::Email,
            "someone@else.example".into(),
        ));
    let wire = state.to_wire(at(1));
    assert_eq!(
        wire.identity.and_then(|identity| identity.email).as_deref(),
        Some("grace.hopper@northwind.example")
    );
    assert_eq!(
        wire.signed_context.map(|signed| signed.expires),
        Some(1_900_000_000)
    );
}

fn with_identity_request(
    mode: ConfidentialityMode,
    request: rapport_scoring::definition::IdentityRequest,
) -> Rc<SurveyState> {
    let mut definition = template("client-portal").unwrap();
    definition.confidentiality = mode;
    definition.ask_identity = request;
    Rc::new(SurveyState::new(
        Rc::new(definition),
        Locale::english(),
        ResponseId::from_random_bytes([9; 16]),
        Timestamp::from_unix_millis(0),
    ))
}

#[wasm_bindgen_test]
fn share_my_name_without_a_name_or_an_email_is_not_sent() {
    let mut state = (*fresh(ConfidentialityMode::Optional)).clone();
    state.locale = choose_locale(["de"]);
    let state = Rc::new(state)
        .reduce(Action::Answer("nps".into(), json!(7)))
        .reduce(Action::Choose(ConfidentialityChoice::Identified))
        .reduce(Action::EditIdentity(
            IdentityField::Organisation,
            "Northwind".into(),
        ))
        .reduce(Action::EditIdentity(IdentityField::Name, "   ".into()))
        .reduce(Action::Submit(at(1)));
    assert_eq!(
        state.phase,
        Phase::Filling,
        "an organisation alone names nobody"
    );
    assert_eq!(
        state.errors.get("identity").map(String::as_str),
        Some("Um Ihren Namen zu teilen, geben Sie bitte Ihren Namen oder Ihre E-Mail-Adresse ein.")
    );
    let state = state
        .reduce(Action::EditIdentity(IdentityField::Name, "Ana Ruiz".into()))
        .reduce(Action::Submit(at(2)));
    assert_eq!(state.phase, Phase::Sending, "errors: {:?}", state.errors);
    // A confidential respondent owes no name.
    let confidential = fresh(ConfidentialityMode::Optional)
        .reduce(Action::Answer("nps".into(), json!(7)))
        .reduce(Action::Submit(at(1)));
    assert_eq!(confidential.phase, Phase::Sending);
}

#[wasm_bindgen_test]
fn a_survey_that_always_asks_identity_lets_a_confidential_respondent_give_it() {
    use rapport_scoring::definition::IdentityRequest;
    let state = with_identity_request(ConfidentialityMode::Optional, IdentityRequest::Always);
    assert_eq!(state.confidentiality, ConfidentialityChoice::Confidential);
    assert!(state.asks_identity());
    let state = state
        .reduce(Action::Answer("nps".into(), json!(5)))
        .reduce(Action::EditIdentity(
            IdentityField::Email,
            "ana@client.example".into(),
        ));
    let wire = state.to_wire(at(1));
    assert_eq!(wire.confidentiality, ConfidentialityChoice::Confidential);
    assert_eq!(
        wire.identity.and_then(|identity| identity.email).as_deref(),
        Some("ana@client.example")
    );
    // Giving it is voluntary while confidential: empty fields send no identity.
    let empty = with_identity_request(ConfidentialityMode::Optional, IdentityRequest::Always)
        .reduce(Action::Answer("nps".into(), json!(5)))
        .reduce(Action::Submit(at(1)));
    assert_eq!(empty.phase, Phase::Sending, "errors: {:?}", empty.errors);
    assert_eq!(empty.to_wire(at(1)).identity, None);
    // An invitation says who answers, so nothing is asked even then.
    let mut invited =
        (*with_identity_request(ConfidentialityMode::Optional, IdentityRequest::Always)).clone();
    invited.invitation = Some("signed-invitation-token".into());
    assert!(!invited.asks_identity());
}

#[wasm_bindgen_test]
fn a_survey_that_never_asks_identity_offers_no_name_to_share_unless_an_invitation_gives_one() {
    use rapport_scoring::definition::IdentityRequest;
    let state = with_identity_request(ConfidentialityMode::Optional, IdentityRequest::Never);
    assert!(!state.may_be_identified());
    let state = state.reduce(Action::Choose(ConfidentialityChoice::Identified));
    assert_eq!(state.confidentiality, ConfidentialityChoice::Confidential);
    assert!(!state.asks_identity());
    let mut invited =
        (*with_identity_request(ConfidentialityMode::Optional, IdentityRequest::Never)).clone();
    invited.invitation = Some("signed-invitation-token".into());
    let invited = Rc::new(invited).reduce(Action::Choose(ConfidentialityChoice::Identified));
    assert_eq!(invited.confidentiality, ConfidentialityChoice::Identified);
    assert!(!invited.asks_identity());
    // The default keeps today's behaviour: asked only once identified.
    let default = with_identity_request(
        ConfidentialityMode::Optional,
        IdentityRequest::WhenIdentified,
    );
    assert!(!default.asks_identity());
    assert!(
        default
            .reduce(Action::Choose(ConfidentialityChoice::Identified))
            .asks_identity()
    );
}

#[wasm_bindgen_test]
fn an_answered_survey_shows_no_form_until_an_invited_respondent_chooses_to_answer_again() {
    let answered = fresh(ConfidentialityMode::Optional).reduce(Action::AlreadyAnswered);
    assert_eq!(answered.phase, Phase::Answered);
    let submitted = answered.clone().reduce(Action::Submit(at(1)));
    assert!(
        Rc::ptr_eq(&answered, &submitted),
        "nothing can be sent from the answered screen"
    );
    let again = answered.reduce(Action::AnswerAgain);
    assert_eq!(again.phase, Phase::Filling);
    assert!(
        again.replacing,
        "the form says the new answers replace the old"
    );
}

#[wasm_bindgen_test]
fn decimals_use_the_respondents_separator_and_whole_numbers_none() {
    use rapport_widget::i18n::decimal;
    let cases = [
        ("en", 3.6, "3.6"),
        ("fr", 3.6, "3,6"),
        ("de", 5.333, "5,3"),
        ("nl", 4.96, "5"),
        ("es", 6.0, "6"),
        ("fr-CA", 1.25, "1,3"),
    ];
    for (tag, value, expected) in cases {
        assert_eq!(
            decimal(value, &choose_locale([tag])),
            expected,
            "{tag} {value}"
        );
    }
}

#[wasm_bindgen_test]
fn the_widget_has_no_word_for_a_respondents_category_in_any_language() {
    let labels = [
        "promot",
        "passiv",
        "detract",
        "détract",
        "kritiker",
        "criticaster",
        "ambassad",
        "botschafter",
        "embajador",
        "ambival",
        "stalker",
        "harceleur",
        "acosador",
        "opponent",
        "opposant",
        "gegner",
        "tegenstander",
        "oponente",
    ];
    for tag in ["en", "fr", "de", "nl", "es"] {
        let words =
            format!("{:?}", rapport_widget::i18n::strings(&choose_locale([tag]))).to_lowercase();
        for label in labels {
            assert!(!words.contains(label), "{tag} has {label}");
        }
    }
}

#[wasm_bindgen_test]
fn a_number_chosen_in_the_email_answers_the_first_0_to_10_question_and_nothing_else_does() {
    let state = fresh(ConfidentialityMode::Optional);
    assert_eq!(
        state.chosen_nps(Some(7)),
        Some(("nps".to_owned(), json!(7)))
    );
    assert_eq!(
        state.chosen_nps(Some(0)),
        Some(("nps".to_owned(), json!(0)))
    );
    assert_eq!(state.chosen_nps(Some(11)), None, "11 is no answer");
    assert_eq!(state.chosen_nps(None), None);
}
