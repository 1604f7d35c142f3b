//! The admin's survey pages: `GET /dashboard/surveys` lists the surveys, `POST
//! /dashboard/surveys` makes one from a template, `GET|POST /dashboard/surveys/{id}/edit`
//! edits its texts and settings into a new version, and `GET
//! /dashboard/surveys/{id}/preview` shows the real widget with that version, sending to
//! `POST /dashboard/preview/responses`, which stores nothing. Every rule is
//! `scoring::definition`'s, applied through [`crate::survey_editor`].

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use rapport_scoring::SurveyDefinition;
use serde::Deserialize;

use super::page::{self, EditorPage, SurveyListPage};
use super::{Admin, PageError, SecureCookies};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::SurveyChange;
use crate::survey_editor::{self, EditError, EditForm};

/// The editor's Content-Security-Policy: the dashboard's, and the preview frame.
const EDITOR_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The preview's: the widget's script and wasm from this server, framed only here.
const PREVIEW_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

/// The routes of the survey pages, merged into the dashboard's.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/dashboard/surveys", get(list).post(create))
        .route("/dashboard/surveys/{id}/edit", get(edit).post(save))
        .route("/dashboard/surveys/{id}/preview", get(preview))
        .route("/dashboard/preview/responses", post(preview_sink))
}

async fn list_page(
    state: &AppState,
    input: &SurveyListPage<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let surveys = state.store.list_surveys().await?;
    let audit = state.store.audit_entries("survey", 50).await?;
    Ok((status, page::survey_list(&surveys, &audit, input)).into_response())
}

