//! `GET /api/v1/surveys/{id}/emerging`: the HTTP adapter of [`super::role_emerging`].

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::{RoleEmerging, role_emerging};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::export::ResultsError;
use crate::export::http::ReportQuery;
use crate::state::AppState;

/// The emerging-topics route, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/surveys/{id}/emerging", get(emerging))
}

/// Emerging topics, restricted by role.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/emerging",
    tag = "results",
    params(("id" = String, Path, description = "Survey id."), ReportQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Words newly frequent in the strength and weakness texts, wave by wave, and the share of texts no topic catches, over what the caller's role may see, narrowed as the report with the same query.", body = RoleEmerging),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "An `account` token named an account that is not its own.", body = ErrorBody),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
        (status = 422, description = "`by` names no field of this survey, or a pair of fields; `from` or `to` is not a date, or the range ends before it starts; or `since_version` cannot be counted with `version`.", body = ErrorBody),
    ),
)]
pub async fn emerging(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let survey = state
        .survey_or(&id, query.version, ResultsError::NoSurvey)
        .await?;
    let request = query.request(survey.definition())?;
    Ok(Json(role_emerging(&state.store, &caller, &survey, &request).await?).into_response())
}
