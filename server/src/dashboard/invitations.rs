//! The "Invitations" page: `GET /dashboard/invitations` shows a survey's invitations and
//! their states (admin only), `POST /dashboard/invitations/upload` makes invitations from a
//! file of contacts or a pasted list and answers with the file of links, and
//! `POST /dashboard/invitations/resend` replaces one link and answers with the new one.
//!
//! Links are secrets: they leave only in the body of the answer to the POST that made them,
//! a CSV download marked `no-store` like every dashboard answer, and never in a page or an
//! address. Every change goes through [`crate::invitations::bulk`], which records who made
//! it.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Router};
use serde::Deserialize;

use super::page::{self, InvitationsPage};
use super::{Admin, PageError, PublicUrl, SecureCookies};
use crate::error::ApiError;
use crate::invitation::parse_lifetime;
use crate::invitations::bulk::{
    self, BatchSettings, Fallbacks, IssuedLink, LineProblem, ResendError,
};
use crate::state::AppState;
use crate::store::SurveySummary;

/// How many invitations a page lists.
const PER_PAGE: usize = 50;

/// How long links work unless the form says otherwise.
const DEFAULT_LIFETIME: &str = "30d";

/// The routes of the invitations page, merged into the dashboard's.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/dashboard/invitations", axum::routing::get(show))
        .route("/dashboard/invitations/upload", axum::routing::post(upload))
        .route("/dashboard/invitations/resend", axum::routing::post(resend))
}

/// What the page shows besides the survey's invitations.
#[derive(Debug, Default)]
struct Extra<'a> {
    page: usize,
    problems: &'a [LineProblem],
    form: (&'a str, &'a str, &'a str),
}

/// The page of survey `survey_id` (the first survey when none is named).
async fn render(
    state: &AppState,
    survey_id: Option<&str>,
    extra: Extra<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let surveys = state.store.list_surveys().await?;
    let survey: &SurveySummary = match survey_id {
        Some(id) => surveys
            .iter()
            .find(|survey| survey.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("no survey {id:?}")))?,
        None => surveys
            .first()
            .ok_or_else(|| ApiError::NotFound("no survey has been added yet".to_owned()))?,
    };
    // A page number from the address is clamped, so that no offset can overflow.
    let page_number = extra.page.clamp(1, 1_000_000);
    let now = crate::invitation::now_seconds();
    let counts = state.store.invitation_state_counts(&survey.id, now).await?;
    // One more than a page is read, to know whether a next page exists.
    let mut rows = bulk::list_invitations(
        &state.store,
        &state.identity_key,
        &survey.id,
        PER_PAGE as i64 + 1,
        ((page_number - 1) * PER_PAGE) as i64,
    )
    .await?;
    let has_next = rows.len() > PER_PAGE;
    rows.truncate(PER_PAGE);
    let audit = state.store.audit_entries("invitation", 50).await?;
    let names = state.store.display_names().await?;
    let (contacts, firm, expires) = extra.form;
    let input = InvitationsPage {
        surveys: &surveys,
        survey,
        counts,
        rows: &rows,
        page: page_number,
        has_next,
        audit: &audit,
        names: &names,
        problems: extra.problems,
        form: (
            contacts,
            firm,
            if expires.is_empty() {
                DEFAULT_LIFETIME
            } else {
                expires
            },
        ),
    };
    Ok((status, page::invitations(&input)).into_response())
}

/// Query of the invitations page.
#[derive(Debug, Deserialize)]
struct ShowQuery {
    survey: Option<String>,
    page: Option<usize>,
}

async fn show(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let extra = Extra {
        page: query.page.unwrap_or(1),
        ..Extra::default()
    };
    render(&state, query.survey.as_deref(), extra, StatusCode::OK).await
}

/// The address links start with: `--public-url` when the server was given one, else the
/// address the admin's browser reached this server at.
fn base_url(
    headers: &HeaderMap,
    public_url: Option<Extension<PublicUrl>>,
    secure: Option<Extension<SecureCookies>>,
) -> Result<String, PageError> {
    if let Some(Extension(PublicUrl(url))) = public_url {
        return Ok(url);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
        })
        .ok_or_else(|| {
            ApiError::Conflict(
                "this server does not know its own address; start it with --public-url".to_owned(),
            )
        })?;
    let scheme = match secure {
        Some(Extension(SecureCookies(true))) => "https",
        _ => "http",
    };
    Ok(format!("{scheme}://{host}"))
}

/// A CSV file of links to download, named after the survey.
fn links_download(survey_id: &str, what: &str, links: &[IssuedLink]) -> Response {
    let safe_name: String = survey_id
        .chars()
        .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_')
        .collect();
    let disposition = format!("attachment; filename=\"{what}-{safe_name}.csv\"");
    let mut response = bulk::links_csv(links).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The upload form.
#[derive(Debug, Default, Deserialize)]
struct UploadForm {
    #[serde(default)]
    survey: String,
    #[serde(default)]
    contacts: String,
    #[serde(default)]
    firm: String,
    #[serde(default)]
    expires: String,
}

/// The upload form, sent as `multipart/form-data` by the page (so that a file of contacts
/// can come with it: its text takes the place of the pasted list) or as a plain form.
#[derive(Debug)]
struct Upload {
    form: UploadForm,
    /// Why the chosen file could not be read, when it could not.
    file_problem: Option<String>,
}

impl FromRequest<Arc<AppState>> for Upload {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, Response> {
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("multipart/form-data"));
        if !multipart {
            let Form(form) = Form::<UploadForm>::from_request(request, state)
                .await
                .map_err(IntoResponse::into_response)?;
            return Ok(Self {
                form,
                file_problem: None,
            });
        }
        let mut fields = Multipart::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut upload = Self {
            form: UploadForm::default(),
            file_problem: None,
        };
        let unreadable = |error: axum::extract::multipart::MultipartError| {
            (error.status(), error.body_text()).into_response()
        };
        while let Some(field) = fields.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(unreadable)?;
            if name == "file" {
                if bytes.is_empty() {
                    continue;
                }
                match contacts_file_text(&bytes) {
                    Ok(text) => upload.form.contacts = text,
                    Err(problem) => upload.file_problem = Some(problem.to_owned()),
                }
                continue;
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match name.as_str() {
                "survey" => upload.form.survey = text,
                // A chosen file takes the place of the pasted list, whichever comes first.
                "contacts" if upload.form.contacts.is_empty() => upload.form.contacts = text,
                "firm" => upload.form.firm = text,
                "expires" => upload.form.expires = text,
                _ => {}
            }
        }
        Ok(upload)
    }
}

