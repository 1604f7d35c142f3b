//! The widget's network and storage effects: loading a survey definition, posting a
//! response with retries, and the local outbox and draft that keep answers safe across
//! reloads and outages.
//!
//! A response enters the outbox before its first send and leaves it only on a 2xx, so an
//! acknowledged response is never sent again and an unacknowledged one is never lost. The
//! response id makes any repeat harmless: the server recognises it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

use crate::state::Draft;

const OUTBOX_KEY: &str = "rapport:outbox";

thread_local! {
    /// Response ids being delivered by this page right now, so that two widgets (or a
    /// widget remounted after an attribute change) never send the same response at once.
    static IN_FLIGHT: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    /// How deliveries finished on this page, for a caller that waited on another's.
    static SETTLED: RefCell<BTreeMap<String, SendOutcome>> = const { RefCell::new(BTreeMap::new()) };
}

/// A response waiting to be acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Where to post it.
    pub url: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// The wire-format JSON.
    pub body: String,
    /// Its response id.
    pub response_id: String,
    /// Its survey.
    pub survey_id: String,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// A 2xx: the endpoint has it.
    Acknowledged,
    /// A network error or 5xx: try again later.
    Retry,
    /// A 4xx: the message and field errors to show.
    Refused(String, BTreeMap<String, String>),
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Every response waiting in the outbox.
pub fn outbox() -> Vec<Pending> {
    storage()
        .and_then(|storage| storage.get_item(OUTBOX_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save_outbox(entries: &[Pending]) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(entries)) {
        let _ = storage.set_item(OUTBOX_KEY, &text);
    }
}

/// Puts a response in the outbox, once.
pub fn outbox_put(pending: &Pending) {
    let mut entries = outbox();
    if !entries
        .iter()
        .any(|entry| entry.response_id == pending.response_id)
    {
        entries.push(pending.clone());
        save_outbox(&entries);
    }
}

/// Removes an acknowledged or refused response from the outbox.
pub fn outbox_remove(response_id: &str) {
    let mut entries = outbox();
    entries.retain(|entry| entry.response_id != response_id);
    save_outbox(&entries);
}

fn draft_key(survey_id: &str) -> String {
    let path = web_sys::window()
        .and_then(|window| window.location().pathname().ok())
        .unwrap_or_default();
    format!("rapport:draft:{survey_id}:{path}")
}

/// Saves the answers so far.
pub fn save_draft(survey_id: &str, draft: &Draft) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(draft)) {
        let _ = storage.set_item(&draft_key(survey_id), &text);
    }
}

/// The answers saved before a reload, if any.
pub fn load_draft(survey_id: &str) -> Option<Draft> {
    storage()?
        .get_item(&draft_key(survey_id))
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str(&text).ok())
}

/// Forgets the saved answers.
pub fn clear_draft(survey_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&draft_key(survey_id));
    }
}

async fn fetch(url: &str, init: &RequestInit) -> Result<Response, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response = JsFuture::from(window.fetch_with_str_and_init(url, init)).await?;
    response.dyn_into::<Response>()
}

async fn text_of(response: &Response) -> String {
    match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// GETs a URL and returns its body when the status is 2xx.
pub async fn get_text(url: &str) -> Option<String> {
    let init = RequestInit::new();
    init.set_method("GET");
    let response = fetch(url, &init).await.ok()?;
    if response.ok() {
        Some(text_of(&response).await)
    } else {
        None
    }
}

/// Posts a pending response once.
pub async fn send(pending: &Pending) -> SendOutcome {
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().expect("headers");
    let _ = headers.set("Content-Type", "application/json");
    for (name, value) in &pending.headers {
        let _ = headers.set(name, value);
    }
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&pending.body));
    let Ok(response) = fetch(&pending.url, &init).await else {
        return SendOutcome::Retry;
    };
    let status = response.status();
    if (200..300).contains(&status) {
        return SendOutcome::Acknowledged;
    }
    if status >= 500 || status == 429 || status == 408 {
        return SendOutcome::Retry;
    }
    let body = text_of(&response).await;
    let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let message = parsed
        .as_ref()
        .and_then(|value| value["error"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("The survey server refused the answers (HTTP {status})."));
    let fields = parsed
        .as_ref()
        .and_then(|value| value["details"].as_array())
        .map(|details| {
            details
                .iter()
                .filter_map(|detail| {
                    Some((
                        detail["field"].as_str()?.to_owned(),
                        detail["message"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    SendOutcome::Refused(message, fields)
}

/// The wait before retry number `attempt` (from 0): exponential from one second, capped at
/// a minute, with ±50% jitter so that many widgets do not retry in step.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 1000.0 * 2f64.powi(attempt.min(6) as i32);
    Duration::from_millis((base.min(60_000.0) * (0.5 + jitter.clamp(0.0, 1.0))) as u64)
}

/// Waits for `delay`, or less if the browser reports that it is back online.
async fn wait_or_online(delay: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                delay.as_millis().min(i32::MAX as u128) as i32,
            );
            let options = web_sys::AddEventListenerOptions::new();
            options.set_once(true);
            let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
                "online", &resolve, &options,
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Sends until acknowledged or refused, waiting with [`backoff`] between tries, and keeps
/// the outbox in step. `on_retry` is told each time a try fails. If this page is already
/// delivering the same response, this waits for that delivery and returns its outcome
/// instead of sending a second copy.
pub async fn deliver(pending: Pending, on_retry: impl Fn()) -> SendOutcome {
    let response_id = pending.response_id.clone();
    let claimed = IN_FLIGHT.with(|in_flight| in_flight.borrow_mut().insert(response_id.clone()));
    if !claimed {
        on_retry();
        loop {
            yew::platform::time::sleep(Duration::from_millis(250)).await;
            if !IN_FLIGHT.with(|in_flight| in_flight.borrow().contains(&response_id)) {
                return SETTLED
                    .with(|settled| settled.borrow().get(&response_id).cloned())
                    .unwrap_or(SendOutcome::Acknowledged);
            }
        }
    }
    let outcome = deliver_claimed(&pending, on_retry).await;
    SETTLED.with(|settled| {
        settled
            .borrow_mut()
            .insert(response_id.clone(), outcome.clone())
    });
    IN_FLIGHT.with(|in_flight| in_flight.borrow_mut().remove(&response_id));
    outcome
}

async fn deliver_claimed(pending: &Pending, on_retry: impl Fn()) -> SendOutcome {
    outbox_put(pending);
    let mut attempt = 0;
    loop {
        if !outbox()
            .iter()
            .any(|entry| entry.response_id == pending.response_id)
        {
            // Another tab delivered it meanwhile.
            return SendOutcome::Acknowledged;
        }
        match send(pending).await {
            SendOutcome::Retry => {
                on_retry();
                wait_or_online(backoff(attempt, js_sys::Math::random())).await;
                attempt += 1;
            }
            outcome => {
                outbox_remove(&pending.response_id);
                return outcome;
            }
        }
    }
}
