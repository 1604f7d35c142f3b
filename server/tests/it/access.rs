//! "People and access" through its boundaries: the admin's dashboard page and the
//! `rapport token` command line. A token is shown once, works at once, is listed only by
//! its key, and stops working (with every session it opened) when revoked; every change is
//! in the audit under the label of the token that made it; the refusals say why, next to
//! the field, and change nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rapport_server::access::{self, NewToken};
use rapport_server::auth::Role;

use crate::dashboard::{Page, cookie_value, get, post_form};
use crate::support::TestServer;

const ADMIN_LABEL: &str = "Programme lead Ines";

/// Signs in with a new admin token labelled [`ADMIN_LABEL`]; returns the session cookie.
async fn admin_session(server: &TestServer) -> String {
    let issued = access::create_token(
        &server.state.store,
        NewToken {
            role: Role::Admin,
            accounts: Vec::new(),
            label: ADMIN_LABEL.to_owned(),
        },
        access::COMMAND_LINE,
    )
    .await
    .unwrap();
    sign_in(server, &issued.token).await
}

async fn sign_in(server: &TestServer, token: &str) -> String {
    let page = post_form(
        server,
        "/dashboard/login",
        &format!("token={token}"),
        None,
        "same-origin",
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    cookie_value(&page)
}

/// The status of the report for a bearer token.
async fn report_status(server: &TestServer, token: &str) -> StatusCode {
    let request = Request::get("/api/v1/surveys/client-portal/report")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    server.send(request).await.0
}

/// The text of the element with `id`, up to its closing tag.
fn element_text<'a>(page: &'a Page, id: &str) -> Option<&'a str> {
    let start = page.text.find(&format!("id=\"{id}\""))?;
    let after = &page.text[start..];
    let open = after.find('>')? + 1;
    let close = after[open..].find('<')?;
    Some(&after[open..open + close])
}

/// The row of the tokens table that holds `label`.
fn row_with<'a>(page: &'a Page, label: &str) -> Option<&'a str> {
    let at = page.text.find(&format!("<td>{label}</td>"))?;
    let start = page.text[..at].rfind("<tr>")?;
    let end = at + page.text[at..].find("</tr>")?;
    Some(&page.text[start..end])
}

