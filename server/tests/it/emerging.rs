//! Emerging topics over HTTP: the API and the dashboard say the same for each role, a
//! confidential answer reaches an account manager's new words only with its whole batch, no
//! count below the minimum group size reaches a role other than admin, and quotes only
//! reach the roles that may read those texts.

use axum::http::StatusCode;
use rapport_server::auth::Role;
use serde_json::{Value, json};

use crate::dashboard::{get as get_page, session};
use crate::support::{TestServer, portal_response, post_invited, token};

/// The confidential respondents' weakness, a word nobody used before.
const NEW_WORD: &str = "Invoicing";

async fn emerging(server: &TestServer, token: &str) -> Value {
    let (status, body) = server
        .get_as(token, "/api/v1/surveys/client-portal/emerging")
        .await;
    assert_eq!(status, StatusCode::OK);
    body
}

/// Posts one identified Northwind answer.
async fn identified(
    server: &TestServer,
    counter: u32,
    wave: &str,
    nps: u8,
    weakness: Option<&str>,
) {
    let mut response = portal_response(counter);
    response["context"] = json!({"account": "northwind", "wave": wave});
    response["confidentiality"] = json!("identified");
    response["identity"] = json!({"name": format!("Known {counter}")});
    response["answers"]["nps"] = json!(nps);
    if let Some(weakness) = weakness {
        response["answers"]["weakness"] = json!(weakness);
    }
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Wave 2026-h1: ten respondents who all write "slow replies and unclear pricing". Wave
/// 2026-h2: six write about the handover (four promoters, two detractors), four write no
/// weakness.
///
/// Respondents per term (English Snowball stems): 2026-h1 slow, repli, "slow repli",
/// unclear, price, "unclear price" 10 each (n_j = 60; "and" is a stop word and breaks the
/// phrase); 2026-h2 handov 6 (n_i = 6). With the prior α = 6 + 0, α_0 = 66:
/// δ = ln(12/(6+66−12)) − ln(6/(60+66−6)) = ln(0.2) − ln(0.05) = ln 4 = 1.386,
/// σ = √(1/12 + 1/6) = 0.5, z = 2.77: new, named by 6 of 10 respondents (60%).
async fn programme() -> TestServer {
    let server = TestServer::new().await;
    for counter in 1..=10 {
        identified(
            &server,
            counter,
            "2026-h1",
            8,
            Some("Slow replies and unclear pricing"),
        )
        .await;
    }
    let handovers = [
        "The handover",
        "handovers",
        "Handover!",
        "the handover",
        "Handovers",
        "handover",
    ];
    for (idx, text) in handovers.iter().enumerate() {
        let nps = if idx < 4 { 9 } else { 3 };
        identified(&server, 11 + idx as u32, "2026-h2", nps, Some(text)).await;
    }
    for counter in 17..=20 {
        identified(&server, counter, "2026-h2", 9, None).await;
    }
    server
}

/// The weakness figures of wave 2026-h2.
fn weaknesses(answer: &Value) -> &Value {
    let wave = answer["topics"]["waves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|wave| wave["wave"] == "2026-h2")
        .unwrap_or_else(|| panic!("no 2026-h2 in {answer:#}"));
    &wave["weaknesses"]
}

fn term<'a>(answer: &'a Value, name: &str) -> Option<&'a Value> {
    weaknesses(answer)["emerging"]
        .as_array()
        .unwrap()
        .iter()
        .find(|term| term["term"] == name)
}

