//! Upgrades: a newer `rapport` opened on a database an older one left behind migrates it
//! and keeps every stored response readable.

use std::borrow::Cow;

use rapport_server::store::Store;
use sqlx::Connection as _;
use sqlx::migrate::Migrator;

use crate::support::{fresh_database_url, on_postgres};

/// The migrations every release up to invitations had (0001–0003).
async fn older_migrator() -> Migrator {
    migrator_up_to(3).await
}

/// The migrations up to and including `last`.
async fn migrator_up_to(last: i64) -> Migrator {
    let backend = if on_postgres() { "postgres" } else { "sqlite" };
    let mut migrator = Migrator::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend),
    )
    .await
    .unwrap();
    assert!(
        migrator
            .migrations
            .iter()
            .any(|migration| migration.version > last),
        "this test needs migrations newer than {last}"
    );
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|migration| migration.version <= last)
            .cloned()
            .collect(),
    );
    migrator
}

const INSERT_SURVEY: &str = "INSERT INTO surveys (id, version, definition, created_at) VALUES ($1, 1, $2, '2026-05-01T00:00:00Z')";
const INSERT_RESPONSE: &str = "INSERT INTO responses (response_id, survey_id, survey_version, body_sha256, answers, confidentiality, account, wave, score, nps, submitted_at, received_at) \
     VALUES ('00000000-0000-4000-8000-0000000000aa', 'client-portal', 1, 'digest', $1, 'identified', 'northwind', '2026-h1', $2, 3, '2026-05-02T00:00:00Z', '2026-05-02T00:00:01Z')";

#[tokio::test]
async fn a_newer_server_migrates_an_older_database_and_keeps_its_responses() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let definition =
        serde_json::to_string(&rapport_scoring::template("client-portal").unwrap()).unwrap();
    let answers = r#"{"nps":3,"ratings":{"trust":2},"texts":{},"choices":{}}"#;
    let score = r#"{"nps_category":"detractor","elements":{"trust":2},"levels":{"relationship":2.0},"crq":2.0,"relationship":"opponent"}"#;
    if on_postgres() {
        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
        older_migrator().await.run(&mut connection).await.unwrap();
        sqlx::query(INSERT_SURVEY)
            .bind("client-portal")
            .bind(&definition)
            .execute(&mut connection)
            .await
            .unwrap();
        sqlx::query(INSERT_RESPONSE)
            .bind(answers)
            .bind(score)
            .execute(&mut connection)
            .await
            .unwrap();
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let mut connection = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        older_migrator().await.run(&mut connection).await.unwrap();
        sqlx::query(INSERT_SURVEY)
            .bind("client-portal")
            .bind(&definition)
            .execute(&mut connection)
            .await
            .unwrap();
        sqlx::query(INSERT_RESPONSE)
            .bind(answers)
            .bind(score)
            .execute(&mut connection)
            .await
            .unwrap();
        connection.close().await.unwrap();
    }

    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.count_responses("client-portal").await.unwrap(), 1);
    let records = store.response_records("client-portal", 1).await.unwrap();
    assert_eq!(records[0].answers.nps.map(|answer| answer.get()), Some(3));
    // The newer tables are there and work.
    assert!(store.follow_ups("client-portal").await.unwrap().is_empty());
    let rows = store.export_rows("client-portal", 1).await.unwrap();
    assert_eq!(rows[0].score.crq, Some(2.0));
    // The older row has no report entry: reports read its answers until one is filled in,
    // and the report is the same before and after.
    let survey = store
        .survey("client-portal", Some(1))
        .await
        .unwrap()
        .unwrap();
    let options = rapport_scoring::ReportOptions {
        segments: vec![rapport_scoring::SegmentField::Account],
        min_group_size: Some(1),
        crossings: Vec::new(),
    };
    let before = rapport_scoring::report_of(
        survey.definition(),
        store.report_input(&survey).await.unwrap().input(),
        &options,
    );
    assert_eq!(before.overall.n, 1);
    assert_eq!(
        before.overall.nps.as_ref().map(|nps| nps.detractors),
        Some(1)
    );
    assert_eq!(before.segments[0].groups[0].value, "northwind");
    let progress = std::sync::Mutex::new(Vec::new());
    assert_eq!(
        store
            .fill_report_entries(|filled| progress.lock().unwrap().push(filled))
            .await
            .unwrap(),
        1
    );
    assert_eq!(*progress.lock().unwrap(), [1], "progress is reported");
    assert_eq!(
        store.fill_report_entries(|_| {}).await.unwrap(),
        0,
        "nothing is left to fill"
    );
    let after = rapport_scoring::report_of(
        survey.definition(),
        store.report_input(&survey).await.unwrap().input(),
        &options,
    );
    assert_eq!(after, before);
    store.close().await;
    // Opening again finds nothing left to migrate.
    Store::open(&url).await.unwrap().close().await;
}

/// Before 0016 the audit was kept in three tables; after it, in one, with nothing lost and
/// in the order things happened.
#[tokio::test]
async fn the_three_audit_tables_become_one_log_in_time_order() {
    const OLDER: [&str; 3] = [
        "INSERT INTO access_audit (at, action, subject, actor) VALUES ('2026-05-01T10:00:00.000Z', 'token made', 'key 1a2b (admin, Ines)', 'command line')",
        "INSERT INTO invitation_audit (at, action, subject, actor) VALUES ('2026-05-01T11:00:00.000Z', 'invitations made', 'client-portal: 3 invitations', 'dashboard: Ines (admin)')",
        "INSERT INTO webhook_audit (at, action, webhook_id, url_host, actor) VALUES ('2026-05-01T09:00:00.000Z', 'created', 'wh_1', 'https://hooks.example', 'command line')",
    ];
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    if on_postgres() {
        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
        migrator_up_to(15).await.run(&mut connection).await.unwrap();
        for statement in OLDER {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap();
        }
    } else {
        let options = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .create_if_missing(true);
        let mut connection = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        migrator_up_to(15).await.run(&mut connection).await.unwrap();
        for statement in OLDER {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap();
        }
        connection.close().await.unwrap();
    }

    let store = Store::open(&url).await.unwrap();
    let log: Vec<(String, String, String)> = store
        .audit_entries("", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.action, entry.subject, entry.actor))
        .collect();
    let expected = [
        (
            "invitations made",
            "client-portal: 3 invitations",
            "dashboard: Ines (admin)",
        ),
        ("token made", "key 1a2b (admin, Ines)", "command line"),
        (
            "webhook created",
            "webhook wh_1 to https://hooks.example",
            "command line",
        ),
    ]
    .map(|(a, s, w)| (a.to_owned(), s.to_owned(), w.to_owned()));
    assert_eq!(log, expected);
    // Each page still reads its own part.
    assert_eq!(store.audit_entries("webhook", 10).await.unwrap().len(), 1);
    assert_eq!(
        store.audit_entries("invitation", 10).await.unwrap().len(),
        1
    );
    store.close().await;
}
