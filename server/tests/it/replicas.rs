//! Several `rapport serve` processes on one database, as behind a load balancer: they start
//! at the same moment on an empty database (so they race to migrate it), take responses
//! round-robin, receive the same response at the same moment, and answer the same
//! invitation at the same moment. Every response is stored exactly once and every
//! replica's report agrees. In the PostgreSQL run this is the deployment the scale issue
//! describes; in the SQLite run, processes sharing one file on one machine.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rapport_server::auth::{Role, new_token, token_hash};
use rapport_server::identity::IdentityKey;
use rapport_server::store::Store;
use serde_json::{Value, json};

use crate::support::{
    free_port, fresh_database_url, http, plain_invitation, portal_response, record_invitation,
};

struct Replica {
    child: Child,
    port: u16,
    /// Where the replica's log goes, to show when it fails to start.
    log: std::path::PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database_url: &str, key_file: &std::path::Path, dir: &std::path::Path) -> Replica {
    let port = free_port();
    let log = dir.join(format!("replica-{port}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database_url,
        ])
        .args(["--identity-key-file", key_file.to_str().unwrap()])
        .args([
            "--www-dir",
            dir.to_str().unwrap(),
            "--widget-dir",
            dir.to_str().unwrap(),
        ])
        .args([
            "--rate-limit-burst",
            "100000",
            "--rate-limit-per-minute",
            "1000000",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Replica { child, port, log }
}

fn wait_ready(replica: &mut Replica) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", replica.port)).is_ok()
            && http(
                replica.port,
                "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .starts_with("HTTP/1.1 200")
        {
            return;
        }
        let exited = replica.child.try_wait().unwrap();
        assert!(
            Instant::now() < deadline && exited.is_none(),
            "replica on port {} did not become ready ({}); its log:\n{}",
            replica.port,
            exited.map_or("still running".to_owned(), |status| status.to_string()),
            std::fs::read_to_string(&replica.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts a response; returns the status code and the JSON body.
fn post(port: u16, body: &Value) -> (u16, Value) {
    let body = body.to_string();
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
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn report(port: u16, token: &str) -> Value {
    let answer = http(
        port,
        &format!(
            "GET /api/v1/surveys/client-portal/report?by=account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_store_every_response_once_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("identity.key");
    let key = IdentityKey::load_or_create(&key_file).unwrap();

    // Three replicas started at once on an empty database: all must come up, migrated once.
    let mut replicas: Vec<Replica> = (0..3)
        .map(|_| start(&database_url, &key_file, dir.path()))
        .collect();
    for replica in &mut replicas {
        wait_ready(replica);
    }
    let ports: Vec<u16> = replicas.iter().map(|replica| replica.port).collect();
    let store = Store::open(&database_url).await.unwrap();

    // 120 distinct responses round-robin, from four threads.
    let threads: Vec<_> = (0..4u32)
        .map(|thread| {
            let ports = ports.clone();
            std::thread::spawn(move || {
                (0..30u32)
                    .map(|idx| {
                        let counter = thread * 30 + idx + 1;
                        let mut response = portal_response(counter);
                        response["context"]["account"] =
                            json!(["northwind", "contoso", "fabrikam"][counter as usize % 3]);
                        response["answers"]["nps"] = json!(counter % 11);
                        post(ports[counter as usize % ports.len()], &response).0
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");

    // The same response at the same moment to every replica, twenty times over: one is
    // stored, the others are told it is a duplicate, with the same score.
    for idx in 0..20u32 {
        let response = portal_response(1000 + idx);
        let barrier = Arc::new(Barrier::new(ports.len()));
        let senders: Vec<_> = ports
            .iter()
            .map(|port| {
                let (port, response, barrier) = (*port, response.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    post(port, &response)
                })
            })
            .collect();
        let answers: Vec<(u16, Value)> = senders
            .into_iter()
            .map(|sender| sender.join().unwrap())
            .collect();
        let mut codes: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        codes.sort_unstable();
        assert_eq!(codes, [200, 200, 201], "{answers:?}");
        assert!(
            answers
                .windows(2)
                .all(|pair| pair[0].1["score"] == pair[1].1["score"]),
            "{answers:?}"
        );
    }

    // One invitation answered at the same moment, with two different responses, on two
    // replicas: one answer stands, the other replaced it.
    let invitation = plain_invitation(
        "inv-race",
        "ana.ruiz@client.example",
        "northwind",
        Some("2026-h2"),
    );
    let token = record_invitation(&store, &key, &invitation).await;
    let barrier = Arc::new(Barrier::new(2));
    let racers: Vec<_> = [(ports[0], 2001u32), (ports[1], 2002)]
        .into_iter()
        .map(|(port, counter)| {
            let mut response = portal_response(counter);
            response["invitation"] = json!(token);
            response.as_object_mut().unwrap().remove("identity");
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                post(port, &response)
            })
        })
        .collect();
    let mut codes: Vec<u16> = racers
        .into_iter()
        .map(|racer| racer.join().unwrap().0)
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, [200, 201], "one stored, then replaced by the other");

    // 120 + 20 + 1 responses, each once.
    assert_eq!(store.count_responses("client-portal").await.unwrap(), 141);
    let answered_by = store
        .invitation_state("inv-race")
        .await
        .unwrap()
        .flatten()
        .expect("the invitation is answered");
    let racing = |id: &str| id.ends_with("7d1") || id.ends_with("7d2");
    let invited = store
        .export_rows("client-portal", 1)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| racing(&row.response_id))
        .count();
    assert_eq!(invited, 1, "exactly one of the two racing answers remains");
    assert!(racing(&answered_by), "{answered_by}");

    // Every replica reports the same figures.
    let admin = new_token().unwrap();
    store
        .add_token(&token_hash(&admin), Role::Admin, &[], None)
        .await
        .unwrap();
    let reports: Vec<Value> = ports.iter().map(|port| report(*port, &admin)).collect();
    assert_eq!(reports[0]["n"], 141);
    assert!(
        reports.windows(2).all(|pair| pair[0] == pair[1]),
        "replicas disagree"
    );
    store.close().await;
}
