//! `GET /api/v1/surveys` and `GET /api/v1/surveys/{id}`: the surveys and their definitions,
//! as the widget and the programme team load them. A thin adapter over the store's reads:
//! there is no rule to apply between them.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::SurveySummary;

/// The survey routes, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/surveys", get(list_surveys))
        .route("/surveys/{id}", get(get_survey))
}

/// Lists the surveys.
#[utoipa::path(
    get,
    path = "/api/v1/surveys",
    tag = "surveys",
    responses((status = 200, description = "Every survey with its latest version.", body = Vec<SurveySummary>)),
)]
pub(crate) async fn list_surveys(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    Ok(Json(state.store.list_surveys().await?).into_response())
}

/// Which version of a survey.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionQuery {
    /// The survey version; the latest by default.
    version: Option<u32>,
}

/// A survey definition, as the widget loads it.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}",
    tag = "surveys",
    params(("id" = String, Path, description = "Survey id."), VersionQuery),
    responses(
        (status = 200, description = "The survey definition (see docs/SURVEYS.md).", body = crate::schemas::SurveyDefinition),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
    ),
)]
pub(crate) async fn get_survey(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    match state.store.survey(&id, query.version).await? {
        Some(survey) => Ok(Json(survey.definition()).into_response()),
        None => Err(ApiError::NotFound(format!(
            "no survey {id:?}{}",
            query
                .version
                .map(|v| format!(" version {v}"))
                .unwrap_or_default()
        ))),
    }
}
