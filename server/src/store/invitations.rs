//! Invitations: recorded when sent, so that a link is honoured and completion can be
//! counted, and answered by the response that the writers record against them
//! ([`super::responses`]).

use rapport_scoring::completion::InvitationRecord;

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
    /// Records an invitation so that its link is honoured and completion can be counted.
    pub async fn add_invitation(
        &self,
        invitation: &Invitation,
        contact_key: &str,
        sealed_contact: &[u8],
    ) -> anyhow::Result<()> {
        on_pool!(&self.pool, |pool| {
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
            .bind(now().as_str())
            .execute(pool)
            .await?
            .rows_affected()
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

    /// Every recorded invitation of a survey with the choice made in its answer, if any, and
    /// that answer's response id and survey version.
    pub async fn invitation_records(
        &self,
        survey_id: &str,
    ) -> anyhow::Result<Vec<StoredInvitation>> {
        let rows: Vec<InvitationRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT i.account, i.wave, i.contact_key, r.confidentiality, r.response_id, r.survey_version FROM invitations i \
                 LEFT JOIN responses r ON r.response_id = i.response_id WHERE i.survey_id = $1 ORDER BY i.created_at, i.invitation_id",
            )
            .bind(survey_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(StoredInvitation::try_from).collect()
    }
}
