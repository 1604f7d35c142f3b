//! Display names of accounts and matters: set by invitations (the latest wins) and by
//! `rapport labels import` (a whole file or nothing), and shown beside the ids on the
//! dashboard, in the CSV export and in reports, never to a caller who cannot see the id.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use rapport_server::invitation::Presentation;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, plain_invitation, portal_response, record_invitation, token};

const ACCOUNT_NAME: &str = "Northwind Traders";
const LATEST_ACCOUNT_NAME: &str = "Northwind Traders (Europe)";
const MATTER_NAME: &str = "Master services agreement, 2026";

/// Sends `request` through the router; returns the status, the `Set-Cookie` header and the
/// body as text.
async fn send(server: &TestServer, request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|value| value.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, cookie, String::from_utf8(bytes.to_vec()).unwrap())
}

/// GETs `path` with a bearer token.
async fn api_get(server: &TestServer, path: &str, token: &str) -> String {
    let (status, _, text) = send(
        server,
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    text
}

/// The dashboard page as `role` over `accounts` sees it, signed in through the form.
async fn dashboard(server: &TestServer, role: Role, accounts: &[&str], query: &str) -> String {
    let token = token(server, role, accounts).await;
    let (status, cookie, text) = send(
        server,
        Request::post("/dashboard/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(format!("token={token}")))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    let session = cookie.unwrap().split(';').next().unwrap().to_owned();
    let (status, _, page) = send(
        server,
        Request::get(format!("/dashboard?survey=client-portal{query}"))
            .header(header::COOKIE, session)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

/// Northwind: six identified detractors on matter `msa-2026`, each through an invitation
/// that names the account and the matter, the last with a newer account name. Contoso: six
/// identified responses sent from the portal, with no name.
async fn named_programme() -> TestServer {
    let server = TestServer::new().await;
    for counter in 1..=12u32 {
        let mut response = portal_response(counter);
        response["confidentiality"] = json!("identified");
        response["identity"] = json!({"name": format!("Person {counter}"), "email": format!("p{counter}@client.example")});
        if counter <= 6 {
            response["context"] =
                json!({"account": "northwind", "matter": "msa-2026", "wave": "2026-h2"});
            // Detractors, so that the close-the-loop list shows them.
            response["answers"]["nps"] = json!(3);
            let mut invitation = plain_invitation(
                &format!("inv-{counter}"),
                &format!("p{counter}@client.example"),
                "northwind",
                Some("2026-h2"),
            );
            invitation.matter = Some("msa-2026".to_owned());
            invitation.presentation = Presentation {
                locale: None,
                account_name: Some(
                    if counter == 6 {
                        LATEST_ACCOUNT_NAME
                    } else {
                        ACCOUNT_NAME
                    }
                    .to_owned(),
                ),
                matter_name: Some(MATTER_NAME.to_owned()),
            };
            let link =
                record_invitation(&server.state.store, &server.state.identity_key, &invitation)
                    .await;
            response["invitation"] = json!(link);
        } else {
            response["context"] = json!({"account": "contoso", "wave": "2026-h2"});
        }
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    server
}

#[tokio::test]
async fn invited_names_show_in_reports_the_csv_and_the_dashboard_and_ids_stay_ids() {
    let server = named_programme().await;
    let admin = token(&server, Role::Admin, &[]).await;

    // Reports: the account and matter groups carry the latest name as `label`; their
    // values stay the ids, and groups without a name carry none.
    let report: Value = serde_json::from_str(
        &api_get(
            &server,
            "/api/v1/surveys/client-portal/report?by=account,matter",
            &admin,
        )
        .await,
    )
    .unwrap();
    let groups = |field: &str| -> Vec<(String, Option<String>)> {
        report["report"]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|segmentation| segmentation["field"] == field)
            .unwrap_or_else(|| panic!("no {field} breakdown in {report}"))["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|group| {
                (
                    group["value"].as_str().unwrap().to_owned(),
                    group["label"].as_str().map(str::to_owned),
                )
            })
            .collect()
    };
    assert_eq!(
        groups("account"),
        [
            ("contoso".to_owned(), None),
            ("northwind".to_owned(), Some(LATEST_ACCOUNT_NAME.to_owned())),
        ]
    );
    assert!(
        groups("matter").contains(&("msa-2026".to_owned(), Some(MATTER_NAME.to_owned()))),
        "{report}"
    );

    // The CSV: the names after the id columns, which keep their places.
    let csv = api_get(
        &server,
        "/api/v1/surveys/client-portal/responses.csv",
        &admin,
    )
    .await;
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(
        header[..7],
        [
            "response_id",
            "submitted_at",
            "account",
            "matter",
            "account_name",
            "matter_name",
            "wave"
        ]
    );
    let northwind_rows = csv
        .lines()
        .filter(|line| line.contains(",northwind,msa-2026,"))
        .collect::<Vec<_>>();
    assert_eq!(northwind_rows.len(), 6, "{csv}");
    assert!(
        northwind_rows.iter().all(|row| row.contains(&format!(
            ",northwind,msa-2026,{LATEST_ACCOUNT_NAME},\"{MATTER_NAME}\",2026-h2,"
        ))),
        "{csv}"
    );
    assert!(csv.contains(",contoso,,,,2026-h2,"), "{csv}");

    // The dashboard: the name with its id beside it; links keep the id.
    let page = dashboard(&server, Role::Admin, &[], "&account=northwind").await;
    assert!(
        page.contains(&format!(
            "<span class=\"named\" title=\"id: northwind\">{}</span> <small class=\"id\">northwind</small>",
            LATEST_ACCOUNT_NAME
        )),
        "{page}"
    );
    assert!(page.contains("&amp;account=northwind#follow-ups"), "{page}");
    assert!(
        page.contains(&format!("{MATTER_NAME} (msa-2026)")),
        "{page}"
    );
    assert!(!page.contains(&format!(">{ACCOUNT_NAME}<")), "{page}");
}

/// A name is only a presentation of an id the caller sees: Contoso's account manager never
/// reads Northwind's name, anywhere.
#[tokio::test]
async fn an_account_manager_never_sees_the_name_of_an_account_they_cannot_see() {
    let server = named_programme().await;
    let contoso = token(&server, Role::Account, &["contoso"]).await;
    let report = api_get(
        &server,
        "/api/v1/surveys/client-portal/report?by=account,matter",
        &contoso,
    )
    .await;
    let csv = api_get(
        &server,
        "/api/v1/surveys/client-portal/responses.csv",
        &contoso,
    )
    .await;
    let page = dashboard(&server, Role::Account, &["contoso"], "&account=northwind").await;
    for (what, text) in [("report", &report), ("csv", &csv), ("dashboard", &page)] {
        assert!(
            !text.contains("Northwind Traders") && !text.contains("Master services"),
            "{what}: {text}"
        );
    }
    assert!(csv.contains(",contoso,"), "{csv}");
}

/// `rapport labels import` stores a good file and `rapport labels list` prints it back; a
/// file with one bad line is refused with its line and reason, and none of it is stored.
#[tokio::test]
async fn labels_import_takes_a_whole_file_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let rapport = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .args(["--database-url", &database])
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "kind,id,name\naccount,northwind,Northwind Traders\nmatter,msa-2026,\"Master services agreement, 2026\"\naccount,contoso,Contoso\n",
    )
    .unwrap();
    let (ok, out, err) = rapport(&["labels", "import", good.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "stored the display names of 2 account(s) and 1 matter(s)\n"
    );
    let listed = "kind,id,name\naccount,contoso,Contoso\naccount,northwind,Northwind Traders\nmatter,msa-2026,\"Master services agreement, 2026\"\n";
    assert_eq!(rapport(&["labels", "list"]).1, listed);

    // The second line would rename Northwind; the third is wrong, so neither is stored.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "kind,id,name\naccount,northwind,Renamed Traders\nclient,fabrikam,Fabrikam\n",
    )
    .unwrap();
    let (ok, out, err) = rapport(&["labels", "import", bad.to_str().unwrap()]);
    assert!(!ok && out.is_empty(), "{out}");
    assert!(
        err.contains("nothing was stored")
            && err.contains("line 3: kind must be account or matter, not \"client\""),
        "{err}"
    );
    assert_eq!(rapport(&["labels", "list"]).1, listed);

    // A name that breaks the label rules is refused the same way.
    std::fs::write(&bad, "kind,id,name\naccount,northwind,\"Renamed \"\n").unwrap();
    let (ok, _, err) = rapport(&["labels", "import", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("line 2: account name "), "{err}");
    assert_eq!(rapport(&["labels", "list"]).1, listed);
}

/// A two-field breakdown chosen in the dashboard's form names accounts as everywhere else:
/// the API's cells carry the display name beside the id, and the table reads by it.
#[tokio::test]
async fn two_field_breakdowns_name_accounts_in_the_api_and_the_dashboard() {
    let server = named_programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let report: Value = serde_json::from_str(
        &api_get(
            &server,
            "/api/v1/surveys/client-portal/report?by=account:confidentiality",
            &admin,
        )
        .await,
    )
    .unwrap();
    let cells: Vec<(String, Option<String>, Option<String>)> =
        report["report"]["crossings"][0]["groups"]
            .as_array()
            .unwrap_or_else(|| panic!("no crossing in {report}"))
            .iter()
            .map(|cell| {
                (
                    cell["first"].as_str().unwrap().to_owned(),
                    cell["first_label"].as_str().map(str::to_owned),
                    cell["second_label"].as_str().map(str::to_owned),
                )
            })
            .collect();
    assert_eq!(
        cells,
        [
            ("contoso".to_owned(), None, None),
            (
                "northwind".to_owned(),
                Some(LATEST_ACCOUNT_NAME.to_owned()),
                None
            ),
        ]
    );

    // Chosen with the form's two fields rather than typed into the address.
    let page = dashboard(
        &server,
        Role::Admin,
        &[],
        "&rows=account&columns=confidentiality",
    )
    .await;
    let section = page
        .split_once(r#"id="crossings""#)
        .expect("the two-field section")
        .1
        .split("</section>")
        .next()
        .unwrap();
    assert!(
        section.contains("<details class=\"fold\" open"),
        "chosen, so open: {section}"
    );
    assert!(
        section.contains(&format!(r#"<th scope="row">{LATEST_ACCOUNT_NAME}</th>"#)),
        "{section}"
    );
    assert!(
        section.contains(r#"<option value="account" selected>Account</option>"#),
        "{section}"
    );
    assert!(
        section.contains(r#"<option value="confidentiality" selected>"#),
        "{section}"
    );

    // Each of the page's two forms keeps what the other chose.
    let page = dashboard(
        &server,
        Role::Admin,
        &[],
        "&rows=account&columns=confidentiality&from=2026-01-01",
    )
    .await;
    let form = |id: &str| {
        page.split_once(id)
            .unwrap_or_else(|| panic!("no {id} in {page}"))
            .1
            .split("</form>")
            .next()
            .unwrap()
            .to_owned()
    };
    let filters = form(r#"id="filters""#);
    for kept in [
        r#"name="rows" value="account""#,
        r#"name="columns" value="confidentiality""#,
    ] {
        assert!(
            filters.contains(kept),
            "the filter form drops {kept}: {filters}"
        );
    }
    let chooser = form(r#"class="picker crossing-chooser""#);
    assert!(
        chooser.contains(r#"name="from" value="2026-01-01""#),
        "the chooser drops the date range: {chooser}"
    );

    // The same field twice is explained, not an error page.
    let page = dashboard(&server, Role::Admin, &[], "&rows=wave&columns=wave").await;
    assert!(page.contains(r#"id="crossing-same-field""#), "{page}");
    assert!(
        !page.contains(r#"id="crossing-0""#),
        "no table for one field: {page}"
    );
}
