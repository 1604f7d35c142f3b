//! Closing the loop: per account, the responses that need a conversation, and whether each
//! was followed up.
//!
//! - `GET /api/v1/surveys/{id}/follow-ups[?version=N&wave=W]`: the list.
//! - `PUT /api/v1/surveys/{id}/follow-ups/responses/{response_id}`: the status of one item.
//! - `PUT /api/v1/surveys/{id}/follow-ups/accounts/{account}[?wave=W]`: the status of an
//!   account's flag for its confidential feedback.
//!
//! Which responses need a conversation is `scoring::close_loop`'s rule. Only identified
//! responses appear as items, with the respondent, reasons and what they said. Confidential
//! and anonymous responses that need a conversation appear only as a flag on their account
//! (one per wave): no count, no text, no reason, for every role, so the list can never
//! point at who said what. For an `account` caller, such a flag is raised only by answers
//! of published batches (`rapport_scoring::disclosure`), under the wave of the answer that
//! completed the batch: one confidential respondent alone never raises it. Admins see every account; `account` callers their own; viewers,
//! who see aggregates only, are refused.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use rapport_scoring::SurveyDefinition;
use rapport_scoring::close_loop::{
    Reason, conversation_reasons, needs_conversation, strength_and_weakness,
};
use rapport_scoring::disclosure::RowRelease;
use rapport_scoring::score::RelationshipCategory;
use rapport_scoring::wire::{ConfidentialityChoice, Identity};
use serde::{Deserialize, Serialize};

use crate::api::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorBody};
use crate::export::definition;
use crate::store::{ExportRow, FollowUpRow, FollowUpStatus, FollowUpSubject};

/// The longest follow-up note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The close-the-loop list of one survey version, as the caller may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUpList {
    /// Survey id.
    pub survey: String,
    /// Survey version.
    pub version: u32,
    /// The wave asked for, if any.
    pub wave: Option<String>,
    /// Accounts with something to discuss, by account name; responses without an account
    /// come last, under `null` (admins only).
    pub accounts: Vec<AccountFollowUps>,
}

/// What one account's conversation should cover.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountFollowUps {
    /// The account.
    pub account: Option<String>,
    /// Identified responses that need a conversation, oldest first.
    pub items: Vec<FollowUpItem>,
    /// One flag per wave in which confidential or anonymous feedback of this account needs
    /// a conversation. It says only that.
    pub confidential_feedback: Vec<AccountFlag>,
}

/// An identified response that needs a conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUpItem {
    /// Response id.
    pub response_id: String,
    /// When the respondent submitted it.
    pub submitted_at: String,
    /// Matter.
    pub matter: Option<String>,
    /// Wave.
    pub wave: Option<String>,
    /// Who answered (they waived confidentiality).
    #[schema(value_type = Option<crate::openapi::scoring::Identity>)]
    pub respondent: Option<Identity>,
    /// Why it needs a conversation.
    #[schema(value_type = Vec<crate::openapi::scoring::Reason>)]
    pub reasons: Vec<Reason>,
    /// The 0–10 answer.
    pub nps: Option<u8>,
    /// Overall CRQ.
    pub crq: Option<f64>,
    /// Relationship category.
    #[schema(value_type = Option<crate::openapi::scoring::RelationshipCategory>)]
    pub relationship: Option<RelationshipCategory>,
    /// Their greatest strength, in their words.
    pub strength: Option<String>,
    /// Their greatest weakness, in their words.
    pub weakness: Option<String>,
    /// Whether it was followed up.
    pub follow_up: FollowUpState,
}

/// An account's flag for one wave's confidential feedback.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountFlag {
    /// The wave (`null` for responses without one).
    pub wave: Option<String>,
    /// Whether it was followed up.
    pub follow_up: FollowUpState,
}

