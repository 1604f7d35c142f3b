//! The dashboard's pages as HTML: the sign-in form, the failure pages and the results of one
//! survey, one module per section of the results.
//!
//! The results page renders a [`RoleReport`] and a [`crate::follow_up::FollowUpList`] exactly as the API
//! returned them for the caller: a group the report shows counts only for is shown as counts
//! only, with the reason; a section the role has no right to (the CSV, the close-the-loop
//! list for a viewer) is not rendered at all. Every piece is written with maud's `html!`, so
//! every text from data is escaped; nothing here wraps such text in `PreEscaped`.

mod access;
mod confidentiality;
mod crossings;
mod distribution;
mod drivers;
mod emerging;
mod experience;
mod filters;
mod follow_ups;
mod invitations;
mod labels;
mod login;
mod one_page;
mod pyramid;
mod response_rates;
mod segments;
mod shared;
mod summary;
mod surveys;
mod topics;
mod trend;
mod versions;
mod waves;
mod webhooks;

use axum::response::Html;
use maud::{Markup, html};
use rapport_scoring::completion::Completion;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::report::Segmentation;
use rapport_scoring::{Report, SegmentField};

pub(crate) use access::{AccessField, AccessPage, access, audit_log};
pub(crate) use filters::{FilterForm, coverage, date_problem, link_query as filter_link_query};
pub(crate) use invitations::{InvitationsPage, invitations};
pub(crate) use labels::{LabelsPage, labels};
pub(crate) use login::login;
pub(crate) use one_page::one_page_summary;
pub(crate) use surveys::{
    EditorPage, SurveyListPage, editor, preview as survey_preview, survey_list,
};
pub(crate) use versions::VersionScope;
pub(crate) use webhooks::{WebhookPage, webhooks};

use super::DashboardQuery;
use super::html::{page, url_encode};
use crate::auth::{Caller, Role};
use crate::emerging::RoleEmerging;
use crate::export::RoleReport;
use crate::follow_up::FollowUpOverview;
use crate::store::{DisplayNames, SurveySummary};

/// The title of the pages that are not about one survey.
const DASHBOARD_TITLE: &str = "Rapport dashboard";

/// What the results page is drawn from.
#[derive(Debug)]
pub(crate) struct DashboardPage<'a> {
    /// Who is looking.
    pub(crate) caller: &'a Caller,
    /// Every survey, for the picker.
    pub(crate) surveys: &'a [SurveySummary],
    /// The survey shown.
    pub(crate) definition: &'a SurveyDefinition,
    /// Its report, as the caller may see it.
    pub(crate) report: &'a RoleReport,
    /// The close-the-loop list with the opened account in full, and every account's
    /// summary; `None` for a viewer.
    pub(crate) follow_ups: Option<&'a FollowUpOverview>,
    /// The page's query.
    pub(crate) query: &'a DashboardQuery,
    /// The display names of accounts and matters, shown beside the ids the page shows.
    pub(crate) names: &'a DisplayNames,
    /// The filter: what the figures cover, its form, and the label rules (admin only).
    pub(crate) filter: FilterSection<'a>,
    /// Emerging topics, as the caller may see them.
    pub(crate) emerging: &'a RoleEmerging,
    /// Which versions the figures count.
    pub(crate) versions: VersionScope,
}

/// The filter of the results page.
#[derive(Debug)]
pub(crate) struct FilterSection<'a> {
    /// The filter the report was computed with.
    pub(crate) applied: &'a rapport_scoring::report::ReportFilter,
    /// The form, as typed.
    pub(crate) form: FilterForm<'a>,
    /// The label rules, shown to the programme lead only (empty for anyone else).
    pub(crate) rules: &'a [rapport_scoring::report::LabelRule],
}

/// What the one-page summary says it covers, and the query that keeps its filter in the
/// link back to the dashboard.
#[derive(Debug)]
pub(crate) struct SummaryScope {
    /// What the figures cover, in words.
    pub(crate) coverage: String,
    /// `&from=…&to=…&only_account=…&since_version=…`, those set.
    pub(crate) link_query: String,
    /// Which versions the figures count.
    pub(crate) versions: VersionScope,
    /// `&from=…&to=…&only_account=…`, those set: the link to the same figures over other
    /// versions.
    pub(crate) filter_query: String,
}

