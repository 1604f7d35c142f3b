//! The results dashboard: HTML pages rendered on the server from the same role-restricted
//! report, CSV and close-the-loop list the API serves.
//!
//! - `GET /dashboard[?survey=ID&version=N&by=F&account=A]`: the sign-in form without a
//!   session; otherwise the dashboard of one survey (the one with most responses by default).
//! - `GET /dashboard/summary[?survey=ID&version=N]`: the same survey's results on one page
//!   to print or save as a PDF (NPS with its interval, the pyramid, the trend across waves,
//!   the topics named most as strength and as weakness), from the same report the dashboard
//!   shows the caller; without a session, a redirect to the sign-in form.
//! - `POST /dashboard/login`: a form with an API token; a valid token opens a session. The
//!   session cookie (`HttpOnly`, `SameSite=Strict`, `Path=/dashboard`, and `Secure` when
//!   the server is behind HTTPS, see [`SecureCookies`]) holds a random session id, never the
//!   token; the database keeps only the id's SHA-256, with the token's hash and an expiry.
//! - `POST /dashboard/logout`: deletes the session, so its cookie no longer signs anyone
//!   in even if it was copied, and clears the cookie.
//! - `GET /dashboard/surveys/{id}/responses.csv[?version=N]`: the CSV export of
//!   [`crate::export::responses_csv`], with the cookie instead of a bearer header.
//! - `POST /dashboard/surveys/{id}/follow-ups`: a form that records a follow-up status
//!   through [`crate::follow_up`].
//! - `GET /dashboard/access`: for the admin only, "People and access" (the API tokens,
//!   made and revoked there, and who did so); see [`access`].
//! - `GET /dashboard/surveys` and below: for the admin only, the surveys, made from a
//!   template and edited into new versions, with a preview of the real widget; see
//!   [`surveys`].
//! - `GET /dashboard/invitations`: for the admin only, a survey's invitations and their
//!   states; `POST /dashboard/invitations/upload` makes invitations from a list of contacts
//!   and `POST /dashboard/invitations/resend` replaces a link, each answering with a file of
//!   links, once; see [`invitations`].
//! - `GET /dashboard/webhooks`: for the admin only, the webhooks, their delivery log and
//!   who changed them; `POST /dashboard/webhooks` adds one (showing its secret once) and
//!   `POST /dashboard/webhooks/{id}/remove` removes one, each recorded with the token's
//!   label and role.
//!
//! This module must never decide by itself what a role may see: reports come only from
//! [`crate::export::role_report`], rows only from [`crate::export::responses_csv`], the
//! close-the-loop list only from [`crate::follow_up::follow_up_list`]. It renders what they
//! return and leaves out whole sections a role has no right to. Every POST must come from a
//! page of this server (`Sec-Fetch-Site`, else `Origin`), and the pages carry no inline
//! script or style, under a strict Content-Security-Policy. The admin-only pages take the
//! [`Admin`] extractor, which is their whole door: origin, session, role, and the audit name.

mod access;
mod charts;
mod html;
mod invitations;
mod labels;
mod page;
mod surveys;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use crate::auth::{Caller, Role, token_hash};
use crate::error::ApiError;
use crate::export::{self, ReportRequest, ResultsError};
use crate::follow_up::{self, FollowUpError, FollowUpUpdate, ListScope};
use crate::http_auth::caller_for_token;
use crate::state::AppState;
use crate::store::{CompiledSurvey, FollowUpStatus, SurveySummary};
use crate::webhooks;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rapport_session";

/// How long a session lasts, in seconds (eight hours: a working day).
const SESSION_SECONDS: u32 = 8 * 60 * 60;

/// Whether the session cookie is marked `Secure`: `true` when the server is reached over
/// HTTPS (`rapport serve --public-url https://…`). It is a request extension that
/// `rapport serve` adds to the router; without it, cookies are not marked, as on a local
/// demo over plain HTTP, where a browser would refuse to store a `Secure` cookie.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecureCookies(pub bool);

/// The address people reach the server at (`rapport serve --public-url`), which the links
/// made on the invitations page start with. A request extension that `rapport serve` adds
/// when it has one; without it, links start with the address the admin's browser used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(pub String);

