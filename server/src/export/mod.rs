//! Reports and the CSV export, restricted by the caller's role.
//!
//! - `GET /api/v1/surveys/{id}/report[?by=FIELD&version=N]`: the aggregate report. An
//!   `account` caller gets it over their accounts only. For anyone but an admin, a report
//!   over fewer respondents than the minimum group size carries counts only.
//!
//!   For every role but admin, the report is computed over what
//!   [`rapport_scoring::disclosure::release`] lets them see: identified answers as they
//!   arrive, and confidential and anonymous answers only in published batches of at least
//!   the minimum group size, each batch counted whole or not at all in every figure. So no
//!   difference between two reports, and no total minus the groups shown, ever isolates
//!   fewer protected answers than that. This module must never compute a non-admin result
//!   from anything else.
//! - `GET /api/v1/surveys/{id}/responses.csv[?version=N&since_version=M]`: one row per
//!   response (of every version from `M` to `N`, as the report counts them). Admins get
//!   every row with identity; `account` callers get the identified responses of their
//!   accounts (confidential ones only ever reach them inside aggregates); viewers get 403.
//!
//! Every cell a person typed is guarded against spreadsheet formula injection.
//!
//! These are services: they take typed parameters (a survey version, its
//! [`SegmentField`]s, whether only verified answers count) and return [`RoleReport`],
//! [`CsvExport`] or [`ResultsError`], never HTTP. [`http`] adapts them to the API, and the
//! dashboard calls them too. This module must never import axum.

pub mod http;

use std::borrow::Cow;
use std::sync::Arc;

use rapport_scoring::completion::{Completion, completion};
use rapport_scoring::definition::{Question, SurveyDefinition};
use rapport_scoring::disclosure::{Release, RowRelease};
use rapport_scoring::report::{
    LabelRule, ReceivedDay, ReportFilter, SpanError, shares_question, span_versions,
};
use rapport_scoring::wire::ConfidentialityChoice;
use rapport_scoring::{Report, ReportInput, ReportOptions, SegmentField, report_of};
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::state::AppState;
use crate::store::{
    CompiledSurvey, DisplayNames, NameKind, ReportColumns, Store, StoredInvitation,
};

/// A report as a caller may see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleReport {
    /// The caller's role.
    pub role: Role,
    /// The accounts the report covers, for an `account` caller.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Responses the report covers.
    pub n: u64,
    /// True when the whole report is below the minimum group size: counts only.
    pub suppressed: bool,
    /// For every role but admin: confidential and anonymous answers reach this report only
    /// in published batches of this many verified answers, each counted whole, so fewer than
    /// this many may be waiting for the next batch. Absent for admins, who see every answer
    /// as it arrives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected_batch_size: Option<u32>,
    /// For every role but admin: when the latest batch of confidential and anonymous
    /// answers in this report was published (the time its last answer was received);
    /// absent while none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// The report; null when suppressed.
    #[schema(value_type = Option<crate::schemas::Report>, required = true)]
    pub report: Option<Report>,
    /// Completion rates of the survey's recorded invitations (all versions), over the
    /// caller's accounts; absent when no invitation was recorded. An `account` caller gets
    /// no breakdown by the previous wave's choice: beside the identified rows they see, it
    /// would tell who chose confidentiality.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::schemas::Completion>)]
    pub completion: Option<Completion>,
}

/// Completion rates of the invitations `caller` may see.
async fn completion_for(
    store: &Store,
    caller: &Caller,
    definition: &SurveyDefinition,
) -> Result<Option<Completion>, ResultsError> {
    let recorded = store.invitation_records(definition.id.as_str()).await?;
    let stored: Vec<&StoredInvitation> = recorded
        .iter()
        .filter(|stored| caller.sees_account(Some(&stored.record.account)))
        .collect();
    if stored.is_empty() {
        return Ok(None);
    }
    // For every role but admin, an invitation counts as answered only once its answer can
    // be seen: a protected answer waiting for its batch would otherwise show as one more
    // answered invitation, beside a report that did not move.
    let mut visibility = AnswerVisibility::default();
    let mut invitations = Vec::with_capacity(stored.len());
    for stored in stored {
        let mut record = stored.record.clone();
        if caller.role != Role::Admin
            && let Some((response_id, version)) = &stored.answer
            && !visibility
                .visible(store, definition, response_id, *version)
                .await?
        {
            record.answered = None;
        }
        invitations.push(record);
    }
    let mut completion = completion(&invitations, definition.min_group_size);
    if caller.role != Role::Admin {
        // Completion by the choice made in the wave before follows single respondents
        // between waves, like the wave comparison: for the programme team alone.
        completion.by_previous_choice.clear();
    }
    Ok(Some(completion))
}

