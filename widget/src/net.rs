//! The widget's network and storage effects: loading a survey definition, posting a
//! response with retries, and the local outbox and draft that keep answers safe across
//! reloads and outages.
//!
//! A response enters the outbox before its first send and leaves it only on a 2xx or a 4xx
//! about the answers themselves, so an acknowledged response is never sent again and an
//! unacknowledged one is never lost. The response id makes any repeat harmless: the server
//! recognises it.
//!
//! A refusal is not an outage. When the browser will not let this page send to the endpoint
//! (CORS, or a 401/403), the response stays in the outbox but is not retried on this page:
//! nothing the respondent does can fix it, only the site's configuration can, and the
//! response goes out when the page is loaded again after that. A failed `fetch` looks the
//! same to a script whether the network is down or CORS refused it, so [`send`] tells them
//! apart by asking the endpoint again in `no-cors` mode, which CORS never blocks: if that
//! request gets an answer, the endpoint is reachable and the browser refused the send.
//! The host page's own Content-Security-Policy can refuse the send too (`connect-src`),
//! and then refuses the `no-cors` request as well; the browser reports that to the page as
//! a `securitypolicyviolation` event, which [`watch_policy_violations`] listens for.

use std::cell::{Cell, RefCell};
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
    /// Origins the host page's Content-Security-Policy refused a connection to, as the
    /// browser reported them.
    static POLICY_REFUSED: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    /// Whether [`watch_policy_violations`] listens already.
    static WATCHING_POLICY: Cell<bool> = const { Cell::new(false) };
}

/// Listens, once per page, for the browser's reports that the host page's
/// Content-Security-Policy refused a connection (`connect-src`), and remembers the refused
/// origins, so that a send the policy blocks is told apart from an outage.
pub fn watch_policy_violations() {
    if WATCHING_POLICY.replace(true) {
        return;
    }
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    gloo_events::EventListener::new(&document, "securitypolicyviolation", |event| {
        let field = |name: &str| {
            js_sys::Reflect::get(event, &JsValue::from_str(name))
                .ok()
                .and_then(|value| value.as_string())
        };
        if field("effectiveDirective").as_deref() != Some("connect-src") {
            return;
        }
        if let Some(origin) = field("blockedURI")
            .and_then(|blocked| web_sys::Url::new(&blocked).ok())
            .map(|url| url.origin())
        {
            POLICY_REFUSED.with(|refused| refused.borrow_mut().insert(origin));
        }
    })
    .forget();
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
    /// The browser or the endpoint refuses this page: the response stays in the outbox
    /// and waits for the site's configuration to be fixed.
    Blocked(Blocked),
}

/// Why the browser refused a request: the endpoint's CORS answer, or the host page's own
/// Content-Security-Policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserRefusal {
    /// The endpoint does not allow this page's origin (CORS).
    Cors,
    /// The page's Content-Security-Policy does not allow connecting to the endpoint.
    PagePolicy,
}

impl BrowserRefusal {
    /// The reason reported in `rapport:error`.
    pub fn reason(self) -> &'static str {
        match self {
            BrowserRefusal::Cors => "cors",
            BrowserRefusal::PagePolicy => "csp",
        }
    }
}

/// Why a send was refused although the endpoint is reachable.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// `cors` when the browser refused the request for the endpoint's CORS answer, `csp`
    /// when the host page's Content-Security-Policy refused it, `forbidden` for a 401 or
    /// 403.
    pub reason: &'static str,
    /// The HTTP status, for a 401 or 403.
    pub status: Option<u16>,
    /// The endpoint's own message, for a 401 or 403.
    pub server_message: Option<String>,
}

