//! Webhooks, their deliveries and how far responses were scanned for them.
//!
//! The outbox of webhook events is the `responses` table itself, read in revision order
//! (`report_revisions`): a response is committed before it is acknowledged, and a scan reads
//! the rows after the revision it reached last ([`Store::responses_to_scan`]), so an event
//! is never lost to a crash between the commit and the delivery. A scan writes its
//! deliveries and moves its mark in one transaction ([`Store::record_scan`]); a delivery is
//! unique per webhook and event, so replicas scanning the same rows write it once. Replicas
//! claim due deliveries with a lease ([`Store::claim_deliveries`]), so each attempt is made
//! by one of them, and a crashed replica's claim runs out for another to take over.
//!
//! This module reads only identified responses for webhooks: protected (confidential or
//! anonymous) rows are never selected, so no event can be built from them.

use rapport_scoring::score::ResponseScore;
use rapport_scoring::validate::Answers;

use rapport_scoring::wire::ConfidentialityChoice;

use super::audit::AUDIT_INSERT;
use super::{Store, now, parse_confidentiality};

/// A stored webhook, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRow {
    /// Its id, `wh_` and 16 hex digits.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// `json` or `slack`.
    pub format: String,
    /// The events it receives, as a JSON array of their names.
    pub events: String,
    /// Only this survey's responses; `None` for every survey.
    pub survey_id: Option<String>,
    /// A note saying what it is for.
    pub label: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_millis: i64,
    /// Who created it.
    pub created_by: String,
}

/// A webhook as it is added.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Its id.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// `json` or `slack`.
    pub format: String,
    /// The events it receives, as a JSON array of their names.
    pub events: String,
    /// Only this survey's responses; `None` for every survey.
    pub survey_id: Option<String>,
    /// The key of its signatures, 64 hex digits.
    pub secret: String,
    /// A note saying what it is for.
    pub label: Option<String>,
    /// Who creates it, for the audit log.
    pub created_by: String,
    /// The host of its URL, for the audit log.
    pub url_host: String,
}

/// An identified response read for webhooks.
#[derive(Debug, Clone)]
pub struct ScannedResponse {
    /// Response id.
    pub response_id: String,
    /// As stored: always identified, which the event builder checks again.
    pub confidentiality: ConfidentialityChoice,
    /// Account.
    pub account: Option<String>,
    /// Matter.
    pub matter: Option<String>,
    /// Wave.
    pub wave: Option<String>,
    /// Typed answers.
    pub answers: Answers,
    /// The server's score.
    pub score: ResponseScore,
    /// When the server received it.
    pub received_at: String,
    /// When the server received it, in milliseconds since the Unix epoch.
    pub received_at_millis: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct Scanned {
    response_id: String,
    confidentiality: String,
    account: Option<String>,
    matter: Option<String>,
    wave: Option<String>,
    answers: String,
    score: String,
    received_at: String,
}

/// A survey version with responses not yet scanned for webhooks.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionToScan {
    /// The survey.
    pub survey_id: String,
    /// Its version.
    pub survey_version: i64,
    /// The revision scanned so far.
    pub scanned: i64,
    /// The revision committed now.
    pub revision: i64,
}

/// A delivery written by a scan.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// The webhook.
    pub webhook_id: String,
    /// The event's id, unique per webhook.
    pub event_id: String,
    /// The event's name.
    pub event: String,
    /// The survey it is about.
    pub survey_id: String,
    /// What is posted.
    pub body: String,
}

/// A delivery claimed for an attempt, with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    /// The delivery.
    pub id: i64,
    /// The event's id.
    pub event_id: String,
    /// The event's name.
    pub event: String,
    /// What is posted.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Where it is posted.
    pub url: String,
    /// The key of its signature.
    pub secret: String,
}

/// A row of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    /// The delivery.
    pub id: i64,
    /// The webhook.
    pub webhook_id: String,
    /// The event's id.
    pub event_id: String,
    /// The event's name.
    pub event: String,
    /// The survey.
    pub survey_id: String,
    /// What is posted.
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was written.
    pub created_at: String,
    /// The next attempt, in milliseconds since the Unix epoch (meaningful while pending).
    pub next_attempt_at: i64,
    /// The HTTP status of the last attempt, when it got one.
    pub last_http_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered {
        /// Its status.
        http_status: u16,
    },
    /// It failed; try again at `next_attempt_at` (milliseconds), or give up when `None`.
    Failed {
        /// The receiver's status, when it answered.
        http_status: Option<u16>,
        /// What went wrong, without the body.
        error: String,
        /// When to try again; `None` to give up.
        next_attempt_at: Option<i64>,
    },
}

