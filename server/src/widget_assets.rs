//! The widget bundle at `/widget/…`: public files that any site may load.
//!
//! A page on another origin loads `rapport.js` as a module script, and the loader fetches
//! the wasm; both are CORS requests, so every file here is sent with
//! `Access-Control-Allow-Origin: *`. That exposes nothing: the files are the same for
//! everyone, and no credentials are ever allowed, so a cookie never rides along. Files with
//! a content-hashed name (`name.<16 hex digits>.ext`, written by `cargo xtask dist`) never
//! change, so they are cached for a year as immutable; every other file, above all the
//! loader whose URL host pages name, is cached for five minutes, so an upgrade reaches every
//! page within that time.
//!
//! This module must never serve anything but the bundle directory, and never allow
//! credentials.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::services::ServeDir;

/// `Cache-Control` of a content-hashed file.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of the loader and every other file whose name stays the same.
const SHORT: &str = "public, max-age=300";

/// The service for `/widget`, serving `dir`.
pub fn service(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(axum::middleware::from_fn(asset_headers))
}

/// Whether the last segment of `path` is `name.<16 lowercase hex digits>.ext`.
pub fn is_content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let mut parts = file.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !stem.is_empty()
        && hash.len() == 16
        && hash
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

async fn asset_headers(request: Request, next: Next) -> Response {
    let immutable = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // A page that isolates itself (`Cross-Origin-Embedder-Policy`) may load these too.
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if immutable { IMMUTABLE } else { SHORT }),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    async fn get(dir: &Path, path: &str, origin: Option<&str>) -> Response {
        let mut request = axum::http::Request::builder().uri(path);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        Router::new()
            .nest_service("/widget", service(dir))
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn header_of(response: &Response, name: header::HeaderName) -> Option<&str> {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap())
    }

    #[test]
    fn only_names_with_a_sixteen_digit_hex_hash_count_as_content_hashed() {
        for (path, expected) in [
            ("/rapport_core_bg.0123456789abcdef.wasm", true),
            ("/a/b/rapport.0f0f0f0f0f0f0f0f.js", true),
            ("/rapport.js", false),
            ("/rapport_core_bg.wasm", false),
            ("/sri.json", false),
            ("/rapport.0123456789ABCDEF.js", false),
            ("/rapport.0123456789abcde.js", false),
            ("/.0123456789abcdef.js", false),
            ("/0123456789abcdef.js", false),
        ] {
            assert_eq!(is_content_hashed(path), expected, "{path}");
        }
    }

    #[tokio::test]
    async fn any_origin_may_load_the_bundle_the_loader_briefly_and_hashed_files_for_a_year() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rapport.js"), "export {};").unwrap();
        std::fs::write(
            dir.path().join("rapport_core_bg.0123456789abcdef.wasm"),
            b"\0asm\x01\0\0\0",
        )
        .unwrap();

        let loader = get(
            dir.path(),
            "/widget/rapport.js",
            Some("https://portal.example"),
        )
        .await;
        assert_eq!(loader.status(), StatusCode::OK);
        assert_eq!(
            header_of(&loader, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("*")
        );
        assert_eq!(
            header_of(&loader, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
            None
        );
        assert_eq!(
            header_of(&loader, header::CACHE_CONTROL),
            Some("public, max-age=300")
        );
        assert!(
            header_of(&loader, header::CONTENT_TYPE)
                .unwrap()
                .contains("javascript")
        );

        let wasm = get(
            dir.path(),
            "/widget/rapport_core_bg.0123456789abcdef.wasm",
            None,
        )
        .await;
        assert_eq!(wasm.status(), StatusCode::OK);
        assert_eq!(
            header_of(&wasm, header::CACHE_CONTROL),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            header_of(&wasm, header::CONTENT_TYPE),
            Some("application/wasm")
        );
        assert_eq!(
            header_of(&wasm, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("*")
        );

        // A hash that is not there is not cached at all, so a fixed deployment is seen.
        let missing = get(
            dir.path(),
            "/widget/rapport_core_bg.ffffffffffffffff.wasm",
            None,
        )
        .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(header_of(&missing, header::CACHE_CONTROL), None);
    }
}