/// Whether answers can be seen by roles other than admin, looked up in the release of each
/// survey version's report columns, each read once.
#[derive(Default)]
struct AnswerVisibility {
    versions: std::collections::HashMap<u32, (Arc<ReportColumns>, Arc<Release>)>,
}

impl AnswerVisibility {
    /// Whether the answer `response_id`, to `version` of the survey, is in what roles other
    /// than admin see: not waiting for its batch, and not unverified. An answer the columns
    /// do not hold yet (committed after they were read) is not.
    async fn visible(
        &mut self,
        store: &Store,
        definition: &SurveyDefinition,
        response_id: &str,
        version: u32,
    ) -> Result<bool, ResultsError> {
        let (columns, release) = match self.versions.entry(version) {
            std::collections::hash_map::Entry::Occupied(held) => held.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let survey = store
                    .survey(definition.id.as_str(), Some(version))
                    .await?
                    .ok_or_else(|| ResultsError::NoSurvey(definition.id.to_string()))?;
                let columns = store.report_input(&survey).await?;
                let release = columns.release(survey.definition().min_group_size);
                slot.insert((columns, release))
            }
        };
        Ok(columns.row_of(response_id).is_some_and(|row| {
            !matches!(
                release.row(row),
                RowRelease::Waiting | RowRelease::Unverified
            )
        }))
    }
}

/// Why a result was not given.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// No such survey, or no such version of it.
    #[error("no survey {0:?}")]
    NoSurvey(String),
    /// More different breakdowns than [`MAX_BREAKDOWNS`].
    #[error("by may name at most {MAX_BREAKDOWNS} different fields")]
    TooManyBreakdowns,
    /// A breakdown that names no field of the survey.
    #[error(transparent)]
    UnknownBreakdown(rapport_scoring::report::ReportError),
    /// A date of the filter that is not a date, or a range that ends before it starts.
    #[error("{field}: {message}")]
    BadFilter {
        /// The query parameter: `from` or `to`.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Versions that one report cannot count together: `since_version` after the version
    /// reported on, or a version between them that asks another 0–10 question.
    #[error("since_version: {0}")]
    Versions(String),
    /// Emerging topics asked for by two fields at once: they break down by one at a time.
    #[error("emerging topics break down by one field at a time, not by a pair of fields")]
    EmergingCrossing,
    /// An `account` caller asked for an account that is not theirs.
    #[error("this token may not see account {0:?}")]
    AccountRefused(String),
    /// Viewers see aggregates only, never rows.
    #[error(
        "viewers see aggregate reports only; the response export needs an admin or account token"
    )]
    ViewerRefused,
    /// The database, the key or the computation failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// The most different fields one report may be broken down by: the dashboard's four
/// standing breakdowns (wave, role, account, new or returning) and as many more.
pub const MAX_BREAKDOWNS: usize = 8;

/// The breakdowns named by `names` (trimmed; empty names are skipped): fields, and pairs
/// of fields as in `returning:confidentiality` (or `returning×confidentiality`), each once and
/// at most [`MAX_BREAKDOWNS`] of them, parsed for `definition`.
pub fn breakdowns<'a>(
    definition: &SurveyDefinition,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<ReportOptions, ResultsError> {
    // Each breakdown once, and few of them: `by=wave` repeated thousands of times asked for
    // the same breakdown thousands of times over. Counted before anything is parsed.
    let mut unique: Vec<&str> = Vec::new();
    for name in names {
        let name = name.trim();
        if !name.is_empty() && !unique.contains(&name) {
            if unique.len() == MAX_BREAKDOWNS {
                return Err(ResultsError::TooManyBreakdowns);
            }
            unique.push(name);
        }
    }
    let mut options = ReportOptions::default();
    for name in unique {
        options
            .add_breakdown(definition, name)
            .map_err(ResultsError::UnknownBreakdown)?;
    }
    Ok(options)
}

