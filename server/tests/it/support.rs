//! Test support: a server state on a fresh database, and one-shot requests.
//!
//! The whole suite runs once per backend. By default every test gets a temporary SQLite
//! file; with `RAPPORT_TEST_BACKEND=postgres` it gets a fresh database of its own on the
//! PostgreSQL server at `RAPPORT_TEST_POSTGRES_URL` (which `cargo xtask test` starts and
//! sets). A test asked to run on PostgreSQL without one fails; it is never skipped.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::{Role, new_token, token_hash};
use rapport_server::identity::IdentityKey;
use rapport_server::invitation::{Invitation, now_seconds};
use rapport_server::metrics::Counters;
use rapport_server::rate_limit::{RateLimit, RateLimiter};
use rapport_server::state::AppState;
use rapport_server::store::Store;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tempfile::TempDir;
use tower::ServiceExt as _;

/// Who stores a survey a test sets up, for the audit log.
pub(crate) const SETUP: rapport_server::store::SurveyChange<'static> =
    rapport_server::store::SurveyChange {
        actor: "test set-up",
        template: None,
    };

/// A state whose database lives in a temporary directory, removed on drop.
pub(crate) struct TestServer {
    pub(crate) state: AppState,
    /// Holds the SQLite file (and the www/widget paths) until the test ends.
    _dir: TempDir,
    database_url: String,
}

/// Which backend this run of the suite uses.
pub(crate) fn on_postgres() -> bool {
    match std::env::var("RAPPORT_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("RAPPORT_TEST_BACKEND={other:?}: use sqlite or postgres"),
    }
}

/// A URL for a new, empty database: a SQLite file in `dir`, or a new database on the test
/// PostgreSQL server.
pub(crate) async fn fresh_database_url(dir: &Path) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    if !on_postgres() {
        return format!(
            "sqlite://{}",
            dir.join(format!("t{}.db", NEXT.fetch_add(1, Ordering::Relaxed)))
                .display()
        );
    }
    let server = std::env::var("RAPPORT_TEST_POSTGRES_URL")
        .expect("RAPPORT_TEST_BACKEND=postgres needs RAPPORT_TEST_POSTGRES_URL, the URL of a PostgreSQL database this suite may create databases beside; `cargo xtask test` starts one");
    let name = format!(
        "rapport_it_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("connecting to RAPPORT_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = server
        .rsplit_once('/')
        .expect("a PostgreSQL URL ends with /DATABASE")
        .0;
    format!("{base}/{name}")
}

/// The database URL of a test server's store, for the command line to open.
pub(crate) fn database_url(server: &TestServer) -> &str {
    &server.database_url
}

