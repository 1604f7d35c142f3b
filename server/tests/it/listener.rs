//! The router behind a real listener on 127.0.0.1:0, in this process: what only real
//! connections show, such as many clients resending the same response at the same moment.
//! These tests must never depend on a fixed port.

use axum::http::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{TestServer, portal_response};

/// Serves the test state on a fresh loopback port and returns the port.
async fn listen(server: &TestServer) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = rapport_server::app(server.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    port
}

/// One HTTP/1.1 request on its own connection; returns the status and the JSON body.
async fn request(port: u16, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_survey_over_a_real_connection() {
    let server = TestServer::new().await;
    let port = listen(&server).await;
    assert_eq!(request(port, "GET", "/healthz", "").await.0, StatusCode::OK);
    let (status, definition) = request(port, "GET", "/api/v1/surveys/client-portal", "").await;
    assert_eq!(
        (
            status,
            definition["id"].as_str(),
            definition["version"].as_u64()
        ),
        (StatusCode::OK, Some("client-portal"), Some(1))
    );
}

/// A widget that retries while its first request is still in flight sends the same response
/// several times at once: exactly one is stored, and every other answer is the duplicate's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resends_store_one_row() {
    let server = TestServer::new().await;
    let port = listen(&server).await;
    let body = portal_response(50).to_string();
    let sends: Vec<_> = (0..8)
        .map(|_| {
            let body = body.clone();
            tokio::spawn(async move {
                request(
                    port,
                    "POST",
                    "/api/v1/surveys/client-portal/responses",
                    &body,
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for send in sends {
        let (status, receipt) = send.await.unwrap();
        assert_eq!(receipt["score"]["nps_category"], "promoter", "{receipt}");
        statuses.push((
            status,
            receipt["status"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    statuses.sort();
    let mut expected = vec![(StatusCode::OK, "duplicate".to_owned()); 7];
    expected.push((StatusCode::CREATED, "stored".to_owned()));
    assert_eq!(statuses, expected);
    assert_eq!(server.count("client-portal").await, 1);
}