async fn list(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, PageError> {
    list_page(&state, &SurveyListPage::default(), StatusCode::OK).await
}

/// The new-survey form.
#[derive(Debug, Deserialize)]
struct NewSurveyForm {
    #[serde(default)]
    template: String,
    #[serde(default)]
    id: String,
}

async fn create(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Form(form): Form<NewSurveyForm>,
) -> Result<Response, PageError> {
    let id = form.id.trim();
    let template = form.template.trim();
    let change = SurveyChange {
        actor: &admin.actor,
        template: Some(template),
    };
    let made = match survey_editor::from_template(template, id) {
        Ok(definition) => survey_editor::create(&state.store, &definition, change)
            .await
            .map(|_| definition),
        Err(error) => Err(error),
    };
    match made {
        Ok(definition) => {
            Ok(Redirect::to(&format!("/dashboard/surveys/{}/edit", definition.id)).into_response())
        }
        Err(error) => {
            let errors = [error];
            let input = SurveyListPage {
                errors: &errors,
                form: Some((form.template.as_str(), form.id.as_str())),
            };
            list_page(&state, &input, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// Query of the editor.
#[derive(Debug, Deserialize)]
struct EditQuery {
    /// The version just saved, to say so.
    saved: Option<u32>,
    /// Whether the save changed anything.
    changed: Option<bool>,
    /// A language to add a column for.
    add: Option<String>,
}

async fn latest(state: &AppState, id: &str) -> Result<SurveyDefinition, PageError> {
    Ok(state
        .store
        .survey(id, None)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no survey {id}")))?
        .definition()
        .clone())
}

/// The embed snippet for `definition`, for a page on another site.
fn snippet(
    state: &AppState,
    headers: &HeaderMap,
    secure: bool,
    definition: &SurveyDefinition,
) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("feedback.example.com");
    let server = format!("{}://{host}", if secure { "https" } else { "http" });
    let integrity = std::fs::read_to_string(state.widget_dir.join("sri.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|sri| {
            sri.get("rapport.js")
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        });
    let integrity = integrity.map_or_else(String::new, |integrity| {
        format!("\n        integrity=\"{integrity}\" crossorigin=\"anonymous\"")
    });
    let mut text = format!(
        "<script type=\"module\" src=\"{server}/widget/rapport.js\"{integrity}></script>\n\n<rapport-survey survey=\"{}\" account=\"ACCOUNT\" wave=\"WAVE\"",
        definition.id
    );
    if definition.require_signed_context {
        text.push_str(
            "\n    contact-name=\"NAME\" contact-email=\"EMAIL\" expires=\"UNIX-SECONDS\"\n    signature=\"HMAC-SHA256 SIGNATURE\"",
        );
        text.push_str("></rapport-survey>\n\n<!-- This survey accepts only answers your portal signs: fill in the signed-in client\n     and the signature your server computes (below). -->\n");
    } else {
        text.push_str("></rapport-survey>\n");
    }
    text
}

/// The portal's signing code, in Node and in Python, as `docs/signed-context` holds it
/// (tested there), followed by a call for survey `survey`.
fn signing_code(survey: &str) -> String {
    format!(
        "{node}\n// Where the page is made, for the client signed in:\nconst expires = Math.floor(Date.now() / 1000) + 3600;\nconst signature = signContext(process.env.RAPPORT_PORTAL_SECRET, {{\n  survey: '{survey}', account, matter, name, email, expires,\n}});\n\n\n{python}\n\n# Where the page is made, for the client signed in:\nimport os\nimport time\n\nexpires = int(time.time()) + 3600\nsignature = sign_context(os.environ[\"RAPPORT_PORTAL_SECRET\"], \"{survey}\", account, email, expires, matter, name)\n",
        node = include_str!("../../../docs/signed-context/sign.mjs").trim_end(),
        python = include_str!("../../../docs/signed-context/sign.py").trim_end(),
    )
}

/// What the editor says besides the definition it shows.
#[derive(Debug, Default)]
struct Feedback<'a> {
    /// A language being added.
    add: Option<&'a str>,
    /// Why the form was refused.
    errors: &'a [EditError],
    /// The version just saved, and whether anything had changed.
    saved: Option<(u32, bool)>,
    /// The new topic's name and keywords as typed, when it was refused.
    new_topic: (&'a str, &'a str),
}

fn editor_response(
    state: &AppState,
    headers: &HeaderMap,
    secure: bool,
    definition: &SurveyDefinition,
    shown: &SurveyDefinition,
    feedback: Feedback<'_>,
    status: StatusCode,
) -> Response {
    let Feedback {
        add,
        errors,
        saved,
        new_topic,
    } = feedback;
    let texts = survey_editor::text_fields(shown);
    let locales = survey_editor::locales(shown, add);
    let topics: Vec<(String, String, String)> = shown
        .topics
        .iter()
        .enumerate()
        .map(|(idx, topic)| {
            (
                format!("/topics/{idx}/keywords"),
                topic.id.to_string(),
                topic.keywords.join(", "),
            )
        })
        .collect();
    let confidentiality = serde_json::to_value(shown.confidentiality)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let snippet = snippet(state, headers, secure, definition);
    let signing = definition
        .require_signed_context
        .then(|| signing_code(definition.id.as_str()));
    let page = page::editor(&EditorPage {
        id: definition.id.as_str(),
        version: definition.version,
        texts: &texts,
        locales: &locales,
        confidentiality: &confidentiality,
        min_group_size: &shown.min_group_size.to_string(),
        allowed_origins: &shown.allowed_origins.join("\n"),
        topics: &topics,
        require_signed_context: shown.require_signed_context,
        signing: signing.as_deref(),
        new_topic,
        errors,
        saved,
        snippet: &snippet,
    });
    let mut response = (status, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EDITOR_POLICY),
    );
    response
}

async fn edit(
    State(state): State<Arc<AppState>>,
    _: Admin,
    secure: Option<Extension<SecureCookies>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Result<Response, PageError> {
    let secure = secure.is_some_and(|Extension(secure)| secure.0);
    let definition = latest(&state, &id).await?;
    let saved = query
        .saved
        .map(|version| (version, query.changed.unwrap_or(true)));
    Ok(editor_response(
        &state,
        &headers,
        secure,
        &definition,
        &definition,
        Feedback {
            add: query.add.as_deref(),
            saved,
            ..Feedback::default()
        },
        StatusCode::OK,
    ))
}

async fn save(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    secure: Option<Extension<SecureCookies>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let secure = secure.is_some_and(|Extension(secure)| secure.0);
    let definition = latest(&state, &id).await?;
    let edited = survey_editor::apply(&definition, &form);
    let saved = match edited {
        Ok(edited) => {
            let change = SurveyChange {
                actor: &admin.actor,
                template: None,
            };
            survey_editor::save(&state.store, &edited, change).await
        }
        Err(error) => Err(error),
    };
    match saved {
        Ok((version, changed)) => Ok(Redirect::to(&format!(
            "/dashboard/surveys/{id}/edit?saved={version}&changed={changed}"
        ))
        .into_response()),
        Err(error) => {
            // Shown as sent: the texts and settings of the form over the stored version, so
            // nothing typed is lost.
            let shown = survey_editor::as_typed(&definition, &form);
            // A refused new topic is not in what is shown: give back what was typed for it.
            let typed = |name: &str| {
                form.iter()
                    .find(|(field, _)| field == name)
                    .map_or("", |(_, value)| value.as_str())
            };
            let new_topic = if error.field.starts_with("new_topic_") {
                (typed("new_topic_name"), typed("new_topic_keywords"))
            } else {
                ("", "")
            };
            let errors = [error];
            Ok(editor_response(
                &state,
                &headers,
                secure,
                &definition,
                &shown,
                Feedback {
                    errors: &errors,
                    new_topic,
                    ..Feedback::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
        }
    }
}

/// Query of the preview.
#[derive(Debug, Deserialize)]
struct PreviewQuery {
    version: Option<u32>,
    locale: Option<String>,
}

async fn preview(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
    Query(query): Query<PreviewQuery>,
) -> Result<Response, PageError> {
    let survey = state
        .store
        .survey(&id, query.version)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no survey {id}")))?;
    let definition = survey.definition();
    let json = serde_json::to_string(definition).map_err(anyhow::Error::from)?;
    let locale = query
        .locale
        .filter(|locale| rapport_scoring::Locale::new(locale.clone()).is_ok())
        .unwrap_or_else(|| "en".to_owned());
    let mut response = page::survey_preview(&json, &locale, definition.id.as_str()).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_POLICY),
    );
    Ok(response)
}

/// Where the preview sends: nothing is stored, and the widget is told it arrived.
async fn preview_sink() -> StatusCode {
    StatusCode::NO_CONTENT
}
