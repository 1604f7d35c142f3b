//! Webhooks through real sockets: a receiver listening on 127.0.0.1 in this test, the
//! dispatcher posting to it, the signature checked as a receiver would, retries against a
//! receiver that fails, the delivery log, two dispatchers on one database, the command line,
//! the admin's page, and the refusals: no confidential or anonymous answer produces any
//! webhook content.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use rapport_server::store::Store;
use rapport_server::webhooks::{
    self, DELIVERY_HEADER, DeliverySettings, Dispatcher, EVENT_HEADER, EventKind, SIGNATURE_HEADER,
    WebhookFormat, WebhookSpec, WebhookUrl,
};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, database_url, portal_response, post_invited, token};

const SECRET_NAME: &str = "Sigrid Secret";
const SECRET_EMAIL: &str = "sigrid.secret@client.example";
const SECRET_COMMENT: &str = "The partner ignored three of our emails";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    at: Instant,
    headers: HeaderMap,
    body: String,
}

/// A receiver on a real port that records every request and answers 503 to the first
/// `failures` of them, then 204.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        let router = axum::Router::new().route(
            "/hook/{*rest}",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let log = Arc::clone(&log);
                async move {
                    let mut log = log.lock().unwrap();
                    log.push(Received {
                        at: Instant::now(),
                        headers,
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    });
                    if log.len() <= failures {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Receiver {
            url: format!("http://{address}/hook/T000/B000/not-for-the-page"),
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Settings that retry within the test's patience.
fn quick() -> DeliverySettings {
    DeliverySettings {
        poll_interval: Duration::from_millis(20),
        retry_base: Duration::from_millis(300),
        retry_cap: Duration::from_secs(5),
        max_attempts: 5,
        request_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(30),
        keep_log: Duration::from_secs(3600),
    }
}

async fn add(
    store: &Store,
    url: &str,
    format: WebhookFormat,
    events: &[EventKind],
) -> webhooks::AddedWebhook {
    webhooks::add_webhook(
        store,
        WebhookSpec {
            url: WebhookUrl::new(url).unwrap(),
            format,
            events: events.to_vec(),
            survey_id: None,
            label: Some("tests".to_owned()),
        },
        "command line",
    )
    .await
    .unwrap()
}

const BOTH: [EventKind; 2] = [
    EventKind::ResponseReceived,
    EventKind::CloseTheLoopTriggered,
];

/// Runs `dispatcher` until `done` holds for what `receiver` got, for at most 15 seconds.
async fn run_until(
    dispatcher: &Dispatcher,
    receiver: &Receiver,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let started = Instant::now();
    loop {
        dispatcher.scan().await.unwrap();
        dispatcher.deliver_due().await.unwrap();
        let received = receiver.received();
        if done(&received) {
            return received;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the receiver got {} request(s): {:?}",
            received.len(),
            received.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An identified response with `counter`, `nps` and `trust` to `account`, posted.
async fn post_identified(server: &TestServer, counter: u32, account: &str, nps: u8, trust: u8) {
    let mut response = portal_response(counter);
    response["confidentiality"] = json!("identified");
    response["identity"] = json!({"name": "Known Person", "email": "known.person@client.example"});
    response["context"] = json!({"account": account, "wave": "2026-h2"});
    response["answers"]["nps"] = json!(nps);
    response["answers"]["trust"] = json!(trust);
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

fn response_id(counter: u32) -> String {
    format!("00000000-0000-4000-8000-{counter:012x}")
}

/// What the Python snippet of docs/WEBHOOKS.md says of `body` with `signature`.
fn python_verifies(secret: &str, signature: &str, body: &str) -> String {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/WEBHOOKS.md"),
    )
    .unwrap();
    let snippet = guide
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/WEBHOOKS.md has a Python snippet");
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "{snippet}\nimport sys\nprint(verify(sys.argv[1], sys.argv[2], sys.argv[3].encode()))"
        ))
        .args([secret, signature, body])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn an_identified_detractor_is_posted_signed_once_per_event() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    // A response before the webhook exists is not posted: a webhook is about new responses.
    post_identified(&server, 1, "northwind", 2, 1).await;
    let receiver = Receiver::start(0).await;
    let added = add(store, &receiver.url, WebhookFormat::Json, &BOTH).await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();
    dispatcher.scan().await.unwrap();
    post_identified(&server, 2, "northwind", 3, 2).await;

    let received = run_until(&dispatcher, &receiver, |received| received.len() >= 2).await;
    // Nothing more arrives: each event once.
    dispatcher.scan().await.unwrap();
    dispatcher.deliver_due().await.unwrap();
    let received = if receiver.received().len() > received.len() {
        receiver.received()
    } else {
        received
    };
    assert_eq!(received.len(), 2, "{received:?}");

    let mut events = Vec::new();
    for request in &received {
        let signature = request.headers[SIGNATURE_HEADER].to_str().unwrap();
        let now = rapport_server::invitation::now_seconds();
        assert!(
            webhooks::verify_signature(&added.secret, signature, &request.body, now, 300),
            "{signature} does not verify"
        );
        // Another secret, or a changed body, does not verify.
        assert!(!webhooks::verify_signature(
            &"ab".repeat(32),
            signature,
            &request.body,
            now,
            300
        ));
        assert!(!webhooks::verify_signature(
            &added.secret,
            signature,
            &request.body.replace("northwind", "contoso"),
            now,
            300
        ));
        assert_eq!(request.headers[header::CONTENT_TYPE], "application/json");
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(
            request.headers[EVENT_HEADER],
            body["event"].as_str().unwrap()
        );
        assert_eq!(
            request.headers[DELIVERY_HEADER],
            body["event_id"].as_str().unwrap()
        );
        assert_eq!(body["response"]["id"], json!(response_id(2)));
        assert_eq!(body["response"]["account"], json!("northwind"));
        assert_eq!(body["response"]["confidentiality"], json!("identified"));
        assert_eq!(body["response"]["nps"], json!(3));
        assert_eq!(body["response"]["nps_category"], json!("detractor"));
        assert_eq!(body["survey"], json!({"id": "client-portal", "version": 1}));
        // Even an identified respondent's identity stays out of a webhook.
        assert!(
            !request.body.contains("Known Person") && !request.body.contains("known.person"),
            "{}",
            request.body
        );
        events.push(body);
    }
    events.sort_by_key(|event| event["event"].as_str().unwrap().to_owned());
    assert_eq!(events[0]["event"], json!("close_the_loop.triggered"));
    assert_eq!(
        events[0]["reasons"][0],
        json!({"kind": "detractor"}),
        "{}",
        events[0]
    );
    assert!(
        events[0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "low_element", "element": "trust", "rating": 2})),
        "{}",
        events[0]
    );
    assert_eq!(events[1]["event"], json!("response.received"));
    assert!(events[1].get("reasons").is_none(), "{}", events[1]);

    // The guide's Python receiver, verbatim, accepts a real delivery and refuses it changed.
    let signature = received[0].headers[SIGNATURE_HEADER].to_str().unwrap();
    assert_eq!(
        python_verifies(&added.secret, signature, &received[0].body),
        "True"
    );
    assert_eq!(
        python_verifies(
            &added.secret,
            signature,
            &received[0].body.replace("northwind", "contoso")
        ),
        "False"
    );

    let log = store.webhook_deliveries(10).await.unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    for delivery in &log {
        assert_eq!(
            (delivery.status.as_str(), delivery.attempts),
            ("delivered", 1)
        );
        assert_eq!(delivery.last_http_status, Some(204));
        assert!(delivery.delivered_at.is_some());
    }
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_doubling_waits_and_each_attempt_is_logged() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(2).await;
    add(
        store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();
    post_identified(&server, 1, "northwind", 9, 6).await;

    // After the first failure, the log shows it and waits.
    let received = run_until(&dispatcher, &receiver, |received| !received.is_empty()).await;
    assert_eq!(received.len(), 1);
    let log = store.webhook_deliveries(10).await.unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("pending", 1));
    assert_eq!(log[0].last_http_status, Some(503));
    assert_eq!(
        log[0].last_error.as_deref(),
        Some("the receiver answered 503")
    );
    assert!(log[0].delivered_at.is_none());

    let received = run_until(&dispatcher, &receiver, |received| received.len() >= 3).await;
    assert_eq!(received.len(), 3);
    // The same event and body each time, signed anew.
    assert!(received.windows(2).all(|pair| pair[0].body == pair[1].body
        && pair[0].headers[DELIVERY_HEADER] == pair[1].headers[DELIVERY_HEADER]));
    let first_wait = received[1].at - received[0].at;
    let second_wait = received[2].at - received[1].at;
    assert!(
        first_wait >= Duration::from_millis(300),
        "first retry after {first_wait:?}"
    );
    assert!(
        second_wait >= Duration::from_millis(600),
        "second retry after {second_wait:?}, not twice the first wait"
    );
    let log = store.webhook_deliveries(10).await.unwrap();
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("delivered", 3));
    assert_eq!(log[0].last_http_status, Some(204));
}

#[tokio::test]
async fn a_delivery_is_given_up_after_its_last_attempt() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(usize::MAX).await;
    add(
        store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let settings = DeliverySettings {
        retry_base: Duration::from_millis(50),
        max_attempts: 3,
        ..quick()
    };
    let dispatcher = Dispatcher::new(store.clone(), settings).unwrap();
    post_identified(&server, 1, "northwind", 9, 6).await;
    run_until(&dispatcher, &receiver, |received| received.len() >= 3).await;
    // Well past any further backoff, nothing more is sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    dispatcher.deliver_due().await.unwrap();
    assert_eq!(receiver.received().len(), 3);
    let log = store.webhook_deliveries(10).await.unwrap();
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("failed", 3));
}