/// The results page.
pub(crate) fn dashboard(input: &DashboardPage<'_>) -> String {
    let definition = input.definition;
    let title = definition.title.english();
    let body = html! {
        (header(input))
        main class="dashboard" {
            div class="title-row" {
                h1 { (title) }
                p class="meta" {
                    "Survey " code { (definition.id.as_str()) } ", version " (definition.version)
                    " · " (scope_text(input.caller, input.names))
                }
            }
            (filters::form(
                "/dashboard",
                &kept_breakdowns(input),
                &input.filter.form,
                input.names,
            ))
            p class="coverage" id="coverage" { (coverage(input.filter.applied, input.names)) }
            (versions::note(
                definition,
                input.report.report.as_ref().map(|report| report.versions.as_slice()),
                input.versions,
                &format!(
                    "{}{}",
                    versions::results_link(definition, "/dashboard"),
                    filter_link_query(
                        input.query.from.as_deref(),
                        input.query.to.as_deref(),
                        input.query.only_account.as_deref(),
                    )
                ),
            ))
            (filters::label_notice(input.filter.rules))
            @if let Some(batch_size) = input.report.protected_batch_size {
                (publication(batch_size, input.report.published_at.as_deref()))
            }
            @match &input.report.report {
                None => {
                    (counts_only(input.report.n, definition.min_group_size))
                    @if let Some(completion) = &input.report.completion {
                        (response_rates::section(completion, definition.min_group_size))
                    }
                }
                Some(report) => (results(
                    definition,
                    report,
                    input.report.completion.as_ref(),
                    input.follow_ups.is_some(),
                    input.query,
                    input.emerging,
                )),
            }
            @if let Some(overview) = input.follow_ups {
                (follow_ups::section(definition, &overview.list, &overview.summaries, input.query, input.names))
            }
        }
    };
    page(&format!("{title} · {DASHBOARD_TITLE}"), body).into_string()
}

/// What the filter form keeps of the page when it changes the filter: the survey, the
/// version, and the breakdowns asked for beside the usual ones.
fn kept_breakdowns(input: &DashboardPage<'_>) -> Vec<(&'static str, String)> {
    let mut kept = vec![
        ("survey", input.definition.id.as_str().to_owned()),
        ("version", input.definition.version.to_string()),
        ("since_version", input.versions.since.to_string()),
    ];
    let query = input.query;
    for (name, value) in [
        ("by", &query.by),
        ("rows", &query.rows),
        ("columns", &query.columns),
    ] {
        if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
            kept.push((name, value.clone()));
        }
    }
    kept
}

/// The page shown when the dashboard cannot show what was asked, with the reason.
pub(crate) fn failure(message: &str) -> Html<String> {
    let body = html! {
        main class="narrow" {
            h1 { "The dashboard cannot show this" }
            p class="error" role="alert" { (message) }
            p { a href="/dashboard" { "Back to the dashboard" } }
        }
    };
    Html(page(DASHBOARD_TITLE, body).into_string())
}

/// The page shown when a form was posted from another site.
pub(crate) fn cross_origin_refusal() -> Html<String> {
    let body = html! {
        main class="narrow" {
            h1 { "Refused" }
            p class="error" role="alert" { "This form must be sent from the dashboard itself." }
        }
    };
    Html(page(DASHBOARD_TITLE, body).into_string())
}

/// The page for a signed-in role that may not run the programme.
pub(crate) fn admin_only() -> Html<String> {
    let body = html! {
        main class="narrow" {
            h1 { "For the programme lead" }
            p class="error" role="alert" {
                "Only the programme lead can manage surveys, invitations, access and alerts, and read the audit log."
            }
            p { a href="/dashboard" { "Back to the results" } }
        }
    };
    Html(page(DASHBOARD_TITLE, body).into_string())
}

