//! What clients started to write about: words and phrases newly frequent in the strength and
//! weakness texts of the latest wave, and how many texts name none of the survey's topics.
//!
//! Drawn from [`RoleEmerging`] exactly as the API returns it to the caller: a count the
//! caller may not see is absent there, and is never worked out here; quotes appear only when
//! the role may read them.

use maud::{Markup, html};
use rapport_scoring::emerging::{EmergingTerm, EmergingWave, TextFigures};

use super::super::html::{one_decimal, percent};
use rapport_scoring::SegmentField;
use rapport_scoring::definition::SurveyDefinition;

use super::crossings::field_words;
use super::segments::group_label;
use super::shared::{Fold, hidden_text, panel, scrolling_table};
use crate::emerging::{EmergingSegmentation, RoleEmerging};

/// The latest wave with figures to show, if any.
pub(super) fn latest(emerging: &RoleEmerging) -> Option<&EmergingWave> {
    emerging
        .topics
        .waves
        .iter()
        .rev()
        .find(|wave| !wave.suppressed)
}

/// The emerging topics section: over the same answers as the page's other figures, then
/// within each group of the breakdowns the topics were asked by.
pub(super) fn section(definition: &SurveyDefinition, emerging: &RoleEmerging) -> Markup {
    let k = emerging.topics.min_group_size;
    html! {
        (panel("emerging", "New in what clients write", Fold::Open, html! {
            @match latest(emerging) {
                None => p { "No wave has enough answers to show yet." },
                Some(wave) => {
                    p class="lead" {
                        "In wave " strong { (wave.wave) }
                        @if let Some(previous) = &wave.previous_wave {
                            ", compared with wave " (previous)
                        }
                        ": words clients use much more often than before, and how much of \
                         what they write your topics do not cover."
                    }
                    @for (kind, plural, figures) in [
                        ("weakness", "weaknesses", wave.weaknesses.as_ref()),
                        ("strength", "strengths", wave.strengths.as_ref()),
                    ] {
                        @if let Some(figures) = figures {
                            (kind_block(kind, plural, figures, wave, k, emerging.verbatims_allowed))
                        }
                    }
                    (details(wave))
                }
            }
            @for segmentation in &emerging.segments {
                (by_group(definition, segmentation, k))
            }
        }))
    }
}

/// The newest words within each group of one field: a row per group, the terms of its own
/// latest wave with figures, or why the group shows nothing.
fn by_group(definition: &SurveyDefinition, segmentation: &EmergingSegmentation, k: u32) -> Markup {
    let field = SegmentField::parse(definition, &segmentation.field).ok();
    let heading = match &field {
        Some(field) => field_words(definition, field),
        None => segmentation.field.clone(),
    };
    let terms = |figures: Option<&TextFigures>| -> String {
        let listed: Vec<String> = figures
            .map(|figures| {
                figures
                    .emerging
                    .iter()
                    .take(3)
                    .map(|term| format!("{} ({})", term.term, percent(term.share)))
                    .collect()
            })
            .unwrap_or_default();
        if listed.is_empty() {
            "–".to_owned()
        } else {
            listed.join(", ")
        }
    };
    html! {
        div class="emerging-groups" id={ "emerging-by-" (segmentation.field) } {
            h3 { "New words by " (heading.to_lowercase()) }
            (scrolling_table(
                None,
                &format!("New words by {}", heading.to_lowercase()),
                &["Group", "Answers", "Wave", "New in weaknesses", "New in strengths"],
                html! {
                    @for group in &segmentation.groups {
                        @let name = group.label.clone().unwrap_or_else(|| group_label(definition, field.as_ref(), &group.value));
                        @let wave = group.topics.as_ref().and_then(|topics| topics.waves.iter().rev().find(|wave| !wave.suppressed));
                        tr {
                            th scope="row" { (name) }
                            td class="num" { (group.n) }
                            @match (group.suppressed, wave) {
                                (true, _) => {
                                    td colspan="3" class="muted" { (hidden_text(group.n, k)) }
                                }
                                (false, None) => {
                                    td colspan="3" class="muted" { "No wave has enough answers to show yet." }
                                }
                                (false, Some(wave)) if wave.previous_wave.is_none() => {
                                    td { (wave.wave) }
                                    td colspan="2" class="muted" { "The first wave: nothing can be new yet." }
                                }
                                (false, Some(wave)) => {
                                    td { (wave.wave) }
                                    td { (terms(wave.weaknesses.as_ref())) }
                                    td { (terms(wave.strengths.as_ref())) }
                                }
                            }
                        }
                    }
                },
            ))
        }
    }
}

