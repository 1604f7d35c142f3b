//! Key drivers over HTTP: the report API, the dashboard's "What matters most" and the
//! one-page summary show the same figures, which are those of the independent reference;
//! an account manager's drivers come from released answers only, and move only when a
//! whole batch of confidential answers is published.

use axum::http::StatusCode;
use rapport_server::auth::Role;
use serde_json::{Value, json};

use crate::dashboard::{get as get_page, session};
use crate::support::{TestServer, plain_invitation, record_invitation, token};

const SURVEY: &str = "legal-contract-experience";

/// The synthetic fixture of scoring's reference: 90 answers to the legal survey, 85 of
/// them complete.
fn fixture() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/drivers-synthetic.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The reference's figures for that fixture.
fn reference() -> Value {
    let expected: Value = serde_json::from_str(include_str!(
        "../../../scoring/tests/reference/drivers.expected.json"
    ))
    .unwrap();
    expected["tests/fixtures/drivers-synthetic.jsonl"].clone()
}

async fn post(server: &TestServer, response: &Value) {
    let (status, body) = server.post_json(SURVEY, response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn report(server: &TestServer, token: &str) -> Value {
    let request = axum::http::Request::get(format!("/api/v1/surveys/{SURVEY}/report"))
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, body) = server.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The statements, most important first, as the API gives them: (id, share, mean).
fn ranked(drivers: &Value) -> Vec<(String, f64, f64)> {
    let mut items: Vec<(String, f64, f64)> = drivers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["id"].as_str().unwrap().to_owned(),
                item["share"].as_f64().unwrap(),
                item["mean_rating"].as_f64().unwrap(),
            )
        })
        .collect();
    items.sort_by(|first, second| second.1.total_cmp(&first.1));
    items
}