/// Which report of a survey version: its breakdowns, and whether only verified answers
/// count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRequest {
    /// The breakdowns, in order (see [`breakdowns`]); the survey's minimum group size
    /// always applies.
    pub breakdowns: ReportOptions,
    /// Only the answers the server can vouch for (through an invitation or with a portal's
    /// signed context), leaving out what anyone could have posted.
    pub verified_only: bool,
    /// The date range and the account the report covers (see [`report_filter`]).
    pub filter: ReportFilter,
    /// The earliest survey version the report counts: every version from this one up to
    /// the version reported on, carried into it by question id
    /// ([`rapport_scoring::report::span_versions`]). Only the version reported on when
    /// `None`.
    pub since_version: Option<u32>,
}

/// A version a report counts, with its report columns.
#[derive(Clone)]
pub(crate) struct Part {
    /// The version.
    pub(crate) survey: Arc<CompiledSurvey>,
    /// Its report columns, up to date.
    pub(crate) columns: Arc<ReportColumns>,
}

/// The versions a report of `survey` counts from `since` (only `survey` itself when
/// `None`), oldest first, each with its columns brought up to date. A version number
/// never stored is skipped; a version after `survey`'s, or one that asks another 0–10
/// question, is refused.
pub(crate) async fn report_parts(
    store: &Store,
    survey: &Arc<CompiledSurvey>,
    since: Option<u32>,
) -> Result<Vec<Part>, ResultsError> {
    let mut parts = Vec::new();
    for version in spanned_versions(store, survey, since).await? {
        let columns = store.report_input(&version).await?;
        parts.push(Part {
            survey: version,
            columns,
        });
    }
    Ok(parts)
}

/// The versions of `survey` from `since` (only `survey` itself when `None`) up to it,
/// oldest first: a version number never stored is skipped; a version after `survey`'s, or
/// one that asks another 0–10 question, is refused.
pub(crate) async fn spanned_versions(
    store: &Store,
    survey: &Arc<CompiledSurvey>,
    since: Option<u32>,
) -> Result<Vec<Arc<CompiledSurvey>>, ResultsError> {
    let target = survey.definition();
    let since = since.unwrap_or(target.version);
    if since > target.version {
        return Err(ResultsError::Versions(format!(
            "version {since} is later than version {} reported on",
            target.version
        )));
    }
    let mut versions = Vec::new();
    for version in since..target.version {
        let Some(earlier) = store.survey(target.id.as_str(), Some(version)).await? else {
            continue;
        };
        if !shares_question(target, earlier.definition()) {
            return Err(ResultsError::Versions(
                SpanError::NoSharedQuestion {
                    version,
                    target: target.version,
                    question: target
                        .nps_question()
                        .map(|question| question.id().to_string())
                        .unwrap_or_default(),
                }
                .to_string(),
            ));
        }
        versions.push(earlier);
    }
    versions.push(Arc::clone(survey));
    Ok(versions)
}

/// The earliest version a report of `survey` can count: the oldest version from which
/// every later one asks the same 0–10 question as `survey`. The dashboard's reports span
/// it by default.
pub async fn earliest_spannable(
    store: &Store,
    survey: &CompiledSurvey,
) -> Result<u32, ResultsError> {
    let target = survey.definition();
    let mut earliest = target.version;
    for version in (1..target.version).rev() {
        match store.survey(target.id.as_str(), Some(version)).await? {
            Some(earlier) if shares_question(target, earlier.definition()) => earliest = version,
            Some(_) => break,
            None => {}
        }
    }
    Ok(earliest)
}

/// The filter of a report from the query's `from`, `to` (dates written `YYYY-MM-DD`, both
/// included) and `account`; an empty or blank parameter is no bound. A bad date, or a range
/// that ends before it starts, is refused naming the parameter.
pub fn report_filter(
    from: Option<&str>,
    to: Option<&str>,
    account: Option<&str>,
) -> Result<ReportFilter, ResultsError> {
    let day = |field: &'static str, text: Option<&str>| {
        text.map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| {
                ReceivedDay::parse(text).map_err(|error| ResultsError::BadFilter {
                    field,
                    message: error.to_string(),
                })
            })
            .transpose()
    };
    let account = account
        .map(str::trim)
        .filter(|account| !account.is_empty())
        .map(str::to_owned);
    ReportFilter::new(day("from", from)?, day("to", to)?, account).map_err(|error| {
        ResultsError::BadFilter {
            field: "to",
            message: error.to_string(),
        }
    })
}

