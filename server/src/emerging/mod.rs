//! Emerging topics as a caller may see them: the words and phrases newly frequent in the
//! strength and weakness texts, and the share of texts no topic of the survey catches
//! (`rapport_scoring::emerging`).
//!
//! - `GET /api/v1/surveys/{id}/emerging[?version=N&since_version=M&from=D&to=D&account=A]`
//!   ([`http`]), and the dashboard's section, both through [`role_emerging`].
//!
//! Texts are not in the report columns; they are read from the stored answers
//! ([`crate::store::Store::text_sources`]) only here. Which rows count is decided by the
//! report's own rows ([`crate::export::visible_input`]): for every role but admin,
//! identified answers as they arrive and protected ones only in published batches, an
//! `account` caller only their accounts, then the label rules and the filter, each batch
//! whole; several versions carried into the latest by question id; and a row the report
//! columns do not hold yet counts for nobody. Example sentences follow what each role may
//! read today: the admin every text, an `account` caller the texts of identified answers of
//! its accounts (as in its CSV), a viewer none. This module must never import axum.

pub mod http;

use std::sync::Arc;

use rapport_scoring::emerging::{
    Audience, EmergingOptions, EmergingTopics, TextRow, Verbatims, emerging_topics,
};
use rapport_scoring::ids::Locale;
use rapport_scoring::{ReportInput, SegmentField};
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::export::{
    Narrowing, ReportRequest, ResultsError, refuse_foreign_account, releases, report_parts,
    visible_input,
};
use crate::store::{CompiledSurvey, NameKind, Store, TextSource};

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
    /// The same figures within each group of each breakdown asked for; left out when none
    /// was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<EmergingSegmentation>,
}

/// Emerging topics within each group of one field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmergingSegmentation {
    /// The field, as the report's breakdowns name it.
    pub field: String,
    /// Its groups, in value order.
    pub groups: Vec<EmergingGroup>,
}

/// Emerging topics within one group.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmergingGroup {
    /// The value.
    pub value: String,
    /// Its display name, for an account or a matter that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How many responses the group counts.
    pub n: u64,
    /// True when the group shows its count only, as the report's breakdown group would:
    /// below the minimum group size, or hidden beside one.
    pub suppressed: bool,
    /// The figures, wave by wave; null when suppressed.
    #[schema(value_type = Option<crate::schemas::EmergingTopics>, required = true)]
    pub topics: Option<EmergingTopics>,
}

/// Which example sentences a role may read: the same texts it may read elsewhere.
pub fn verbatims_for(role: Role) -> Verbatims {
    match role {
        Role::Admin => Verbatims::All,
        Role::Account => Verbatims::IdentifiedOnly,
        Role::Viewer => Verbatims::None,
    }
}

