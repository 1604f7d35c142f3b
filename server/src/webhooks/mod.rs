//! Webhooks: events about new identified responses, posted as signed JSON (or as a Slack
//! message) to the programme's own receivers, retried with exponential backoff, with every
//! attempt in a delivery log.
//!
//! Two events: `response.received` for every new identified response, and
//! `close_the_loop.triggered` for one that needs a conversation (`scoring::close_loop`).
//! Confidential and anonymous responses produce no event at all: an event is sent at the
//! moment one answer arrives, which is exactly what the publication rules forbid for
//! protected answers (docs/SECURITY.md, "Webhooks"). The store never hands this module a
//! protected row, the event builder refuses one anyway, and [`WebhookEvent`] has no field
//! that could carry an identity or free text.
//!
//! The [`Dispatcher`] runs in every replica: it scans committed responses by revision into
//! deliveries, claims due deliveries with a lease, posts them, and records each attempt.
//! This module must never import axum.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use hmac::{Hmac, Mac as _};
use rapport_scoring::close_loop::{Reason, conversation_reasons};
use rapport_scoring::score::{NpsCategory, RelationshipCategory};
use rapport_scoring::wire::ConfidentialityChoice;
use serde::Serialize;
use sha2::Sha256;

use crate::store::{
    AttemptOutcome, ClaimedDelivery, DeliveryRow, NewDelivery, NewWebhook, ScannedResponse, Store,
    VersionToScan, WebhookRow,
};

type HmacSha256 = Hmac<Sha256>;

/// The header that carries a delivery's signature: `t=<unix seconds>,v1=<hex>`, where the
/// hex is HMAC-SHA256 under the webhook's secret of `<unix seconds>.<body>`.
pub const SIGNATURE_HEADER: &str = "Rapport-Signature";
/// The header that names the event: `response.received` or `close_the_loop.triggered`.
pub const EVENT_HEADER: &str = "Rapport-Event";
/// The header that carries the event's id, the same on every attempt, so a receiver can
/// drop a second delivery of one event.
pub const DELIVERY_HEADER: &str = "Rapport-Delivery";

/// What a webhook's body looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The event as JSON ([`WebhookEvent`]).
    Json,
    /// A Slack incoming-webhook message: `{"text": …}`.
    Slack,
}

impl WebhookFormat {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }

    /// The format of a name, as stored or typed.
    pub fn parse(stored: &str) -> anyhow::Result<Self> {
        match stored {
            "json" => Ok(WebhookFormat::Json),
            "slack" => Ok(WebhookFormat::Slack),
            other => anyhow::bail!("unknown webhook format {other:?}: json or slack"),
        }
    }
}

/// An event a webhook can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    /// A new identified response was stored.
    ResponseReceived,
    /// A new identified response needs a close-the-loop conversation.
    CloseTheLoopTriggered,
}

impl EventKind {
    /// Its name, as the body and the `Rapport-Event` header give it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ResponseReceived => "response.received",
            EventKind::CloseTheLoopTriggered => "close_the_loop.triggered",
        }
    }

    /// The event of a name, as stored or typed.
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        match name {
            "response.received" => Ok(EventKind::ResponseReceived),
            "close_the_loop.triggered" => Ok(EventKind::CloseTheLoopTriggered),
            other => anyhow::bail!(
                "unknown webhook event {other:?}: response.received or close_the_loop.triggered"
            ),
        }
    }
}

/// A receiver's address: `http://` or `https://` with a host, no user or password in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

/// Why a webhook's address is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookUrlError {
    /// Not `http://` or `https://`.
    #[error("a webhook URL starts with https:// (or http:// for a receiver on a private network)")]
    Scheme,
    /// No host after the scheme.
    #[error("a webhook URL names a host")]
    NoHost,
    /// Credentials or whitespace in the address.
    #[error("a webhook URL holds no user, password, space or control character")]
    Unsafe,
}