/// The Content-Security-Policy of every dashboard page: no script at all, styles only from
/// this server's stylesheet, forms only back to this server, never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's routes, merged into [`crate::api::app`].
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/dashboard", get(show))
        .route("/dashboard/summary", get(summary))
        .route("/dashboard/login", post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/surveys/{id}/responses.csv", get(csv))
        .route("/dashboard/surveys/{id}/follow-ups", post(record_follow_up))
        .route("/dashboard/webhooks", get(webhooks).post(add_webhook))
        .route("/dashboard/webhooks/{id}/remove", post(remove_webhook))
        .merge(access::routes())
        .merge(surveys::routes())
        .merge(invitations::routes())
        .merge(labels::routes())
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // A page that sets a policy of its own (the survey editor and its preview) keeps it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Query of the dashboard page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DashboardQuery {
    /// The survey; the one with most responses by default.
    pub survey: Option<String>,
    /// Survey version; the latest by default.
    pub version: Option<u32>,
    /// The earliest version the figures count; by default every earlier version that asks
    /// the same 0–10 question.
    pub since_version: Option<u32>,
    /// Further breakdowns beside role, account, new/returning and wave, comma-separated.
    pub by: Option<String>,
    /// The rows of a two-field breakdown chosen on the page (with `columns`).
    pub rows: Option<String>,
    /// The columns of a two-field breakdown chosen on the page (with `rows`).
    pub columns: Option<String>,
    /// The account whose close-the-loop items are opened.
    pub account: Option<String>,
    /// The page of the opened account's items, from 1.
    pub page: Option<usize>,
    /// Set after a follow-up was saved, to say so.
    pub saved: Option<String>,
    /// The figures count answers received on or after this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// The figures count answers received on or before this day (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// The figures count this account's answers only. Named apart from `account`, which
    /// opens an account's close-the-loop items.
    pub only_account: Option<String>,
}

impl DashboardQuery {
    /// The query parameters that keep the filter and the versions counted in a link, each
    /// starting with `&`.
    pub(crate) fn filter_link_query(&self) -> String {
        let mut query = page::filter_link_query(
            self.from.as_deref(),
            self.to.as_deref(),
            self.only_account.as_deref(),
        );
        if let Some(since) = self.since_version {
            query.push_str(&format!("&since_version={since}"));
        }
        query
    }
}

/// The filter a page's query asks for, with the problem of each date that is not one: a
/// refused bound is left out (and said so next to its field), never a failure of the page.
#[derive(Debug, Default)]
struct FilterAsked {
    filter: rapport_scoring::report::ReportFilter,
    from_problem: Option<String>,
    to_problem: Option<String>,
}

fn filter_asked(query: &DashboardQuery) -> FilterAsked {
    let day = |typed: Option<&str>| -> (Option<String>, Result<Option<_>, String>) {
        let typed = typed.map(str::trim).filter(|typed| !typed.is_empty());
        match typed {
            None => (None, Ok(None)),
            Some(typed) => match rapport_scoring::report::ReceivedDay::parse(typed) {
                Ok(day) => (None, Ok(Some(day))),
                Err(_) => (Some(page::date_problem(typed)), Err(typed.to_owned())),
            },
        }
    };
    let (from_problem, from) = day(query.from.as_deref());
    let (mut to_problem, to) = day(query.to.as_deref());
    let (from, mut to) = (from.ok().flatten(), to.ok().flatten());
    if let (Some(first), Some(last)) = (from, to)
        && last < first
    {
        to_problem = Some("The end date is before the start date.".to_owned());
        to = None;
    }
    let account = query
        .only_account
        .as_deref()
        .map(str::trim)
        .filter(|account| !account.is_empty())
        .map(str::to_owned);
    FilterAsked {
        filter: rapport_scoring::report::ReportFilter { from, to, account },
        from_problem,
        to_problem,
    }
}

/// A dashboard failure, shown as a page rather than JSON.
#[derive(Debug)]
struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<ResultsError> for PageError {
    fn from(error: ResultsError) -> Self {
        PageError(error.into())
    }
}

impl From<FollowUpError> for PageError {
    fn from(error: FollowUpError) -> Self {
        PageError(error.into())
    }
}

