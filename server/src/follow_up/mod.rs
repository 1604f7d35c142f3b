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
//!
//! These are services: they take typed parameters and return the list, the overview or a
//! [`FollowUpError`], never HTTP. [`http`] adapts them to the API, and the dashboard calls
//! them too. This module must never import axum.

pub mod http;

use std::collections::{BTreeMap, HashMap};

use rapport_scoring::SurveyDefinition;
use rapport_scoring::close_loop::{
    Reason, conversation_reasons, needs_conversation, strength_and_weakness,
};
use rapport_scoring::disclosure::{Release, RowRelease};
use rapport_scoring::score::RelationshipCategory;
use rapport_scoring::wire::{ConfidentialityChoice, Identity};
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Role};
use crate::export::{ResultsError, spanned_versions};
use crate::state::AppState;
use crate::store::{
    CompiledSurvey, ExportRow, FollowUpRow, FollowUpStatus, FollowUpSubject, ReportColumns,
};

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
    #[schema(value_type = Option<crate::schemas::Identity>)]
    pub respondent: Option<Identity>,
    /// Why it needs a conversation.
    #[schema(value_type = Vec<crate::schemas::Reason>)]
    pub reasons: Vec<Reason>,
    /// The 0–10 answer.
    pub nps: Option<u8>,
    /// Overall CRQ.
    pub crq: Option<f64>,
    /// Relationship category.
    #[schema(value_type = Option<crate::schemas::RelationshipCategory>)]
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

/// Why a close-the-loop request was refused.
#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    /// Viewers see aggregates only.
    #[error(
        "viewers see aggregate reports only; the close-the-loop list needs an admin or account token"
    )]
    ViewerRefused,
    /// No such survey, or no such version of it.
    #[error("no survey {0:?}")]
    NoSurvey(String),
    /// Versions that cannot be listed together (see `crate::export::ResultsError::Versions`).
    #[error("{0}")]
    Versions(String),
    /// A note longer than [`MAX_NOTE_CHARS`].
    #[error("a note has at most {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    /// The response is not on the caller's list, whatever the reason.
    #[error("no close-the-loop item {response_id:?} in survey {survey_id:?} for this token")]
    NotOnList {
        /// The survey.
        survey_id: String,
        /// The response asked for.
        response_id: String,
    },
    /// An account the caller may not see.
    #[error(
        "no close-the-loop flag for account {account:?} in survey {survey_id:?} for this token"
    )]
    OtherAccount {
        /// The survey.
        survey_id: String,
        /// The account asked for.
        account: String,
    },
    /// The database or the key failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

fn refuse_viewer(caller: &Caller) -> Result<(), FollowUpError> {
    if caller.role == Role::Viewer {
        return Err(FollowUpError::ViewerRefused);
    }
    Ok(())
}

/// How many items and flags have each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Not followed up yet.
    pub open: usize,
    /// Being followed up.
    pub in_progress: usize,
    /// Followed up.
    pub done: usize,
}

impl StatusCounts {
    /// Counts one more item or flag of `status`.
    fn add(&mut self, status: FollowUpStatus) {
        match status {
            FollowUpStatus::Open => self.open += 1,
            FollowUpStatus::InProgress => self.in_progress += 1,
            FollowUpStatus::Done => self.done += 1,
        }
    }
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
    /// Items and flags by status.
    pub by_status: StatusCounts,
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

/// Which close-the-loop list: a survey version and, optionally, one wave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListScope {
    /// Survey version; the latest when `None`.
    pub version: Option<u32>,
    /// The earliest version whose answers are listed too (each judged by its own version's
    /// rules); only `version` when `None`.
    pub since_version: Option<u32>,
    /// Only this wave.
    pub wave: Option<String>,
}

/// The list with the chosen accounts in full, and one summary line per account the caller
/// sees.
#[derive(Debug, Clone)]
pub struct FollowUpOverview {
    /// The list, with the chosen accounts only.
    pub list: FollowUpList,
    /// Every account the caller sees with something to discuss, named accounts first.
    pub summaries: Vec<AccountSummary>,
}

/// The close-the-loop list of a survey version, restricted to what `caller` may see: every
/// account, or only `account`.
pub async fn follow_up_list(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    scope: &ListScope,
    account: Option<&str>,
) -> Result<FollowUpList, FollowUpError> {
    let choice = match account {
        Some(account) => AccountChoice::Only(account.to_owned()),
        None => AccountChoice::All,
    };
    Ok(follow_up_overview(state, caller, survey_id, scope, &choice)
        .await?
        .list)
}