#[tokio::test]
async fn the_admin_gives_access_once_and_revoking_it_signs_the_holder_out() {
    let server = TestServer::new().await;
    let admin = admin_session(&server).await;

    let made = post_form(
        &server,
        "/dashboard/access/tokens",
        "label=Ana+Ruiz%2C+Northwind+team&role=account&accounts=northwind%2C+contoso",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let token = element_text(&made, "issued-token")
        .expect("the new token is shown")
        .to_owned();
    assert!(token.starts_with("rpt_") && token.len() == 68, "{token}");
    assert!(made.text.contains("it will not be shown again"));

    // It works at once, for what its role allows.
    assert_eq!(report_status(&server, &token).await, StatusCode::OK);

    // Listed afterwards by its key, role, accounts and last use; never shown again.
    let listed = get(&server, "/dashboard/access", Some(&admin)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(
        !listed.text.contains(&token) && !listed.text.contains("rpt_"),
        "{}",
        listed.text
    );
    let row = row_with(&listed, "Ana Ruiz, Northwind team").expect("the new token is listed");
    assert!(row.contains("Account team"), "{row}");
    assert!(row.contains("<td>northwind, contoso</td>"), "{row}");
    assert!(!row.contains("Never"), "its use was noted: {row}");
    let key = &rapport_server::auth::token_hash(&token)[..12];
    assert!(row.contains(key), "{row}");

    // Its holder signs in; revoking the token signs them out and refuses the API.
    let holder = sign_in(&server, &token).await;
    assert!(
        get(&server, "/dashboard", Some(&holder))
            .await
            .text
            .contains("Sign out")
    );
    let revoked = post_form(
        &server,
        "/dashboard/access/revoke",
        &format!("key={key}"),
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text);
    assert_eq!(
        revoked.headers[header::LOCATION],
        format!("/dashboard/access?revoked={key}").as_str()
    );
    let after = get(
        &server,
        &format!("/dashboard/access?revoked={key}"),
        Some(&admin),
    )
    .await;
    assert!(
        after.text.contains("revoked; its holder is signed out"),
        "{}",
        after.text
    );
    assert!(row_with(&after, "Ana Ruiz, Northwind team").is_none());
    assert_eq!(
        report_status(&server, &token).await,
        StatusCode::UNAUTHORIZED
    );
    let signed_out = get(&server, "/dashboard", Some(&holder)).await;
    assert!(
        signed_out.text.contains("Sign in to the results dashboard"),
        "{}",
        signed_out.text
    );

    // The audit says who did both, by the admin token's label, and holds no token.
    let audit = &after.text[after.text.find("Changes to access").unwrap()..];
    let expected_actor = format!("dashboard: {ADMIN_LABEL} (admin)");
    for action in ["token made", "token revoked"] {
        let at = audit
            .find(&format!("<td>{action}</td>"))
            .unwrap_or_else(|| panic!("{action} missing: {audit}"));
        let row_end = at + audit[at..].find("</tr>").unwrap();
        let row = &audit[at..row_end];
        assert!(row.contains(&expected_actor), "{row}");
        assert!(
            row.contains(key) && row.contains("Ana Ruiz, Northwind team"),
            "{row}"
        );
    }
    assert!(!audit.contains("rpt_") && !audit.contains("rps_"));

    // The whole audit log has them too, after a survey made on the dashboard; a viewer may
    // not read it.
    let made = post_form(
        &server,
        "/dashboard/surveys",
        "template=client-portal&id=audited",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    let log = get(&server, "/dashboard/audit", Some(&admin)).await;
    assert_eq!(log.status, StatusCode::OK);
    let survey_at = log
        .text
        .find("<td>survey made</td>")
        .expect("the survey is in the log");
    let revoked_at = log
        .text
        .find("<td>token revoked</td>")
        .expect("the revocation is in the log");
    let made_at = log
        .text
        .find("<td>token made</td>")
        .expect("the token is in the log");
    assert!(
        survey_at < revoked_at && revoked_at < made_at,
        "newest first: {}",
        log.text
    );
    assert!(!log.text.contains("rpt_"));
    let viewer = crate::dashboard::session(&server, Role::Viewer, &[]).await;
    assert_eq!(
        get(&server, "/dashboard/audit", Some(&viewer)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn refusals_say_why_next_to_the_field_and_change_nothing() {
    let server = TestServer::new().await;
    let admin = admin_session(&server).await;
    let tokens_before = server.state.store.list_tokens().await.unwrap();

    for (form, field, words) in [
        (
            "label=Ana&role=account&accounts=",
            "error-accounts",
            "at least one account",
        ),
        (
            "label=Ana&role=viewer&accounts=northwind",
            "error-accounts",
            "account tokens name accounts",
        ),
        // An invisible left-to-right mark in "north\u{200e}wind": the token would see nothing.
        (
            "label=Ana&role=account&accounts=north%E2%80%8Ewind",
            "error-accounts",
            "must not contain bidirectional marks",
        ),
        (
            "label=+&role=viewer&accounts=",
            "error-label",
            "whose token this is",
        ),
        (
            "label=Ana&role=owner&accounts=",
            "error-role",
            "Choose what they may see",
        ),
    ] {
        let page = post_form(
            &server,
            "/dashboard/access/tokens",
            form,
            Some(&admin),
            "same-origin",
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form}: {}",
            page.text
        );
        let message = element_text(&page, field)
            .unwrap_or_else(|| panic!("{form}: no {field} in {}", page.text));
        assert!(message.contains(words), "{form}: {message}");
        assert!(!page.text.contains("rpt_"), "{form}");
    }
    // The form comes back as it was sent.
    let refilled = post_form(
        &server,
        "/dashboard/access/tokens",
        "label=Ana+Ruiz&role=account&accounts=",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert!(
        refilled.text.contains("value=\"Ana Ruiz\""),
        "{}",
        refilled.text
    );
    assert!(
        refilled
            .text
            .contains("<option value=\"account\" selected>"),
        "{}",
        refilled.text
    );

    // From another site, or by a role that is not admin: refused, nothing made.
    let forged = post_form(
        &server,
        "/dashboard/access/tokens",
        "label=Mallory&role=admin&accounts=",
        Some(&admin),
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let viewer = crate::dashboard::session(&server, Role::Viewer, &[]).await;
    let page = get(&server, "/dashboard/access", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.text
            .contains("Only the programme lead can manage surveys, invitations, access and alerts")
    );
    let by_viewer = post_form(
        &server,
        "/dashboard/access/tokens",
        "label=Mallory&role=admin&accounts=",
        Some(&viewer),
        "same-origin",
    )
    .await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
    let results = get(&server, "/dashboard", Some(&viewer)).await;
    assert!(
        !results.text.contains("/dashboard/access"),
        "a viewer is not offered the page"
    );
    let without_session = get(&server, "/dashboard/access", None).await;
    assert_ne!(without_session.status, StatusCode::OK);

    // The only admin token cannot be revoked; an unknown key is said to be unknown.
    let admins: Vec<_> = server
        .state
        .store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .filter(|token| token.role == Role::Admin)
        .collect();
    assert_eq!(admins.len(), 1);
    let last = post_form(
        &server,
        "/dashboard/access/revoke",
        &format!("key={}", admins[0].key),
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.text);
    assert!(
        element_text(&last, "error-revoke")
            .unwrap()
            .contains("only admin token")
    );
    let unknown = post_form(
        &server,
        "/dashboard/access/revoke",
        "key=0123456789ab",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::CONFLICT);
    assert!(
        element_text(&unknown, "error-revoke")
            .unwrap()
            .contains("No token has the key 0123456789ab")
    );

    let mut tokens_after = server.state.store.list_tokens().await.unwrap();
    tokens_after.retain(|token| token.role != Role::Viewer);
    let tokens_before: Vec<_> = tokens_before.into_iter().map(|token| token.key).collect();
    let tokens_after: Vec<_> = tokens_after.into_iter().map(|token| token.key).collect();
    assert_eq!(
        tokens_before, tokens_after,
        "no refused change made or removed a token"
    );
    assert!(
        get(&server, "/dashboard", Some(&admin))
            .await
            .text
            .contains("Sign out"),
        "the admin is still signed in"
    );
}

/// `rapport token create`, `list` and `revoke`: the token once on stdout, the list without
/// it, revocation by key, and the last admin kept.
#[tokio::test]
async fn the_command_line_makes_lists_and_revokes_tokens() {
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
    let (ok, admin, err) = rapport(&["token", "create", "--role", "admin", "--label", "Ines"]);
    assert!(ok, "{err}");
    let admin = admin.trim().to_owned();
    let (ok, viewer, err) = rapport(&["token", "create", "--role", "viewer"]);
    assert!(ok, "{err}");
    let viewer_key = &rapport_server::auth::token_hash(viewer.trim())[..12];
    assert!(
        err.contains(viewer_key),
        "the key is said when the token is made: {err}"
    );

    let (ok, list, err) = rapport(&["token", "list"]);
    assert!(ok, "{err}");
    assert!(!list.contains("rpt_"), "{list}");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines[0], "key\trole\taccounts\tlabel\tcreated\tlast used");
    assert_eq!(lines.len(), 3, "{list}");
    assert!(
        lines.iter().any(|line| line.starts_with(&format!(
            "{viewer_key}\tviewer\t\tmade on the command line\t"
        )) && line.ends_with("\tnever")),
        "{list}"
    );

    let admin_key = &rapport_server::auth::token_hash(&admin)[..12];
    let (ok, _, err) = rapport(&["token", "revoke", admin_key]);
    assert!(!ok && err.contains("only admin token"), "{err}");
    let (ok, _, err) = rapport(&["token", "revoke", "not-a-key"]);
    assert!(!ok && err.contains("twelve hex digits"), "{err}");
    let (ok, out, err) = rapport(&["token", "revoke", viewer_key]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("revoked the viewer token {viewer_key}")),
        "{out}"
    );
    let (_, list, _) = rapport(&["token", "list"]);
    assert!(
        !list.contains(viewer_key) && list.contains(admin_key),
        "{list}"
    );
    let (ok, _, err) = rapport(&["token", "create", "--role", "account"]);
    assert!(!ok && err.contains("at least one account"), "{err}");
}

/// Every page that runs the programme, read and sent: only the admin gets past the door,
/// the others are told who may, without a session the sign-in page opens, and a form from
/// another site is refused before anything is read or changed.
#[tokio::test]
async fn every_programme_page_is_for_the_admin_only() {
    let server = TestServer::new().await;
    let admin = admin_session(&server).await;
    let viewer = crate::dashboard::session(&server, Role::Viewer, &[]).await;
    let manager = crate::dashboard::session(&server, Role::Account, &["northwind"]).await;
    let pages = [
        "/dashboard/access",
        "/dashboard/audit",
        "/dashboard/surveys",
        "/dashboard/surveys/client-portal/edit",
        "/dashboard/surveys/client-portal/preview",
        "/dashboard/invitations",
        "/dashboard/webhooks",
        "/dashboard/labels",
    ];
    for path in pages {
        let page = get(&server, path, Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        for (who, session) in [("viewer", &viewer), ("account manager", &manager)] {
            let page = get(&server, path, Some(session)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path} as {who}");
            assert!(
                page.text.contains("Only the programme lead can manage"),
                "{path} as {who}: {}",
                page.text
            );
        }
        let page = get(&server, path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path} signed out");
        assert_eq!(page.headers[header::LOCATION], "/dashboard", "{path}");
    }

    let forms = [
        (
            "/dashboard/access/tokens",
            "label=Mallory&role=admin&accounts=",
        ),
        ("/dashboard/access/revoke", "key=abc"),
        ("/dashboard/surveys", "template=client-portal&id=forged"),
        ("/dashboard/surveys/client-portal/edit", "min_group_size=1"),
        (
            "/dashboard/invitations/upload",
            "survey=client-portal&contacts=Eve%2Ceve%40example.com%2Cnorthwind",
        ),
        (
            "/dashboard/invitations/resend",
            "survey=client-portal&invitation=x",
        ),
        (
            "/dashboard/webhooks",
            "url=https%3A%2F%2Fexample.com%2Fhook&format=json&response_received=on",
        ),
        ("/dashboard/webhooks/x/remove", ""),
        (
            "/dashboard/labels",
            "field=account&value=test-co&action=hide",
        ),
        ("/dashboard/labels/remove", "field=account&value=test-co"),
    ];
    let audit_before = server
        .state
        .store
        .audit_entries("", 500)
        .await
        .unwrap()
        .len();
    for (path, body) in forms {
        let forged = post_form(&server, path, body, Some(&admin), "cross-site").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path} cross-site");
        assert!(
            forged
                .text
                .contains("must be sent from the dashboard itself"),
            "{path}: {}",
            forged.text
        );
        for session in [&viewer, &manager] {
            let refused = post_form(&server, path, body, Some(session), "same-origin").await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        }
    }
    assert_eq!(
        server
            .state
            .store
            .audit_entries("", 500)
            .await
            .unwrap()
            .len(),
        audit_before,
        "a refused form changed nothing"
    );
    assert!(server.state.store.webhooks().await.unwrap().is_empty());
    assert!(
        server
            .state
            .store
            .survey("forged", None)
            .await
            .unwrap()
            .is_none()
    );
}
