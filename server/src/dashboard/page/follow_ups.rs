//! Close the loop: the accounts to talk to, and the opened account's confidential-feedback
//! flags and identified responses, newest first, a page at a time, each with its status form.

use maud::{Markup, html};
use rapport_scoring::close_loop::Reason;
use rapport_scoring::definition::SurveyDefinition;

use super::super::DashboardQuery;
use super::super::html::{MISSING, humanise, one_decimal, url_encode};
use super::shared::{Fold, element_label, named, panel, table};
use crate::follow_up::{
    AccountFollowUps, AccountSummary, FollowUpItem, FollowUpList, FollowUpState, StatusCounts,
};
use crate::store::{DisplayNames, FollowUpStatus};

/// How many of an account's close-the-loop items one page shows.
const ITEMS_PER_PAGE: usize = 20;

/// The statuses a follow-up form offers, in the order it offers them.
const FOLLOW_UP_STATUSES: [FollowUpStatus; 3] = [
    FollowUpStatus::Open,
    FollowUpStatus::InProgress,
    FollowUpStatus::Done,
];

/// The close-the-loop section: `list` holds the opened account in full, `summaries` every
/// account's counts.
pub(super) fn section(
    definition: &SurveyDefinition,
    list: &FollowUpList,
    summaries: &[AccountSummary],
    query: &DashboardQuery,
    names: &DisplayNames,
) -> Markup {
    let survey = definition.id.as_str();
    // The results page's filter stays in the links that open an account's items.
    let filter_query = query.filter_link_query();
    // The list holds the opened account in full: the one asked for, or the first.
    let opened = list.accounts.first();
    // The items of an account are most of the page's length: they open when the reader asked
    // for an account's items or has just saved one, and otherwise wait under the heading.
    let fold = if query.account.is_some() || query.saved.is_some() {
        Fold::Open
    } else {
        Fold::Folded
    };
    html! {
        (panel("follow-ups", "Close the loop", fold, html! {
            @if query.saved.is_some() {
                p class="saved" role="status" { "Follow-up saved." }
            }
            @if summaries.is_empty() {
                p { "No response needs a conversation." }
            } @else {
                p class="lead" {
                    "Responses that need a conversation: detractors, strained or broken relationships, low \
                     element ratings and low contract-experience ratings. Confidential feedback \
                     only flags its account; who said what is never shown."
                }
                (accounts(survey, summaries, opened, names, &filter_query))
                @if let Some(account) = opened {
                    (opened_account(survey, account, query.page, names, query))
                }
            }
        }))
    }
}

/// An account's name as shown in running text: its display name, else its id, and words for
/// responses without one.
fn account_name(account: &Option<String>, names: &DisplayNames) -> String {
    match account {
        Some(id) => names.account(id).unwrap_or(id).to_owned(),
        None => "(no account)".to_owned(),
    }
}

/// An account as a heading or table cell shows it: its display name with its id beside it.
fn account_cell(account: &Option<String>, names: &DisplayNames) -> Markup {
    match account {
        Some(id) => named(id, names.account(id)),
        None => html! { "(no account)" },
    }
}

/// The table of accounts, each linking to its items, the opened one marked.
fn accounts(
    survey: &str,
    summaries: &[AccountSummary],
    opened: Option<&AccountFollowUps>,
    names: &DisplayNames,
    filter_query: &str,
) -> Markup {
    table(
        Some("accounts"),
        "Accounts to talk to",
        &[
            "Account",
            "Identified responses",
            "Confidential feedback",
            "Open",
            "In progress",
            "Done",
        ],
        html! {
            @for account in summaries {
                @let name = account_cell(&account.account, names);
                @let StatusCounts { open, in_progress, done } = account.by_status;
                @let current = opened.is_some_and(|opened| opened.account == account.account);
                tr aria-current=[current.then_some("true")] class=[current.then_some("current")] {
                    th scope="row" {
                        @match &account.account {
                            Some(value) => {
                                a href={
                                    "/dashboard?survey=" (url_encode(survey)) "&account="
                                    (url_encode(value)) (filter_query) "#follow-ups"
                                } { (name) }
                            }
                            None => (name),
                        }
                    }
                    td { (account.items) }
                    td { (flagged_waves(account)) }
                    td { (open) }
                    td { (in_progress) }
                    td { (done) }
                }
            }
        },
    )
}