impl TestServer {
    pub(crate) async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database_url(dir.path()).await;
        let store = Store::open(&database_url).await.unwrap();
        let state = AppState {
            store,
            identity_key: IdentityKey::generate().unwrap(),
            www_dir: dir.path().join("www"),
            widget_dir: dir.path().join("widget"),
            allowed_origins: vec!["https://portal.example".to_owned()],
            counters: Arc::new(Counters::default()),
            rate_limiter: Arc::new(RateLimiter::new(RateLimit {
                burst: 10_000,
                per_minute: 60_000,
            })),
            trust_forwarded_for: true,
        };
        TestServer {
            state,
            _dir: dir,
            database_url,
        }
    }

    /// Everything this server's database holds; see [`stored_bytes`].
    pub(crate) async fn stored_bytes(&self) -> Vec<u8> {
        stored_bytes(&self.database_url).await
    }

    /// Sends a request through the router and returns the status and the JSON body
    /// (`Value::Null` when the body is not JSON).
    pub(crate) async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub(crate) async fn post_json(&self, survey: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(survey, "application/json", body.to_string())
            .await
    }

    pub(crate) async fn post_raw(
        &self,
        survey: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        let request = Request::post(format!("/api/v1/surveys/{survey}/responses"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// `GET path` with `token` as the bearer token: the status and the JSON body.
    pub(crate) async fn get_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(
            Request::get(path)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub(crate) async fn count(&self, survey: &str) -> u64 {
        self.state.store.count_responses(survey).await.unwrap()
    }
}

/// An invitation to `client-portal` for `contact` at `account`, valid for an hour, with
/// none of the optional details but the wave.
pub(crate) fn plain_invitation(
    id: &str,
    contact: &str,
    account: &str,
    wave: Option<&str>,
) -> Invitation {
    Invitation {
        id: id.to_owned(),
        survey: "client-portal".to_owned(),
        contact: contact.to_owned(),
        name: None,
        account: account.to_owned(),
        matter: None,
        wave: wave.map(str::to_owned),
        firm: None,
        expires: now_seconds() + 3600,
        presentation: Default::default(),
    }
}

/// Records `invitation` in `store` as `rapport invite` does (its contact keyed and sealed
/// under `key`) and returns its signed token.
pub(crate) async fn record_invitation(
    store: &Store,
    key: &IdentityKey,
    invitation: &Invitation,
) -> String {
    let contact = rapport_scoring::wire::Identity {
        email: Some(invitation.contact.clone()),
        ..Default::default()
    };
    store
        .add_invitation(
            invitation,
            &key.respondent_key(&invitation.contact),
            &key.seal(&invitation.id, &contact).unwrap(),
        )
        .await
        .unwrap();
    invitation.sign(key)
}

/// Posts `response` through a new invitation for `account` and `wave`, so that it is
/// verified, and checks that it was stored.
pub(crate) async fn post_invited(
    server: &TestServer,
    response: &mut Value,
    account: &str,
    wave: &str,
) {
    let id = format!("inv-{}", response["response_id"].as_str().unwrap());
    // The invitation is made for the person the response names, if it names one: the
    // invitation, not what is typed, says who answers.
    let contact = response["identity"]["email"]
        .as_str()
        .map_or_else(|| format!("{id}@client.example"), str::to_owned);
    let invitation = plain_invitation(&id, &contact, account, Some(wave));
    let token =
        record_invitation(&server.state.store, &server.state.identity_key, &invitation).await;
    response["invitation"] = json!(token);
    let (status, body) = server.post_json("client-portal", response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A new API token for `role` over `accounts`, stored as `rapport token create` stores it.
pub(crate) async fn token(server: &TestServer, role: Role, accounts: &[&str]) -> String {
    let token = new_token().unwrap();
    let accounts: Vec<String> = accounts
        .iter()
        .map(|account| (*account).to_owned())
        .collect();
    server
        .state
        .store
        .add_token(&token_hash(&token), role, &accounts, None)
        .await
        .unwrap();
    token
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

/// Everything the database at `url` holds, as bytes to search: the SQLite file and its WAL,
/// or on PostgreSQL every column of every table as text (binary columns decoded as escaped
/// bytes, so text stored in them would show in clear).
pub(crate) async fn stored_bytes(url: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(file) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal"] {
            bytes.extend(std::fs::read(format!("{file}{suffix}")).unwrap_or_default());
        }
        return bytes;
    }
    let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    let mut tables: Vec<&str> = columns.iter().map(|(table, _, _)| table.as_str()).collect();
    tables.dedup();
    for table in tables {
        let cells: Vec<String> = columns
            .iter()
            .filter(|(of, _, _)| of == table)
            .map(|(_, column, kind)| match kind.as_str() {
                "bytea" => format!("coalesce(encode(\"{column}\", 'escape'), '')"),
                _ => format!("coalesce(\"{column}\"::text, '')"),
            })
            .collect();
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT concat_ws(' ', {}) FROM \"{table}\"",
            cells.join(", ")
        ))
        .fetch_all(&mut connection)
        .await
        .unwrap();
        for row in rows {
            bytes.extend(row.into_bytes());
            bytes.push(b'\n');
        }
    }
    bytes
}

/// A port nobody listens on now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request over a plain socket; returns the status line, headers and body.
pub(crate) fn http(port: u16, request: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}
