//! From one wave to the next: what the respondents of a wave did in the next one, by the
//! confidentiality choice they made in the first.

use maud::{Markup, html};
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::report::WaveComparison;
use rapport_scoring::wire::ConfidentialityChoice;

use super::super::html::{one_decimal, or_missing, percent};
use super::shared::{Fold, panel, scrolling_table};

/// The waves section.
pub(super) fn section(definition: &SurveyDefinition, comparisons: &[WaveComparison]) -> Markup {
    html! {
        (panel("waves", "From one wave to the next", Fold::Folded, html! {
            @if comparisons.is_empty() {
                p { "No respondent answered two consecutive waves yet." }
            } @else {
                p class="lead" {
                    "What the respondents of one wave did in the next, by the choice they made in \
                     the first."
                }
                @for comparison in comparisons {
                    (comparison_table(comparison, definition.min_group_size))
                }
            }
        }))
    }
}

/// One pair of consecutive waves.
fn comparison_table(comparison: &WaveComparison, min_group_size: u32) -> Markup {
    let (first, second) = (&comparison.first_wave, &comparison.second_wave);
    let caption = format!("{first} to {second}");
    html! {
        (scrolling_table(
            Some("wave-table"),
            &caption,
            &[
                format!("Group in {first}"),
                format!("Completion in {second}"),
                format!("Mean 0–10 in {first}"),
                format!("Mean 0–10 in {second}"),
                "CRQ change".to_owned(),
            ],
            html! {
                @for group in &comparison.groups {
                    tr {
                        th scope="row" { (choice_label(group.choice)) }
                        @if group.suppressed {
                            td colspan="4" class="suppressed" {
                                (group.respondents) " respondents, " (group.completed)
                                " answered again: fewer than " (min_group_size)
                                ", so scores are hidden"
                            }
                        } @else {
                            td {
                                (percent(group.completion_rate)) " (" (group.completed) " of "
                                (group.respondents) ")"
                            }
                            td { (or_missing(group.nps_mean_first, one_decimal)) }
                            td { (or_missing(group.nps_mean_second, one_decimal)) }
                            td { (or_missing(group.crq_change, signed_change)) }
                        }
                    }
                }
            },
        ))
    }
}

/// A group's name by the choice its respondents made in the first wave.
fn choice_label(choice: ConfidentialityChoice) -> &'static str {
    match choice {
        ConfidentialityChoice::Confidential => "Chose confidentiality",
        ConfidentialityChoice::Identified => "Waived it",
        ConfidentialityChoice::Anonymous => "Anonymous",
    }
}

/// A change of CRQ with its sign and two decimals: `+0.25`, `−0.10` (a true minus sign).
fn signed_change(change: f64) -> String {
    format!(
        "{}{:.2}",
        if change >= 0.0 { "+" } else { "\u{2212}" },
        change.abs()
    )
}
