//! When a survey asks identity of confidential respondents too (`ask_identity = "always"`):
//! the server stores the definition as given, accepts a confidential answer with only an
//! email, and seals that identity like any other.

use axum::http::StatusCode;
use rapport_scoring::definition::IdentityRequest;
use rapport_scoring::template;
use serde_json::json;

use crate::support::TestServer;

#[tokio::test]
async fn a_confidential_respondent_asked_for_identity_has_it_sealed() {
    let server = TestServer::new().await;
    let mut definition = template("client-portal").unwrap();
    definition.version = 2;
    definition.ask_identity = IdentityRequest::Always;
    server
        .state
        .store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();
    let (status, served) = server.get("/api/v1/surveys/client-portal").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served["ask_identity"], "always", "{served}");
    assert_eq!(served["show_answer_summary"], true, "{served}");

    let response_id = "00000000-0000-4000-8000-0000000000b7";
    let response = json!({
        "format": 1,
        "response_id": response_id,
        "survey_id": "client-portal",
        "survey_version": 2,
        "answers": {"nps": 5},
        "confidentiality": "confidential",
        "identity": {"email": "ana.ruiz@client.example"},
        "submitted_at": "2026-11-23T09:30:00Z"
    });
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sealed = server
        .state
        .store
        .sealed_identity(response_id)
        .await
        .unwrap()
        .expect("the identity a confidential respondent gave is kept");
    let identity = server
        .state
        .identity_key
        .open(response_id, &sealed)
        .unwrap();
    assert_eq!(identity.email.as_deref(), Some("ana.ruiz@client.example"));
    assert_eq!(identity.name, None);
}
