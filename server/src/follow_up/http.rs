//! The close-the-loop endpoints: the HTTP adapters of [`super::follow_up_list`],
//! [`super::set_response_follow_up`] and [`super::set_account_follow_up`]. They read the
//! query and body, call the service and map [`FollowUpError`] to a status.
//!
//! - `GET /api/v1/surveys/{id}/follow-ups[?version=N&wave=W&account=A]`;
//! - `PUT /api/v1/surveys/{id}/follow-ups/responses/{response_id}`;
//! - `PUT /api/v1/surveys/{id}/follow-ups/accounts/{account}[?wave=W]`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::{
    FollowUpError, FollowUpList, FollowUpState, FollowUpUpdate, ListScope, follow_up_list,
    set_account_follow_up, set_response_follow_up,
};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::http_json::parse_json;
use crate::state::AppState;

/// The close-the-loop routes, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/surveys/{id}/follow-ups", get(list))
        .route(
            "/surveys/{id}/follow-ups/responses/{response_id}",
            put(put_response),
        )
        .route(
            "/surveys/{id}/follow-ups/accounts/{account}",
            put(put_account),
        )
}

impl From<FollowUpError> for ApiError {
    /// A viewer is refused with a 403; whatever is not on the caller's list is a 404 that
    /// says no more; a note too long is a 422 naming `note`.
    fn from(error: FollowUpError) -> Self {
        match error {
            FollowUpError::ViewerRefused => ApiError::Forbidden(error.to_string()),
            FollowUpError::NoSurvey(_)
            | FollowUpError::NotOnList { .. }
            | FollowUpError::OtherAccount { .. } => ApiError::NotFound(error.to_string()),
            FollowUpError::NoteTooLong => ApiError::invalid_field("note", error.to_string()),
            FollowUpError::Versions(_) => {
                ApiError::invalid_field("since_version", error.to_string())
            }
            FollowUpError::Failed(error) => ApiError::from(error),
        }
    }
}

/// Query of the list and of an account flag's update.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// Survey version; the latest by default.
    pub version: Option<u32>,
    /// List the answers to every version from this one up to `version` too, as the report
    /// with the same `since_version` counts them, each judged by its own version's rules;
    /// only `version` by default.
    pub since_version: Option<u32>,
    /// Only this wave.
    pub wave: Option<String>,
    /// Only this account.
    pub account: Option<String>,
}

/// Query of an account flag's update: which wave's flag.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlagQuery {
    /// The wave of the flag; none for responses without a wave.
    pub wave: Option<String>,
}

/// `GET /api/v1/surveys/{id}/follow-ups`.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/follow-ups",
    tag = "close the loop",
    params(("id" = String, Path, description = "Survey id."), FollowUpQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Per account the caller may see, the identified responses that need a conversation and the confidential-feedback flags.", body = FollowUpList),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
        (status = 422, description = "`since_version` is later than `version`, or a version between them asks another 0–10 question.", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<FollowUpQuery>,
) -> Result<Json<FollowUpList>, ApiError> {
    let scope = ListScope {
        version: query.version,
        since_version: query.since_version,
        wave: query.wave,
    };
    Ok(Json(
        follow_up_list(&state, &caller, &id, &scope, query.account.as_deref()).await?,
    ))
}

/// `PUT /api/v1/surveys/{id}/follow-ups/responses/{response_id}`.
#[utoipa::path(
    put,
    path = "/api/v1/surveys/{id}/follow-ups/responses/{response_id}",
    tag = "close the loop",
    params(("id" = String, Path, description = "Survey id."), ("response_id" = String, Path, description = "The response on the caller's list.")),
    request_body = FollowUpUpdate,
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The status now recorded.", body = FollowUpState),
        (status = 400, description = "The body is not well-formed JSON.", body = ErrorBody),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "Not on the caller's list (whatever the reason: the answer is the same).", body = ErrorBody),
        (status = 422, description = "A bad status or a note over 2,000 characters; `details` names the field.", body = ErrorBody),
        (status = 503, description = "The database cannot take writes now; nothing was recorded.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn put_response(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((id, response_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<FollowUpState>, ApiError> {
    let update: FollowUpUpdate = parse_json(&body)?;
    Ok(Json(
        set_response_follow_up(&state, &caller, &id, &response_id, &update).await?,
    ))
}

/// `PUT /api/v1/surveys/{id}/follow-ups/accounts/{account}[?wave=W]`.
#[utoipa::path(
    put,
    path = "/api/v1/surveys/{id}/follow-ups/accounts/{account}",
    tag = "close the loop",
    params(("id" = String, Path, description = "Survey id."), ("account" = String, Path, description = "The account whose flag this is."), FlagQuery),
    request_body = FollowUpUpdate,
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The status now recorded.", body = FollowUpState),
        (status = 400, description = "The body is not well-formed JSON.", body = ErrorBody),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "No such survey, or an account the caller may not see.", body = ErrorBody),
        (status = 422, description = "A bad status or a note over 2,000 characters; `details` names the field.", body = ErrorBody),
        (status = 503, description = "The database cannot take writes now; nothing was recorded.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn put_account(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((id, account)): Path<(String, String)>,
    Query(query): Query<FlagQuery>,
    body: Bytes,
) -> Result<Json<FollowUpState>, ApiError> {
    let update: FollowUpUpdate = parse_json(&body)?;
    Ok(Json(
        set_account_follow_up(
            &state,
            &caller,
            &id,
            &account,
            query.wave.as_deref(),
            &update,
        )
        .await?,
    ))
}