impl Blocked {
    /// What the host page's developer must configure, in one sentence for the console and
    /// the `rapport:error` event.
    pub fn advice(&self, pending: &Pending, page_origin: &str) -> String {
        let rapport_endpoint = pending.is_rapport_endpoint() && self.reason == "cors";
        let endpoint_origin = web_sys::Url::new(&pending.url)
            .map(|url| url.origin())
            .unwrap_or_else(|_| pending.url.clone());
        let what = match (&self.server_message, self.status) {
            (Some(message), Some(status)) => {
                format!("{} answered HTTP {status}: {message}", pending.url)
            }
            (None, Some(status)) => format!("{} answered HTTP {status}", pending.url),
            _ if self.reason == "csp" => format!(
                "this page's Content-Security-Policy does not allow connecting to {endpoint_origin} (connect-src), so the response to {} could not be sent",
                pending.url
            ),
            _ => format!(
                "the browser refused to send the response to {} from {page_origin} (CORS)",
                pending.url
            ),
        };
        let fix = if self.reason == "csp" {
            format!("add {endpoint_origin} to connect-src in this page's Content-Security-Policy")
        } else if rapport_endpoint {
            format!(
                "add {page_origin} to allowed_origins of survey {} (then `rapport survey add` it), or start the server with --allow-origin {page_origin}",
                pending.survey_id
            )
        } else if self.reason == "cors" {
            format!(
                "make the endpoint answer CORS for {page_origin}: an OPTIONS preflight allowing POST and the Content-Type header, and Access-Control-Allow-Origin on its answers"
            )
        } else {
            "give this page what the endpoint requires to accept answers".to_owned()
        };
        format!(
            "rapport: {what}. To fix it, {fix}. The response {} is kept on the respondent's device and is sent when the page is loaded again.",
            pending.response_id
        )
    }
}

impl Pending {
    /// Whether this goes to a Rapport server's own ingest URL for its survey.
    pub fn is_rapport_endpoint(&self) -> bool {
        self.url
            .ends_with(&format!("/api/v1/surveys/{}/responses", self.survey_id))
    }
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

/// Where this device remembers that a survey was answered: per survey, and with an
/// invitation per invitation, so another invitation to the same survey still shows the form.
/// The token is kept only as a short hash: storage needs no more to recognise it.
pub fn answered_key(survey_id: &str, invitation: Option<&str>) -> String {
    match invitation {
        Some(token) => {
            // FNV-1a, 64 bits: stable across builds and browsers, and no dependency.
            let hash = token.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            });
            format!("rapport:answered:{survey_id}:{hash:016x}")
        }
        None => format!("rapport:answered:{survey_id}"),
    }
}

/// Remembers that the endpoint acknowledged the response in `pending`, under the survey and
/// the invitation it carries.
pub fn remember_answered(pending: &Pending) {
    let invitation = serde_json::from_str::<serde_json::Value>(&pending.body)
        .ok()
        .and_then(|body| body.get("invitation")?.as_str().map(str::to_owned));
    if let Some(storage) = storage() {
        let _ = storage.set_item(
            &answered_key(&pending.survey_id, invitation.as_deref()),
            "1",
        );
    }
}