/// The follow-up status of an item.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct FollowUpState {
    /// The status; `open` until someone records another.
    pub status: FollowUpStatus,
    /// What the person who followed up wrote.
    pub note: Option<String>,
    /// When it was last changed; `null` while never changed.
    pub updated_at: Option<String>,
}

impl From<&FollowUpRow> for FollowUpState {
    fn from(row: &FollowUpRow) -> Self {
        FollowUpState {
            status: row.status,
            note: row.note.clone(),
            updated_at: Some(row.updated_at.clone()),
        }
    }
}

/// Query of the list and of an account flag's update.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// Survey version; the latest by default.
    pub version: Option<u32>,
    /// Only this wave.
    pub wave: Option<String>,
    /// Only this account.
    pub account: Option<String>,
}

/// Query of an account flag's update: which wave's flag.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlagQuery {
    /// The wave of the flag; none for responses without a wave.
    pub wave: Option<String>,
}

/// Body of a status update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpUpdate {
    /// The new status.
    pub status: FollowUpStatus,
    /// A note; replaces the earlier one. Absent or empty clears it.
    #[serde(default)]
    pub note: Option<String>,
}

fn refuse_viewer(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Viewer {
        return Err(ApiError::Forbidden("viewers see aggregate reports only; the close-the-loop list needs an admin or account token".to_owned()));
    }
    Ok(())
}

/// One account's line in the overview: how much there is to discuss, without the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// The account.
    pub account: Option<String>,
    /// Identified responses that need a conversation.
    pub items: usize,
    /// Waves whose confidential feedback is flagged, in wave order.
    pub flagged_waves: Vec<Option<String>>,
    /// Items and flags by status: open, in progress, done.
    pub by_status: [usize; 3],
}

/// Which accounts a list holds in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChoice {
    /// Every account the caller sees.
    All,
    /// Only this one.
    Only(String),
    /// This one if it has something to discuss, or else the first that has (named accounts
    /// first): what a page showing one account at a time opens.
    Prefer(Option<String>),
}

/// The close-the-loop list of a survey version, restricted to what `caller` may see.
pub async fn follow_up_list(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    query: &FollowUpQuery,
) -> Result<FollowUpList, ApiError> {
    let choice = match &query.account {
        Some(account) => AccountChoice::Only(account.clone()),
        None => AccountChoice::All,
    };
    Ok(follow_up_overview(state, caller, survey_id, query, &choice)
        .await?
        .0)
}

