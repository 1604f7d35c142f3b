//! Test support: a server state on a temporary SQLite file, and one-shot requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use rapport_server::api::{app, AppState, Counters};
use rapport_server::identity::IdentityKey;
use rapport_server::rate_limit::{RateLimit, RateLimiter};
use rapport_server::store::Store;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt as _;

/// A state whose database lives in a temporary directory, removed on drop.
pub(crate) struct TestServer {
    pub(crate) state: AppState,
    pub(crate) dir: TempDir,
}

impl TestServer {
    pub(crate) async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let state = AppState {
            store,
            identity_key: IdentityKey::generate().unwrap(),
            www_dir: dir.path().join("www"),
            widget_dir: dir.path().join("widget"),
            allowed_origins: vec!["https://portal.example".to_owned()],
            counters: Arc::new(Counters::default()),
            rate_limiter: Arc::new(RateLimiter::new(RateLimit { burst: 10_000, per_minute: 60_000 })),
            trust_forwarded_for: true,
        };
        TestServer { state, dir }
    }

    /// Sends a request through the router and returns the status and the JSON body
    /// (`Value::Null` when the body is not JSON).
    pub(crate) async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub(crate) async fn post_json(&self, survey: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(survey, "application/json", body.to_string()).await
    }

    pub(crate) async fn post_raw(&self, survey: &str, content_type: &str, body: String) -> (StatusCode, Value) {
        let request = Request::post(format!("/api/v1/surveys/{survey}/responses")).header("content-type", content_type).body(Body::from(body)).unwrap();
        self.send(request).await
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub(crate) async fn count(&self, survey: &str) -> u64 {
        self.state.store.count_responses(survey).await.unwrap()
    }
}

/// A valid `client-portal` response with a deterministic id from `counter`.
pub(crate) fn portal_response(counter: u32) -> Value {
    json!({
        "format": 1,
        "response_id": format!("00000000-0000-4000-8000-{counter:012x}"),
        "survey_id": "client-portal",
        "survey_version": 1,
        "locale": "en",
        "answers": {"nps": 9, "trust": 6, "commitment": 7, "satisfaction": 6, "uniqueness": 5, "care": 6, "strength": "Quick answers"},
        "confidentiality": "confidential",
        "identity": {"name": "Ana Ruiz", "email": "ana.ruiz@client.example", "organisation": "Northwind"},
        "context": {"account": "northwind", "wave": "2026-h2"},
        "submitted_at": "2026-11-23T09:30:00Z"
    })
}