/// `kept-informed` as the dashboard names it: "Kept informed".
fn label(id: &str) -> String {
    let spaced = id.replace('-', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_api_the_dashboard_and_the_summary_show_the_same_drivers() {
    let server = TestServer::new().await;
    for response in fixture() {
        post(&server, &response).await;
    }
    let admin = token(&server, Role::Admin, &[]).await;
    let body = report(&server, &admin).await;
    let drivers = &body["report"]["drivers"];
    let expected = reference();
    assert_eq!(drivers["complete_cases"], expected["complete_cases"]);
    assert!(
        (drivers["r_squared"].as_f64().unwrap() - expected["r_squared"].as_f64().unwrap()).abs()
            < 1e-9,
        "{drivers}"
    );
    for (item, want) in drivers["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["items"].as_array().unwrap())
    {
        assert_eq!(item["id"], want["id"]);
        for (got, wanted) in [
            ("share", "share"),
            ("relative_weight", "relative_weight"),
            ("coefficient", "coefficient"),
            ("mean_rating", "mean_rating"),
        ] {
            assert!(
                (item[got].as_f64().unwrap() - want[wanted].as_f64().unwrap()).abs() < 1e-9,
                "{got} of {}",
                item["id"]
            );
        }
    }

    let ranked = ranked(drivers);
    let admin_session = session(&server, Role::Admin, &[]).await;
    let page = get_page(
        &server,
        &format!("/dashboard?survey={SURVEY}"),
        Some(&admin_session),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"drivers\""));
    assert!(page.text.contains("What matters most"));
    // The plain sentence names the most important statement and its rating as the API
    // gives them.
    let (top, _, top_mean) = &ranked[0];
    let headline = format!(
        "{} matters most to whether clients recommend you, and it is rated {:.1} of 7",
        label(top),
        top_mean
    );
    assert!(page.text.contains(&headline), "{headline} not in the page");
    // Every statement is in the table with the API's share and rating, most important first.
    let mut at = 0;
    for (id, share, mean) in &ranked {
        let row = format!(
            "<th scope=\"row\">{}</th><td>{:.0}%</td><td>{:.1}</td>",
            label(id),
            share * 100.0,
            mean
        );
        let found = page.text[at..]
            .find(&row)
            .unwrap_or_else(|| panic!("{row} not in the page after byte {at}"));
        at += found + row.len();
    }
    // The statistics are in a <details>, not in the words.
    assert!(page.text.contains("id=\"drivers-details\""));
    assert!(!page.text.contains("p &lt;") && !page.text.contains("p <"));

    let summary = get_page(
        &server,
        &format!("/dashboard/summary?survey={SURVEY}&version=1"),
        Some(&admin_session),
    )
    .await;
    assert_eq!(summary.status, StatusCode::OK);
    assert!(summary.text.contains(&headline));
    for (id, share, mean) in ranked.iter().take(3) {
        let line = format!(
            "{}: {:.0}% of what matters, rated {:.1} of 7",
            label(id),
            share * 100.0,
            mean
        );
        assert!(summary.text.contains(&line), "{line} not in the summary");
    }
    let (fourth, _, _) = &ranked[3];
    let fourth_line = format!("4. {}: ", label(fourth));
    assert!(!summary.text.contains(&fourth_line), "only three drivers");
}

/// Records an invitation to the legal survey for Northwind and returns its token.
async fn invite(server: &TestServer, counter: usize) -> String {
    let mut invitation = plain_invitation(
        &format!("drivers-{counter}"),
        &format!("contact-{counter}@northwind.example"),
        "northwind",
        Some("2026-h2"),
    );
    invitation.survey = SURVEY.to_owned();
    record_invitation(&server.state.store, &server.state.identity_key, &invitation).await
}

fn northwind(mut response: Value) -> Value {
    response["context"] = json!({"account": "northwind", "wave": "2026-h2"});
    response
}

fn confidential(mut response: Value, invitation: Option<&str>) -> Value {
    response["confidentiality"] = json!("confidential");
    if let Some(invitation) = invitation {
        response["invitation"] = json!(invitation);
    }
    response
}

#[tokio::test]
async fn an_account_managers_drivers_move_only_with_a_published_batch() {
    let server = TestServer::new().await;
    let rows = fixture();
    // Thirty identified Northwind answers: enough for drivers of twelve statements (22).
    for response in &rows[..30] {
        post(&server, &northwind(response.clone())).await;
    }
    let tokens: Vec<String> = invite_all(&server, 40..45).await;
    let account = token(&server, Role::Account, &["northwind"]).await;
    let viewer = token(&server, Role::Viewer, &[]).await;
    let admin = token(&server, Role::Admin, &[]).await;
    let account_before = report(&server, &account).await["report"]["drivers"].clone();
    let viewer_before = report(&server, &viewer).await["report"]["drivers"].clone();
    assert!(account_before["complete_cases"].as_u64().unwrap() >= 22);
    let mut admin_before = report(&server, &admin).await["report"]["drivers"].clone();
    assert_eq!(
        admin_before, account_before,
        "identified answers are live for all"
    );

    // Answers the account manager posts themselves, confidential and unverified, never
    // count for them, so they cannot be subtracted.
    for response in &rows[30..34] {
        post(&server, &confidential(northwind(response.clone()), None)).await;
    }
    assert_eq!(
        report(&server, &account).await["report"]["drivers"],
        account_before
    );

    // Verified confidential answers, one at a time: the programme lead's drivers move with
    // each, the account manager's and the viewer's with none until the fifth publishes the
    // batch.
    for (step, response) in rows[40..45].iter().enumerate() {
        let response = confidential(northwind(response.clone()), Some(&tokens[step]));
        post(&server, &response).await;
        let admin_now = report(&server, &admin).await["report"]["drivers"].clone();
        assert_ne!(admin_now, admin_before, "the lead sees answer {}", step + 1);
        admin_before = admin_now;
        let account_now = report(&server, &account).await["report"]["drivers"].clone();
        let viewer_now = report(&server, &viewer).await["report"]["drivers"].clone();
        if step < 4 {
            assert_eq!(account_now, account_before, "after {} answers", step + 1);
            assert_eq!(viewer_now, viewer_before, "after {} answers", step + 1);
        } else {
            assert_ne!(account_now, account_before, "a whole batch is published");
            assert_ne!(viewer_now, viewer_before, "a whole batch is published");
            assert_eq!(
                account_now["complete_cases"].as_u64().unwrap(),
                account_before["complete_cases"].as_u64().unwrap() + 5,
                "the batch counts whole"
            );
        }
    }
}

async fn invite_all(server: &TestServer, counters: std::ops::Range<usize>) -> Vec<String> {
    let mut tokens = Vec::new();
    for counter in counters {
        tokens.push(invite(server, counter).await);
    }
    tokens
}

#[tokio::test]
async fn too_few_complete_answers_give_no_drivers_and_the_page_says_why() {
    let server = TestServer::new().await;
    // Twenty-one complete answers: one short of twelve statements plus ten.
    let rows: Vec<Value> = fixture()
        .into_iter()
        .filter(|response| response["answers"].as_object().unwrap().len() == 13)
        .take(21)
        .collect();
    for response in &rows {
        post(&server, &northwind(response.clone())).await;
    }
    let account = token(&server, Role::Account, &["northwind"]).await;
    let body = report(&server, &account).await;
    assert!(body["report"]["overall"].is_object(), "{body}");
    assert!(body["report"].get("drivers").is_none(), "{body}");
    let account_session = session(&server, Role::Account, &["northwind"]).await;
    let page = get_page(
        &server,
        &format!("/dashboard?survey={SURVEY}"),
        Some(&account_session),
    )
    .await;
    assert!(
        page.text.contains("id=\"drivers-missing\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("This needs at least 22 clients"));
    assert!(!page.text.contains("id=\"drivers-chart\""));

    // One more complete answer and they appear.
    let one_more = fixture()
        .into_iter()
        .filter(|response| response["answers"].as_object().unwrap().len() == 13)
        .nth(21)
        .unwrap();
    post(&server, &northwind(one_more)).await;
    let body = report(&server, &account).await;
    assert_eq!(body["report"]["drivers"]["complete_cases"], 22, "{body}");
}

#[test]
fn rapport_score_prints_the_drivers_most_important_first() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["score", "--format", "table"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/drivers-synthetic.jsonl"
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = reference();
    let heading = format!(
        "key drivers of the 0-10 answer: R\u{b2} {:.3} over {} complete answers",
        expected["r_squared"].as_f64().unwrap(),
        expected["complete_cases"]
    );
    assert!(text.contains(&heading), "{heading} not in\n{text}");
    // The reference's statements by share, each on its own line in that order.
    let after = &text[text.find(&heading).unwrap()..];
    let lines: Vec<&str> = after.lines().skip(2).collect();
    let ranked = ranked(&expected);
    assert_eq!(lines.len(), ranked.len(), "{after}");
    for (line, (id, share, mean)) in lines.iter().zip(&ranked) {
        assert!(
            line.trim_start().starts_with(id.as_str()),
            "{line} is not {id}"
        );
        assert!(line.contains(&format!("{:.0}%", share * 100.0)), "{line}");
        assert!(line.contains(&format!("{mean:.2}")), "{line}");
    }
}
