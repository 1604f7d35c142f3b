//! The admin's webhook page: every webhook (its URL's scheme and host only, since the path
//! of a Slack webhook is itself a secret), the latest deliveries with their status,
//! attempts, last error and next attempt, and who added or removed a webhook.
//!
//! Bodies are not shown: they are in the database, and a delivery's event id names the
//! response it is about.

use maud::html;
use rapport_scoring::wire::Timestamp;

use super::DASHBOARD_TITLE;
use crate::dashboard::html::{MISSING, page};
use crate::store::{DeliveryRow, WebhookAuditRow, WebhookRow};
use crate::webhooks::url_host;

/// The webhook page.
pub(crate) fn webhooks(
    webhooks: &[WebhookRow],
    deliveries: &[DeliveryRow],
    audit: &[WebhookAuditRow],
) -> String {
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
                "Add and remove webhooks with " code { "rapport webhook" } "."
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
                            th scope="col" { "Created" }
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
                                }
                            }
                        }
                    }
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
            section id="webhook-audit" {
                h2 { "Changes" }
                @if audit.is_empty() {
                    p { "No change yet." }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Webhook" }
                            th scope="col" { "Receiver" } th scope="col" { "Who" }
                        } }
                        tbody {
                            @for entry in audit {
                                tr {
                                    td { (entry.at) } td { (entry.action) } td { code { (entry.webhook_id) } }
                                    td { (entry.url_host) } td { (entry.actor) }
                                }
                            }
                        }
                    }
                }
            }
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
