//! The one-page summary of a survey's results, for a managing partner, made to be printed or
//! saved as a PDF from the browser (`GET /dashboard/summary`): the Net Promoter Score with its
//! interval, promoters and detractors, the relationship pyramid, the trend across waves and
//! the topics named most as strength and as weakness, and the three statements that matter
//! most to whether clients recommend the firm, and the words new in the latest wave
//! (from the same [`RoleEmerging`] the dashboard's section shows).
//!
//! It renders the same [`RoleReport`] the dashboard renders for the same caller and never
//! computes a figure of its own: it only picks which of the report's figures to show, and
//! orders the topics by the shares the report gives. It says nothing in a statistician's
//! words.

use maud::{Markup, html};
use rapport_scoring::aggregate::Figures;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::drivers::Drivers;
use rapport_scoring::report::TopicShare;
use rapport_scoring::{Report, SegmentField};

use super::super::charts;
use super::super::html::{MISSING, one_decimal, page, percent, signed, url_encode};
use super::shared::element_label;
use super::shared::legend;
use super::{
    DASHBOARD_TITLE, counts_only, drivers, publication, pyramid, scope_text, summary, trend,
};
use crate::auth::Caller;
use crate::emerging::RoleEmerging;
use crate::export::RoleReport;
use crate::store::DisplayNames;

/// How many topics each list names at most.
const TOPICS_LISTED: usize = 3;
/// How many key drivers the summary names.
const DRIVERS_LISTED: usize = 3;

/// The one-page summary of `report`, as `caller` may see it.
pub(crate) fn one_page_summary(
    caller: &Caller,
    definition: &SurveyDefinition,
    report: &RoleReport,
    names: &DisplayNames,
    scope: &super::SummaryScope,
    emerging: &RoleEmerging,
) -> String {
    let title = definition.title.english();
    let dashboard = format!(
        "/dashboard?survey={}&version={}{}",
        url_encode(definition.id.as_str()),
        definition.version,
        scope.link_query
    );
    // How confidential answers reach the figures, for every role but admin.
    let notice = report
        .protected_batch_size
        .map(|batch_size| publication(batch_size, report.published_at.as_deref()));
    let body = html! {
        nav class="summary-bar" aria-label="Summary" {
            a href=(dashboard) id="back-to-dashboard" { "Back to the dashboard" }
            p { "To keep it as a PDF, print this page and choose “Save as PDF”." }
        }
        main class="one-page" {
            header class="one-page-title" {
                h1 { (title) }
                p class="meta" {
                    "Results in brief · survey " code { (definition.id.as_str()) } ", version " (definition.version)
                    " · " (scope_text(caller, names))
                }
                p class="coverage" id="coverage" { (scope.coverage) }
                (super::versions::note(
                    definition,
                    report.report.as_ref().map(|report| report.versions.as_slice()),
                    scope.versions,
                    &format!(
                        "{}{}",
                        super::versions::results_link(definition, "/dashboard/summary"),
                        scope.filter_query
                    ),
                ))
            }
            @match &report.report {
                None => {
                    (counts_only(report.n, definition.min_group_size))
                    @if let Some(notice) = &notice { (notice) }
                }
                Some(results) => (brief(definition, results, notice.as_ref(), emerging)),
            }
        }
    };
    page(&format!("{title} · summary · {DASHBOARD_TITLE}"), body).into_string()
}

/// The figures of a report the caller may see, in the order a reader asks for them, with
/// the `notice` on how confidential answers are published beside the topics, where the page
/// has room for it.
fn brief(
    definition: &SurveyDefinition,
    report: &Report,
    notice: Option<&Markup>,
    emerging: &RoleEmerging,
) -> Markup {
    let overall = &report.overall;
    let waves = report.segments.iter().find(|segmentation| {
        SegmentField::parse(definition, &segmentation.field).ok() == Some(SegmentField::Wave)
    });
    html! {
        section class="brief-figures" aria-labelledby="brief-score" {
            h2 id="brief-score" class="visually-hidden" { "Headline figures" }
            (headline(definition, overall))
            @if let Some(nps) = &overall.nps {
                @let parts = summary::nps_parts(nps);
                (charts::stacked_bar("brief-nps-bar", "Promoters, passives and detractors", &parts))
                (legend(&parts, nps.answered))
            }
        }
        div class="brief-grid" {
            @if !definition.levels.is_empty() {
                section aria-labelledby="brief-pyramid" {
                    h2 id="brief-pyramid" { "Relationship quality" }
                    (charts::pyramid("brief-pyramid-chart", &pyramid::levels(definition, overall)))
                    (pyramid::band_legend(&definition.thresholds))
                }
            }
            div {
                section aria-labelledby="brief-topics" {
                    h2 id="brief-topics" { "What clients mention" }
                    @if report.topics.is_empty() {
                        p { "This survey asks about no topics." }
                    } @else {
                        (topic_list("Named most as a strength", &report.topics, |topic| {
                            (topic.strength_share, topic.strength_mentions)
                        }))
                        (topic_list("Named most as a weakness", &report.topics, |topic| {
                            (topic.weakness_share, topic.weakness_mentions)
                        }))
                    }
                }
                (new_words(emerging))
                @if let Some(notice) = notice { (notice) }
            }
        }
        // The trend beside what matters most, so that both fit under the figures on one sheet.
        div class="brief-grid" {
            section class="brief-trend" aria-labelledby="brief-trend" {
                h2 id="brief-trend" { "Net Promoter Score across waves" }
                @match waves {
                    Some(waves) if waves.groups.len() > 1 => {
                        (charts::trend("brief-trend-chart", &trend::points(waves)))
                        p class="note" {
                            "Each dot is a wave’s score; the line through it spans where the true \
                             score very likely lies. A wave with too few answers to show has no dot."
                        }
                    }
                    _ => p { "There is one wave so far, so no trend yet." },
                }
            }
            @if let Some(key_drivers) = &report.drivers {
                (drivers_brief(key_drivers))
            }
        }
    }
}