impl From<anyhow::Error> for PageError {
    fn from(error: anyhow::Error) -> Self {
        PageError(ApiError::Internal(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let message = match &self.0 {
            ApiError::Internal(_) => {
                "Something went wrong on the server; its log has the details.".to_owned()
            }
            other => other.to_string(),
        };
        // The API's conversion logs internal errors and picks the status; only the body changes.
        let status = self.0.into_response().status();
        (status, page::failure(&message)).into_response()
    }
}

/// Whether a token or session id has the form `rapport token create` and sign-in make, and
/// so may be looked up.
fn cookie_safe(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 200
        && token
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// The session id in the session cookie, if any.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|token| cookie_safe(token))
}

/// The signed-in caller, or `None` without a valid session.
async fn session(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    match session_id(headers) {
        Some(id) => Ok(state
            .store
            .caller_for_dashboard_session(&token_hash(id), crate::invitation::now_seconds())
            .await?),
        None => Ok(None),
    }
}

/// A fresh random session id, `rps_` and 64 hex characters.
fn new_session_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| anyhow::anyhow!("no randomness for a session id: {error}"))?;
    Ok(format!("rps_{}", hex::encode(bytes)))
}

/// The `Set-Cookie` value of the session cookie: `value` for `max_age` seconds.
fn session_cookie(value: &str, max_age: u32, secure: SecureCookies) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure.0 { "; Secure" } else { "" }
    )
}

/// Whether a POST comes from a page of this server. Browsers send `Sec-Fetch-Site`; older
/// ones send `Origin`, which must name the host the request was sent to. A request with
/// neither comes from no browser, so no other site can have forged it.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    !host.is_empty() && origin_host == Some(host)
}

fn cross_origin_refusal() -> Response {
    (StatusCode::FORBIDDEN, page::cross_origin_refusal()).into_response()
}

/// The signed-in programme admin, for the pages that run the programme (surveys,
/// invitations, people and access, webhooks, the audit log). Taking it as an extractor is
/// the whole prelude of such a handler; it refuses, in this order:
///
/// - a form (any method but `GET` and `HEAD`) that does not come from a page of this server,
///   with the cross-origin refusal page;
/// - a request without a session, with a redirect to the sign-in page;
/// - any role but admin, with a page that says who may use these pages (403).
#[derive(Debug)]
struct Admin {
    /// Who is signed in, as the audit log names them: see [`actor`].
    actor: String,
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let reads = parts.method == Method::GET || parts.method == Method::HEAD;
        if !reads && !same_origin(headers) {
            return Err(cross_origin_refusal());
        }
        let caller = session(state, headers)
            .await
            .map_err(|error| PageError::from(error).into_response())?;
        let Some(caller) = caller else {
            return Err(Redirect::to("/dashboard").into_response());
        };
        if caller.role != Role::Admin {
            return Err((StatusCode::FORBIDDEN, page::admin_only()).into_response());
        }
        let actor = actor(state, headers)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self { actor })
    }
}

/// The survey a results page is about (the one asked for, else the one with most responses),
/// every survey for the picker, and the request of the report both results pages show.
struct Chosen {
    surveys: Vec<SurveySummary>,
    survey: Arc<CompiledSurvey>,
    request: ReportRequest,
    /// The problems of the filter's dates, shown next to their fields.
    from_problem: Option<String>,
    to_problem: Option<String>,
    /// Which versions the report counts.
    versions: page::VersionScope,
}

