//! Emerging topics as a caller may see them: the words and phrases newly frequent in the
//! strength and weakness texts, and the share of texts no topic of the survey catches
//! (`rapport_scoring::emerging`).
//!
//! - `GET /api/v1/surveys/{id}/emerging[?version=N]` ([`http`]), and the dashboard's
//!   section, both through [`role_emerging`].
//!
//! Texts are not in the report columns; they are read from the stored answers
//! ([`crate::store::Store::text_sources`]) only here. What a row may add is decided by the
//! same release as reports ([`rapport_scoring::disclosure::release`] over the same report
//! columns): for every role but admin, identified answers as they arrive and protected ones
//! only in published batches, an `account` caller only their accounts, and a row the report
//! columns do not hold yet counts for nobody. Example sentences follow what each role may
//! read today: the admin every text, an `account` caller the texts of identified answers of
//! its accounts (as in its CSV), a viewer none. This module must never import axum.

pub mod http;

use std::sync::Arc;

use rapport_scoring::disclosure::RowRelease;
use rapport_scoring::emerging::{
    Audience, EmergingOptions, EmergingTopics, TextRow, Verbatims, emerging_topics,
};
use rapport_scoring::ids::Locale;
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::export::ResultsError;
use crate::state::AppState;
use crate::store::CompiledSurvey;

/// Emerging topics as a caller may see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleEmerging {
    /// The caller's role.
    pub role: Role,
    /// Whether example sentences may be given to this role at all.
    pub verbatims_allowed: bool,
    /// The figures, wave by wave.
    #[schema(value_type = crate::schemas::EmergingTopics)]
    pub topics: EmergingTopics,
}

/// Which example sentences a role may read: the same texts it may read elsewhere.
pub fn verbatims_for(role: Role) -> Verbatims {
    match role {
        Role::Admin => Verbatims::All,
        Role::Account => Verbatims::IdentifiedOnly,
        Role::Viewer => Verbatims::None,
    }
}

/// The emerging topics of `survey` (one version) as `caller` may see them. The one place
/// their role restriction lives: the API and the dashboard both call it.
pub async fn role_emerging(
    state: &AppState,
    caller: &Caller,
    survey: &Arc<CompiledSurvey>,
) -> Result<RoleEmerging, ResultsError> {
    let definition = survey.definition();
    let columns = state.store.report_input(survey).await?;
    let sources = state
        .store
        .text_sources(definition.id.as_str(), definition.version)
        .await?;
    let (compiled, who) = (Arc::clone(survey), caller.clone());
    // Stemming every text is CPU work: off the async workers.
    let topics = tokio::task::spawn_blocking(move || {
        let definition = compiled.definition();
        let release = (who.role != Role::Admin).then(|| columns.release(definition.min_group_size));
        let rows: Vec<TextRow> = sources
            .into_iter()
            .filter(|source| who.sees_account(source.account.as_deref()))
            .filter_map(|source| {
                // A row the columns do not hold yet counts for nobody, as in the report.
                let row = columns.row_of(&source.response_id)?;
                let row_release = match &release {
                    None => RowRelease::Live,
                    Some(release) => release.row(row),
                };
                Some(TextRow::from_answers(
                    definition,
                    &source.answers,
                    source.confidentiality,
                    source.wave,
                    source.locale.and_then(|locale| Locale::new(locale).ok()),
                    row_release,
                ))
            })
            .collect();
        let audience = if who.role == Role::Admin {
            Audience::Programme
        } else {
            Audience::Released
        };
        emerging_topics(
            definition,
            &rows,
            &EmergingOptions::new(definition.min_group_size, audience, verbatims_for(who.role)),
        )
    })
    .await
    .map_err(|error| anyhow::anyhow!("computing emerging topics failed: {error}"))?;
    Ok(RoleEmerging {
        role: caller.role,
        verbatims_allowed: verbatims_for(caller.role) != Verbatims::None,
        topics,
    })
}