/// Every section of a report the caller may see figures of, in page order.
fn results(
    definition: &SurveyDefinition,
    report: &Report,
    completion: Option<&Completion>,
    with_follow_ups: bool,
    query: &DashboardQuery,
    emerging: &RoleEmerging,
) -> Markup {
    let field =
        |segmentation: &Segmentation| SegmentField::parse(definition, &segmentation.field).ok();
    let segment = |wanted: &SegmentField| {
        report
            .segments
            .iter()
            .find(|segmentation| field(segmentation).as_ref() == Some(wanted))
    };
    let not_waves = report
        .segments
        .iter()
        .filter(|segmentation| field(segmentation) != Some(SegmentField::Wave));
    html! {
        (nav(with_follow_ups, has_experience(definition), completion.is_some(), has_rated_items(definition)))
        (summary::section(definition, &report.overall))
        @if let Some(completion) = completion {
            (response_rates::section(completion, definition.min_group_size))
        }
        (distribution::section(report.overall.nps.as_ref()))
        (pyramid::section(definition, &report.overall))
        (experience::section(
            definition,
            &report.overall,
            &experience::ExperienceBreakdowns {
                account: segment(&SegmentField::Account),
                matter: segment(&SegmentField::Matter),
                wave: segment(&SegmentField::Wave),
            },
        ))
        (drivers::section(definition, report))
        (trend::section(segment(&SegmentField::Wave), definition.min_group_size))
        (segments::section(definition, not_waves))
        (crossings::section(definition, &report.crossings, query))
        (confidentiality::section(
            definition,
            &report.overall,
            segment(&SegmentField::Returning),
            report.confidentiality_comparison.as_ref(),
        ))
        (waves::section(definition, &report.wave_comparisons))
        (topics::section(report))
        (emerging::section(definition, emerging))
    }
}

