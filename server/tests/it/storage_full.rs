//! A database that cannot take writes: the server answers 503 with a clear message and
//! stores nothing, never a 2xx it cannot keep, and takes responses again once it can.
//!
//! On SQLite the disk fills for real: the server runs under a file-size limit
//! (`ulimit -f`), so its writes fail with EFBIG exactly as they would with ENOSPC, and the
//! limit is lifted (`prlimit`) while it runs. On PostgreSQL the database is switched to
//! read-only under the running server, then back.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rapport_server::store::Store;
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::support::{free_port, fresh_database_url, http, on_postgres, portal_response};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server, under a file-size limit of `limit_kib` when given (SIGXFSZ ignored,
/// so an oversized write fails instead of killing the process).
fn start(database_url: &str, dir: &std::path::Path, limit_kib: Option<u32>) -> Server {
    let port = free_port();
    let serve = format!(
        "exec \"$0\" serve --listen 127.0.0.1:{port} --database-url '{database_url}' --identity-key-file '{}' --www-dir '{dir}' --widget-dir '{dir}' --rate-limit-burst 100000",
        dir.join("identity.key").display(),
        dir = dir.display(),
    );
    let script = match limit_kib {
        Some(kib) => format!("trap '' XFSZ; ulimit -S -f {kib}; {serve}"),
        None => serve,
    };
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_rapport")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, port }
}

fn post(port: u16, counter: u32) -> (u16, Value) {
    let mut response = portal_response(counter);
    // About 1.5 KB of text each, so the database grows quickly.
    response["answers"]["strength"] = json!(format!("{counter} ").repeat(300));
    let body = response.to_string();
    let answer = http(
        port,
        &format!(
            "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (
        status,
        answer
            .split_once("\r\n\r\n")
            .and_then(|(_, body)| serde_json::from_str(body).ok())
            .unwrap_or(Value::Null),
    )
}

/// Posts `range`, recording the acknowledged; checks every refusal is the clear 503.
fn post_all(port: u16, range: std::ops::Range<u32>, acknowledged: &mut BTreeSet<u32>) -> usize {
    let mut refused = 0;
    for counter in range {
        match post(port, counter) {
            (200 | 201, _) => {
                acknowledged.insert(counter);
            }
            (503, body) => {
                let message = body["error"].as_str().unwrap_or_default();
                assert!(
                    message.contains("cannot store responses right now")
                        && message.contains("nothing was stored"),
                    "{body}"
                );
                refused += 1;
            }
            (status, body) => {
                panic!("response {counter}: unexpected {status} {body}; see the server log")
            }
        }
    }
    refused
}

async fn set_read_only(url: &str, read_only: bool) {
    let (server, database) = url.rsplit_once('/').unwrap();
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    let setting = if read_only {
        "SET default_transaction_read_only = on"
    } else {
        "RESET default_transaction_read_only"
    };
    sqlx::query(&format!("ALTER DATABASE {database} {setting}"))
        .execute(&mut admin)
        .await
        .unwrap();
    // Sessions take the setting when they start: end the server's, its pool reconnects.
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()").bind(database).execute(&mut admin).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_or_read_only_database_gets_503s_never_a_false_2xx_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let mut acknowledged = BTreeSet::new();
    let server = if on_postgres() {
        let server = start(&url, dir.path(), None);
        assert_eq!(post_all(server.port, 1..11, &mut acknowledged), 0);
        set_read_only(&url, true).await;
        assert_eq!(
            post_all(server.port, 11..21, &mut acknowledged),
            10,
            "a read-only database takes nothing"
        );
        set_read_only(&url, false).await;
        server
    } else {
        // Room for the schema (the migrations write about 560 KB of WAL) and a few hundred
        // responses, then the disk is full. `sh` counts the limit in 512-byte blocks.
        let server = start(&url, dir.path(), Some(2000));
        let refused = post_all(server.port, 1..1001, &mut acknowledged);
        assert!(refused > 0, "the limit was never reached");
        let limit = Command::new("prlimit")
            .args([
                "--pid",
                &server.child.id().to_string(),
                "--fsize=unlimited:",
            ])
            .status()
            .unwrap();
        assert!(limit.success(), "prlimit could not lift the limit");
        server
    };
    // Space (or write access) is back: responses are taken again.
    let before = acknowledged.len();
    assert_eq!(
        post_all(server.port, 200..220, &mut acknowledged),
        0,
        "the server recovers"
    );
    assert_eq!(acknowledged.len(), before + 20);
    drop(server);

    let store = Store::open(&url).await.unwrap();
    let stored: BTreeSet<u32> = store
        .export_rows("client-portal", 1)
        .await
        .unwrap()
        .iter()
        .map(|row| u32::from_str_radix(row.response_id.rsplit('-').next().unwrap(), 16).unwrap())
        .collect();
    store.close().await;
    let lost: Vec<&u32> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert_eq!(stored, acknowledged, "nothing refused was stored");
}
