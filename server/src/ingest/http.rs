//! `POST /api/v1/surveys/{id}/responses`: the HTTP adapter of [`super::Ingest`]. It applies
//! the rate limit, reads the JSON body, calls the service and writes its receipt; the
//! statuses and refusals every client relies on are decided here, from the service's
//! [`super::Ingested`] and [`super::IngestError`].
//!
//! A 2xx is sent only after the response's transaction has committed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use rapport_scoring::score::ResponseScore;
use rapport_scoring::wire::ResponseV1;
use serde::{Deserialize, Serialize};

use super::{Ingest, IngestError, Ingested, ReceiptStatus};
use crate::error::{ApiError, ErrorBody, FieldError};
use crate::http_json::{MAX_BODY_BYTES, is_json, parse_json};
use crate::state::AppState;

/// The ingest route, nested under `/api/v1` by [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/surveys/{id}/responses", post(post_response))
}

/// What a successful ingest answers.
#[derive(Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Receipt {
    /// The response id.
    pub response_id: String,
    /// `stored` the first time, `duplicate` for a resend of the same response, `replaced`
    /// for a second answer to the same invitation.
    #[schema(schema_with = receipt_status)]
    pub status: ReceiptStatus,
    /// The server's score, the one stored.
    #[schema(value_type = crate::schemas::ResponseScore)]
    pub score: ResponseScore,
}

/// The schema of [`Receipt::status`]: the three words of [`ReceiptStatus`].
fn receipt_status() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["stored", "duplicate", "replaced"]))
        .description(Some("`stored` the first time, `duplicate` for a resend of the same response, `replaced` for a second answer to the same invitation."))
        .build()
}

/// Ingests one response.
#[utoipa::path(
    post,
    path = "/api/v1/surveys/{id}/responses",
    tag = "responses",
    params(("id" = String, Path, description = "Survey id; the response's `survey_id` must match it.")),
    request_body(content = crate::schemas::ResponseV1, content_type = "application/json", description = "One response in wire format v1."),
    responses(
        (status = 201, description = "Stored: `status` is `stored`.", body = Receipt),
        (status = 200, description = "A resend of a stored response (`status` is `duplicate`, with the stored score), or a new answer to the same invitation (`replaced`).", body = Receipt),
        (status = 400, description = "The body is not well-formed JSON.", body = ErrorBody),
        (status = 404, description = "No such survey.", body = ErrorBody),
        (status = 409, description = "The response id was already used with a different body.", body = ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = ErrorBody),
        (status = 415, description = "The content type is not `application/json`.", body = ErrorBody),
        (status = 422, description = "The document breaks the wire format or the survey's rules; `details` names each field.", body = ErrorBody),
        (status = 429, description = "The client posted more than its rate allows.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
        (status = 503, description = "The database cannot take writes now (disk full, read-only, unreachable); nothing was stored.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
    ),
)]
pub(crate) async fn post_response(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let forwarded = state
        .trust_forwarded_for
        .then(|| {
            headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .and_then(|first| first.trim().parse().ok())
        })
        .flatten();
    let client = forwarded.or(peer.map(|Extension(ConnectInfo(address))| address.ip()));
    if let Err(wait) = state.rate_limiter.check(client) {
        return Err(ApiError::TooManyRequests {
            retry_after_seconds: wait.as_secs().max(1),
        });
    }
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        },
        _ => ApiError::MalformedJson(rejection.body_text()),
    })?;
    let response: ResponseV1 = parse_json(&body)?;
    let ingest = Ingest::of(&state);
    let survey = ingest.survey_for(&id, &response).await?;
    let ingested = ingest.ingest(&survey, response).await?;
    Ok(receipt(&ingested))
}

/// The answer to a stored response: 201 the first time, 200 for a duplicate or a
/// replacement, with its receipt.
fn receipt(ingested: &Ingested) -> Response {
    let status = match ingested.status {
        ReceiptStatus::Stored => StatusCode::CREATED,
        ReceiptStatus::Duplicate | ReceiptStatus::Replaced => StatusCode::OK,
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        receipt_json(&ingested.response_id, ingested.status, &ingested.score_json),
    )
        .into_response()
}

