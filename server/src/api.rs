//! The HTTP API and the static files, as `fn app(state) -> Router` so that tests drive the
//! very router the server runs.
//!
//! - `GET /healthz`: liveness (the process answers).
//! - `GET /readyz`: readiness (the database answers too); 503 when it does not.
//! - `GET /metrics`: Prometheus metrics (see [`crate::metrics`]).
//! - `GET /api/v1/surveys`: surveys with their latest versions.
//! - `GET /api/v1/surveys/{id}[?version=N]`: a survey definition, as the widget loads it.
//! - `POST /api/v1/surveys/{id}/responses`: ingest one wire-format v1 response.
//! - `GET /api/v1/invitations/{token}`: what the email landing page shows for a link.
//! - `/s/{token}`: the email landing page.
//! - `GET /api/v1/surveys/{id}/report`, `GET /api/v1/surveys/{id}/responses.csv`: results,
//!   restricted by the caller's API token (see [`crate::export`]).
//! - `GET /api/v1/surveys/{id}/follow-ups`, `PUT …/follow-ups/responses/{response_id}`,
//!   `PUT …/follow-ups/accounts/{account}`: the close-the-loop list (see
//!   [`crate::follow_up`]).
//! - `GET /dashboard`, `POST /dashboard/login`, `POST /dashboard/logout`,
//!   `GET /dashboard/surveys/{id}/responses.csv`, `POST /dashboard/surveys/{id}/follow-ups`:
//!   the results dashboard, signed in with an API token kept in a cookie (see
//!   [`crate::dashboard`]).
//! - `GET /api/v1/openapi.json`: the OpenAPI document of all of the above (see
//!   [`crate::openapi`]).
//! - `/widget/…`: the widget bundle; everything else: the pages of `www/`.
//!
//! A 2xx for a response is sent only after its transaction has committed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use rapport_scoring::disclosure::Arrival;
use rapport_scoring::score::ResponseScore;
use rapport_scoring::validate_answers;
use rapport_scoring::wire::{ConfidentialityChoice, Context, Identity, ResponseV1};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

pub use crate::metrics::Counters;

use crate::error::{ApiError, ErrorBody, FieldError};
use crate::identity::IdentityKey;
use crate::invitation::{Invitation, InvitationError, now_seconds};
use crate::rate_limit::RateLimiter;
use crate::store::{CompiledSurvey, InsertOutcome, NewResponse, ScoredColumns, Store};

/// The largest response body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a handler needs, built once at start and shared: the router holds it in an
/// `Arc`, so a request clones a pointer, not the paths, origins and keys inside.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The key that seals identity.
    pub identity_key: IdentityKey,
    /// Pages served at `/`.
    pub www_dir: PathBuf,
    /// Widget bundle served at `/widget/`.
    pub widget_dir: PathBuf,
    /// Origins allowed to post from a browser, besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Running counters.
    pub counters: Arc<Counters>,
    /// Per-client limit on response ingest.
    pub rate_limiter: Arc<RateLimiter>,
    /// Whether the client address comes from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

