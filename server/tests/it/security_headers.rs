//! The security headers of every kind of response, and the pages of `www/` checked against
//! the Content-Security-Policy they are served with.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use rapport_server::api::app;
use rapport_server::auth::{Role, new_token, token_hash};
use rapport_server::headers::PAGE_CONTENT_SECURITY_POLICY;
use tower::ServiceExt as _;

use crate::support::{TestServer, portal_response};

/// The repository's pages.
const WWW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www");

async fn headers_of(server: &TestServer, request: Request<Body>) -> (StatusCode, HeaderMap) {
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    (response.status(), response.headers().clone())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn value(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn every_response_carries_its_security_headers() {
    let server = TestServer::new().await;
    for dir in [&server.state.www_dir, &server.state.widget_dir] {
        std::fs::create_dir_all(dir).unwrap();
    }
    for page in ["index.html", "landing.html"] {
        std::fs::copy(
            std::path::Path::new(WWW).join(page),
            server.state.www_dir.join(page),
        )
        .unwrap();
    }
    std::fs::write(server.state.widget_dir.join("rapport.js"), "export {};").unwrap();
    let (status, receipt) = server.post_json("client-portal", &portal_response(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let token = new_token().unwrap();
    server
        .state
        .store
        .add_token(&token_hash(&token), Role::Admin, &[], None)
        .await
        .unwrap();
    let with_token = |path: &str| {
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };

    // (what, request, status, no-store, the pages' policy)
    let cases = [
        ("the portal page", get("/"), StatusCode::OK, false, true),
        (
            "the landing page",
            get("/s/a-token"),
            StatusCode::OK,
            true,
            true,
        ),
        (
            "the survey list",
            get("/api/v1/surveys"),
            StatusCode::OK,
            true,
            false,
        ),
        (
            "a report",
            with_token("/api/v1/surveys/client-portal/report"),
            StatusCode::OK,
            true,
            false,
        ),
        (
            "the CSV export",
            with_token("/api/v1/surveys/client-portal/responses.csv"),
            StatusCode::OK,
            true,
            false,
        ),
        (
            "an API refusal",
            get("/api/v1/surveys/no-such-survey"),
            StatusCode::NOT_FOUND,
            true,
            false,
        ),
        ("health", get("/healthz"), StatusCode::OK, true, false),
        (
            "a missing page",
            get("/no-such-page.html"),
            StatusCode::NOT_FOUND,
            false,
            false,
        ),
    ];
    for (what, request, status, no_store, page_policy) in cases {
        let (got, headers) = headers_of(&server, request).await;
        assert_eq!(got, status, "{what}");
        assert_eq!(
            value(&headers, header::X_CONTENT_TYPE_OPTIONS),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            value(&headers, header::REFERRER_POLICY),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(
            value(&headers, header::CACHE_CONTROL) == Some("no-store"),
            no_store,
            "{what}: {headers:?}"
        );
        assert_eq!(
            value(&headers, header::CONTENT_SECURITY_POLICY) == Some(PAGE_CONTENT_SECURITY_POLICY),
            page_policy,
            "{what}: {headers:?}"
        );
    }

    // The dashboard keeps its own, stricter policy.
    let (_, dashboard) = headers_of(&server, get("/dashboard")).await;
    assert!(
        value(&dashboard, header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .starts_with("default-src 'none'"),
        "{dashboard:?}"
    );
    // The widget bundle: `nosniff`, but its caching and framing are its own business.
    let (status, widget) = headers_of(&server, get("/widget/rapport.js")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        value(&widget, header::X_CONTENT_TYPE_OPTIONS),
        Some("nosniff")
    );
    assert_ne!(value(&widget, header::CACHE_CONTROL), Some("no-store"));
    assert!(!widget.contains_key(header::CONTENT_SECURITY_POLICY));
}

/// The pages served under [`PAGE_CONTENT_SECURITY_POLICY`] need nothing it forbids: no
/// inline script, style or event handler, and scripts and stylesheets from this server.
#[test]
fn the_pages_of_www_satisfy_their_content_security_policy() {
    assert!(
        PAGE_CONTENT_SECURITY_POLICY.contains("script-src 'self' 'wasm-unsafe-eval'")
            && !PAGE_CONTENT_SECURITY_POLICY.contains("unsafe-inline")
            && PAGE_CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'")
    );
    let mut pages = 0;
    for entry in std::fs::read_dir(WWW).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "html") {
            continue;
        }
        pages += 1;
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        let name = path.display();
        assert!(!text.contains("<style"), "{name}: inline style element");
        assert!(!text.contains(" style="), "{name}: inline style attribute");
        assert!(
            !text.contains(" onclick=") && !text.contains(" onload="),
            "{name}: inline handler"
        );
        for script in text.split("<script").skip(1) {
            let tag = &script[..script.find('>').unwrap()];
            let source = tag
                .split("src=\"")
                .nth(1)
                .unwrap_or_else(|| panic!("{name}: an inline script"));
            assert!(
                source.starts_with('/') && !source.starts_with("//"),
                "{name}: a script from elsewhere: {source}"
            );
        }
        for link in text.split("<link").skip(1) {
            let tag = &link[..link.find('>').unwrap()];
            if let Some(target) = tag.split("href=\"").nth(1) {
                assert!(
                    target.starts_with('/') && !target.starts_with("//"),
                    "{name}: a resource from elsewhere: {target}"
                );
            }
        }
    }
    assert!(pages >= 2, "index.html and landing.html at least");
}
