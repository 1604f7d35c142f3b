//! Confidential and identified respondents: how many kept confidentiality, among new and
//! returning respondents too, and whether the two groups score differently.

use maud::{Markup, html};
use rapport_scoring::NONE_VALUE;
use rapport_scoring::aggregate::Figures;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::report::{ConfidentialityComparison, Segmentation};
use rapport_scoring::stats::WelchTest;

use super::super::html::{chance, gap, one_decimal, or_missing, percent};
use super::shared::{Fold, hidden_text, panel, scrolling_table};

/// The confidentiality section; `returning` is the new-and-returning breakdown.
pub(super) fn section(
    definition: &SurveyDefinition,
    overall: &Figures,
    returning: Option<&Segmentation>,
    comparison: Option<&ConfidentialityComparison>,
) -> Markup {
    let counts = &overall.confidentiality;
    let kept_by_arrival =
        returning.and_then(|returning| returning_shares(returning, definition.min_group_size));
    html! {
        (panel("confidentiality", "Confidential and identified respondents", Fold::Folded, html! {
            @match counts.confidential_share {
                Some(share) => {
                    p class="lead" {
                        strong { (percent(share)) }
                        " of respondents offered the choice kept confidentiality ("
                        (counts.confidential) " of " (counts.confidential + counts.identified) ")."
                    }
                }
                None => {
                    p class="lead" {
                        "Nobody in this view was offered the choice of confidentiality."
                    }
                }
            }
            @if let Some(shares) = kept_by_arrival {
                p { (shares) "." }
            }
            @match comparison {
                Some(comparison) if comparison.suppressed => {
                    p class="suppressed" {
                        (comparison.confidential.n) " confidential and " (comparison.identified.n)
                        " identified respondents: one group has fewer than "
                        (definition.min_group_size) ", so their scores are not compared."
                    }
                }
                Some(comparison) => (compared(comparison)),
                None => {
                    p {
                        "No comparison: nobody in this view chose between confidentiality and \
                         being identified."
                    }
                }
            }
        }))
    }
}

/// How many of the new and of the returning respondents kept confidentiality, as one
/// sentence without its full stop; `None` when the breakdown has no such group.
fn returning_shares(returning: &Segmentation, min_group_size: u32) -> Option<String> {
    let shares: Vec<String> = returning
        .groups
        .iter()
        .filter(|group| group.value != NONE_VALUE)
        .map(|group| {
            match group
                .figures
                .as_ref()
                .and_then(|figures| figures.confidentiality.confidential_share)
            {
                Some(share) => format!("{} of {} respondents kept it", percent(share), group.value),
                None => format!(
                    "{} respondents: {}",
                    group.value,
                    hidden_text(group.n, min_group_size)
                ),
            }
        })
        .collect();
    (!shares.is_empty()).then(|| capitalise(&shares.join("; ")))
}

/// The two groups' means side by side, and what the tests make of their differences.
fn compared(comparison: &ConfidentialityComparison) -> Markup {
    let groups = [
        ("Kept confidentiality", &comparison.confidential),
        ("Waived it (identified)", &comparison.identified),
    ];
    html! {
        div class="comparison" {
            (scrolling_table(
                None,
                "Scores by confidentiality choice",
                &["Group", "Respondents", "Mean 0–10", "Mean CRQ"],
                html! {
                    @for (label, group) in groups {
                        tr {
                            th scope="row" { (label) }
                            td { (group.n) }
                            td { (or_missing(group.nps_mean, one_decimal)) }
                            td { (or_missing(group.crq_mean, one_decimal)) }
                        }
                    }
                },
            ))
            ul class="findings" {
                @if let Some(test) = &comparison.nps_test {
                    li id="nps-test" {
                        (test_sentence(
                            "the 0–10 question",
                            test,
                            comparison.confidential.nps_mean,
                            comparison.identified.nps_mean,
                        ))
                    }
                }
                @if let Some(test) = &comparison.crq_test {
                    li id="crq-test" {
                        (test_sentence(
                            "relationship quality (CRQ)",
                            test,
                            comparison.confidential.crq_mean,
                            comparison.identified.crq_mean,
                        ))
                    }
                }
            }
            p class="note" {
                "A difference counts as real when chance alone would give one this large less \
                 than 1 time in 20 (a two-sided Welch test). Unhappy clients who keep \
                 confidentiality tend to score lower, or stop answering."
            }
        }
    }
}

/// A Welch test in plain words, such as “confidential respondents score 0.8 lower; this
/// difference is unlikely to be chance: chance alone would give a gap this large about 1
/// time in 100”.
fn test_sentence(
    what: &str,
    test: &WelchTest,
    confidential_mean: Option<f64>,
    identified_mean: Option<f64>,
) -> String {
    let means = match (confidential_mean, identified_mean) {
        (Some(confidential), Some(identified)) => format!(
            " (mean {} against {})",
            one_decimal(confidential),
            one_decimal(identified)
        ),
        _ => String::new(),
    };
    let direction = match gap(test.difference) {
        None => format!(
            "Confidential respondents score about the same as identified ones on {what}{means}"
        ),
        Some(gap) => {
            format!("Confidential respondents score {gap} than identified ones on {what}{means}")
        }
    };
    let verdict = if test.p_value < 0.05 {
        "this difference is unlikely to be chance"
    } else {
        "a difference this size could well be chance"
    };
    format!(
        "{direction}; {verdict}: chance alone would give a gap this large {}.",
        chance(test.p_value)
    )
}

/// `text` with its first letter in upper case.
fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}