/// The close-the-loop list with only the chosen accounts in full, and a summary line for
/// every account the caller sees. Responses are sorted out by their compact observation;
/// only the items of the chosen accounts are read whole and have their identity opened, so
/// a dashboard over a large programme reads one account's rows, not every row.
pub async fn follow_up_overview(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    query: &FollowUpQuery,
    choice: &AccountChoice,
) -> Result<(FollowUpList, Vec<AccountSummary>), ApiError> {
    refuse_viewer(caller)?;
    let survey = definition(state, survey_id, query.version).await?;
    let statuses: HashMap<FollowUpSubject, FollowUpRow> = state
        .store
        .follow_ups(survey.definition().id.as_str())
        .await?
        .into_iter()
        .map(|row| (row.subject.clone(), row))
        .collect();
    let state_of = |subject: &FollowUpSubject| {
        statuses
            .get(subject)
            .map(FollowUpState::from)
            .unwrap_or_default()
    };
    let status_idx = |subject: &FollowUpSubject| match state_of(subject).status {
        FollowUpStatus::Open => 0,
        FollowUpStatus::InProgress => 1,
        FollowUpStatus::Done => 2,
    };
    // `None` sorts first in a BTreeMap; responses without an account are moved last below.
    let mut summaries: BTreeMap<Option<String>, AccountSummary> = BTreeMap::new();
    let mut identified: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    // The rows as reports read them, kept in memory; only the few listed are read in full.
    let columns = state.store.report_input(&survey).await?;
    // An account caller sees a protected answer's flag only once its batch is published,
    // and under the wave of the answer that completed the batch, so that every flag they
    // see stands for whole batches (see `rapport_scoring::disclosure`).
    let release =
        (caller.role != Role::Admin).then(|| columns.release(survey.definition().min_group_size));
    let input = columns.input();
    for row in 0..input.len() {
        let (account, observation) = (input.account(row), input.observation(row));
        let wave = match &release {
            None => input.wave(row),
            Some(release) => match release.row(row) {
                RowRelease::Live => input.wave(row),
                RowRelease::Published(batch) => input.wave(release.batch_last_row(batch)),
                RowRelease::Waiting | RowRelease::Unverified => continue,
            },
        };
        if !caller.sees_account(account)
            || (query.wave.is_some() && wave != query.wave.as_deref())
            || !needs_conversation(survey.scorer(), observation)
        {
            continue;
        }
        let (account, wave) = (account.map(str::to_owned), wave.map(str::to_owned));
        let summary = summaries
            .entry(account.clone())
            .or_insert_with(|| AccountSummary {
                account: account.clone(),
                items: 0,
                flagged_waves: Vec::new(),
                by_status: [0; 3],
            });
        if observation.confidentiality != ConfidentialityChoice::Identified {
            if !summary.flagged_waves.contains(&wave) {
                let subject = FollowUpSubject::Account {
                    account: account.clone().unwrap_or_default(),
                    wave: wave.clone().unwrap_or_default(),
                };
                summary.by_status[status_idx(&subject)] += 1;
                summary.flagged_waves.push(wave);
            }
            continue;
        }
        let response_id = columns.response_id(row);
        summary.items += 1;
        summary.by_status[status_idx(&FollowUpSubject::Response(response_id.clone()))] += 1;
        identified.entry(account).or_default().push(response_id);
    }
    let first_account = summaries
        .keys()
        .find(|account| account.is_some())
        .or_else(|| summaries.keys().next())
        .cloned();
    let chosen = |account: &Option<String>| match choice {
        AccountChoice::All => true,
        AccountChoice::Only(only) => account.as_ref() == Some(only),
        AccountChoice::Prefer(preferred) if summaries.contains_key(preferred) => {
            account == preferred
        }
        AccountChoice::Prefer(_) => first_account.as_ref() == Some(account),
    };
    // Items in the order the responses were received, account by account.
    let wanted: Vec<String> = identified
        .into_iter()
        .filter(|(account, _)| chosen(account))
        .flat_map(|(_, ids)| ids)
        .collect();
    let mut rows: HashMap<String, ExportRow> = state
        .store
        .export_rows_by_id(
            survey.definition().id.as_str(),
            &wanted.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await?
        .into_iter()
        .map(|row| (row.response_id.clone(), row))
        .collect();
    let mut accounts: BTreeMap<Option<String>, AccountFollowUps> = BTreeMap::new();
    let chosen: Vec<Option<String>> = summaries
        .keys()
        .filter(|account| chosen(account))
        .cloned()
        .collect();
    for summary in summaries.values_mut() {
        summary.flagged_waves.sort();
        if chosen.contains(&summary.account) {
            let confidential_feedback = summary
                .flagged_waves
                .iter()
                .map(|wave| AccountFlag {
                    wave: wave.clone(),
                    follow_up: state_of(&FollowUpSubject::Account {
                        account: summary.account.clone().unwrap_or_default(),
                        wave: wave.clone().unwrap_or_default(),
                    }),
                })
                .collect();
            accounts.insert(
                summary.account.clone(),
                AccountFollowUps {
                    account: summary.account.clone(),
                    items: Vec::new(),
                    confidential_feedback,
                },
            );
        }
    }
    for response_id in wanted {
        let Some(row) = rows.remove(&response_id) else {
            continue;
        };
        let reasons = conversation_reasons(&row.score);
        let Some(entry) = accounts.get_mut(&row.account) else {
            continue;
        };
        entry.items.push(follow_up_item(
            state,
            survey.definition(),
            row,
            reasons,
            state_of,
        )?);
    }
    let mut accounts: Vec<AccountFollowUps> = accounts.into_values().collect();
    let without_account = usize::from(
        accounts
            .first()
            .is_some_and(|first| first.account.is_none()),
    );
    accounts.rotate_left(without_account);
    let mut summaries: Vec<AccountSummary> = summaries.into_values().collect();
    let without_account = usize::from(
        summaries
            .first()
            .is_some_and(|first| first.account.is_none()),
    );
    summaries.rotate_left(without_account);
    let list = FollowUpList {
        survey: survey.definition().id.to_string(),
        version: survey.definition().version,
        wave: query.wave.clone(),
        accounts,
    };
    Ok((list, summaries))
}

fn follow_up_item(
    state: &AppState,
    definition: &SurveyDefinition,
    row: ExportRow,
    reasons: Vec<Reason>,
    state_of: impl Fn(&FollowUpSubject) -> FollowUpState,
) -> Result<FollowUpItem, ApiError> {
    let respondent = row
        .sealed_identity
        .as_deref()
        .map(|sealed| state.identity_key.open(&row.response_id, sealed))
        .transpose()?;
    let (strength, weakness) = strength_and_weakness(definition, &row.answers);
    let follow_up = state_of(&FollowUpSubject::Response(row.response_id.clone()));
    Ok(FollowUpItem {
        submitted_at: row.submitted_at,
        matter: row.matter,
        wave: row.wave,
        respondent,
        reasons,
        nps: row.answers.nps.map(|answer| answer.get()),
        crq: row.score.crq,
        relationship: row.score.relationship,
        strength,
        weakness,
        follow_up,
        response_id: row.response_id,
    })
}

fn checked_note(update: &FollowUpUpdate) -> Result<Option<&str>, ApiError> {
    let note = update
        .note
        .as_deref()
        .map(str::trim)
        .filter(|note| !note.is_empty());
    if note.is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS) {
        return Err(ApiError::invalid_field(
            "note",
            format!("a note has at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(note)
}

/// Records the follow-up status of one identified response on the caller's list. Anything
/// not on that list (unknown, confidential, anonymous, another account's, needing no
/// conversation) gets the same 404, so the answer reveals nothing about it.
pub async fn set_response_follow_up(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    response_id: &str,
    update: &FollowUpUpdate,
) -> Result<FollowUpState, ApiError> {
    refuse_viewer(caller)?;
    let note = checked_note(update)?;
    let survey = definition(state, survey_id, None).await?;
    let on_list = state
        .store
        .export_row(survey.definition().id.as_str(), response_id)
        .await?
        .is_some_and(|row| {
            row.confidentiality == ConfidentialityChoice::Identified
                && caller.sees_account(row.account.as_deref())
                && !conversation_reasons(&row.score).is_empty()
        });
    if !on_list {
        return Err(ApiError::NotFound(format!(
            "no close-the-loop item {response_id:?} in survey {survey_id:?} for this token"
        )));
    }
    record(
        state,
        survey.definition(),
        &FollowUpSubject::Response(response_id.to_owned()),
        update.status,
        note,
    )
    .await
}

/// Stores a status and answers with what is now recorded.
async fn record(
    state: &AppState,
    definition: &SurveyDefinition,
    subject: &FollowUpSubject,
    status: FollowUpStatus,
    note: Option<&str>,
) -> Result<FollowUpState, ApiError> {
    let updated_at = state
        .store
        .set_follow_up(definition.id.as_str(), subject, status, note)
        .await?;
    Ok(FollowUpState {
        status,
        note: note.map(str::to_owned),
        updated_at: Some(updated_at),
    })
}

/// Records the follow-up status of an account's confidential-feedback flag for one wave.
pub async fn set_account_follow_up(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    account: &str,
    wave: Option<&str>,
    update: &FollowUpUpdate,
) -> Result<FollowUpState, ApiError> {
    refuse_viewer(caller)?;
    let note = checked_note(update)?;
    let survey = definition(state, survey_id, None).await?;
    if !caller.sees_account(Some(account)) {
        return Err(ApiError::NotFound(format!(
            "no close-the-loop flag for account {account:?} in survey {survey_id:?} for this token"
        )));
    }
    let subject = FollowUpSubject::Account {
        account: account.to_owned(),
        wave: wave.unwrap_or_default().to_owned(),
    };
    record(state, survey.definition(), &subject, update.status, note).await
}

/// `GET /api/v1/surveys/{id}/follow-ups`.
#[utoipa::path(
    get,
    path = "/api/v1/surveys/{id}/follow-ups",
    tag = "close the loop",
    params(("id" = String, Path, description = "Survey id."), FollowUpQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Per account the caller may see, the identified responses that need a conversation and the confidential-feedback flags.", body = FollowUpList),
        (status = 400, description = "The query is not well-formed.", content_type = "text/plain", body = String),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "No such survey or version.", body = ErrorBody),
    ),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<FollowUpQuery>,
) -> Result<Json<FollowUpList>, ApiError> {
    Ok(Json(follow_up_list(&state, &caller, &id, &query).await?))
}

/// `PUT /api/v1/surveys/{id}/follow-ups/responses/{response_id}`.
#[utoipa::path(
    put,
    path = "/api/v1/surveys/{id}/follow-ups/responses/{response_id}",
    tag = "close the loop",
    params(("id" = String, Path, description = "Survey id."), ("response_id" = String, Path, description = "The response on the caller's list.")),
    request_body = FollowUpUpdate,
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The status now recorded.", body = FollowUpState),
        (status = 400, description = "The body is not well-formed JSON.", body = ErrorBody),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "Not on the caller's list (whatever the reason: the answer is the same).", body = ErrorBody),
        (status = 422, description = "A bad status or a note over 2,000 characters; `details` names the field.", body = ErrorBody),
        (status = 503, description = "The database cannot take writes now; nothing was recorded.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn put_response(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((id, response_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<FollowUpState>, ApiError> {
    let update: FollowUpUpdate = crate::api::parse_json(&body)?;
    Ok(Json(
        set_response_follow_up(&state, &caller, &id, &response_id, &update).await?,
    ))
}

/// `PUT /api/v1/surveys/{id}/follow-ups/accounts/{account}[?wave=W]`.
#[utoipa::path(
    put,
    path = "/api/v1/surveys/{id}/follow-ups/accounts/{account}",
    tag = "close the loop",
    params(("id" = String, Path, description = "Survey id."), ("account" = String, Path, description = "The account whose flag this is."), FlagQuery),
    request_body = FollowUpUpdate,
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The status now recorded.", body = FollowUpState),
        (status = 400, description = "The body is not well-formed JSON.", body = ErrorBody),
        (status = 401, description = "No valid API token; the answer says nothing else.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "Viewers see aggregate reports only.", body = ErrorBody),
        (status = 404, description = "No such survey, or an account the caller may not see.", body = ErrorBody),
        (status = 422, description = "A bad status or a note over 2,000 characters; `details` names the field.", body = ErrorBody),
        (status = 503, description = "The database cannot take writes now; nothing was recorded.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn put_account(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path((id, account)): Path<(String, String)>,
    Query(query): Query<FlagQuery>,
    body: axum::body::Bytes,
) -> Result<Json<FollowUpState>, ApiError> {
    let update: FollowUpUpdate = crate::api::parse_json(&body)?;
    Ok(Json(
        set_account_follow_up(
            &state,
            &caller,
            &id,
            &account,
            query.wave.as_deref(),
            &update,
        )
        .await?,
    ))
}
