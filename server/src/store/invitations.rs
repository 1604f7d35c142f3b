//! Invitations: recorded when sent, so that a link is honoured and completion can be
//! counted, and answered by the response that the writers record against them
//! ([`super::responses`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rapport_scoring::completion::InvitationRecord;

use super::audit::AUDIT_INSERT;
use super::display_names::{NameKind, UPSERT_DISPLAY_NAME};
use super::{Store, now, parse_confidentiality, sql};
use crate::invitation::{Invitation, Language};

/// An invitation's state as the programme lead sees it, decided in SQL from its answer, its
/// first lookup by the landing page and its expiry (`$2`, seconds): answered wins over
/// expired, and expired over opened.
const STATE_SQL: &str = "CASE WHEN response_id IS NOT NULL THEN 'answered' \
     WHEN expires_at <= $2 THEN 'expired' \
     WHEN opened_at IS NOT NULL THEN 'opened' ELSE 'created' END";

/// Where an invitation stands, for the programme lead. "Answered" says only that an answer
/// exists, never which one or what it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// Made, and its link not yet opened in a browser.
    Created,
    /// Its link was opened on the landing page, and not answered.
    Opened,
    /// Answered (the answer itself is not shown).
    Answered,
    /// Past its expiry, unanswered.
    Expired,
}

impl InvitationState {
    /// Every state, in the order they are listed.
    pub const ALL: [InvitationState; 4] = [
        InvitationState::Created,
        InvitationState::Opened,
        InvitationState::Answered,
        InvitationState::Expired,
    ];

    /// The state in one lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Created => "created",
            InvitationState::Opened => "opened",
            InvitationState::Answered => "answered",
            InvitationState::Expired => "expired",
        }
    }

    fn parse(text: &str) -> anyhow::Result<InvitationState> {
        InvitationState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| anyhow::anyhow!("unknown invitation state {text:?}"))
    }
}

/// An invitation to record: what it says, and its contact sealed and keyed.
#[derive(Debug)]
pub struct NewInvitation<'a> {
    /// The invitation.
    pub invitation: &'a Invitation,
    /// The keyed hash of the contact's email.
    pub contact_key: &'a str,
    /// The contact, sealed with the invitation id as associated data.
    pub sealed_contact: &'a [u8],
}

/// What is done to invitations, for the invitation audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationAction {
    /// A batch of invitations made from a file of contacts.
    Made,
    /// A link replaced by a new one.
    Resent,
}

impl InvitationAction {
    /// The stored words.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationAction::Made => "invitations made",
            InvitationAction::Resent => "invitation resent",
        }
    }
}

/// One entry of the invitation audit: what was done, to what, and by whom (never a link).
#[derive(Debug)]
pub struct InvitationAudit<'a> {
    /// What was done.
    pub action: InvitationAction,
    /// The survey and how many, or the invitation replaced; never a contact.
    pub subject: &'a str,
    /// Who did it: a token's label and role, or the command line.
    pub actor: &'a str,
}

/// One invitation on the programme lead's list; the contact is still sealed.
#[derive(Debug, Clone)]
pub struct InvitationListing {
    /// The invitation id.
    pub invitation_id: String,
    /// The contact, sealed with the invitation id as associated data.
    pub sealed_contact: Vec<u8>,
    /// The client account.
    pub account: String,
    /// The matter, if any.
    pub matter: Option<String>,
    /// The wave, if any.
    pub wave: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it expires, seconds since the Unix epoch.
    pub expires_at: i64,
    /// When its link was first opened (RFC 3339).
    pub opened_at: Option<String>,
    /// Its state.
    pub state: InvitationState,
}

#[derive(Debug, sqlx::FromRow)]
struct ListingRow {
    invitation_id: String,
    sealed_contact: Vec<u8>,
    account: String,
    matter: Option<String>,
    wave: Option<String>,
    created_at: String,
    expires_at: i64,
    opened_at: Option<String>,
    state: String,
}

impl TryFrom<ListingRow> for InvitationListing {
    type Error = anyhow::Error;

    fn try_from(row: ListingRow) -> anyhow::Result<Self> {
        Ok(InvitationListing {
            state: InvitationState::parse(&row.state)?,
            invitation_id: row.invitation_id,
            sealed_contact: row.sealed_contact,
            account: row.account,
            matter: row.matter,
            wave: row.wave,
            created_at: row.created_at,
            expires_at: row.expires_at,
            opened_at: row.opened_at,
        })
    }
}

/// What a resend copies from the invitation it replaces.
#[derive(Debug, Clone)]
pub struct ResendSource {
    /// The invitation replaced.
    pub invitation_id: String,
    /// Its contact, sealed with its id as associated data.
    pub sealed_contact: Vec<u8>,
    /// The keyed hash of the contact's email, which the new invitation keeps.
    pub contact_key: String,
    /// The client account.
    pub account: String,
    /// The matter, if any.
    pub matter: Option<String>,
    /// The wave, if any.
    pub wave: Option<String>,
    /// The firm named on the landing page, if it was recorded.
    pub firm: Option<String>,
    /// The language, if it was recorded.
    pub locale: Option<Language>,
    /// Its state now.
    pub state: InvitationState,
}

#[derive(Debug, sqlx::FromRow)]
struct ResendRow {
    invitation_id: String,
    sealed_contact: Vec<u8>,
    contact_key: String,
    account: String,
    matter: Option<String>,
    wave: Option<String>,
    firm: Option<String>,
    locale: Option<String>,
    state: String,
}

impl TryFrom<ResendRow> for ResendSource {
    type Error = anyhow::Error;

