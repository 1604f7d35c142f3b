//! The dashboard through its HTTP boundary: sign-in and the session cookie, refusals of
//! forged posts, what each role's page holds and leaves out, escaping of free text, the
//! follow-up form and the CSV download with the cookie.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::{
    TestServer, plain_invitation, portal_response, post_invited, record_invitation, token,
};

const SECRET_NAME: &str = "Sigrid Secret";
const SECRET_EMAIL: &str = "secret.person@client.example";
const MARKUP: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

/// Signs in with a new token of `role` and returns the session cookie's value.
pub(crate) async fn session(server: &TestServer, role: Role, accounts: &[&str]) -> String {
    let token = token(server, role, accounts).await;
    let signed_in = post_form(
        server,
        "/dashboard/login",
        &format!("token={token}"),
        None,
        "same-origin",
    )
    .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    cookie_value(&signed_in)
}

/// The value the response's `Set-Cookie` gives the session cookie.
pub(crate) fn cookie_value(page: &Page) -> String {
    let cookie = page.headers[header::SET_COOKIE].to_str().unwrap();
    cookie
        .strip_prefix("rapport_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie in {cookie}"))
        .to_owned()
}

/// Northwind: six identified detractors (the first with markup in its weakness) and six
/// confidential detractors with a known identity, through invitations (a batch of five is
/// published, one waits). Contoso: six identified promoters.
async fn programme() -> TestServer {
    let server = TestServer::new().await;
    let mut counter = 0;
    for (account, confidentiality, nps) in [
        ("northwind", "identified", 3),
        ("northwind", "confidential", 2),
        ("contoso", "identified", 10),
    ] {
        for idx in 0..6 {
            counter += 1;
            let mut response = portal_response(counter);
            response["context"] = json!({"account": account, "wave": "2026-h2"});
            response["confidentiality"] = json!(confidentiality);
            response["answers"]["nps"] = json!(nps);
            response["identity"] = if confidentiality == "confidential" {
                json!({"name": SECRET_NAME, "email": SECRET_EMAIL})
            } else {
                json!({"name": format!("Known Person {counter}"), "email": format!("known{idx}@{account}.example")})
            };
            if counter == 1 {
                response["answers"]["weakness"] = json!(MARKUP);
            }
            if confidentiality == "confidential" {
                post_invited(&server, &mut response, account, "2026-h2").await;
            } else {
                let (status, body) = server.post_json("client-portal", &response).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
    }
    server
}

/// What the dashboard answered: status, headers and body text.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) text: String,
}

async fn send(server: &TestServer, request: Request<Body>) -> Page {
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    Page {
        status,
        headers,
        text,
    }
}

pub(crate) async fn get(server: &TestServer, path: &str, session: Option<&str>) -> Page {
    let mut request = Request::get(path);
    if let Some(token) = session {
        request = request.header(header::COOKIE, format!("rapport_session={token}"));
    }
    send(server, request.body(Body::empty()).unwrap()).await
}

pub(crate) async fn post_form(
    server: &TestServer,
    path: &str,
    body: &str,
    session: Option<&str>,
    site: &str,
) -> Page {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", site);
    if let Some(token) = session {
        request = request.header(header::COOKIE, format!("rapport_session={token}"));
    }
    send(server, request.body(Body::from(body.to_owned())).unwrap()).await
}

fn assert_no_secret(text: &str, what: &str) {
    assert!(
        !text.contains(SECRET_NAME) && !text.contains(SECRET_EMAIL),
        "{what} shows a confidential identity"
    );
}

#[tokio::test]
async fn without_a_session_only_the_sign_in_form_shows_under_a_strict_csp() {
    let server = programme().await;
    let page = get(&server, "/dashboard", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("action=\"/dashboard/login\"")
            && page.text.contains("type=\"password\"")
    );
    assert!(!page.text.contains("pyramid"));
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.contains("default-src 'none'")
            && policy.contains("style-src 'self'")
            && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert!(
        !page.text.contains("<script") && !page.text.contains("style="),
        "no inline script or style"
    );
    let unknown = get(&server, "/dashboard", Some("rpt_unknown")).await;
    assert!(
        unknown.text.contains("action=\"/dashboard/login\""),
        "an unknown cookie is no session"
    );
}

#[tokio::test]
async fn a_valid_token_becomes_an_http_only_strict_cookie_and_a_wrong_one_nothing() {
    let server = programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let signed_in = post_form(
        &server,
        "/dashboard/login",
        &format!("token={admin}"),
        None,
        "same-origin",
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(
        signed_in.headers[header::LOCATION],
        "/dashboard",
        "the token is never put in a URL"
    );
    let cookie = signed_in.headers[header::SET_COOKIE].to_str().unwrap();
    let session = cookie_value(&signed_in);
    assert!(
        session.starts_with("rps_") && session.len() == 68,
        "a random session id: {cookie}"
    );
    assert!(
        !cookie.contains(&admin) && !cookie.contains(&admin["rpt_".len()..]),
        "the cookie must not hold the token: {cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "not behind HTTPS, so not Secure: {cookie}"
    );
    assert!(
        get(&server, "/dashboard", Some(&session))
            .await
            .text
            .contains("pyramid"),
        "the session signs the admin in"
    );
    assert!(
        get(&server, "/dashboard", Some(&admin))
            .await
            .text
            .contains("action=\"/dashboard/login\""),
        "the token itself is no session"
    );
    let stored = server.stored_bytes().await;
    assert!(
        !stored
            .windows(session.len())
            .any(|window| window == session.as_bytes()),
        "only the session id's hash is stored"
    );
    let refused = post_form(
        &server,
        "/dashboard/login",
        "token=rpt_0000",
        None,
        "same-origin",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(!refused.headers.contains_key(header::SET_COOKIE));
    let signed_out = post_form(
        &server,
        "/dashboard/logout",
        "",
        Some(&session),
        "same-origin",
    )
    .await;
    assert!(
        signed_out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

/// Signing out ends the session on the server: a copy of the old cookie, replayed after
/// the browser cleared it, signs nobody in, while another session of the same token lives.
#[tokio::test]
async fn after_sign_out_the_old_cookie_no_longer_works() {
    let server = programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let signed_in = post_form(
            &server,
            "/dashboard/login",
            &format!("token={admin}"),
            None,
            "same-origin",
        )
        .await;
        sessions.push(cookie_value(&signed_in));
    }
    assert_ne!(sessions[0], sessions[1], "every sign-in makes a new id");
    let signed_out = post_form(
        &server,
        "/dashboard/logout",
        "",
        Some(&sessions[0]),
        "same-origin",
    )
    .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    let replayed = get(&server, "/dashboard", Some(&sessions[0])).await;
    assert!(
        replayed.text.contains("action=\"/dashboard/login\"") && !replayed.text.contains("pyramid"),
        "a revoked session shows the sign-in form"
    );
    let csv = get(
        &server,
        "/dashboard/surveys/client-portal/responses.csv",
        Some(&sessions[0]),
    )
    .await;
    assert_eq!(csv.status, StatusCode::SEE_OTHER, "and downloads nothing");
    assert!(
        get(&server, "/dashboard", Some(&sessions[1]))
            .await
            .text
            .contains("pyramid"),
        "the other session is still signed in"
    );
}

/// `Secure` is set by what the server knows of itself (`--public-url https://…`), never by
/// a request header a client chooses.
#[tokio::test]
async fn the_cookie_is_secure_only_behind_https() {
    use rapport_server::dashboard::SecureCookies;
    let server = TestServer::new().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let login = |origin: &'static str| {
        Request::post("/dashboard/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, origin)
            .body(Body::from(format!("token={admin}")))
            .unwrap()
    };
    for (behind_https, origin, secure) in [
        (false, "https://feedback.example", false),
        (false, "http://feedback.example", false),
        (true, "http://feedback.example", true),
        (true, "https://feedback.example", true),
    ] {
        let response = app(server.state.clone())
            .layer(axum::Extension(SecureCookies(behind_https)))
            .oneshot(login(origin))
            .await
            .unwrap();
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert_eq!(
            cookie.contains("; Secure"),
            secure,
            "behind HTTPS: {behind_https}, Origin: {origin}: {cookie}"
        );
    }
    let logout = app(server.state.clone())
        .layer(axum::Extension(SecureCookies(true)))
        .oneshot(
            Request::post("/dashboard/logout")
                .header("sec-fetch-site", "same-origin")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(
        logout.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .ends_with("Max-Age=0; Secure"),
        "the cookie is cleared with the attributes it was set with"
    );
}

#[tokio::test]
async fn forms_posted_from_another_site_are_refused() {
    let server = programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let login = post_form(
        &server,
        "/dashboard/login",
        &format!("token={admin}"),
        None,
        "cross-site",
    )
    .await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert!(!login.headers.contains_key(header::SET_COOKIE));
    let update = post_form(
        &server,
        "/dashboard/surveys/client-portal/follow-ups",
        "subject=flag&account=northwind&wave=2026-h2&status=done",
        Some(&admin),
        "same-site",
    )
    .await;
    assert_eq!(update.status, StatusCode::FORBIDDEN);
    let list = server
        .state
        .store
        .follow_ups("client-portal")
        .await
        .unwrap();
    assert!(list.is_empty(), "a refused post records nothing");
}

#[tokio::test]
async fn an_account_manager_sees_their_accounts_and_no_confidential_identity() {
    let server = programme().await;
    let northwind = session(&server, Role::Account, &["northwind"]).await;
    let page = get(
        &server,
        "/dashboard?survey=client-portal&account=northwind",
        Some(&northwind),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("id=\"pyramid-chart\"")
            && page.text.contains("id=\"follow-ups\"")
            && page.text.contains("id=\"csv-download\"")
    );
    assert!(!page.text.contains("contoso"), "another account shows");
    assert_no_secret(&page.text, "the page");
    assert!(
        page.text.contains("Known Person 1"),
        "identified respondents who need a conversation are named"
    );
    assert!(
        page.text
            .contains("Confidential feedback in 2026-h2 needs a conversation")
    );
    assert!(
        page.text.contains("id=\"publication\"")
            && page.text.contains("in groups of at least 5")
            && page.text.contains("up to 4 such answers"),
        "the account manager is told how confidential answers are published"
    );
    let csv = get(
        &server,
        "/dashboard/surveys/client-portal/responses.csv",
        Some(&northwind),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.text.lines().count(),
        1 + 6,
        "a header and the six identified northwind rows"
    );
    assert_no_secret(&csv.text, "the CSV");
}

#[tokio::test]
async fn free_text_is_escaped() {
    let server = programme().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let page = get(
        &server,
        "/dashboard?survey=client-portal&account=northwind",
        Some(&admin),
    )
    .await;
    assert!(
        page.text
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"),
        "the weakness is shown as text"
    );
    assert!(
        !page.text.contains("<script") && !page.text.contains("<img"),
        "no markup from an answer reaches the page"
    );
}

/// The pages speak to a managing partner: no statistician's or model's jargon.
#[tokio::test]
async fn the_results_read_in_plain_words() {
    let server = programme().await;
    for role in [Role::Admin, Role::Viewer] {
        let cookie = session(&server, role, &[]).await;
        let page = get(&server, "/dashboard", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text.contains("Relationship categories"),
            "{}",
            page.text
        );
        for jargon in [
            "Stalker",
            "Opponent",
            "Ambassador",
            "Welch’s t-test",
            "p < 0.",
            "p = 0.",
        ] {
            assert!(!page.text.contains(jargon), "{role:?} page says {jargon:?}");
        }
    }
}

#[tokio::test]
async fn a_two_field_breakdown_is_a_table_of_cells_in_plain_words() {
    let server = programme().await;
    let cookie = session(&server, Role::Admin, &[]).await;
    let page = get(
        &server,
        "/dashboard?by=account%C3%97confidentiality",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let section = page
        .text
        .split_once(r#"id="crossings""#)
        .expect("the crossing is shown")
        .1;
    let section = section.split("</section>").next().unwrap();
    // In a scroll container, so that a phone scrolls the table rather than the page.
    assert!(
        section.contains(r#"class="scroll""#) && section.contains("<table"),
        "{section}"
    );
    // Northwind: six identified and six confidential answers, contoso six identified.
    for cell in ["6 responses, NPS -100", "6 responses, NPS +100", "none"] {
        assert!(section.contains(cell), "{cell}: {section}");
    }
    for jargon in ["Welch", "p &lt;", "p =", "p-value"] {
        assert!(!section.contains(jargon), "says {jargon:?}: {section}");
    }
}

#[tokio::test]
async fn a_viewer_gets_aggregates_without_csv_or_close_the_loop() {
    let server = programme().await;
    let viewer = session(&server, Role::Viewer, &[]).await;
    let page = get(&server, "/dashboard", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"pyramid-chart\""));
    assert!(
        !page.text.contains("csv-download")
            && !page.text.contains("id=\"follow-ups\"")
            && !page.text.contains("Known Person")
    );
    assert_no_secret(&page.text, "the page");
    assert_eq!(
        get(
            &server,
            "/dashboard/surveys/client-portal/responses.csv",
            Some(&viewer)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let update = post_form(
        &server,
        "/dashboard/surveys/client-portal/follow-ups",
        "subject=flag&account=northwind&wave=2026-h2&status=done",
        Some(&viewer),
        "same-origin",
    )
    .await;
    assert_eq!(update.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_follow_up_form_records_a_status_and_returns_to_the_account() {
    let server = programme().await;
    let northwind = session(&server, Role::Account, &["northwind"]).await;
    let response_id = "00000000-0000-4000-8000-000000000002";
    let saved = post_form(
        &server,
        "/dashboard/surveys/client-portal/follow-ups",
        &format!("response_id={response_id}&account=northwind&status=in_progress&note=Call+booked+for+Tuesday"),
        Some(&northwind),
        "same-origin",
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        saved.headers[header::LOCATION],
        "/dashboard?survey=client-portal&account=northwind&saved=1#follow-ups"
    );
    let page = get(
        &server,
        "/dashboard?survey=client-portal&account=northwind&saved=1",
        Some(&northwind),
    )
    .await;
    assert!(
        page.text.contains("Follow-up saved.")
            && page.text.contains("value=\"Call booked for Tuesday\"")
    );
    assert!(
        page.text
            .contains("<option value=\"in_progress\" selected>")
    );
    // A page with a filter puts it in the form, and saving returns to the same figures.
    let filtered = get(
        &server,
        "/dashboard?survey=client-portal&account=northwind&from=2020-01-01&only_account=northwind",
        Some(&northwind),
    )
    .await;
    assert!(
        filtered
            .text
            .contains("<input type=\"hidden\" name=\"from\" value=\"2020-01-01\">"),
        "{}",
        filtered.text
    );
    let saved = post_form(
        &server,
        "/dashboard/surveys/client-portal/follow-ups",
        &format!(
            "response_id={response_id}&account=northwind&status=done&from=2020-01-01&only_account=northwind&since_version=1"
        ),
        Some(&northwind),
        "same-origin",
    )
    .await;
    assert_eq!(
        saved.headers[header::LOCATION],
        "/dashboard?survey=client-portal&account=northwind&from=2020-01-01&only_account=northwind&since_version=1&saved=1#follow-ups"
    );
    // Another account's item is not on this caller's list, whatever the form says.
    let contoso_id = "00000000-0000-4000-8000-000000000013";
    let refused = post_form(
        &server,
        "/dashboard/surveys/client-portal/follow-ups",
        &format!("response_id={contoso_id}&status=done"),
        Some(&northwind),
        "same-origin",
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_csv_download_needs_a_session() {
    let server = programme().await;
    let page = get(
        &server,
        "/dashboard/surveys/client-portal/responses.csv",
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/dashboard");
}

#[tokio::test]
async fn an_account_with_many_items_shows_them_a_page_at_a_time_and_saving_returns_to_that_page() {
    let server = TestServer::new().await;
    for counter in 1..=25 {
        let mut response = portal_response(counter);
        response["context"] = json!({"account": "fabrikam", "wave": "2026-h2"});
        response["confidentiality"] = json!("identified");
        response["answers"]["nps"] = json!(2);
        response["identity"] = json!({"name": format!("Person {counter}"), "email": format!("p{counter}@fabrikam.example")});
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let admin = session(&server, Role::Admin, &[]).await;
    let items = |page: &Page| page.text.matches("<article class=\"item\">").count();
    let first = get(
        &server,
        "/dashboard?survey=client-portal&account=fabrikam",
        Some(&admin),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(items(&first), 20);
    assert!(
        first.text.contains("Responses 1–20 of 25, newest first"),
        "the page says where it is"
    );
    assert!(first.text.contains("<a rel=\"next\" href=\"/dashboard?survey=client-portal&amp;account=fabrikam&amp;page=2#follow-up-account\">Next</a>"));
    assert!(!first.text.contains("rel=\"prev\""));
    assert!(
        first.text.contains("Person 25<")
            && first.text.contains("Person 6<")
            && !first.text.contains("Person 5<"),
        "newest first"
    );

    let second = get(
        &server,
        "/dashboard?survey=client-portal&account=fabrikam&page=2",
        Some(&admin),
    )
    .await;
    assert_eq!(items(&second), 5);
    assert!(
        second.text.contains("Responses 21–25 of 25, newest first")
            && second.text.contains("rel=\"prev\"")
            && !second.text.contains("rel=\"next\"")
    );
    assert!(
        second.text.contains("Person 1<")
            && second.text.contains("Person 5<")
            && !second.text.contains("Person 6<")
    );
    assert!(
        second
            .text
            .contains("<input type=\"hidden\" name=\"page\" value=\"2\">")
    );
    let beyond = get(
        &server,
        "/dashboard?survey=client-portal&account=fabrikam&page=99",
        Some(&admin),
    )
    .await;
    assert_eq!(items(&beyond), 5, "a page past the end shows the last");

    let saved = post_form(
        &server,
        "/dashboard/surveys/client-portal/follow-ups",
        "response_id=00000000-0000-4000-8000-000000000019&account=fabrikam&page=2&status=done",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        saved.headers[header::LOCATION],
        "/dashboard?survey=client-portal&account=fabrikam&page=2&saved=1#follow-ups"
    );
}

/// The text of the table row whose header cell is `header`, tags removed, cells separated by
/// `|`; `None` when the page has no such row.
fn row_text(page: &str, header: &str) -> Option<String> {
    let at = page.find(&format!(">{header}</th>"))?;
    let start = page[..at].rfind("<tr")?;
    let end = at + page[at..].find("</tr>")?;
    let mut text = String::new();
    let mut in_tag = false;
    for character in page[start..end].chars() {
        match character {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push('|');
            }
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    Some(
        text.split('|')
            .map(str::trim)
            .filter(|cell| !cell.is_empty())
            .collect::<Vec<_>>()
            .join("|"),
    )
}

#[tokio::test]
async fn contract_experience_shows_each_statement_the_four_areas_and_each_matter() {
    let server = TestServer::new().await;
    // Six clients on one matter rate "kept informed" 2 to 7 and "meeting scope" 6; five on
    // a second matter rate 4 and 6; one client on a third, alone, rates everything 1.
    for counter in 1..=12u32 {
        let mut response = portal_response(counter);
        response["survey_id"] = json!("legal-contract-experience");
        response["confidentiality"] = json!("identified");
        let (matter, informed, scope) = match counter {
            1..=6 => ("msa-2026", counter + 1, 6),
            7..=11 => ("lease-2026", 4, 6),
            _ => ("nda-2026", 1, 1),
        };
        response["context"] = json!({"account": "northwind", "matter": matter, "wave": "2026-h2"});
        response["answers"] = json!({
            "nps": 7,
            "kept-informed": informed,
            "meeting-scope": scope,
        });
        let (status, body) = server
            .post_json("legal-contract-experience", &response)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let admin = session(&server, Role::Admin, &[]).await;
    let page = get(
        &server,
        "/dashboard?survey=legal-contract-experience",
        Some(&admin),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"experience\""), "{}", page.text);
    let definition = rapport_scoring::template("legal-contract-experience").unwrap();
    let statement = |id: &str| {
        definition
            .question(id)
            .unwrap()
            .text()
            .english()
            .replace('&', "&amp;")
            .replace('"', "&quot;")
    };
    // Kept informed: 2 to 7, five 4s and a 1 over twelve clients, mean 48/12 = 4.0.
    let informed = row_text(&page.text, &statement("kept-informed")).unwrap();
    assert!(
        informed.starts_with(&format!(
            "{}|Keeping the client informed|4.0|",
            statement("kept-informed")
        )) && informed.ends_with("|12"),
        "{informed}"
    );
    // Meeting scope: eleven 6s and a 1, mean 67/12 = 5.6.
    let scope = row_text(&page.text, &statement("meeting-scope")).unwrap();
    assert!(scope.contains("|Meeting the agreed scope|5.6|"), "{scope}");
    // An item nobody rated shows a dash, and the fifth item names no area.
    let quick = row_text(&page.text, &statement("quick-replies")).unwrap();
    assert!(quick.ends_with("|–|–|0"), "{quick}");
    // Each matter: the largest with its score (each client's mean of what they rated:
    // (2+6)/2 … (7+6)/2, so 4 to 6.5, mean 5.25, shown to one decimal) and its four areas; the one alone with
    // its count only, and the next smallest hidden with it, so that neither can be worked
    // out from the survey's figures.
    let msa = row_text(&page.text, "msa-2026").unwrap();
    assert!(msa.starts_with("msa-2026|6|5.2|"), "{msa}");
    assert!(msa.ends_with("|4.5|–|–|6.0"), "{msa}");
    let nda = row_text(&page.text, "nda-2026").unwrap();
    assert!(
        nda.starts_with("nda-2026|1|") && nda.contains("fewer than 5"),
        "{nda}"
    );
    let lease = row_text(&page.text, "lease-2026").unwrap();
    assert!(
        lease.starts_with("lease-2026|5|")
            && lease.contains("hidden")
            && !lease.contains("fewer than"),
        "{lease}"
    );
    assert!(page.text.contains("href=\"#experience\""));
    // A rating of 3 or less puts the client on the close-the-loop list, in a partner's words;
    // a 4 does not.
    for reason in [
        "Rated “Kept informed” 2 of 7",
        "Rated “Kept informed” 3 of 7",
        "Rated “Kept informed” 1 of 7",
        "Rated “Meeting scope” 1 of 7",
    ] {
        assert!(page.text.contains(reason), "{reason} in {}", page.text);
    }
    assert!(!page.text.contains("Rated “Kept informed” 4 of 7"));
    assert!(!page.text.contains("low_experience") && !page.text.contains("LowExperience"));

    // A survey without experience statements has no such section.
    let portal = get(&server, "/dashboard?survey=client-portal", Some(&admin)).await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(!portal.text.contains("id=\"experience\""));
}

/// Response rates: invitations sent and answered, overall and by wave, account and matter,
/// with a group of fewer invitations than the minimum showing its count only, and an
/// account manager seeing only their accounts' invitations.
#[tokio::test]
async fn response_rates_show_invited_and_answered_by_matter_and_hide_small_groups() {
    let server = TestServer::new().await;
    let key = &server.state.identity_key;
    // Eight invited on one northwind matter, five of whom answer; three on a contoso matter,
    // one of whom answers.
    let invited = (0..8)
        .map(|idx| ("northwind", "msa-2026", idx < 5))
        .chain((8..11).map(|idx| ("contoso", "nda-renewal", idx == 8)));
    for (idx, (account, matter, answers)) in invited.enumerate() {
        let mut invitation = plain_invitation(
            &format!("inv-rate-{idx}"),
            &format!("client{idx}@{account}.example"),
            account,
            Some("2026-h2"),
        );
        invitation.matter = Some(matter.to_owned());
        let link = record_invitation(&server.state.store, key, &invitation).await;
        if answers {
            let mut response = portal_response(idx as u32 + 1);
            response.as_object_mut().unwrap().remove("identity");
            response["invitation"] = json!(link);
            response["confidentiality"] = json!("identified");
            let (status, body) = server.post_json("client-portal", &response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }

    let admin = session(&server, Role::Admin, &[]).await;
    let page = get(&server, "/dashboard", Some(&admin)).await.text;
    assert!(page.contains("Response rates"), "{page}");
    assert!(
        page.contains("6 of the 11 people invited have answered: 55%."),
        "{page}"
    );
    assert_eq!(
        row_text(&page, "msa-2026").as_deref(),
        Some("msa-2026|8|5|62%")
    );
    assert_eq!(
        row_text(&page, "nda-renewal").as_deref(),
        Some("nda-renewal|3|Fewer than 5 invited, so not shown")
    );
    assert_eq!(
        row_text(&page, "2026-h2")
            .as_deref()
            .map(|row| row.starts_with("2026-h2|11|6|55%")),
        Some(true),
        "{:?}",
        row_text(&page, "2026-h2")
    );

    let manager = session(&server, Role::Account, &["contoso"]).await;
    let page = get(&server, "/dashboard", Some(&manager)).await.text;
    assert!(
        page.contains("3 people invited: fewer than 5, so how many answered is not shown."),
        "{page}"
    );
    assert!(
        !page.contains("msa-2026"),
        "another account's matter is not shown"
    );
}

/// The figures a page shows as text: signed scores (`+12`, `−7`) and shares (`34%`).
fn shown_figures(html: &str) -> std::collections::BTreeSet<String> {
    let mut text = Vec::new();
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    let mut figures = std::collections::BTreeSet::new();
    let mut idx = 0;
    while idx < text.len() {
        let start = idx;
        let signed = matches!(text[idx], '+' | '\u{2212}');
        if signed {
            idx += 1;
        }
        let digits_start = idx;
        while idx < text.len() && text[idx].is_ascii_digit() {
            idx += 1;
        }
        let is_share = text.get(idx) == Some(&'%');
        if idx > digits_start && (signed || is_share) {
            let end = if is_share { idx + 1 } else { idx };
            figures.insert(text[start..end].iter().collect());
        }
        idx = idx.max(start + 1);
    }
    figures
}

/// The one-page summary answers a browser without a session with the sign-in form.
#[tokio::test]
async fn the_summary_sends_a_signed_out_browser_to_sign_in() {
    let server = programme().await;
    let page = get(&server, "/dashboard/summary?survey=client-portal", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/dashboard");
    assert!(!page.text.contains("Net Promoter Score"));
}

/// An account manager's summary covers their accounts, as their dashboard does, and names
/// no other account and no confidential respondent.
#[tokio::test]
async fn an_account_managers_summary_covers_their_accounts_only() {
    let server = programme().await;
    let northwind = session(&server, Role::Account, &["northwind"]).await;
    let dashboard = get(&server, "/dashboard?survey=client-portal", Some(&northwind)).await;
    let summary = get(
        &server,
        "/dashboard/summary?survey=client-portal",
        Some(&northwind),
    )
    .await;
    assert_eq!(summary.status, StatusCode::OK);
    assert!(
        dashboard
            .text
            .contains("href=\"/dashboard/summary?survey=client-portal&amp;version=1\""),
        "the dashboard links its summary"
    );
    assert!(summary.text.contains("account manager for northwind"));
    assert!(!summary.text.contains("contoso"), "another account shows");
    assert_no_secret(&summary.text, "the summary");
    let figure = |page: &Page, id: &str| {
        let start = page.text.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        page.text[start..start + page.text[start..].find('<').unwrap()].to_owned()
    };
    assert_eq!(
        figure(&summary, "brief-responses"),
        figure(&dashboard, "n-responses")
    );
    assert_eq!(
        figure(&summary, "brief-nps-value"),
        figure(&dashboard, "nps-value")
    );
    assert!(
        summary.text.contains("id=\"publication\""),
        "the summary says how confidential answers are published"
    );
}

/// Whatever the dashboard hides from a caller, the summary hides too: a view below the
/// minimum group size shows its count only on both, and every score and share the summary
/// shows is one the dashboard shows the same caller.
#[tokio::test]
async fn the_summary_never_shows_a_figure_the_dashboard_hides() {
    let server = programme().await;
    // Two answers in a wave of their own, and an account with only those two.
    for counter in [101, 102] {
        let mut response = portal_response(counter);
        response["context"] = json!({"account": "tiny", "wave": "2027-h1"});
        response["confidentiality"] = json!("identified");
        response["identity"] = json!({"name": "Small Client", "email": "small@tiny.example"});
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for (role, accounts) in [
        (Role::Admin, &[][..]),
        (Role::Viewer, &[][..]),
        (Role::Account, &["northwind"][..]),
        (Role::Account, &["tiny"][..]),
    ] {
        let cookie = session(&server, role, accounts).await;
        let dashboard = get(&server, "/dashboard?survey=client-portal", Some(&cookie)).await;
        let summary = get(
            &server,
            "/dashboard/summary?survey=client-portal",
            Some(&cookie),
        )
        .await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.text);
        let on_dashboard = shown_figures(&dashboard.text);
        let hidden: Vec<_> = shown_figures(&summary.text)
            .into_iter()
            .filter(|figure| !on_dashboard.contains(figure))
            .collect();
        assert!(
            hidden.is_empty(),
            "{role:?} {accounts:?}: the summary shows {hidden:?}, which the dashboard does not"
        );
        for jargon in ["Welch", "p < 0.", "p = 0.", "Stalker", "Opponent"] {
            assert!(
                !summary.text.contains(jargon),
                "the summary says {jargon:?}"
            );
        }
        let counts_only = !dashboard.text.contains("id=\"nps-value\"");
        assert_eq!(
            counts_only,
            !summary.text.contains("id=\"brief-nps-value\""),
            "{role:?} {accounts:?}: the summary and the dashboard disagree on showing scores"
        );
        if accounts == ["tiny"] {
            assert!(counts_only && summary.text.contains("only the count is shown"));
        }
        if role == Role::Admin {
            assert!(
                summary.text.contains("2027-h1: not shown")
                    && dashboard.text.contains("2027-h1: not shown"),
                "the small wave's score is hidden on both"
            );
        }
    }
}