/// What the dashboard and its one-page summary show: the same survey, and the same report
/// request, so the summary can only repeat figures the dashboard shows.
async fn chosen_survey(state: &AppState, query: &DashboardQuery) -> Result<Chosen, PageError> {
    let surveys = state.store.list_surveys().await?;
    let Some(survey_id) = query.survey.clone().or_else(|| {
        surveys
            .iter()
            .max_by_key(|survey| survey.responses)
            .map(|survey| survey.id.clone())
    }) else {
        return Err(ApiError::NotFound("there is no survey yet".to_owned()).into());
    };
    let survey = state
        .store
        .survey(&survey_id, query.version)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no survey {survey_id:?}")))?;
    let definition = survey.definition();
    let mut segments = vec!["wave".to_owned()];
    if let Some(role_question) = definition.role_question() {
        segments.push(role_question.id().to_string());
    }
    segments.extend(["account", "returning"].map(str::to_owned));
    // The contract-experience section shows each matter's experience.
    if page::has_experience(definition) {
        segments.push("matter".to_owned());
    }
    // The two fields chosen in the page's form, as the crossing `rows:columns`; the same
    // field twice is not a crossing, and the page says so rather than failing.
    let chosen_crossing = match (query.rows.as_deref(), query.columns.as_deref()) {
        (Some(rows), Some(columns))
            if !rows.is_empty() && !columns.is_empty() && rows != columns =>
        {
            Some(format!("{rows}:{columns}"))
        }
        _ => None,
    };
    for extra in query
        .by
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|field| !field.is_empty())
        .chain(chosen_crossing.as_deref())
    {
        if !segments.iter().any(|field| field == extra) {
            segments.push(extra.to_owned());
        }
    }
    let FilterAsked {
        filter,
        from_problem,
        to_problem,
    } = filter_asked(query);
    let earliest = export::earliest_spannable(&state.store, &survey).await?;
    let since_version = query.since_version.unwrap_or(earliest);
    let request = ReportRequest {
        breakdowns: export::breakdowns(definition, segments.iter().map(String::as_str))?,
        verified_only: false,
        filter,
        since_version: Some(since_version),
    };
    Ok(Chosen {
        surveys,
        survey,
        request,
        from_problem,
        to_problem,
        versions: page::VersionScope {
            since: since_version,
            earliest,
        },
    })
}

async fn show(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    let Some(caller) = session(&state, &headers).await? else {
        return Ok(page::login(None).into_response());
    };
    let Chosen {
        surveys,
        survey,
        request: report_request,
        from_problem,
        to_problem,
        versions,
    } = chosen_survey(&state, &query).await?;
    let filter = report_request.filter.clone();
    let since_version = report_request.since_version;
    let definition = survey.definition();
    let survey_id = definition.id.as_str().to_owned();
    // The list covers the versions the figures count.
    let scope = ListScope {
        version: Some(definition.version),
        since_version,
        wave: None,
    };
    // Both read every response of the versions (their compact entries); the list is built on
    // another worker thread meanwhile, so a large survey costs the longer of the two, not the
    // sum. Only the opened account's items are read in full.
    let follow_ups = (caller.role != Role::Viewer).then(|| {
        let (state, caller, survey_id) = (state.clone(), caller.clone(), survey_id.clone());
        let choice = follow_up::AccountChoice::Prefer(query.account.clone());
        tokio::spawn(async move {
            follow_up::follow_up_overview(&state, &caller, &survey_id, &scope, &choice).await
        })
    });
    let report =
        export::role_report(&state.store, &caller, &survey, report_request.clone()).await?;
    let emerging = crate::emerging::role_emerging(
        &state.store,
        &caller,
        &survey,
        &emerging_request(definition, &report_request)?,
    )
    .await?;
    let follow_ups =
        match follow_ups {
            Some(task) => Some(task.await.map_err(|error| {
                anyhow::anyhow!("the close-the-loop list task failed: {error}")
            })??),
            None => None,
        };
    // Names only ever stand beside ids the page already shows (the report's groups, the
    // caller's accounts, the close-the-loop list): they never select what is shown.
    let names = state.store.display_names().await?;
    let account_choices =
        export::account_choices(&state.store, &caller, &survey, since_version).await?;
    // Only the programme lead is told which labels are hidden or merged: they set them.
    let rules = if caller.role == Role::Admin {
        state.store.label_rules().await?
    } else {
        Vec::new()
    };
    let refused = from_problem.is_some() || to_problem.is_some();
    let body = page::dashboard(&page::DashboardPage {
        caller: &caller,
        surveys: &surveys,
        definition,
        report: &report,
        follow_ups: follow_ups.as_ref(),
        query: &query,
        names: &names,
        filter: page::FilterSection {
            applied: &filter,
            form: page::FilterForm {
                from: query.from.as_deref().unwrap_or_default(),
                to: query.to.as_deref().unwrap_or_default(),
                account: query.only_account.as_deref().unwrap_or_default(),
                choices: &account_choices,
                from_problem,
                to_problem,
            },
            rules: &rules,
        },
        emerging: &emerging,
        versions,
    });
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, axum::response::Html(body)).into_response())
}

