//! The dashboard's "Invitations" page through its boundaries: a pasted list of contacts
//! becomes a downloaded file of working links, or is refused line by line with nothing
//! stored; each invitation's state follows what the client does on the landing page; a
//! resent link replaces the old one; only the admin, from this site, may do any of it.

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use rapport_server::dashboard::PublicUrl;
use rapport_server::invitation::now_seconds;
use tower::ServiceExt as _;

use crate::dashboard::{Page, get, session};
use crate::email_block::csv_records;
use crate::support::{TestServer, plain_invitation, portal_response, record_invitation};

const PUBLIC_URL: &str = "https://feedback.example";

/// Form-encodes `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() {
                    (byte as char).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts a form to `path` as a page of `site` would, with `session`, to the router as
/// `rapport serve --public-url` runs it.
async fn post(server: &TestServer, path: &str, body: &str, session: &str, site: &str) -> Page {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", site)
        .header(header::COOKIE, format!("rapport_session={session}"))
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(server, request).await
}

/// Sends `request` to the router as `rapport serve --public-url` runs it.
async fn send(server: &TestServer, request: Request<Body>) -> Page {
    let response = app(server.state.clone())
        .layer(Extension(PublicUrl(PUBLIC_URL.to_owned())))
        .oneshot(request)
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Uploads `contacts` for `client-portal` as `session`.
async fn upload(server: &TestServer, session: &str, contacts: &str) -> Page {
    let body = form(&[
        ("survey", "client-portal"),
        ("contacts", contacts),
        ("firm", "Hale & Partners"),
        ("expires", "30d"),
    ]);
    post(
        server,
        "/dashboard/invitations/upload",
        &body,
        session,
        "same-origin",
    )
    .await
}

/// The invitations page of `client-portal`.
async fn page(server: &TestServer, session: &str) -> Page {
    let page = get(
        server,
        "/dashboard/invitations?survey=client-portal",
        Some(session),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page
}

/// How many invitations the page counts in `state` (`created`, `opened`, `answered`,
/// `expired`).
fn count(page: &Page, state: &str) -> u64 {
    let row = &page.text[page
        .text
        .find(&format!("id=\"state-{state}\""))
        .unwrap_or_else(|| panic!("no {state} row in {}", page.text))..];
    let cell = &row[row.find("<td>").unwrap() + 4..];
    cell[..cell.find("</td>").unwrap()].parse().unwrap()
}

/// The token of a link `https://feedback.example/s/{token}`.
fn token_of(link: &str) -> &str {
    link.strip_prefix(&format!("{PUBLIC_URL}/s/"))
        .unwrap_or_else(|| panic!("not a link of this server: {link}"))
}

/// The rows of a downloaded file of links, after checking that it is one: a CSV
/// attachment that no cache keeps, with the header `rapport invite --csv` documents.
fn links_file(page: &Page) -> Vec<Vec<String>> {
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        page.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let records = csv_records(&page.text);
    assert_eq!(
        records[0],
        ["contact", "link", "email_html", "email_text"],
        "{}",
        page.text
    );
    records[1..].to_vec()
}

/// What `GET /api/v1/invitations/{token}` answers.
async fn look_up(server: &TestServer, token: &str) -> (StatusCode, serde_json::Value) {
    server.get(&format!("/api/v1/invitations/{token}")).await
}

/// Posts a complete response through the invitation `token`.
async fn answer(server: &TestServer, token: &str, counter: u32) -> StatusCode {
    let mut response = portal_response(counter);
    response["invitation"] = serde_json::json!(token);
    server.post_json("client-portal", &response).await.0
}

/// The invitation id of the resend button for `email`.
fn resend_id(page: &Page, email: &str) -> String {
    let button = page
        .text
        .find(&format!("aria-label=\"Resend to {email}\""))
        .unwrap_or_else(|| panic!("no resend button for {email}"));
    let before = &page.text[..button];
    let field = before.rfind("name=\"invitation\" value=\"").unwrap() + 25;
    let id = &before[field..];
    id[..id.find('"').unwrap()].to_owned()
}

const GOOD_LIST: &str = "contact,name,account,matter,locale,account_name,matter_name\n\
     ana.ruiz@client.example,Ana Ruiz,northwind,msa-2026,es,Northwind Traders,\"Master services agreement, 2026\"\n\
     ben.okafor@client.example,Ben Okafor,contoso,,fr,,\n";

#[tokio::test]
async fn uploaded_contacts_get_working_links_once_and_their_state_follows_the_client() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;

    let rows = links_file(&upload(&server, &admin, GOOD_LIST).await);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "ana.ruiz@client.example");
    assert_eq!(rows[1][0], "ben.okafor@client.example");
    let ana = token_of(&rows[0][1]);
    // The email block of each link, as `rapport invite --csv` gives it, in the contact's
    // language and naming the matter by its name.
    assert!(rows[0][2].contains(&format!("{}?answer=10", rows[0][1])));
    assert!(rows[0][2].contains("Master services agreement, 2026"));
    assert!(rows[1][3].contains(&format!("{}?answer=0", rows[1][1])));

    let listed = page(&server, &admin).await;
    assert_eq!(
        [
            count(&listed, "created"),
            count(&listed, "opened"),
            count(&listed, "answered")
        ],
        [2, 0, 0]
    );
    assert!(listed.text.contains("ana.ruiz@client.example") && listed.text.contains("Ben Okafor"));
    // The page never holds a link.
    assert!(!listed.text.contains(ana) && !listed.text.contains("/s/"));
    assert!(listed.text.contains("invitations made"));
    assert!(listed.text.contains("survey client-portal: 2 invitations"));

    let (status, info) = look_up(&server, ana).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["firm"], "Hale & Partners");
    assert_eq!(info["locale"], "es");
    let opened = page(&server, &admin).await;
    assert_eq!(
        [count(&opened, "created"), count(&opened, "opened")],
        [1, 1]
    );

    assert_eq!(answer(&server, ana, 1).await, StatusCode::CREATED);
    let answered = page(&server, &admin).await;
    assert_eq!(
        [
            count(&answered, "created"),
            count(&answered, "opened"),
            count(&answered, "answered")
        ],
        [1, 0, 1]
    );
    // "Answered" says that, and nothing of the answer: no response id, no comment.
    let response = portal_response(1);
    assert!(
        !answered
            .text
            .contains(response["response_id"].as_str().unwrap())
    );
    assert!(!answered.text.contains("Quick answers"));
    // An answered invitation needs no new link; the other one can have one.
    assert!(!answered.text.contains("Resend to ana.ruiz@client.example"));
    assert!(
        answered
            .text
            .contains("Resend to ben.okafor@client.example")
    );
}

