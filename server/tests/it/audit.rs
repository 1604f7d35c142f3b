//! The confidentiality audit: one programme with a confidential respondent whose name,
//! email, organisation and words are known, then every endpoint, export, page and error
//! the server has, asked by every role that must not see that identity (an account token
//! for that account and for another, a viewer, a stranger with a forged token, nobody),
//! and the server's own log at debug level. The identity must appear nowhere.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rapport_server::auth::{Role, new_token, token_hash};
use rapport_server::identity::IdentityKey;
use rapport_server::invitation::{Invitation, now_seconds};
use rapport_server::store::Store;
use serde_json::json;

use crate::support::{free_port, fresh_database_url, http, portal_response};

const SECRET_NAME: &str = "Oriane Vexley";
const SECRET_EMAIL: &str = "oriane.vexley@northwind.example";
const SECRET_ORGANISATION: &str = "Northwind Procurement Desk";
const SECRET_WORDS: &str = "the billing partner shouted at our junior";

fn post(port: u16, body: &serde_json::Value) -> String {
    let body = body.to_string();
    http(
        port,
        &format!(
            "POST /api/v1/surveys/client-portal/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_role_that_must_not_see_a_confidential_identity_sees_it_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("identity.key");
    let key = IdentityKey::load_or_create(&key_file).unwrap();
    let store = Store::open(&url).await.unwrap();
    let mut tokens = Vec::new();
    for (name, role, accounts) in [
        (
            "account of that client",
            Role::Account,
            vec!["northwind".to_owned()],
        ),
        (
            "account of another",
            Role::Account,
            vec!["contoso".to_owned()],
        ),
        ("viewer", Role::Viewer, vec![]),
    ] {
        let token = new_token().unwrap();
        store
            .add_token(&token_hash(&token), role, &accounts, None)
            .await
            .unwrap();
        tokens.push((name, Some(token)));
    }
    tokens.push(("forged token", Some(format!("rpt_{}", "0".repeat(64)))));
    tokens.push(("no token", None));
    // The confidential respondent also has an invitation on record.
    let invitation = Invitation {
        id: "inv-audit".to_owned(),
        survey: "client-portal".to_owned(),
        contact: SECRET_EMAIL.to_owned(),
        name: Some(SECRET_NAME.to_owned()),
        account: "northwind".to_owned(),
        matter: Some("msa-2026".to_owned()),
        wave: Some("2026-h2".to_owned()),
        firm: Some("Hartley & Voss LLP".to_owned()),
        expires: now_seconds() + 3600,
        presentation: Default::default(),
    };
    let contact = rapport_scoring::wire::Identity {
        email: Some(SECRET_EMAIL.to_owned()),
        name: Some(SECRET_NAME.to_owned()),
        organisation: None,
    };
    store
        .add_invitation(
            &invitation,
            &key.respondent_key(SECRET_EMAIL),
            &key.seal(&invitation.id, &contact).unwrap(),
        )
        .await
        .unwrap();
    store.close().await;

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url, "--identity-key-file", key_file.to_str().unwrap()])
        .arg("--www-dir")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("www"))
        .args(["--widget-dir", dir.path().to_str().unwrap()])
        .env("RAPPORT_LOG", "debug")
        .stdout(Stdio::null())
        // A file, not a pipe: at debug level the log outgrows a pipe's buffer long before
        // the test reads it, and the server would block writing.
        .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Seven Northwind responses: the confidential one (detractor, needing a conversation),
    // five other confidential ones and one identified; plus Contoso.
    let mut confidential = portal_response(1);
    confidential["identity"] =
        json!({"name": SECRET_NAME, "email": SECRET_EMAIL, "organisation": SECRET_ORGANISATION});
    confidential["answers"] = json!({"nps": 1, "trust": 1, "uniqueness": 2, "care": 1, "weakness": SECRET_WORDS, "role": "decision-maker"});
    confidential["context"] =
        json!({"account": "northwind", "wave": "2026-h2", "matter": "msa-2026"});
    let answer = post(port, &confidential);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(
        !answer.contains(SECRET_NAME) && !answer.contains(SECRET_EMAIL),
        "even the receipt holds no identity: {answer}"
    );
    for counter in 2..9u32 {
        let mut response = portal_response(counter);
        response["context"] = json!({"account": if counter == 8 { "contoso" } else { "northwind" }, "wave": "2026-h2"});
        response["confidentiality"] = json!(if counter == 7 {
            "identified"
        } else {
            "confidential"
        });
        response["identity"] = json!({"name": format!("Person {counter}"), "email": format!("p{counter}@client.example")});
        assert!(post(port, &response).starts_with("HTTP/1.1 201"));
    }
    // A resend, a conflicting reuse and an invalid copy of the secret response: errors
    // must not echo what they refuse.
    let mut conflicting = confidential.clone();
    conflicting["answers"]["nps"] = json!(10);
    let mut invalid = confidential.clone();
    invalid["answers"]["nps"] = json!(99);
    invalid["identity"]["email"] = json!(format!("{SECRET_EMAIL} <script>"));
    let mut refusals = vec![
        post(port, &confidential),
        post(port, &conflicting),
        post(port, &invalid),
    ];
    let link = invitation.sign(&key);
    let mut altered = link.clone();
    altered.replace_range(altered.len() - 3.., "AAA");
    let mut with_altered_link = portal_response(20);
    with_altered_link["invitation"] = json!(altered);
    refusals.push(post(port, &with_altered_link));
    for refusal in &refusals {
        assert!(
            !refusal.contains(SECRET_NAME)
                && !refusal.contains(SECRET_EMAIL)
                && !refusal.contains(SECRET_WORDS),
            "{refusal}"
        );
    }

    let paths = [
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/surveys",
        "/api/v1/surveys/client-portal",
        "/api/v1/surveys/client-portal/report",
        "/api/v1/surveys/client-portal/report?by=account",
        "/api/v1/surveys/client-portal/report?by=account,confidentiality",
        "/api/v1/surveys/client-portal/report?by=role",
        "/api/v1/surveys/client-portal/report?by=wave,nps-category",
        "/api/v1/surveys/client-portal/report?by=matter",
        "/api/v1/surveys/client-portal/report?by=no-such-field",
        "/api/v1/surveys/client-portal/report?version=9",
        "/api/v1/surveys/client-portal/responses.csv",
        "/api/v1/surveys/client-portal/emerging",
        "/api/v1/surveys/client-portal/follow-ups",
        "/api/v1/surveys/client-portal/follow-ups?wave=2026-h2",
        "/api/v1/surveys/nope/report",
        &format!("/api/v1/invitations/{altered}"),
    ];
    let mut asked = 0;
    for (who, token) in &tokens {
        for path in paths {
            let authorization = token
                .as_ref()
                .map(|token| format!("Authorization: Bearer {token}\r\n"))
                .unwrap_or_default();
            let answer = http(
                port,
                &format!(
                    "GET {path} HTTP/1.1\r\nHost: x\r\n{authorization}Connection: close\r\n\r\n"
                ),
            );
            assert!(answer.starts_with("HTTP/1.1 "), "{who} {path}: no answer");
            for secret in [
                SECRET_NAME,
                SECRET_EMAIL,
                SECRET_ORGANISATION,
                SECRET_WORDS,
                "oriane",
                "Vexley",
            ] {
                assert!(
                    !answer.contains(secret),
                    "{who} asking {path} got {secret:?}:\n{answer}"
                );
            }
            asked += 1;
        }
        // Writing a follow-up for the secret response must fail the same way as for one
        // that does not exist.
        let authorization = token
            .as_ref()
            .map(|token| format!("Authorization: Bearer {token}\r\n"))
            .unwrap_or_default();
        let update = r#"{"status":"done"}"#;
        let put = |id: &str| {
            let answer = http(
                port,
                &format!(
                    "PUT /api/v1/surveys/client-portal/follow-ups/responses/{id} HTTP/1.1\r\nHost: x\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{update}",
                    update.len()
                ),
            );
            let status = answer[9..12].to_owned();
            let body = answer
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.replace(id, "ID"))
                .unwrap_or_default();
            (status, body)
        };
        assert_eq!(
            put("00000000-0000-4000-8000-000000000001"),
            put("00000000-0000-4000-8000-0000000000ff"),
            "{who}: the confidential response is indistinguishable from none"
        );
    }
    assert_eq!(asked, tokens.len() * paths.len());

    // The server's own log, at debug level, after all of that.
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("debug"),
        "the log ran at debug level"
    );
    for secret in [SECRET_NAME, SECRET_EMAIL, SECRET_ORGANISATION, SECRET_WORDS] {
        assert!(!log.contains(secret), "the log holds {secret:?}");
    }
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    for line in key_text.lines().filter(|line| !line.starts_with('#')) {
        assert!(!log.contains(line.trim()), "the log holds the identity key");
    }
}