/// The report of `survey` (one version) as `caller` may see it. The one place the role
/// restriction of reports lives: the API's `report` endpoint and the dashboard both call it.
pub async fn role_report(
    store: &Store,
    caller: &Caller,
    survey: &Arc<CompiledSurvey>,
    request: ReportRequest,
) -> Result<RoleReport, ResultsError> {
    let definition = survey.definition();
    let ReportRequest {
        breakdowns,
        verified_only,
        filter,
        since_version,
    } = request;
    refuse_foreign_account(caller, &filter)?;
    let rules = store.label_rules().await?;
    let parts = report_parts(store, survey, since_version).await?;
    // Filtering and folding up to millions of rows is CPU work: off the async workers.
    let (compiled, who, held) = (Arc::clone(survey), caller.clone(), parts.clone());
    let RestrictedReport {
        n,
        suppressed,
        report,
        latest_batch_rows,
    } = tokio::task::spawn_blocking(move || {
        restricted_report(
            compiled.definition(),
            &who,
            &held,
            breakdowns,
            verified_only,
            &Narrowing {
                rules: &rules,
                filter: &filter,
            },
        )
    })
    .await
    .map_err(|error| anyhow::anyhow!("computing the report failed: {error}"))??;
    let mut report = report;
    if let Some(report) = &mut report {
        label_groups(store, definition, report).await?;
    }
    let accounts = if caller.role == Role::Account {
        caller.accounts.clone()
    } else {
        Vec::new()
    };
    let completion = completion_for(store, caller, definition).await?;
    Ok(RoleReport {
        role: caller.role,
        accounts,
        n,
        suppressed,
        protected_batch_size: (caller.role != Role::Admin).then_some(definition.min_group_size),
        published_at: latest_published(store, &parts, &latest_batch_rows).await?,
        report,
        completion,
    })
}

/// Refuses a filter naming an account the caller may not see: an account caller filters
/// among their own accounts only; anything else would at best show nothing and at worst
/// say which accounts exist.
pub(crate) fn refuse_foreign_account(
    caller: &Caller,
    filter: &ReportFilter,
) -> Result<(), ResultsError> {
    match &filter.account {
        Some(account) if !caller.sees_account(Some(account.as_str())) => {
            Err(ResultsError::AccountRefused(account.clone()))
        }
        _ => Ok(()),
    }
}

/// When the latest batch the report counts was published: the latest time any of the rows
/// `latest_batch_rows` (by part) was received.
async fn latest_published(
    store: &Store,
    parts: &[Part],
    latest_batch_rows: &[Option<usize>],
) -> Result<Option<String>, ResultsError> {
    let mut latest: Option<String> = None;
    for (part, row) in parts.iter().zip(latest_batch_rows) {
        if let Some(row) = row
            && let Some(at) = store.received_at(&part.columns.response_id(*row)).await?
            && latest.as_ref().is_none_or(|held| *held < at)
        {
            latest = Some(at);
        }
    }
    Ok(latest)
}

/// Gives the groups of the breakdowns by account and by matter the display names of the ids
/// they show. Only groups already in the report are named: a name is a presentation of an
/// id the caller sees, never a way to see another.
async fn label_groups(
    store: &Store,
    definition: &SurveyDefinition,
    report: &mut Report,
) -> Result<(), ResultsError> {
    let named = |field: &str| named_kind(definition, field).is_some();
    if report
        .segments
        .iter()
        .any(|segmentation| named(&segmentation.field))
        || report
            .crossings
            .iter()
            .any(|crossing| named(&crossing.first) || named(&crossing.second))
    {
        name_groups(definition, report, &store.display_names().await?);
    }
    Ok(())
}

/// The kind of display name the groups of a breakdown by `field` have, if any.
fn named_kind(definition: &SurveyDefinition, field: &str) -> Option<NameKind> {
    match SegmentField::parse(definition, field) {
        Ok(SegmentField::Account) => Some(NameKind::Account),
        Ok(SegmentField::Matter) => Some(NameKind::Matter),
        _ => None,
    }
}