/// The one-page summary for a managing partner, made to be printed: the dashboard's own
/// report, so it shows only figures the dashboard shows the same caller.
async fn summary(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, PageError> {
    let Some(caller) = session(&state, &headers).await? else {
        return Ok(Redirect::to("/dashboard").into_response());
    };
    let Chosen {
        survey,
        request,
        versions,
        ..
    } = chosen_survey(&state, &query).await?;
    let filter = request.filter.clone();
    let report = export::role_report(&state.store, &caller, &survey, request.clone()).await?;
    let emerging = crate::emerging::role_emerging(
        &state.store,
        &caller,
        &survey,
        &emerging_request(survey.definition(), &request)?,
    )
    .await?;
    let names = state.store.display_names().await?;
    let scope = page::SummaryScope {
        coverage: page::coverage(&filter, &names),
        link_query: query.filter_link_query(),
        versions,
        filter_query: page::filter_link_query(
            query.from.as_deref(),
            query.to.as_deref(),
            query.only_account.as_deref(),
        ),
    };
    let body = page::one_page_summary(
        &caller,
        survey.definition(),
        &report,
        &names,
        &scope,
        &emerging,
    );
    Ok(axum::response::Html(body).into_response())
}

/// The emerging topics the results pages show beside `report`: over the same answers, and
/// within each respondent's role when the survey asks for it.
fn emerging_request(
    definition: &rapport_scoring::SurveyDefinition,
    report: &ReportRequest,
) -> Result<ReportRequest, PageError> {
    let role = definition
        .role_question()
        .map(|question| question.id().to_string());
    Ok(ReportRequest {
        breakdowns: export::breakdowns(definition, role.as_deref())?,
        ..report.clone()
    })
}

/// The webhook page, for the admin only: a receiver's address and the delivery log are the
/// programme's settings, not results.
async fn webhooks(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, PageError> {
    webhook_page(&state, None).await
}

/// The webhook page, with the webhook just added and its secret when there is one.
async fn webhook_page(
    state: &AppState,
    added: Option<&webhooks::AddedWebhook>,
) -> Result<Response, PageError> {
    let webhooks = state.store.webhooks().await?;
    let deliveries = state.store.webhook_deliveries(100).await?;
    let audit = state.store.audit_entries("webhook", 50).await?;
    let surveys = state.store.list_surveys().await?;
    Ok(axum::response::Html(page::webhooks(&page::WebhookPage {
        webhooks: &webhooks,
        deliveries: &deliveries,
        audit: &audit,
        surveys: &surveys,
        added,
    }))
    .into_response())
}

/// Who is signed in, as the audit log names them: the token's label and role, never the
/// token or the session.
async fn actor(state: &AppState, headers: &HeaderMap) -> Result<String, PageError> {
    let label = match session_id(headers) {
        Some(id) => {
            state
                .store
                .session_token_label(&token_hash(id), crate::invitation::now_seconds())
                .await?
        }
        None => None,
    };
    Ok(match label {
        Some((Some(label), role)) => format!("dashboard: {label} ({role})"),
        Some((None, role)) => format!("dashboard: unlabelled {role} token"),
        None => "dashboard".to_owned(),
    })
}

/// The form that adds a webhook.
#[derive(Debug, Deserialize)]
struct WebhookForm {
    url: String,
    format: String,
    /// A checkbox: `response.received`.
    #[serde(default)]
    response_received: Option<String>,
    /// A checkbox: `close_the_loop.triggered`.
    #[serde(default)]
    close_the_loop: Option<String>,
    /// Empty for every survey.
    #[serde(default)]
    survey: Option<String>,
    #[serde(default)]
    label: Option<String>,
}

async fn add_webhook(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Form(form): Form<WebhookForm>,
) -> Result<Response, PageError> {
    let url = webhooks::WebhookUrl::new(form.url.trim())
        .map_err(|problem| ApiError::invalid_field("url", problem.to_string()))?;
    let format = webhooks::WebhookFormat::parse(&form.format)
        .map_err(|problem| ApiError::invalid_field("format", problem.to_string()))?;
    let events: Vec<webhooks::EventKind> = [
        (
            form.response_received.is_some(),
            webhooks::EventKind::ResponseReceived,
        ),
        (
            form.close_the_loop.is_some(),
            webhooks::EventKind::CloseTheLoopTriggered,
        ),
    ]
    .into_iter()
    .filter_map(|(chosen, event)| chosen.then_some(event))
    .collect();
    if events.is_empty() {
        return Err(ApiError::invalid_field("events", "choose at least one event").into());
    }
    let nonempty = |text: Option<String>| {
        text.map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
    };
    let added = webhooks::add_webhook(
        &state.store,
        webhooks::WebhookSpec {
            url,
            format,
            events,
            survey_id: nonempty(form.survey),
            label: nonempty(form.label),
        },
        &admin.actor,
    )
    .await?;
    // Shown in this answer only, never again: no redirect to a page that could show it,
    // and like every dashboard page it is `no-store`.
    webhook_page(&state, Some(&added)).await
}

async fn remove_webhook(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if !webhooks::remove_webhook(&state.store, &id, &admin.actor).await? {
        return Err(ApiError::NotFound(format!("no webhook {id:?}")).into());
    }
    Ok(Redirect::to("/dashboard/webhooks").into_response())
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    secure: Option<Extension<SecureCookies>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Ok(cross_origin_refusal());
    }
    let token = form.token.trim();
    let caller = if cookie_safe(token) {
        caller_for_token(&state.store, token).await?
    } else {
        None
    };
    if caller.is_none() {
        let mut response = page::login(Some(
            "That token is not valid. Check that you copied all of it.",
        ))
        .into_response();
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(response);
    }
    // The cookie holds a random id that stands for the token; the token itself never
    // leaves the form it was typed into.
    let id = new_session_id()?;
    let now = crate::invitation::now_seconds();
    state
        .store
        .add_dashboard_session(
            &token_hash(&id),
            &token_hash(token),
            now + i64::from(SESSION_SECONDS),
            now,
        )
        .await?;
    let secure = secure.map(|Extension(secure)| secure).unwrap_or_default();
    let cookie = session_cookie(&id, SESSION_SECONDS, secure);
    let mut response = Redirect::to("/dashboard").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|error| anyhow::anyhow!("session cookie: {error}"))?,
    );
    Ok(response)
}

