//! The report's date range and account filter, and the admin's hidden and merged labels,
//! through HTTP: the API's `from`, `to` and `account`, the dashboard's form and what it says
//! the figures cover, bad dates refused next to their field, the account manager held to
//! their own accounts and refused the label rules, the audit of every rule, and the curious
//! account manager comparing date ranges a confidential answer apart.

use axum::http::StatusCode;
use rapport_server::auth::Role;
use serde_json::{Value, json};

use crate::dashboard::{get as get_page, post_form, session};
use crate::support::{
    TestServer, database_url, plain_invitation, portal_response, post_invited, record_invitation,
    token,
};

/// Sets the day a response was received, through SQL, before any report reads the version
/// (the report columns are read from the database on the first report).
async fn set_received_at(url: &str, counter: u32, received_at: &str) {
    const SET: &str = "UPDATE responses SET received_at = $1 WHERE response_id = $2";
    let response_id = format!("00000000-0000-4000-8000-{counter:012x}");
    let updated = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let result = sqlx::query(SET)
            .bind(received_at)
            .bind(&response_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        result.rows_affected()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let result = sqlx::query(SET)
            .bind(received_at)
            .bind(&response_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        result.rows_affected()
    };
    assert_eq!(updated, 1, "{response_id}");
}

/// Posts an identified answer `nps` for `account`, received on `day` (`YYYY-MM-DD`).
async fn identified(server: &TestServer, counter: u32, account: &str, nps: u8, day: &str) {
    let mut response = portal_response(counter);
    response["confidentiality"] = json!("identified");
    response["identity"] = json!({"name": format!("Known {counter}")});
    response["context"] = json!({"account": account, "wave": "2026-h1"});
    response["answers"]["nps"] = json!(nps);
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    set_received_at(
        database_url(server),
        counter,
        &format!("{day}T10:00:00.000Z"),
    )
    .await;
}

/// Posts a verified confidential answer `nps` for `account`, received on `day`.
async fn confidential(server: &TestServer, counter: u32, account: &str, nps: u8, day: &str) {
    let mut response = portal_response(counter);
    response.as_object_mut().unwrap().remove("identity");
    response["context"] = json!({"account": account, "wave": "2026-h1"});
    response["answers"]["nps"] = json!(nps);
    post_invited(server, &mut response, account, "2026-h1").await;
    set_received_at(
        database_url(server),
        counter,
        &format!("{day}T10:00:00.000Z"),
    )
    .await;
}

async fn report(server: &TestServer, token: &str, query: &str) -> (StatusCode, Value) {
    server
        .get_as(
            token,
            &format!("/api/v1/surveys/client-portal/report{query}"),
        )
        .await
}

/// (n, promoters, detractors) of a report the caller may see figures of.
fn counts(body: &Value) -> (u64, u64, u64) {
    let nps = &body["report"]["overall"]["nps"];
    (
        body["n"].as_u64().unwrap(),
        nps["promoters"].as_u64().unwrap_or(0),
        nps["detractors"].as_u64().unwrap_or(0),
    )
}

#[tokio::test]
async fn the_api_report_counts_the_days_and_the_account_asked_for() {
    let server = TestServer::new().await;
    // Northwind: 10 on 28 Feb, 9 on 1 Mar, 8 on 30 Jun, 0 on 1 Jul; Contoso: 3 on 15 Apr.
    identified(&server, 1, "northwind", 10, "2026-02-28").await;
    identified(&server, 2, "northwind", 9, "2026-03-01").await;
    identified(&server, 3, "contoso", 3, "2026-04-15").await;
    identified(&server, 4, "northwind", 8, "2026-06-30").await;
    identified(&server, 5, "northwind", 0, "2026-07-01").await;
    let admin = token(&server, Role::Admin, &[]).await;
    let (status, everything) = report(&server, &admin, "").await;
    assert_eq!(status, StatusCode::OK, "{everything}");
    // All five: promoters 10 and 9, detractors 3 and 0.
    assert_eq!(counts(&everything), (5, 2, 2));
    // 1 March to 30 June, both included: the 9, the 3 and the 8.
    let (status, spring) = report(&server, &admin, "?from=2026-03-01&to=2026-06-30").await;
    assert_eq!(status, StatusCode::OK, "{spring}");
    assert_eq!(counts(&spring), (3, 1, 1));
    // The same for Northwind: the 9 and the 8, NPS (1 − 0) / 2 = +50.
    let (_, northwind) = report(
        &server,
        &admin,
        "?from=2026-03-01&to=2026-06-30&account=northwind",
    )
    .await;
    assert_eq!(counts(&northwind), (2, 1, 0));
    assert_eq!(northwind["report"]["overall"]["nps"]["nps"], json!(50.0));
    // The unfiltered report asked again is the same: a filtered report is never what the
    // cache of the version's columns holds.
    let (_, again) = report(&server, &admin, "").await;
    assert_eq!(again, everything);
    // Blank parameters, as an empty form field sends them, are no bound.
    let (_, blank) = report(&server, &admin, "?from=&to=&account=").await;
    assert_eq!(blank, everything);
}

#[tokio::test]
async fn bad_dates_are_refused_naming_the_parameter() {
    let server = TestServer::new().await;
    identified(&server, 1, "northwind", 10, "2026-03-01").await;
    let admin = token(&server, Role::Admin, &[]).await;
    for (query, field) in [
        ("?from=2026-02-30", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-3-1", "from"),
        ("?from=2026-06-30&to=2026-03-01", "to"),
    ] {
        let (status, body) = report(&server, &admin, query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["details"][0]["field"], json!(field), "{query}: {body}");
    }
    // On the dashboard, a bad date is said next to its field, and the page still shows.
    let admin_session = session(&server, Role::Admin, &[]).await;
    let page = get_page(&server, "/dashboard?from=2026-02-30", Some(&admin_session)).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.text
    );
    assert!(
        page.text.contains("id=\"filter-from-problem\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("is not a date"), "{}", page.text);
    assert!(page.text.contains("Answers received at any time"));
    let page = get_page(
        &server,
        "/dashboard?from=2026-06-30&to=2026-03-01",
        Some(&admin_session),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text.contains("The end date is before the start date."));
}

#[tokio::test]
async fn the_dashboard_says_what_the_figures_cover_and_keeps_the_filter_in_its_links() {
    let server = TestServer::new().await;
    for counter in 1..=5 {
        identified(&server, counter, "northwind", 9, "2026-03-02").await;
    }
    identified(&server, 6, "contoso", 3, "2026-04-02").await;
    let admin_session = session(&server, Role::Admin, &[]).await;
    let page = get_page(
        &server,
        "/dashboard?from=2026-03-01&to=2026-06-30&only_account=northwind",
        Some(&admin_session),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text
            .contains("Answers received 1 March – 30 June 2026, account northwind"),
        "{}",
        page.text
    );
    // The account choice lists both accounts; Northwind is chosen.
    assert!(
        page.text
            .contains("<option value=\"contoso\">contoso</option>")
    );
    assert!(
        page.text
            .contains("<option value=\"northwind\" selected>northwind</option>")
    );
    // The summary link keeps the filter, and the summary says what it covers.
    let kept = "&amp;from=2026-03-01&amp;to=2026-06-30&amp;only_account=northwind";
    assert!(
        page.text.contains(&format!(
            "/dashboard/summary?survey=client-portal&amp;version=1{kept}"
        )),
        "{}",
        page.text
    );
    let summary = get_page(
        &server,
        "/dashboard/summary?survey=client-portal&version=1&from=2026-03-01&to=2026-06-30&only_account=northwind",
        Some(&admin_session),
    )
    .await;
    assert_eq!(summary.status, StatusCode::OK);
    assert!(summary.text.contains("account northwind"));
    assert!(summary.text.contains(&format!(
        "/dashboard?survey=client-portal&amp;version=1{kept}"
    )));
}

#[tokio::test]
async fn an_account_manager_may_filter_only_their_own_accounts() {
    let server = TestServer::new().await;
    for counter in 1..=5 {
        identified(&server, counter, "northwind", 9, "2026-03-02").await;
    }
    for counter in 6..=10 {
        identified(&server, counter, "contoso", 3, "2026-03-02").await;
    }
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let (status, body) = report(&server, &northwind, "?account=contoso").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = report(&server, &northwind, "?account=northwind").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (5, 5, 0));
    // On the dashboard: refused, and the choice offers their account only.
    let manager = session(&server, Role::Account, &["northwind"]).await;
    let page = get_page(&server, "/dashboard?only_account=contoso", Some(&manager)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.text);
    let page = get_page(&server, "/dashboard", Some(&manager)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("<option value=\"northwind\">"));
    assert!(!page.text.contains("<option value=\"contoso\""));
    // A viewer may pick any account.
    let viewer = token(&server, Role::Viewer, &[]).await;
    let (status, body) = report(&server, &viewer, "?account=contoso").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (5, 0, 5));
}

/// The curious account manager knows that one client answered confidentially on 1 March,
/// and compares every date range they can ask for. Northwind has five verified confidential
/// answers on 1 to 5 March (one published batch of the minimum group size, 5), a sixth on 6
/// March (waiting for its batch), and five identified answers on 10 March.
#[tokio::test]
async fn date_ranges_a_confidential_answer_apart_differ_by_a_whole_batch_or_not_at_all() {
    let server = TestServer::new().await;
    for (counter, nps) in (1..=5).zip([0, 9, 10, 4, 8]) {
        confidential(
            &server,
            counter,
            "northwind",
            nps,
            &format!("2026-03-0{counter}"),
        )
        .await;
    }
    confidential(&server, 6, "northwind", 1, "2026-03-06").await;
    for counter in 7..=11 {
        identified(&server, counter, "northwind", 10, "2026-03-10").await;
    }
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    // Every range from day `first` to day `last` of March 2026.
    for first in 1..=10u32 {
        for last in first..=10u32 {
            let query = format!("?from=2026-03-{first:02}&to=2026-03-{last:02}");
            let (status, body) = report(&server, &northwind, &query).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            // The batch of 1–5 March counts only when the range holds all of it; the
            // waiting answer of 6 March never counts; the identified answers of 10 March
            // count when the range holds that day.
            let batch = if first <= 1 && last >= 5 { 5 } else { 0 };
            let identified = if last >= 10 { 5 } else { 0 };
            assert_eq!(
                body["n"].as_u64().unwrap(),
                batch + identified,
                "{query}: {body}"
            );
        }
    }
    // So 1–10 March and 2–10 March, one confidential answer apart, differ by the whole
    // batch: five answers, four of which the manager cannot place.
    let (_, with_batch) = report(&server, &northwind, "?from=2026-03-01&to=2026-03-10").await;
    let (_, without) = report(&server, &northwind, "?from=2026-03-02&to=2026-03-10").await;
    assert_eq!(counts(&with_batch), (10, 7, 2));
    assert_eq!(counts(&without), (5, 5, 0));
    // And 2–10 March is exactly what 6–10 March shows: no part of the batch shows.
    let (_, later) = report(&server, &northwind, "?from=2026-03-06&to=2026-03-10").await;
    assert_eq!(later["report"], without["report"]);
}

/// Adds a label rule through the dashboard's form as the holder of `session`.
async fn add_rule(server: &TestServer, session: &str, form: &str) -> crate::dashboard::Page {
    post_form(
        server,
        "/dashboard/labels",
        form,
        Some(session),
        "same-origin",
    )
    .await
}

#[tokio::test]
async fn the_admin_hides_and_merges_labels_for_every_report_and_each_change_is_audited() {
    let server = TestServer::new().await;
    for counter in 1..=5 {
        identified(&server, counter, "northwind", 9, "2026-03-02").await;
    }
    identified(&server, 6, "northwind-test", 10, "2026-03-02").await;
    identified(&server, 7, "test-co", 0, "2026-03-02").await;
    let admin_session = session(&server, Role::Admin, &[]).await;
    // Neither an account manager nor a viewer may set rules, and no other site may.
    for role in [Role::Account, Role::Viewer] {
        let other = session(&server, role, &["northwind"]).await;
        let refused = add_rule(&server, &other, "field=account&value=test-co&action=hide").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let refused = get_page(&server, "/dashboard/labels", Some(&other)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let forged = post_form(
        &server,
        "/dashboard/labels",
        "field=account&value=test-co&action=hide",
        Some(&admin_session),
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(server.state.store.label_rules().await.unwrap().is_empty());
    // A bad form is refused in words, and stores nothing.
    let bad = add_rule(
        &server,
        &admin_session,
        "field=account&value=test-co&action=merge&merge_into=",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("Type the other label to count it as."));
    let bad = add_rule(&server, &admin_session, "field=colour&value=x&action=hide").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Hide test-co, merge northwind-test into northwind.
    let added = add_rule(
        &server,
        &admin_session,
        "field=account&value=test-co&action=hide",
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let added = add_rule(
        &server,
        &admin_session,
        "field=account&value=northwind-test&action=merge&merge_into=northwind",
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let again = add_rule(
        &server,
        &admin_session,
        "field=account&value=test-co&action=hide",
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let audit = server
        .state
        .store
        .audit_entries("label rule", 10)
        .await
        .unwrap();
    let entries: Vec<(&str, &str)> = audit
        .iter()
        .map(|entry| (entry.action.as_str(), entry.subject.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            (
                "label rule added",
                "account \"northwind-test\" merged into \"northwind\""
            ),
            ("label rule added", "account \"test-co\" hidden"),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|entry| entry.actor == "dashboard: unlabelled admin token"),
        "{audit:?}"
    );
    // Every role's report: test-co's 0 is gone, northwind holds six answers.
    let viewer = token(&server, Role::Viewer, &[]).await;
    let (_, body) = report(&server, &viewer, "?by=account").await;
    assert_eq!(counts(&body), (6, 6, 0));
    let groups: Vec<(String, u64)> = body["report"]["segments"][0]["groups"]
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
    assert_eq!(groups, [("northwind".to_owned(), 6)]);
    // The account filter reads merged names.
    let (_, body) = report(&server, &viewer, "?account=northwind").await;
    assert_eq!(counts(&body), (6, 6, 0));
    // The admin's page says which labels are changed; the viewer's does not.
    let page = get_page(&server, "/dashboard", Some(&admin_session)).await;
    assert!(
        page.text.contains("Some labels are hidden or merged"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Account “test-co” is left out."));
    assert!(
        page.text
            .contains("Account “northwind-test” is counted as “northwind”.")
    );
    let viewer_session = session(&server, Role::Viewer, &[]).await;
    let page = get_page(&server, "/dashboard", Some(&viewer_session)).await;
    assert!(!page.text.contains("test-co"), "{}", page.text);
    // Undo the hiding: test-co's answer is back, and the removal is audited.
    let removed = post_form(
        &server,
        "/dashboard/labels/remove",
        "field=account&value=test-co",
        Some(&admin_session),
        "same-origin",
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
    let (_, body) = report(&server, &viewer, "").await;
    assert_eq!(counts(&body), (7, 6, 1));
    let audit = server
        .state
        .store
        .audit_entries("label rule", 1)
        .await
        .unwrap();
    assert_eq!(audit[0].action, "label rule removed");
    assert_eq!(audit[0].subject, "account \"test-co\" hidden");
    let page = get_page(&server, "/dashboard/labels", Some(&admin_session)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("label rule removed"));
}

/// Hiding a label never shows part of a published batch: the matter of one of Northwind's
/// five confidential answers is hidden, and the whole batch leaves the account manager's
/// report, while the admin's live report loses that one answer only.
#[tokio::test]
async fn hiding_a_label_inside_a_published_batch_leaves_the_whole_batch_out() {
    let server = TestServer::new().await;
    for counter in 1..=5 {
        let mut response = portal_response(counter);
        response.as_object_mut().unwrap().remove("identity");
        // The invitation says which matter, not what the page sends.
        let matter = if counter == 3 { "test-matter" } else { "msa" };
        let mut invitation = plain_invitation(
            &format!("inv-{counter}"),
            &format!("contact-{counter}@northwind.example"),
            "northwind",
            Some("2026-h1"),
        );
        invitation.matter = Some(matter.to_owned());
        let link =
            record_invitation(&server.state.store, &server.state.identity_key, &invitation).await;
        response["invitation"] = json!(link);
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for counter in 6..=10 {
        identified(&server, counter, "northwind", 10, "2026-03-10").await;
    }
    let admin_session = session(&server, Role::Admin, &[]).await;
    let added = add_rule(
        &server,
        &admin_session,
        "field=matter&value=test-matter&action=hide",
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let (_, body) = report(&server, &northwind, "").await;
    assert_eq!(body["n"], json!(5), "{body}");
    let admin = token(&server, Role::Admin, &[]).await;
    let (_, body) = report(&server, &admin, "").await;
    assert_eq!(body["n"], json!(9), "{body}");
}