/// The router: API, widget bundle and pages.
pub fn app(state: AppState) -> Router {
    let state = Arc::new(state);
    // An origin may post when the server allows it for every survey (`--allow-origin`), or
    // when the survey named in the path lists it in its definition's `allowed_origins`.
    let global: Arc<Vec<HeaderValue>> = Arc::new(
        state
            .allowed_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect(),
    );
    let store = state.store.clone();
    let allow = AllowOrigin::async_predicate(
        move |origin: HeaderValue, parts: &axum::http::request::Parts| {
            let path = parts.uri.path();
            let survey = path
                .strip_prefix("/api/v1")
                .unwrap_or(path)
                .strip_prefix("/surveys/")
                .and_then(|rest| rest.split('/').next())
                .map(str::to_owned);
            async move {
                if global.contains(&origin) {
                    return true;
                }
                let (Some(survey), Ok(origin)) = (survey, origin.to_str()) else {
                    return false;
                };
                matches!(store.survey(&survey, None).await, Ok(Some(survey)) if survey.definition().allowed_origins.iter().any(|allowed| allowed == origin))
            }
        },
    );
    let cors = CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    let api = Router::new()
        .route("/surveys", get(list_surveys))
        .route("/surveys/{id}", get(get_survey))
        .route("/surveys/{id}/responses", post(post_response))
        .route("/surveys/{id}/report", get(crate::export::report))
        .route("/invitations/{token}", get(get_invitation))
        .route("/surveys/{id}/responses.csv", get(crate::export::csv))
        .route("/surveys/{id}/follow-ups", get(crate::follow_up::list))
        .route(
            "/surveys/{id}/follow-ups/responses/{response_id}",
            put(crate::follow_up::put_response),
        )
        .route(
            "/surveys/{id}/follow-ups/accounts/{account}",
            put(crate::follow_up::put_account),
        )
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors);
    let widget = crate::widget_assets::service(&state.widget_dir);
    let pages = ServeDir::new(&state.www_dir).append_index_html_on_directories(true);
    let landing = ServeFile::new(state.www_dir.join("landing.html"));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .route_service("/s/{token}", landing)
        .nest("/api/v1", api)
        .merge(crate::dashboard::routes())
        .nest_service("/widget", widget)
        .fallback_service(pages)
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .with_state(state)
}

/// Ready when the database answers and the writer runs; a load balancer sends traffic only
/// to ready replicas.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": "not ready: the database does not answer" })),
            )
                .into_response()
        }
    }
}

/// A survey and its latest version, as `GET /api/v1/surveys` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyListing {
    /// Survey id.
    pub id: String,
    /// Latest version.
    pub version: u32,
    /// English title.
    pub title: String,
    /// Responses stored for all versions.
    pub responses: u64,
}

/// Lists the surveys.
#[utoipa::path(
    get,
    path = "/api/v1/surveys",
    tag = "surveys",
    responses((status = 200, description = "Every survey with its latest version.", body = Vec<SurveyListing>)),
)]
pub(crate) async fn list_surveys(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let listing: Vec<SurveyListing> = state
        .store
        .list_surveys()
        .await?
        .into_iter()
        .map(|survey| SurveyListing {
            id: survey.id,
            version: survey.version,
            title: survey.title,
            responses: survey.responses,
        })
        .collect();
    Ok(Json(listing).into_response())
}

/// Which version of a survey.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionQuery {
    /// The survey version; the latest by default.
    version: Option<u32>,
}

/// A survey definition, as the widget loads it.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}",
    tag = "surveys",
    params(("id" = String, Path, description = "Survey id."), VersionQuery),
    responses(
        (status = 200, description = "The survey definition (see docs/SURVEYS.md).", body = crate::openapi::scoring::SurveyDefinition),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
    ),
)]
pub(crate) async fn get_survey(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    match state.store.survey(&id, query.version).await? {
        Some(survey) => Ok(Json(survey.definition()).into_response()),
        None => Err(ApiError::NotFound(format!(
            "no survey {id:?}{}",
            query
                .version
                .map(|v| format!(" version {v}"))
                .unwrap_or_default()
        ))),
    }
}

/// What a successful ingest answers.
#[derive(Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Receipt {
    /// The response id.
    pub response_id: String,
    /// `stored` the first time, `duplicate` for a resend of the same response, `replaced`
    /// for a second answer to the same invitation.
    #[schema(schema_with = receipt_status)]
    pub status: String,
    /// The server's score, the one stored.
    #[schema(value_type = crate::openapi::scoring::ResponseScore)]
    pub score: ResponseScore,
}

/// The schema of [`Receipt::status`]: the three words [`ingest`] answers.
fn receipt_status() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["stored", "duplicate", "replaced"]))
        .description(Some("`stored` the first time, `duplicate` for a resend of the same response, `replaced` for a second answer to the same invitation."))
        .build()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON body: malformed JSON is a 400, a well-formed document of the wrong shape a
