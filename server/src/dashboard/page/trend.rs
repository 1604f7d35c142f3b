//! The trend across waves: NPS by wave as a line with intervals, and the table by wave.

use maud::{Markup, html};
use rapport_scoring::report::Segmentation;

use super::super::charts::{self, TrendPoint};
use super::shared::{Fold, GroupColumns, group_row, nps_interval, panel, scrolling_table};

/// The trend section, from the wave breakdown.
pub(super) fn section(waves: Option<&Segmentation>, min_group_size: u32) -> Markup {
    html! {
        (panel("trend", "Trend across waves", Fold::Open, html! {
            @match waves {
                Some(waves) => {
                    (charts::trend("trend-chart", &points(waves)))
                    (scrolling_table(
                        None,
                        "Results by wave",
                        &["Wave", "Responses", "NPS (95% interval)", "Mean 0–10", "CRQ"],
                        html! {
                            @for group in &waves.groups {
                                (group_row(
                                    &group.value,
                                    group.n,
                                    group.figures.as_ref(),
                                    min_group_size,
                                    GroupColumns::Scores,
                                ))
                            }
                        },
                    ))
                }
                None => {
                    p { "No wave breakdown." }
                }
            }
        }))
    }
}

/// Each wave's NPS and interval, or nothing where it is hidden or unanswered.
pub(super) fn points(waves: &Segmentation) -> Vec<TrendPoint> {
    waves
        .groups
        .iter()
        .map(|group| TrendPoint {
            label: group.value.clone(),
            nps: group
                .figures
                .as_ref()
                .and_then(|figures| figures.nps.as_ref())
                .map(nps_interval),
        })
        .collect()
}
