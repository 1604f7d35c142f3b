//! Reports across survey versions through HTTP: the API's `since_version` and the report's
//! `versions`, the dashboard counting every version that asks the same 0–10 question and
//! saying so, the refusals, and the account manager, who sees each version's confidential
//! answers only in that version's whole batches.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rapport_scoring::definition::Question;
use rapport_scoring::ids::QuestionId;
use rapport_scoring::template;
use rapport_server::api::app;
use rapport_server::auth::Role;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::dashboard::{get as get_page, session};
use crate::support::{TestServer, portal_response, post_invited, token};

/// Stores version 2 of `client-portal`: `satisfaction` removed, a new element `handover`
/// on the same level.
async fn add_version_two(server: &TestServer) {
    let mut definition = template("client-portal").unwrap();
    definition.version = 2;
    definition
        .questions
        .retain(|question| question.id().as_str() != "satisfaction");
    let Some(Question::Element {
        level,
        text,
        required,
        ..
    }) = template("client-portal")
        .unwrap()
        .questions
        .into_iter()
        .find(|question| question.id().as_str() == "satisfaction")
    else {
        panic!("satisfaction is an element");
    };
    definition.questions.push(Question::Element {
        id: QuestionId::new("handover").unwrap(),
        level,
        text,
        required,
    });
    server
        .state
        .store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();
}

