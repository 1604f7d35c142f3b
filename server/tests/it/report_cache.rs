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
            crossings: Vec::new(),
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

/// Every segment field a report of `client-portal` can be broken down by.
const EVERY_FIELD: [&str; 7] = [
    "account",
    "matter",
    "wave",
    "returning",
    "confidentiality",
    "nps-category",
    "role",
];

/// Everything a report reads of `columns`, row by row, and the admin report over them
/// broken down by every field, as one value to compare.
fn everything_read(
    survey: &rapport_server::store::CompiledSurvey,
    columns: &rapport_server::store::ReportColumns,
) -> Value {
    let input = columns.input();
    let release = columns.release(3);
    let rows: Vec<Value> = (0..columns.len())
        .map(|row| {
            json!([
                columns.response_id(row),
                format!("{:?}", input.observation(row)),
                input.account(row),
                input.account_code(row),
                input.wave(row),
                format!("{:?}", input.confidentiality(row)),
                format!("{:?}", input.arrival(row)),
                format!("{:?}", release.row(row)),
            ])
        })
        .collect();
    let segments = EVERY_FIELD
        .iter()
        .map(|field| SegmentField::parse(survey.definition(), field).unwrap())
        .collect();
    let report = report_of(
        survey.definition(),
        input,
        &ReportOptions {
            segments,
            min_group_size: None,
            crossings: Vec::new(),
        },
    );
    json!({"rows": rows, "report": report})
}

