//! The curious account manager over HTTP: what an `account` token and a `viewer` token get
//! from the report, the close-the-loop list and the completion figures while protected
//! answers arrive one at a time, with answers of their own injected. Nothing they get may
//! change by fewer than a batch of protected answers.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, plain_invitation, portal_response, record_invitation, token};

async fn get(server: &TestServer, path: &str, token: &str) -> Value {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Everything the reader can get that could move with a protected answer: the report under
/// every breakdown and the close-the-loop list (for an account token).
async fn everything(server: &TestServer, token: &str, with_list: bool) -> Vec<Value> {
    let mut seen = Vec::new();
    for by in [
        "",
        "?by=account",
        "?by=matter",
        "?by=wave",
        "?by=returning",
        "?by=confidentiality",
        "?by=nps-category",
        "?by=role",
        "?by=account:confidentiality",
        "?by=returning%C3%97confidentiality",
    ] {
        seen.push(
            get(
                server,
                &format!("/api/v1/surveys/client-portal/report{by}"),
                token,
            )
            .await,
        );
    }
    if with_list {
        seen.push(get(server, "/api/v1/surveys/client-portal/follow-ups", token).await);
    }
    seen
}

/// How an answer arrives.
#[derive(Clone, Copy)]
enum Kind<'a> {
    /// Identified, from the page.
    Identified,
    /// Confidential, from the page: anyone could have posted it.
    Injected,
    /// Confidential, through the invitation whose token this is.
    Invited(&'a str),
}

/// Records the invitation that response `counter` will answer, before anything is read, so
/// that the number of invitations stays the same while answers arrive.
async fn invite(server: &TestServer, counter: u32) -> String {
    let invitation = plain_invitation(
        &format!("inv-{counter}"),
        &format!("contact-{counter}@northwind.example"),
        "northwind",
        Some("2026-h2"),
    );
    record_invitation(&server.state.store, &server.state.identity_key, &invitation).await
}

/// One Northwind answer: identified from the page, or confidential through its invitation
/// (verified) or from the page (unverified, as anyone could post it).
async fn answer(server: &TestServer, counter: u32, kind: Kind<'_>, nps: u8) {
    let mut response = portal_response(counter);
    response["answers"]["nps"] = json!(nps);
    response["context"] = json!({"account": "northwind", "wave": "2026-h2", "matter": "msa"});
    match kind {
        Kind::Identified => {
            response["confidentiality"] = json!("identified");
            response["identity"] = json!({"name": format!("Known {counter}")});
            let (status, body) = server.post_json("client-portal", &response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        Kind::Injected => {
            response.as_object_mut().unwrap().remove("identity");
            let (status, body) = server.post_json("client-portal", &response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        Kind::Invited(token) => {
            response.as_object_mut().unwrap().remove("identity");
            response["invitation"] = json!(token);
            let (status, body) = server.post_json("client-portal", &response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
}

#[tokio::test]
async fn reports_move_by_whole_batches_of_verified_confidential_answers_only() {
    let server = TestServer::new().await;
    for counter in 1..=6 {
        answer(&server, counter, Kind::Identified, 9).await;
    }
    let mut tokens = std::collections::HashMap::new();
    for counter in (20..25).chain([30]) {
        tokens.insert(counter, invite(&server, counter).await);
    }
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let viewer = token(&server, Role::Viewer, &[]).await;
    let mut account_before = everything(&server, &northwind, true).await;
    let mut viewer_before = everything(&server, &viewer, false).await;

    // Four answers the account manager posted, with scores they know: they count for
    // nothing, so they cannot lift a group over the minimum size.
    for counter in 10..14 {
        answer(&server, counter, Kind::Injected, 10).await;
    }
    // Then the real confidential answers arrive one at a time. Until the fifth, nothing the
    // readers can get moves at all; the fifth publishes the batch.
    for (step, counter) in (20..25).enumerate() {
        let nps = if step == 2 { 0 } else { 8 };
        answer(&server, counter, Kind::Invited(&tokens[&counter]), nps).await;
        let account_now = everything(&server, &northwind, true).await;
        let viewer_now = everything(&server, &viewer, false).await;
        if step < 4 {
            assert_eq!(account_now, account_before, "after {} answers", step + 1);
            assert_eq!(viewer_now, viewer_before, "after {} answers", step + 1);
        } else {
            assert_ne!(account_now, account_before, "a full batch is published");
            assert_ne!(viewer_now, viewer_before, "a full batch is published");
            let report = &account_now[0];
            assert_eq!(report["n"], 11, "six identified and one batch of five");
            assert!(
                report["published_at"]
                    .as_str()
                    .is_some_and(|at| at.starts_with("20")),
                "the report says when the batch was published: {}",
                report["published_at"]
            );
            assert!(account_before[0].get("published_at").is_none());
            assert_eq!(
                report["report"]["overall"]["confidentiality"]["confidential"],
                5
            );
            let flags = &account_now.last().unwrap()["accounts"][0]["confidential_feedback"];
            assert_eq!(flags.as_array().map(Vec::len), Some(1), "{flags}");
        }
        account_before = account_now;
        viewer_before = viewer_now;
    }
    // One more confidential detractor: the batch after it waits, and so does its flag.
    answer(&server, 30, Kind::Invited(&tokens[&30]), 0).await;
    assert_eq!(everything(&server, &northwind, true).await, account_before);
    assert_eq!(everything(&server, &viewer, false).await, viewer_before);

    // A published answer never changes: answering its invitation again is refused, since
    // the change would show as the difference of two reports. The waiting one may change.
    let mut again = portal_response(40);
    again.as_object_mut().unwrap().remove("identity");
    again["answers"]["nps"] = json!(10);
    again["invitation"] = json!(tokens[&22]);
    let (status, body) = server.post_json("client-portal", &again).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("can no longer be changed"),
        "{body}"
    );
    assert_eq!(everything(&server, &northwind, true).await, account_before);
    // The landing page is told so before the client answers again, for the published
    // answer, and not for the waiting one.
    for (counter, replaceable) in [(22, false), (30, true)] {
        let (status, info) = server
            .get(&format!("/api/v1/invitations/{}", tokens[&counter]))
            .await;
        assert_eq!(status, StatusCode::OK, "{info}");
        assert_eq!(info["answered"], true, "{info}");
        assert_eq!(info["replaceable"], replaceable, "{info}");
    }
    let mut again = portal_response(41);
    again.as_object_mut().unwrap().remove("identity");
    again["invitation"] = json!(tokens[&30]);
    let (status, body) = server.post_json("client-portal", &again).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the waiting answer is replaced: {body}"
    );
    assert_eq!(body["status"], "replaced");
    assert_eq!(everything(&server, &northwind, true).await, account_before);

    // The programme lead sees every answer as it arrives, injected ones included.
    let admin = token(&server, Role::Admin, &[]).await;
    let report = get(&server, "/api/v1/surveys/client-portal/report", &admin).await;
    assert_eq!(report["n"], 16);
    assert!(report.get("protected_batch_size").is_none());
}

#[tokio::test]
async fn one_confidential_answer_cannot_be_read_from_a_crossing_by_account_and_choice() {
    let server = TestServer::new().await;
    for counter in 1..=6 {
        answer(&server, counter, Kind::Identified, 9).await;
    }
    let invitation = invite(&server, 20).await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let path = "/api/v1/surveys/client-portal/report?by=account:confidentiality";
    let before = get(&server, path, &northwind).await;
    answer(&server, 20, Kind::Invited(&invitation), 0).await;
    let after = get(&server, path, &northwind).await;
    // The account manager's crossing is the same before and after: the confidential
    // answer waits for its batch, so no cell, count or test holds it.
    assert_eq!(after, before);
    let crossing = &after["report"]["crossings"][0];
    assert_eq!(
        (crossing["first"].as_str(), crossing["second"].as_str()),
        (Some("account"), Some("confidentiality"))
    );
    let cells = crossing["groups"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{crossing}");
    assert_eq!(cells[0]["second"], "identified");
    assert_eq!(cells[0]["n"], 6);

    // The programme lead sees both cells: the confidential one by its count only, and the
    // identified one hidden with it, since the account's total would give it away.
    let admin = token(&server, Role::Admin, &[]).await;
    let report = get(&server, path, &admin).await;
    let cells: Vec<_> = report["report"]["crossings"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| {
            (
                cell["second"].as_str().unwrap().to_owned(),
                cell["n"].as_u64().unwrap(),
                cell["suppressed"].as_bool().unwrap(),
                cell["figures"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("confidential".to_owned(), 1, true, true),
            ("identified".to_owned(), 6, true, true)
        ]
    );

    // A pair of one field, or of an unknown one, is refused with its reason.
    for (by, reason) in [
        ("wave:wave", "cannot cross"),
        ("returning:trust", "cannot segment by"),
    ] {
        let request = Request::get(format!("/api/v1/surveys/client-portal/report?by={by}"))
            .header("authorization", format!("Bearer {admin}"))
            .body(Body::empty())
            .unwrap();
        let response = app(server.state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{by}");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes);
        assert!(body.contains(reason), "{by}: {body}");
    }
}

#[tokio::test]
async fn one_confidential_detractor_alone_raises_no_flag_for_the_account_manager() {
    let server = TestServer::new().await;
    answer(&server, 1, Kind::Identified, 9).await;
    let invitation = invite(&server, 2).await;
    answer(&server, 2, Kind::Invited(&invitation), 0).await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let list = get(
        &server,
        "/api/v1/surveys/client-portal/follow-ups",
        &northwind,
    )
    .await;
    assert_eq!(list["accounts"], json!([]), "{list}");
    let admin = token(&server, Role::Admin, &[]).await;
    let list = get(&server, "/api/v1/surveys/client-portal/follow-ups", &admin).await;
    assert_eq!(
        list["accounts"][0]["confidential_feedback"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "the programme team still sees the flag: {list}"
    );
}

#[tokio::test]
async fn a_report_can_leave_out_what_anyone_could_have_posted() {
    let server = TestServer::new().await;
    for counter in 1..=6 {
        answer(&server, counter, Kind::Identified, 9).await;
    }
    let invitation = invite(&server, 7).await;
    answer(&server, 7, Kind::Invited(&invitation), 3).await;
    let admin = token(&server, Role::Admin, &[]).await;
    let all = get(&server, "/api/v1/surveys/client-portal/report", &admin).await;
    let verified = get(
        &server,
        "/api/v1/surveys/client-portal/report?verified=true",
        &admin,
    )
    .await;
    assert_eq!(
        (all["n"].as_u64(), verified["n"].as_u64()),
        (Some(7), Some(1)),
        "six answers came from the page, one through an invitation"
    );
}

/// Holds, in a transaction of its own, the counter of version 1 of client-portal, and adds
/// to that version `copies` copies of the answer `earlier` (new ids, the next revision), as
/// a writer on another replica would; commits when `release` fires.
macro_rules! complete_batch_under_lock {
    ($connection:ty, $url:expr, $earlier:expr, $copies:expr, $locked:expr, $release:expr) => {{
        use sqlx::Connection as _;
        let mut connection = <$connection>::connect($url).await.unwrap();
        let mut transaction = connection.begin().await.unwrap();
        let revision: i64 = sqlx::query_scalar(
            "INSERT INTO report_revisions (survey_id, survey_version, revision, rewrites) VALUES ('client-portal', 1, 1, 0) \
             ON CONFLICT (survey_id, survey_version) DO UPDATE SET revision = report_revisions.revision + 1 RETURNING revision",
        )
        .fetch_one(&mut *transaction)
        .await
        .unwrap();
        sqlx::query("CREATE TEMP TABLE copied AS SELECT * FROM responses WHERE response_id = $1")
            .bind($earlier)
            .execute(&mut *transaction)
            .await
            .unwrap();
        for copy in 0..$copies {
            sqlx::query("UPDATE copied SET response_id = $1, revision = $2")
                .bind(format!("00000000-0000-4000-9000-{copy:012x}"))
                .bind(revision)
                .execute(&mut *transaction)
                .await
                .unwrap();
            sqlx::query("INSERT INTO responses SELECT * FROM copied")
                .execute(&mut *transaction)
                .await
                .unwrap();
        }
        $locked.send(()).unwrap();
        $release.await.unwrap();
        transaction.commit().await.unwrap();
    }};
}

/// Regression: on PostgreSQL, answering an invitation again to a newer survey version
/// checked whether the earlier answer was published without holding its version's counter,
/// so another replica could complete the earlier answer's batch between the check and the
/// replacement, and the published batch lost an answer.
#[tokio::test]
async fn an_answer_is_not_replaced_while_another_writer_completes_its_batch() {
    let server = TestServer::new().await;
    let link = invite(&server, 50).await;
    answer(&server, 50, Kind::Invited(&link), 3).await;
    let mut definition = rapport_scoring::templates::template("client-portal").unwrap();
    definition.min_group_size = 6;
    server
        .state
        .store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();

    let earlier = portal_response(50)["response_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = crate::support::database_url(&server).to_owned();
    let (locked_tx, locked) = tokio::sync::oneshot::channel();
    let (release_tx, release) = tokio::sync::oneshot::channel::<()>();
    // Four more verified confidential answers of Northwind to version 1, whose batch of
    // five (its minimum group size) then holds the earlier answer.
    let other_writer = tokio::spawn(async move {
        if crate::support::on_postgres() {
            complete_batch_under_lock!(sqlx::PgConnection, &url, &earlier, 4, locked_tx, release);
        } else {
            complete_batch_under_lock!(
                sqlx::SqliteConnection,
                &url,
                &earlier,
                4,
                locked_tx,
                release
            );
        }
    });
    locked.await.unwrap();

    let mut again = portal_response(51);
    again.as_object_mut().unwrap().remove("identity");
    again["survey_version"] = json!(2);
    again["invitation"] = json!(link);
    let state = server.state.clone();
    let replacing = tokio::spawn(async move {
        let request = Request::post("/api/v1/surveys/client-portal/responses")
            .header("content-type", "application/json")
            .body(Body::from(again.to_string()))
            .unwrap();
        let response = app(state).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    });
    // The replacement reaches its check while the other writer still holds the counter.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    release_tx.send(()).unwrap();
    other_writer.await.unwrap();
    let (status, body) = replacing.await.unwrap();
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the earlier answer is in the batch the other writer published: {body}"
    );
    let admin = token(&server, Role::Admin, &[]).await;
    let report = get(
        &server,
        "/api/v1/surveys/client-portal/report?version=1",
        &admin,
    )
    .await;
    assert_eq!(report["n"], 5, "the published batch keeps its five answers");
}
