//! What operators rely on: `/healthz`, `/readyz` (which follows the database) and
//! `/metrics` (requests by route template, group-commit batch sizes, score mismatches).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::{TestServer, portal_response};

async fn text(server: &TestServer, path: &str) -> (StatusCode, String) {
    let response = rapport_server::app(server.state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap(),
    )
}

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_batches_and_mismatches() {
    let server = TestServer::new().await;
    assert_eq!(
        server
            .post_json("client-portal", &portal_response(1))
            .await
            .0,
        StatusCode::CREATED
    );
    let mut disagreeing = portal_response(2);
    // The server scores nps 9 as a promoter; a widget that said otherwise is out of step.
    disagreeing["provisional"] = json!({"nps_category": "detractor"});
    assert_eq!(
        server.post_json("client-portal", &disagreeing).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        server
            .post_raw("client-portal", "text/plain", "{}".to_owned())
            .await
            .0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    let (status, metrics) = text(&server, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let route = "route=\"/api/v1/surveys/{id}/responses\"";
    assert_eq!(
        value(
            &metrics,
            &format!("rapport_http_requests_total{{{route},method=\"POST\",status=\"201\"}}")
        ),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        value(
            &metrics,
            &format!("rapport_http_requests_total{{{route},method=\"POST\",status=\"415\"}}")
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value(
            &metrics,
            &format!("rapport_http_request_duration_seconds_count{{{route}}}")
        ),
        Some(3.0),
        "{metrics}"
    );
    assert_eq!(
        value(&metrics, "rapport_score_mismatches_total"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value(&metrics, "rapport_ingest_batch_size_count"),
        Some(2.0),
        "two responses were written: {metrics}"
    );
    assert!(
        !metrics.contains("client-portal") && !metrics.contains("00000000-0000"),
        "labels are route templates, never ids: {metrics}"
    );
}

#[tokio::test]
async fn ready_follows_the_database_and_health_does_not() {
    let server = TestServer::new().await;
    assert_eq!(
        text(&server, "/healthz").await,
        (StatusCode::OK, "ok".to_owned())
    );
    assert_eq!(
        text(&server, "/readyz").await,
        (StatusCode::OK, "ready".to_owned())
    );
    server.state.store.close().await;
    let (status, body) = text(&server, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("not ready"), "{body}");
    assert_eq!(
        text(&server, "/healthz").await.0,
        StatusCode::OK,
        "the process itself still answers"
    );
}

#[tokio::test]
async fn an_in_memory_database_is_refused_because_it_would_lose_every_response() {
    for url in [
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://responses.db?mode=memory",
    ] {
        let error = format!(
            "{:#}",
            rapport_server::store::Store::open(url)
                .await
                .expect_err(url)
        );
        assert!(
            error.contains("in-memory database") && error.contains("name a file"),
            "{url}: {error}"
        );
    }
}