#[tokio::test]
async fn the_api_and_the_dashboard_name_the_same_new_words_for_each_role() {
    let server = programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let viewer = token(&server, Role::Viewer, &[]).await;

    let for_admin = emerging(&server, &admin).await;
    let handover = term(&for_admin, "handover").expect("handover is new for the admin");
    assert_eq!(handover["stem"], "handov");
    assert_eq!(handover["respondents"], 6);
    assert_eq!(handover["share"], 0.6);
    assert!(
        (handover["z"].as_f64().unwrap() - 1.386_294 / 0.5).abs() < 1e-5,
        "{handover}"
    );
    assert_eq!(
        (
            handover["promoters"].as_u64(),
            handover["detractors"].as_u64()
        ),
        (Some(4), Some(2))
    );
    assert_eq!(weaknesses(&for_admin)["unmatched"], 6);
    assert_eq!(weaknesses(&for_admin)["texts"], 6);
    let quotes = handover["verbatims"].as_array().unwrap();
    assert_eq!(quotes.len(), 2, "{handover}");

    let page = get_page(
        &server,
        "/dashboard",
        Some(&session(&server, Role::Admin, &[]).await),
    )
    .await;
    assert!(
        page.text.contains("New this wave: <strong>handover</strong>, named by 60% of respondents, of them 4 promoters and 2 detractors"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("None of the weaknesses names any of your topics.")
    );
    assert!(page.text.contains("<q>handover</q>"), "the newest quote");
    // The words are narrowed like every figure of the page: another account's answers, or
    // days in the future, hold none of them.
    let filtered = get_page(
        &server,
        "/dashboard?only_account=contoso",
        Some(&session(&server, Role::Admin, &[]).await),
    )
    .await;
    assert!(
        filtered
            .text
            .contains("No wave has enough answers to show yet."),
        "{}",
        filtered.text
    );
    assert!(!filtered.text.contains("<q>handover</q>"));
    for query in ["?account=contoso", "?from=2999-01-01"] {
        let (status, narrowed) = server
            .get_as(
                &admin,
                &format!("/api/v1/surveys/client-portal/emerging{query}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{narrowed}");
        assert_eq!(
            narrowed["topics"]["waves"],
            json!([]),
            "{query}: {narrowed}"
        );
    }
    // An account manager may not narrow to another account.
    let (status, _) = server
        .get_as(
            &northwind,
            "/api/v1/surveys/client-portal/emerging?account=contoso",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The account manager: the same word and share, but 4 promoters and 2 detractors are
    // both below 5, so the split is not given, on the API or on the page.
    let for_account = emerging(&server, &northwind).await;
    let handover = term(&for_account, "handover").expect("handover is new for the account");
    assert_eq!(handover["respondents"], 6);
    assert_eq!(handover["share"], 0.6);
    assert_eq!(handover["z"], 2.8);
    for category in ["promoters", "passives", "detractors"] {
        assert!(handover[category].is_null(), "{category}: {handover}");
    }
    assert_eq!(
        handover["verbatims"].as_array().unwrap().len(),
        2,
        "identified texts"
    );
    let page = get_page(
        &server,
        "/dashboard",
        Some(&session(&server, Role::Account, &["northwind"]).await),
    )
    .await;
    assert!(
        page.text
            .contains("New this wave: <strong>handover</strong>, named by 60% of respondents")
    );
    assert!(page.text.contains("groups under 5 are never shown"));
    assert!(!page.text.contains("4 promoters") && !page.text.contains("2 detractors"));
    let summary = get_page(
        &server,
        "/dashboard/summary?survey=client-portal&version=1",
        Some(&session(&server, Role::Account, &["northwind"]).await),
    )
    .await;
    assert!(
        summary
            .text
            .contains("<strong>handover</strong> (60% of respondents)"),
        "{}",
        summary.text
    );

    // A viewer reads no texts: the word, no quotes.
    let for_viewer = emerging(&server, &viewer).await;
    let handover = term(&for_viewer, "handover").expect("handover is new for the viewer");
    assert!(handover["verbatims"].as_array().unwrap().is_empty());
    assert_eq!(for_viewer["verbatims_allowed"], false);
    let page = get_page(
        &server,
        "/dashboard",
        Some(&session(&server, Role::Viewer, &[]).await),
    )
    .await;
    assert!(
        page.text
            .contains("New this wave: <strong>handover</strong>")
    );
    assert!(!page.text.contains("<q>"), "no quotes for a viewer");
}

#[tokio::test]
async fn a_confidential_word_reaches_the_account_manager_only_with_its_whole_batch() {
    let server = programme().await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let viewer = token(&server, Role::Viewer, &[]).await;
    let admin = token(&server, Role::Admin, &[]).await;
    let account_before = emerging(&server, &northwind).await;
    let viewer_before = emerging(&server, &viewer).await;
    let account_session = session(&server, Role::Account, &["northwind"]).await;
    let page_before = get_page(&server, "/dashboard", Some(&account_session)).await;
    assert!(!page_before.text.contains("invoicing"));

    // Five confidential detractors, through invitations, name a word nobody used. Until the
    // fifth completes the batch, nothing the account manager or a viewer gets moves; the
    // admin sees each at once.
    for step in 0..5u32 {
        let mut response = portal_response(100 + step);
        response["confidentiality"] = json!("confidential");
        response["identity"] =
            json!({"name": "Secret Client", "email": format!("secret{step}@northwind.example")});
        response["answers"]["nps"] = json!(2);
        response["answers"]["weakness"] = json!(NEW_WORD);
        post_invited(&server, &mut response, "northwind", "2026-h2").await;
        let account_now = emerging(&server, &northwind).await;
        let viewer_now = emerging(&server, &viewer).await;
        let admin_now = emerging(&server, &admin).await;
        assert_eq!(
            weaknesses(&admin_now)["texts"],
            7 + step,
            "the admin is live"
        );
        if step < 4 {
            assert_eq!(account_now, account_before, "after {} answers", step + 1);
            assert_eq!(viewer_now, viewer_before, "after {} answers", step + 1);
            let page = get_page(&server, "/dashboard", Some(&account_session)).await;
            assert!(
                !page.text.contains("invoicing"),
                "after {} answers",
                step + 1
            );
        } else {
            assert_ne!(account_now, account_before, "a full batch is published");
            // n_i = 6 + 5 = 11, α_0 = 71, invoic: α = 5,
            // δ = ln(10/(11+71−10)) − ln(5/(60+71−5)) = ln(10/72) − ln(5/126) = ln 3.5 = 1.253,
            // σ = √(1/10 + 1/5) = 0.548, z = 2.29.
            let invoicing = term(&account_now, "invoicing").expect("published, the word is new");
            assert_eq!(invoicing["respondents"], 5);
            assert_eq!(invoicing["z"], 2.3);
            // Five detractors and nobody else: no hidden group is below 5.
            assert_eq!(invoicing["detractors"], 5);
            assert!(
                invoicing["verbatims"].as_array().unwrap().is_empty(),
                "confidential texts are never quoted to the account"
            );
            let admin_invoicing = term(&admin_now, "invoicing").expect("the admin sees it");
            assert_eq!(
                admin_invoicing["verbatims"][0], NEW_WORD,
                "the programme team reads every text"
            );
            let page = get_page(&server, "/dashboard", Some(&account_session)).await;
            assert!(page.text.contains("New this wave: <strong>invoicing</strong>, named by 33% of respondents, 5 of them detractors"), "{}", page.text);
            assert!(!page.text.contains(&format!("<q>{NEW_WORD}</q>")));
        }
    }
}

#[tokio::test]
async fn new_words_within_each_group_are_counted_and_hidden_as_the_report_does() {
    let server = programme().await;
    // One answer of another account: a group too small to show.
    let mut response = portal_response(90);
    response["context"] = json!({"account": "tiny", "wave": "2026-h2"});
    response["confidentiality"] = json!("identified");
    response["answers"]["weakness"] = json!("handover");
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Five of a third: shown on its own, but hidden beside the small one so that neither
    // can be worked out from the total.
    for counter in 91..=95 {
        let mut response = portal_response(counter);
        response["context"] = json!({"account": "contoso", "wave": "2026-h2"});
        response["confidentiality"] = json!("identified");
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let admin = token(&server, Role::Admin, &[]).await;

    let (status, words) = server
        .get_as(&admin, "/api/v1/surveys/client-portal/emerging?by=account")
        .await;
    assert_eq!(status, StatusCode::OK, "{words}");
    let (_, report) = server
        .get_as(&admin, "/api/v1/surveys/client-portal/report?by=account")
        .await;
    let groups = |groups: &Value, suppressed: &str| -> Vec<(String, u64, bool)> {
        groups
            .as_array()
            .unwrap()
            .iter()
            .map(|group| {
                (
                    group["value"].as_str().unwrap().to_owned(),
                    group["n"].as_u64().unwrap(),
                    group[suppressed].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(words["segments"][0]["field"], "account");
    let by_account = groups(&words["segments"][0]["groups"], "suppressed");
    assert_eq!(
        by_account,
        groups(&report["report"]["segments"][0]["groups"], "suppressed")
    );
    assert_eq!(
        by_account,
        [
            ("contoso".to_owned(), 5, true),
            ("northwind".to_owned(), 20, false),
            ("tiny".to_owned(), 1, true)
        ]
    );
    let northwind = &words["segments"][0]["groups"][1];
    let handover = term(northwind, "handover").expect("handover is new at northwind");
    assert_eq!(handover["respondents"], 6);
    assert!(words["segments"][0]["groups"][0]["topics"].is_null());
    assert!(words["segments"][0]["groups"][2]["topics"].is_null());

    // The dashboard shows the groups of the respondent's role.
    let page = get_page(
        &server,
        "/dashboard",
        Some(&session(&server, Role::Admin, &[]).await),
    )
    .await;
    assert!(
        page.text.contains("id=\"emerging-by-role\""),
        "{}",
        page.text
    );

    let (status, _) = server
        .get_as(
            &admin,
            "/api/v1/surveys/client-portal/emerging?by=returning:confidentiality",
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
