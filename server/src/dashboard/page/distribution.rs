//! The answers to the 0–10 question, as columns and as a table.

use maud::{Markup, html};
use rapport_scoring::aggregate::NpsFigures;

use super::super::charts;
use super::shared::{Fold, folded, panel, scrolling_table};

/// The distribution section.
pub(super) fn section(nps: Option<&NpsFigures>) -> Markup {
    html! {
        (panel("distribution", "Answers to “How likely are you to recommend us?”", Fold::Open, html! {
            @match nps {
                Some(nps) => {
                    (charts::distribution("distribution-chart", &nps.distribution))
                    (folded(scrolling_table(
                        None,
                        "Responses per answer",
                        &["Answer", "Responses"],
                        html! {
                            @for (answer, count) in nps.distribution.iter().enumerate() {
                                tr { th scope="row" { (answer) } td { (count) } }
                            }
                        },
                    )))
                }
                None => {
                    p { "Nobody answered the 0–10 question." }
                }
            }
        }))
    }
}
