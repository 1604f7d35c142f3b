//! Key drivers, "What matters most": for each rated statement, how much it moves whether
//! clients recommend the firm (its share of what the statements explain together) beside how
//! well it is rated, so that the lead sees what to work on first. The intervals, the
//! regression coefficients and the correlations are one click away.
//!
//! Every figure comes from the report's `drivers` (`rapport_scoring::drivers`), computed from
//! the rows the caller may see; this module only orders and words them, and never decides
//! what a role may see.

use maud::{Markup, html};
use rapport_scoring::Report;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::drivers::{Driver, Drivers, min_complete_cases};
use rapport_scoring::score::Scorer;

use super::super::charts::{coordinate, framed_chart};
use super::super::html::{one_decimal, percent};
use super::shared::{Fold, element_label, folded, panel, scrolling_table, swatch};

/// Fill of the importance bars.
const IMPORTANCE: &str = "#24549c";
/// Fill of the rating bars.
const RATING: &str = "#8c959f";
/// Text inside the chart.
const INK: &str = "#111827";

/// The section.
pub(super) fn section(definition: &SurveyDefinition, report: &Report) -> Markup {
    let n_items = Scorer::new(definition).rated_ids().len();
    if n_items == 0 {
        return html! {};
    }
    html! {
        (panel("drivers", "What matters most", Fold::Open, html! {
            @match &report.drivers {
                None => {
                    p id="drivers-missing" {
                        "Not enough complete answers yet to tell which statements matter most. \
                         This needs at least "
                        (min_complete_cases(n_items, u64::from(report.min_group_size)))
                        " clients who answered the 0–10 question and rated every statement, \
                         and the statements must not all be rated alike."
                    }
                }
                Some(drivers) => (findings(drivers)),
            }
        }))
    }
}

/// The statements, most important first.
pub(super) fn by_importance(drivers: &Drivers) -> Vec<&Driver> {
    let mut items: Vec<&Driver> = drivers.items.iter().collect();
    items.sort_by(|first, second| second.share.total_cmp(&first.share));
    items
}

/// The first thing to work on: the most important statement rated below the average of the
/// statements' ratings, if any.
fn first_to_fix<'a>(ranked: &[&'a Driver]) -> Option<&'a Driver> {
    let average =
        ranked.iter().map(|item| item.mean_rating).sum::<f64>() / ranked.len().max(1) as f64;
    ranked
        .iter()
        .copied()
        .find(|item| item.mean_rating < average)
}

/// The plain sentence about the most important statement and what to work on first.
pub(super) fn headline(drivers: &Drivers) -> String {
    let ranked = by_importance(drivers);
    let Some(top) = ranked.first() else {
        return String::new();
    };
    let top_name = element_label(top.id.as_str());
    match first_to_fix(&ranked) {
        Some(fix) if fix.id == top.id => format!(
            "{top_name} matters most to whether clients recommend you, and it is rated {} of 7: \
             the first thing to work on.",
            one_decimal(top.mean_rating)
        ),
        Some(fix) => format!(
            "{top_name} matters most to whether clients recommend you, and it is rated {} of 7: \
             a strength to keep. The first thing to work on is {}: it carries {} of what the \
             statements explain and is rated {} of 7.",
            one_decimal(top.mean_rating),
            element_label(fix.id.as_str()).to_lowercase(),
            percent(fix.share),
            one_decimal(fix.mean_rating)
        ),
        None => format!(
            "{top_name} matters most to whether clients recommend you, and it is rated {} of 7.",
            one_decimal(top.mean_rating)
        ),
    }
}

