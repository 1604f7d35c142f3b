//! Reports and the CSV export through every role. Each boundary is crossed on purpose:
//! no token, a wrong token, an account token asking about another account, a viewer asking
//! for rows, and in every answer a confidential respondent's identity is looked for.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, portal_response, post_invited, token};

const SECRET_EMAIL: &str = "secret.person@client.example";
const SECRET_NAME: &str = "Sigrid Secret";

struct Tokens {
    admin: String,
    northwind: String,
    contoso: String,
    viewer: String,
}

/// Nine Northwind responses (six identified, three confidential through invitations, with a
/// known identity) and two identified Contoso responses.
async fn programme() -> (TestServer, Tokens) {
    let server = TestServer::new().await;
    let mut counter = 100;
    for (account, confidentiality, n) in [
        ("northwind", "identified", 6),
        ("northwind", "confidential", 3),
        ("contoso", "identified", 2),
    ] {
        for idx in 0..n {
            counter += 1;
            let mut response = portal_response(counter);
            response["context"] = json!({"account": account, "wave": "2026-h2"});
            response["confidentiality"] = json!(confidentiality);
            response["answers"]["nps"] = json!(if confidentiality == "confidential" {
                2
            } else {
                9
            });
            response["identity"] = if confidentiality == "confidential" {
                json!({"name": SECRET_NAME, "email": SECRET_EMAIL, "organisation": "Northwind"})
            } else {
                json!({"name": format!("Known Person {idx}"), "email": format!("known{idx}@{account}.example")})
            };
            if counter == 101 {
                response["answers"]["strength"] =
                    json!("=HYPERLINK(\"http://evil.example\",\"click\")");
            }
            if confidentiality == "confidential" {
                post_invited(&server, &mut response, account, "2026-h2").await;
            } else {
                let (status, body) = server.post_json("client-portal", &response).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
    }
    let tokens = Tokens {
        admin: token(&server, Role::Admin, &[]).await,
        northwind: token(&server, Role::Account, &["northwind"]).await,
        contoso: token(&server, Role::Account, &["contoso"]).await,
        viewer: token(&server, Role::Viewer, &[]).await,
    };
    (server, tokens)
}

/// GETs `path` with an optional bearer token; returns the status and the body as text.
async fn get(server: &TestServer, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app(server.state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap(),
    )
}

const REPORT: &str = "/api/v1/surveys/client-portal/report?by=account,confidentiality";
const CSV: &str = "/api/v1/surveys/client-portal/responses.csv";

fn assert_no_secret(body: &str, what: &str) {
    assert!(
        !body.contains(SECRET_EMAIL) && !body.contains(SECRET_NAME),
        "{what} leaks a confidential identity:\n{body}"
    );
}

#[tokio::test]
async fn without_a_valid_token_nothing_is_shown_and_the_refusal_says_nothing_else() {
    let (server, _) = programme().await;
    for path in [REPORT, CSV, "/api/v1/surveys/no-such-survey/report"] {
        for token in [None, Some("rpt_not-a-real-token"), Some("")] {
            let (status, body) = get(&server, path, token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            assert!(
                !body.contains("northwind") && !body.contains("no-such-survey"),
                "{body}"
            );
            assert_no_secret(&body, "a refusal");
        }
    }
}

#[tokio::test]
async fn the_admin_sees_every_response_with_identity_and_formulas_are_defused() {
    let (server, tokens) = programme().await;
    let (status, body) = get(&server, REPORT, Some(&tokens.admin)).await;
    assert_eq!(status, StatusCode::OK);
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (report["n"].as_u64(), report["suppressed"].as_bool()),
        (Some(11), Some(false))
    );
    let (status, csv) = get(&server, CSV, Some(&tokens.admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), 12, "header and eleven rows");
    assert!(
        csv.contains(SECRET_EMAIL),
        "the programme lead holds confidential identity"
    );
    // Every row with a confidential identity says so, and no other row does.
    let note =
        "CONFIDENTIAL: never show this person's identity with these answers to the account team";
    for line in csv.lines().skip(1) {
        assert_eq!(line.contains(SECRET_EMAIL), line.contains(note), "{line}");
    }
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{csv}"
    );
}

#[tokio::test]
async fn an_account_token_sees_its_own_account_and_confidential_answers_only_in_aggregates() {
    let (server, tokens) = programme().await;
    let (status, body) = get(&server, REPORT, Some(&tokens.northwind)).await;
    assert_eq!(status, StatusCode::OK);
    assert_no_secret(&body, "the account report");
    let report: Value = serde_json::from_str(&body).unwrap();
    // Three confidential answers are fewer than a batch, and the caller can see the
    // identified rows, so including them would give them away by subtraction. Nothing says
    // how many wait: only the batch size, the same whatever waits.
    assert_eq!(
        (
            report["n"].as_u64(),
            report["protected_batch_size"].as_u64()
        ),
        (Some(6), Some(5))
    );
    assert!(report.get("withheld_protected").is_none(), "{body}");
    let by_account = &report["report"]["segments"][0]["groups"];
    assert_eq!(
        by_account.as_array().unwrap().len(),
        1,
        "no other account appears: {by_account}"
    );
    assert_eq!(by_account[0]["value"], "northwind");
    let by_choice = &report["report"]["segments"][1]["groups"];
    assert!(
        by_choice
            .as_array()
            .unwrap()
            .iter()
            .all(|group| group["value"] == "identified"),
        "{by_choice}"
    );
    assert_eq!(
        report["report"]["overall"]["nps"]["detractors"], 0,
        "no confidential score reaches the account"
    );
    assert!(!body.contains("contoso"));

    let (status, csv) = get(&server, CSV, Some(&tokens.northwind)).await;
    assert_eq!(status, StatusCode::OK);
    assert_no_secret(&csv, "the account CSV");
    assert_eq!(
        csv.lines().count(),
        7,
        "header and the six identified Northwind rows:\n{csv}"
    );
    assert!(
        csv.lines()
            .skip(1)
            .all(|line| line.contains(",northwind,") && line.contains(",identified,")),
        "{csv}"
    );
}

#[tokio::test]
async fn a_small_account_gets_counts_only() {
    let (server, tokens) = programme().await;
    let (status, body) = get(&server, REPORT, Some(&tokens.contoso)).await;
    assert_eq!(status, StatusCode::OK);
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (report["n"].as_u64(), report["suppressed"].as_bool()),
        (Some(2), Some(true))
    );
    assert!(
        report["report"].is_null(),
        "two respondents must not show scores: {body}"
    );
}

