//! The invitation service: what an invitation link says, for the email landing page, and
//! whether the invitation a response names may be answered, for ingest.
//!
//! Tokens themselves (sealing, opening, expiry) are [`crate::invitation`]'s; this module
//! adds what the database knows of them. It returns domain values and
//! [`InvitationRefusal`], never HTTP: [`http`] adapts it to `GET /api/v1/invitations/{token}`.

pub mod http;

use rapport_scoring::wire::Timestamp;
use serde::Serialize;

use crate::identity::IdentityKey;
use crate::invitation::{Invitation, InvitationError, now_seconds};
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
    /// The matter or contract.
    pub matter: Option<String>,
    /// The survey wave.
    pub wave: Option<String>,
    /// The firm's name.
    pub firm: Option<String>,
    /// When the link stops working (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub expires: String,
    /// Whether the invitation was answered already.
    pub answered: bool,
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
    /// The database could not be asked.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// What the invitation of `token` says, and whether it was answered.
pub async fn invitation_info(
    store: &Store,
    identity_key: &IdentityKey,
    token: &str,
) -> Result<InvitationInfo, InvitationRefusal> {
    let invitation = Invitation::verify(token, identity_key, now_seconds())?;
    let Some(answered_by) = store.invitation_state(&invitation.id).await? else {
        return Err(InvitationRefusal::Unknown);
    };
    Ok(InvitationInfo {
        survey: invitation.survey,
        name: invitation.name,
        account: invitation.account,
        matter: invitation.matter,
        wave: invitation.wave,
        firm: invitation.firm,
        expires: Timestamp::from_unix_millis(invitation.expires * 1000).to_string(),
        answered: answered_by.is_some(),
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
    Ok(invitation)
}
