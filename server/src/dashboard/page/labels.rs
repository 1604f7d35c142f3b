//! The admin's page of hidden and merged labels (`/dashboard/labels`): every rule in plain
//! words with a button to remove it, the form that adds one, the problem with the last form
//! sent, and who changed the rules.

use maud::html;
use rapport_scoring::report::{LabelField, LabelRule};

use super::DASHBOARD_TITLE;
use super::filters::rule_in_words;
use crate::dashboard::html::page;
use crate::store::AuditRow;

/// What the labels page is drawn from.
#[derive(Debug)]
pub(crate) struct LabelsPage<'a> {
    /// Every rule.
    pub(crate) rules: &'a [LabelRule],
    /// The latest changes to the rules, newest first.
    pub(crate) audit: &'a [AuditRow],
    /// What was wrong with the form just sent.
    pub(crate) problem: Option<&'a str>,
}

/// The field's name in the form's choice.
fn field_name(field: LabelField) -> &'static str {
    match field {
        LabelField::Account => "Account",
        LabelField::Matter => "Matter",
        LabelField::Wave => "Wave",
    }
}

/// The labels page.
pub(crate) fn labels(input: &LabelsPage<'_>) -> String {
    let body = html! {
        header class="top" {
            p class="brand" { "Rapport " span { "labels" } }
            div class="actions" {
                a class="button secondary" href="/dashboard" { "Back to the results" }
            }
        }
        main class="dashboard labels" {
            h1 { "Hidden and merged labels" }
            p class="meta" {
                "Leave out a test account or a mistyped wave, or count two spellings of the same account as one. "
                "This changes the figures everyone sees, on the dashboard and through the API; the answers themselves are kept."
            }
            @if let Some(problem) = input.problem {
                p class="error" role="alert" id="label-problem" { (problem) }
            }
            section aria-labelledby="rules-heading" {
                h2 id="rules-heading" { "Labels changed now" }
                @if input.rules.is_empty() {
                    p { "Every label is shown as it was received." }
                } @else {
                    ul class="label-rules" id="label-rules" {
                        @for rule in input.rules {
                            li {
                                span { (rule_in_words(rule)) }
                                form method="post" action="/dashboard/labels/remove" {
                                    input type="hidden" name="field" value=(rule.field.as_str());
                                    input type="hidden" name="value" value=(rule.value);
                                    button type="submit" class="secondary" { "Undo" }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="add-rule-heading" {
                h2 id="add-rule-heading" { "Hide or merge a label" }
                form method="post" action="/dashboard/labels" class="label-form" id="label-form" {
                    p {
                        label for="rule-field" { "Which kind of label" }
                        select id="rule-field" name="field" {
                            @for field in LabelField::ALL {
                                option value=(field.as_str()) { (field_name(field)) }
                            }
                        }
                    }
                    p {
                        label for="rule-value" { "The label, exactly as it appears" }
                        input id="rule-value" name="value" type="text" required maxlength="200";
                    }
                    fieldset {
                        legend { "What to do with it" }
                        label { input type="radio" name="action" value="hide" checked; " Leave it out of the figures" }
                        label { input type="radio" id="rule-merge" name="action" value="merge"; " Count it as another label" }
                    }
                    p {
                        label for="rule-into" { "The other label (only to count it as another)" }
                        input id="rule-into" name="merge_into" type="text" maxlength="200";
                    }
                    button type="submit" id="rule-add" { "Save" }
                }
            }
            (super::shared::audit_table("Changes to labels", "No label has been hidden or merged yet.", input.audit))
        }
    };
    page(&format!("Labels · {DASHBOARD_TITLE}"), body).into_string()
}
