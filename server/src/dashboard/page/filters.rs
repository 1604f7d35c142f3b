//! The filter form of the results page (from and to dates, one account), the sentence that
//! says what the figures cover, and, for the programme lead, which labels are hidden or
//! merged.
//!
//! The form only asks: the report it narrows comes from `export::role_report`, which checks
//! the account against the caller and keeps every published batch whole. This module never
//! filters anything itself.

use maud::{Markup, html};
use rapport_scoring::report::{LabelAction, LabelRule, ReceivedDay, ReportFilter};

use super::super::DashboardQuery;
use super::super::html::url_encode;
use super::MONTHS;
use crate::store::DisplayNames;

/// What the filter form shows: the values typed (kept even when refused, to be corrected),
/// the accounts to pick from, and the problem with each field.
#[derive(Debug, Default)]
pub(crate) struct FilterForm<'a> {
    /// The `from` field as typed.
    pub(crate) from: &'a str,
    /// The `to` field as typed.
    pub(crate) to: &'a str,
    /// The account chosen, empty for every account.
    pub(crate) account: &'a str,
    /// The accounts the caller may pick.
    pub(crate) choices: &'a [String],
    /// What is wrong with the `from` field.
    pub(crate) from_problem: Option<String>,
    /// What is wrong with the `to` field.
    pub(crate) to_problem: Option<String>,
}

/// The query parameters that keep a filter in a link, each starting with `&`: `from`, `to`
/// and `only_account`, those that are set.
pub(crate) fn link_query(from: Option<&str>, to: Option<&str>, account: Option<&str>) -> String {
    let mut query = String::new();
    for (name, value) in [("from", from), ("to", to), ("only_account", account)] {
        if let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) {
            query.push('&');
            query.push_str(name);
            query.push('=');
            query.push_str(&url_encode(value));
        }
    }
    query
}

/// Hidden fields that keep the filter in a form of the results page that asks for another
/// view of the same figures (the survey picker, the two-field chooser).
pub(super) fn kept_in_form(query: &DashboardQuery) -> Markup {
    html! {
        @for (name, value) in [("from", &query.from), ("to", &query.to), ("only_account", &query.only_account)] {
            @if let Some(value) = value {
                input type="hidden" name=(name) value=(value);
            }
        }
    }
}

/// A day in words: `1 March 2026`.
fn day_in_words(day: ReceivedDay) -> String {
    let (year, month, day_of_month) = day.ymd();
    format!("{day_of_month} {} {year}", MONTHS[month as usize - 1])
}

/// What the figures cover, in plain words: "Answers received 1 March – 30 June 2026,
/// account Northwind".
pub(crate) fn coverage(filter: &ReportFilter, names: &DisplayNames) -> String {
    let dates = match (filter.from, filter.to) {
        (None, None) => "Answers received at any time".to_owned(),
        (Some(from), None) => format!("Answers received from {} on", day_in_words(from)),
        (None, Some(to)) => format!("Answers received up to {}", day_in_words(to)),
        (Some(from), Some(to)) if from == to => {
            format!("Answers received on {}", day_in_words(from))
        }
        (Some(from), Some(to)) => {
            let (from_year, from_month, from_day) = from.ymd();
            let (to_year, _, _) = to.ymd();
            let start = if from_year == to_year {
                format!("{from_day} {}", MONTHS[from_month as usize - 1])
            } else {
                day_in_words(from)
            };
            format!("Answers received {start} – {}", day_in_words(to))
        }
    };
    let account = match &filter.account {
        None => "every account".to_owned(),
        Some(account) => format!(
            "account {}",
            names.account(account).unwrap_or(account.as_str())
        ),
    };
    format!("{dates}, {account}")
}

