//! Survey definitions: the built-in templates are served from the start, an edited definition
//! becomes the next version, and the versions that responses answered are never rewritten.

use axum::http::StatusCode;
use rapport_scoring::template;
use rapport_server::store::AddOutcome;

use crate::support::TestServer;

#[tokio::test]
async fn built_in_templates_are_served_and_listed() {
    let server = TestServer::new().await;
    let (status, body) = server.get("/api/v1/surveys/post-negotiation").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "post-negotiation");
    assert_eq!(body["questions"].as_array().unwrap().len(), 10);
    let (_, list) = server.get("/api/v1/surveys").await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|survey| survey["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "client-portal",
            "legal-contract-experience",
            "post-negotiation"
        ]
    );
    assert_eq!(
        server.get("/api/v1/surveys/nope").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_edit_becomes_the_next_version_and_earlier_versions_are_kept() {
    let server = TestServer::new().await;
    let store = &server.state.store;
    let mut definition = template("client-portal").unwrap();
    assert_eq!(
        store
            .add_survey(&definition, crate::support::SETUP)
            .await
            .unwrap(),
        AddOutcome::Unchanged { version: 1 }
    );
    // The file still says version 1, but version 1 is what stored responses answered.
    definition.min_group_size = 8;
    assert_eq!(
        store
            .add_survey(&definition, crate::support::SETUP)
            .await
            .unwrap(),
        AddOutcome::Added { version: 2 }
    );
    // The same content again, whatever version number it carries, changes nothing.
    definition.version = 7;
    assert_eq!(
        store
            .add_survey(&definition, crate::support::SETUP)
            .await
            .unwrap(),
        AddOutcome::Unchanged { version: 2 }
    );
    let (_, latest) = server.get("/api/v1/surveys/client-portal").await;
    assert_eq!(
        (
            latest["version"].as_u64(),
            latest["min_group_size"].as_u64()
        ),
        (Some(2), Some(8))
    );
    let (_, first) = server.get("/api/v1/surveys/client-portal?version=1").await;
    assert_eq!(
        (first["version"].as_u64(), first["min_group_size"].as_u64()),
        (Some(1), Some(5))
    );
    // Going back to the first content is an edit too: it becomes version 3.
    assert_eq!(
        store
            .add_survey(&template("client-portal").unwrap(), crate::support::SETUP)
            .await
            .unwrap(),
        AddOutcome::Added { version: 3 }
    );
    assert_eq!(
        server
            .get("/api/v1/surveys/client-portal?version=3")
            .await
            .1["min_group_size"],
        5
    );
}

#[tokio::test]
async fn the_command_line_adds_surveys_lists_them_and_issues_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let rapport = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .args(["--database-url", &database])
            .output()
            .unwrap()
    };

    let mut definition = template("post-negotiation").unwrap();
    let file = dir.path().join("pulse.toml");
    std::fs::write(&file, definition.to_toml()).unwrap();
    let add = |expected: &str| {
        let added = rapport(&["survey", "add", file.to_str().unwrap()]);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&added.stdout).trim(), expected);
    };
    add("survey post-negotiation is unchanged at version 1");
    definition.min_group_size = 9;
    std::fs::write(&file, definition.to_toml()).unwrap();
    add("added survey post-negotiation version 2");
    add("survey post-negotiation is unchanged at version 2");
    let listed = String::from_utf8(rapport(&["survey", "list"]).stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with("post-negotiation") && line.contains(" 2 ")),
        "{listed}"
    );

    std::fs::write(&file, "id = \"pulse\"\nversion = 0\n").unwrap();
    let invalid = rapport(&["survey", "add", file.to_str().unwrap()]);
    assert!(!invalid.status.success() && invalid.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&invalid.stderr).contains("loading survey definition"),
        "{}",
        String::from_utf8_lossy(&invalid.stderr)
    );

    let refused = rapport(&["token", "create", "--role", "account"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("an account token needs at least one account")
    );
    for (account, problem) in [
        ("northwind ", "must not start or end with a space"),
        ("north\u{200E}wind", "must not contain bidirectional"),
    ] {
        let refused = rapport(&["token", "create", "--role", "account", "--account", account]);
        assert!(!refused.status.success() && refused.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(problem), "{stderr}");
    }
    let created = rapport(&[
        "token",
        "create",
        "--role",
        "account",
        "--account",
        "northwind",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap();
    assert!(
        token.trim().starts_with("rpt_") && token.trim().len() == 68,
        "{token}"
    );
    let stored = crate::support::stored_bytes(&database).await;
    assert!(!stored.is_empty());
    assert!(
        !stored
            .windows(token.trim().len())
            .any(|window| window == token.trim().as_bytes()),
        "only the hash is stored"
    );
}

#[tokio::test]
async fn survey_add_warns_when_no_origin_may_send_answers_from_another_site() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let file = dir.path().join("pulse.toml");
    let add = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["survey", "add", file.to_str().unwrap()])
            .args(["--database-url", &database])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stderr).unwrap()
    };

    let mut definition = template("post-negotiation").unwrap();
    assert!(definition.allowed_origins.is_empty());
    definition.min_group_size = 9;
    std::fs::write(&file, definition.to_toml()).unwrap();
    let warned = add();
    assert!(
        warned.contains("warning: survey post-negotiation lists no allowed origin")
            && warned.contains("pages on other sites will not be able to send answers to it")
            && warned.contains("allowed_origins"),
        "{warned}"
    );

    definition.allowed_origins = vec!["https://portal.example.com".to_owned()];
    std::fs::write(&file, definition.to_toml()).unwrap();
    let quiet = add();
    assert!(!quiet.contains("warning"), "{quiet}");
}

