//! The HTTP side of the counters of [`crate::metrics`]: the middleware that counts every
//! API request under its route template, and `GET /metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// `GET /metrics`, merged into [`crate::api::app`] outside the counted API routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/metrics", get(metrics))
}

/// Middleware on the API routes: counts each request and its duration under its route
/// template.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    // Both are cheap clones: the matched path is shared, and a standard method is a constant.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.counters.record_request(
        route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let body = state.counters.render(&state.store.batch_sizes());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
