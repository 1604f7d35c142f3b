//! `GET /api/v1/surveys/{id}/report` and `GET /api/v1/surveys/{id}/responses.csv`: the
//! HTTP adapters of [`super::role_report`] and [`super::responses_csv`]. They read the query
//! ([`ReportQuery`]: breakdowns comma-separated), call the service and map
//! [`ResultsError`] to a status.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rapport_scoring::SurveyDefinition;
use serde::Deserialize;

use super::{
    CsvExport, ReportRequest, ResultsError, RoleReport, breakdowns, report_filter, responses_csv,
    role_report,
};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The result routes, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/surveys/{id}/report", get(report))
        .route("/surveys/{id}/responses.csv", get(csv))
}

/// Query of the report, emerging-topics and export endpoints (emerging topics break down by
/// one field at a time, and the export reads only `version` and `since_version`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Segment field(s), comma-separated; a pair of fields such as
    /// `returning:confidentiality` (or `returning×confidentiality`) asks for a two-field
    /// breakdown, in the report's `crossings`.
    pub by: Option<String>,
    /// Survey version; the latest by default.
    pub version: Option<u32>,
    /// Count every version from this one up to `version` (each must ask the same 0–10
    /// question): earlier answers are carried into `version` by question id, and the
    /// report's `versions` says how many answered each version and which questions it did
    /// not ask. Only `version` by default.
    pub since_version: Option<u32>,
    /// `true`: only the answers the server can vouch for (through an invitation or with a
    /// portal's signed context), leaving out what anyone could have posted.
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

impl ReportQuery {
    /// The request this query makes of `definition` (the version it names): its
    /// breakdowns, whether only verified answers count, the filter and the versions. The
    /// report and emerging topics read the same query the same way.
    pub fn request(&self, definition: &SurveyDefinition) -> Result<ReportRequest, ResultsError> {
        Ok(ReportRequest {
            breakdowns: breakdowns(
                definition,
                self.by.as_deref().unwrap_or_default().split(','),
            )?,
            verified_only: self.verified == Some(true),
            filter: report_filter(
                self.from.as_deref(),
                self.to.as_deref(),
                self.account.as_deref(),
            )?,
            since_version: self.since_version,
        })
    }
}

impl From<ResultsError> for ApiError {
    /// A missing survey is a 404, a bad breakdown a 422 naming `by`, a viewer asking for
    /// rows a 403.
    fn from(error: ResultsError) -> Self {
        match error {
            ResultsError::NoSurvey(_) => ApiError::NotFound(error.to_string()),
            ResultsError::TooManyBreakdowns
            | ResultsError::UnknownBreakdown(_)
            | ResultsError::EmergingCrossing => ApiError::invalid_field("by", error.to_string()),
            ResultsError::BadFilter { field, .. } => {
                ApiError::invalid_field(field, error.to_string())
            }
            ResultsError::Versions(_) => {
                ApiError::invalid_field("since_version", error.to_string())
            }
            ResultsError::AccountRefused(_) | ResultsError::ViewerRefused => {
                ApiError::Forbidden(error.to_string())
            }
            ResultsError::Failed(error) => ApiError::from(error),
        }
    }
}

/// The role-restricted report.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/report",
    tag = "results",
    params(("id" = String, Path, description = "Survey id."), ReportQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The report over what the caller's role may see.", body = RoleReport),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "An `account` token named an account that is not its own.", body = ErrorBody),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
        (status = 422, description = "`by` names no field of this survey, or a pair of one field; or `from` or `to` is not a date, or the range ends before it starts; or `since_version` is later than `version`, or a version between them asks another 0–10 question.", body = ErrorBody),
    ),
)]
pub async fn report(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let survey = state
        .survey_or(&id, query.version, ResultsError::NoSurvey)
        .await?;
    let request = query.request(survey.definition())?;
    Ok(Json(role_report(&state.store, &caller, &survey, request).await?).into_response())
}

impl IntoResponse for CsvExport {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.filename);
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            self.text,
        )
            .into_response()
    }
}

/// The role-restricted CSV export.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/responses.csv",
    tag = "results",
    params(("id" = String, Path, description = "Survey id."), ("version" = Option<u32>, Query, description = "The survey version; the latest by default."), ("since_version" = Option<u32>, Query, description = "The rows of every version from this one up to `version` too, as the report with the same `since_version` counts them, under `version`'s columns; the last column says which version each row answered.")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "One row per response the caller may see, after a header row.", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "An attachment named after the survey and version."))),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
        (status = 422, description = "`since_version` is later than `version`, or a version between them asks another 0–10 question.", body = ErrorBody),
    ),
)]
pub async fn csv(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    Ok(
        responses_csv(&state, &caller, &id, query.version, query.since_version)
            .await?
            .into_response(),
    )
}
