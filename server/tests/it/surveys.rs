//! Survey definitions: the built-in templates are served from the start, a new version can
//! be added, and a changed definition under an existing version is refused.

use axum::http::StatusCode;
use rapport_scoring::template;

use crate::support::TestServer;

#[tokio::test]
async fn built_in_templates_are_served_and_listed() {
    let server = TestServer::new().await;
    let (status, body) = server.get("/api/v1/surveys/post-negotiation").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "post-negotiation");
    assert_eq!(body["questions"].as_array().unwrap().len(), 8);
    let (_, list) = server.get("/api/v1/surveys").await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|survey| survey["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["client-portal", "legal-contract-experience", "post-negotiation"]);
    assert_eq!(server.get("/api/v1/surveys/nope").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn versions_are_kept_and_an_edit_needs_a_new_version() {
    let server = TestServer::new().await;
    let mut definition = template("client-portal").unwrap();
    definition.min_group_size = 8;
    assert!(server.state.store.add_survey(&definition).await.unwrap_err().to_string().contains("give the new definition a higher version"));
    definition.version = 2;
    server.state.store.add_survey(&definition).await.unwrap();
    let (_, latest) = server.get("/api/v1/surveys/client-portal").await;
    assert_eq!((latest["version"].as_u64(), latest["min_group_size"].as_u64()), (Some(2), Some(8)));
    let (_, first) = server.get("/api/v1/surveys/client-portal?version=1").await;
    assert_eq!(first["min_group_size"], 5);
}