/// The waves in which an account's confidential feedback is flagged, in words.
fn flagged_waves(account: &AccountSummary) -> String {
    if account.flagged_waves.is_empty() {
        return MISSING.to_owned();
    }
    let waves: Vec<&str> = account
        .flagged_waves
        .iter()
        .map(|wave| wave.as_deref().unwrap_or("no wave"))
        .collect();
    format!("flagged in {}", waves.join(", "))
}

/// The opened account: its flags, then the requested page of its items.
fn opened_account(
    survey: &str,
    account: &AccountFollowUps,
    page: Option<usize>,
    names: &DisplayNames,
    query: &DashboardQuery,
) -> Markup {
    let filter_query = query.filter_link_query();
    // The results page's filter and versions ride along with every status form, so that
    // saving returns to the same figures.
    let since_text = query.since_version.map(|since| since.to_string());
    let kept: Vec<(&str, &str)> = [
        ("from", query.from.as_deref()),
        ("to", query.to.as_deref()),
        ("only_account", query.only_account.as_deref()),
        ("since_version", since_text.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value.filter(|value| !value.is_empty())?)))
    .collect();
    let name = account_name(&account.account, names);
    let account_value = account.account.clone().unwrap_or_default();
    // The items newest first, a page at a time: an account with hundreds of them would
    // otherwise make a page of hundreds of forms, slow to draw and to read.
    let newest_first: Vec<&FollowUpItem> = account.items.iter().rev().collect();
    let pages = newest_first.len().div_ceil(ITEMS_PER_PAGE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let first = (page - 1) * ITEMS_PER_PAGE;
    let shown = &newest_first
        [first.min(newest_first.len())..(first + ITEMS_PER_PAGE).min(newest_first.len())];
    let page_text = page.to_string();
    let page_link = |page: usize| {
        format!(
            "/dashboard?survey={}&account={}{}{}#follow-up-account",
            url_encode(survey),
            url_encode(&account_value),
            filter_query,
            if page > 1 {
                format!("&page={page}")
            } else {
                String::new()
            }
        )
    };
    let pager = html! {
        @if pages > 1 {
            nav class="pager" aria-label={ "Pages of " (name) "'s responses" } {
                p {
                    "Responses " (first + 1) "–" (first + shown.len()) " of "
                    (account.items.len()) ", newest first"
                }
                @if page > 1 {
                    a rel="prev" href=(page_link(page - 1)) { "Previous" }
                }
                @if page < pages {
                    a rel="next" href=(page_link(page + 1)) { "Next" }
                }
            }
        }
    };
    html! {
        h3 id="follow-up-account" { (account_cell(&account.account, names)) }
        @for (idx, flag) in account.confidential_feedback.iter().enumerate() {
            @let wave = flag.wave.clone().unwrap_or_default();
            article class="item flag" {
                h4 {
                    "Confidential feedback"
                    @if !wave.is_empty() { " in " (wave) }
                    " needs a conversation"
                }
                p {
                    "Respondents who kept confidentiality gave feedback that needs a conversation \
                     with this account. Who they are and what they said is not shown."
                }
                (status_form(
                    survey,
                    &format!("flag-{idx}"),
                    &[&[("subject", "flag"), ("account", &account_value), ("wave", &wave)][..], &kept].concat(),
                    &flag.follow_up,
                ))
            }
        }
        (pager)
        @for (idx, item) in (first..).zip(shown) {
            (item_article(
                survey,
                idx,
                item,
                names,
                &[
                    &[
                        ("response_id", item.response_id.as_str()),
                        ("account", &account_value),
                        ("page", &page_text),
                    ][..],
                    &kept,
                ]
                .concat(),
            ))
        }
        (pager)
    }
}

