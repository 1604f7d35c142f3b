//! The summary: the headline cards and the promoters, passives and detractors bar.

use maud::{Markup, html};
use rapport_scoring::aggregate::{Figures, NpsFigures};
use rapport_scoring::definition::SurveyDefinition;

use super::super::charts::{self, Part};
use super::super::html::{MISSING, one_decimal, percent, signed};
use super::shared::{Fold, legend, panel};

/// The summary section.
pub(super) fn section(definition: &SurveyDefinition, overall: &Figures) -> Markup {
    let share = overall.confidentiality.confidential_share.map_or_else(
        || "no confidentiality choice offered".to_owned(),
        |share| format!("{} chose confidentiality", percent(share)),
    );
    html! {
        (panel("summary", "Summary", Fold::Open, html! {
            div class="cards" {
                @match &overall.nps {
                    Some(nps) => {
                        div class="card" id="nps-card" {
                            h3 { "Net Promoter Score" }
                            p class="big" id="nps-value" { (signed(nps.nps)) }
                            p class="sub" {
                                "95% interval " (signed(nps.interval_95.low)) " to "
                                (signed(nps.interval_95.high)) " · " (nps.answered) " answers"
                            }
                        }
                        div class="card" {
                            h3 { "Average likelihood to recommend" }
                            p class="big" { (one_decimal(nps.mean)) }
                            p class="sub" { "mean of the 0–10 answers (not the NPS)" }
                        }
                    }
                    None => {
                        div class="card" {
                            h3 { "Net Promoter Score" }
                            p class="big" { (MISSING) }
                            p class="sub" { "nobody answered the 0–10 question" }
                        }
                    }
                }
                @if let Some(crq) = &overall.crq {
                    div class="card" {
                        h3 { "Relationship quality (CRQ)" }
                        p class="big" id="crq-value" { (one_decimal(crq.mean)) }
                        p class="sub" {
                            "of 7 · on average "
                            (charts::band(crq.mean, &definition.thresholds).name)
                            " · " (crq.n) " rated"
                        }
                    }
                }
                div class="card" {
                    h3 { "Responses" }
                    p class="big" id="n-responses" { (overall.n) }
                    p class="sub" { (share) }
                }
            }
            @if let Some(nps) = &overall.nps {
                @let parts = nps_parts(nps);
                h3 class="chart-heading" { "Promoters, passives and detractors" }
                (charts::stacked_bar("nps-bar", "Promoters, passives and detractors", &parts))
                (legend(&parts, nps.answered))
            }
        }))
    }
}

/// Promoters, passives and detractors as the parts of a bar.
pub(super) fn nps_parts(nps: &NpsFigures) -> [Part; 3] {
    [
        Part {
            label: "Promoters (9–10)".into(),
            count: nps.promoters,
            fill: charts::PROMOTER,
            ink: "#ffffff",
        },
        Part {
            label: "Passives (7–8)".into(),
            count: nps.passives,
            fill: charts::PASSIVE,
            ink: "#111827",
        },
        Part {
            label: "Detractors (0–6)".into(),
            count: nps.detractors,
            fill: charts::DETRACTOR,
            ink: "#ffffff",
        },
    ]
}