/// Sends the page's form as the browser does, `multipart/form-data`, with `file` as the
/// chosen file of contacts and `contacts` as the pasted list.
async fn upload_file(server: &TestServer, session: &str, file: &[u8], contacts: &str) -> Page {
    const BOUNDARY: &str = "----rapport-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [
        ("survey", "client-portal"),
        ("contacts", contacts),
        ("firm", "Hale & Partners"),
        ("expires", "30d"),
    ] {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let request = Request::post("/dashboard/invitations/upload")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, format!("rapport_session={session}"))
        .body(Body::from(body))
        .unwrap();
    send(server, request).await
}

#[tokio::test]
async fn a_file_of_contacts_saved_from_a_spreadsheet_is_read_like_a_pasted_list() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let page_before = page(&server, &admin).await;
    assert!(
        page_before.text.contains("enctype=\"multipart/form-data\"")
            && page_before.text.contains("type=\"file\""),
        "the form offers a file"
    );

    // "CSV UTF-8" from a spreadsheet: a byte order mark and Windows line ends. The file
    // takes the place of the pasted text.
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend_from_slice(GOOD_LIST.replace('\n', "\r\n").as_bytes());
    let rows = links_file(&upload_file(&server, &admin, &file, "ignored").await);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "ana.ruiz@client.example");
    assert!(rows[1][1].starts_with(&format!("{PUBLIC_URL}/s/")));

    // A file in another encoding is refused with what to do, and nothing is made.
    let latin1 = b"contact,name,account\nzoe@client.example,Zo\xEB,northwind\n";
    let refused = upload_file(&server, &admin, latin1, "").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("save it from your spreadsheet as"),
        "{}",
        refused.text
    );
    // Neither a file nor a list: said so.
    let empty = upload_file(&server, &admin, b"", "").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty
            .text
            .contains("paste a list of contacts or choose a file"),
        "{}",
        empty.text
    );
    let listed = page(&server, &admin).await;
    assert_eq!(count(&listed, "created"), 2);
    assert!(!listed.text.contains("zoe@client.example"));
}