/// Sets the `label` of every group of `report`'s breakdowns by account and by matter, and
/// the labels of the cells of its two-field breakdowns on such a field, to their display
/// names in `names`; values stay the ids.
pub fn name_groups(definition: &SurveyDefinition, report: &mut Report, names: &DisplayNames) {
    let name = |kind: Option<NameKind>, value: &str| {
        kind.and_then(|kind| names.of(kind, value))
            .map(str::to_owned)
    };
    for segmentation in &mut report.segments {
        let kind = named_kind(definition, &segmentation.field);
        if kind.is_some() {
            for group in &mut segmentation.groups {
                group.label = name(kind, &group.value);
            }
        }
    }
    for crossing in &mut report.crossings {
        let kinds = (
            named_kind(definition, &crossing.first),
            named_kind(definition, &crossing.second),
        );
        for cell in &mut crossing.groups {
            cell.first_label = name(kinds.0, &cell.first);
            cell.second_label = name(kinds.1, &cell.second);
        }
    }
}

/// What narrows a report after the role's restriction: the label rules, then the filter.
pub(crate) struct Narrowing<'a> {
    /// The programme's label rules.
    pub(crate) rules: &'a [LabelRule],
    /// The date range and the account.
    pub(crate) filter: &'a ReportFilter,
}

impl Narrowing<'_> {
    /// `input` with the label rules applied and then the filter, each through
    /// [`ReportInput::filter`], so that on a release every published batch stays whole or
    /// goes whole.
    fn apply<'input>(&self, input: Cow<'input, ReportInput>) -> Cow<'input, ReportInput> {
        let input = if self.rules.is_empty() {
            input
        } else {
            Cow::Owned(input.with_labels(self.rules))
        };
        if self.filter.is_empty() {
            input
        } else {
            Cow::Owned(input.filtered(self.filter))
        }
    }
}

/// The accounts `caller` may pick for the filter of a report of `survey` counting the
/// versions from `since_version`: an account caller's own accounts; for an admin every
/// account of those versions, and for a viewer every account of what they may see (so an
/// account whose only answers wait for their batch is not named), after the label rules.
pub async fn account_choices(
    store: &Store,
    caller: &Caller,
    survey: &Arc<CompiledSurvey>,
    since_version: Option<u32>,
) -> Result<Vec<String>, ResultsError> {
    if caller.role == Role::Account {
        let mut accounts = caller.accounts.clone();
        accounts.sort();
        return Ok(accounts);
    }
    let rules = store.label_rules().await?;
    let parts = report_parts(store, survey, since_version).await?;
    let role = caller.role;
    tokio::task::spawn_blocking(move || {
        let mut accounts: Vec<String> = parts
            .iter()
            .flat_map(|part| {
                let release = (role != Role::Admin).then(|| {
                    part.columns
                        .release(part.survey.definition().min_group_size)
                });
                let input = match &release {
                    Some(release) => release.visible(),
                    None => part.columns.input(),
                };
                input.with_labels(&rules).accounts_present()
            })
            .collect();
        accounts.sort();
        accounts.dedup();
        accounts
    })
    .await
    .map_err(|error| ResultsError::Failed(anyhow::anyhow!("listing accounts failed: {error}")))
}

/// The release of each part for `caller`: `None` for an admin, who sees every row. Each is
/// decided once per set of rows and kept beside its report columns, with the version's own
/// batch size, so a batch is the same in every result that counts it.
pub(crate) fn releases(caller: &Caller, parts: &[Part]) -> Vec<Option<Arc<Release>>> {
    parts
        .iter()
        .map(|part| {
            (caller.role != Role::Admin).then(|| {
                part.columns
                    .release(part.survey.definition().min_group_size)
            })
        })
        .collect()
}

/// The rows of `parts` (oldest first, ending with `definition`'s) that `caller` may see,
/// narrowed as asked: every row for an admin; for anyone else only what `releases` lets
/// them see of each version, and an account caller only their accounts; then only the
/// verified answers if asked, then the label rules and the filter. Several versions are
/// carried into `definition` by question id, each version's published batches kept whole.
/// Every result for a caller is computed from these rows and nothing else.
pub(crate) fn visible_input<'a>(
    definition: &SurveyDefinition,
    caller: &Caller,
    parts: &'a [Part],
    releases: &'a [Option<Arc<Release>>],
    verified_only: bool,
    narrowing: &Narrowing<'_>,
) -> Result<Cow<'a, ReportInput>, ResultsError> {
    let seen: Vec<&ReportInput> = parts
        .iter()
        .zip(releases)
        .map(|(part, release)| match release {
            Some(release) => release.visible(),
            None => part.columns.input(),
        })
        .collect();
    let input: Cow<'_, ReportInput> = match seen.as_slice() {
        [only] => Cow::Borrowed(*only),
        _ => {
            let versions: Vec<(&SurveyDefinition, &ReportInput)> = parts
                .iter()
                .map(|part| part.survey.definition())
                .zip(seen.iter().copied())
                .collect();
            Cow::Owned(
                span_versions(definition, &versions)
                    .map_err(|error| ResultsError::Versions(error.to_string()))?,
            )
        }
    };
    let input = if caller.role == Role::Account {
        Cow::Owned(input.filter(|input, row| caller.sees_account(input.account(row))))
    } else {
        input
    };
    let input = if verified_only {
        Cow::Owned(input.filter(|input, row| input.arrival(row).is_verified()))
    } else {
        input
    };
    Ok(narrowing.apply(input))
}

