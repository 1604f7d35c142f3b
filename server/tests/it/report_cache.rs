//! The report columns a server keeps in memory per survey version, and the invitations it
//! keeps per survey: after every kind of write (new responses, concurrent ones, an
//! invitation made, answered and answered again, a respondent erased), the report and the
//! completion rates it answers are the ones computed by a store that never read the survey
//! before.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use rapport_scoring::completion::completion;
use rapport_scoring::{ReportOptions, SegmentField, report_of};
use rapport_server::auth::{Role, new_token, token_hash};
use rapport_server::store::Store;
use serde_json::{Value, json};

use crate::support::{
    TestServer, database_url, plain_invitation, portal_response, record_invitation,
};

const SEGMENTS: [&str; 3] = ["wave", "account", "role"];

/// The report and completion an admin gets over HTTP from `server`, and the ones computed
/// from a store opened afresh on the same database.
async fn cached_and_fresh(server: &TestServer, token: &str) -> (Value, Value) {
    let request = Request::get(format!(
        "/api/v1/surveys/client-portal/report?by={}",
        SEGMENTS.join(",")
    ))
    .header("authorization", format!("Bearer {token}"))
    .body(Body::empty())
    .unwrap();
    let (status, body) = server.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = Store::open(database_url(server)).await.unwrap();
    let survey = fresh
        .survey("client-portal", Some(1))
        .await
        .unwrap()
        .unwrap();
    let input = fresh.report_input(&survey).await.unwrap();
    let segments = SEGMENTS
        .iter()
        .map(|field| SegmentField::parse(survey.definition(), field).unwrap())
        .collect();
    let report = report_of(
        survey.definition(),
        input.input(),
        &ReportOptions {
            segments,
            min_group_size: None,
        },
    );
    let records = fresh.invitation_records("client-portal").await.unwrap();
    // The invitations as held, answers included, which the figures below may suppress.
    let held = server
        .state
        .store
        .invitation_records("client-portal")
        .await
        .unwrap();
    assert_eq!(format!("{held:?}"), format!("{records:?}"));
    let invitations: Vec<_> = records.iter().map(|stored| stored.record.clone()).collect();
    let completion = (!invitations.is_empty())
        .then(|| completion(&invitations, survey.definition().min_group_size));
    (
        json!({"report": body["report"], "completion": body["completion"]}),
        json!({"report": report, "completion": completion}),
    )
}

/// A response from `email` at `account` in `wave`, scoring `nps`.
fn response(counter: u32, email: &str, account: &str, wave: &str, nps: u8) -> Value {
    let mut response = portal_response(counter);
    response["identity"]["email"] = json!(email);
    response["context"] = json!({"account": account, "wave": wave});
    response["answers"]["nps"] = json!(nps);
    response["answers"]["role"] = json!(if counter.is_multiple_of(2) {
        "decision-maker"
    } else {
        "day-to-day"
    });
    response["confidentiality"] = json!(if counter.is_multiple_of(3) {
        "identified"
    } else {
        "confidential"
    });
    response
}

async fn post(server: &TestServer, body: &Value) -> StatusCode {
    let (status, answer) = server.post_json("client-portal", body).await;
    assert!(status.is_success(), "{status}: {answer}");
    status
}

