//! The "People and access" page: `GET /dashboard/access` lists the API tokens (for the
//! admin only), `POST /dashboard/access/tokens` makes one and shows it once, and
//! `POST /dashboard/access/revoke` revokes one. Every change goes through
//! [`crate::access`], which records who made it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router};
use serde::Deserialize;

use super::html::sentence;
use super::page::{self, AccessField, AccessPage};
use super::{Admin, PageError};
use crate::access::{self, AccessError, NewToken};
use crate::auth::Role;
use crate::state::AppState;
use crate::store::TokenKey;

/// The routes of the access page, merged into the dashboard's.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/dashboard/access", axum::routing::get(show))
        .route("/dashboard/access/tokens", axum::routing::post(create))
        .route("/dashboard/access/revoke", axum::routing::post(revoke))
        .route("/dashboard/audit", axum::routing::get(audit))
}

/// The whole audit log, newest first: tokens, surveys, invitations and webhooks, each change
/// with who made it.
async fn audit(State(state): State<Arc<AppState>>, _: Admin) -> Result<Response, PageError> {
    let entries = state.store.audit_entries("", 500).await?;
    Ok(page::audit_log(&entries).into_response())
}

/// The page, with `input` above and beside the list.
async fn render(
    state: &AppState,
    input: &AccessPage<'_>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tokens = access::list_tokens(&state.store).await?;
    let audit = state.store.audit_entries("token", 50).await?;
    Ok((status, page::access(&tokens, &audit, input)).into_response())
}

/// Query of the access page.
#[derive(Debug, Deserialize)]
struct ShowQuery {
    /// The key of a token just revoked.
    revoked: Option<String>,
}

async fn show(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let revoked = query.revoked.as_deref().and_then(TokenKey::parse);
    let input = AccessPage {
        revoked: revoked.as_ref().map(TokenKey::as_str),
        ..AccessPage::default()
    };
    render(&state, &input, StatusCode::OK).await
}

/// The new-token form.
#[derive(Debug, Deserialize)]
struct NewTokenForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    accounts: String,
}

async fn create(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, PageError> {
    let sent = Some((
        form.role.as_str(),
        form.accounts.as_str(),
        form.label.as_str(),
    ));
    let Some(role) = Role::parse(form.role.trim()) else {
        let input = AccessPage {
            error: Some(("Choose what they may see.", AccessField::Role)),
            form: sent,
            ..AccessPage::default()
        };
        return render(&state, &input, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let request = NewToken {
        role,
        // A list typed with commas: the spaces around a comma separate, they are not part
        // of an account.
        accounts: form
            .accounts
            .split(',')
            .map(str::trim)
            .filter(|account| !account.is_empty())
            .map(str::to_owned)
            .collect(),
        label: form.label.clone(),
    };
    match access::create_token(&state.store, request, &admin.actor).await {
        Ok(issued) => {
            let input = AccessPage {
                issued: Some((issued.token.as_str(), form.label.trim())),
                ..AccessPage::default()
            };
            render(&state, &input, StatusCode::OK).await
        }
        Err(AccessError::Internal(error)) => Err(error.into()),
        Err(refusal) => {
            let field = match refusal {
                AccessError::LabelRequired | AccessError::BadLabel(_) => AccessField::Label,
                _ => AccessField::Accounts,
            };
            let message = sentence(&refusal.to_string());
            let input = AccessPage {
                error: Some((message.as_str(), field)),
                form: sent,
                ..AccessPage::default()
            };
            render(&state, &input, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The revoke button's form.
#[derive(Debug, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    key: String,
}

async fn revoke(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    let outcome = match TokenKey::parse(&form.key) {
        Some(key) => access::revoke_token(&state.store, &key, &admin.actor)
            .await
            .map(|_| key),
        None => Err(AccessError::NotFound(form.key.clone())),
    };
    match outcome {
        Ok(key) => Ok(Redirect::to(&format!("/dashboard/access?revoked={key}")).into_response()),
        Err(AccessError::Internal(error)) => Err(error.into()),
        Err(refusal) => {
            let message = sentence(&refusal.to_string());
            let input = AccessPage {
                error: Some((message.as_str(), AccessField::Revoke)),
                ..AccessPage::default()
            };
            render(&state, &input, StatusCode::CONFLICT).await
        }
    }
}