/// The close-the-loop list with only the chosen accounts in full, and a summary line for
/// every account the caller sees. Responses are sorted out by their compact observation;
/// only the items of the chosen accounts are read whole and have their identity opened, so
/// a dashboard over a large programme reads one account's rows, not every row.
pub async fn follow_up_overview(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    scope: &ListScope,
    choice: &AccountChoice,
) -> Result<FollowUpOverview, FollowUpError> {
    refuse_viewer(caller)?;
    let survey = state
        .survey_or(survey_id, scope.version, FollowUpError::NoSurvey)
        .await?;
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
    // `None` sorts first in a BTreeMap; responses without an account are moved last below.
    let mut summaries: BTreeMap<Option<String>, AccountSummary> = BTreeMap::new();
    let mut identified: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    // The versions listed, oldest first, as the report with the same `since_version` counts
    // them: a new version (a reworded title) does not take the conversations still to have
    // off the list.
    let versions = spanned_versions(&state.store, &survey, scope.since_version)
        .await
        .map_err(|error| match error {
            ResultsError::Failed(error) => FollowUpError::Failed(error),
            other => FollowUpError::Versions(other.to_string()),
        })?;
    for version in &versions {
        // The rows as reports read them, kept in memory; only the few listed are read in
        // full. An account caller sees a protected answer's flag only once its batch (of
        // its own version) is published, and under the wave of the answer that completed
        // the batch, so that every flag they see stands for whole batches (see
        // `rapport_scoring::disclosure`).
        let columns = state.store.report_input(version).await?;
        let release = (caller.role != Role::Admin)
            .then(|| columns.release(version.definition().min_group_size));
        list_rows(
            caller,
            scope,
            version,
            &columns,
            release.as_deref(),
            &state_of,
            &mut summaries,
            &mut identified,
        );
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
        // Each answer is read by the rules and questions of the version it answered.
        let Some(answered) = versions
            .iter()
            .find(|version| version.definition().version == row.survey_version)
        else {
            continue;
        };
        let reasons = conversation_reasons(answered.scorer(), &row.answers);
        let Some(entry) = accounts.get_mut(&row.account) else {
            continue;
        };
        entry.items.push(follow_up_item(
            state,
            answered.definition(),
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
        wave: scope.wave.clone(),
        accounts,
    };
    Ok(FollowUpOverview { list, summaries })
}

/// Sorts the rows of one version into the summaries and the identified items, for
/// [`follow_up_overview`].
#[allow(clippy::too_many_arguments)]
fn list_rows(
    caller: &Caller,
    scope: &ListScope,
    survey: &CompiledSurvey,
    columns: &ReportColumns,
    release: Option<&Release>,
    state_of: &impl Fn(&FollowUpSubject) -> FollowUpState,
    summaries: &mut BTreeMap<Option<String>, AccountSummary>,
    identified: &mut BTreeMap<Option<String>, Vec<String>>,
) {
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
            || (scope.wave.is_some() && wave != scope.wave.as_deref())
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
                by_status: StatusCounts::default(),
            });
        if observation.confidentiality != ConfidentialityChoice::Identified {
            if !summary.flagged_waves.contains(&wave) {
                let subject = FollowUpSubject::Account {
                    account: account.clone().unwrap_or_default(),
                    wave: wave.clone().unwrap_or_default(),
                };
                summary.by_status.add(state_of(&subject).status);
                summary.flagged_waves.push(wave);
            }
            continue;
        }
        let response_id = columns.response_id(row);
        summary.items += 1;
        summary
            .by_status
            .add(state_of(&FollowUpSubject::Response(response_id.clone())).status);
        identified.entry(account).or_default().push(response_id);
    }
}

fn follow_up_item(
    state: &AppState,
    definition: &SurveyDefinition,
    row: ExportRow,
    reasons: Vec<Reason>,
    state_of: impl Fn(&FollowUpSubject) -> FollowUpState,
) -> Result<FollowUpItem, FollowUpError> {
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

fn checked_note(update: &FollowUpUpdate) -> Result<Option<&str>, FollowUpError> {
    let note = update
        .note
        .as_deref()
        .map(str::trim)
        .filter(|note| !note.is_empty());
    if note.is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS) {
        return Err(FollowUpError::NoteTooLong);
    }
    Ok(note)
}

/// Records the follow-up status of one identified response on the caller's list. Anything
/// not on that list (unknown, confidential, anonymous, another account's, needing no
/// conversation) gets the same refusal, [`FollowUpError::NotOnList`], so the answer
/// reveals nothing about it.
pub async fn set_response_follow_up(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    response_id: &str,
    update: &FollowUpUpdate,
) -> Result<FollowUpState, FollowUpError> {
    refuse_viewer(caller)?;
    let note = checked_note(update)?;
    let survey = state
        .survey_or(survey_id, None, FollowUpError::NoSurvey)
        .await?;
    let row = state
        .store
        .export_row(survey.definition().id.as_str(), response_id)
        .await?
        .filter(|row| {
            row.confidentiality == ConfidentialityChoice::Identified
                && caller.sees_account(row.account.as_deref())
        });
    // The reasons are those of the version the response answered, which says which items are
    // about the contract experience and how low a rating of theirs must be.
    let on_list = match row {
        Some(row) => {
            let answered = state
                .survey_or(survey_id, Some(row.survey_version), FollowUpError::NoSurvey)
                .await?;
            !conversation_reasons(answered.scorer(), &row.answers).is_empty()
        }
        None => false,
    };
    if !on_list {
        return Err(FollowUpError::NotOnList {
            survey_id: survey_id.to_owned(),
            response_id: response_id.to_owned(),
        });
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
) -> Result<FollowUpState, FollowUpError> {
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
) -> Result<FollowUpState, FollowUpError> {
    refuse_viewer(caller)?;
    let note = checked_note(update)?;
    let survey = state
        .survey_or(survey_id, None, FollowUpError::NoSurvey)
        .await?;
    if !caller.sees_account(Some(account)) {
        return Err(FollowUpError::OtherAccount {
            survey_id: survey_id.to_owned(),
            account: account.to_owned(),
        });
    }
    let subject = FollowUpSubject::Account {
        account: account.to_owned(),
        wave: wave.unwrap_or_default().to_owned(),
    };
    record(state, survey.definition(), &subject, update.status, note).await
}