async fn logout(
    State(state): State<Arc<AppState>>,
    secure: Option<Extension<SecureCookies>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Ok(cross_origin_refusal());
    }
    // The session ends on the server: a copy of the cookie signs nobody in afterwards.
    if let Some(id) = session_id(&headers) {
        state
            .store
            .remove_dashboard_session(&token_hash(id))
            .await?;
    }
    let mut response = Redirect::to("/dashboard").into_response();
    let secure = secure.map(|Extension(secure)| secure).unwrap_or_default();
    let cleared = session_cookie("", 0, secure);
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Query of the CSV download.
#[derive(Debug, Deserialize)]
struct CsvQuery {
    version: Option<u32>,
    since_version: Option<u32>,
}

async fn csv(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<CsvQuery>,
) -> Result<Response, PageError> {
    let Some(caller) = session(&state, &headers).await? else {
        return Ok(Redirect::to("/dashboard").into_response());
    };
    Ok(
        export::responses_csv(&state, &caller, &id, query.version, query.since_version)
            .await?
            .into_response(),
    )
}

/// What a follow-up form records: an account's confidential-feedback flag, or (for any other
/// `subject`, or none) an identified response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FormSubject {
    /// An account's confidential-feedback flag for one wave (`subject=flag`).
    Flag,
    /// Any other value: the form names a response.
    #[serde(other)]
    Response,
}

