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

#[test]
fn the_command_line_adds_surveys_lists_them_and_issues_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let rapport = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_rapport")).args(args).args(["--database-url", &database]).output().unwrap();

    let mut definition = template("post-negotiation").unwrap();
    definition.version = 2;
    let file = dir.path().join("pulse.toml");
    std::fs::write(&file, definition.to_toml()).unwrap();
    let added = rapport(&["survey", "add", file.to_str().unwrap()]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert_eq!(String::from_utf8_lossy(&added.stdout).trim(), "added survey post-negotiation version 2");
    let listed = String::from_utf8(rapport(&["survey", "list"]).stdout).unwrap();
    assert!(listed.lines().any(|line| line.starts_with("post-negotiation") && line.contains(" 2 ")), "{listed}");

    let refused = rapport(&["token", "create", "--role", "account"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("needs at least one --account"));
    let created = rapport(&["token", "create", "--role", "account", "--account", "northwind"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token = String::from_utf8(created.stdout).unwrap();
    assert!(token.trim().starts_with("rpt_") && token.trim().len() == 68, "{token}");
    let mut stored = std::fs::read(dir.path().join("cli.db")).unwrap();
    stored.extend(std::fs::read(dir.path().join("cli.db-wal")).unwrap_or_default());
    assert!(!stored.windows(token.trim().len()).any(|window| window == token.trim().as_bytes()), "only the hash is stored");
}