#[tokio::test]
async fn a_bad_list_is_refused_line_by_line_and_nothing_is_stored() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let list = "contact,name,account,locale\n\
         ana.ruiz@client.example,Ana Ruiz,northwind,en\n\
         not-an-email,Ben Okafor,contoso,fr\n\
         cleo@client.example,Cleo,contoso,pt\n\
         dan@client.example,Dan,north\u{202e}wind,de\n";

    let refused = upload(&server, &admin, list).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    for expected in [
        "Line 3, email (contact): is not an email address",
        "Line 4, locale: locale must be one of en, fr, de, nl, es",
        "Line 5, account:",
    ] {
        assert!(
            refused.text.contains(expected),
            "{expected} in {}",
            refused.text
        );
    }
    assert!(!refused.text.contains("Line 2,"), "{}", refused.text);
    // The list is back in the form, to be corrected.
    assert!(refused.text.contains("not-an-email,Ben Okafor,contoso,fr"));

    let listed = page(&server, &admin).await;
    let total: u64 = ["created", "opened", "answered", "expired"]
        .iter()
        .map(|state| count(&listed, state))
        .sum();
    assert_eq!(total, 0, "the good line was stored without the others");
    assert!(
        listed
            .text
            .contains("No invitation has been made or resent yet.")
    );

    let no_account = upload(&server, &admin, "contact,name\nana@client.example,Ana\n").await;
    assert_eq!(no_account.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_account
            .text
            .contains("the first line must name the account column")
    );
}

#[tokio::test]
async fn only_the_admin_from_this_site_may_see_or_make_invitations() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let manager = session(&server, Role::Account, &["northwind"]).await;

    let signed_out = get(&server, "/dashboard/invitations", None).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    let refused = get(&server, "/dashboard/invitations", Some(&manager)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.text.contains("Invite clients"));

    let by_manager = upload(&server, &manager, GOOD_LIST).await;
    assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
    let body = form(&[
        ("survey", "client-portal"),
        ("contacts", GOOD_LIST),
        ("expires", "30d"),
    ]);
    let cross_site = post(
        &server,
        "/dashboard/invitations/upload",
        &body,
        &admin,
        "cross-site",
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    let listed = page(&server, &admin).await;
    assert_eq!(count(&listed, "created"), 0);
    // A page number from a hand-edited address is clamped, not an overflow.
    let far = get(
        &server,
        &format!(
            "/dashboard/invitations?survey=client-portal&page={}",
            usize::MAX
        ),
        Some(&admin),
    )
    .await;
    assert_eq!(far.status, StatusCode::OK, "{}", far.text);
    // The results page links the invitations page for the admin alone.
    let results = get(&server, "/dashboard?survey=client-portal", Some(&admin)).await;
    assert!(results.text.contains("id=\"invitations-link\""));
    let results = get(&server, "/dashboard?survey=client-portal", Some(&manager)).await;
    assert!(!results.text.contains("id=\"invitations-link\""));
}

