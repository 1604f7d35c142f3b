//! Where identity goes: sealed in its own table, opening only for its own row; never in the
//! answers table, never in the database file in clear, and never stored for an anonymous
//! survey.

use axum::http::StatusCode;
use rapport_scoring::definition::ConfidentialityMode;
use rapport_scoring::template;
use rapport_scoring::wire::ResponseV1;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::support::{TestServer, portal_response};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn a_confidential_identity_is_sealed_and_opens_only_for_its_own_row() {
    let server = TestServer::new().await;
    let response = portal_response(10);
    assert_eq!(
        server.post_json("client-portal", &response).await.0,
        StatusCode::CREATED
    );
    let response_id = response["response_id"].as_str().unwrap();
    let sealed = server
        .state
        .store
        .sealed_identity(response_id)
        .await
        .unwrap()
        .expect("identity is kept");
    let identity = server
        .state
        .identity_key
        .open(response_id, &sealed)
        .unwrap();
    assert_eq!(identity.email.as_deref(), Some("ana.ruiz@client.example"));
    assert!(
        server
            .state
            .identity_key
            .open("00000000-0000-4000-8000-000000000099", &sealed)
            .is_err()
    );
    let bytes = server.stored_bytes().await;
    assert!(!bytes.is_empty());
    for clear in ["ana.ruiz@client.example", "Ana Ruiz"] {
        assert!(
            !contains(&bytes, clear),
            "{clear} must not be in the database in clear"
        );
    }
    // The answers themselves are there, so the search above can find text at all.
    assert!(contains(&bytes, "Quick answers"));
}

#[tokio::test]
async fn an_anonymous_survey_stores_no_identity() {
    let server = TestServer::new().await;
    let mut definition = template("post-negotiation").unwrap();
    definition.version = 2;
    definition.confidentiality = ConfidentialityMode::Anonymous;
    server
        .state
        .store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();
    let response = json!({
        "format": 1,
        "response_id": "00000000-0000-4000-8000-0000000000a1",
        "survey_id": "post-negotiation",
        "survey_version": 2,
        "answers": {"nps": 4, "kept-informed": 2},
        "confidentiality": "anonymous",
        "submitted_at": "2026-11-23T09:30:00Z"
    });
    let (status, body) = server.post_json("post-negotiation", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        server
            .state
            .store
            .sealed_identity("00000000-0000-4000-8000-0000000000a1")
            .await
            .unwrap(),
        None
    );
    let mut with_identity = response.clone();
    with_identity["response_id"] = json!("00000000-0000-4000-8000-0000000000a2");
    with_identity["identity"] = json!({"email": "who@client.example"});
    let (status, body) = server.post_json("post-negotiation", &with_identity).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"][0]["field"], "identity");
    assert!(
        !body.to_string().contains("who@client.example"),
        "the refusal must not echo the identity"
    );
    assert!(!contains(
        &server.stored_bytes().await,
        "who@client.example"
    ));
}

/// Regression: the idempotency digest was once a plain SHA-256 of the body, identity
/// included. With the answers in clear beside it, anyone holding the database could confirm a
/// guessed email for a confidential response by hashing the body with each guess.
#[tokio::test]
async fn the_stored_body_digest_cannot_confirm_a_guessed_identity() {
    let server = TestServer::new().await;
    let response = portal_response(20);
    assert_eq!(
        server.post_json("client-portal", &response).await.0,
        StatusCode::CREATED
    );
    // What an attacker would compute for the right guess: the canonical body the server saw.
    let canonical =
        serde_json::to_vec(&serde_json::from_value::<ResponseV1>(response.clone()).unwrap())
            .unwrap();
    let plain_digest = hex::encode(Sha256::digest(&canonical));
    let bytes = server.stored_bytes().await;
    assert!(
        contains(&bytes, response["response_id"].as_str().unwrap()),
        "the row is in the files searched"
    );
    assert!(
        !contains(&bytes, &plain_digest),
        "a plain hash of the body, identity included, is stored"
    );
    // Resends are still recognised by the keyed digest.
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
}

