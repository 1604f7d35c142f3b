//! No acknowledged response is lost when the server is killed: responses are sent from
//! several threads while `rapport serve` is killed with SIGKILL at random moments and
//! restarted, several times. Afterwards every response that got a 2xx is stored, the
//! responses whose answer never came are sent again (as the widget's outbox does) and are
//! stored once, and the database passes its integrity check. Prints the figure for
//! docs/RELIABILITY.md:
//! `cargo test -p rapport-server --test it crash -- --nocapture` (and with
//! `RAPPORT_TEST_BACKEND=postgres`).

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rapport_server::store::Store;
use serde_json::json;

use crate::support::{free_port, fresh_database_url, on_postgres, portal_response};

fn start(database_url: &str, dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database_url,
        ])
        .args([
            "--identity-key-file",
            dir.join("identity.key").to_str().unwrap(),
        ])
        .args([
            "--www-dir",
            dir.to_str().unwrap(),
            "--widget-dir",
            dir.to_str().unwrap(),
        ])
        .args([
            "--rate-limit-burst",
            "1000000",
            "--rate-limit-per-minute",
            "100000000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Posts one response; `Some(status)` when an answer came, `None` when the connection
/// failed or was cut before one did.
fn post(port: u16, counter: u32) -> Option<u16> {
    let mut response = portal_response(counter);
    response["answers"]["nps"] = json!(counter % 11);
    let body = response.to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let request = format!(
        "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.get(9..12)?.parse().ok()
}

/// A small deterministic generator for the kill moments; the seed is printed so a run can
/// be repeated.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_acknowledged_before_a_sigkill_are_all_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let printed_seed = seed;
    let next_id = Arc::new(AtomicU32::new(1));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let unanswered = Arc::new(Mutex::new(BTreeSet::new()));
    const KILLS: usize = 5;
    const MIN_PER_ROUND: usize = 12;

    for _ in 0..KILLS {
        let port = free_port();
        let mut child = start(&database_url, dir.path(), port);
        wait_listening(port);
        let running = Arc::new(AtomicBool::new(true));
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let (next_id, acknowledged, unanswered, running) = (
                    Arc::clone(&next_id),
                    Arc::clone(&acknowledged),
                    Arc::clone(&unanswered),
                    Arc::clone(&running),
                );
                std::thread::spawn(move || {
                    while running.load(Ordering::Relaxed) {
                        let counter = next_id.fetch_add(1, Ordering::Relaxed);
                        match post(port, counter) {
                            Some(status) if (200..300).contains(&status) => {
                                acknowledged.lock().unwrap().insert(counter);
                            }
                            Some(status) => panic!("response {counter} refused with {status}"),
                            None => {
                                unanswered.lock().unwrap().insert(counter);
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        // Some answers through in every round, however loaded the machine, so that the
        // test is never vacuous; then a random moment, mid-write, for the kill.
        let round_start = acknowledged.lock().unwrap().len();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().unwrap().len() < round_start + MIN_PER_ROUND {
            assert!(
                std::time::Instant::now() < deadline,
                "the server acknowledged fewer than {MIN_PER_ROUND} responses in a minute"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(next(&mut seed) % 600));
        child.kill().unwrap(); // SIGKILL: no shutdown, no flush, no goodbye.
        child.wait().unwrap();
        running.store(false, Ordering::Relaxed);
        for sender in senders {
            sender.join().unwrap();
        }
    }

    // Restart once more and send again what never got an answer, as the widget would.
    let port = free_port();
    let mut child = start(&database_url, dir.path(), port);
    wait_listening(port);
    let resent: Vec<u32> = unanswered.lock().unwrap().iter().copied().collect();
    for counter in &resent {
        let status = post(port, *counter).expect("the restarted server answers");
        assert!(
            status == 200 || status == 201,
            "resend of {counter} got {status}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Store::open(&database_url).await.unwrap();
    let stored: BTreeSet<u32> = store
        .export_rows("client-portal", 1)
        .await
        .unwrap()
        .iter()
        .map(|row| u32::from_str_radix(row.response_id.rsplit('-').next().unwrap(), 16).unwrap())
        .collect();
    let rows = store.count_responses("client-portal").await.unwrap();
    store.close().await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    let lost: Vec<&u32> = acknowledged.difference(&stored).collect();
    let sent: BTreeSet<u32> = acknowledged.iter().chain(&resent).copied().collect();
    println!(
        "crash test ({}, seed {printed_seed}): {KILLS} SIGKILLs; acknowledged {}, unanswered then resent {}, stored {}, lost {}, duplicated {}",
        if on_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        acknowledged.len(),
        resent.len(),
        stored.len(),
        lost.len(),
        rows - stored.len() as u64,
    );
    assert!(
        acknowledged.len() >= KILLS * MIN_PER_ROUND,
        "the test must get some responses through: {}",
        acknowledged.len()
    );
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert_eq!(
        stored, sent,
        "after the resends, exactly what was sent is stored"
    );
    assert_eq!(rows, stored.len() as u64, "no response is stored twice");

    let integrity = integrity_check(&database_url).await;
    assert_eq!(
        integrity, "ok",
        "the database is intact after {KILLS} kills"
    );
}

/// SQLite's `PRAGMA integrity_check`; on PostgreSQL, which guards its own files, the check
/// that every sealed identity still belongs to a stored response.
async fn integrity_check(url: &str) -> String {
    use sqlx::Connection as _;
    if on_postgres() {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
        let orphans: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM respondent_identities i LEFT JOIN responses r ON r.response_id = i.response_id WHERE r.response_id IS NULL")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        return if orphans == 0 {
            "ok".to_owned()
        } else {
            format!("{orphans} orphaned identities")
        };
    }
    let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .unwrap()
}
