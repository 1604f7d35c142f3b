//! `GET /api/v1/invitations/{token}`: what the landing page shows for a link, from
//! [`super::invitation_info`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::{InvitationInfo, InvitationRefusal, invitation_info};
use crate::error::{ApiError, ErrorBody};
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
        (status = 404, description = "The link is genuine but this server has no record of it.", body = ErrorBody),
        (status = 422, description = "The link was altered or has expired; `details` names `invitation`.", body = ErrorBody),
    ),
)]
pub(crate) async fn get_invitation(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    match invitation_info(&state.store, &state.identity_key, &token).await {
        Ok(info) => Ok(Json(info).into_response()),
        // A genuine link this server does not know is missing, not malformed.
        Err(InvitationRefusal::Unknown) => {
            Err(ApiError::NotFound(InvitationRefusal::Unknown.to_string()))
        }
        Err(refusal) => Err(refusal.into()),
    }
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