/// One kind of text: the unmatched share in words, then each new term.
fn kind_block(
    kind: &str,
    plural: &str,
    figures: &TextFigures,
    wave: &EmergingWave,
    k: u32,
    verbatims_allowed: bool,
) -> Markup {
    html! {
        div class="emerging" id={ "emerging-" (plural) } {
            h3 { "Greatest " (kind) }
            p class="emerging-unmatched" { (unmatched_words(plural, figures, k)) }
            @if wave.previous_wave.is_none() {
                p class="note" { "This is the first wave, so nothing can be new yet." }
            } @else if figures.emerging.is_empty() {
                p class="note" { "No word stands out as new this wave." }
            } @else {
                ul class="emerging-terms" {
                    @for term in &figures.emerging {
                        li {
                            "New this wave: " strong { (term.term) } ", named by "
                            (percent(term.share)) " of respondents"
                            @if let Some(previous) = term.previous_share.filter(|share| *share > 0.0) {
                                " (up from " (percent(previous)) ")"
                            }
                            (categories(term, k))
                            @if !term.verbatims.is_empty() {
                                ul class="verbatims" {
                                    @for quote in &term.verbatims {
                                        li { q { (quote) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !verbatims_allowed {
                    p class="note" { "Quotes are shown to the programme team and to account managers only." }
                }
            }
        }
    }
}

/// "1 in 4 weaknesses names none of your topics", or why it cannot be said.
pub(super) fn unmatched_words(plural: &str, figures: &TextFigures, k: u32) -> String {
    match (figures.texts, figures.unmatched_share) {
        (Some(0), _) => format!("Nobody wrote about {plural} this wave."),
        (Some(_), Some(0.0)) => {
            format!("Every one of the {plural} names at least one of your topics.")
        }
        (Some(_), Some(share)) if share >= 0.995 => {
            format!("None of the {plural} names any of your topics.")
        }
        (Some(_), Some(share)) => {
            let (part, whole) = small_fraction(share);
            let verb = if part == 1 { "names" } else { "name" };
            format!("{part} in {whole} {plural} {verb} none of your topics.")
        }
        _ => format!(
            "Too few {plural} to say how many fall outside your topics (groups under {k} are never shown)."
        ),
    }
}

/// The fraction with a denominator of at most 10 closest to `share`, never 0 for a
/// positive share.
fn small_fraction(share: f64) -> (u32, u32) {
    let mut best = (1, 1);
    let mut best_error = f64::INFINITY;
    for whole in 1..=10u32 {
        let part = ((share * f64::from(whole)).round() as u32).clamp(1, whole);
        let error = (f64::from(part) / f64::from(whole) - share).abs();
        if error < best_error - 1e-9 {
            best = (part, whole);
            best_error = error;
        }
    }
    best
}

/// ", 4 of them promoters" or ", of them 4 promoters and 2 detractors", with what the
/// caller may see of the three groups.
fn categories(term: &EmergingTerm, k: u32) -> Markup {
    let shown: Vec<(u64, &str)> = [
        (term.promoters, "promoter", "promoters"),
        (term.passives, "passive", "passives"),
        (term.detractors, "detractor", "detractors"),
    ]
    .into_iter()
    .filter_map(|(count, one, many)| {
        count
            .filter(|count| *count > 0)
            .map(|count| (count, if count == 1 { one } else { many }))
    })
    .collect();
    let words = match shown.as_slice() {
        [] => None,
        [(count, word)] => Some(format!(", {count} of them {word}")),
        [first @ .., (last_count, last_word)] => Some(format!(
            ", of them {} and {last_count} {last_word}",
            first
                .iter()
                .map(|(count, word)| format!("{count} {word}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    let hidden = [term.promoters, term.passives, term.detractors]
        .iter()
        .any(Option::is_none);
    html! {
        @if let Some(words) = words { (words) }
        @if hidden {
            span class="note" {
                " (the split into promoters, passives and detractors is not shown in full: \
                 groups under " (k) " are never shown)"
            }
        }
    }
}

/// The statistical detail, one click away.
fn details(wave: &EmergingWave) -> Markup {
    let rows: Vec<(&str, &EmergingTerm)> = [
        ("weakness", wave.weaknesses.as_ref()),
        ("strength", wave.strengths.as_ref()),
    ]
    .into_iter()
    .flat_map(|(kind, figures)| {
        figures
            .into_iter()
            .flat_map(|figures| figures.emerging.iter())
            .map(move |term| (kind, term))
    })
    .collect();
    html! {
        details class="emerging-detail" {
            summary { "How new words are found" }
            p class="note" {
                "Words are counted once per respondent, after dropping common words such as \
                 “the” and reducing each word to its root, so “handover” and “handovers” count \
                 together. A word is new when its share of respondents rose so much since the \
                 previous wave that chance alone would explain it less than one time in twenty: \
                 a weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi \
                 and Quinn, 2008), z of 1.96 or more. A word needs at least as many respondents \
                 as the smallest group shown."
            }
            @if !rows.is_empty() {
                (scrolling_table(
                    None,
                    "New words in detail",
                    &["Word", "In", "Respondents", "Share", "Before", "z"],
                    html! {
                        @for (kind, term) in &rows {
                            tr {
                                th scope="row" { (term.term) }
                                td { (kind) }
                                td { (term.respondents) }
                                td { (percent(term.share)) }
                                td { (term.previous_share.map_or("fewer than the smallest group shown".to_owned(), percent)) }
                                td { (one_decimal(term.z)) }
                            }
                        }
                    },
                ))
            }
        }
    }
}
