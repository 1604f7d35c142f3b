//! The real `rapport serve` on a real port with a real database (a SQLite file, or
//! PostgreSQL in the suite's PostgreSQL run): pages and the widget
//! bundle are served, CORS admits only configured origins, responses are stored, and
//! SIGTERM stops the server cleanly.

use std::io::Read as _;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{free_port, http};

pub(crate) struct Running {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path, database_url: &str) -> Running {
    start_with(dir, database_url, &[])
}

/// Starts `rapport serve` with `extra` flags besides those every test uses.
pub(crate) fn start_with(dir: &std::path::Path, database_url: &str, extra: &[&str]) -> Running {
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::create_dir_all(dir.join("widget")).unwrap();
    std::fs::write(
        dir.join("www/index.html"),
        "<!doctype html><title>Portal</title><rapport-survey></rapport-survey>",
    )
    .unwrap();
    std::fs::write(dir.join("widget/rapport_core_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", database_url])
        .args([
            "--www-dir",
            dir.join("www").to_str().unwrap(),
            "--widget-dir",
            dir.join("widget").to_str().unwrap(),
        ])
        .args([
            "--identity-key-file",
            dir.join("identity.key").to_str().unwrap(),
        ])
        .args(["--allow-origin", "https://portal.example"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Running { child, port }
}

#[tokio::test]
async fn pages_bundle_cors_ingest_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::support::fresh_database_url(dir.path()).await;
    let mut server = start(dir.path(), &database_url);
    let port = server.port;

    let page = http(
        port,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("<rapport-survey>"),
        "{page}"
    );
    let wasm = http(
        port,
        "GET /widget/rapport_core_bg.wasm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        wasm.to_lowercase()
            .contains("content-type: application/wasm"),
        "{wasm}"
    );

    let preflight = |origin: &str| {
        http(
            port,
            &format!(
                "OPTIONS /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
                 Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
            ),
        )
        .to_lowercase()
    };
    assert!(
        preflight("https://portal.example")
            .contains("access-control-allow-origin: https://portal.example")
    );
    assert!(!preflight("https://evil.example").contains("access-control-allow-origin"));

    let body = r#"{"format":1,"response_id":"00000000-0000-4000-8000-0000000000b1","survey_id":"client-portal","survey_version":1,"answers":{"nps":10},"confidentiality":"confidential","submitted_at":"2026-11-23T09:30:00Z"}"#;
    let posted = http(
        port,
        &format!(
            "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(posted.starts_with("HTTP/1.1 201"), "{posted}");

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let mut log = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("stopped after finishing in-flight requests"),
        "{log}"
    );
    assert!(
        !log.contains(
            &std::fs::read_to_string(dir.path().join("identity.key"))
                .unwrap()
                .trim()
                .to_owned()
        ),
        "the key must never be logged"
    );
}

/// A restarted server reads the report columns of its surveys in the background, so the
/// first dashboard after a start does not have to.
#[tokio::test]
async fn a_started_server_reads_report_columns_before_anyone_asks() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::support::fresh_database_url(dir.path()).await;
    {
        let server = start(dir.path(), &database_url);
        for counter in 1..=3 {
            let body = format!(
                r#"{{"format":1,"response_id":"00000000-0000-4000-8000-0000000000c{counter}","survey_id":"client-portal","survey_version":1,"answers":{{"nps":{counter}}},"confidentiality":"identified","submitted_at":"2026-11-23T09:30:00Z"}}"#
            );
            let posted = http(
                server.port,
                &format!(
                    "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            );
            assert!(posted.starts_with("HTTP/1.1 201"), "{posted}");
        }
    }
    let mut server = start(dir.path(), &database_url);
    let stderr = server.child.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let line = loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logged no \"report columns read\"");
        if line.contains("report columns read") {
            break line;
        }
    };
    // Without the terminal colours the log may carry.
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            plain.push(c);
        }
    }
    assert!(plain.contains("report columns read responses=3"), "{plain}");
}

/// `rapport serve --header-timeout-seconds 2`: a client that sends its headers a byte at a
/// time is cut after two seconds, while pages still carry their security headers.
#[tokio::test]
async fn the_binary_cuts_slow_headers_at_its_configured_limit() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::support::fresh_database_url(dir.path()).await;
    let server = start_with(
        dir.path(),
        &database_url,
        &["--header-timeout-seconds", "2"],
    );
    let page = http(
        server.port,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .to_lowercase();
    for header in [
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
        "content-security-policy: default-src 'self'",
    ] {
        assert!(page.contains(header), "{header} missing: {page}");
    }

    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    let closed = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        .iter()
        .any(|byte| {
            if stream.write_all(&[*byte]).is_err() {
                return true;
            }
            let mut buffer = [0u8; 256];
            // A read that times out means open; 0 bytes or a reset means closed.
            match stream.read(&mut buffer) {
                Ok(0) => true,
                Ok(_) => false,
                Err(error) => !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
            }
        });
    let elapsed = started.elapsed();
    assert!(closed, "the slow connection was never cut");
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(6),
        "cut at the 2 s limit, after {elapsed:?}"
    );
}
