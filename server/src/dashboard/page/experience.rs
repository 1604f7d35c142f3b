//! Contract experience: how clients rated the experience of a contract or a negotiation, item
//! by item and as one score, for the survey, per account, per matter and wave by wave. The
//! four items where legal teams are most often inconsistent are named as such.

use maud::{Markup, html};
use rapport_scoring::SegmentField;
use rapport_scoring::aggregate::{Figures, MeanFigures};
use rapport_scoring::definition::{Question, SurveyDefinition};
use rapport_scoring::report::Segmentation;
use rapport_scoring::stats::Interval;

use super::super::html::{one_decimal, or_missing};
use super::segments::group_cell;
use super::shared::{Fold, hidden_text, panel, scrolling_table};

/// The four places where legal teams are inconsistent, by the id of the item that asks about
/// each, in the words a partner would use.
const INCONSISTENCY_AREAS: [(&str, &str); 4] = [
    ("kept-informed", "Keeping the client informed"),
    ("unexpected-changes", "Avoiding unexpected changes"),
    ("problem-handling", "Handling problems"),
    ("meeting-scope", "Meeting the agreed scope"),
];

/// The breakdowns the section shows, when the report has them.
pub(super) struct ExperienceBreakdowns<'a> {
    /// By account.
    pub(super) account: Option<&'a Segmentation>,
    /// By matter.
    pub(super) matter: Option<&'a Segmentation>,
    /// By wave, in wave order.
    pub(super) wave: Option<&'a Segmentation>,
}

/// The section; nothing for a survey without contract-experience items.
pub(super) fn section(
    definition: &SurveyDefinition,
    overall: &Figures,
    breakdowns: &ExperienceBreakdowns<'_>,
) -> Markup {
    let statements: Vec<(&str, &str)> = definition
        .questions
        .iter()
        .filter_map(|question| match question {
            Question::Experience { id, text, .. } => Some((id.as_str(), text.english())),
            _ => None,
        })
        .collect();
    if statements.is_empty() {
        return html! {};
    }
    let min = definition.min_group_size;
    html! {
        (panel("experience", "Contract experience", Fold::Open, html! {
            p class="lead" {
                "How clients rated the experience, each statement on the 1–7 agreement scale \
                 (7: fully agree). The experience score is the mean of the statements a client \
                 rated. Areas marked as inconsistent are the four where legal teams most often \
                 fall short of what they promised."
            }
            p class="headline" {
                "Experience score: "
                strong { (or_missing(overall.contract_experience.as_ref(), |score| one_decimal(score.mean))) }
                " of 7"
                @if let Some(score) = &overall.contract_experience {
                    " (" (interval_words(score.interval_95)) ", rated by " (score.n) ")"
                }
            }
            (scrolling_table(
                Some("experience-items"),
                "Each statement (mean of 1–7)",
                &["Statement", "Area", "Mean", "95% interval", "Rated by"],
                html! {
                    @for (id, statement) in &statements {
                        @let figures = overall
                            .items
                            .iter()
                            .find(|item| item.id.as_str() == *id)
                            .and_then(|item| item.figures.as_ref());
                        tr {
                            th scope="row" { (statement) }
                            td {
                                @match area(id) {
                                    Some(area) => span class="area" { (area) },
                                    None => "",
                                }
                            }
                            td { (or_missing(figures.map(|figures| figures.mean), one_decimal)) }
                            td { (interval_words(figures.and_then(|figures| figures.interval_95))) }
                            td { (figures.map_or(0, |figures| figures.n)) }
                        }
                    }
                },
            ))
            @for (heading, id, field, segmentation) in [
                ("By account", "experience-accounts", SegmentField::Account, breakdowns.account),
                ("By matter", "experience-matters", SegmentField::Matter, breakdowns.matter),
                ("Wave by wave", "experience-waves", SegmentField::Wave, breakdowns.wave),
            ] {
                @if let Some(segmentation) = segmentation {
                    (breakdown(definition, heading, id, &field, &statements, segmentation, min))
                }
            }
        }))
    }
}

/// The inconsistency area an item asks about, if it is one of the four.
fn area(id: &str) -> Option<&'static str> {
    INCONSISTENCY_AREAS
        .iter()
        .find(|(item, _)| *item == id)
        .map(|(_, area)| *area)
}

/// A 95% interval in words, or a dash when there is none.
fn interval_words(interval: Option<Interval>) -> String {
    or_missing(interval, |interval| {
        format!(
            "{} to {}",
            one_decimal(interval.low),
            one_decimal(interval.high)
        )
    })
}

/// One breakdown: each group's experience score with its interval and each of the four
/// areas' means; a group below the minimum size shows its count only.
fn breakdown(
    definition: &SurveyDefinition,
    heading: &str,
    id: &str,
    field: &SegmentField,
    statements: &[(&str, &str)],
    segmentation: &Segmentation,
    min_group_size: u32,
) -> Markup {
    let areas: Vec<(&str, &str)> = statements
        .iter()
        .filter_map(|(item, _)| area(item).map(|area| (*item, area)))
        .collect();
    let mut columns = vec!["Group", "Responses", "Experience score", "95% interval"];
    columns.extend(areas.iter().map(|(_, area)| *area));
    html! {
        h3 id=(id) { (heading) }
        (scrolling_table(
            Some("experience-groups"),
            &format!("Contract experience {}", heading.to_lowercase()),
            &columns,
            html! {
                @for group in &segmentation.groups {
                    tr {
                        th scope="row" { (group_cell(definition, Some(field), group)) }
                        td { (group.n) }
                        @match &group.figures {
                            Some(figures) => {
                                @let score: Option<&MeanFigures> = figures.contract_experience.as_ref();
                                td { (or_missing(score.map(|score| score.mean), one_decimal)) }
                                td { (interval_words(score.and_then(|score| score.interval_95))) }
                                @for (item, _) in &areas {
                                    @let mean = figures
                                        .items
                                        .iter()
                                        .find(|figures| figures.id.as_str() == *item)
                                        .and_then(|figures| figures.figures.as_ref())
                                        .map(|figures| figures.mean);
                                    td { (or_missing(mean, one_decimal)) }
                                }
                            }
                            None => {
                                td colspan=(2 + areas.len()) class="suppressed" {
                                    (hidden_text(group.n, min_group_size))
                                }
                            }
                        }
                    }
                }
            },
        ))
    }
}