fn findings(drivers: &Drivers) -> Markup {
    let ranked = by_importance(drivers);
    html! {
        p class="headline" id="drivers-headline" { (headline(drivers)) }
        p class="lead" {
            "Each statement’s importance is its part in how likely clients are to recommend you, \
             from the "
            (drivers.complete_cases)
            " clients who rated every statement; together the statements account for about "
            (percent(drivers.r_squared.clamp(0.0, 1.0)))
            " of the differences between clients. Beside it, how the statement is rated (7: fully \
             agree)."
        }
        (chart(&ranked))
        ul class="legend" {
            li { (swatch(IMPORTANCE)) "Importance (share)" }
            li { (swatch(RATING)) "Rating, of 7" }
        }
        (folded(scrolling_table(
            Some("drivers-table"),
            "What matters most, statement by statement",
            &["Statement", "Importance", "Rating (of 7)", "Rated by"],
            html! {
                @for item in &ranked {
                    tr {
                        th scope="row" { (element_label(item.id.as_str())) }
                        td { (percent(item.share)) }
                        td { (one_decimal(item.mean_rating)) }
                        td { (item.n_rated) }
                    }
                }
            },
        )))
        details class="method" id="drivers-details" {
            summary { "How importance is worked out" }
            p {
                "Importance is Johnson’s relative weight: the part of the variance of the 0–10 \
                 answer explained (R² = "
                (format!("{:.3}", drivers.r_squared))
                ", over "
                (drivers.complete_cases)
                " complete answers) that each statement carries once statements rated alike \
                 have shared it out. The coefficient is that of a regression of the standardised \
                 0–10 answer on the standardised ratings, with its 95% interval ("
                (drivers.residual_df)
                " degrees of freedom); the correlation is Pearson’s, over everyone who answered \
                 both, with its 95% interval (Fisher’s z)."
            }
            (scrolling_table(
                Some("drivers-statistics"),
                "Key drivers in detail",
                &["Statement", "Relative weight", "Coefficient [95%]", "Correlation [95%]", "Pairs"],
                html! {
                    @for item in &ranked {
                        tr {
                            th scope="row" { (element_label(item.id.as_str())) }
                            td { (format!("{:.3}", item.relative_weight)) }
                            td {
                                (format!(
                                    "{:+.2} [{:+.2}, {:+.2}]",
                                    item.coefficient,
                                    item.coefficient_interval.low,
                                    item.coefficient_interval.high
                                ))
                            }
                            td {
                                (format!(
                                    "{:+.2} [{:+.2}, {:+.2}]",
                                    item.correlation.r,
                                    item.correlation.interval.low,
                                    item.correlation.interval.high
                                ))
                            }
                            td { (item.correlation.n) }
                        }
                    }
                },
            ))
        }
    }
}

/// Importance and rating side by side: per statement an importance bar (scaled to the
/// largest share) and a rating bar (scaled to 7).
fn chart(ranked: &[&Driver]) -> Markup {
    let desc = ranked
        .iter()
        .map(|item| {
            format!(
                "{}: importance {}, rated {} of 7",
                element_label(item.id.as_str()),
                percent(item.share),
                one_decimal(item.mean_rating)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let largest = ranked
        .iter()
        .map(|item| item.share)
        .fold(0.0_f64, f64::max)
        .max(0.01);
    let (width, left, right, row_height) = (640.0, 170.0, 90.0, 46.0);
    let span = width - left - right;
    let height = row_height * ranked.len() as f64 + 10.0;
    let content = html! {
        @for (idx, item) in ranked.iter().enumerate() {
            @let y = row_height * idx as f64 + 6.0;
            text x=(coordinate(left - 10.0)) y=(coordinate(y + 22.0)) text-anchor="end"
                font-size="14" fill=(INK) { (element_label(item.id.as_str())) }
            @let importance = span * item.share.max(0.0) / largest;
            rect x=(left) y=(coordinate(y)) width=(coordinate(importance)) height="15" rx="2"
                fill=(IMPORTANCE) {}
            text x=(coordinate(left + importance + 6.0)) y=(coordinate(y + 12.0))
                font-size="13" fill=(INK) { (percent(item.share)) }
            @let rating = span * item.mean_rating / 7.0;
            rect x=(left) y=(coordinate(y + 18.0)) width=(coordinate(rating)) height="15" rx="2"
                fill=(RATING) {}
            text x=(coordinate(left + rating + 6.0)) y=(coordinate(y + 30.0))
                font-size="13" fill=(INK) { (one_decimal(item.mean_rating)) " of 7" }
        }
    };
    framed_chart(
        "drivers-chart",
        640,
        height.ceil() as u32,
        "What matters most to whether clients recommend you",
        &format!("Importance of each statement and its rating: {desc}."),
        content,
    )
}
