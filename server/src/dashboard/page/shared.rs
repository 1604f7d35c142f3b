//! Pieces that several sections of the results page draw the same way: tables, legends,
//! group rows and the words for hidden figures.

use maud::{Markup, html};

use crate::store::AuditRow;
use rapport_scoring::aggregate::{Figures, NpsFigures};

use super::super::charts::{NpsMark, Part};
use super::super::html::{humanise, one_decimal, or_missing, percent, signed};

/// A table of figures: its caption, one heading per column, and the rows of `body`.
pub(super) fn table<Heading: AsRef<str>>(
    class: Option<&str>,
    caption: &str,
    columns: &[Heading],
    body: Markup,
) -> Markup {
    html! {
        table class=[class] {
            caption { (caption) }
            thead {
                tr {
                    @for column in columns {
                        th scope="col" { (column.as_ref()) }
                    }
                }
            }
            tbody { (body) }
        }
    }
}

/// Whether a results section starts open or folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fold {
    /// A headline section: open when the page loads.
    Open,
    /// A section of detail: only its heading shows until it is opened.
    Folded,
}

/// A results section that folds: a panel whose heading is the summary of a `<details>`, so
/// that a reader opens what they need without script. The heading keeps its level and the
/// section stays named by it.
pub(super) fn panel(id: &str, heading: &str, fold: Fold, content: Markup) -> Markup {
    html! {
        section class="panel" id=(id) aria-labelledby={ (id) "-heading" } {
            details class="fold" open[fold == Fold::Open] {
                summary { h2 id={ (id) "-heading" } { (heading) } }
                (content)
            }
        }
    }
}

/// A [`table`] in a frame of its own that scrolls sideways when the table is wider than the
/// screen, so the page itself never does; the frame is a region named by the caption that the
/// keyboard can focus, so it can be scrolled without a mouse.
pub(super) fn scrolling_table<Heading: AsRef<str>>(
    class: Option<&str>,
    caption: &str,
    columns: &[Heading],
    body: Markup,
) -> Markup {
    html! {
        div class="scroll" tabindex="0" role="region" aria-label=(caption) {
            (table(class, caption, columns, body))
        }
    }
}

/// A table folded away under "Show as a table", beside the chart of the same numbers.
pub(super) fn folded(table: Markup) -> Markup {
    html! {
        details {
            summary { "Show as a table" }
            (table)
        }
    }
}

/// A small colour square for a legend, drawn with the same fill as the chart.
pub(super) fn swatch(fill: &str) -> Markup {
    html! {
        svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" {
            rect width="10" height="10" rx="2" fill=(fill) {}
        }
    }
}

/// The legend of a stacked bar: each part's colour, name, count and share of `total`.
pub(super) fn legend(parts: &[Part], total: u64) -> Markup {
    html! {
        ul class="legend" {
            @for part in parts {
                @let share = if total == 0 { 0.0 } else { part.count as f64 / total as f64 };
                li { (swatch(part.fill)) (part.label) ": " (part.count) " (" (percent(share)) ")" }
            }
        }
    }
}

/// An element's short name, from its id (`care` becomes `Care`).
pub(super) fn element_label(id: &str) -> String {
    humanise(id)
}

/// An NPS with its 95% interval, as the charts take it.
pub(super) fn nps_interval(nps: &NpsFigures) -> NpsMark {
    NpsMark {
        nps: nps.nps,
        low: nps.interval_95.low,
        high: nps.interval_95.high,
    }
}

/// Why a group shows its count only: it is below the minimum size, or it is hidden beside
/// smaller groups so that theirs cannot be worked out from the totals.
pub(super) fn hidden_text(n: u64, min_group_size: u32) -> String {
    let responses = if n == 1 { "response" } else { "responses" };
    if n < u64::from(min_group_size) {
        format!(
            "{n} {responses}: fewer than {min_group_size}, so scores are hidden to protect confidentiality"
        )
    } else {
        format!(
            "{n} {responses}: scores hidden with a smaller group's, so that neither can be worked out from the totals"
        )
    }
}

/// The columns of a group's row beside its name and count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GroupColumns {
    /// NPS with its interval, mean 0–10 and CRQ.
    Scores,
    /// The scores and the share who chose confidentiality.
    ScoresAndConfidentiality,
}

/// An account or matter as people read it: its display name, with the id in smaller text
/// beside it (and as the name's tooltip), so that the id a link or an export uses stays in
/// view; the id alone when it has no display name.
pub(super) fn named(id: &str, name: Option<&str>) -> Markup {
    html! {
        @match name {
            Some(name) => {
                span class="named" title={ "id: " (id) } { (name) }
                " " small class="id" { (id) }
            }
            None => (id),
        }
    }
}

/// One table row of a group: its scores, or its count and why there is nothing more.
pub(super) fn group_row(
    label: impl maud::Render,
    n: u64,
    figures: Option<&Figures>,
    min_group_size: u32,
    columns: GroupColumns,
) -> Markup {
    let with_share = columns == GroupColumns::ScoresAndConfidentiality;
    html! {
        tr {
            th scope="row" { (label) }
            td { (n) }
            @match figures {
                Some(figures) => {
                    @let nps = figures.nps.as_ref();
                    td {
                        (or_missing(nps, |nps| format!(
                            "{} ({} to {})",
                            signed(nps.nps),
                            signed(nps.interval_95.low),
                            signed(nps.interval_95.high)
                        )))
                    }
                    td { (or_missing(nps, |nps| one_decimal(nps.mean))) }
                    td { (or_missing(figures.crq.as_ref(), |crq| one_decimal(crq.mean))) }
                    @if with_share {
                        td { (or_missing(figures.confidentiality.confidential_share, percent)) }
                    }
                }
                None => {
                    td colspan=(if with_share { 4 } else { 3 }) class="suppressed" {
                        (hidden_text(n, min_group_size))
                    }
                }
            }
        }
    }
}

/// A stored RFC 3339 time as a date and minute, in UTC.
pub(super) fn when(time: &str) -> String {
    match (time.get(..10), time.get(11..16)) {
        (Some(date), Some(minute)) => format!("{date} {minute} UTC"),
        _ => time.to_owned(),
    }
}

/// The audit entries under `heading`.
pub(super) fn audit_table(heading: &str, empty: &str, audit: &[AuditRow]) -> Markup {
    html! {
        section aria-labelledby="audit-heading" {
            h2 id="audit-heading" { (heading) }
            @if audit.is_empty() {
                p { (empty) }
            } @else {
                div class="scroll" tabindex="0" {
                    table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "To" } th scope="col" { "By" } } }
                        tbody {
                            @for entry in audit {
                                tr {
                                    td { (when(&entry.at)) }
                                    td { (entry.action) }
                                    td { (entry.subject) }
                                    td { (entry.actor) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