/// Whether this device already sent answers to this survey (with this invitation).
pub fn was_answered(survey_id: &str, invitation: Option<&str>) -> bool {
    storage()
        .and_then(|storage| {
            storage
                .get_item(&answered_key(survey_id, invitation))
                .ok()
                .flatten()
        })
        .is_some()
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

/// GETs a URL: its body when the status is 2xx, `Ok(None)` for another status, and an
/// error when no answer could be read (network, or the browser refused it).
pub async fn get_text(url: &str) -> Result<Option<String>, JsValue> {
    let init = RequestInit::new();
    init.set_method("GET");
    let response = fetch(url, &init).await?;
    if response.ok() {
        Ok(Some(text_of(&response).await))
    } else {
        Ok(None)
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
    watch_policy_violations();
    let Ok(response) = fetch(&pending.url, &init).await else {
        return match refused_by_browser(&pending.url).await {
            Some(refusal) => SendOutcome::Blocked(Blocked {
                reason: refusal.reason(),
                status: None,
                server_message: None,
            }),
            None => SendOutcome::Retry,
        };
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
    if status == 401 || status == 403 {
        return SendOutcome::Blocked(Blocked {
            reason: "forbidden",
            status: Some(status),
            server_message: parsed
                .as_ref()
                .and_then(|value| value["error"].as_str())
                .map(str::to_owned),
        });
    }
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

/// The origin of the page the widget runs in.
pub fn page_origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// After a `fetch` to `url` failed without an answer: whether the browser refused it (the
/// page's Content-Security-Policy, or CORS) rather than the network failing. The browser
/// reports a policy refusal to the page as an event, which may come just after the failed
/// `fetch`, so this waits a moment for it. A same-origin request is never refused by CORS,
/// and an offline browser has no network; otherwise a `no-cors` GET of the same URL, which
/// CORS does not block and which sends no body, shows whether the endpoint answers at all.
pub async fn refused_by_browser(url: &str) -> Option<BrowserRefusal> {
    let window = web_sys::window()?;
    if !window.navigator().on_line() {
        return None;
    }
    let target = web_sys::Url::new_with_base(url, &page_origin()).ok()?;
    let refused_by_policy =
        || POLICY_REFUSED.with(|refused| refused.borrow().contains(&target.origin()));
    if !refused_by_policy() {
        sleep(Duration::from_millis(50)).await;
    }
    if refused_by_policy() {
        return Some(BrowserRefusal::PagePolicy);
    }
    if target.origin() == page_origin() {
        return None;
    }
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::NoCors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    fetch(url, &init)
        .await
        .is_ok()
        .then_some(BrowserRefusal::Cors)
}

/// Waits for `delay`.
async fn sleep(delay: Duration) {
    gloo_timers::future::TimeoutFuture::new(milliseconds(delay)).await;
}

/// `delay` as the milliseconds a browser timer takes.
fn milliseconds(delay: Duration) -> u32 {
    delay.as_millis().min(i32::MAX as u128) as u32
}

/// The wait before retry number `attempt` (from 0): exponential from one second, capped at
/// a minute, with ±50% jitter so that many widgets do not retry in step.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 1000.0 * 2f64.powi(attempt.min(6) as i32);
    Duration::from_millis((base.min(60_000.0) * (0.5 + jitter.clamp(0.0, 1.0))) as u64)
}

/// Waits for `delay`, or less if the browser reports that it is back online.
async fn wait_or_online(delay: Duration) {
    let Some(window) = web_sys::window() else {
        return sleep(delay).await;
    };
    let (online, back) = futures::channel::oneshot::channel::<()>();
    let _listener = gloo_events::EventListener::once(&window, "online", move |_| {
        let _ = online.send(());
    });
    let timeout = gloo_timers::future::TimeoutFuture::new(milliseconds(delay));
    futures::future::select(timeout, back).await;
}

/// Sends until acknowledged, refused or blocked, waiting with [`backoff`] between tries,
/// and keeps the outbox in step. `on_retry` is told each time a try fails. If this page is
/// already delivering the same response, this waits for that delivery and returns its
/// outcome instead of sending a second copy.
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
    let mut blocked_before = false;
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
                blocked_before = false;
                on_retry();
                wait_or_online(backoff(attempt, js_sys::Math::random())).await;
                attempt += 1;
            }
            // A connection that dropped just as the endpoint came back looks like a CORS
            // refusal once; only a second refusal in a row counts.
            SendOutcome::Blocked(ref blocked) if blocked.reason == "cors" && !blocked_before => {
                blocked_before = true;
            }
            SendOutcome::Blocked(blocked) => {
                // It stays in the outbox: the answers are sent when the page is loaded
                // again after the configuration is fixed.
                web_sys::console::error_1(&JsValue::from_str(
                    &blocked.advice(pending, &page_origin()),
                ));
                return SendOutcome::Blocked(blocked);
            }
            outcome => {
                outbox_remove(&pending.response_id);
                if outcome == SendOutcome::Acknowledged {
                    remember_answered(pending);
                }
                return outcome;
            }
        }
    }
}
