//! The embeddable Rapport survey widget, compiled to WebAssembly.
//!
//! The ES-module loader (`widget/js/rapport.js`) registers the `<rapport-survey>` custom
//! element, attaches a shadow root with the widget's stylesheet, and calls [`mount`] with a
//! root element inside that shadow root. Everything the widget draws stays inside it; the
//! only thing it sends to the host page is DOM events (`rapport:ready`, `rapport:submitted`,
//! `rapport:error`) dispatched on the host element.
//!
//! - [`state`]: the pure state and its actions, no DOM;
//! - [`view`]: the components;
//! - [`net`]: loading the survey, posting with retries, the local outbox and draft;
//! - [`i18n`]: the widget's own words in five languages.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod i18n;
pub mod net;
pub mod state;
pub mod view;

use std::collections::BTreeMap;
use std::rc::Rc;

use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::ids::ResponseId;
use rapport_scoring::wire::{Context, Timestamp};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use web_sys::{CustomEvent, CustomEventInit, Element, HtmlElement};
use yew::prelude::*;

use crate::net::{Pending, SendOutcome};
use crate::state::{Action, Phase, SurveyState};
use crate::view::SurveyForm;

/// The widget's stylesheet, adopted by the shadow root as a constructable stylesheet.
pub const STYLESHEET: &str = include_str!("style.css");

/// What the host page configured, as the loader passes it (JSON).
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(default)]
pub struct Config {
    /// Survey id, also the name of a built-in template.
    pub survey: String,
    /// URL to post responses to; defaults to the server's ingest URL for the survey.
    pub endpoint: Option<String>,
    /// Base URL of the Rapport server (no trailing slash), used to load the definition.
    pub server: String,
    /// URL of the directory the loader came from (with a trailing slash): the built-in
    /// templates are beside it, in `templates/<name>.json`.
    #[serde(default)]
    pub assets: String,
    /// Locale preferences, best first (the attribute, then the browser's languages).
    pub locales: Vec<String>,
    /// Signed invitation token from an email link or portal.
    pub token: Option<String>,
    /// Inline survey definition (JSON), instead of loading it.
    pub definition: Option<String>,
    /// Extra headers for the POST, e.g. an API gateway key.
    pub headers: BTreeMap<String, String>,
    /// Client account the host page knows.
    pub account: Option<String>,
    /// Matter or contract the host page knows.
    pub matter: Option<String>,
    /// Survey wave the host page knows.
    pub wave: Option<String>,
    /// The signed-in contact's name, as the portal signed it.
    pub contact_name: Option<String>,
    /// The signed-in contact's email, as the portal signed it.
    pub contact_email: Option<String>,
    /// When the portal's signature expires, seconds since the Unix epoch.
    pub expires: Option<i64>,
    /// The portal's signature of survey, account, matter, name and email.
    pub signature: Option<String>,
    /// A 0–10 answer chosen before the survey opened (a number clicked in an email's
    /// scale): the survey's first 0–10 question starts with it.
    pub nps: Option<u8>,
    /// What the loader fetched for the definition while the wasm compiled; `None` when it
    /// fetched nothing (an inline definition, or a mount from Rust).
    #[serde(default)]
    pub prefetched: Option<Prefetched>,
}

/// The survey's definition as the loader fetched it before the wasm was ready, so the
/// survey does not wait for another round trip after start-up.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct Prefetched {
    /// The server's definition; `None` when the server answered without one.
    #[serde(default)]
    pub served: Option<String>,
    /// Whether the server's definition got no answer at all: refused by the browser, or
    /// the network is down.
    #[serde(default)]
    pub unreachable: bool,
    /// The built-in template from beside the loader, fetched only when the server gave no
    /// definition.
    #[serde(default)]
    pub template: Option<String>,
}

impl Config {
    fn post_url(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("{}/api/v1/surveys/{}/responses", self.server, self.survey))
    }
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(js_sys::Date::now() as i64)
}

fn random_response_id() -> ResponseId {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    ResponseId::from_random_bytes(bytes)
}