/// An identified answer `nps` to `version`, with the ratings that version asks.
async fn identified(server: &TestServer, counter: u32, version: u32, nps: u8, wave: &str) {
    let mut response = portal_response(counter);
    response["survey_version"] = json!(version);
    response["confidentiality"] = json!("identified");
    response["identity"] = json!({"name": format!("Known {counter}")});
    response["context"] = json!({"account": "acme", "wave": wave});
    response["answers"]["nps"] = json!(nps);
    if version == 2 {
        let answers = response["answers"].as_object_mut().unwrap();
        answers.remove("satisfaction");
        answers.insert("handover".to_owned(), json!(3));
    }
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A verified confidential answer `nps` to `version` for `account`.
async fn confidential(server: &TestServer, counter: u32, version: u32, account: &str, nps: u8) {
    let mut response = portal_response(counter);
    response.as_object_mut().unwrap().remove("identity");
    response["survey_version"] = json!(version);
    response["context"] = json!({"account": account, "wave": "2026"});
    response["answers"]["nps"] = json!(nps);
    if version == 2 {
        response["answers"]
            .as_object_mut()
            .unwrap()
            .remove("satisfaction");
    }
    post_invited(server, &mut response, account, "2026").await;
}

async fn get_json(server: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    server
        .get_as(token, &format!("/api/v1/surveys/client-portal/{path}"))
        .await
}

/// The CSV export with `query`: its file name and its text.
async fn csv(server: &TestServer, token: &str, query: &str) -> (String, String) {
    let request = Request::get(format!(
        "/api/v1/surveys/client-portal/responses.csv{query}"
    ))
    .header("authorization", format!("Bearer {token}"))
    .body(Body::empty())
    .unwrap();
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (disposition, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn report(server: &TestServer, token: &str, query: &str) -> (StatusCode, Value) {
    server
        .get_as(
            token,
            &format!("/api/v1/surveys/client-portal/report{query}"),
        )
        .await
}

/// (n, answered) of an item of a report.
fn item(body: &Value, id: &str) -> Option<(u64, f64)> {
    body["report"]["overall"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .and_then(|item| {
            Some((
                item["figures"]["n"].as_u64()?,
                item["figures"]["mean"].as_f64()?,
            ))
        })
}

#[tokio::test]
async fn a_report_counts_earlier_versions_by_question_id() {
    let server = TestServer::new().await;
    identified(&server, 1, 1, 9, "2025").await;
    identified(&server, 2, 1, 3, "2025").await;
    add_version_two(&server).await;
    identified(&server, 3, 2, 10, "2026").await;
    identified(&server, 4, 2, 6, "2026").await;
    identified(&server, 5, 2, 10, "2026").await;
    let admin = token(&server, Role::Admin, &[]).await;

    // By default the API reports on the latest version alone, and lists no versions.
    let (status, alone) = report(&server, &admin, "").await;
    assert_eq!(status, StatusCode::OK, "{alone}");
    assert_eq!(alone["n"], 3);
    assert!(alone["report"].get("versions").is_none(), "{alone}");

    let (status, both) = report(&server, &admin, "?since_version=1&by=wave").await;
    assert_eq!(status, StatusCode::OK, "{both}");
    assert_eq!(both["n"], 5);
    // Promoters 9, 10, 10; detractors 3, 6: NPS (3 − 2) / 5 = +20.
    let nps = &both["report"]["overall"]["nps"];
    assert_eq!(
        (nps["promoters"].as_u64(), nps["detractors"].as_u64()),
        (Some(3), Some(2))
    );
    assert!((nps["nps"].as_f64().unwrap() - 20.0).abs() < 1e-9, "{nps}");
    assert_eq!(
        both["report"]["versions"],
        json!([
            {"version": 1, "n": 2, "not_asked": ["handover"]},
            {"version": 2, "n": 3},
        ])
    );
    // Trust (6 in every answer) was asked by both versions; handover (3) by version 2 only;
    // satisfaction is not a question of version 2 at all.
    assert_eq!(item(&both, "trust"), Some((5, 6.0)));
    assert_eq!(item(&both, "handover"), Some((3, 3.0)));
    assert_eq!(item(&both, "satisfaction"), None);
    let waves: Vec<(String, u64)> = both["report"]["segments"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| {
            (
                group["value"].as_str().unwrap().to_owned(),
                group["n"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(waves, [("2025".to_owned(), 2), ("2026".to_owned(), 3)]);
    // Emerging topics count the same versions: one wave per version here.
    let waves_of = |body: &Value| -> Vec<(String, u64)> {
        body["topics"]["waves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|wave| {
                (
                    wave["wave"].as_str().unwrap().to_owned(),
                    wave["respondents"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (status, words) = get_json(&server, &admin, "emerging?since_version=1").await;
    assert_eq!(status, StatusCode::OK, "{words}");
    assert_eq!(
        waves_of(&words),
        [("2025".to_owned(), 2), ("2026".to_owned(), 3)]
    );
    let (_, words) = get_json(&server, &admin, "emerging").await;
    assert_eq!(waves_of(&words), [("2026".to_owned(), 3)]);
    // What was computed is kept, but never past a new answer.
    identified(&server, 6, 2, 8, "2026").await;
    let (_, words) = get_json(&server, &admin, "emerging").await;
    assert_eq!(waves_of(&words), [("2026".to_owned(), 4)]);
    // The close-the-loop list keeps version 1's detractor (3 of 10) when asked to, and the
    // dashboard lists it by default with the figures.
    let respondents = |list: &Value| -> Vec<String> {
        list["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|account| account["items"].as_array().unwrap().clone())
            .map(|item| {
                item["respondent"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let (status, latest) = get_json(&server, &admin, "follow-ups").await;
    assert_eq!(status, StatusCode::OK, "{latest}");
    assert!(
        !respondents(&latest).contains(&"Known 2".to_owned()),
        "{latest}"
    );
    let (_, both_lists) = get_json(&server, &admin, "follow-ups?since_version=1").await;
    assert!(
        respondents(&both_lists).contains(&"Known 2".to_owned()),
        "{both_lists}"
    );
    // The CSV holds the same rows as the report over the same versions, under version 2's
    // columns, each saying which version it answered.
    let (disposition, spanning) = csv(&server, &admin, "?since_version=1").await;
    assert!(
        disposition.contains("client-portal-v1-v2-responses.csv"),
        "{disposition}"
    );
    let lines: Vec<&str> = spanning.lines().collect();
    assert_eq!(lines.len(), 1 + 6, "{spanning}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header.last(), Some(&"survey_version"));
    assert!(header.contains(&"handover") && !header.contains(&"satisfaction"));
    let versions: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(versions, ["1", "1", "2", "2", "2", "2"]);
    let (_, latest) = csv(&server, &admin, "").await;
    assert_eq!(latest.lines().count(), 1 + 4);
    // Naming version 2 itself as the earliest is the version alone.
    let (_, same) = report(&server, &admin, "?since_version=2").await;
    assert_eq!(same["n"], 4);

    // The dashboard counts both by default and says so, with a link to version 2 alone.
    let admin_session = session(&server, Role::Admin, &[]).await;
    let page = get_page(
        &server,
        "/dashboard?survey=client-portal",
        Some(&admin_session),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains(
            "These figures count versions 1 and 2 of the survey together, question by question: \
             2 answers to version 1 and 4 answers to version 2. Version 1 did not ask “Handover”, \
             so its figures count the other versions only."
        ),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("href=\"/dashboard?survey=client-portal&amp;version=2&amp;since_version=2\"")
    );
    assert!(
        page.text.contains("Known 2"),
        "version 1's detractor is on the list"
    );
    let page = get_page(
        &server,
        "/dashboard?survey=client-portal&since_version=2",
        Some(&admin_session),
    )
    .await;
    assert!(
        page.text
            .contains("These figures count version 2 alone. <a id=\"versions-together\""),
        "{}",
        page.text
    );
    // The filter form keeps the versions chosen.
    assert!(page.text.contains("name=\"since_version\" value=\"2\""));
    let summary = get_page(
        &server,
        "/dashboard/summary?survey=client-portal",
        Some(&admin_session),
    )
    .await;
    assert!(
        summary
            .text
            .contains("These figures count versions 1 and 2 of the survey together")
    );
}

#[tokio::test]
async fn versions_that_cannot_be_counted_together_are_refused() {
    let server = TestServer::new().await;
    identified(&server, 1, 1, 9, "2025").await;
    let admin = token(&server, Role::Admin, &[]).await;
    let (status, body) = report(&server, &admin, "?since_version=2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "since_version", "{body}");
    // The close-the-loop list reads the versions the same way.
    let (status, body) = get_json(&server, &admin, "follow-ups?since_version=2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "since_version", "{body}");

    // Version 2 asks its 0–10 question under another id: not the same question.
    let mut renamed = template("client-portal").unwrap();
    for question in &mut renamed.questions {
        if let Question::Nps { id, .. } = question {
            *id = QuestionId::new("recommend").unwrap();
        }
    }
    server
        .state
        .store
        .add_survey(&renamed, crate::support::SETUP)
        .await
        .unwrap();
    let (status, body) = report(&server, &admin, "?since_version=1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "since_version");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("version 1 does not ask the 0–10 question \"recommend\""),
        "{body}"
    );
    // The dashboard counts version 2 alone, and offers nothing else.
    let admin_session = session(&server, Role::Admin, &[]).await;
    let page = get_page(
        &server,
        "/dashboard?survey=client-portal",
        Some(&admin_session),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("id=\"versions\""));
}

#[tokio::test]
async fn an_account_manager_sees_each_versions_confidential_answers_in_its_own_batches() {
    let server = TestServer::new().await;
    // Version 1: six verified confidential answers, so one batch of five and one waiting.
    for counter in 1..=6 {
        confidential(&server, counter, 1, "acme", 9).await;
    }
    add_version_two(&server).await;
    // Version 2: four, so none published yet.
    for counter in 7..=10 {
        confidential(&server, counter, 2, "acme", 2).await;
    }
    let manager = token(&server, Role::Account, &["acme"]).await;
    let (status, body) = report(&server, &manager, "?since_version=1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The answer left over from version 1 and the four of version 2 are five, but belong to
    // no batch together: only version 1's batch counts.
    assert_eq!(body["n"], 5, "{body}");
    assert_eq!(body["report"]["overall"]["nps"]["promoters"], 5);
    let (_, alone) = report(&server, &manager, "").await;
    assert_eq!(alone["n"], 0, "{alone}");
    assert_eq!(alone["suppressed"], true);

    // The fifth answer to version 2 publishes its batch, whole.
    confidential(&server, 11, 2, "acme", 2).await;
    let (_, body) = report(&server, &manager, "?since_version=1").await;
    assert_eq!(body["n"], 10, "{body}");
    assert_eq!(body["report"]["overall"]["nps"]["detractors"], 5);
    assert_eq!(
        body["report"]["versions"],
        json!([{"version": 1, "n": 5, "not_asked": ["handover"]}, {"version": 2, "n": 5}])
    );
    assert!(body["published_at"].is_string(), "{body}");
}

#[tokio::test]
async fn rapport_report_counts_versions_with_the_filter_and_the_label_rules() {
    use rapport_scoring::report::{LabelAction, LabelField, LabelRule};

    let server = TestServer::new().await;
    identified(&server, 1, 1, 9, "2025").await;
    identified(&server, 2, 1, 3, "2025").await;
    add_version_two(&server).await;
    identified(&server, 3, 2, 10, "2026").await;
    let mut other = portal_response(4);
    other["survey_version"] = json!(2);
    other["confidentiality"] = json!("identified");
    other["context"] = json!({"account": "acme-test", "wave": "2026"});
    other["answers"]["nps"] = json!(0);
    other["answers"]
        .as_object_mut()
        .unwrap()
        .remove("satisfaction");
    assert_eq!(
        server.post_json("client-portal", &other).await.0,
        StatusCode::CREATED
    );
    let database = crate::support::database_url(&server).to_owned();
    let rapport = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--survey",
            "client-portal",
            "--database-url",
            &database,
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(&args)
            .output()
            .unwrap()
    };
    let json = |extra: &[&str]| -> Value {
        let output = rapport(extra);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };

    // The latest version alone: two answers; every version: four.
    assert_eq!(json(&["--format", "json"])["overall"]["n"], 2);
    let both = json(&["--since-version", "1", "--format", "json"]);
    assert_eq!(both["overall"]["n"], 4);
    assert_eq!(
        both["versions"][0],
        json!({"version": 1, "n": 2, "not_asked": ["handover"]})
    );
    // One account: the test account's answer is left out…
    let acme = json(&[
        "--since-version",
        "1",
        "--account",
        "acme",
        "--format",
        "json",
    ]);
    assert_eq!(acme["overall"]["n"], 3);
    // …until the programme lead merges the test account into acme.
    server
        .state
        .store
        .add_label_rule(
            &LabelRule {
                field: LabelField::Account,
                value: "acme-test".to_owned(),
                action: LabelAction::MergeInto("acme".to_owned()),
            },
            "test",
        )
        .await
        .unwrap();
    let merged = json(&[
        "--since-version",
        "1",
        "--account",
        "acme",
        "--format",
        "json",
    ]);
    assert_eq!(merged["overall"]["n"], 4);
    // Every answer was received today: a range in the future holds none.
    let future = json(&["--from", "2999-01-01", "--format", "json"]);
    assert_eq!(future["overall"]["n"], 0);

    let table = String::from_utf8(rapport(&["--since-version", "1"]).stdout).unwrap();
    assert!(
        table.contains("version 1: 2 responses, did not ask handover"),
        "{table}"
    );
    let refused = rapport(&["--from", "2026-13-01"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("from: date must be written YYYY-MM-DD"),
        "{said}"
    );
    let refused = rapport(&["--since-version", "3"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("since_version: version 3 is later"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