/// 422 naming the field.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // JSON is UTF-8 (RFC 8259); other bytes are not JSON at all, wherever they stand.
    if let Err(error) = std::str::from_utf8(body) {
        return Err(ApiError::MalformedJson(format!(
            "the body is not valid UTF-8 (byte {})",
            error.valid_up_to()
        )));
    }
    // Whether the body is well-formed JSON at all decides 400 or 422; serde_json alone
    // would call an integer where a name belongs a syntax error.
    let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    // Every body this API takes is an object; serde would also read a struct from an array
    // of its fields in order, which no client means.
    if body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|first| *first != b'{')
        && well_formed()
    {
        return Err(ApiError::invalid_field(
            ".",
            "the body must be a JSON object",
        ));
    }
    // Most bodies parse: read them without tracking the path, which only an error needs.
    if let Ok(parsed) = serde_json::from_slice(body) {
        return Ok(parsed);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let response = match parsed {
        Ok(response) => response,
        Err(error) => {
            let mut field = error.path().to_string();
            if field.len() > 120 {
                // A path into a hostile, deeply nested document; its start says where.
                field = format!("{}…", &field[..field.floor_char_boundary(120)]);
            }
            let inner = error.into_inner();
            let is_shape = matches!(inner.classify(), serde_json::error::Category::Data)
                || (!inner.is_eof() && well_formed());
            return Err(if is_shape {
                ApiError::invalid_field(
                    if field.is_empty() {
                        ".".to_owned()
                    } else {
                        field
                    },
                    inner.to_string(),
                )
            } else {
                ApiError::MalformedJson(inner.to_string())
            });
        }
    };
    deserializer
        .end()
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    Ok(response)
}

/// Ingests one response.
#[utoipa::path(
    post,
    path = "/api/v1/surveys/{id}/responses",
    tag = "responses",
    params(("id" = String, Path, description = "Survey id; the response's `survey_id` must match it.")),
    request_body(content = crate::openapi::scoring::ResponseV1, content_type = "application/json", description = "One response in wire format v1."),
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
    // The version the response names is cached, so the common case costs no query. Only
    // when it is missing is the database asked whether the survey exists at all (404) or
    // lacks that version (422): asking that first, on every request, read and parsed the
    // latest definition each time.
    let definition = state
        .store
        .survey(&id, Some(response.survey_version))
        .await?;
    if definition.is_none() && state.store.survey(&id, None).await?.is_none() {
        return Err(ApiError::NotFound(format!("no survey {id:?}")));
    }
    if response.survey_id.as_str() != id {
        return Err(ApiError::invalid_field(
            "survey_id",
            format!(
                "survey_id must be {id}, the survey in the URL, got {}",
                response.survey_id
            ),
        ));
    }
    let Some(definition) = definition else {
        return Err(ApiError::invalid_field(
            "survey_version",
            format!("survey {id} has no version {}", response.survey_version),
        ));
    };
    ingest(&state, &definition, response).await
}

/// Verifies an invitation token for `survey`: signed, unexpired, for this survey, and
/// recorded by this server. Every refusal is a 422 naming the `invitation` field.
async fn checked_invitation(
    state: &AppState,
    token: &str,
    survey: &str,
) -> Result<Invitation, ApiError> {
    let invitation = Invitation::verify(token, &state.identity_key, now_seconds())
        .map_err(|error| ApiError::invalid_field("invitation", error.to_string()))?;
    if invitation.survey != survey {
        return Err(ApiError::invalid_field(
            "invitation",
            InvitationError::OtherSurvey.to_string(),
        ));
    }
    if state
        .store
        .invitation_state(&invitation.id)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid_field(
            "invitation",
            "this invitation is not known to this server",
        ));
    }
    Ok(invitation)
}

