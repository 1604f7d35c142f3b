//! The router behind a real listener on 127.0.0.1:0, in this process, served as `rapport
//! serve` serves it: what only real connections show, such as many clients resending the
//! same response at the same moment, and clients that send slowly or not at all. These
//! tests must never depend on a fixed port.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use rapport_server::connection::ConnectionLimits;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{TestServer, portal_response};

/// Serves the test state on a fresh loopback port and returns the port.
async fn listen(server: &TestServer) -> u16 {
    listen_with(server, ConnectionLimits::default()).await
}

/// Serves the test state on a fresh loopback port with these time limits.
async fn listen_with(server: &TestServer, limits: ConnectionLimits) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = rapport_server::app(server.state.clone());
    tokio::spawn(rapport_server::connection::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    port
}

/// Two-second limits, so that a test of them waits seconds, not the defaults' tens.
const SHORT: ConnectionLimits = ConnectionLimits {
    header: Duration::from_secs(2),
    body: Duration::from_secs(2),
};

/// Whether the server closed `stream`, reading and dropping whatever it answered first;
/// gives up after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> (bool, String) {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return (false, String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(0) | Err(_)) => return (true, String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(read)) => answer.extend_from_slice(&buffer[..read]),
        }
    }
}

/// Slowloris: headers sent a byte at a time, never finished. The server cuts the
/// connection at its header limit, although bytes keep coming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_headers_a_byte_at_a_time_is_cut_at_the_header_limit() {
    let server = TestServer::new().await;
    let port = listen_with(&server, SHORT).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let started = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut = false;
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let (closed, _) = closed_within(&mut stream, Duration::from_millis(100)).await;
        if closed {
            cut = true;
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "still open after 6 s of slow headers"
        );
    }
    let elapsed = started.elapsed();
    assert!(cut, "the connection outlived the whole slow header");
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5),
        "cut at the 2 s limit, after {elapsed:?}"
    );
}

/// An idle keep-alive connection, and one that never sends a byte, are closed at the
/// header limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_at_the_header_limit() {
    let server = TestServer::new().await;
    let port = listen_with(&server, SHORT).await;
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut kept_alive = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let started = Instant::now();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1024];
    let read = kept_alive.read(&mut first).await.unwrap();
    assert!(
        String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"),
        "the first request is answered and the connection kept"
    );
    for (name, stream) in [("silent", &mut silent), ("kept alive", &mut kept_alive)] {
        let (closed, _) = closed_within(stream, Duration::from_secs(6)).await;
        let elapsed = started.elapsed();
        assert!(closed, "{name}: still open after {elapsed:?}");
        assert!(
            elapsed >= Duration::from_millis(1500),
            "{name}: closed before the limit, after {elapsed:?}"
        );
    }
}

/// A body sent at one byte a second is cut at the body limit with a 408, however steadily
/// it trickles, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_a_second_is_cut_at_the_body_limit() {
    let server = TestServer::new().await;
    let port = listen_with(&server, SHORT).await;
    let body = portal_response(60).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    let mut cut = false;
    for byte in body.as_bytes() {
        if stream.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let (closed, text) = closed_within(&mut stream, Duration::from_millis(500)).await;
        answer.push_str(&text);
        if closed {
            cut = true;
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "still open after 8 s of a slow body"
        );
    }
    let elapsed = started.elapsed();
    assert!(cut, "the connection outlived the whole slow body");
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(6),
        "cut at the 2 s limit, after {elapsed:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(server.count("client-portal").await, 0);
}

/// The limits cut only the slow: a request sent whole at once is answered as before, and a
/// keep-alive connection carries several requests within the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limits_leave_prompt_clients_alone() {
    let server = TestServer::new().await;
    let port = listen_with(&server, SHORT).await;
    let (status, receipt) = request(
        port,
        "POST",
        "/api/v1/surveys/client-portal/responses",
        &portal_response(61).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut answer = [0u8; 1024];
        let read = stream.read(&mut answer).await.unwrap();
        assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
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