impl Store {
    /// Adds a webhook and records who added it, in one transaction.
    pub async fn add_webhook(&self, webhook: &NewWebhook) -> anyhow::Result<()> {
        let created = now();
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO webhooks (id, url, format, events, survey_id, secret, label, created_at, created_at_millis, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(&webhook.id)
                .bind(&webhook.url)
                .bind(&webhook.format)
                .bind(&webhook.events)
                .bind(&webhook.survey_id)
                .bind(&webhook.secret)
                .bind(&webhook.label)
                .bind(created.as_str())
                .bind(created.unix_millis())
                .bind(&webhook.created_by)
                .execute(&mut *tx)
                .await?;
            sqlx::query(AUDIT_INSERT)
                .bind(created.as_str())
                .bind("webhook created")
                .bind(audit_subject(&webhook.id, &webhook.url_host))
                .bind(&webhook.created_by)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Removes a webhook with its deliveries and records who removed it; returns whether
    /// there was one.
    pub async fn remove_webhook(
        &self,
        id: &str,
        url_host_of: impl Fn(&str) -> String,
        actor: &str,
    ) -> anyhow::Result<bool> {
        let at = now();
        let removed = on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let url: Option<String> =
                sqlx::query_scalar("DELETE FROM webhooks WHERE id = $1 RETURNING url")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(url) = &url {
                sqlx::query(AUDIT_INSERT)
                    .bind(at.as_str())
                    .bind("webhook removed")
                    .bind(audit_subject(id, &url_host_of(url)))
                    .bind(actor)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            url.is_some()
        });
        Ok(removed)
    }

    /// Every webhook, oldest first.
    pub async fn webhooks(&self) -> anyhow::Result<Vec<WebhookRow>> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "SELECT id, url, format, events, survey_id, label, created_at, created_at_millis, created_by FROM webhooks ORDER BY created_at_millis, id"
        )
        .fetch_all(pool)
        .await?
        }))
    }

    /// The survey versions whose committed revision is past what was scanned for webhooks.
    pub async fn versions_to_scan(&self) -> anyhow::Result<Vec<VersionToScan>> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "SELECT r.survey_id, r.survey_version, COALESCE(s.revision, 0) AS scanned, r.revision \
             FROM report_revisions r LEFT JOIN webhook_scans s ON s.survey_id = r.survey_id AND s.survey_version = r.survey_version \
             WHERE r.revision > COALESCE(s.revision, 0) ORDER BY r.survey_id, r.survey_version"
        )
        .fetch_all(pool)
        .await?
        }))
    }

    /// The identified responses of a version with a revision after `scanned` and up to
    /// `revision`, in the order they were committed. Protected responses are not read.
    pub async fn responses_to_scan(
        &self,
        version: &VersionToScan,
    ) -> anyhow::Result<Vec<ScannedResponse>> {
        let rows: Vec<Scanned> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "SELECT response_id, confidentiality, account, matter, wave, answers, score, received_at FROM responses \
             WHERE survey_id = $1 AND survey_version = $2 AND revision > $3 AND revision <= $4 AND confidentiality = 'identified' \
             ORDER BY revision, received_at, response_id"
        )
        .bind(&version.survey_id)
        .bind(version.survey_version)
        .bind(version.scanned)
        .bind(version.revision)
        .fetch_all(pool)
        .await?
        });
        rows.into_iter()
            .map(|row| {
                let received_at_millis =
                    rapport_scoring::wire::Timestamp::try_from(row.received_at.clone())
                        .map_err(|error| anyhow::anyhow!("stored received_at: {error}"))?
                        .unix_millis();
                Ok(ScannedResponse {
                    response_id: row.response_id,
                    confidentiality: parse_confidentiality(&row.confidentiality)?,
                    account: row.account,
                    matter: row.matter,
                    wave: row.wave,
                    answers: serde_json::from_str(&row.answers)?,
                    score: serde_json::from_str(&row.score)?,
                    received_at: row.received_at,
                    received_at_millis,
                })
            })
            .collect()
    }

    /// Writes the deliveries of a scan and moves the version's mark to `version.revision`,
    /// in one transaction. A delivery already written (by another replica's scan) is left
    /// as it is, and the mark only moves forward.
    pub async fn record_scan(
        &self,
        version: &VersionToScan,
        deliveries: &[NewDelivery],
    ) -> anyhow::Result<()> {
        let created = now();
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            for delivery in deliveries {
                sqlx::query("INSERT INTO webhook_deliveries (webhook_id, event_id, event, survey_id, body, status, attempts, created_at, next_attempt_at) \
                             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7) ON CONFLICT (webhook_id, event_id) DO NOTHING")
                    .bind(&delivery.webhook_id)
                    .bind(&delivery.event_id)
                    .bind(&delivery.event)
                    .bind(&delivery.survey_id)
                    .bind(&delivery.body)
                    .bind(created.as_str())
                    .bind(created.unix_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("INSERT INTO webhook_scans (survey_id, survey_version, revision) VALUES ($1, $2, $3) \
                         ON CONFLICT (survey_id, survey_version) DO UPDATE SET revision = excluded.revision WHERE webhook_scans.revision < excluded.revision")
                .bind(&version.survey_id)
                .bind(version.survey_version)
                .bind(version.revision)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Claims up to `limit` pending deliveries that are due at `now_millis` and not claimed
    /// by a lease still running, for `owner` until `lease_until`. The conditions are checked
    /// again on the row the update writes, so two replicas never both claim one delivery
    /// (on PostgreSQL the second update re-reads a row the first changed and skips it).
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<ClaimedDelivery>> {
        let claimed: Vec<i64> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
                          AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT $4) \
             AND status = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
             RETURNING id"
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now_millis)
        .bind(limit)
        .fetch_all(pool)
        .await?
        });
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut deliveries = Vec::with_capacity(claimed.len());
        for id in claimed {
            let delivery: Option<ClaimedDelivery> = on_pool!(&self.pool, |pool| {
                sqlx::query_as(
                "SELECT d.id, d.event_id, d.event, d.body, d.attempts, w.url, w.secret \
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1 AND d.lease_owner = $2"
            )
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await?
            });
            deliveries.extend(delivery);
        }
        Ok(deliveries)
    }

    /// Records an attempt at a delivery claimed by `owner`; nothing when the claim was lost
    /// (its lease ran out and another replica took it). Returns whether it was recorded.
    pub async fn record_attempt(
        &self,
        id: i64,
        owner: &str,
        outcome: &AttemptOutcome,
    ) -> anyhow::Result<bool> {
        let at = now();
        let (status, http_status, error, next_attempt_at, delivered_at) = match outcome {
            AttemptOutcome::Delivered { http_status } => (
                "delivered",
                Some(i64::from(*http_status)),
                None,
                at.unix_millis(),
                Some(at.as_str()),
            ),
            AttemptOutcome::Failed {
                http_status,
                error,
                next_attempt_at,
            } => (
                if next_attempt_at.is_some() {
                    "pending"
                } else {
                    "failed"
                },
                http_status.map(i64::from),
                Some(error.as_str()),
                next_attempt_at.unwrap_or(at.unix_millis()),
                None,
            ),
        };
        let updated = on_pool!(&self.pool, |pool| {
            sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_http_status = $2, last_error = $3, \
             next_attempt_at = $4, delivered_at = $5, last_attempt_at = $6, lease_owner = NULL, lease_until = NULL \
             WHERE id = $7 AND lease_owner = $8 AND status = 'pending'"
        )
        .bind(status)
        .bind(http_status)
        .bind(error)
        .bind(next_attempt_at)
        .bind(delivered_at)
        .bind(at.as_str())
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Deletes delivered and given-up deliveries whose last attempt was before
    /// `before_millis`; returns how many. Pending ones stay, however old.
    pub async fn prune_deliveries(&self, before_millis: i64) -> anyhow::Result<u64> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query(
            "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND next_attempt_at < $1"
        )
        .bind(before_millis)
        .execute(pool)
        .await?
        .rows_affected()
        }))
    }

    /// The newest `limit` deliveries, newest first.
    pub async fn webhook_deliveries(&self, limit: i64) -> anyhow::Result<Vec<DeliveryRow>> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(
            "SELECT id, webhook_id, event_id, event, survey_id, body, status, attempts, created_at, next_attempt_at, \
             last_http_status, last_error, last_attempt_at, delivered_at FROM webhook_deliveries ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
        }))
    }
}

/// How the audit log names a webhook: its id and the host it sends to, never its path,
/// which may itself be a secret.
fn audit_subject(id: &str, url_host: &str) -> String {
    format!("webhook {id} to {url_host}")
}