/// One identified response that needs a conversation: who, why, what they said, and its
/// status form (`hidden` are the form's hidden fields).
fn item_article(
    survey: &str,
    idx: usize,
    item: &FollowUpItem,
    names: &DisplayNames,
    hidden: &[(&str, &str)],
) -> Markup {
    let identity = item.respondent.clone().unwrap_or_default();
    let respondent = identity
        .name
        .clone()
        .unwrap_or_else(|| "Identified respondent".to_owned());
    let context: Vec<String> = [
        identity.email,
        identity.organisation,
        item.wave.clone(),
        item.matter
            .as_ref()
            .map(|matter| match names.matter(matter) {
                Some(name) => format!("{name} ({matter})"),
                None => matter.clone(),
            }),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        article class="item" {
            h4 { (respondent) }
            p class="meta" { (context.join(" · ")) }
            ul class="reasons" {
                @for reason in &item.reasons {
                    li { (reason_text(reason, item.nps)) }
                }
            }
            dl class="said" {
                @if let Some(nps) = item.nps {
                    div { dt { "Likelihood to recommend" } dd { (nps) " of 10" } }
                }
                @if let Some(crq) = item.crq {
                    div { dt { "CRQ" } dd { (one_decimal(crq)) } }
                }
                @if let Some(strength) = &item.strength {
                    div { dt { "Greatest strength" } dd { (strength) } }
                }
                @if let Some(weakness) = &item.weakness {
                    div { dt { "Greatest weakness" } dd { (weakness) } }
                }
            }
            (status_form(survey, &format!("item-{idx}"), hidden, &item.follow_up))
        }
    }
}

/// A follow-up status as people read it.
fn status_label(status: FollowUpStatus) -> &'static str {
    match status {
        FollowUpStatus::Open => "Open",
        FollowUpStatus::InProgress => "In progress",
        FollowUpStatus::Done => "Done",
    }
}

/// Why a response needs a conversation, in words.
fn reason_text(reason: &Reason, nps: Option<u8>) -> String {
    match reason {
        Reason::Detractor => nps.map_or_else(
            || "Detractor".to_owned(),
            |answer| format!("Detractor (answered {answer})"),
        ),
        Reason::Relationship { category } => match category.as_str() {
            "stalker" => "Strained relationship".to_owned(),
            "opponent" => "Broken relationship".to_owned(),
            other => humanise(other),
        },
        Reason::LowElement { element, rating } => format!(
            "Low {} ({rating} of 7)",
            element_label(element.as_str()).to_lowercase()
        ),
        Reason::LowExperience { item, rating } => {
            format!("Rated “{}” {rating} of 7", element_label(item.as_str()))
        }
    }
}

/// The status form of one item or flag: `form_id` makes its fields' ids unique on the page,
/// `hidden` are its hidden fields.
fn status_form(
    survey: &str,
    form_id: &str,
    hidden: &[(&str, &str)],
    state: &FollowUpState,
) -> Markup {
    html! {
        form method="post" action={ "/dashboard/surveys/" (url_encode(survey)) "/follow-ups" }
            class="follow-up-form" {
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            label for={ (form_id) "-status" } { "Follow-up" }
            select id={ (form_id) "-status" } name="status" {
                @for status in FOLLOW_UP_STATUSES {
                    option value=(status.as_str()) selected[status == state.status] {
                        (status_label(status))
                    }
                }
            }
            label for={ (form_id) "-note" } { "Note" }
            input type="text" id={ (form_id) "-note" } name="note" maxlength="2000"
                value=(state.note.as_deref().unwrap_or_default());
            button type="submit" { "Save" }
        }
    }
}