#[tokio::test]
async fn a_resent_link_replaces_the_old_one_which_then_says_so() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let rows = links_file(&upload(&server, &admin, GOOD_LIST).await);
    let old = token_of(&rows[1][1]).to_owned();

    let listed = page(&server, &admin).await;
    let id = resend_id(&listed, "ben.okafor@client.example");
    let resend_form = form(&[
        ("survey", "client-portal"),
        ("invitation", &id),
        ("expires", "30d"),
    ]);
    let resent = links_file(
        &post(
            &server,
            "/dashboard/invitations/resend",
            &resend_form,
            &admin,
            "same-origin",
        )
        .await,
    );
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0][0], "ben.okafor@client.example");
    let new = token_of(&resent[0][1]).to_owned();
    assert_ne!(new, old);

    let (status, refusal) = look_up(&server, &old).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refusal}");
    assert_eq!(refusal["reason"], "replaced");
    assert_eq!(refusal["firm"], "Hale & Partners");
    assert_eq!(
        answer(&server, &old, 2).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let (status, info) = look_up(&server, &new).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(
        (info["firm"].as_str(), info["locale"].as_str()),
        (Some("Hale & Partners"), Some("fr"))
    );
    assert_eq!(answer(&server, &new, 3).await, StatusCode::CREATED);

    // The contact is counted once, under the new link; the old one cannot be resent again.
    let after = page(&server, &admin).await;
    assert_eq!(
        [count(&after, "created"), count(&after, "answered")],
        [1, 1]
    );
    assert!(after.text.contains("invitation resent"));
    let again = post(
        &server,
        "/dashboard/invitations/resend",
        &resend_form,
        &admin,
        "same-origin",
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(!again.text.contains("/s/"));
    let cross_site = post(
        &server,
        "/dashboard/invitations/resend",
        &resend_form,
        &admin,
        "cross-site",
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_expired_invitation_shows_as_expired_and_a_resend_revives_it() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let mut invitation = plain_invitation(
        "0123456789abcdef0123456789abcdef",
        "late.reader@client.example",
        "northwind",
        Some("2026-h2"),
    );
    invitation.expires = now_seconds() - 60;
    let old = record_invitation(&server.state.store, &server.state.identity_key, &invitation).await;

    let listed = page(&server, &admin).await;
    assert_eq!(
        [count(&listed, "expired"), count(&listed, "created")],
        [1, 0]
    );
    let (status, refusal) = look_up(&server, &old).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refusal["reason"], "expired");

    let resend_form = form(&[
        ("survey", "client-portal"),
        (
            "invitation",
            &resend_id(&listed, "late.reader@client.example"),
        ),
        ("expires", "7d"),
    ]);
    let resent = links_file(
        &post(
            &server,
            "/dashboard/invitations/resend",
            &resend_form,
            &admin,
            "same-origin",
        )
        .await,
    );
    let (status, info) = look_up(&server, token_of(&resent[0][1])).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["wave"], "2026-h2");
    let after = page(&server, &admin).await;
    assert_eq!([count(&after, "expired"), count(&after, "opened")], [0, 1]);
}

#[tokio::test]
async fn rapport_invite_csv_checks_the_whole_file_as_the_page_does() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("identity.key");
    let file = dir.path().join("contacts.csv");
    let invite = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["invite", "--survey", "client-portal", "--csv"])
            .arg(&file)
            .args(["--base-url", PUBLIC_URL, "--database-url", &database])
            .args(["--identity-key-file", key_file.to_str().unwrap()])
            .output()
            .unwrap()
    };
    std::fs::write(
        &file,
        "contact,account,locale\nana.ruiz@client.example,northwind,en\nben@,contoso,xx\n",
    )
    .unwrap();
    let refused = invite();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("line 3, contact: is not an email address")
            && stderr.contains("line 3, locale:")
            && stderr.contains("nothing was stored"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());

    std::fs::write(
        &file,
        "contact,account\nana.ruiz@client.example,northwind\n",
    )
    .unwrap();
    let made = invite();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let store = rapport_server::store::Store::open(&database).await.unwrap();
    // One invitation: the refused file stored none of its good line.
    assert_eq!(
        store
            .invitation_state_counts("client-portal", now_seconds())
            .await
            .unwrap(),
        [1, 0, 0, 0]
    );
    let audit = store.audit_entries("invitation", 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].actor.as_str()),
        ("invitations made", "command line")
    );
    store.close().await;
}