    fn try_from(row: ResendRow) -> anyhow::Result<Self> {
        Ok(ResendSource {
            state: InvitationState::parse(&row.state)?,
            locale: row.locale.as_deref().map(str::parse).transpose()?,
            invitation_id: row.invitation_id,
            sealed_contact: row.sealed_contact,
            contact_key: row.contact_key,
            account: row.account,
            matter: row.matter,
            wave: row.wave,
            firm: row.firm,
        })
    }
}

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
        let new = NewInvitation {
            invitation,
            contact_key,
            sealed_contact,
        };
        self.add_invitations(std::slice::from_ref(&new), None, None)
            .await?;
        Ok(())
    }

    /// Records every invitation of `batch` as [`Store::add_invitation`] does, all in one
    /// transaction, so that a failure stores none of them. `replacing` names an invitation
    /// whose link the first of `batch` replaces (a resend): it is marked replaced in the same
    /// transaction, and only if it is still current and unanswered; otherwise nothing is
    /// stored and the answer is `false`. `audit` is recorded in the same transaction.
    pub async fn add_invitations(
        &self,
        batch: &[NewInvitation<'_>],
        replacing: Option<&str>,
        audit: Option<&InvitationAudit<'_>>,
    ) -> anyhow::Result<bool> {
        let created_at = now();
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            if let (Some(old), Some(first)) = (replacing, batch.first()) {
                let marked = sqlx::query(
                    "UPDATE invitations SET replaced_by = $1 WHERE invitation_id = $2 \
                     AND replaced_by IS NULL AND response_id IS NULL",
                )
                .bind(&first.invitation.id)
                .bind(old)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if marked != 1 {
                    transaction.rollback().await?;
                    return Ok(false);
                }
            }
            for new in batch {
                let invitation = new.invitation;
                let presentation = &invitation.presentation;
                sqlx::query(
                    "INSERT INTO invitations (invitation_id, survey_id, contact_key, sealed_contact, account, matter, wave, expires_at, created_at, firm, locale) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&invitation.id)
                .bind(&invitation.survey)
                .bind(new.contact_key)
                .bind(new.sealed_contact)
                .bind(&invitation.account)
                .bind(&invitation.matter)
                .bind(&invitation.wave)
                .bind(invitation.expires)
                .bind(created_at.as_str())
                .bind(&invitation.firm)
                .bind(presentation.locale.map(|locale| locale.as_str()))
                .execute(&mut *transaction)
                .await?;
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
            }
            if let Some(audit) = audit {
                sqlx::query(AUDIT_INSERT)
                    .bind(created_at.as_str())
                    .bind(audit.action.as_str())
                    .bind(audit.subject)
                    .bind(audit.actor)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
        });
        Ok(true)
    }

    /// Records that the landing page looked the invitation up, the first time only.
    pub async fn mark_invitation_opened(&self, invitation_id: &str) -> anyhow::Result<()> {
        let at = now();
        on_pool!(&self.pool, |pool| {
            sqlx::query(
                "UPDATE invitations SET opened_at = $1 WHERE invitation_id = $2 AND opened_at IS NULL",
            )
            .bind(at.as_str())
            .bind(invitation_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Whether the invitation was replaced by a resend: then its link no longer works.
    pub async fn invitation_replaced(&self, invitation_id: &str) -> anyhow::Result<bool> {
        let replaced: Option<Option<String>> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar("SELECT replaced_by FROM invitations WHERE invitation_id = $1")
                .bind(invitation_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(matches!(replaced, Some(Some(_))))
    }

    /// How many current invitations of a survey are in each state at `now` (seconds), in
    /// the order of [`InvitationState::ALL`]. Replaced invitations are not counted: their
    /// replacement is.
    pub async fn invitation_state_counts(
        &self,
        survey_id: &str,
        now: i64,
    ) -> anyhow::Result<[u64; 4]> {
        let rows: Vec<(String, i64)> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&format!(
                "SELECT {STATE_SQL} AS state, COUNT(*) FROM invitations \
                 WHERE survey_id = $1 AND replaced_by IS NULL GROUP BY 1"
            ))
            .bind(survey_id)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        let mut counts = [0u64; 4];
        for (state, count) in rows {
            let state = InvitationState::parse(&state)?;
            counts[state as usize] = u64::try_from(count)?;
        }
        Ok(counts)
    }

    /// One page of a survey's current invitations, newest first: `limit` from `offset`,
    /// with each one's state at `now` (seconds). The contact stays sealed.
    pub async fn invitation_listing(
        &self,
        survey_id: &str,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> anyhow::Result<Vec<InvitationListing>> {
        let rows: Vec<ListingRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&format!(
                "SELECT invitation_id, sealed_contact, account, matter, wave, created_at, expires_at, opened_at, {STATE_SQL} AS state \
                 FROM invitations WHERE survey_id = $1 AND replaced_by IS NULL \
                 ORDER BY created_at DESC, invitation_id LIMIT $3 OFFSET $4"
            ))
            .bind(survey_id)
            .bind(now)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(InvitationListing::try_from).collect()
    }

    /// A current invitation of `survey_id`, as a resend needs it: `None` when there is no
    /// such invitation or it was replaced already.
    pub async fn invitation_for_resend(
        &self,
        survey_id: &str,
        invitation_id: &str,
        now: i64,
    ) -> anyhow::Result<Option<ResendSource>> {
        let row: Option<ResendRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&format!(
                "SELECT invitation_id, sealed_contact, contact_key, account, matter, wave, firm, locale, {STATE_SQL} AS state \
                 FROM invitations WHERE survey_id = $1 AND replaced_by IS NULL AND invitation_id = $3"
            ))
            .bind(survey_id)
            .bind(now)
            .bind(invitation_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(ResendSource::try_from).transpose()
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