#[tokio::test]
async fn an_unreachable_receiver_is_logged_with_its_error() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let port = crate::support::free_port();
    add(
        store,
        &format!("http://127.0.0.1:{port}/hook/secretpath"),
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();
    post_identified(&server, 1, "northwind", 9, 6).await;
    dispatcher.scan().await.unwrap();
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 1);
    let log = store.webhook_deliveries(10).await.unwrap();
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("pending", 1));
    assert_eq!(log[0].last_http_status, None);
    // The error says what went wrong, and never repeats the URL's path, which may be a
    // credential and is shown on the dashboard.
    assert!(
        log[0]
            .last_error
            .as_deref()
            .is_some_and(|error| !error.is_empty() && !error.contains("secretpath")),
        "{log:?}"
    );
    // Not due again before its backoff.
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 0);
}

/// The refusal: a confidential answer that names its respondent, says something harsh and
/// needs a conversation, verified by an invitation, together with enough others to publish a
/// batch, and an anonymous one, produce no webhook content at all, in either format. An
/// identified answer posted after them shows the dispatcher went past them.
#[tokio::test]
async fn confidential_and_anonymous_answers_produce_no_webhook_content() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(0).await;
    add(store, &receiver.url, WebhookFormat::Json, &BOTH).await;
    add(store, &receiver.url, WebhookFormat::Slack, &BOTH).await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();

    // Five confidential detractors through invitations: a whole published batch.
    for counter in 1..=5 {
        let mut response = portal_response(counter);
        response["confidentiality"] = json!("confidential");
        response["identity"] = json!({"name": SECRET_NAME, "email": SECRET_EMAIL});
        response["answers"]["nps"] = json!(2);
        response["answers"]["trust"] = json!(1);
        response["answers"]["weakness"] = json!(SECRET_COMMENT);
        post_invited(&server, &mut response, "northwind", "2026-h2").await;
    }
    // An anonymous detractor who rates the contract experience low, on an anonymous survey.
    let mut definition = rapport_scoring::template("post-negotiation").unwrap();
    definition.version = 2;
    definition.confidentiality = rapport_scoring::ConfidentialityMode::Anonymous;
    store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();
    let anonymous = json!({
        "format": 1,
        "response_id": response_id(6),
        "survey_id": "post-negotiation",
        "survey_version": 2,
        "answers": {"nps": 1, "kept-informed": 1},
        "confidentiality": "anonymous",
        "context": {"account": "northwind"},
        "submitted_at": "2026-11-23T09:30:00Z"
    });
    let (status, body) = server.post_json("post-negotiation", &anonymous).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The identified promoter that follows them, with no reason for a conversation.
    post_identified(&server, 7, "contoso", 10, 7).await;

    let received = run_until(&dispatcher, &receiver, |received| {
        received
            .iter()
            .filter(|request| request.body.contains("contoso"))
            .count()
            >= 2
    })
    .await;
    dispatcher.scan().await.unwrap();
    dispatcher.deliver_due().await.unwrap();
    let received: Vec<Received> = receiver.received().into_iter().chain(received).collect();
    let stored: Vec<String> = store
        .webhook_deliveries(100)
        .await
        .unwrap()
        .into_iter()
        .map(|delivery| delivery.body)
        .collect();
    // One event per webhook, both about the identified promoter.
    assert_eq!(stored.len(), 2, "{stored:?}");
    let protected_ids: Vec<String> = (1..=6).map(response_id).collect();
    for body in received
        .iter()
        .map(|request| &request.body)
        .chain(stored.iter())
    {
        for secret in [SECRET_NAME, SECRET_EMAIL, SECRET_COMMENT, "northwind"] {
            assert!(!body.contains(secret), "{secret:?} in {body}");
        }
        for id in &protected_ids {
            assert!(!body.contains(id.as_str()), "{id} in {body}");
        }
        // Neither the confidential nor the anonymous exact score.
        for score in [
            "\"nps\":2,",
            "\"nps\":1,",
            " 2/10",
            " 1/10",
            "close_the_loop",
        ] {
            assert!(!body.contains(score), "{score:?} in {body}");
        }
        assert!(
            !body.contains("Close the loop"),
            "a close-the-loop notice in {body}"
        );
    }
    assert!(
        received
            .iter()
            .any(|request| request.body.starts_with("{\"text\":")),
        "the Slack webhook got its message"
    );
}