/// What the landing page may show about an invitation: to whom and about what, and
/// whether it was answered already (only the holder of the link can ask).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InvitationInfo {
    /// The survey invited to.
    survey: String,
    /// The contact's name, for the greeting.
    name: Option<String>,
    /// The client account.
    account: String,
    /// The matter or contract.
    matter: Option<String>,
    /// The survey wave.
    wave: Option<String>,
    /// The firm's name.
    firm: Option<String>,
    /// When the link stops working (RFC 3339, UTC).
    #[schema(format = DateTime)]
    expires: String,
    /// Whether the invitation was answered already.
    answered: bool,
}

/// What the landing page shows for an invitation link.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{token}",
    tag = "invitations",
    params(("token" = String, Path, description = "The signed token of the link.")),
    responses(
        (status = 200, description = "What the invitation says, and whether it was answered.", body = InvitationInfo),
        (status = 404, description = "The link is genuine but this server has no record of it.", body = ErrorBody),
        (status = 422, description = "The link was altered or has expired; `details` names `invitation`.", body = ErrorBody),
    ),
)]
pub(crate) async fn get_invitation(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let invitation = Invitation::verify(&token, &state.identity_key, now_seconds())
        .map_err(|error| ApiError::invalid_field("invitation", error.to_string()))?;
    let Some(answered_by) = state.store.invitation_state(&invitation.id).await? else {
        return Err(ApiError::NotFound(
            "this invitation is not known to this server".to_owned(),
        ));
    };
    Ok(Json(InvitationInfo {
        survey: invitation.survey,
        name: invitation.name,
        account: invitation.account,
        matter: invitation.matter,
        wave: invitation.wave,
        firm: invitation.firm,
        expires: rapport_scoring::wire::Timestamp::from_unix_millis(invitation.expires * 1000)
            .to_string(),
        answered: answered_by.is_some(),
    })
    .into_response())
}

