//! `GET /api/v1/invitations/{token}`: what the landing page shows for a link, from
//! [`super::invitation_info`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{InvitationInfo, InvitationRefusal, LinkRefused, RefusalReason, invitation_info};
use crate::error::{ApiError, FieldError};
use crate::invitation::Language;
use crate::state::AppState;

/// The invitation routes, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/invitations/{token}", get(get_invitation))
}

/// What the landing page shows for an invitation link.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{token}",
    tag = "invitations",
    params(("token" = String, Path, description = "The signed token of the link.")),
    responses(
        (status = 200, description = "What the invitation says, and whether it was answered.", body = InvitationInfo),
        (status = 404, description = "The link is genuine but this server has no record of it (`reason` is `unknown`).", body = RefusedLink),
        (status = 422, description = "The link was altered, has expired or was replaced by a newer one (`reason` says which); `details` names `invitation`.", body = RefusedLink),
    ),
)]
pub(crate) async fn get_invitation(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    match invitation_info(&state.store, &state.identity_key, &token).await {
        Ok(info) => Ok(Json(info).into_response()),
        Err(refused) => refused_link(refused),
    }
}

/// Why the landing page cannot use a link: the error body of the API, with the reason in
/// one word and, when the link is genuine, the firm that sent it and its language, so the
/// page can say whom to ask in words the client reads. It never names the contact.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefusedLink {
    /// What went wrong, in words for people (English).
    pub error: String,
    /// The `invitation` field and the same words; absent when the link is merely unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
    /// Why, in one word.
    pub reason: RefusalReason,
    /// The firm that sent the link, when the link can still be read (expired or unknown).
    pub firm: Option<String>,
    /// The language of the invitation, when the link can still be read.
    pub locale: Option<Language>,
}

fn refused_link(refused: LinkRefused) -> Result<Response, ApiError> {
    let LinkRefused {
        refusal,
        firm,
        locale,
    } = refused;
    let Some(reason) = refusal.reason() else {
        return Err(refusal.into());
    };
    let message = refusal.to_string();
    // A genuine link this server does not know is missing, not malformed.
    let (status, details) = if reason == RefusalReason::Unknown {
        (StatusCode::NOT_FOUND, Vec::new())
    } else {
        let details = vec![FieldError {
            field: "invitation".to_owned(),
            message: message.clone(),
        }];
        (StatusCode::UNPROCESSABLE_ENTITY, details)
    };
    let body = RefusedLink {
        error: message,
        details,
        reason,
        firm,
        locale,
    };
    Ok((status, Json(body)).into_response())
}

impl From<InvitationRefusal> for ApiError {
    /// A refused token is a 422 naming the `invitation` field; a database failure is the
    /// database's.
    fn from(refusal: InvitationRefusal) -> Self {
        match refusal {
            InvitationRefusal::Failed(error) => ApiError::from(error),
            refusal => ApiError::invalid_field("invitation", refusal.to_string()),
        }
    }
}
