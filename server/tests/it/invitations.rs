//! Invitations: a signed link answers as its contact for its account, matter and wave; a
//! second answer replaces the first; altered, expired, foreign and unknown links are refused
//! with a clear message and store nothing.

use axum::http::StatusCode;
use rapport_server::invitation::{now_seconds, Invitation};
use serde_json::{json, Value};

use crate::support::{portal_response, TestServer};

fn invitation(id: &str, expires: i64) -> Invitation {
    Invitation {
        id: id.to_owned(),
        survey: "client-portal".to_owned(),
        contact: "ana.ruiz@client.example".to_owned(),
        name: Some("Ana Ruiz".to_owned()),
        account: "northwind".to_owned(),
        matter: Some("msa-2026".to_owned()),
        wave: Some("2026-h2".to_owned()),
        firm: Some("Hartley & Voss LLP".to_owned()),
        expires,
    }
}

async fn recorded(server: &TestServer, invitation: &Invitation) -> String {
    let key = &server.state.identity_key;
    let contact = rapport_scoring::wire::Identity { email: Some(invitation.contact.clone()), ..Default::default() };
    server.state.store.add_invitation(invitation, &key.respondent_key(&invitation.contact), &key.seal(&invitation.id, &contact).unwrap()).await.unwrap();
    invitation.sign(key)
}

fn invited_response(counter: u32, token: &str) -> Value {
    let mut response = portal_response(counter);
    response["invitation"] = json!(token);
    response.as_object_mut().unwrap().remove("identity");
    response["context"] = json!({"account": "somebody-else", "wave": "forged"});
    response
}

#[tokio::test]
async fn an_invited_answer_takes_its_context_from_the_link_and_a_second_answer_replaces_the_first() {
    let server = TestServer::new().await;
    let token = recorded(&server, &invitation("inv-a", now_seconds() + 3600)).await;
    let (status, info) = server.get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((info["firm"].as_str(), info["answered"].as_bool()), (Some("Hartley & Voss LLP"), Some(false)));

    let (status, body) = server.post_json("client-portal", &invited_response(1, &token)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let records = server.state.store.response_records("client-portal", 1).await.unwrap();
    assert_eq!(records[0].context.account.as_deref(), Some("northwind"), "the link, not the page, says which account");
    assert_eq!(records[0].context.wave.as_deref(), Some("2026-h2"));
    assert_eq!(records[0].respondent_key.as_deref(), Some(server.state.identity_key.respondent_key("ana.ruiz@client.example").as_str()));
    let sealed = server.state.store.sealed_identity("00000000-0000-4000-8000-000000000001").await.unwrap().unwrap();
    let identity = server.state.identity_key.open("00000000-0000-4000-8000-000000000001", &sealed).unwrap();
    assert_eq!(identity.email.as_deref(), Some("ana.ruiz@client.example"), "the invitation's contact is kept, sealed");

    let mut second = invited_response(2, &token);
    second["answers"]["nps"] = json!(3);
    let (status, body) = server.post_json("client-portal", &second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "replaced");
    assert_eq!(server.count("client-portal").await, 1, "one response per invitation");
    let records = server.state.store.response_records("client-portal", 1).await.unwrap();
    assert_eq!(records[0].answers.nps.map(|answer| answer.get()), Some(3));
    assert_eq!(server.get(&format!("/api/v1/invitations/{token}")).await.1["answered"], true);
}

#[tokio::test]
async fn altered_expired_foreign_and_unknown_links_are_refused_clearly() {
    let server = TestServer::new().await;
    let token = recorded(&server, &invitation("inv-b", now_seconds() + 3600)).await;
    let expired = recorded(&server, &invitation("inv-c", now_seconds() - 10)).await;
    let unknown = invitation("inv-never-recorded", now_seconds() + 3600).sign(&server.state.identity_key);
    let mut foreign = invitation("inv-d", now_seconds() + 3600);
    foreign.survey = "post-negotiation".to_owned();
    let foreign = recorded(&server, &foreign).await;
    let (payload, tag) = token.split_once('.').unwrap();
    let altered = format!("{}x.{tag}", &payload[..payload.len() - 1]);
    for (link, message) in [
        (altered.as_str(), "may have been altered"),
        (expired.as_str(), "expired on"),
        (foreign.as_str(), "is for another survey"),
        (unknown.as_str(), "not known to this server"),
    ] {
        let (status, body) = server.post_json("client-portal", &invited_response(9, link)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["details"][0]["field"], "invitation");
        assert!(body.to_string().contains(message), "{body} should say {message}");
        assert!(!body.to_string().contains("ana.ruiz"), "a refusal must not reveal the contact");
    }
    assert_eq!(server.count("client-portal").await, 0);
    let (status, body) = server.get(&format!("/api/v1/invitations/{altered}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.to_string().contains("may have been altered"));
}
