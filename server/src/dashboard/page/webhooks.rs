//! The admin's webhook page: every webhook (its URL's scheme and host only, since the path
//! of a Slack webhook is itself a secret) with a form to remove it, a form to add one, the
//! latest deliveries with their status, attempts, last error and next attempt, and who
//! added or removed a webhook. A webhook just added is shown with its secret, once.
//!
//! Bodies are not shown: they are in the database, and a delivery's event id names the
//! response it is about.

use maud::html;
use rapport_scoring::wire::Timestamp;

use super::DASHBOARD_TITLE;
use crate::dashboard::html::{MISSING, page, url_encode};
use crate::store::{AuditRow, DeliveryRow, SurveySummary, WebhookRow};
use crate::webhooks::{AddedWebhook, url_host};

/// What the webhook page is drawn from.
#[derive(Debug)]
pub(crate) struct WebhookPage<'a> {
    /// Every webhook.
    pub(crate) webhooks: &'a [WebhookRow],
    /// The latest deliveries, newest first.
    pub(crate) deliveries: &'a [DeliveryRow],
    /// The latest changes, newest first.
    pub(crate) audit: &'a [AuditRow],
    /// Every survey, for the form's choice.
    pub(crate) surveys: &'a [SurveySummary],
    /// The webhook this answer added, with its secret.
    pub(crate) added: Option<&'a AddedWebhook>,
}

/// The webhook page.
pub(crate) fn webhooks(input: &WebhookPage<'_>) -> String {
    let WebhookPage {
        webhooks,
        deliveries,
        audit,
        surveys,
        added,
    } = *input;
    let body = html! {
        header class="top" {
            p class="brand" { "Rapport " span { "webhooks" } }
            div class="actions" {
                a class="button secondary" href="/dashboard" { "Back to the results" }
            }
        }
        main class="dashboard" {
            h1 { "Webhooks" }
            p class="meta" {
                "Posted for new identified responses only: confidential and anonymous answers never produce a webhook. "
                "Webhooks can also be managed with " code { "rapport webhook" } "."
            }
            @if let Some(added) = added {
                section id="webhook-added" class="notice" role="status" {
                    h2 { "Webhook " code { (added.id) } " added" }
                    p { "Its signing secret is shown this once. Give it to the receiver, which checks the " code { "Rapport-Signature" } " header with it (docs/WEBHOOKS.md):" }
                    p { code id="webhook-secret" { (added.secret) } }
                }
            }
            section id="webhooks" {
                h2 { "Receivers" }
                @if webhooks.is_empty() {
                    p { "No webhook yet." }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { "Id" } th scope="col" { "Receiver" } th scope="col" { "Format" }
                            th scope="col" { "Events" } th scope="col" { "Survey" } th scope="col" { "Label" }
                            th scope="col" { "Created" } th scope="col" { "Action" }
                        } }
                        tbody {
                            @for webhook in webhooks {
                                tr {
                                    td { code { (webhook.id) } }
                                    td { (url_host(&webhook.url)) }
                                    td { (webhook.format) }
                                    td { (events_text(&webhook.events)) }
                                    td { (webhook.survey_id.as_deref().unwrap_or("every survey")) }
                                    td { (webhook.label.as_deref().unwrap_or(MISSING)) }
                                    td { (webhook.created_at) " by " (webhook.created_by) }
                                    td {
                                        form method="post" action={ "/dashboard/webhooks/" (url_encode(&webhook.id)) "/remove" } {
                                            button type="submit" class="secondary" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section id="add-webhook" {
                h2 { "Add a webhook" }
                form method="post" action="/dashboard/webhooks" class="webhook-form" {
                    p {
                        label for="webhook-url" { "Receiver URL" }
                        input id="webhook-url" name="url" type="url" required placeholder="https://hooks.slack.com/services/…";
                    }
                    p {
                        label for="webhook-format" { "Format" }
                        select id="webhook-format" name="format" {
                            option value="json" { "JSON, signed" }
                            option value="slack" { "Slack message" }
                        }
                    }
                    fieldset {
                        legend { "Events" }
                        label { input type="checkbox" name="response_received" value="on" checked; " Every new identified response" }
                        label { input type="checkbox" name="close_the_loop" value="on" checked; " Close-the-loop triggers" }
                    }
                    p {
                        label for="webhook-survey" { "Survey" }
                        select id="webhook-survey" name="survey" {
                            option value="" { "Every survey" }
                            @for survey in surveys {
                                option value=(survey.id) { (survey.title) }
                            }
                        }
                    }
                    p {
                        label for="webhook-label" { "Label" }
                        input id="webhook-label" name="label" type="text" placeholder="#cx-alerts";
                    }
                    button type="submit" { "Add webhook" }
                }
            }
            section id="deliveries" {
                h2 { "Delivery log" }
                @if deliveries.is_empty() {
                    p { "No delivery yet." }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { "Webhook" } th scope="col" { "Event" } th scope="col" { "Status" }
                            th scope="col" { "Attempts" } th scope="col" { "Last attempt" } th scope="col" { "Last error" }
                            th scope="col" { "Next attempt" }
                        } }
                        tbody {
                            @for delivery in deliveries {
                                tr class=(format!("delivery-{}", delivery.status)) {
                                    td { code { (delivery.webhook_id) } }
                                    td { (delivery.event) br; code { (delivery.event_id) } }
                                    td { (delivery.status) }
                                    td { (delivery.attempts) }
                                    td {
                                        (delivery.last_attempt_at.as_deref().unwrap_or(MISSING))
                                        @if let Some(status) = delivery.last_http_status { " (HTTP " (status) ")" }
                                    }
                                    td { (delivery.last_error.as_deref().unwrap_or(MISSING)) }
                                    td {
                                        @if delivery.status == "pending" {
                                            (Timestamp::from_unix_millis(delivery.next_attempt_at).as_str())
                                        } @else { (MISSING) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (super::shared::audit_table("Changes to webhooks", "No webhook has been added or removed yet.", audit))
        }
    };
    page(&format!("Webhooks · {DASHBOARD_TITLE}"), body).into_string()
}

/// The stored JSON array of event names as a list.
fn events_text(stored: &str) -> String {
    serde_json::from_str::<Vec<String>>(stored)
        .map(|events| events.join(", "))
        .unwrap_or_else(|_| stored.to_owned())
}