/// The text of a contacts file as spreadsheets save it: UTF-8, with or without the byte
/// order mark that "CSV UTF-8" files start with.
fn contacts_file_text(bytes: &[u8]) -> Result<String, &'static str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        "the file is not UTF-8 text: save it from your spreadsheet as \"CSV UTF-8\" and choose it again"
    })
}

/// A problem with a form field rather than a line of the list.
fn field_problem(field: &str, problem: String) -> LineProblem {
    LineProblem {
        line: 0,
        field: field.to_owned(),
        problem,
    }
}

async fn upload(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    headers: HeaderMap,
    public_url: Option<Extension<PublicUrl>>,
    secure: Option<Extension<SecureCookies>>,
    Upload { form, file_problem }: Upload,
) -> Result<Response, PageError> {
    let Some(survey) = state.store.survey(&form.survey, None).await? else {
        return Err(ApiError::NotFound(format!("no survey {:?}", form.survey)).into());
    };
    let sent = (
        form.contacts.as_str(),
        form.firm.as_str(),
        form.expires.as_str(),
    );
    let refuse = |problems: Vec<LineProblem>| {
        let state = Arc::clone(&state);
        let survey_id = form.survey.clone();
        async move {
            let extra = Extra {
                page: 1,
                problems: &problems,
                form: sent,
            };
            render(
                &state,
                Some(&survey_id),
                extra,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    if let Some(problem) = file_problem {
        return refuse(vec![field_problem("file", problem)]).await;
    }
    if form.contacts.trim().is_empty() {
        return refuse(vec![field_problem(
            "contacts",
            "paste a list of contacts or choose a file of them".to_owned(),
        )])
        .await;
    }
    let lifetime = match parse_lifetime(form.expires.trim()) {
        Ok(seconds) if seconds > 0 => seconds,
        Ok(_) => {
            return refuse(vec![field_problem(
                "links work for",
                "must be longer than nothing, such as 30d".to_owned(),
            )])
            .await;
        }
        Err(error) => {
            return refuse(vec![field_problem("links work for", error.to_string())]).await;
        }
    };
    let firm = form.firm.trim();
    let firm = match firm {
        "" => None,
        firm => match rapport_scoring::validate::Label::new(firm) {
            Ok(label) => Some(String::from(label)),
            Err(problem) => {
                return refuse(vec![field_problem("firm", problem.to_string())]).await;
            }
        },
    };
    let contacts = match bulk::parse_contacts(&form.contacts, &Fallbacks::default()) {
        Ok(contacts) => contacts,
        Err(refused) => return refuse(refused.problems).await,
    };
    let base_url = base_url(&headers, public_url, secure)?;
    let settings = BatchSettings {
        survey: survey.definition(),
        firm,
        lifetime_seconds: lifetime,
        base_url: &base_url,
    };
    let links = bulk::make_invitations(
        &state.store,
        &state.identity_key,
        &settings,
        contacts,
        Some(&admin.actor),
    )
    .await?;
    Ok(links_download(&form.survey, "invitations", &links))
}

/// A resend button's form.
#[derive(Debug, Deserialize)]
struct ResendForm {
    #[serde(default)]
    survey: String,
    #[serde(default)]
    invitation: String,
    #[serde(default)]
    expires: String,
}

async fn resend(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    headers: HeaderMap,
    public_url: Option<Extension<PublicUrl>>,
    secure: Option<Extension<SecureCookies>>,
    Form(form): Form<ResendForm>,
) -> Result<Response, PageError> {
    let Some(survey) = state.store.survey(&form.survey, None).await? else {
        return Err(ApiError::NotFound(format!("no survey {:?}", form.survey)).into());
    };
    let expires = match form.expires.trim() {
        "" => DEFAULT_LIFETIME,
        expires => expires,
    };
    let lifetime = parse_lifetime(expires)
        .ok()
        .filter(|seconds| *seconds > 0)
        .ok_or_else(|| {
            ApiError::invalid_field("expires", format!("links cannot work for {expires:?}"))
        })?;
    let base_url = base_url(&headers, public_url, secure)?;
    let settings = BatchSettings {
        survey: survey.definition(),
        firm: None,
        lifetime_seconds: lifetime,
        base_url: &base_url,
    };
    match bulk::resend(
        &state.store,
        &state.identity_key,
        &settings,
        form.invitation.trim(),
        &admin.actor,
    )
    .await
    {
        Ok(link) => Ok(links_download(&form.survey, "new-link", &[link])),
        Err(ResendError::Internal(error)) => Err(error.into()),
        Err(refusal) => {
            let problems = [field_problem("resend", refusal.to_string())];
            let extra = Extra {
                page: 1,
                problems: &problems,
                ..Extra::default()
            };
            render(&state, Some(&form.survey), extra, StatusCode::CONFLICT).await
        }
    }
}
