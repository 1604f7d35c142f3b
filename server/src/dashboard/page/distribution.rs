//! The answers to the 0–10 question, as columns and as a table.

use maud::{Markup, html};
use rapport_scoring::aggregate::NpsFigures;

use super::super::charts;
use super::shared::{folded, table};

/// The distribution section.
pub(super) fn section(nps: Option<&NpsFigures>) -> Markup {
    html! {
        section class="panel" id="distribution" aria-labelledby="distribution-heading" {
            h2 id="distribution-heading" { "Answers to “How likely are you to recommend us?”" }
            @match nps {
                Some(nps) => {
                    (charts::distribution("distribution-chart", &nps.distribution))
                    (folded(table(
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
        }
    }
}
