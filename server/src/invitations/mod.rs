//! The invitation service: what an invitation link says, for the email landing page, and
//! whether the invitation a response names may be answered, for ingest.
//!
//! Tokens themselves (sealing, opening, expiry) are [`crate::invitation`]'s; this module
//! adds what the database knows of them. It returns domain values and
//! [`InvitationRefusal`], never HTTP: [`http`] adapts it to `GET /api/v1/invitations/{token}`.
//! [`bulk`] makes invitations from a file of contacts and resends them, for `rapport invite
//! --csv` and the dashboard alike.

pub mod bulk;
pub mod http;

use rapport_scoring::wire::Timestamp;
use serde::Serialize;

use crate::identity::IdentityKey;
use crate::invitation::{Invitation, InvitationError, Language, now_seconds};
use crate::store::Store;

/// What the landing page may show about an invitation: to whom and about what, and
/// whether it was answered already (only the holder of the link can ask).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvitationInfo {
    /// The survey invited to.
    pub survey: String,
    /// The contact's name, for the greeting.
    pub name: Option<String>,
    /// The client account.
    pub account: String,
    /// The client account's name for people, when the invitation gives one.
    pub account_name: Option<String>,
    /// The matter or contract.
    pub matter: Option<String>,
    /// The matter's name for people, when the invitation gives one; the landing page shows
    /// this, never the matter's id.
    pub matter_name: Option<String>,
    /// The survey wave.
    pub wave: Option<String>,
    /// The firm's name.
    pub firm: Option<String>,
    /// The language the invitation asks the page and the survey to speak; without it, the
    /// page follows the browser.
    pub locale: Option<Language>,
    /// When the link stops working (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub expires: String,
    /// Whether the invitation was answered already.
    pub answered: bool,
    /// Whether answering again would replace the earlier answers: false once they are part
    /// of results shared in confidence, which never change.
    pub replaceable: bool,
}

/// Why an invitation token is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum InvitationRefusal {
    /// The token was altered, has expired, or is for another survey.
    #[error(transparent)]
    Token(#[from] InvitationError),
    /// The token is genuine but this server has no record of the invitation.
    #[error("this invitation is not known to this server")]
    Unknown,
    /// The token is genuine but a newer link for the same contact replaced it.
    #[error("this invitation link was replaced by a newer one; use the link in the latest email")]
    Replaced,
    /// The database could not be asked.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl InvitationRefusal {
    /// Why, in one machine-readable word: `altered`, `expired`, `other_survey`, `unknown` or
    /// `replaced`;
    /// none for a database failure, which says nothing about the link.
    pub fn reason(&self) -> Option<RefusalReason> {
        match self {
            InvitationRefusal::Token(InvitationError::Altered) => Some(RefusalReason::Altered),
            InvitationRefusal::Token(InvitationError::Expired(_)) => Some(RefusalReason::Expired),
            InvitationRefusal::Token(InvitationError::OtherSurvey) => {
                Some(RefusalReason::OtherSurvey)
            }
            InvitationRefusal::Unknown => Some(RefusalReason::Unknown),
            InvitationRefusal::Replaced => Some(RefusalReason::Replaced),
            InvitationRefusal::Failed(_) => None,
        }
    }
}

/// Why a link is refused, for a page to explain in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// Changed or copied incompletely: nothing in it can be read.
    Altered,
    /// Genuine, but past its expiry.
    Expired,
    /// Genuine, but for another survey than the one answered.
    OtherSurvey,
    /// Genuine, but this server has no record of it.
    Unknown,
    /// Genuine, but a newer link replaced it (the programme lead resent the invitation).
    Replaced,
}

/// A link the landing page cannot use, with what may still be said about it: who sent it
/// and in which language, when the link is genuine enough to read. Never the contact.
#[derive(Debug)]
pub struct LinkRefused {
    /// Why.
    pub refusal: InvitationRefusal,
    /// The firm that sent the link, when it can be read.
    pub firm: Option<String>,
    /// The language of the invitation, when it can be read.
    pub locale: Option<Language>,
}

impl From<InvitationRefusal> for LinkRefused {
    fn from(refusal: InvitationRefusal) -> Self {
        LinkRefused {
            refusal,
            firm: None,
            locale: None,
        }
    }
}

/// What the invitation of `token` says, and whether it was answered.
pub async fn invitation_info(
    store: &Store,
    identity_key: &IdentityKey,
    token: &str,
) -> Result<InvitationInfo, LinkRefused> {
    let invitation = Invitation::open(token, identity_key).map_err(InvitationRefusal::from)?;
    // A genuine link that is refused still says who sent it, so the page can tell the
    // client whom to ask for a new one.
    let refused = |refusal: InvitationRefusal| LinkRefused {
        refusal,
        firm: invitation.firm.clone(),
        locale: invitation.presentation.locale,
    };
    if let Err(expired) = invitation.check_expiry(now_seconds()) {
        return Err(refused(expired.into()));
    }
    let answered_by = match store.invitation_state(&invitation.id).await {
        Ok(Some(answered_by)) => answered_by,
        Ok(None) => return Err(refused(InvitationRefusal::Unknown)),
        Err(error) => return Err(InvitationRefusal::Failed(error).into()),
    };
    match store.invitation_replaced(&invitation.id).await {
        Ok(false) => {}
        Ok(true) => return Err(refused(InvitationRefusal::Replaced)),
        Err(error) => return Err(InvitationRefusal::Failed(error).into()),
    }
    // Only the landing page's script asks this, in a browser: a mail scanner that fetches
    // the link runs no script, so this records a person opening it.
    store
        .mark_invitation_opened(&invitation.id)
        .await
        .map_err(InvitationRefusal::Failed)?;
    let replaceable = match &answered_by {
        None => true,
        Some(earlier) => {
            let sizes = store
                .publication_batch_sizes(&invitation.survey, 1)
                .await
                .map_err(InvitationRefusal::Failed)?;
            !store
                .answer_published(earlier, &sizes)
                .await
                .map_err(InvitationRefusal::Failed)?
        }
    };
    let presentation = invitation.presentation;
    Ok(InvitationInfo {
        survey: invitation.survey,
        name: invitation.name,
        account: invitation.account,
        account_name: presentation.account_name,
        matter: invitation.matter,
        matter_name: presentation.matter_name,
        wave: invitation.wave,
        firm: invitation.firm,
        locale: presentation.locale,
        expires: Timestamp::from_unix_millis(invitation.expires * 1000).to_string(),
        answered: answered_by.is_some(),
        replaceable,
    })
}

/// Verifies an invitation token for `survey`: signed, unexpired, for this survey, and
/// recorded by this server.
pub async fn checked_invitation(
    store: &Store,
    identity_key: &IdentityKey,
    token: &str,
    survey: &str,
) -> Result<Invitation, InvitationRefusal> {
    let invitation = Invitation::verify(token, identity_key, now_seconds())?;
    if invitation.survey != survey {
        return Err(InvitationError::OtherSurvey.into());
    }
    if store.invitation_state(&invitation.id).await?.is_none() {
        return Err(InvitationRefusal::Unknown);
    }
    if store.invitation_replaced(&invitation.id).await? {
        return Err(InvitationRefusal::Replaced);
    }
    Ok(invitation)
}