#[tokio::test]
async fn every_report_equals_one_read_afresh_after_every_kind_of_write() {
    let server = TestServer::new().await;
    let token = new_token().unwrap();
    server
        .state
        .store
        .add_token(&token_hash(&token), Role::Admin, &[], None)
        .await
        .unwrap();

    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(cached, fresh, "no responses yet");

    // Respondents who answer both waves, so that erasing one changes the wave comparison.
    let people = [
        "ana@northwind.example",
        "ben@northwind.example",
        "cy@contoso.example",
        "di@contoso.example",
        "ed@contoso.example",
        "fay@northwind.example",
    ];
    for (counter, email) in (1..).zip(people) {
        let account = email.split(['@', '.']).nth(1).unwrap();
        post(
            &server,
            &response(counter, email, account, "2026-h1", (counter % 11) as u8),
        )
        .await;
    }
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(cached["report"]["overall"]["n"], 6, "{cached}");
    assert_eq!(cached, fresh, "after the first responses");

    for (counter, email) in (11..).zip(people) {
        let account = email.split(['@', '.']).nth(1).unwrap();
        post(
            &server,
            &response(counter, email, account, "2026-h2", (counter % 7) as u8 + 4),
        )
        .await;
    }
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(cached["report"]["overall"]["n"], 12, "{cached}");
    assert_eq!(cached, fresh, "after responses added to read columns");

    // Many at once, with reports read while they land.
    let writes = (100..140).map(|counter| {
        let body = response(
            counter,
            &format!("p{counter}@fabrikam.example"),
            "fabrikam",
            "2026-h2",
            (counter % 11) as u8,
        );
        let server = &server;
        async move { post(server, &body).await }
    });
    let reads = (0..8).map(|_| cached_and_fresh(&server, &token));
    let (_, during) = tokio::join!(
        futures_util::future::join_all(writes),
        futures_util::future::join_all(reads)
    );
    for (cached, _) in &during {
        let n = cached["report"]["overall"]["n"].as_u64().unwrap();
        assert!(
            (12..=52).contains(&n),
            "a report counts what was committed before it, once: {n}"
        );
    }
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(cached["report"]["overall"]["n"], 52, "{cached}");
    assert_eq!(cached, fresh, "after concurrent responses");

    // An invitation answered, then answered again: the first answer's row goes.
    let key = &server.state.identity_key;
    let invitation = plain_invitation(
        "inv-cache",
        "gil@northwind.example",
        "northwind",
        Some("2026-h2"),
    );
    let link = record_invitation(&server.state.store, key, &invitation).await;
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(cached["completion"]["overall"]["invited"], 1, "{cached}");
    assert_eq!(cached, fresh, "after an invitation was made");
    for (counter, nps) in [(200, 0), (201, 10)] {
        let mut answer = portal_response(counter);
        answer.as_object_mut().unwrap().remove("identity");
        answer["invitation"] = json!(link);
        answer["answers"]["nps"] = json!(nps);
        post(&server, &answer).await;
        let (cached, fresh) = cached_and_fresh(&server, &token).await;
        assert_eq!(
            cached["report"]["overall"]["n"], 53,
            "one response per invitation: {cached}"
        );
        assert_eq!(cached, fresh, "after invitation answer {counter}");
    }
    // The same contact, invited to the wave before, did not answer it.
    let earlier = plain_invitation(
        "inv-cache-h1",
        "gil@northwind.example",
        "northwind",
        Some("2026-h1"),
    );
    record_invitation(&server.state.store, key, &earlier).await;
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(cached["completion"]["overall"]["invited"], 2, "{cached}");
    assert_eq!(
        cached["completion"]["by_previous_choice"][0]["groups"][0]["invited"], 1,
        "{cached}"
    );
    assert_eq!(cached, fresh, "after an invitation to the wave before");
    // Erasing the contact unlinks their invitations from each other.
    server
        .state
        .store
        .erase_respondent(&key.respondent_key("gil@northwind.example"))
        .await
        .unwrap();
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_eq!(
        cached["completion"]["by_previous_choice"][0]["groups"],
        json!([]),
        "{cached}"
    );
    assert_eq!(cached, fresh, "after the invited contact was erased");

    // Erasure unlinks a respondent's answers across waves.
    let before = cached_and_fresh(&server, &token).await.0;
    let (responses, _) = server
        .state
        .store
        .erase_respondent(&key.respondent_key(people[0]))
        .await
        .unwrap();
    assert_eq!(responses, 2);
    let (cached, fresh) = cached_and_fresh(&server, &token).await;
    assert_ne!(
        cached, before,
        "the wave comparison no longer follows the erased respondent"
    );
    assert_eq!(cached, fresh, "after an erasure");
}
