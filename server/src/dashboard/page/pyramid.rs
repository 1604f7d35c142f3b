//! The Customer Relationship Quality pyramid: its levels, the table of level and element
//! scores, and the relationship categories.

use maud::{Markup, html};
use rapport_scoring::aggregate::Figures;
use rapport_scoring::definition::{CategoryThresholds, SurveyDefinition};

use super::super::charts::{self, Part, PyramidLevel};
use super::super::html::{one_decimal, or_missing};
use super::shared::{Fold, element_label, legend, panel, scrolling_table};

/// The pyramid section; nothing for a survey without levels.
pub(super) fn section(definition: &SurveyDefinition, overall: &Figures) -> Markup {
    if definition.levels.is_empty() {
        return html! {};
    }
    let thresholds = &definition.thresholds;
    let levels = levels(definition, overall);
    html! {
        (panel("pyramid", "Customer Relationship Quality", Fold::Open, html! {
            p class="lead" {
                "Each level is the mean of its elements on the 1–7 agreement scale, coloured by \
                 the relationship category that score falls in."
            }
            div class="pyramid-grid" {
                div class="pyramid-figure" {
                    (charts::pyramid("pyramid-chart", &levels))
                    (band_legend(thresholds))
                }
                (scrolling_table(
                    Some("elements"),
                    "Level and element scores (mean of 1–7)",
                    &["Level / element", "Mean", "95% interval", "Rated by"],
                    level_rows(definition, overall, &levels),
                ))
            }
            @if let Some(categories) = &overall.categories {
                @let parts = category_parts(
                    [
                        categories.ambassador,
                        categories.ambivalent,
                        categories.stalker,
                        categories.opponent,
                    ],
                    thresholds,
                );
                h3 class="chart-heading" id="categories" { "Relationship categories" }
                (charts::stacked_bar("categories-bar", "Relationship categories", &parts))
                (legend(&parts, parts.iter().map(|part| part.count).sum()))
                p class="note" {
                    "Strained and broken relationships need an honest conversation."
                }
            }
        }))
    }
}

/// Each level of the survey, base first, with its mean score and band, as the pyramid draws
/// it.
pub(super) fn levels(definition: &SurveyDefinition, overall: &Figures) -> Vec<PyramidLevel> {
    definition
        .levels
        .iter()
        .map(|level| {
            let score = overall
                .levels
                .iter()
                .find(|figures| figures.id == level.id)
                .and_then(|figures| figures.figures.as_ref())
                .map(|figures| figures.mean);
            PyramidLevel {
                label: level.label.english().to_owned(),
                score,
                band: score.map(|score| charts::band(score, &definition.thresholds)),
            }
        })
        .collect()
}

/// The pyramid's colours in words: each relationship category and where it starts.
pub(super) fn band_legend(thresholds: &CategoryThresholds) -> Markup {
    html! {
        ul class="legend bands" {
            li {
                span class="band ambassador" {} "Strong: " (thresholds.ambassador) " and above"
            }
            li {
                span class="band ambivalent" {} "Lukewarm: " (thresholds.ambivalent) " and above"
            }
            li { span class="band stalker" {} "Strained: " (thresholds.stalker) " and above" }
            li { span class="band opponent" {} "Broken: below " (thresholds.stalker) }
        }
    }
}

/// A 95% interval of a 1–7 mean in words.
fn interval_text(interval: rapport_scoring::stats::Interval) -> String {
    format!(
        "{} to {}",
        one_decimal(interval.low),
        one_decimal(interval.high)
    )
}

/// The rows of the scores table: each level, top first, followed by its elements.
fn level_rows(definition: &SurveyDefinition, overall: &Figures, levels: &[PyramidLevel]) -> Markup {
    html! {
        @for (level, drawn) in definition.levels.iter().zip(levels).rev() {
            @let level_figures = overall
                .levels
                .iter()
                .find(|figures| figures.id == level.id)
                .and_then(|figures| figures.figures.as_ref());
            @let level_interval = level_figures.and_then(|figures| figures.interval_95);
            tr class="level-row" {
                th scope="row" { (drawn.label) }
                td { (or_missing(drawn.score, one_decimal)) }
                td { (or_missing(level_interval, interval_text)) }
                td { (level_figures.map_or(0, |figures| figures.n)) }
            }
            @let elements = overall
                .items
                .iter()
                .filter(|item| item.level.as_ref() == Some(&level.id));
            @for item in elements {
                @let figures = item.figures.as_ref();
                @let mean = figures.map(|figures| figures.mean);
                @let interval = figures.and_then(|figures| figures.interval_95);
                @let band_class = mean
                    .map(|mean| charts::band(mean, &definition.thresholds).class)
                    .unwrap_or_default();
                tr {
                    th scope="row" class="element" {
                        span class={ "band " (band_class) } {}
                        (element_label(item.id.as_str()))
                    }
                    td { (or_missing(mean, one_decimal)) }
                    td { (or_missing(interval, interval_text)) }
                    td { (figures.map_or(0, |figures| figures.n)) }
                }
            }
        }
    }
}

/// Strong, lukewarm, strained and broken relationships as the parts of a bar, each in its
/// category's colour.
fn category_parts(counts: [u64; 4], thresholds: &CategoryThresholds) -> [Part; 4] {
    let [ambassador, ambivalent, stalker, opponent] = counts;
    let part = |label: &str, count: u64, score: f64| Part {
        label: label.to_owned(),
        count,
        fill: charts::band(score, thresholds).fill,
        ink: "#111827",
    };
    [
        part("Strong", ambassador, 7.0),
        part("Lukewarm", ambivalent, thresholds.ambivalent),
        part("Strained", stalker, thresholds.stalker),
        part("Broken", opponent, 0.0),
    ]
}
