//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and served at `GET /api/v1/openapi.json`.
//!
//! Two generators meet here, each describing the types it owns:
//!
//! - `utoipa` describes the operations, their statuses and the server's own bodies
//!   (receipts, errors, role-restricted reports), which derive [`utoipa::ToSchema`];
//! - `schemars` describes the `rapport-scoring` types (`ResponseV1`, `ResponseScore`,
//!   `Report`, `SurveyDefinition`), with the very derive that publishes
//!   `docs/wire-format-v1.schema.json`, so the wire format has one description, not two
//!   that could drift. Their schemas are placed under `components/schemas`, where the
//!   stand-ins of [`crate::schemas`] refer to them.
//!
//! This module must never describe a body by hand where a derive can: the document is
//! checked against `docs/openapi.json` and real responses are validated against it.
//!
//! To document a new endpoint: annotate its handler with `#[utoipa::path(...)]` (path under
//! `/api/v1`, every status it answers, `security(("api_token" = []))` when it needs a
//! token), add the handler to `paths(...)` of [`ApiDoc`], and add its route to the list in
//! the integration test `openapi.rs`.

use std::sync::LazyLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

/// The name of the bearer-token security scheme that result endpoints require.
pub const API_TOKEN_SCHEME: &str = "api_token";

/// The document's operations and the server's own schemas.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Rapport API",
        description = "Survey definitions, response ingest (wire format v1), invitation links, and role-restricted reports and exports."
    ),
    paths(
        crate::surveys::list_surveys,
        crate::surveys::get_survey,
        crate::ingest::http::post_response,
        crate::invitations::http::get_invitation,
        crate::export::http::report,
        crate::export::http::csv,
        crate::emerging::http::emerging,
        crate::follow_up::http::list,
        crate::follow_up::http::put_response,
        crate::follow_up::http::put_account,
        openapi_json,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    modifiers(&BearerToken),
    tags(
        (name = "surveys", description = "Survey definitions, as the widget loads them."),
        (name = "responses", description = "Response ingest."),
        (name = "invitations", description = "Signed invitation links for email landing pages."),
        (name = "results", description = "Reports and exports, restricted by the caller's API token."),
        (name = "close the loop", description = "Per account, the responses that need a conversation, and their follow-up status."),
        (name = "meta", description = "This document."),
    )
)]
pub struct ApiDoc;

/// Adds the bearer-token scheme of `Authorization: Bearer <token>`.
#[derive(Debug)]
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "An API token from `rapport token create`; its role restricts what the caller sees."
                .to_owned(),
        );
        components.add_security_scheme(API_TOKEN_SCHEME, SecurityScheme::Http(scheme));
    }
}

/// The whole document: utoipa's operations with the scoring schemas in place of the
/// stand-ins.
pub fn document() -> Value {
    let mut document =
        serde_json::to_value(ApiDoc::openapi()).expect("an OpenAPI document serialises");
    let schemas = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("the document has component schemas");
    for (name, schema) in crate::schemas::components() {
        // A server schema of the same name would be silently replaced; refuse instead.
        let placeholder = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
        if let Some(existing) = schemas.get(&name) {
            assert_eq!(
                existing, &placeholder,
                "component {name} is described by both the server and rapport-scoring"
            );
        }
        schemas.insert(name, schema);
    }
    document
}

/// The document, built once.
static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// Serves the document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This OpenAPI 3.1 document.", content_type = "application/json", body = Object)),
)]
pub(crate) async fn openapi_json() -> Response {
    Json(&*DOCUMENT).into_response()
}
