//! Hidden and merged labels, for the admin only: `GET /dashboard/labels` lists the rules and
//! who changed them, `POST /dashboard/labels` adds one and `POST /dashboard/labels/remove`
//! removes one, each recorded in the audit log with the token's label and role, in the same
//! transaction as the change (`store::label_rules`).
//!
//! A rule changes what every report shows, for every role; what a role may see is still
//! decided by `export::role_report`, which applies the rules after the release.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_scoring::report::{LabelAction, LabelField, LabelRule};
use serde::Deserialize;

use super::{Admin, PageError, page};
use crate::state::AppState;

/// The routes of the labels page.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/dashboard/labels", get(show).post(add))
        .route("/dashboard/labels/remove", post(remove))
}

/// The longest label a rule names, as long as any label a response may carry.
const MAX_LABEL: usize = 200;

async fn show(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, PageError> {
    labels_page(&state, None, StatusCode::OK).await
}

/// The page, with the problem of the form just sent.
async fn labels_page(
    state: &AppState,
    problem: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let rules = state.store.label_rules().await?;
    let audit = state.store.audit_entries("label rule", 50).await?;
    let body = page::labels(&page::LabelsPage {
        rules: &rules,
        audit: &audit,
        problem,
    });
    Ok((status, axum::response::Html(body)).into_response())
}

/// The form that adds a rule.
#[derive(Debug, Deserialize)]
struct RuleForm {
    field: String,
    value: String,
    /// `hide` or `merge`.
    action: String,
    #[serde(default)]
    merge_into: Option<String>,
}

/// The rule a form asks for, or what is wrong with it in plain words.
fn rule_of(form: &RuleForm) -> Result<LabelRule, &'static str> {
    let field = LabelField::parse(&form.field).ok_or("Choose account, matter or wave.")?;
    let value = form.value.trim();
    if value.is_empty() {
        return Err("Type the label to hide or merge.");
    }
    if value.chars().count() > MAX_LABEL {
        return Err("A label is at most 200 characters.");
    }
    let action = match form.action.as_str() {
        "hide" => LabelAction::Hide,
        "merge" => {
            let target = form.merge_into.as_deref().unwrap_or_default().trim();
            if target.is_empty() {
                return Err("Type the other label to count it as.");
            }
            if target == value {
                return Err("A label cannot be counted as itself.");
            }
            if target.chars().count() > MAX_LABEL {
                return Err("A label is at most 200 characters.");
            }
            LabelAction::MergeInto(target.to_owned())
        }
        _ => return Err("Choose whether to leave the label out or count it as another."),
    };
    Ok(LabelRule {
        field,
        value: value.to_owned(),
        action,
    })
}

async fn add(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Form(form): Form<RuleForm>,
) -> Result<Response, PageError> {
    let rule = match rule_of(&form) {
        Ok(rule) => rule,
        Err(problem) => {
            return labels_page(&state, Some(problem), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.add_label_rule(&rule, &admin.actor).await? {
        crate::store::RuleAdded::Added => Ok(Redirect::to("/dashboard/labels").into_response()),
        crate::store::RuleAdded::AlreadyRuled => {
            labels_page(
                &state,
                Some("That label is already hidden or merged. Undo that first to change it."),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// The form that removes a rule.
#[derive(Debug, Deserialize)]
struct RemoveForm {
    field: String,
    value: String,
}

async fn remove(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    let removed = match LabelField::parse(&form.field) {
        Some(field) => {
            state
                .store
                .remove_label_rule(field, &form.value, &admin.actor)
                .await?
        }
        None => false,
    };
    if !removed {
        return labels_page(
            &state,
            Some("That label was not hidden or merged."),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    Ok(Redirect::to("/dashboard/labels").into_response())
}