/// The follow-up form: one item (`response_id`) or one account's confidential-feedback
/// flag (`account` and `wave`).
#[derive(Debug, Deserialize)]
struct FollowUpForm {
    /// The identified response, for an item.
    #[serde(default)]
    response_id: Option<String>,
    /// `flag` for an account's confidential-feedback flag.
    #[serde(default)]
    subject: Option<FormSubject>,
    /// The account (of the item or the flag); the page returns to it.
    #[serde(default)]
    account: Option<String>,
    /// The page of the account's items the form was on; the page returns to it.
    #[serde(default)]
    page: Option<usize>,
    /// The flag's wave (empty for responses without one).
    #[serde(default)]
    wave: Option<String>,
    /// `open`, `in_progress` or `done`.
    status: String,
    /// A note; empty clears it.
    #[serde(default)]
    note: Option<String>,
    /// The results page's filter and versions, to return to the same figures.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    only_account: Option<String>,
    #[serde(default)]
    since_version: Option<u32>,
}

async fn record_follow_up(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FollowUpForm>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Ok(cross_origin_refusal());
    }
    let Some(caller) = session(&state, &headers).await? else {
        return Ok(Redirect::to("/dashboard").into_response());
    };
    let status = FollowUpStatus::parse(&form.status).ok_or_else(|| {
        ApiError::invalid_field("status", "status must be open, in_progress or done")
    })?;
    let update = FollowUpUpdate {
        status,
        note: form.note.clone(),
    };
    match (form.subject, &form.response_id, &form.account) {
        (Some(FormSubject::Flag), _, Some(account)) => {
            let wave = form.wave.as_deref().filter(|wave| !wave.is_empty());
            follow_up::set_account_follow_up(&state, &caller, &id, account, wave, &update).await?;
        }
        (_, Some(response_id), _) => {
            follow_up::set_response_follow_up(&state, &caller, &id, response_id, &update).await?;
        }
        _ => {
            return Err(ApiError::invalid_field(
                "response_id",
                "name the response or the account flag to update",
            )
            .into());
        }
    }
    let account = form
        .account
        .as_deref()
        .map(|account| format!("&account={}", html::url_encode(account)))
        .unwrap_or_default();
    let page = form
        .page
        .filter(|page| *page > 1)
        .map(|page| format!("&page={page}"))
        .unwrap_or_default();
    // The filter is written back from its typed fields, never copied as text.
    let kept = DashboardQuery {
        from: form.from.clone(),
        to: form.to.clone(),
        only_account: form.only_account.clone(),
        since_version: form.since_version,
        ..DashboardQuery::default()
    }
    .filter_link_query();
    Ok(Redirect::to(&format!(
        "/dashboard?survey={}{account}{page}{kept}&saved=1#follow-ups",
        html::url_encode(&id)
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://h:1"),
            ("host", "h:1")
        ])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://h:1"),
            ("host", "h:1")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "h:1")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "h:1")
        ])));
        assert!(same_origin(&headers(&[("host", "h:1")])));
    }

    /// `subject=flag` names an account's flag; any other subject, empty or absent, names a
    /// response, as the form always read it.
    #[tokio::test]
    async fn a_follow_up_form_names_a_flag_only_with_subject_flag() {
        use axum::extract::FromRequest;
        async fn subject(body: &'static str) -> Option<FormSubject> {
            let request = axum::http::Request::post("/")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body))
                .unwrap();
            let Form(form) = Form::<FollowUpForm>::from_request(request, &())
                .await
                .unwrap();
            form.subject
        }
        assert_eq!(
            subject("subject=flag&account=a&status=done").await,
            Some(FormSubject::Flag)
        );
        assert_eq!(
            subject("subject=item&response_id=r&status=done").await,
            Some(FormSubject::Response)
        );
        assert_eq!(
            subject("subject=&response_id=r&status=done").await,
            Some(FormSubject::Response)
        );
        assert_eq!(subject("response_id=r&status=done").await, None);
    }

    #[test]
    fn the_session_id_is_read_from_its_cookie_only() {
        assert_eq!(
            session_id(&headers(&[("cookie", "a=b; rapport_session=rps_abc; c=d")])),
            Some("rps_abc")
        );
        assert_eq!(session_id(&headers(&[("cookie", "other=rps_abc")])), None);
        assert_eq!(
            session_id(&headers(&[("cookie", "rapport_session=a\"b")])),
            None
        );
    }
}