/// What [`role_report`] computes from the rows.
#[derive(Debug)]
struct RestrictedReport {
    /// How many responses the caller's report covers.
    n: u64,
    /// Whether it shows counts only.
    suppressed: bool,
    /// The report, unless suppressed.
    report: Option<Report>,
    /// For every role but admin, by part, the row whose answer completed the latest
    /// published batch of that version the report counts.
    latest_batch_rows: Vec<Option<usize>>,
}

/// The report over the rows `caller` may see of the versions in `parts` (oldest first,
/// ending with `definition`'s): every row for an admin; for anyone else only what
/// [`rapport_scoring::disclosure::release`] lets them see of each version, and an account
/// caller only their accounts. Several versions are carried into `definition` by question
/// id, each version's published batches kept whole.
fn restricted_report(
    definition: &SurveyDefinition,
    caller: &Caller,
    parts: &[Part],
    breakdowns: ReportOptions,
    verified_only: bool,
    narrowing: &Narrowing<'_>,
) -> Result<RestrictedReport, ResultsError> {
    let releases = releases(caller, parts);
    let latest_batch_rows = parts
        .iter()
        .zip(&releases)
        .map(|(part, release)| {
            release.as_ref().and_then(|release| {
                release
                    .latest_batch_row(|row| caller.sees_account(part.columns.input().account(row)))
            })
        })
        .collect();
    let input = visible_input(
        definition,
        caller,
        parts,
        &releases,
        verified_only,
        narrowing,
    )?;
    let n = input.len() as u64;
    let suppressed = caller.role != Role::Admin && n < u64::from(definition.min_group_size);
    let report = (!suppressed).then(|| {
        report_of(
            definition,
            &input,
            &ReportOptions {
                min_group_size: None,
                ..breakdowns
            },
        )
    });
    Ok(RestrictedReport {
        n,
        suppressed,
        report,
        latest_batch_rows,
    })
}

