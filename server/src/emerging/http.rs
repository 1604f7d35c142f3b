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
use crate::export::{ReportRequest, ResultsError, breakdowns, report_filter};
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
    /// Field(s), comma-separated, to give the same figures within each group of (as the
    /// report's `by`, one field at a time): in `segments`.
    pub by: Option<String>,
    /// Count every version from this one up to `version`, as the report's `since_version`.
    pub since_version: Option<u32>,
    /// `true`: only the answers the server can vouch for, as in the report.
    #[serde(default)]
    pub verified: Option<bool>,
    /// Only answers received on or after this day (UTC), written `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Only answers received on or before this day (UTC), written `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Only this account's answers (after the label rules' merges). An `account` token may
    /// name only its own accounts.
    pub account: Option<String>,
}

/// Emerging topics, restricted by role.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/emerging",
    tag = "results",
    params(("id" = String, Path, description = "Survey id."), EmergingQuery),
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
    Query(query): Query<EmergingQuery>,
) -> Result<Response, ApiError> {
    let survey = state
        .survey_or(&id, query.version, ResultsError::NoSurvey)
        .await?;
    let names = query.by.as_deref().unwrap_or_default().split(',');
    let request = ReportRequest {
        breakdowns: breakdowns(survey.definition(), names)?,
        verified_only: query.verified == Some(true),
        filter: report_filter(
            query.from.as_deref(),
            query.to.as_deref(),
            query.account.as_deref(),
        )?,
        since_version: query.since_version,
    };
    Ok(Json(role_emerging(&state.store, &caller, &survey, &request).await?).into_response())
}