#[tokio::test]
async fn a_viewer_gets_aggregates_and_no_rows() {
    let (server, tokens) = programme().await;
    let (status, body) = get(&server, REPORT, Some(&tokens.viewer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_no_secret(&body, "the viewer report");
    // The three confidential answers wait for a batch of five, for viewers too.
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["n"], 8);
    let (status, body) = get(&server, CSV, Some(&tokens.viewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_no_secret(&body, "the viewer's refused export");
    assert!(!body.contains("known0@"), "{body}");
}

/// Posts `n` responses to `account` with the given choice, NPS answer and wave: the
/// identified ones from a page, the others through invitations.
async fn post_many(
    server: &TestServer,
    counter: &mut u32,
    account: &str,
    confidentiality: &str,
    nps: u8,
    wave: &str,
    n: usize,
) {
    for _ in 0..n {
        *counter += 1;
        let mut response = portal_response(*counter);
        response["context"] = json!({"account": account, "wave": wave});
        response["confidentiality"] = json!(confidentiality);
        response["answers"]["nps"] = json!(nps);
        if confidentiality == "identified" {
            let (status, body) = server.post_json("client-portal", &response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        } else {
            post_invited(server, &mut response, account, wave).await;
        }
    }
}

/// Regression: an account report once mixed one confidential answer into figures over the
/// account's identified respondents, whose rows the same token reads in the CSV, so the
/// confidential answer was the report's total minus the rows.
#[tokio::test]
async fn one_confidential_answer_cannot_be_recovered_by_subtracting_the_identified_rows() {
    let server = TestServer::new().await;
    let mut counter = 300;
    post_many(&server, &mut counter, "acme", "identified", 9, "2026-h2", 6).await;
    post_many(
        &server,
        &mut counter,
        "acme",
        "confidential",
        0,
        "2026-h2",
        1,
    )
    .await;
    let acme = token(&server, Role::Account, &["acme"]).await;

    let (status, body) = get(&server, "/api/v1/surveys/client-portal/report", Some(&acme)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            report["n"].as_u64(),
            report["protected_batch_size"].as_u64()
        ),
        (Some(6), Some(5))
    );
    let (_, csv) = get(&server, CSV, Some(&acme)).await;
    let rows = csv.lines().count() as u64 - 1;
    assert_eq!(
        report["n"].as_u64(),
        Some(rows),
        "the report covers exactly the rows the caller can read"
    );
    assert_eq!(report["report"]["overall"]["nps"]["mean"], 9.0, "{body}");
    assert_eq!(
        report["report"]["overall"]["nps"]["detractors"], 0,
        "{body}"
    );

    // The programme lead still sees the whole picture.
    let admin = token(&server, Role::Admin, &[]).await;
    let (_, body) = get(
        &server,
        "/api/v1/surveys/client-portal/report",
        Some(&admin),
    )
    .await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            report["n"].as_u64(),
            report.get("protected_batch_size").is_none()
        ),
        (Some(7), true)
    );
}

/// Five respondents meet the minimum group size, but when one of them is confidential and the
/// four others are identified rows the caller can read, the group's figures would give that
/// one answer away. The one waits for its batch; the wave it is missing from is then too
/// small to show, and the other wave is hidden with it, since the total minus one wave
/// would be the other.
#[tokio::test]
async fn a_breakdown_group_with_few_confidential_answers_among_identified_ones_shows_counts_only() {
    let server = TestServer::new().await;
    let mut counter = 400;
    post_many(&server, &mut counter, "acme", "identified", 9, "2026-h1", 6).await;
    post_many(
        &server,
        &mut counter,
        "acme",
        "confidential",
        3,
        "2026-h1",
        5,
    )
    .await;
    post_many(&server, &mut counter, "acme", "identified", 9, "2026-h2", 4).await;
    post_many(
        &server,
        &mut counter,
        "acme",
        "confidential",
        0,
        "2026-h2",
        1,
    )
    .await;
    let acme = token(&server, Role::Account, &["acme"]).await;

    let wave_groups = |body: &str| -> Vec<(String, u64, bool, bool)> {
        let report: Value = serde_json::from_str(body).unwrap();
        report["report"]["segments"][0]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|group| {
                (
                    group["value"].as_str().unwrap().to_owned(),
                    group["n"].as_u64().unwrap(),
                    group["suppressed"].as_bool().unwrap(),
                    group["figures"].is_null(),
                )
            })
            .collect()
    };
    let (status, body) = get(
        &server,
        "/api/v1/surveys/client-portal/report?by=wave",
        Some(&acme),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["n"], 15);
    assert_eq!(
        wave_groups(&body),
        [
            ("2026-h1".to_owned(), 11, true, true),
            ("2026-h2".to_owned(), 4, true, true)
        ],
        "{body}"
    );
    // Five confidential answers among the account's fifteen form an aggregate the rules
    // allow: the overall figures show them.
    let (_, body) = get(&server, "/api/v1/surveys/client-portal/report", Some(&acme)).await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        report["report"]["overall"]["nps"]["detractors"], 5,
        "{body}"
    );

    let admin = token(&server, Role::Admin, &[]).await;
    let (_, body) = get(
        &server,
        "/api/v1/surveys/client-portal/report?by=wave",
        Some(&admin),
    )
    .await;
    assert_eq!(
        wave_groups(&body),
        [
            ("2026-h1".to_owned(), 11, false, false),
            ("2026-h2".to_owned(), 5, false, false)
        ],
        "{body}"
    );
}
