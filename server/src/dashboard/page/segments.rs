//! The breakdowns other than by wave: a chart of each group's NPS when there are few groups,
//! and a table of every group's scores.

use maud::{Markup, html};
use rapport_scoring::definition::{Question, SurveyDefinition};
use rapport_scoring::report::{SegmentGroup, Segmentation};
use rapport_scoring::{NONE_VALUE, SegmentField};

use super::super::charts::{self, GroupRow};
use super::super::html::humanise;
use super::shared::{Fold, GroupColumns, group_row, named, nps_interval, panel, table};

/// A chart of a few groups helps; a chart of a hundred accounts does not.
const MOST_GROUPS_CHARTED: usize = 12;

/// The segments section.
pub(super) fn section<'a>(
    definition: &SurveyDefinition,
    segmentations: impl Iterator<Item = &'a Segmentation>,
) -> Markup {
    html! {
        (panel("segments", "Segments", Fold::Folded, html! {
            p class="lead" {
                "Groups with fewer than " (definition.min_group_size)
                " responses show their count only."
            }
            @for (idx, segmentation) in segmentations.enumerate() {
                (segment(definition, idx, segmentation))
            }
        }))
    }
}

/// One breakdown, the `idx`-th on the page.
fn segment(definition: &SurveyDefinition, idx: usize, segmentation: &Segmentation) -> Markup {
    let field = SegmentField::parse(definition, &segmentation.field).ok();
    let title = segment_title(definition, field.as_ref(), &segmentation.field);
    let label = |value: &str| group_label(definition, field.as_ref(), value);
    let caption = format!("{title}: scores per group");
    html! {
        div class="segment" {
            h3 id={ "segment-" (idx) } { (title) }
            @if segmentation.groups.len() <= MOST_GROUPS_CHARTED {
                @let rows: Vec<GroupRow> = segmentation
                    .groups
                    .iter()
                    .map(|group| GroupRow {
                        label: group.label.clone().unwrap_or_else(|| label(&group.value)),
                        nps: group
                            .figures
                            .as_ref()
                            .and_then(|figures| figures.nps.as_ref())
                            .map(nps_interval),
                    })
                    .collect();
                (charts::group_dots(
                    &format!("segment-chart-{idx}"),
                    &format!("NPS {}", title.to_lowercase()),
                    &rows,
                ))
            }
            div class="scroll" tabindex="0" role="region" aria-label=(caption) {
                (table(
                    None,
                    &caption,
                    &[
                        "Group",
                        "Responses",
                        "NPS (95% interval)",
                        "Mean 0–10",
                        "CRQ",
                        "Chose confidentiality",
                    ],
                    html! {
                        @for group in &segmentation.groups {
                            (group_row(
                                group_cell(definition, field.as_ref(), group),
                                group.n,
                                group.figures.as_ref(),
                                definition.min_group_size,
                                GroupColumns::ScoresAndConfidentiality,
                            ))
                        }
                    },
                ))
            }
        }
    }
}

/// The heading of a breakdown by `field`, whose name in the report is `name`.
fn segment_title(
    definition: &SurveyDefinition,
    field: Option<&SegmentField>,
    name: &str,
) -> String {
    match field {
        Some(SegmentField::Account) => "By account".to_owned(),
        Some(SegmentField::Matter) => "By matter".to_owned(),
        Some(SegmentField::Returning) => "New and returning respondents".to_owned(),
        Some(SegmentField::Confidentiality) => "By confidentiality choice".to_owned(),
        Some(SegmentField::NpsCategory) => "By NPS category".to_owned(),
        Some(SegmentField::Question(id)) => match definition.question(id.as_str()) {
            Some(Question::Role { .. }) => "By respondent role".to_owned(),
            Some(question) => format!("By “{}”", question.text().english()),
            None => format!("By {}", humanise(name)),
        },
        Some(SegmentField::Wave) | None => format!("By {}", humanise(name)),
    }
}

/// A group's name in a table: an account's or matter's display name with its id beside it,
/// or the wording of [`group_label`].
pub(super) fn group_cell(
    definition: &SurveyDefinition,
    field: Option<&SegmentField>,
    group: &SegmentGroup,
) -> Markup {
    match &group.label {
        Some(name) if group.value != NONE_VALUE => named(&group.value, Some(name)),
        _ => html! { (group_label(definition, field, &group.value)) },
    }
}

/// The wording of a group value: a role's or option's label rather than its id.
pub(super) fn group_label(
    definition: &SurveyDefinition,
    field: Option<&SegmentField>,
    value: &str,
) -> String {
    if value == NONE_VALUE {
        return "Not given".to_owned();
    }
    match field {
        Some(SegmentField::Returning) => humanise(value),
        Some(SegmentField::Question(id)) => match definition.question(id.as_str()) {
            Some(Question::Role { options, .. } | Question::Choice { options, .. }) => value
                .split('+')
                .map(|part| {
                    options
                        .iter()
                        .find(|option| option.id.as_str() == part)
                        .map_or_else(
                            || part.to_owned(),
                            |option| option.label.english().to_owned(),
                        )
                })
                .collect::<Vec<_>>()
                .join(" + "),
            _ => value.to_owned(),
        },
        _ => value.to_owned(),
    }
}