impl From<IngestError> for ApiError {
    /// The status and field of each refusal: a missing survey is a 404, a response that
    /// cannot be stored as sent a 422 naming its field, a survey that wants verified
    /// answers a 403, and a clash with what is stored a 409.
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::NoSurvey(_) => ApiError::NotFound(error.to_string()),
            IngestError::OtherSurvey { .. } => {
                ApiError::invalid_field("survey_id", error.to_string())
            }
            IngestError::NoVersion { .. } => {
                ApiError::invalid_field("survey_version", error.to_string())
            }
            IngestError::Invalid { ref errors, .. } => ApiError::Invalid {
                message: error.to_string(),
                details: errors
                    .iter()
                    .map(|error| FieldError {
                        field: error.field().to_owned(),
                        message: error.to_string(),
                    })
                    .collect(),
            },
            IngestError::Invitation(refusal) => ApiError::from(refusal),
            IngestError::InvitationAndSignedContext | IngestError::SignedContext(_) => {
                ApiError::invalid_field("signed_context", error.to_string())
            }
            IngestError::NotVerified(_) => ApiError::Forbidden(error.to_string()),
            IngestError::Conflict(_) | IngestError::PublishedBefore => {
                ApiError::Conflict(error.to_string())
            }
            IngestError::Failed(error) => ApiError::from(error),
        }
    }
}

/// The JSON of a [`Receipt`], around a score that is JSON already: the score was serialised
/// once for its column, and is not serialised a second time for the answer.
fn receipt_json(response_id: &str, status: ReceiptStatus, score_json: &str) -> String {
    let mut body = String::with_capacity(score_json.len() + response_id.len() + 48);
    body.push_str(r#"{"response_id":"#);
    push_json_string(&mut body, response_id);
    body.push_str(r#","status":"#);
    push_json_string(&mut body, status.as_str());
    body.push_str(r#","score":"#);
    body.push_str(score_json);
    body.push('}');
    body
}

/// Appends `text` as a JSON string.
fn push_json_string(body: &mut String, text: &str) {
    // A `str` always serialises: this cannot fail.
    body.push_str(&serde_json::to_string(text).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use rapport_scoring::score::ResponseScore;
    use rapport_scoring::{Scorer, template, validate_answers};

    use super::{Receipt, ReceiptStatus, receipt_json};

    /// The receipt written around the stored score JSON is the receipt serde would write:
    /// same fields, same values, and it parses back whole.
    #[test]
    fn a_receipt_around_the_score_json_is_the_receipt() {
        let definition = template("client-portal").expect("built-in survey");
        let response = serde_json::from_value(serde_json::json!({
            "format": 1,
            "response_id": "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b",
            "survey_id": "client-portal",
            "survey_version": 1,
            "locale": "en",
            "submitted_at": "2026-11-23T10:00:00Z",
            "confidentiality": "confidential",
            "answers": {"nps": 9, "trust": 6, "commitment": 5, "uniqueness": 3, "reliability": 7},
        }))
        .expect("a wire-format response");
        let answers = validate_answers(&definition, &response).expect("valid");
        let score: ResponseScore = Scorer::new(&definition).score(&answers);
        let score_json = serde_json::to_string(&score).expect("score serialises");
        for (status, word) in [
            (ReceiptStatus::Stored, "stored"),
            (ReceiptStatus::Replaced, "replaced"),
            (ReceiptStatus::Duplicate, "duplicate"),
        ] {
            let written = receipt_json("6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b", status, &score_json);
            let expected = Receipt {
                response_id: "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b".to_owned(),
                status,
                score: score.clone(),
            };
            assert_eq!(
                written,
                serde_json::to_string(&expected).expect("receipt serialises")
            );
            assert_eq!(
                serde_json::from_str::<Receipt>(&written).expect("receipt parses"),
                expected
            );
            // The status serialises to the word clients read.
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&written).expect("parses")["status"],
                word
            );
        }
        // A value that needs escaping stays one JSON string.
        let odd = receipt_json("a\"b\\c", ReceiptStatus::Stored, &score_json);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&odd).expect("parses")["response_id"],
            "a\"b\\c"
        );
    }
}