/// Validates, scores, seals and stores one response: the path every response takes, from
/// the widget or from the demo generator.
pub(crate) async fn ingest(
    state: &AppState,
    survey: &CompiledSurvey,
    response: ResponseV1,
) -> Result<Response, ApiError> {
    let definition = survey.definition();
    let answers = validate_answers(definition, &response).map_err(|errors| ApiError::Invalid {
        message: format!(
            "the response breaks {} rule(s) of survey {} version {}",
            errors.len(),
            definition.id,
            definition.version
        ),
        details: errors
            .iter()
            .map(|error| FieldError {
                field: error.field().to_owned(),
                message: error.to_string(),
            })
            .collect(),
    })?;
    let score = survey.scorer().score(&answers);
    if let Some(provisional) = &response.provisional
        && !provisional.agrees_with(&score)
    {
        state
            .counters
            .score_mismatches
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(response_id = %response.response_id, survey = %definition.id, version = definition.version, "provisional score from the widget differs from the server's");
    }
    let canonical = serde_json::to_vec(&response).map_err(anyhow::Error::from)?;
    let invitation = match &response.invitation {
        Some(token) => Some(checked_invitation(state, token, definition.id.as_str()).await?),
        None => None,
    };
    // A portal's signed context vouches for who answers, as an invitation does.
    let signed_identity = match (&response.signed_context, &invitation) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "signed_context",
                "a response answers an invitation or carries a portal's signed context, not both",
            ));
        }
        (Some(signed), None) => Some(
            crate::portal::verify(&state.identity_key, &response, signed, now_seconds())
                .map_err(|error| ApiError::invalid_field("signed_context", error.to_string()))?,
        ),
        (None, _) => None,
    };
    if definition.require_signed_context && invitation.is_none() && signed_identity.is_none() {
        return Err(ApiError::Forbidden(format!(
            "survey {} accepts answers only through an invitation link or with its portal's signed context",
            definition.id
        )));
    }
    let anonymous = response.confidentiality == ConfidentialityChoice::Anonymous;
    // An invitation or a signed context says who answers, and what the respondent typed
    // never replaces it.
    let invited_identity = invitation.as_ref().map(|invitation| Identity {
        name: invitation.name.clone(),
        email: Some(invitation.contact.clone()),
        organisation: None,
    });
    let identity = if anonymous {
        None
    } else {
        invited_identity
            .or(signed_identity.clone())
            .or_else(|| response.identity.clone())
    };
    let sealed_identity = identity
        .as_ref()
        .map(|identity| {
            state
                .identity_key
                .seal(response.response_id.as_str(), identity)
        })
        .transpose()?;
    let respondent_key = match &invitation {
        Some(invitation) => Some(state.identity_key.respondent_key(&invitation.contact)),
        None => identity
            .as_ref()
            .and_then(|identity| identity.email.as_deref())
            .map(|email| state.identity_key.respondent_key(email)),
    };
    // The invitation, not the page, is authoritative for account, matter and wave.
    let context = match &invitation {
        Some(invitation) => Context {
            account: Some(invitation.account.clone()),
            matter: invitation.matter.clone(),
            wave: invitation.wave.clone(),
            returning: response.context.returning,
        },
        // Stored as NFC, so that one label typed in two encodings is one account.
        None => rapport_scoring::validate::normalised_context(&response.context),
    };
    let report_entry = survey.layout().encode(&answers, response.confidentiality);
    let response_id = response.response_id.to_string();
    let row = NewResponse {
        response_id: response_id.clone(),
        survey_id: definition.id.to_string(),
        survey_version: definition.version,
        body_sha256: state.identity_key.body_digest(&canonical),
        earlier_body_digests: state.identity_key.earlier_body_digests(&canonical),
        scored: ScoredColumns::new(&answers, &score)?,
        confidentiality: response.confidentiality,
        context,
        respondent_key,
        report_entry,
        submitted_at: response.submitted_at.clone(),
        sealed_identity,
        batch_size: definition.min_group_size,
        arrival: match (&invitation, &signed_identity) {
            (Some(_), _) => Arrival::Invitation,
            (None, Some(_)) => Arrival::SignedContext,
            (None, None) => Arrival::Unverified,
        },
        invitation_id: invitation.map(|invitation| invitation.id),
    };
    let score_json = row.scored.score_json().to_owned();
    let (status, status_text, score_json) = match state.store.insert_response(row).await? {
        InsertOutcome::Stored => (StatusCode::CREATED, "stored", score_json),
        InsertOutcome::Replaced => (StatusCode::OK, "replaced", score_json),
        InsertOutcome::Duplicate(stored) => (
            StatusCode::OK,
            "duplicate",
            serde_json::to_string(&stored).map_err(anyhow::Error::from)?,
        ),
        InsertOutcome::Conflict => {
            return Err(ApiError::Conflict(format!(
                "response {} was already stored with a different body",
                response.response_id
            )));
        }
        InsertOutcome::PublishedBefore => {
            return Err(ApiError::Conflict(
                "You have already answered this survey, and your answers are now part of the \
                 results shared in confidence, so they can no longer be changed. Thank you."
                    .to_owned(),
            ));
        }
    };
    Ok((
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        receipt_json(&response_id, status_text, &score_json),
    )
        .into_response())
}

/// The JSON of a [`Receipt`], around a score that is JSON already: the score was serialised
/// once for its column, and is not serialised a second time for the answer.
fn receipt_json(response_id: &str, status: &str, score_json: &str) -> String {
    let mut body = String::with_capacity(score_json.len() + response_id.len() + 48);
    body.push_str(r#"{"response_id":"#);
    push_json_string(&mut body, response_id);
    body.push_str(r#","status":"#);
    push_json_string(&mut body, status);
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

    use super::{Receipt, receipt_json};

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
        for status in ["stored", "replaced", "duplicate"] {
            let written = receipt_json("6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b", status, &score_json);
            let expected = Receipt {
                response_id: "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b".to_owned(),
                status: status.to_owned(),
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
        }
        // A value that needs escaping stays one JSON string.
        let odd = receipt_json("a\"b\\c", "stored", &score_json);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&odd).expect("parses")["response_id"],
            "a\"b\\c"
        );
    }
}