/// The filter form: two dates and an account, sent back to `action` with the survey, the
/// version and the extra breakdowns kept in hidden fields.
pub(crate) fn form(
    action: &str,
    hidden: &[(&str, String)],
    form: &FilterForm<'_>,
    names: &DisplayNames,
) -> Markup {
    html! {
        form method="get" action=(action) class="filters" id="filters" aria-label="Filter the figures" {
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            div class="filter-field" {
                label for="filter-from" { "From" }
                input type="date" id="filter-from" name="from" value=(form.from)
                    aria-invalid=[form.from_problem.is_some().then_some("true")]
                    aria-describedby=[form.from_problem.is_some().then_some("filter-from-problem")];
                @if let Some(problem) = &form.from_problem {
                    p class="field-problem" id="filter-from-problem" role="alert" { (problem) }
                }
            }
            div class="filter-field" {
                label for="filter-to" { "To" }
                input type="date" id="filter-to" name="to" value=(form.to)
                    aria-invalid=[form.to_problem.is_some().then_some("true")]
                    aria-describedby=[form.to_problem.is_some().then_some("filter-to-problem")];
                @if let Some(problem) = &form.to_problem {
                    p class="field-problem" id="filter-to-problem" role="alert" { (problem) }
                }
            }
            div class="filter-field" {
                label for="filter-account" { "Account" }
                select id="filter-account" name="only_account" {
                    option value="" selected[form.account.is_empty()] { "Every account" }
                    @for account in form.choices {
                        option value=(account) selected[account == form.account] {
                            @match names.account(account) {
                                Some(name) => { (name) " (" (account) ")" }
                                None => (account),
                            }
                        }
                    }
                }
            }
            div class="filter-actions" {
                button type="submit" id="filter-apply" { "Apply" }
                a class="button secondary" id="filter-clear" href={ (action) "?" (hidden_query(hidden)) } { "Clear" }
            }
        }
    }
}

/// The hidden fields as a query string, for the link that clears the filter.
fn hidden_query(hidden: &[(&str, String)]) -> String {
    hidden
        .iter()
        .map(|(name, value)| format!("{name}={}", url_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A problem with a date field in plain words.
pub(crate) fn date_problem(typed: &str) -> String {
    format!("“{typed}” is not a date. Write it as year-month-day, like 2026-03-01.")
}

/// For the programme lead: which labels the figures hide or merge, in plain words, with a
/// link to change them. Nothing when there is no rule.
pub(crate) fn label_notice(rules: &[LabelRule]) -> Markup {
    html! {
        @if !rules.is_empty() {
            div class="notice" id="label-rules-notice" role="note" {
                p { "Some labels are hidden or merged in these figures, for everyone who reads them:" }
                ul {
                    @for rule in rules {
                        li { (rule_in_words(rule)) }
                    }
                }
                p { a href="/dashboard/labels" { "Change hidden and merged labels" } }
            }
        }
    }
}

/// One rule in plain words: `Account "test-co" is left out.`
pub(crate) fn rule_in_words(rule: &LabelRule) -> String {
    let field = match rule.field.as_str() {
        "account" => "Account",
        "matter" => "Matter",
        _ => "Wave",
    };
    match &rule.action {
        LabelAction::Hide => format!("{field} “{}” is left out.", rule.value),
        LabelAction::MergeInto(target) => {
            format!("{field} “{}” is counted as “{target}”.", rule.value)
        }
    }
}

#[cfg(test)]
mod tests {
    use rapport_scoring::report::{ReceivedDay, ReportFilter};

    use super::coverage;
    use crate::store::DisplayNames;

    fn day(text: &str) -> Option<ReceivedDay> {
        Some(ReceivedDay::parse(text).unwrap())
    }

    #[test]
    fn coverage_reads_as_a_sentence() {
        let names = DisplayNames::default();
        let filter = ReportFilter {
            from: day("2026-03-01"),
            to: day("2026-06-30"),
            account: Some("northwind".to_owned()),
        };
        assert_eq!(
            coverage(&filter, &names),
            "Answers received 1 March – 30 June 2026, account northwind"
        );
        let across_years = ReportFilter {
            from: day("2025-12-01"),
            to: day("2026-01-31"),
            account: None,
        };
        assert_eq!(
            coverage(&across_years, &names),
            "Answers received 1 December 2025 – 31 January 2026, every account"
        );
        assert_eq!(
            coverage(&ReportFilter::default(), &names),
            "Answers received at any time, every account"
        );
    }
}