/// Sets the stored report entry of one response, through SQL: `None` as a response stored
/// before entries existed, or bytes that do not decode.
async fn set_entry(url: &str, response_id: &str, entry: Option<&[u8]>) {
    const SET: &str = "UPDATE responses SET report_entry = $1 WHERE response_id = $2";
    let updated = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let result = sqlx::query(SET)
            .bind(entry)
            .bind(response_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        result.rows_affected()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let result = sqlx::query(SET)
            .bind(entry)
            .bind(response_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        result.rows_affected()
    };
    assert_eq!(updated, 1, "{response_id}");
}

/// Posts 70 responses of every kind (NULL and non-ASCII context, confidential, verified by
/// invitation) to `server`, and gives three of them a report entry that is missing or does
/// not decode; returns the database's URL.
async fn responses_of_every_kind(server: &TestServer) -> String {
    let accounts = ["northwind", "contoso", "fabrikam", "société-générale"];
    for counter in 1..=60u32 {
        let account = accounts[counter as usize % accounts.len()];
        let wave = if counter % 5 < 2 {
            "2026-h1"
        } else {
            "2026-h2"
        };
        let mut body = response(
            counter,
            &format!("p{}@{account}.example", counter % 23),
            account,
            wave,
            (counter * 7 % 11) as u8,
        );
        body["answers"]["trust"] = json!(counter % 7 + 1);
        body["answers"]["care"] = json!((counter * 3) % 7 + 1);
        match counter % 6 {
            0 => {
                body.as_object_mut().unwrap().remove("context");
            }
            1 => body["context"]["matter"] = json!(format!("matter-{}", counter % 4)),
            2 => body["context"]["returning"] = json!(counter % 4 == 2),
            3 => body["context"]["matter"] = json!("matière-ç"),
            4 => {
                body.as_object_mut().unwrap().remove("identity");
                body["confidentiality"] = json!("confidential");
            }
            _ => {}
        }
        post(server, &body).await;
    }
    // Verified answers, so that the release publishes batches.
    let key = &server.state.identity_key;
    for counter in 100..110u32 {
        let invitation = plain_invitation(
            &format!("inv-bulk-{counter}"),
            &format!("v{counter}@northwind.example"),
            "northwind",
            Some("2026-h2"),
        );
        let link = record_invitation(&server.state.store, key, &invitation).await;
        let mut answer = portal_response(counter);
        answer.as_object_mut().unwrap().remove("identity");
        answer["invitation"] = json!(link);
        answer["answers"]["nps"] = json!(counter % 11);
        post(server, &answer).await;
    }
    let url = database_url(server).to_owned();
    let id = |counter: u32| {
        portal_response(counter)["response_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    set_entry(&url, &id(7), None).await;
    set_entry(&url, &id(11), Some(b"\xff\x00")).await;
    set_entry(&url, &id(102), Some(b"")).await;

    url
}

/// The first report after a start reads a version's columns in bulk (on SQLite through a
/// read-only connection of its own, on PostgreSQL by `COPY`): they must be the columns read
/// row by row through the pool, with the same rows in the same order and the same values,
/// including rows whose entry is missing or does not decode, and NULL and non-ASCII context.
#[tokio::test]
async fn columns_read_in_bulk_equal_the_columns_read_row_by_row() {
    let server = TestServer::new().await;
    let url = responses_of_every_kind(&server).await;
    let fresh = Store::open(&url).await.unwrap();
    let survey = fresh
        .survey("client-portal", Some(1))
        .await
        .unwrap()
        .unwrap();
    let in_bulk = fresh.report_input(&survey).await.unwrap();
    let row_by_row = fresh.report_input_row_by_row(&survey).await.unwrap();
    assert_eq!(in_bulk.len(), 70);
    let (in_bulk, row_by_row) = (
        everything_read(&survey, &in_bulk),
        everything_read(&survey, &row_by_row),
    );
    assert_eq!(in_bulk, row_by_row);

    // And both are the report of the stored answers, typed, with no report entry at all.
    let mut from_answers = rapport_scoring::ReportInput::new(survey.definition());
    for record in fresh.response_records("client-portal", 1).await.unwrap() {
        from_answers.push_record(&record);
    }
    let segments: Vec<SegmentField> = EVERY_FIELD
        .iter()
        .map(|field| SegmentField::parse(survey.definition(), field).unwrap())
        .collect();
    let report = report_of(
        survey.definition(),
        &from_answers,
        &ReportOptions {
            segments,
            min_group_size: None,
            crossings: Vec::new(),
        },
    );
    assert_eq!(in_bulk["report"], serde_json::to_value(report).unwrap());
    let accounts_read: Vec<&Value> = in_bulk["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row[2])
        .collect();
    assert!(
        accounts_read.contains(&&Value::Null)
            && accounts_read.contains(&&json!("société-générale")),
        "no account, and one in more than ASCII, are read: {accounts_read:?}"
    );
    fresh.close().await;
}

/// Runs `statement` on the database at `url` and returns the first column of its rows, as
/// bytes: what the tests below read of stored snapshots, outside the store.
async fn bytes_of(url: &str, statement: &str) -> Vec<Vec<u8>> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows = sqlx::query_scalar(statement)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows = sqlx::query_scalar(statement)
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows
    }
}

/// Runs `statement`, which changes rows, on the database at `url`.
async fn execute(url: &str, statement: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// What a store opened afresh on `url` reads at start (how many responses, how many from a
/// snapshot), and its columns of the portal survey beside the ones it reads row by row.
async fn read_at_start(url: &str) -> (rapport_server::store::ResponsesRead, Value, Value) {
    let fresh = Store::open(url).await.unwrap();
    let read = fresh.read_report_columns().await.unwrap();
    let survey = fresh
        .survey("client-portal", Some(1))
        .await
        .unwrap()
        .unwrap();
    let held = fresh.report_input(&survey).await.unwrap();
    let row_by_row = fresh.report_input_row_by_row(&survey).await.unwrap();
    let compared = (
        everything_read(&survey, &held),
        everything_read(&survey, &row_by_row),
    );
    fresh.close().await;
    (read, compared.0, compared.1)
}

/// A start reads a stored snapshot of the columns and only the rows committed after it, and
/// gets the columns a read of every row gives, row for row; a snapshot that does not decode
/// is passed over and every row read.
#[tokio::test]
async fn a_stored_snapshot_and_the_rows_since_equal_the_columns_read_row_by_row() {
    let server = TestServer::new().await;
    let url = responses_of_every_kind(&server).await;
    let survey = server
        .state
        .store
        .survey("client-portal", Some(1))
        .await
        .unwrap()
        .unwrap();
    let stored = server
        .state
        .store
        .store_report_snapshot(&survey)
        .await
        .unwrap();
    assert_eq!(stored, Some(70));
    for counter in 200..205u32 {
        let body = response(
            counter,
            &format!("late{counter}@contoso.example"),
            "contoso",
            "2026-h2",
            3,
        );
        assert_eq!(post(&server, &body).await, StatusCode::CREATED);
    }

    let (read, held, row_by_row) = read_at_start(&url).await;
    assert_eq!(read.responses, 75);
    assert_eq!(
        read.from_snapshots, 70,
        "the snapshot is read, and the rows after it"
    );
    assert_eq!(held, row_by_row);

    execute(&url, "UPDATE report_snapshots SET columns = response_ids").await;
    let (read, held, row_by_row) = read_at_start(&url).await;
    assert_eq!(read.responses, 75);
    assert_eq!(
        read.from_snapshots, 0,
        "a snapshot that does not decode is passed over"
    );
    assert_eq!(held, row_by_row);
}

/// An erasure deletes every stored snapshot that holds the respondent's key, in its own
/// transaction: afterwards no snapshot's bytes hold it, and a start reads every row.
#[tokio::test]
async fn an_erasure_leaves_no_snapshot_holding_the_respondent() {
    let server = TestServer::new().await;
    let url = responses_of_every_kind(&server).await;
    let store = &server.state.store;
    let survey = store
        .survey("client-portal", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.store_report_snapshot(&survey).await.unwrap(),
        Some(70)
    );
    let erased = server
        .state
        .identity_key
        .respondent_key("p3@contoso.example");
    let holding = |snapshots: &[Vec<u8>]| {
        snapshots.iter().any(|bytes| {
            bytes
                .windows(erased.len())
                .any(|window| window == erased.as_bytes())
        })
    };
    let before = bytes_of(&url, "SELECT columns FROM report_snapshots").await;
    assert_eq!(before.len(), 1);
    assert!(
        holding(&before),
        "the snapshot holds the respondent's key before the erasure"
    );

    let (responses, _) = store.erase_respondent(&erased).await.unwrap();
    assert!(responses > 0);
    let after = bytes_of(&url, "SELECT columns FROM report_snapshots").await;
    assert!(
        !holding(&after),
        "no snapshot holds the erased respondent's key"
    );
    assert!(
        after.is_empty(),
        "the version's snapshot is gone with the erasure"
    );

    let (read, held, row_by_row) = read_at_start(&url).await;
    assert_eq!((read.responses, read.from_snapshots), (70, 0));
    assert_eq!(held, row_by_row);
    // A snapshot stored again holds the columns as they are now, without the key.
    assert_eq!(
        store.store_report_snapshot(&survey).await.unwrap(),
        Some(70)
    );
    let again = bytes_of(&url, "SELECT columns FROM report_snapshots").await;
    assert_eq!(again.len(), 1);
    assert!(!holding(&again));
}
