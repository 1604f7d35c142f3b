//! Ingest: a valid response is stored once with the server's score; a resend is recognised;
//! every kind of bad input gets its own status and a message naming the field, and stores
//! nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestServer, portal_response};

#[tokio::test]
async fn a_valid_response_is_stored_with_the_servers_score() {
    let server = TestServer::new().await;
    let (status, body) = server.post_json("client-portal", &portal_response(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "stored");
    assert_eq!(body["score"]["nps_category"], "promoter");
    // Relationship (6 + 7 + 6) / 3, uniqueness 5, service 6: overall (19/3 + 5 + 6) / 3.
    let crq = body["score"]["crq"].as_f64().unwrap();
    assert!((crq - (19.0 / 3.0 + 11.0) / 3.0).abs() < 1e-12, "{crq}");
    assert_eq!(server.count("client-portal").await, 1);
}

#[tokio::test]
async fn a_resend_is_recognised_and_a_reused_id_with_another_body_is_a_conflict() {
    let server = TestServer::new().await;
    let response = portal_response(2);
    assert_eq!(
        server.post_json("client-portal", &response).await.0,
        StatusCode::CREATED
    );
    // The same document, even re-serialised with other whitespace, is the same response.
    let pretty = serde_json::to_string_pretty(&response).unwrap();
    let (status, body) = server
        .post_raw("client-portal", "application/json", pretty)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "duplicate");
    assert_eq!(body["score"]["nps_category"], "promoter");
    let mut changed = response.clone();
    changed["answers"]["nps"] = json!(3);
    let (status, body) = server.post_json("client-portal", &changed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(server.count("client-portal").await, 1);
}

/// Sends `body` and checks the status, that the error mentions `needle`, and that nothing
/// was stored.
async fn refused(
    server: &TestServer,
    survey: &str,
    content_type: &str,
    body: String,
    status: StatusCode,
    needle: &str,
) -> Value {
    let (got_status, got_body) = server.post_raw(survey, content_type, body).await;
    assert_eq!(got_status, status, "{got_body}");
    assert!(
        got_body.to_string().contains(needle),
        "{got_body} should mention {needle}"
    );
    assert_eq!(
        server.count("client-portal").await,
        0,
        "nothing may be stored"
    );
    got_body
}

#[tokio::test]
async fn every_kind_of_bad_input_has_its_status_and_stores_nothing() {
    let server = TestServer::new().await;
    let valid = portal_response(3);
    let json_ct = "application/json";
    refused(
        &server,
        "client-portal",
        json_ct,
        "{\"format\": 1,".to_owned(),
        StatusCode::BAD_REQUEST,
        "malformed JSON",
    )
    .await;
    refused(
        &server,
        "client-portal",
        "text/plain",
        valid.to_string(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "application/json",
    )
    .await;
    let huge = json!({"padding": "x".repeat(70 * 1024)}).to_string();
    refused(
        &server,
        "client-portal",
        json_ct,
        huge,
        StatusCode::PAYLOAD_TOO_LARGE,
        "65536 bytes",
    )
    .await;
    refused(
        &server,
        "no-such-survey",
        json_ct,
        valid.to_string(),
        StatusCode::NOT_FOUND,
        "no survey",
    )
    .await;

    let mut out_of_range = valid.clone();
    out_of_range["answers"]["nps"] = json!(11);
    out_of_range["answers"]["trust"] = json!(0);
    let body = refused(
        &server,
        "client-portal",
        json_ct,
        out_of_range.to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "answers.nps must be 0..=10, got 11",
    )
    .await;
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|detail| detail["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["answers.nps", "answers.trust"]);

    let mut unknown_field = valid.clone();
    unknown_field["colour"] = json!("red");
    refused(
        &server,
        "client-portal",
        json_ct,
        unknown_field.to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field `colour`",
    )
    .await;
    let mut wrong_type = valid.clone();
    wrong_type["survey_version"] = json!("one");
    refused(
        &server,
        "client-portal",
        json_ct,
        wrong_type.to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "survey_version",
    )
    .await;
    let mut other_version = valid.clone();
    other_version["survey_version"] = json!(9);
    refused(
        &server,
        "client-portal",
        json_ct,
        other_version.to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "has no version 9",
    )
    .await;
    let mut other_survey = valid.clone();
    other_survey["survey_id"] = json!("post-negotiation");
    refused(
        &server,
        "client-portal",
        json_ct,
        other_survey.to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the survey in the URL",
    )
    .await;
    let mut anonymous_with_identity = valid.clone();
    anonymous_with_identity["confidentiality"] = json!("anonymous");
    refused(
        &server,
        "client-portal",
        json_ct,
        anonymous_with_identity.to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "confidentiality must be",
    )
    .await;
}

#[tokio::test]
async fn a_provisional_score_that_disagrees_is_counted_and_the_servers_score_is_stored() {
    let server = TestServer::new().await;
    let mut response = portal_response(4);
    response["provisional"] =
        json!({"nps_category": "detractor", "crq": 1.0, "relationship": "opponent"});
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["score"]["nps_category"], "promoter");
    assert_eq!(
        server
            .state
            .counters
            .score_mismatches
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    let mut agreeing = portal_response(5);
    agreeing["provisional"] = body["score"].clone();
    assert_eq!(
        server.post_json("client-portal", &agreeing).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        server
            .state
            .counters
            .score_mismatches
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// The error contract of ingest, one refusal of each kind, as the widget and integrators see
/// it: status and JSON body.
#[tokio::test]
async fn the_error_bodies_of_every_refusal() {
    let server = TestServer::new().await;
    let valid = portal_response(6);
    let with = |edit: fn(&mut Value)| {
        let mut response = valid.clone();
        edit(&mut response);
        response.to_string()
    };
    let cases: Vec<(&str, &str, &str, String)> = vec![
        (
            "malformed JSON",
            "client-portal",
            "application/json",
            "{\"format\": 1,".to_owned(),
        ),
        (
            "wrong content type",
            "client-portal",
            "text/plain",
            valid.to_string(),
        ),
        (
            "too large",
            "client-portal",
            "application/json",
            json!({"padding": "x".repeat(70 * 1024)}).to_string(),
        ),
        (
            "unknown survey",
            "no-such-survey",
            "application/json",
            valid.to_string(),
        ),
        (
            "unknown version",
            "client-portal",
            "application/json",
            with(|response| response["survey_version"] = json!(9)),
        ),
        (
            "out of range",
            "client-portal",
            "application/json",
            with(|response| response["answers"]["nps"] = json!(11)),
        ),
        (
            "unknown field",
            "client-portal",
            "application/json",
            with(|response| response["colour"] = json!("red")),
        ),
        (
            "unknown question",
            "client-portal",
            "application/json",
            with(|response| response["answers"]["speed"] = json!(4)),
        ),
    ];
    let mut seen = Vec::new();
    for (case, survey, content_type, body) in cases {
        let (status, body) = server.post_raw(survey, content_type, body).await;
        seen.push(json!({"case": case, "status": status.as_u16(), "body": body}));
    }
    assert_eq!(
        server.count("client-portal").await,
        0,
        "nothing may be stored"
    );
    insta::assert_json_snapshot!(seen);
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_and_nothing_is_stored() {
    let mut server = TestServer::new().await;
    server.state.rate_limiter = std::sync::Arc::new(rapport_server::rate_limit::RateLimiter::new(
        rapport_server::rate_limit::RateLimit {
            burst: 2,
            per_minute: 1,
        },
    ));
    for counter in 1..=2 {
        assert_eq!(
            server
                .post_json("client-portal", &portal_response(counter))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let request = axum::http::Request::post("/api/v1/surveys/client-portal/responses")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(portal_response(3).to_string()))
        .unwrap();
    let response = tower::ServiceExt::oneshot(rapport_server::app(server.state.clone()), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    assert_eq!(server.count("client-portal").await, 2);
    // Behind a trusted proxy, another client address has its own allowance.
    let request = axum::http::Request::post("/api/v1/surveys/client-portal/responses")
        .header("content-type", "application/json")
        .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
        .body(axum::body::Body::from(portal_response(4).to_string()))
        .unwrap();
    let response = tower::ServiceExt::oneshot(rapport_server::app(server.state.clone()), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// A widget's clock can be wrong by years. Its `submitted_at` is kept as it said, but the
/// order of responses is the server's order of receipt, and the wave is what the page or
/// the invitation named, never something derived from a timestamp.
#[tokio::test]
async fn a_skewed_widget_clock_changes_neither_order_nor_wave() {
    let server = TestServer::new().await;
    // Ids chosen so that sorting by id or by the widget's clock would give the wrong order.
    for (counter, submitted_at, wave) in [
        (0x30, "2099-01-01T00:00:00Z", "2026-h1"),
        (0x20, "1999-06-30T23:59:59+14:00", "2026-h1"),
        (0x10, "2026-11-23T09:30:00Z", "2026-h2"),
    ] {
        let mut response = portal_response(counter);
        response["submitted_at"] = json!(submitted_at);
        response["context"]["wave"] = json!(wave);
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let rows = server
        .state
        .store
        .export_rows("client-portal", 1)
        .await
        .unwrap();
    let order: Vec<&str> = rows
        .iter()
        .map(|row| &row.response_id[row.response_id.len() - 2..])
        .collect();
    assert_eq!(order, ["30", "20", "10"], "the order of receipt");
    assert_eq!(
        rows[0].submitted_at, "2099-01-01T00:00:00Z",
        "the widget's own clock is kept as it said"
    );
    let waves: Vec<Option<&str>> = rows.iter().map(|row| row.wave.as_deref()).collect();
    assert_eq!(waves, [Some("2026-h1"), Some("2026-h1"), Some("2026-h2")]);
    let records = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap();
    let definition = rapport_scoring::template("client-portal").unwrap();
    let by_wave = rapport_scoring::SegmentField::parse(&definition, "wave").unwrap();
    let report = rapport_scoring::build_report(
        &definition,
        &records,
        &rapport_scoring::ReportOptions {
            segments: vec![by_wave],
            min_group_size: Some(1),
            crossings: Vec::new(),
        },
    );
    let groups: Vec<(String, u64)> = report.segments[0]
        .groups
        .iter()
        .map(|group| (group.value.clone(), group.n))
        .collect();
    assert_eq!(
        groups,
        [("2026-h1".to_owned(), 2), ("2026-h2".to_owned(), 1)]
    );
}