/// Dispatches `rapport:<name>` on the host element, bubbling out of the shadow root.
fn emit(host: &HtmlElement, name: &str, detail: &serde_json::Value) {
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&js_sys::JSON::parse(&detail.to_string()).unwrap_or(JsValue::NULL));
    if let Ok(event) = CustomEvent::new_with_event_init_dict(&format!("rapport:{name}"), &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// Properties of the root component.
#[derive(Properties, PartialEq, Debug)]
pub struct RootProps {
    /// The host's configuration.
    pub config: Rc<Config>,
    /// The `<rapport-survey>` element, where events are dispatched.
    pub host: HtmlElement,
}

async fn load_definition(config: &Config) -> Result<SurveyDefinition, String> {
    if let Some(inline) = &config.definition {
        return SurveyDefinition::from_json(inline)
            .map_err(|error| format!("inline survey definition: {error}"));
    }
    let url = format!("{}/api/v1/surveys/{}", config.server, config.survey);
    let loaded = match &config.prefetched {
        Some(prefetched) if prefetched.unreachable => Err(JsValue::NULL),
        Some(prefetched) => Ok(prefetched.served.clone()),
        None => net::get_text(&url).await,
    };
    if let Ok(Some(text)) = &loaded
        && let Ok(definition) = SurveyDefinition::from_json(text)
    {
        return Ok(definition);
    }
    // A browser reads a survey's definition from the server only on the origins that may
    // send answers to it, so a refusal here foretells a refused send: say so at once.
    if loaded.is_err() {
        net::watch_policy_violations();
        let origin = net::page_origin();
        let advice = match net::refused_by_browser(&url).await {
            Some(net::BrowserRefusal::Cors) => Some(format!(
                "rapport: the browser refused to load survey {} from {} for {origin} (CORS), and will refuse its answers too. Add {origin} to allowed_origins of survey {}, or start the server with --allow-origin {origin}.",
                config.survey, config.server, config.survey
            )),
            Some(net::BrowserRefusal::PagePolicy) => Some(format!(
                "rapport: this page's Content-Security-Policy does not allow connecting to {} (connect-src), so survey {} could not be loaded from it. Add {} to connect-src in this page's Content-Security-Policy.",
                config.server, config.survey, config.server
            )),
            None => None,
        };
        if let Some(advice) = advice {
            web_sys::console::warn_1(&JsValue::from_str(&advice));
        }
    }
    builtin_template(config)
        .await
        .ok_or_else(|| format!("survey {:?} could not be loaded", config.survey))
}

/// The built-in template named like the survey, from beside the loader: the offline
/// fallback of a widget whose server has no such survey or refuses this page. It is data,
/// not code, so the bundle carries no template texts.
async fn builtin_template(config: &Config) -> Option<SurveyDefinition> {
    if let Some(text) = config
        .prefetched
        .as_ref()
        .and_then(|p| p.template.as_deref())
    {
        return SurveyDefinition::from_json(text).ok();
    }
    let name = rapport_scoring::SurveyId::new(&config.survey).ok()?;
    let url = format!("{}templates/{}.json", config.assets, name.as_str());
    let text = net::get_text(&url).await.ok()??;
    SurveyDefinition::from_json(&text).ok()
}

/// Loads the survey definition, then shows the survey.
#[component]
pub fn Root(props: &RootProps) -> Html {
    let definition = use_state(|| None::<Result<Rc<SurveyDefinition>, String>>);
    {
        let definition = definition.clone();
        let config = props.config.clone();
        let host = props.host.clone();
        use_effect_with(config.clone(), move |_| {
            yew::platform::spawn_local(async move {
                let loaded = load_definition(&config).await;
                if let Err(message) = &loaded {
                    emit(&host, "error", &serde_json::json!({ "message": message }));
                }
                definition.set(Some(loaded.map(Rc::new)));
            });
        });
    }
    let locale = i18n::choose_locale(props.config.locales.iter().map(String::as_str));
    match &*definition {
        None => {
            html! { <p class="rapport loading" role="status">{ i18n::strings(&locale).loading }</p> }
        }
        Some(Err(message)) => {
            html! { <p class="rapport failed" role="alert">{ message.clone() }</p> }
        }
        Some(Ok(definition)) => {
            html! { <Survey definition={definition.clone()} config={props.config.clone()} host={props.host.clone()} /> }
        }
    }
}

/// Properties of a loaded survey.
#[derive(Properties, PartialEq, Debug)]
pub struct SurveyProps {
    /// The definition.
    pub definition: Rc<SurveyDefinition>,
    /// The host's configuration.
    pub config: Rc<Config>,
    /// The host element, for events.
    pub host: HtmlElement,
}

/// A loaded survey: owns the state, saves drafts, sends, and tells the host page.
#[component]
pub fn Survey(props: &SurveyProps) -> Html {
    let config = props.config.clone();
    let state = {
        let definition = props.definition.clone();
        let config = config.clone();
        use_reducer(move || {
            let locale = i18n::choose_locale(config.locales.iter().map(String::as_str));
            let mut state = SurveyState::new(definition, locale, random_response_id(), now());
            state.invitation = config.token.clone();
            if let (Some(signature), Some(expires), Some(email)) =
                (&config.signature, config.expires, &config.contact_email)
            {
                state.signed = Some(crate::state::SignedContact {
                    context: rapport_scoring::wire::SignedContext {
                        expires,
                        signature: signature.clone(),
                    },
                    name: config.contact_name.clone(),
                    email: email.clone(),
                });
            }
            state.context = Context {
                account: config.account.clone(),
                matter: config.matter.clone(),
                wave: config.wave.clone(),
                returning: None,
            };
            if let Some((question, value)) = state.chosen_nps(config.nps) {
                state.answers.insert(question, value);
            }
            state
        })
    };
    let survey_id = props.definition.id.to_string();

    // On mount: restore a draft, resume queued responses, tell the host we are ready. A
    // draft whose response still waits in the outbox was already submitted, so the
    // respondent sees the waiting screen and then the thank-you, never a form to send twice.
    {
        let state = state.clone();
        let host = props.host.clone();
        let survey_id = survey_id.clone();
        let invitation = config.token.clone();
        let chosen_nps = state.chosen_nps(config.nps);
        use_effect_with((), move |()| {
            let pending_responses = net::outbox();
            let mut own_response_id = None;
            let mut answered_here = false;
            if let Some(draft) = net::load_draft(&survey_id) {
                let draft_response_id = draft.response_id.to_string();
                state.dispatch(Action::Restore(draft));
                // The number just clicked in the email wins over the one an older draft kept.
                if let Some((question, value)) = chosen_nps {
                    state.dispatch(Action::Answer(question, value));
                }
                if pending_responses
                    .iter()
                    .any(|pending| pending.response_id == draft_response_id)
                {
                    state.dispatch(Action::Resume);
                    own_response_id = Some(draft_response_id);
                }
            } else if net::was_answered(&survey_id, invitation.as_deref()) {
                // Answers from this device already arrived: a blank form would invite a
                // second response. With an invitation the respondent may still answer again.
                state.dispatch(Action::AlreadyAnswered);
                answered_here = true;
            }
            // `answered`: the survey shows that it was answered from this device, so a host
            // page need not say it again.
            emit(
                &host,
                "ready",
                &serde_json::json!({ "survey": survey_id, "answered": answered_here }),
            );
            // Every waiting response is resumed, whichever survey it answers: it carries
            // its own URL and headers, and the page may no longer show that survey.
            for pending in pending_responses {
                if own_response_id.as_deref() == Some(pending.response_id.as_str()) {
                    let state = state.clone();
                    let host = host.clone();
                    yew::platform::spawn_local(async move {
                        let outcome = net::deliver(pending.clone(), || {}).await;
                        settle(&state, &host, &pending, outcome);
                    });
                } else {
                    yew::platform::spawn_local(async move {
                        net::deliver(pending, || {}).await;
                    });
                }
            }
        });
    }

    // Save the draft whenever answers change while filling in. It stays saved while the
    // response is sent and is cleared only once the endpoint acknowledges it.
    {
        let survey_id = survey_id.clone();
        use_effect_with(state.clone(), move |state| {
            if state.phase == Phase::Filling
                && (!state.answers.is_empty() || state.identity != Default::default())
            {
                net::save_draft(&survey_id, &state.draft());
            }
        });
    }

    // Send when the state enters the sending phase.
    {
        let host = props.host.clone();
        let config = config.clone();
        let sending = state.phase == Phase::Sending;
        let state_for_effect = state.clone();
        use_effect_with(sending, move |sending| {
            if *sending {
                let state = state_for_effect;
                match state.submission(now()) {
                    Ok(wire) => {
                        let pending = Pending {
                            url: config.post_url(),
                            headers: config.headers.clone(),
                            body: serde_json::to_string(&wire).unwrap_or_default(),
                            response_id: wire.response_id.to_string(),
                            survey_id: wire.survey_id.to_string(),
                        };
                        yew::platform::spawn_local(async move {
                            let queued = {
                                let state = state.clone();
                                move || state.dispatch(Action::Queue)
                            };
                            let outcome = net::deliver(pending.clone(), queued).await;
                            settle(&state, &host, &pending, outcome);
                        });
                    }
                    Err(errors) => state.dispatch(Action::Refused(String::new(), errors)),
                }
            }
        });
    }

    html! { <SurveyForm state={state} now={Callback::from(|()| now())} /> }
}

/// Applies how a delivery ended: the thank-you and `rapport:submitted` on a 2xx (and the
/// draft is forgotten), the server's message next to the answers on a 4xx, the truth about
/// a refusal (and `rapport:error` with what to configure) when this page may not send, the
/// waiting screen otherwise.
fn settle(
    state: &UseReducerHandle<SurveyState>,
    host: &HtmlElement,
    pending: &Pending,
    outcome: SendOutcome,
) {
    match outcome {
        SendOutcome::Acknowledged => {
            net::clear_draft(&pending.survey_id);
            let provisional = serde_json::from_str::<serde_json::Value>(&pending.body)
                .ok()
                .and_then(|mut body| body.get_mut("provisional").map(serde_json::Value::take))
                .unwrap_or(serde_json::Value::Null);
            state.dispatch(Action::Acknowledged);
            emit(
                host,
                "submitted",
                &serde_json::json!({ "response_id": pending.response_id, "provisional": provisional }),
            );
        }
        SendOutcome::Refused(message, fields) => {
            emit(
                host,
                "error",
                &serde_json::json!({ "message": message, "fields": fields }),
            );
            state.dispatch(Action::Refused(message, fields));
        }
        SendOutcome::Blocked(blocked) => {
            let origin = net::page_origin();
            emit(
                host,
                "error",
                &serde_json::json!({
                    "message": blocked.advice(pending, &origin),
                    "reason": blocked.reason,
                    "status": blocked.status,
                    "server_message": blocked.server_message,
                    "survey": pending.survey_id,
                    "endpoint": pending.url,
                    "origin": origin,
                    "response_id": pending.response_id,
                    "kept": true,
                }),
            );
            state.dispatch(Action::Blocked);
        }
        SendOutcome::Retry => state.dispatch(Action::Queue),
    }
}

/// A mounted widget; the loader calls [`Handle::unmount`] when the element leaves the page.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Handle {
    app: Option<yew::AppHandle<Root>>,
}

#[wasm_bindgen]
impl Handle {
    /// Removes the widget and everything it rendered.
    pub fn unmount(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}

/// Mounts a widget into `root` (an element inside the host's shadow root). `host` is the
/// `<rapport-survey>` element; `config` is the JSON of [`Config`].
#[wasm_bindgen]
pub fn mount(root: Element, host: HtmlElement, config: &str) -> Result<Handle, JsError> {
    let config: Config = serde_json::from_str(config)
        .map_err(|error| JsError::new(&format!("rapport: bad configuration: {error}")))?;
    let props = RootProps {
        config: Rc::new(config),
        host,
    };
    Ok(Handle {
        app: Some(yew::Renderer::<Root>::with_root_and_props(root, props).render()),
    })
}

/// The widget's stylesheet text, for the loader's constructable stylesheet.
#[wasm_bindgen(js_name = stylesheet)]
pub fn stylesheet() -> String {
    STYLESHEET.to_owned()
}