/// Quotes a CSV cell, and defuses text a spreadsheet would run as a formula.
pub fn csv_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) || defused != text {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// A CSV file: its name and its text (served as an attachment by [`http`]).
#[derive(Debug, Clone)]
pub struct CsvExport {
    /// The file name offered for download.
    pub filename: String,
    /// The file's text, header first.
    pub text: String,
}

/// The rows of survey `survey_id` that `caller` may see, as CSV. The one place the role
/// restriction of rows lives: the API's CSV endpoint and the dashboard's download both call
/// it. Viewers are refused.
pub async fn responses_csv(
    state: &AppState,
    caller: &Caller,
    survey_id: &str,
    version: Option<u32>,
    since_version: Option<u32>,
) -> Result<CsvExport, ResultsError> {
    if caller.role == Role::Viewer {
        return Err(ResultsError::ViewerRefused);
    }
    let survey = state
        .survey_or(survey_id, version, ResultsError::NoSurvey)
        .await?;
    // The rows of the same versions as the report with the same `since_version`, under the
    // columns of the version asked for: answers are found by question id.
    let versions = spanned_versions(&state.store, &survey, since_version).await?;
    let definition = survey.definition();
    let question_ids: Vec<String> = definition
        .questions
        .iter()
        .map(|question| question.id().to_string())
        .collect();
    let mut out = String::new();
    let mut header = vec![
        "response_id",
        "submitted_at",
        "account",
        "matter",
        "account_name",
        "matter_name",
        "wave",
        "confidentiality",
        "name",
        "email",
        "organisation",
        "identity_note",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    header.extend(question_ids.iter().cloned());
    header.extend(
        [
            "nps_category",
            "crq",
            "relationship",
            "contract_experience",
            "survey_version",
        ]
        .map(str::to_owned),
    );
    out.push_str(
        &header
            .iter()
            .map(|cell| csv_cell(cell))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    // Names are looked up only for the rows the caller may see, in the cells beside their ids.
    let names = state.store.display_names().await?;
    let mut rows = Vec::new();
    for answered in &versions {
        rows.extend(
            state
                .store
                .export_rows(definition.id.as_str(), answered.definition().version)
                .await?,
        );
    }
    for row in rows {
        let visible = match caller.role {
            Role::Admin => true,
            Role::Account => {
                row.confidentiality == ConfidentialityChoice::Identified
                    && caller.sees_account(row.account.as_deref())
            }
            Role::Viewer => false,
        };
        if !visible {
            continue;
        }
        let identity = match &row.sealed_identity {
            Some(sealed) => Some(state.identity_key.open(&row.response_id, sealed)?),
            None => None,
        };
        let identity_cell = |pick: fn(&rapport_scoring::wire::Identity) -> Option<&String>| {
            identity
                .as_ref()
                .and_then(pick)
                .cloned()
                .unwrap_or_default()
        };
        let mut cells = vec![
            row.response_id.clone(),
            row.submitted_at.clone(),
            row.account.clone().unwrap_or_default(),
            row.matter.clone().unwrap_or_default(),
            row.account
                .as_deref()
                .and_then(|account| names.account(account))
                .unwrap_or_default()
                .to_owned(),
            row.matter
                .as_deref()
                .and_then(|matter| names.matter(matter))
                .unwrap_or_default()
                .to_owned(),
            row.wave.clone().unwrap_or_default(),
            row.confidentiality.as_str().to_owned(),
            identity_cell(|identity| identity.name.as_ref()),
            identity_cell(|identity| identity.email.as_ref()),
            identity_cell(|identity| identity.organisation.as_ref()),
            identity_note(row.confidentiality, identity.is_some()).to_owned(),
        ];
        for question in &definition.questions {
            let id = question.id();
            cells.push(match question {
                Question::Nps { .. } => row
                    .answers
                    .nps
                    .map(|answer| answer.get().to_string())
                    .unwrap_or_default(),
                Question::Element { .. } | Question::Experience { .. } => row
                    .answers
                    .ratings
                    .get(id)
                    .map(|rating| rating.get().to_string())
                    .unwrap_or_default(),
                Question::Text { .. } => row.answers.texts.get(id).cloned().unwrap_or_default(),
                Question::Role { .. } | Question::Choice { .. } => row
                    .answers
                    .choices
                    .get(id)
                    .map(|chosen| {
                        chosen
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("+")
                    })
                    .unwrap_or_default(),
            });
        }
        cells.push(
            row.score
                .nps_category
                .map(|category| category.as_str().to_owned())
                .unwrap_or_default(),
        );
        cells.push(
            row.score
                .crq
                .map(|crq| format!("{crq:.4}"))
                .unwrap_or_default(),
        );
        cells.push(
            row.score
                .relationship
                .map(|category| category.as_str().to_owned())
                .unwrap_or_default(),
        );
        cells.push(
            row.score
                .contract_experience
                .map(|score| format!("{score:.4}"))
                .unwrap_or_default(),
        );
        cells.push(row.survey_version.to_string());
        out.push_str(
            &cells
                .iter()
                .map(|cell| csv_cell(cell))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    let spanned = match versions.first() {
        Some(first) if first.definition().version != definition.version => {
            format!("v{}-", first.definition().version)
        }
        _ => String::new(),
    };
    Ok(CsvExport {
        filename: format!(
            "{}-{spanned}v{}-responses.csv",
            definition.id, definition.version
        ),
        text: out,
    })
}

/// What the `identity_note` column says of a row: a confidential row whose identity the
/// programme team holds is marked so that nobody passes it on with the answers.
fn identity_note(confidentiality: ConfidentialityChoice, has_identity: bool) -> &'static str {
    match (confidentiality, has_identity) {
        (ConfidentialityChoice::Confidential, true) => {
            "CONFIDENTIAL: never show this person's identity with these answers to the account team"
        }
        (ConfidentialityChoice::Confidential, false) => "confidential, no identity given",
        (ConfidentialityChoice::Anonymous, _) => "anonymous",
        (ConfidentialityChoice::Identified, _) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn formulas_are_defused_and_quotes_escaped() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-2"), "\"'-2\"");
        assert_eq!(csv_cell("@cmd"), "\"'@cmd\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