impl WebhookUrl {
    /// The URL, checked.
    pub fn new(url: &str) -> Result<Self, WebhookUrlError> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or(WebhookUrlError::Scheme)?;
        if url
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
        {
            return Err(WebhookUrlError::Unsafe);
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(WebhookUrlError::Unsafe);
        }
        if authority.is_empty() || authority.starts_with(':') {
            return Err(WebhookUrlError::NoHost);
        }
        Ok(WebhookUrl(url.to_owned()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The scheme and host of a webhook's URL, without its path: what the dashboard and the
/// audit log show, since a path may itself be a secret (a Slack webhook's is).
pub fn url_host(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

/// A webhook as it is asked for.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    /// Where events are posted.
    pub url: WebhookUrl,
    /// JSON or Slack.
    pub format: WebhookFormat,
    /// The events it receives; at least one.
    pub events: Vec<EventKind>,
    /// Only this survey's responses; `None` for every survey.
    pub survey_id: Option<String>,
    /// A note saying what it is for.
    pub label: Option<String>,
}

/// A webhook just added: its id, and its secret, shown once.
#[derive(Debug, Clone)]
pub struct AddedWebhook {
    /// Its id.
    pub id: String,
    /// The key of its signatures, 64 hex digits.
    pub secret: String,
}

/// Adds a webhook; `actor` says who, for the audit log (a token's label and role, or the
/// command line; never a token).
pub async fn add_webhook(
    store: &Store,
    spec: WebhookSpec,
    actor: &str,
) -> anyhow::Result<AddedWebhook> {
    anyhow::ensure!(
        !spec.events.is_empty(),
        "a webhook receives at least one event"
    );
    let mut events = spec.events;
    events.sort();
    events.dedup();
    let events: Vec<&str> = events.iter().map(|event| event.as_str()).collect();
    let id = format!("wh_{}", hex::encode(random_bytes::<8>()?));
    let secret = hex::encode(random_bytes::<32>()?);
    store
        .add_webhook(&NewWebhook {
            id: id.clone(),
            url_host: url_host(spec.url.as_str()),
            url: spec.url.0,
            format: spec.format.as_str().to_owned(),
            events: serde_json::to_string(&events)?,
            survey_id: spec.survey_id,
            secret: secret.clone(),
            label: spec.label,
            created_by: actor.to_owned(),
        })
        .await?;
    Ok(AddedWebhook { id, secret })
}

/// Removes a webhook and its delivery log; `actor` as for [`add_webhook`]. Returns whether
/// there was one.
pub async fn remove_webhook(store: &Store, id: &str, actor: &str) -> anyhow::Result<bool> {
    store.remove_webhook(id, url_host, actor).await
}

/// The text `rapport webhook list` prints: each webhook (its URL's host only, since a path
/// may be a secret), then the latest deliveries.
pub fn listing(webhooks: &[WebhookRow], deliveries: &[DeliveryRow]) -> String {
    let mut text = String::new();
    if webhooks.is_empty() {
        text.push_str("no webhooks\n");
    }
    for webhook in webhooks {
        text.push_str(&format!(
            "{}  {}  {}  {}  survey {}  {}  created {} by {}\n",
            webhook.id,
            url_host(&webhook.url),
            webhook.format,
            webhook.events,
            webhook.survey_id.as_deref().unwrap_or("*"),
            webhook.label.as_deref().unwrap_or("-"),
            webhook.created_at,
            webhook.created_by,
        ));
    }
    if !deliveries.is_empty() {
        text.push_str("\nlatest deliveries:\n");
    }
    for delivery in deliveries {
        text.push_str(&format!(
            "{}  {}  {}  {}  attempts {}  {}\n",
            delivery.id,
            delivery.webhook_id,
            delivery.event_id,
            delivery.status,
            delivery.attempts,
            delivery.last_error.as_deref().unwrap_or(""),
        ));
    }
    text
}

fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(bytes)
}

/// The signature header of `body` at `unix_seconds` under `secret_hex`.
pub fn signature(secret_hex: &str, unix_seconds: i64, body: &str) -> anyhow::Result<String> {
    let secret = hex::decode(secret_hex).context("a webhook secret is hex")?;
    let mut mac = HmacSha256::new_from_slice(&secret).expect("HMAC takes any key length");
    mac.update(format!("{unix_seconds}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// Whether `header` is a valid signature of `body` under `secret_hex`, made within
/// `tolerance_seconds` of `now_seconds`: what a receiver checks (docs/WEBHOOKS.md). The
/// comparison takes the same time wherever the signatures differ.
pub fn verify_signature(
    secret_hex: &str,
    header: &str,
    body: &str,
    now_seconds: i64,
    tolerance_seconds: i64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let (Some(timestamp), Ok(secret)) = (timestamp, hex::decode(secret_hex)) else {
        return false;
    };
    if (now_seconds - timestamp).abs() > tolerance_seconds {
        return false;
    }
    signatures.iter().any(|signature| {
        let mut mac = HmacSha256::new_from_slice(&secret).expect("HMAC takes any key length");
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        mac.verify_slice(signature).is_ok()
    })
}

/// The JSON body of an event (format `json`). It is about one identified response; no
/// field can hold a name, an email, an organisation or free text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookEvent {
    /// `response.received` or `close_the_loop.triggered`.
    pub event: &'static str,
    /// The event's id, the same on every attempt: `<response id>/<event>`.
    pub event_id: String,
    /// The survey answered.
    pub survey: EventSurvey,
    /// The response.
    pub response: EventResponse,
    /// Why it needs a conversation; only in `close_the_loop.triggered`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Reason>>,
}

/// The survey an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSurvey {
    /// Its id.
    pub id: String,
    /// The version answered.
    pub version: i64,
}

/// The response an event is about: always identified, its scores and context only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventResponse {
    /// The response id.
    pub id: String,
    /// When the server received it.
    pub received_at: String,
    /// Always `identified`: no other response produces an event.
    pub confidentiality: &'static str,
    /// Account.
    pub account: Option<String>,
    /// Matter.
    pub matter: Option<String>,
    /// Wave.
    pub wave: Option<String>,
    /// The 0–10 answer.
    pub nps: Option<u8>,
    /// Detractor, passive or promoter.
    pub nps_category: Option<NpsCategory>,
    /// Overall CRQ, 1–7.
    pub crq: Option<f64>,
    /// Relationship category.
    pub relationship: Option<RelationshipCategory>,
}

/// The events of one identified response that `webhook` receives, each as the body it is
/// posted with.
fn deliveries_of(
    webhook: &ActiveWebhook,
    version: &VersionToScan,
    response: &ScannedResponse,
    reasons: &[Reason],
) -> anyhow::Result<Vec<NewDelivery>> {
    let mut deliveries = Vec::new();
    // The store selects identified rows only; this is the second lock on the same door.
    if response.confidentiality != ConfidentialityChoice::Identified
        || response.received_at_millis < webhook.row.created_at_millis
        || webhook
            .row
            .survey_id
            .as_ref()
            .is_some_and(|survey| survey != &version.survey_id)
    {
        return Ok(deliveries);
    }
    for kind in &webhook.events {
        let reasons = match kind {
            EventKind::ResponseReceived => None,
            EventKind::CloseTheLoopTriggered if reasons.is_empty() => continue,
            EventKind::CloseTheLoopTriggered => Some(reasons.to_vec()),
        };
        let event = WebhookEvent {
            event: kind.as_str(),
            event_id: format!("{}/{}", response.response_id, kind.as_str()),
            survey: EventSurvey {
                id: version.survey_id.clone(),
                version: version.survey_version,
            },
            response: EventResponse {
                id: response.response_id.clone(),
                received_at: response.received_at.clone(),
                confidentiality: "identified",
                account: response.account.clone(),
                matter: response.matter.clone(),
                wave: response.wave.clone(),
                nps: response.answers.nps.map(|nps| nps.get()),
                nps_category: response.score.nps_category,
                crq: response.score.crq,
                relationship: response.score.relationship,
            },
            reasons,
        };
        let body = match webhook.format {
            WebhookFormat::Json => serde_json::to_string(&event)?,
            WebhookFormat::Slack => serde_json::to_string(&serde_json::json!({
                "text": slack_text(&event),
            }))?,
        };
        deliveries.push(NewDelivery {
            webhook_id: webhook.row.id.clone(),
            event_id: event.event_id,
            event: kind.as_str().to_owned(),
            survey_id: version.survey_id.clone(),
            body,
        });
    }
    Ok(deliveries)
}

/// Text for Slack's `mrkdwn`, where `&`, `<` and `>` are control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The one-line message of an event in a Slack channel.
pub fn slack_text(event: &WebhookEvent) -> String {
    let response = &event.response;
    let mut place = format!(
        "account {}",
        slack_escape(response.account.as_deref().unwrap_or("(none)"))
    );
    if let Some(matter) = &response.matter {
        place.push_str(&format!(", matter {}", slack_escape(matter)));
    }
    if let Some(wave) = &response.wave {
        place.push_str(&format!(", wave {}", slack_escape(wave)));
    }
    let mut scores = Vec::new();
    if let Some(nps) = response.nps {
        scores.push(format!("{nps}/10"));
    }
    if let Some(category) = response.nps_category {
        scores.push(format!("{category:?}").to_lowercase());
    }
    if let Some(crq) = response.crq {
        scores.push(format!("CRQ {crq:.1}"));
    }
    if let Some(relationship) = response.relationship {
        scores.push(format!("{relationship:?}").to_lowercase());
    }
    let survey = slack_escape(&event.survey.id);
    match &event.reasons {
        None => format!(
            "New identified response to {survey} from {place}: {}.",
            scores.join(", ")
        ),
        Some(reasons) => {
            let reasons: Vec<String> = reasons
                .iter()
                .map(|reason| match reason {
                    Reason::Detractor => "detractor".to_owned(),
                    Reason::Relationship { category } => format!("{category:?}").to_lowercase(),
                    Reason::LowElement { element, rating } => {
                        format!("{} rated {rating}", slack_escape(element.as_str()))
                    }
                    Reason::LowExperience { item, rating } => {
                        format!("{} rated {rating}", slack_escape(item.as_str()))
                    }
                })
                .collect();
            format!(
                ":warning: Close the loop: a response to {survey} from {place} needs a conversation ({}); {}.",
                reasons.join(", "),
                scores.join(", ")
            )
        }
    }
}

/// A webhook as the dispatcher uses it.
#[derive(Debug, Clone)]
struct ActiveWebhook {
    row: WebhookRow,
    format: WebhookFormat,
    events: Vec<EventKind>,
}

impl TryFrom<WebhookRow> for ActiveWebhook {
    type Error = anyhow::Error;

    fn try_from(row: WebhookRow) -> anyhow::Result<Self> {
        let names: Vec<String> = serde_json::from_str(&row.events)?;
        Ok(ActiveWebhook {
            format: WebhookFormat::parse(&row.format)?,
            events: names
                .iter()
                .map(|name| EventKind::parse(name))
                .collect::<anyhow::Result<_>>()?,
            row,
        })
    }
}

/// How deliveries are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    /// How often a replica looks for new responses and due deliveries.
    pub poll_interval: Duration,
    /// The wait after the first failed attempt; each later failure doubles it.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_cap: Duration,
    /// Attempts before a delivery is given up (marked `failed`).
    pub max_attempts: u32,
    /// How long one attempt may take.
    pub request_timeout: Duration,
    /// How long a claim lasts: a replica that crashed mid-attempt leaves its deliveries to
    /// the others after this.
    pub lease: Duration,
    /// How long a delivered or given-up delivery stays in the log.
    pub keep_log: Duration,
}

impl Default for DeliverySettings {
    /// One poll a second; retries after 30 s, 1 min, 2 min, … up to an hour apart, for ten
    /// attempts in all (about four and a half hours); ten seconds per attempt; finished
    /// deliveries kept in the log for thirty days.
    fn default() -> Self {
        DeliverySettings {
            poll_interval: Duration::from_secs(1),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            max_attempts: 10,
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            keep_log: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

impl DeliverySettings {
    /// The wait after the `attempts`-th failed attempt (1 for the first):
    /// `retry_base · 2^(attempts − 1)`, at most `retry_cap`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.retry_base
            .saturating_mul(1u32 << doublings)
            .min(self.retry_cap)
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// Turns committed responses into deliveries and delivers them. Every replica runs one;
/// the database decides which replica sends what.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    settings: DeliverySettings,
    /// This replica's name on its claims: random, so two processes never share one.
    owner: String,
}

impl Dispatcher {
    /// A dispatcher over `store`.
    pub fn new(store: Store, settings: DeliverySettings) -> anyhow::Result<Self> {
        Ok(Dispatcher {
            store,
            settings,
            owner: hex::encode(random_bytes::<8>()?),
        })
    }

    /// Runs until the process stops: scans and delivers once per poll interval, logging
    /// what fails and carrying on.
    pub async fn run(self) {
        let mut pruned_at: Option<std::time::Instant> = None;
        loop {
            if pruned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
                pruned_at = Some(std::time::Instant::now());
                if let Err(error) = self.prune().await {
                    tracing::warn!("pruning the webhook delivery log failed: {error:#}");
                }
            }
            if let Err(error) = self.scan().await {
                tracing::warn!("scanning responses for webhooks failed: {error:#}");
            }
            match self.deliver_due().await {
                // More may be due at once: go on without waiting.
                Ok(attempted) if attempted > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!("delivering webhooks failed: {error:#}"),
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
    }

    /// Deletes the deliveries finished longer ago than the log keeps them; returns how many.
    /// `run` does it hourly.
    pub async fn prune(&self) -> anyhow::Result<u64> {
        let before = now_millis() - self.settings.keep_log.as_millis() as i64;
        self.store.prune_deliveries(before).await
    }

    /// Writes the deliveries of every identified response committed since the last scan;
    /// returns how many deliveries it wrote (or found written).
    pub async fn scan(&self) -> anyhow::Result<usize> {
        let versions = self.store.versions_to_scan().await?;
        if versions.is_empty() {
            return Ok(0);
        }
        let webhooks: Vec<ActiveWebhook> = self
            .store
            .webhooks()
            .await?
            .into_iter()
            .map(ActiveWebhook::try_from)
            .collect::<anyhow::Result<_>>()?;
        let mut written = 0;
        for version in versions {
            let mut deliveries = Vec::new();
            // Without a webhook there is nothing to read: the mark just moves on.
            if !webhooks.is_empty() {
                let survey_version = u32::try_from(version.survey_version)?;
                let survey = self
                    .store
                    .survey(&version.survey_id, Some(survey_version))
                    .await?
                    .with_context(|| {
                        format!("no survey {} version {}", version.survey_id, survey_version)
                    })?;
                for response in self.store.responses_to_scan(&version).await? {
                    let reasons = conversation_reasons(survey.scorer(), &response.answers);
                    for webhook in &webhooks {
                        deliveries.extend(deliveries_of(webhook, &version, &response, &reasons)?);
                    }
                }
            }
            self.store.record_scan(&version, &deliveries).await?;
            written += deliveries.len();
        }
        Ok(written)
    }

    /// Claims the deliveries due now and makes one attempt at each; returns how many.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let now = now_millis();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let claimed = self
            .store
            .claim_deliveries(&self.owner, now, lease_until, 16)
            .await?;
        let attempted = claimed.len();
        for delivery in claimed {
            let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
            let outcome = match self.post(&delivery).await {
                Ok(http_status) => AttemptOutcome::Delivered { http_status },
                Err((http_status, error)) => {
                    let attempts = attempts.saturating_add(1);
                    AttemptOutcome::Failed {
                        http_status,
                        error,
                        next_attempt_at: (attempts < self.settings.max_attempts).then(|| {
                            now_millis() + self.settings.backoff(attempts).as_millis() as i64
                        }),
                    }
                }
            };
            if !self
                .store
                .record_attempt(delivery.id, &self.owner, &outcome)
                .await?
            {
                tracing::warn!(
                    delivery = delivery.id,
                    "a webhook attempt outlived its claim; another replica retries it"
                );
            }
        }
        Ok(attempted)
    }

    /// Posts one delivery, signed now; the receiver's 2xx status, or its status (if any)
    /// and why the attempt failed.
    async fn post(&self, delivery: &ClaimedDelivery) -> Result<u16, (Option<u16>, String)> {
        let signature = signature(&delivery.secret, now_millis() / 1000, &delivery.body)
            .map_err(|error| (None, format!("{error:#}")))?;
        let (url, body, event, event_id) = (
            delivery.url.clone(),
            delivery.body.clone(),
            delivery.event.clone(),
            delivery.event_id.clone(),
        );
        let timeout = self.settings.request_timeout;
        let sent = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent("rapport-webhooks")
                .build()
                .into();
            agent
                .post(&url)
                .header("Content-Type", "application/json")
                .header(EVENT_HEADER, &event)
                .header(DELIVERY_HEADER, &event_id)
                .header(SIGNATURE_HEADER, &signature)
                .send(body.as_bytes())
                .map(|response| response.status().as_u16())
        })
        .await;
        match sent {
            Ok(Ok(status)) if (200..300).contains(&status) => Ok(status),
            Ok(Ok(status)) => Err((Some(status), format!("the receiver answered {status}"))),
            // The log is shown on the dashboard, where a URL's path (a Slack webhook's is a
            // credential) must not appear: an error that repeats the URL names its host only.
            Ok(Err(error)) => Err((
                None,
                error
                    .to_string()
                    .replace(&delivery.url, &url_host(&delivery.url)),
            )),
            Err(error) => Err((None, format!("the attempt stopped: {error}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_does_not() {
        let secret = "00".repeat(32);
        let header = signature(&secret, 1_700_000_000, "{\"a\":1}").unwrap();
        assert!(verify_signature(
            &secret,
            &header,
            "{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            &secret,
            &header,
            "{\"a\":2}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            &"11".repeat(32),
            &header,
            "{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            &secret,
            &header,
            "{\"a\":1}",
            1_700_000_400,
            300
        ));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let settings = DeliverySettings::default();
        let waits: Vec<u64> = (1..=9)
            .map(|attempts| settings.backoff(attempts).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn urls_are_checked_and_hosts_shown_without_their_path() {
        assert!(WebhookUrl::new("https://hooks.slack.com/services/T/B/x").is_ok());
        assert_eq!(
            WebhookUrl::new("ftp://example.com"),
            Err(WebhookUrlError::Scheme)
        );
        assert_eq!(
            WebhookUrl::new("https://user:pw@example.com/"),
            Err(WebhookUrlError::Unsafe)
        );
        assert_eq!(WebhookUrl::new("https:///x"), Err(WebhookUrlError::NoHost));
        assert_eq!(
            url_host("https://hooks.slack.com/services/T/B/x"),
            "https://hooks.slack.com"
        );
    }

    #[test]
    fn a_protected_row_gives_no_delivery_even_if_the_store_handed_it_over() {
        let webhook = ActiveWebhook::try_from(WebhookRow {
            id: "wh_1".to_owned(),
            url: "https://example.com/hook".to_owned(),
            format: "json".to_owned(),
            events: "[\"response.received\", \"close_the_loop.triggered\"]".to_owned(),
            survey_id: None,
            label: None,
            created_at: "2026-12-01T00:00:00.000Z".to_owned(),
            created_at_millis: 0,
            created_by: "command line".to_owned(),
        })
        .unwrap();
        let version = VersionToScan {
            survey_id: "client-portal".to_owned(),
            survey_version: 1,
            scanned: 0,
            revision: 1,
        };
        let mut response = ScannedResponse {
            response_id: "r".to_owned(),
            confidentiality: ConfidentialityChoice::Identified,
            account: Some("northwind".to_owned()),
            matter: None,
            wave: None,
            answers: Default::default(),
            score: Default::default(),
            received_at: "2026-12-01T00:00:01.000Z".to_owned(),
            received_at_millis: 1000,
        };
        let reasons = [Reason::Detractor];
        let identified = deliveries_of(&webhook, &version, &response, &reasons).unwrap();
        assert_eq!(identified.len(), 2);
        for protected in [
            ConfidentialityChoice::Confidential,
            ConfidentialityChoice::Anonymous,
        ] {
            response.confidentiality = protected;
            assert!(
                deliveries_of(&webhook, &version, &response, &reasons)
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[test]
    fn slack_text_escapes_its_control_characters() {
        let event = WebhookEvent {
            event: "response.received",
            event_id: "r/response.received".to_owned(),
            survey: EventSurvey {
                id: "client-portal".to_owned(),
                version: 1,
            },
            response: EventResponse {
                id: "r".to_owned(),
                received_at: "2026-12-01T00:00:00.000Z".to_owned(),
                confidentiality: "identified",
                account: Some("<!channel> & co".to_owned()),
                matter: None,
                wave: None,
                nps: Some(9),
                nps_category: Some(NpsCategory::Promoter),
                crq: None,
                relationship: None,
            },
            reasons: None,
        };
        assert_eq!(
            slack_text(&event),
            "New identified response to client-portal from account &lt;!channel&gt; &amp; co: 9/10, promoter."
        );
    }
}
