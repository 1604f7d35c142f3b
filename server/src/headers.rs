//! Security headers on every response the server sends, so that a browser neither guesses
//! a content type, nor leaks a secret link in a `Referer`, nor keeps results in its cache.
//!
//! - Every response: `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.
//!   The email landing page's address holds the invitation token; `no-referrer` keeps it
//!   from any site the page links to.
//! - The API, the health and metrics endpoints and the landing page `/s/{token}`:
//!   `Cache-Control: no-store`. Reports, exports and invitation details are for the one
//!   who asked, never for a shared or a browser cache.
//! - HTML pages (`/`, `/s/{token}` and the other pages of `www/`): a
//!   `Content-Security-Policy` that allows scripts, styles and requests from this server
//!   only, WebAssembly compilation for the widget, and no framing. The pages have no inline
//!   script or style, so they need nothing more.
//!
//! A header a route set itself (the dashboard sets a stricter policy) is kept. The widget
//! bundle under `/widget/` gets `nosniff` and the referrer policy only: how it is cached and
//! who may load it are decided where it is served. This layer must never change a body or
//! a status.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of the pages of `www/`: what the widget's embedding guide
/// asks of a host page, with framing, `<base>` and plugins refused.
pub const PAGE_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to the response of `request`; see the module documentation.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let widget = path == "/widget" || path.starts_with("/widget/");
    let private = path.starts_with("/api/")
        || path.starts_with("/s/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics");
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("text/html"));
    let headers = response.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    if widget {
        return response;
    }
    if private {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    if is_html {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(PAGE_CONTENT_SECURITY_POLICY));
    }
    response
}