#[tokio::test]
async fn a_survey_admits_the_origins_its_definition_lists_and_no_others() {
    let server = TestServer::new().await;
    let mut definition = template("post-negotiation").unwrap();
    definition.version = 2;
    definition.allowed_origins = vec!["https://client-portal.example".to_owned()];
    server
        .state
        .store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();
    let preflight = |survey: &str, origin: &str| {
        axum::http::Request::builder()
            .method("OPTIONS")
            .uri(format!("/api/v1/surveys/{survey}/responses"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let allowed = |response: &axum::response::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let app = || rapport_server::app(server.state.clone());
    let response = tower::ServiceExt::oneshot(
        app(),
        preflight("post-negotiation", "https://client-portal.example"),
    )
    .await
    .unwrap();
    assert_eq!(
        allowed(&response).as_deref(),
        Some("https://client-portal.example")
    );
    let response = tower::ServiceExt::oneshot(
        app(),
        preflight("client-portal", "https://client-portal.example"),
    )
    .await
    .unwrap();
    assert_eq!(
        allowed(&response),
        None,
        "another survey does not list that origin"
    );
    let response =
        tower::ServiceExt::oneshot(app(), preflight("post-negotiation", "https://evil.example"))
            .await
            .unwrap();
    assert_eq!(allowed(&response), None);
    let response =
        tower::ServiceExt::oneshot(app(), preflight("client-portal", "https://portal.example"))
            .await
            .unwrap();
    assert_eq!(
        allowed(&response).as_deref(),
        Some("https://portal.example"),
        "--allow-origin admits an origin for every survey"
    );
}

#[tokio::test]
async fn each_demo_start_prints_new_tokens_and_the_earlier_ones_stop_working() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let key = dir.path().join("identity.key");
    let demo = || {
        let seeded = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args([
                "demo-seed",
                "--responses",
                "40",
                "--database-url",
                &database,
                "--identity-key-file",
                key.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        let tokens: Vec<String> = String::from_utf8(seeded.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| line.split_whitespace().nth(2).map(str::to_owned))
            .collect();
        assert_eq!(tokens.len(), 3, "one token per role");
        (tokens, String::from_utf8(seeded.stderr).unwrap())
    };
    // A token someone made by hand is never the demo's to remove.
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "token",
            "create",
            "--role",
            "viewer",
            "--label",
            "demo",
            "--database-url",
            &database,
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let own = String::from_utf8(made.stdout).unwrap().trim().to_owned();

    let (first, said) = demo();
    assert!(!said.contains("no longer work"), "{said}");
    let (second, said) = demo();
    assert!(
        said.contains("the 3 token(s) printed by the previous start no longer work"),
        "{said}"
    );

    let store = rapport_server::store::Store::open(&database).await.unwrap();
    for token in &first {
        assert!(
            store
                .caller_for_token_hash(&rapport_server::auth::token_hash(token))
                .await
                .unwrap()
                .is_none(),
            "an earlier demo token still signs in"
        );
    }
    for token in second.iter().chain([&own]) {
        assert!(
            store
                .caller_for_token_hash(&rapport_server::auth::token_hash(token))
                .await
                .unwrap()
                .is_some(),
            "a current token was removed"
        );
    }
    store.close().await;
}