#[tokio::test]
async fn the_slack_format_posts_text_alone() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(0).await;
    add(store, &receiver.url, WebhookFormat::Slack, &BOTH).await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();
    post_identified(&server, 1, "northwind", 4, 2).await;
    let received = run_until(&dispatcher, &receiver, |received| received.len() >= 2).await;
    let mut texts: Vec<String> = received
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_str(&request.body).unwrap();
            assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
            body["text"].as_str().unwrap().to_owned()
        })
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            ":warning: Close the loop: a response to client-portal from account northwind, wave 2026-h2 needs a conversation (detractor, trust rated 2); 4/10, detractor, CRQ 5.3, ambivalent.",
            "New identified response to client-portal from account northwind, wave 2026-h2: 4/10, detractor, CRQ 5.3, ambivalent.",
        ]
    );
}

/// Two dispatchers on one database, as two replicas run them, each with its own
/// connection pool: every event reaches the receiver exactly once.
#[tokio::test]
async fn two_replicas_send_each_event_once() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(0).await;
    add(
        store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let other_replica = Store::open(database_url(&server)).await.unwrap();
    let dispatchers = [
        Dispatcher::new(store.clone(), quick()).unwrap(),
        Dispatcher::new(other_replica, quick()).unwrap(),
    ];
    let running: Vec<_> = dispatchers
        .iter()
        .cloned()
        .map(|dispatcher| tokio::spawn(dispatcher.run()))
        .collect();
    for counter in 1..=12 {
        post_identified(&server, counter, "northwind", 8, 6).await;
    }
    let started = Instant::now();
    while receiver.received().len() < 12 && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Time for a duplicate to arrive, if either replica were to send one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for task in running {
        task.abort();
    }
    let mut ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|request| {
            request.headers[DELIVERY_HEADER]
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    let expected: Vec<String> = (1..=12)
        .map(|counter| format!("{}/response.received", response_id(counter)))
        .collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn the_command_line_adds_lists_and_removes_webhooks_and_the_audit_says_who() {
    let server = TestServer::new().await;
    let database = database_url(&server).to_owned();
    let rapport = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .args(["--database-url", &database])
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = rapport(&[
        "webhook",
        "add",
        "--url",
        "https://hooks.slack.example/services/T1/B2/secretpath",
        "--format",
        "slack",
        "--event",
        "close_the_loop.triggered",
        "--label",
        "CX channel",
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let (id, secret) = (lines[0], lines[1]);
    assert!(id.starts_with("wh_"), "{id}");
    assert_eq!(secret.len(), 64, "{secret}");

    let (ok, listing, stderr) = rapport(&["webhook", "list"]);
    assert!(ok, "{stderr}");
    assert!(listing.contains(id), "{listing}");
    assert!(
        listing.contains("https://hooks.slack.example")
            && listing.contains("[\"close_the_loop.triggered\"]")
            && listing.contains("CX channel"),
        "{listing}"
    );
    assert!(
        !listing.contains("secretpath") && !listing.contains(secret),
        "{listing}"
    );

    let (ok, _, stderr) = rapport(&["webhook", "add", "--url", "ftp://example.com/"]);
    assert!(!ok && stderr.contains("--url"), "{stderr}");

    let (ok, _, stderr) = rapport(&["webhook", "remove", id]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = rapport(&["webhook", "remove", id]);
    assert!(!ok && stderr.contains("no webhook"), "{stderr}");
    let store = &server.state.store;
    assert!(store.webhooks().await.unwrap().is_empty());
    let audit = store.audit_entries("webhook", 10).await.unwrap();
    let entries: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|entry| {
            (
                entry.action.as_str(),
                entry.subject.as_str(),
                entry.actor.as_str(),
            )
        })
        .collect();
    let subject = format!("webhook {id} to https://hooks.slack.example");
    assert_eq!(
        entries,
        [
            ("webhook removed", subject.as_str(), "command line"),
            ("webhook created", subject.as_str(), "command line"),
        ]
    );
}

/// The page as the dashboard serves it to a session of `role`.
async fn webhook_page(server: &TestServer, role: Role) -> (StatusCode, String) {
    let token = token(server, role, &["northwind"]).await;
    let login = Request::post("/dashboard/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!("token={token}")))
        .unwrap();
    let signed_in = app(server.state.clone()).oneshot(login).await.unwrap();
    let cookie = signed_in.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let request = Request::get("/dashboard/webhooks")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_admin_reads_webhooks_and_the_delivery_log_on_the_dashboard_and_others_do_not() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(1).await;
    let added = add(
        store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();
    post_identified(&server, 1, "northwind", 9, 6).await;
    run_until(&dispatcher, &receiver, |received| !received.is_empty()).await;

    let (status, page) = webhook_page(&server, Role::Admin).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&added.id), "{page}");
    // The receiver's host, never its path nor the secret.
    let host = webhooks::url_host(&receiver.url);
    assert!(page.contains(&host), "{page}");
    assert!(
        !page.contains("not-for-the-page") && !page.contains(&added.secret),
        "{page}"
    );
    // The failed first attempt: pending, one attempt, its error and a next attempt.
    assert!(page.contains("delivery-pending"), "{page}");
    assert!(page.contains("the receiver answered 503"), "{page}");
    assert!(page.contains("(HTTP 503)"), "{page}");
    assert!(page.contains("created"), "{page}");
    assert!(!page.contains("<script"), "{page}");

    for role in [Role::Account, Role::Viewer] {
        let (status, page) = webhook_page(&server, role).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        assert!(
            !page.contains(&added.id) && !page.contains(&host),
            "{role:?}: {page}"
        );
    }
}

/// Signs in with a new admin token labelled `label`; returns the cookie and the token.
async fn labelled_session(server: &TestServer, role: Role, label: &str) -> (String, String) {
    let token = rapport_server::auth::new_token().unwrap();
    server
        .state
        .store
        .add_token(
            &rapport_server::auth::token_hash(&token),
            role,
            &["northwind".to_owned()],
            Some(label),
        )
        .await
        .unwrap();
    let (_, headers, _) = post_form(
        server,
        "/dashboard/login",
        &format!("token={token}"),
        None,
        "same-origin",
    )
    .await;
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, token)
}

async fn post_form(
    server: &TestServer,
    path: &str,
    body: &str,
    cookie: Option<&str>,
    site: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", site);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app(server.state.clone())
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_admin_adds_and_removes_a_webhook_on_the_dashboard_and_the_audit_names_the_token_label()
{
    let server = TestServer::new().await;
    let store = &server.state.store;
    let (admin, admin_token) = labelled_session(&server, Role::Admin, "Programme lead").await;
    let (account, _) = labelled_session(&server, Role::Account, "Account manager").await;
    let form = "url=https%3A%2F%2Fhooks.slack.example%2Fservices%2FT1%2FB2%2Fsecretpath&format=slack&close_the_loop=on&survey=client-portal&label=%23cx-alerts";

    // From another site, or by another role: refused, nothing stored.
    let (status, _, _) = post_form(
        &server,
        "/dashboard/webhooks",
        form,
        Some(&admin),
        "cross-site",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, page) = post_form(
        &server,
        "/dashboard/webhooks",
        form,
        Some(&account),
        "same-origin",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(store.webhooks().await.unwrap().is_empty());
    // A bad address is refused, naming the field.
    let (status, _, page) = post_form(
        &server,
        "/dashboard/webhooks",
        "url=ftp%3A%2F%2Fx&format=json&response_received=on",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(store.webhooks().await.unwrap().is_empty());

    let (status, _, page) = post_form(
        &server,
        "/dashboard/webhooks",
        form,
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let stored = store.webhooks().await.unwrap();
    assert_eq!(stored.len(), 1);
    let webhook = &stored[0];
    assert_eq!(
        (
            webhook.format.as_str(),
            webhook.events.as_str(),
            webhook.survey_id.as_deref(),
            webhook.label.as_deref()
        ),
        (
            "slack",
            "[\"close_the_loop.triggered\"]",
            Some("client-portal"),
            Some("#cx-alerts")
        )
    );
    // The secret is on this page once, and it signs what the webhook sends.
    let secret = page
        .split("<code id=\"webhook-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the page shows the new secret");
    assert_eq!(secret.len(), 64);
    let header = webhooks::signature(secret, 1_700_000_000, "{}").unwrap();
    assert!(webhooks::verify_signature(
        secret,
        &header,
        "{}",
        1_700_000_000,
        1
    ));
    let (_, later) = get_page(&server, &admin, "/dashboard/webhooks").await;
    assert!(!later.contains(secret), "the secret is shown once");
    assert!(!later.contains("secretpath"), "{later}");

    let (status, headers, _) = post_form(
        &server,
        &format!("/dashboard/webhooks/{}/remove", webhook.id),
        "",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/dashboard/webhooks");
    assert!(store.webhooks().await.unwrap().is_empty());

    let audit = store.audit_entries("webhook", 10).await.unwrap();
    let entries: Vec<(&str, &str)> = audit
        .iter()
        .map(|entry| (entry.action.as_str(), entry.actor.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("webhook removed", "dashboard: Programme lead (admin)"),
            ("webhook created", "dashboard: Programme lead (admin)"),
        ]
    );
    let (_, page) = get_page(&server, &admin, "/dashboard/webhooks").await;
    assert!(page.contains("dashboard: Programme lead (admin)"), "{page}");
    assert!(!page.contains(&admin_token), "{page}");
    // The results page links the webhook page for the admin only.
    let link = "href=\"/dashboard/webhooks\"";
    let (_, results) = get_page(&server, &admin, "/dashboard?survey=client-portal").await;
    assert!(results.contains(link), "{results}");
    let (status, results) = get_page(&server, &account, "/dashboard?survey=client-portal").await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert!(
        results.contains("Sign out") && !results.contains(link),
        "{results}"
    );
    assert!(
        !String::from_utf8_lossy(&server.stored_bytes().await).contains(&admin_token),
        "the token is stored nowhere in clear"
    );
}

async fn get_page(server: &TestServer, cookie: &str, path: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// A replica that claimed a delivery and died before recording it, and a server that
/// stopped before it ever scanned: a fresh process on the same database (another replica,
/// or the same one restarted) sends every event once the dead claim's lease runs out.
#[tokio::test]
async fn what_a_crashed_replica_left_is_sent_by_the_next_one() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(0).await;
    add(
        store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    // The first replica scans one response and claims its delivery, then dies.
    post_identified(&server, 1, "northwind", 9, 6).await;
    let crashed = Dispatcher::new(store.clone(), quick()).unwrap();
    assert_eq!(crashed.scan().await.unwrap(), 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let claimed_at = Instant::now();
    let claimed = store
        .claim_deliveries("crashed-replica", now, now + 700, 16)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // Acknowledged responses that no dispatcher has looked at yet.
    post_identified(&server, 2, "northwind", 9, 6).await;
    post_identified(&server, 3, "northwind", 9, 6).await;

    let restarted = Store::open(database_url(&server)).await.unwrap();
    let next = Dispatcher::new(restarted, quick()).unwrap();
    let received = run_until(&next, &receiver, |received| received.len() >= 2).await;
    let mut ids: Vec<String> = received
        .iter()
        .map(|request| {
            request.headers[DELIVERY_HEADER]
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [2, 3].map(|counter| format!("{}/response.received", response_id(counter)))
    );
    // The dead claim is not taken over before its lease ends, then it is.
    let received = run_until(&next, &receiver, |received| received.len() >= 3).await;
    assert!(
        received[2].at - claimed_at >= Duration::from_millis(700),
        "taken over {:?} after the claim",
        received[2].at - claimed_at
    );
    assert_eq!(
        received[2].headers[DELIVERY_HEADER],
        format!("{}/response.received", response_id(1)).as_str()
    );
    // The dead replica's late record of its attempt changes nothing.
    assert!(
        !store
            .record_attempt(
                claimed[0].id,
                "crashed-replica",
                &rapport_server::store::AttemptOutcome::Delivered { http_status: 200 },
            )
            .await
            .unwrap()
    );
    let log = store.webhook_deliveries(10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|delivery| delivery.status == "delivered" && delivery.attempts == 1),
        "{log:?}"
    );
}

/// `rapport serve` runs the dispatcher: a webhook added before it starts receives a response
/// posted to it over HTTP.
#[tokio::test]
async fn rapport_serve_posts_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let receiver = Receiver::start(0).await;
    let store = Store::open(&database).await.unwrap();
    let added = add(
        &store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    store.close().await;
    let server = crate::live_server::start_with(dir.path(), &database, &[]);
    let mut response = portal_response(1);
    response["confidentiality"] = json!("identified");
    let body = response.to_string();
    let answer = crate::support::http(
        server.port,
        &format!(
            "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let started = Instant::now();
    while receiver.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "rapport serve sent no webhook"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = receiver.received();
    assert_eq!(
        received[0].headers[DELIVERY_HEADER],
        format!("{}/response.received", response_id(1)).as_str()
    );
    let signature = received[0].headers[SIGNATURE_HEADER].to_str().unwrap();
    assert!(webhooks::verify_signature(
        &added.secret,
        signature,
        &received[0].body,
        rapport_server::invitation::now_seconds(),
        300
    ));
    drop(server);
}

/// The log keeps finished deliveries for `keep_log`, and pending ones however old.
#[tokio::test]
async fn finished_deliveries_leave_the_log_after_it_keeps_them_and_pending_ones_stay() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let receiver = Receiver::start(0).await;
    add(
        store,
        &receiver.url,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let unreachable = format!("http://127.0.0.1:{}/hook", crate::support::free_port());
    add(
        store,
        &unreachable,
        WebhookFormat::Json,
        &[EventKind::ResponseReceived],
    )
    .await;
    let dispatcher = Dispatcher::new(store.clone(), quick()).unwrap();
    post_identified(&server, 1, "northwind", 9, 6).await;
    run_until(&dispatcher, &receiver, |received| !received.is_empty()).await;
    let statuses = |log: Vec<rapport_server::store::DeliveryRow>| {
        let mut statuses: Vec<String> = log.into_iter().map(|delivery| delivery.status).collect();
        statuses.sort();
        statuses
    };
    assert_eq!(
        statuses(store.webhook_deliveries(10).await.unwrap()),
        ["delivered", "pending"]
    );
    // Kept for an hour: nothing goes yet.
    assert_eq!(dispatcher.prune().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let forgetful = Dispatcher::new(
        store.clone(),
        DeliverySettings {
            keep_log: Duration::from_millis(10),
            ..quick()
        },
    )
    .unwrap();
    assert_eq!(forgetful.prune().await.unwrap(), 1);
    assert_eq!(
        statuses(store.webhook_deliveries(10).await.unwrap()),
        ["pending"]
    );
}
