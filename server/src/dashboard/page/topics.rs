//! What respondents mention: the share naming each topic as greatest strength or weakness.

use maud::{Markup, html};
use rapport_scoring::Report;

use super::super::charts::{self, TopicBar};
use super::super::html::percent;
use super::shared::{Fold, folded, panel, scrolling_table, swatch};

/// The topics section.
pub(super) fn section(report: &Report) -> Markup {
    html! {
        (panel("topics", "What respondents mention", Fold::Open, html! {
            @if report.topics.is_empty() {
                p { "This survey defines no topics." }
            } @else {
                p class="lead" {
                    "Share of respondents whose answer to “greatest strength” or “greatest \
                     weakness” mentions each topic."
                }
                (charts::topics("topics-chart", &bars(report)))
                ul class="legend" {
                    li { (swatch(charts::PROMOTER)) "Greatest strength" }
                    li { (swatch(charts::DETRACTOR)) "Greatest weakness" }
                }
                (folded(scrolling_table(
                    None,
                    "Topic mentions",
                    &["Topic", "As strength", "As weakness"],
                    html! {
                        @for topic in &report.topics {
                            tr {
                                th scope="row" { (topic.label) }
                                td {
                                    (percent(topic.strength_share)) " ("
                                    (topic.strength_mentions) ")"
                                }
                                td {
                                    (percent(topic.weakness_share)) " ("
                                    (topic.weakness_mentions) ")"
                                }
                            }
                        }
                    },
                )))
            }
        }))
    }
}

/// Each topic's shares as the chart takes them.
fn bars(report: &Report) -> Vec<TopicBar> {
    report
        .topics
        .iter()
        .map(|topic| TopicBar {
            label: topic.label.clone(),
            strength: topic.strength_share,
            weakness: topic.weakness_share,
        })
        .collect()
}
