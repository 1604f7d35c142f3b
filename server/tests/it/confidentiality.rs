//! Where identity goes: sealed in its own table, opening only for its own row; never in the
//! answers table, never in the database file in clear, and never stored for an anonymous
//! survey.

use axum::http::StatusCode;
use rapport_scoring::definition::ConfidentialityMode;
use rapport_scoring::template;
use rapport_scoring::wire::ResponseV1;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::support::{portal_response, TestServer};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn a_confidential_identity_is_sealed_and_opens_only_for_its_own_row() {
    let server = TestServer::new().await;
    let response = portal_response(10);
    assert_eq!(server.post_json("client-portal", &response).await.0, StatusCode::CREATED);
    let response_id = response["response_id"].as_str().unwrap();
    let sealed = server.state.store.sealed_identity(response_id).await.unwrap().expect("identity is kept");
    let identity = server.state.identity_key.open(response_id, &sealed).unwrap();
    assert_eq!(identity.email.as_deref(), Some("ana.ruiz@client.example"));
    assert!(server.state.identity_key.open("00000000-0000-4000-8000-000000000099", &sealed).is_err());
    let bytes = server.stored_bytes().await;
    assert!(!bytes.is_empty());
    for clear in ["ana.ruiz@client.example", "Ana Ruiz"] {
        assert!(!contains(&bytes, clear), "{clear} must not be in the database in clear");
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
    server.state.store.add_survey(&definition).await.unwrap();
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
    assert_eq!(server.state.store.sealed_identity("00000000-0000-4000-8000-0000000000a1").await.unwrap(), None);
    let mut with_identity = response.clone();
    with_identity["response_id"] = json!("00000000-0000-4000-8000-0000000000a2");
    with_identity["identity"] = json!({"email": "who@client.example"});
    let (status, body) = server.post_json("post-negotiation", &with_identity).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"][0]["field"], "identity");
    assert!(!body.to_string().contains("who@client.example"), "the refusal must not echo the identity");
    assert!(!contains(&server.stored_bytes().await, "who@client.example"));
}

/// Regression: the idempotency digest was once a plain SHA-256 of the body, identity
/// included. With the answers in clear beside it, anyone holding the database could confirm a
/// guessed email for a confidential response by hashing the body with each guess.
#[tokio::test]
async fn the_stored_body_digest_cannot_confirm_a_guessed_identity() {
    let server = TestServer::new().await;
    let response = portal_response(20);
    assert_eq!(server.post_json("client-portal", &response).await.0, StatusCode::CREATED);
    // What an attacker would compute for the right guess: the canonical body the server saw.
    let canonical = serde_json::to_vec(&serde_json::from_value::<ResponseV1>(response.clone()).unwrap()).unwrap();
    let plain_digest = hex::encode(Sha256::digest(&canonical));
    let bytes = server.stored_bytes().await;
    assert!(contains(&bytes, response["response_id"].as_str().unwrap()), "the row is in the files searched");
    assert!(!contains(&bytes, &plain_digest), "a plain hash of the body, identity included, is stored");
    // Resends are still recognised by the keyed digest.
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("duplicate")));
}
