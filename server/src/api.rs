//! The router: the HTTP API and the static files, as `fn app(state) -> Router` so that tests
//! drive the very router the server runs. It merges each feature's `routes()` and adds
//! what is common to them (CORS, the body limit, request metrics, security headers); the
//! handlers live with their features.
//!
//! - `GET /healthz`: liveness (the process answers).
//! - `GET /readyz`: readiness (the database answers too); 503 when it does not.
//! - `GET /metrics`: Prometheus metrics (see [`crate::metrics`]).
//! - `GET /api/v1/surveys`: surveys with their latest versions.
//! - `GET /api/v1/surveys/{id}[?version=N]`: a survey definition, as the widget loads it.
//! - `POST /api/v1/surveys/{id}/responses`: ingest one wire-format v1 response.
//! - `GET /api/v1/invitations/{token}`: what the email landing page shows for a link.
//! - `/s/{token}`: the email landing page.
//! - `GET /api/v1/surveys/{id}/report`, `GET /api/v1/surveys/{id}/responses.csv`: results,
//!   restricted by the caller's API token (see [`crate::export`]).
//! - `GET /api/v1/surveys/{id}/follow-ups`, `PUT …/follow-ups/responses/{response_id}`,
//!   `PUT …/follow-ups/accounts/{account}`: the close-the-loop list (see
//!   [`crate::follow_up`]).
//! - `GET /dashboard`, `POST /dashboard/login`, `POST /dashboard/logout`,
//!   `GET /dashboard/surveys/{id}/responses.csv`, `POST /dashboard/surveys/{id}/follow-ups`:
//!   the results dashboard, signed in with an API token kept in a cookie (see
//!   [`crate::dashboard`]).
//! - `GET /api/v1/openapi.json`: the OpenAPI document of all of the above (see
//!   [`crate::openapi`]).
//! - `/widget/…`: the widget bundle; everything else: the pages of `www/`.
//!
//! A 2xx for a response is sent only after its transaction has committed.
//!
//! This is the top of the server's layers: nothing but the binary imports it.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use crate::http_json::MAX_BODY_BYTES;
use crate::state::AppState;

/// The router: API, widget bundle and pages.
pub fn app(state: AppState) -> Router {
    let state = Arc::new(state);
    // An origin may post when the server allows it for every survey (`--allow-origin`), or
    // when the survey named in the path lists it in its definition's `allowed_origins`.
    let global: Arc<Vec<HeaderValue>> = Arc::new(
        state
            .allowed_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect(),
    );
    let store = state.store.clone();
    let allow = AllowOrigin::async_predicate(
        move |origin: HeaderValue, parts: &axum::http::request::Parts| {
            let path = parts.uri.path();
            let survey = path
                .strip_prefix("/api/v1")
                .unwrap_or(path)
                .strip_prefix("/surveys/")
                .and_then(|rest| rest.split('/').next())
                .map(str::to_owned);
            async move {
                if global.contains(&origin) {
                    return true;
                }
                let (Some(survey), Ok(origin)) = (survey, origin.to_str()) else {
                    return false;
                };
                matches!(store.survey(&survey, None).await, Ok(Some(survey)) if survey.definition().allowed_origins.iter().any(|allowed| allowed == origin))
            }
        },
    );
    let cors = CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    let api = Router::new()
        .merge(crate::surveys::routes())
        .merge(crate::ingest::http::routes())
        .merge(crate::export::http::routes())
        .merge(crate::emerging::http::routes())
        .merge(crate::invitations::http::routes())
        .merge(crate::follow_up::http::routes())
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http_metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors);
    let widget = crate::widget_assets::service(&state.widget_dir);
    let pages = ServeDir::new(&state.www_dir).append_index_html_on_directories(true);
    let landing = ServeFile::new(state.www_dir.join("landing.html"));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(crate::http_metrics::routes())
        .route_service("/s/{token}", landing)
        .nest("/api/v1", api)
        .merge(crate::dashboard::routes())
        .nest_service("/widget", widget)
        .fallback_service(pages)
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .with_state(state)
}

/// Ready when the database answers and the writer runs; a load balancer sends traffic only
/// to ready replicas.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": "not ready: the database does not answer" })),
            )
                .into_response()
        }
    }
}