/// Who is signed in, and so what the page covers.
fn scope_text(caller: &Caller, names: &DisplayNames) -> String {
    match caller.role {
        Role::Admin => "signed in as programme lead (every response)".to_owned(),
        Role::Account => format!(
            "signed in as account manager for {}",
            caller
                .accounts
                .iter()
                .map(|account| match names.account(account) {
                    Some(name) => format!("{name} ({account})"),
                    None => account.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Role::Viewer => "signed in as viewer (aggregates only)".to_owned(),
    }
}

/// The top bar: the survey picker, the CSV download for roles that may have it, sign-out.
fn header(input: &DashboardPage<'_>) -> Markup {
    let definition = input.definition;
    html! {
        header class="top" {
            p class="brand" { "Rapport " span { "results" } }
            form method="get" action="/dashboard" class="picker" {
                label for="survey" { "Survey" }
                select id="survey" name="survey" {
                    @for survey in input.surveys {
                        option value=(survey.id) selected[survey.id == definition.id.as_str()] {
                            (survey.title) " (" (survey.responses) " responses)"
                        }
                    }
                }
                (filters::kept_in_form(input.query))
                button type="submit" { "Show" }
            }
            div class="actions" {
                a class="button" id="summary-link"
                    href={
                        "/dashboard/summary?survey=" (url_encode(definition.id.as_str()))
                        "&version=" (definition.version) (input.query.filter_link_query())
                    } { "One-page summary" }
                @if input.caller.role != Role::Viewer {
                    a class="button" id="csv-download"
                        href={
                            "/dashboard/surveys/" (url_encode(definition.id.as_str()))
                            "/responses.csv?version=" (definition.version)
                            "&since_version=" (input.versions.since)
                        }
                        download { "Download CSV" }
                }
                @if input.caller.role == Role::Admin {
                    a class="button secondary" id="surveys-link" href="/dashboard/surveys" { "Surveys" }
                    a class="button secondary" id="access-link" href="/dashboard/access" { "People and access" }
                    a class="button secondary" id="invitations-link"
                        href={ "/dashboard/invitations?survey=" (url_encode(definition.id.as_str())) } { "Invitations" }
                    a class="button secondary" id="webhooks-link" href="/dashboard/webhooks" { "Webhooks" }
                    a class="button secondary" id="labels-link" href="/dashboard/labels" { "Labels" }
                    a class="button secondary" id="audit-link" href="/dashboard/audit" { "Audit log" }
                }
                form method="post" action="/dashboard/logout" {
                    button type="submit" class="secondary" { "Sign out" }
                }
            }
        }
    }
}

/// Whether the survey asks about the contract experience.
pub(crate) fn has_experience(definition: &SurveyDefinition) -> bool {
    definition.questions.iter().any(|question| {
        matches!(
            question,
            rapport_scoring::definition::Question::Experience { .. }
        )
    })
}

/// Whether the survey has statements rated 1–7, whose key drivers the results show.
fn has_rated_items(definition: &SurveyDefinition) -> bool {
    definition.questions.iter().any(|question| {
        matches!(
            question,
            rapport_scoring::definition::Question::Element { .. }
                | rapport_scoring::definition::Question::Experience { .. }
        )
    })
}

/// Links to the sections of the results.
fn nav(
    with_follow_ups: bool,
    with_experience: bool,
    with_response_rates: bool,
    with_drivers: bool,
) -> Markup {
    let response_rates = with_response_rates.then_some(("response-rates", "Response rates"));
    let experience = with_experience.then_some(("experience", "Contract experience"));
    let drivers = with_drivers.then_some(("drivers", "What matters most"));
    let links = [
        ("summary", "Summary"),
        ("distribution", "0–10"),
        ("pyramid", "CRQ pyramid"),
        ("trend", "Trend"),
        ("segments", "Segments"),
        ("confidentiality", "Confidentiality"),
        ("waves", "Waves"),
        ("topics", "Topics"),
        ("emerging", "New words"),
    ];
    let follow_ups = with_follow_ups.then_some(("follow-ups", "Close the loop"));
    html! {
        nav class="sections" aria-label="Sections" {
            ul {
                @for (anchor, label) in links[..1]
                    .iter()
                    .copied()
                    .chain(response_rates)
                    .chain(links[1..3].iter().copied())
                    .chain(experience)
                    .chain(drivers)
                    .chain(links[3..].iter().copied())
                    .chain(follow_ups)
                {
                    li { a href={ "#" (anchor) } { (label) } }
                }
            }
        }
    }
}

/// How confidential answers reach the figures of a role other than admin.
fn publication(batch_size: u32, published_at: Option<&str>) -> Markup {
    let latest = match published_at.and_then(readable_time) {
        Some(when) => format!(" The last group was added on {when}."),
        None => " No group is complete yet.".to_owned(),
    };
    html! {
        p class="notice" role="note" id="publication" {
            "Answers given in confidence are added to these figures in groups of at least "
            (batch_size)
            ", and only whole groups are counted anywhere on this page, so that nobody can work \
             out who said what. Until a group is complete, up to "
            (batch_size.saturating_sub(1))
            " such answers may not be included yet. Answers from people who chose to be named \
             appear as soon as they arrive."
            (latest)
        }
    }
}

/// The only result of a report below the minimum group size: its count.
fn counts_only(n: u64, min_group_size: u32) -> Markup {
    html! {
        section class="panel" id="summary" {
            h2 { "Results" }
            p class="suppressed" {
                (n) " " (if n == 1 { "response" } else { "responses" })
                " so far: fewer than " (min_group_size) ", the smallest group whose scores are \
                 shown, so only the count is shown to protect confidentiality."
            }
        }
    }
}

/// The month names the pages write dates with.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A stored RFC 3339 time (`2026-11-23T09:30:00.123Z`) as a person reads it:
/// "23 November 2026 at 09:30 UTC". `None` for anything else.
fn readable_time(stored: &str) -> Option<String> {
    let (date, time) = stored.split_once('T')?;
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let month = MONTHS.get(month.parse::<usize>().ok()?.checked_sub(1)?)?;
    let day: u32 = day.parse().ok()?;
    let hours_minutes = time.get(..5)?;
    Some(format!("{day} {month} {year} at {hours_minutes} UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_read_as_words_and_anything_else_as_nothing() {
        assert_eq!(
            readable_time("2026-11-23T09:30:00.123Z").as_deref(),
            Some("23 November 2026 at 09:30 UTC")
        );
        assert_eq!(readable_time("2026-13-23T09:30:00Z"), None);
        assert_eq!(readable_time("yesterday"), None);
    }

    #[test]
    fn failure_messages_are_escaped() {
        let Html(page) = failure("no survey \"<b>x</b>\"");
        assert!(
            page.contains("no survey &quot;&lt;b&gt;x&lt;/b&gt;&quot;") && !page.contains("<b>"),
            "{page}"
        );
    }
}
