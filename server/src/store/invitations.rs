//! Invitations: recorded when sent, so that a link is honoured and completion can be
//! counted, and answered by the response that the writers record against them
//! ([`super::responses`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rapport_scoring::completion::InvitationRecord;

use super::display_names::{NameKind, UPSERT_DISPLAY_NAME};
use super::{Store, now, parse_confidentiality, sql};
use crate::invitation::Invitation;

/// A recorded invitation and, once answered, its answer's response id and survey version.
#[derive(Debug, Clone)]
pub struct StoredInvitation {
    /// What completion rates count.
    pub record: InvitationRecord,
    /// The response that answers it, and its survey version.
    pub answer: Option<(String, u32)>,
}

/// A recorded invitation as selected, with its answer's choice, id and version, if any.
#[derive(Debug, Clone, sqlx::FromRow)]
struct InvitationRow {
    account: String,
    matter: Option<String>,
    wave: Option<String>,
    contact_key: String,
    confidentiality: Option<String>,
    response_id: Option<String>,
    survey_version: Option<i64>,
}

impl TryFrom<InvitationRow> for StoredInvitation {
    type Error = anyhow::Error;

    fn try_from(row: InvitationRow) -> anyhow::Result<Self> {
        Ok(StoredInvitation {
            record: InvitationRecord {
                account: row.account,
                matter: row.matter,
                wave: row.wave,
                contact_key: row.contact_key,
                answered: row
                    .confidentiality
                    .as_deref()
                    .map(parse_confidentiality)
                    .transpose()?,
            },
            answer: match (row.response_id, row.survey_version) {
                (Some(response_id), Some(version)) => Some((response_id, u32::try_from(version)?)),
                _ => None,
            },
        })
    }
}

impl Store {
    /// Records an invitation so that its link is honoured and completion can be counted, and
    /// in the same transaction the display names it gives its account and matter, replacing
    /// earlier ones (the latest invitation's names win).
    pub async fn add_invitation(
        &self,
        invitation: &Invitation,
        contact_key: &str,
        sealed_contact: &[u8],
    ) -> anyhow::Result<()> {
        let created_at = now();
        let presentation = &invitation.presentation;
        let names = [
            (
                NameKind::Account,
                Some(&invitation.account),
                &presentation.account_name,
            ),
            (
                NameKind::Matter,
                invitation.matter.as_ref(),
                &presentation.matter_name,
            ),
        ];
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            sqlx::query(
                "INSERT INTO invitations (invitation_id, survey_id, contact_key, sealed_contact, account, matter, wave, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&invitation.id)
            .bind(&invitation.survey)
            .bind(contact_key)
            .bind(sealed_contact)
            .bind(&invitation.account)
            .bind(&invitation.matter)
            .bind(&invitation.wave)
            .bind(invitation.expires)
            .bind(created_at.as_str())
            .execute(&mut *transaction)
            .await?;
            for (kind, id, name) in &names {
                if let (Some(id), Some(name)) = (id, name) {
                    sqlx::query(UPSERT_DISPLAY_NAME)
                        .bind(kind.as_str())
                        .bind(id.as_str())
                        .bind(name.as_str())
                        .bind(created_at.as_str())
                        .execute(&mut *transaction)
                        .await?;
                }
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// Whether an invitation is recorded, and the response currently answering it.
    pub async fn invitation_state(
        &self,
        invitation_id: &str,
    ) -> anyhow::Result<Option<Option<String>>> {
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(sql::INVITATION_ANSWER)
                .bind(invitation_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Whether the stored answer `response_id` stands in a published batch, with the batch
    /// sizes of [`Store::publication_batch_sizes`]: then answering its invitation again is refused.
    pub async fn answer_published(
        &self,
        response_id: &str,
        batch_sizes: &std::collections::BTreeMap<u32, u32>,
    ) -> anyhow::Result<bool> {
        let place: super::responses::AnswerPlace = on_pool!(&self.pool, |pool| {
            sqlx::query_as(sql::EARLIER_ANSWER_PLACE)
                .bind(response_id)
                .fetch_one(pool)
                .await?
        });
        Ok(place.published_in(batch_sizes))
    }

    /// Every recorded invitation of a survey with the choice made in its answer, if any, and
    /// that answer's response id and survey version, in the order they were made.
    ///
    /// Kept in memory per survey (see [`InvitationCache`]): each call reads the survey's
    /// invitation counter, one row, and reads the invitations again only if it moved.
    pub async fn invitation_records(
        &self,
        survey_id: &str,
    ) -> anyhow::Result<Arc<[StoredInvitation]>> {
        // The counter is read before the rows: rows newer than the counter they are kept
        // with are read again on the next call, never the other way round.
        let revision: i64 = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar("SELECT revision FROM invitation_revisions WHERE survey_id = $1")
                .bind(survey_id)
                .fetch_optional(pool)
                .await?
                .unwrap_or(0)
        });
        if let Some(held) = self.invitations.get(survey_id, revision)? {
            return Ok(held);
        }
        let rows: Vec<InvitationRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT i.account, i.matter, i.wave, i.contact_key, r.confidentiality, r.response_id, r.survey_version FROM invitations i \
                 LEFT JOIN responses r ON r.response_id = i.response_id WHERE i.survey_id = $1 ORDER BY i.created_at, i.invitation_id",
            )
            .bind(survey_id)
            .fetch_all(pool)
            .await?
        });
        let records: Arc<[StoredInvitation]> = rows
            .into_iter()
            .map(StoredInvitation::try_from)
            .collect::<anyhow::Result<_>>()?;
        self.invitations
            .keep(survey_id, revision, Arc::clone(&records))?;
        Ok(records)
    }
}

/// The invitations of the surveys last asked about, each with the survey's invitation
/// counter (`invitation_revisions`, which triggers move on every change completion can see)
/// at the time they were read. A cache only: a replica without it gives the same figures.
#[derive(Debug, Clone, Default)]
pub(super) struct InvitationCache {
    slots: Arc<Mutex<HashMap<String, HeldInvitations>>>,
}

/// A survey's invitations as held, with the counter they were read at.
#[derive(Debug, Clone)]
struct HeldInvitations {
    revision: i64,
    records: Arc<[StoredInvitation]>,
}

impl InvitationCache {
    /// How many surveys' invitations are kept.
    const SURVEYS: usize = 8;

    /// The invitations held for `survey_id`, if they were read at `revision`.
    fn get(
        &self,
        survey_id: &str,
        revision: i64,
    ) -> anyhow::Result<Option<Arc<[StoredInvitation]>>> {
        let slots = self
            .slots
            .lock()
            .map_err(|_| anyhow::anyhow!("invitation cache poisoned"))?;
        Ok(slots
            .get(survey_id)
            .filter(|held| held.revision == revision)
            .map(|held| Arc::clone(&held.records)))
    }

    /// Keeps `records`, read at `revision`, for `survey_id`, in place of what was held.
    fn keep(
        &self,
        survey_id: &str,
        revision: i64,
        records: Arc<[StoredInvitation]>,
    ) -> anyhow::Result<()> {
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| anyhow::anyhow!("invitation cache poisoned"))?;
        if slots.len() >= Self::SURVEYS && !slots.contains_key(survey_id) {
            let dropped = slots.keys().next().cloned();
            if let Some(dropped) = dropped {
                slots.remove(&dropped);
            }
        }
        slots.insert(survey_id.to_owned(), HeldInvitations { revision, records });
        Ok(())
    }
}