#[tokio::test]
async fn after_a_key_rotation_old_identities_open_old_links_work_and_resends_are_recognised() {
    let mut server = TestServer::new().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("identity.key");
    let first = rapport_server::identity::IdentityKey::load_or_create(&key_file).unwrap();
    server.state.identity_key = first.clone();
    let before = portal_response(40);
    assert_eq!(
        server.post_json("client-portal", &before).await.0,
        StatusCode::CREATED
    );
    let invitation = crate::support::plain_invitation(
        "inv-rotate",
        "ana.ruiz@client.example",
        "northwind",
        None,
    );
    let link = crate::support::record_invitation(&server.state.store, &first, &invitation).await;

    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "key",
            "rotate",
            "--identity-key-file",
            key_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("now holds 2 keys"));
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        !String::from_utf8_lossy(&rotated.stdout).contains(text.lines().last().unwrap()),
        "the new key is never printed"
    );
    let both = rapport_server::identity::IdentityKey::load_or_create(&key_file).unwrap();
    assert_eq!(both.len(), 2);
    server.state.identity_key = both.clone();

    // What the first key sealed still opens; the same response sent again is a resend.
    let before_id = before["response_id"].as_str().unwrap();
    let sealed = server
        .state
        .store
        .sealed_identity(before_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        both.open(before_id, &sealed).unwrap().email.as_deref(),
        Some("ana.ruiz@client.example")
    );
    let (status, body) = server.post_json("client-portal", &before).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "{body}"
    );
    // A link sent before the rotation still works, and the respondent keeps their pseudonym.
    assert_eq!(
        server.get(&format!("/api/v1/invitations/{link}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        both.respondent_key("Ana.Ruiz@client.example"),
        first.respondent_key("ana.ruiz@client.example")
    );
    // New identities are sealed under the new key: the first key alone cannot open them.
    let after = portal_response(41);
    assert_eq!(
        server.post_json("client-portal", &after).await.0,
        StatusCode::CREATED
    );
    let after_id = after["response_id"].as_str().unwrap();
    let sealed = server
        .state
        .store
        .sealed_identity(after_id)
        .await
        .unwrap()
        .unwrap();
    assert!(first.open(after_id, &sealed).is_err());
    assert!(both.open(after_id, &sealed).is_ok());

    // A damaged key file is refused by line number, without echoing what is in it.
    std::fs::write(&key_file, format!("{text}not-a-key-but-secret\n")).unwrap();
    let error = rapport_server::identity::IdentityKey::load_or_create(&key_file).unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("line 4") && !message.contains("not-a-key-but-secret"),
        "{message}"
    );
}

#[tokio::test]
async fn erasing_a_respondent_removes_their_identity_everywhere_and_leaves_the_aggregates() {
    let mut server = TestServer::new().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("identity.key");
    server.state.identity_key =
        rapport_server::identity::IdentityKey::load_or_create(&key_file).unwrap();
    let admin = rapport_server::auth::new_token().unwrap();
    server
        .state
        .store
        .add_token(
            &rapport_server::auth::token_hash(&admin),
            rapport_server::auth::Role::Admin,
            &[],
            None,
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (counter, email) in [
        (60, "ana.ruiz@client.example"),
        (61, "ana.ruiz@client.example"),
        (62, "bob.stone@client.example"),
    ] {
        let mut response = portal_response(counter);
        response["identity"]["email"] = json!(email);
        response["answers"]["nps"] = json!(counter - 55);
        assert_eq!(
            server.post_json("client-portal", &response).await.0,
            StatusCode::CREATED
        );
        ids.push(response["response_id"].as_str().unwrap().to_owned());
    }
    let invitation =
        crate::support::plain_invitation("inv-erase", "ana.ruiz@client.example", "northwind", None);
    let key = &server.state.identity_key;
    crate::support::record_invitation(&server.state.store, key, &invitation).await;
    let report = || async {
        let request = axum::http::Request::get("/api/v1/surveys/client-portal/report?by=account")
            .header("authorization", format!("Bearer {admin}"))
            .body(axum::body::Body::empty())
            .unwrap();
        server.send(request).await.1
    };
    let before = report().await;

    let database = crate::support::database_url(&server).to_owned();
    let erased = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "erase",
            "--email",
            "Ana.Ruiz@client.example",
            "--database-url",
            &database,
            "--identity-key-file",
            key_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    assert!(
        String::from_utf8_lossy(&erased.stdout)
            .contains("erased the identity of 2 response(s) and 1 invitation(s)"),
        "{}",
        String::from_utf8_lossy(&erased.stdout)
    );

    assert_eq!(
        server.state.store.sealed_identity(&ids[0]).await.unwrap(),
        None
    );
    assert_eq!(
        server.state.store.sealed_identity(&ids[1]).await.unwrap(),
        None
    );
    assert!(
        server
            .state
            .store
            .sealed_identity(&ids[2])
            .await
            .unwrap()
            .is_some(),
        "another respondent keeps theirs"
    );
    let records = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap();
    assert_eq!(
        records
            .iter()
            .filter(|record| record.respondent_key.is_some())
            .count(),
        1,
        "only Bob can still be followed across waves"
    );
    let stored = server.stored_bytes().await;
    assert!(
        !contains(&stored, &key.respondent_key("ana.ruiz@client.example")),
        "no trace of her pseudonym either"
    );
    let mut after = report().await;
    let mut before = before;
    // Everything but the stamp of when it was computed is the same.
    for report in [&mut before, &mut after] {
        report.as_object_mut().unwrap().remove("generated_at");
    }
    assert_eq!(after, before, "aggregates are untouched");
    let missing_key = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "erase",
            "--email",
            "bob.stone@client.example",
            "--database-url",
            &database,
            "--identity-key-file",
            dir.path().join("absent.key").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        !missing_key.status.success(),
        "without the real key nothing can be found, so it must not pretend"
    );
}