/// The emerging topics of `survey` as `caller` may see them, over the rows a report of the
/// same `request` counts ([`crate::export::visible_input`]): the same versions, the same
/// release, label rules, date range and account, each published batch whole or not at
/// all. The one place their role restriction lives: the API and the dashboard both call it.
///
/// Stemming every text is the costly part, so the result is kept (a few of them, in
/// memory) under everything it depends on, the rows of each version by their
/// [generation](crate::store::ReportColumns::generation) among them: a new answer makes
/// the next call compute it again.
pub async fn role_emerging(
    store: &Store,
    caller: &Caller,
    survey: &Arc<CompiledSurvey>,
    request: &ReportRequest,
) -> Result<RoleEmerging, ResultsError> {
    refuse_foreign_account(caller, &request.filter)?;
    let definition = survey.definition();
    let rules = store.label_rules().await?;
    let parts = report_parts(store, survey, request.since_version).await?;
    if !request.breakdowns.crossings.is_empty() {
        return Err(ResultsError::EmergingCrossing);
    }
    let fields = request.breakdowns.segments.clone();
    let key = format!(
        "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
        definition.id,
        definition.version,
        parts
            .iter()
            .map(|part| (part.survey.definition().version, part.columns.generation()))
            .collect::<Vec<_>>(),
        caller.role,
        caller.accounts,
        request.filter,
        rules,
        request.verified_only,
        fields,
    );
    if let Some(computed) = CACHE.get(&key) {
        return role_topics(store, caller, survey, computed).await;
    }
    let mut sources = Vec::with_capacity(parts.len());
    for part in &parts {
        let version = part.survey.definition();
        sources.push(
            store
                .text_sources(version.id.as_str(), version.version)
                .await?,
        );
    }
    let (compiled, who, verified_only, filter) = (
        Arc::clone(survey),
        caller.clone(),
        request.verified_only,
        request.filter.clone(),
    );
    let topics = tokio::task::spawn_blocking(move || {
        let definition = compiled.definition();
        let releases = releases(&who, &parts);
        let input = visible_input(
            definition,
            &who,
            &parts,
            &releases,
            verified_only,
            &Narrowing {
                rules: &rules,
                filter: &filter,
            },
        )?;
        // Each version's texts by the row of its report columns; a text the columns do not
        // hold yet counts for nobody, as in the report.
        let by_row: Vec<Vec<Option<TextSource>>> = parts
            .iter()
            .zip(sources)
            .map(|(part, sources)| {
                let mut by_row: Vec<Option<TextSource>> = vec![None; part.columns.len()];
                for source in sources {
                    if let Some(row) = part.columns.row_of(&source.response_id) {
                        by_row[row] = Some(source);
                    }
                }
                by_row
            })
            .collect();
        let audience = if who.role == Role::Admin {
            Audience::Programme
        } else {
            Audience::Released
        };
        let options =
            EmergingOptions::new(definition.min_group_size, audience, verbatims_for(who.role));
        let topics_of = |input: &ReportInput| {
            let rows: Vec<TextRow> = (0..input.len())
                .filter_map(|row| {
                    let from = input.source_row(row);
                    let source = by_row.get(from.part)?.get(from.row)?.as_ref()?;
                    Some(TextRow::from_answers(
                        definition,
                        &source.answers,
                        source.confidentiality,
                        // The wave as the report groups it: after the label rules' merges.
                        input.wave(row).map(str::to_owned),
                        source
                            .locale
                            .as_deref()
                            .and_then(|locale| Locale::new(locale).ok()),
                        input.row_release(row),
                    ))
                })
                .collect();
            emerging_topics(definition, &rows, &options)
        };
        let segments = fields
            .iter()
            .map(|field| EmergingSegmentation {
                field: field.name().to_owned(),
                // Each group counted and hidden as the report's breakdown by the same field.
                groups: input
                    .split_by(field, definition.min_group_size)
                    .into_iter()
                    .map(|group| EmergingGroup {
                        topics: (!group.hidden).then(|| topics_of(&group.rows)),
                        value: group.value,
                        label: None,
                        n: group.n,
                        suppressed: group.hidden,
                    })
                    .collect(),
            })
            .collect();
        Ok::<_, ResultsError>(Computed {
            topics: topics_of(&input),
            segments,
        })
    })
    .await
    .map_err(|error| anyhow::anyhow!("computing emerging topics failed: {error}"))??;
    let computed = Arc::new(topics);
    CACHE.put(key, Arc::clone(&computed));
    role_topics(store, caller, survey, computed).await
}

/// What [`role_emerging`] computes, and keeps.
#[derive(Debug, Clone)]
struct Computed {
    topics: EmergingTopics,
    segments: Vec<EmergingSegmentation>,
}

/// The computed figures as the caller receives them, groups of accounts and matters with
/// their display names.
async fn role_topics(
    store: &Store,
    caller: &Caller,
    survey: &CompiledSurvey,
    computed: Arc<Computed>,
) -> Result<RoleEmerging, ResultsError> {
    let Computed {
        topics,
        mut segments,
    } = Arc::unwrap_or_clone(computed);
    if !segments.is_empty() {
        let names = store.display_names().await?;
        for segmentation in &mut segments {
            let kind = match SegmentField::parse(survey.definition(), &segmentation.field) {
                Ok(SegmentField::Account) => Some(NameKind::Account),
                Ok(SegmentField::Matter) => Some(NameKind::Matter),
                _ => None,
            };
            if let Some(kind) = kind {
                for group in &mut segmentation.groups {
                    group.label = names.of(kind, &group.value).map(str::to_owned);
                }
            }
        }
    }
    Ok(RoleEmerging {
        role: caller.role,
        verbatims_allowed: verbatims_for(caller.role) != Verbatims::None,
        topics,
        segments,
    })
}

/// Emerging topics computed lately, each under the key of everything it was computed from.
struct Kept {
    entries: std::sync::Mutex<std::collections::VecDeque<(String, Arc<Computed>)>>,
}

/// How many results are kept: a few surveys and roles.
const KEPT: usize = 16;

static CACHE: Kept = Kept {
    entries: std::sync::Mutex::new(std::collections::VecDeque::new()),
};

impl Kept {
    fn get(&self, key: &str) -> Option<Arc<Computed>> {
        let entries = self.entries.lock().ok()?;
        entries
            .iter()
            .find(|(held, _)| held == key)
            .map(|(_, topics)| Arc::clone(topics))
    }

    fn put(&self, key: String, topics: Arc<Computed>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(held, _)| *held != key);
            if entries.len() == KEPT {
                entries.pop_front();
            }
            entries.push_back((key, topics));
        }
    }
}
