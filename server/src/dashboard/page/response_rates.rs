//! Response rates: how many of the people invited answered, overall and by wave, account and
//! matter, from the invitations the caller may see (`RoleReport::completion`). A group with
//! fewer invitations than the minimum group size shows how many were invited, never how many
//! answered.

use maud::{Markup, html};
use rapport_scoring::completion::{Completion, CompletionGroup, CompletionRate};

use super::super::html::percent;
use super::shared::{Fold, panel, scrolling_table};

/// The response-rates section.
pub(super) fn section(completion: &Completion, min_group_size: u32) -> Markup {
    let breakdowns = [
        ("By wave", "Wave", &completion.by_wave),
        ("By account", "Account", &completion.by_account),
        ("By matter", "Matter", &completion.by_matter),
    ];
    html! {
        (panel("response-rates", "Response rates", Fold::Open, html! {
            p class="lead" { (overall(&completion.overall, min_group_size)) }
            @for (caption, group_heading, groups) in breakdowns {
                @if !groups.is_empty() {
                    (scrolling_table(
                        Some("rates-table"),
                        caption,
                        &[group_heading, "Invited", "Answered", "Response rate"],
                        html! {
                            @for group in groups.iter() {
                                (group_row(group, min_group_size))
                            }
                        },
                    ))
                }
            }
        }))
    }
}

/// The sentence on every invitation together.
fn overall(rate: &CompletionRate, min_group_size: u32) -> String {
    let people = |n: u64| if n == 1 { "person" } else { "people" };
    match (rate.answered, rate.rate) {
        (Some(answered), Some(share)) => format!(
            "{answered} of the {} {} invited have answered: {}.",
            rate.invited,
            people(rate.invited),
            percent(share)
        ),
        _ => format!(
            "{} {} invited: fewer than {min_group_size}, so how many answered is not shown.",
            rate.invited,
            people(rate.invited)
        ),
    }
}

/// One group's row.
fn group_row(group: &CompletionGroup, min_group_size: u32) -> Markup {
    let rate = &group.completion;
    html! {
        tr {
            th scope="row" { (group.value) }
            td { (rate.invited) }
            @match (rate.answered, rate.rate) {
                (Some(answered), Some(share)) => {
                    td { (answered) }
                    td { (percent(share)) }
                }
                _ => {
                    td colspan="2" class="suppressed" {
                        "Fewer than " (min_group_size) " invited, so not shown"
                    }
                }
            }
        }
    }
}
