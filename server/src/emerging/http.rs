//! `GET /api/v1/surveys/{id}/emerging`: the HTTP adapter of [`super::role_emerging`].

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{RoleEmerging, role_emerging};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::export::ResultsError;
use crate::state::AppState;

/// The emerging-topics route, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/surveys/{id}/emerging", get(emerging))
}

/// Query of the emerging-topics endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmergingQuery {
    /// Survey version; the latest by default.
    pub version: Option<u32>,
}

/// Emerging topics, restricted by role.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/emerging",
    tag = "results",
    params(("id" = String, Path, description = "Survey id."), EmergingQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Words newly frequent in the strength and weakness texts, wave by wave, and the share of texts no topic catches, over what the caller's role may see.", body = RoleEmerging),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
    ),
)]
pub async fn emerging(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<EmergingQuery>,
) -> Result<Response, ApiError> {
    let survey = state
        .survey_or(&id, query.version, ResultsError::NoSurvey)
        .await?;
    Ok(Json(role_emerging(&state, &caller, &survey).await?).into_response())
}