/// The headline cards: the NPS with its interval, the relationship quality, the responses.
fn headline(definition: &SurveyDefinition, overall: &Figures) -> Markup {
    html! {
        div class="cards" {
            div class="card" id="brief-nps" {
                h3 { "Net Promoter Score" }
                @match &overall.nps {
                    Some(nps) => {
                        p class="big" id="brief-nps-value" { (signed(nps.nps)) }
                        p class="sub" {
                            "Very likely between " (signed(nps.interval_95.low)) " and "
                            (signed(nps.interval_95.high)) " (95% interval), from "
                            (nps.answered) " answers"
                        }
                    }
                    None => {
                        p class="big" { (MISSING) }
                        p class="sub" { "nobody answered the 0–10 question" }
                    }
                }
            }
            @if let Some(crq) = &overall.crq {
                div class="card" {
                    h3 { "Relationship quality" }
                    p class="big" { (one_decimal(crq.mean)) }
                    p class="sub" {
                        "of 7 · on average "
                        (charts::band(crq.mean, &definition.thresholds).name.to_lowercase())
                        " · " (crq.n) " rated"
                    }
                }
            }
            div class="card" {
                h3 { "Responses" }
                p class="big" id="brief-responses" { (overall.n) }
            }
        }
    }
}

/// The topics with the largest share of mentions one way, largest first; `share` picks the
/// share and the count the report gives for that way. Topics nobody named are left out.
fn topic_list(
    heading: &str,
    topics: &[TopicShare],
    share: impl Fn(&TopicShare) -> (f64, u64),
) -> Markup {
    let mut named: Vec<(&TopicShare, f64, u64)> = topics
        .iter()
        .map(|topic| {
            let (topic_share, mentions) = share(topic);
            (topic, topic_share, mentions)
        })
        .filter(|(_, _, mentions)| *mentions > 0)
        .collect();
    named.sort_by(|left, right| right.1.total_cmp(&left.1));
    html! {
        h3 { (heading) }
        @if named.is_empty() {
            p class="note" { "No topic named yet." }
        } @else {
            ol class="topic-list" {
                @for (topic, topic_share, mentions) in named.into_iter().take(TOPICS_LISTED) {
                    li {
                        (topic.label) ": " (percent(topic_share)) " of respondents ("
                        (mentions) ")"
                    }
                }
            }
        }
    }
}

/// The three statements that matter most, with the plain sentence of the dashboard, in
/// one paragraph so that the page still prints on one sheet.
fn drivers_brief(key_drivers: &Drivers) -> Markup {
    html! {
        section class="brief-drivers" aria-labelledby="brief-drivers" {
            h2 id="brief-drivers" { "What matters most" }
            p id="brief-drivers-headline" {
                (drivers::headline(key_drivers))
                " Most important: "
                @for (rank, item) in drivers::by_importance(key_drivers).into_iter().take(DRIVERS_LISTED).enumerate() {
                    @if rank > 0 { " · " }
                    (rank + 1) ". " (element_label(item.id.as_str())) ": " (percent(item.share))
                    " of what matters, rated " (one_decimal(item.mean_rating)) " of 7"
                }
                "."
            }
        }
    }
}

/// The words new in the latest wave's weaknesses and strengths, in one line each, and how
/// many weaknesses none of the topics catch.
fn new_words(emerging: &RoleEmerging) -> Markup {
    let k = emerging.topics.min_group_size;
    html! {
        section aria-labelledby="brief-emerging" id="brief-new-words" {
            h2 id="brief-emerging" { "New this wave" }
            @match super::emerging::latest(emerging) {
                None => p class="note" { "No wave has enough answers to show yet." },
                Some(wave) => {
                    @for (plural, figures) in [
                        ("weaknesses", wave.weaknesses.as_ref()),
                        ("strengths", wave.strengths.as_ref()),
                    ] {
                        @if let Some(figures) = figures {
                            @if !figures.emerging.is_empty() {
                                p {
                                    "In " (plural) ": "
                                    @for (idx, term) in figures.emerging.iter().take(TOPICS_LISTED).enumerate() {
                                        @if idx > 0 { "; " }
                                        strong { (term.term) } " (" (percent(term.share)) " of respondents)"
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(weaknesses) = wave.weaknesses.as_ref() {
                        p class="note" { (super::emerging::unmatched_words("weaknesses", weaknesses, k)) }
                    }
                }
            }
        }
    }
}
