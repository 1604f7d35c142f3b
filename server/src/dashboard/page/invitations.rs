//! "Invitations": the admin's page of a survey's invitations, how many are in each state,
//! one page of them with their contact and state, the form that makes invitations from a
//! file of contacts, and who made or resent them.
//!
//! The page never shows a link (links go out once, as a downloaded file) nor anything of an
//! answer beyond the fact that there is one.

use axum::response::Html;
use maud::{Markup, html};

use super::super::html::{page, url_encode};
use super::shared::named;
use crate::invitations::bulk::{COLUMNS, LineProblem, ListedInvitation};
use crate::store::{AuditRow, DisplayNames, InvitationState, SurveySummary};

/// Everything the invitations page shows.
#[derive(Debug)]
pub(crate) struct InvitationsPage<'a> {
    /// Every survey, for the picker.
    pub(crate) surveys: &'a [SurveySummary],
    /// The survey shown.
    pub(crate) survey: &'a SurveySummary,
    /// How many current invitations are in each state, in the order of
    /// [`InvitationState::ALL`].
    pub(crate) counts: [u64; 4],
    /// This page of invitations, newest first.
    pub(crate) rows: &'a [ListedInvitation],
    /// The page shown, from 1.
    pub(crate) page: usize,
    /// Whether there is a next page.
    pub(crate) has_next: bool,
    /// The invitation audit, newest first.
    pub(crate) audit: &'a [AuditRow],
    /// Display names of accounts and matters, shown beside their ids.
    pub(crate) names: &'a DisplayNames,
    /// Why the upload or a resend was refused: every problem with its line and field.
    pub(crate) problems: &'a [LineProblem],
    /// The form as it was sent, to fill it in again after a refusal: contacts, firm,
    /// how long the links work.
    pub(crate) form: (&'a str, &'a str, &'a str),
}

/// The state in words for the programme lead.
fn state_words(state: InvitationState) -> &'static str {
    match state {
        InvitationState::Created => "Sent, not opened yet",
        InvitationState::Opened => "Opened, not answered",
        InvitationState::Answered => "Answered",
        InvitationState::Expired => "Expired without an answer",
    }
}

/// A line problem as a sentence: "Line 3, contact: is not an email address…".
fn problem_sentence(problem: &LineProblem) -> String {
    let field = match problem.field.as_str() {
        "contact" => "email (contact)",
        "account_name" => "account name",
        "matter_name" => "matter name",
        other => other,
    };
    if problem.line == 0 {
        // A form field, not a line of the list.
        let mut sentence = format!("{field}: {}.", problem.problem);
        sentence[..1].make_ascii_uppercase();
        sentence
    } else {
        format!("Line {}, {field}: {}.", problem.line, problem.problem)
    }
}

/// The address of page `page` of the survey's list.
fn page_href(survey: &str, page: usize) -> String {
    format!(
        "/dashboard/invitations?survey={}&page={page}",
        url_encode(survey)
    )
}

fn upload_form(input: &InvitationsPage<'_>) -> Markup {
    let (contacts, firm, expires) = input.form;
    html! {
        section aria-labelledby="upload-heading" {
            h2 id="upload-heading" { "Invite clients" }
            p {
                "Choose a file of contacts saved from your spreadsheet as CSV, or paste the list, "
                "one contact per line, with a first line naming the columns. "
                "The columns are " code { (COLUMNS.join(",")) } "; only contact (the email) and "
                "account are needed. Locale is en, fr, de, nl or es. Put a name that holds a comma "
                "in double quotes."
            }
            p {
                "The whole list is checked first: if a line is wrong, nothing is made and each "
                "problem is listed below with its line. When every line is right, a file "
                "downloads with each contact's link and the survey block for the thank-you email. "
                "Keep that file safe: each link lets its holder answer as that contact, and the "
                "links are not kept here (resend one to get a new link)."
            }
            @if !input.problems.is_empty() {
                div class="error" role="alert" id="upload-errors" {
                    @if input.problems.iter().any(|problem| problem.line > 0) {
                        p { "Nothing was made. Correct these lines and send the list again:" }
                    } @else {
                        p { "Nothing was made:" }
                    }
                    ul {
                        @for problem in input.problems {
                            li { (problem_sentence(problem)) }
                        }
                    }
                }
            }
            form method="post" action="/dashboard/invitations/upload" class="login-form" enctype="multipart/form-data" {
                input type="hidden" name="survey" value=(input.survey.id);
                label for="file" { "A file of contacts (CSV)" }
                input type="file" id="file" name="file" accept=".csv,text/csv,text/plain"
                    aria-describedby=[(!input.problems.is_empty()).then_some("upload-errors")];
                label for="contacts" { "Or paste the contacts" }
                textarea id="contacts" name="contacts" rows="10"
                    aria-describedby=[(!input.problems.is_empty()).then_some("upload-errors")]
                    placeholder="contact,name,account,matter,locale,account_name,matter_name\nana.ruiz@client.example,Ana Ruiz,northwind,msa-2026,es,Northwind Traders,Master services agreement 2026" {
                    (contacts)
                }
                label for="firm" { "Your firm's name, shown on the survey page (optional)" }
                input type="text" id="firm" name="firm" value=(firm) maxlength="200";
                label for="expires" { "Links work for (for example 30d for 30 days, 12h for 12 hours)" }
                input type="text" id="expires" name="expires" value=(expires) required maxlength="10";
                button type="submit" { "Make the invitations and download the links" }
            }
        }
    }
}

/// The invitations page.
pub(crate) fn invitations(input: &InvitationsPage<'_>) -> Html<String> {
    let survey = input.survey;
    let total: u64 = input.counts.iter().sum();
    let body = html! {
        header class="top" {
            p class="brand" { "Rapport " span { "invitations" } }
            form method="get" action="/dashboard/invitations" class="picker" {
                label for="survey" { "Survey" }
                select id="survey" name="survey" {
                    @for other in input.surveys {
                        option value=(other.id) selected[other.id == survey.id] { (other.title) }
                    }
                }
                button type="submit" { "Show" }
            }
            div class="actions" {
                a class="button" href={ "/dashboard?survey=" (url_encode(&survey.id)) } { "Back to the results" }
                form method="post" action="/dashboard/logout" {
                    button type="submit" class="secondary" { "Sign out" }
                }
            }
        }
        main class="dashboard access invitations" {
            h1 { "Invitations: " (survey.title) }
            section aria-labelledby="states-heading" {
                h2 id="states-heading" { "Where the invitations stand" }
                p {
                    "A link counts as opened when the survey page was shown in a browser; "
                    "email security scanners that check links do not count. A resent "
                    "invitation counts once, under its newest link."
                }
                table id="state-counts" {
                    thead { tr { th scope="col" { "State" } th scope="col" { "Invitations" } } }
                    tbody {
                        @for (state, count) in InvitationState::ALL.into_iter().zip(input.counts) {
                            tr id={ "state-" (state.as_str()) } {
                                th scope="row" { (state_words(state)) }
                                td { (count) }
                            }
                        }
                        tr { th scope="row" { "All" } td { (total) } }
                    }
                }
            }
            (upload_form(input))
            section aria-labelledby="list-heading" {
                h2 id="list-heading" { "Invited contacts" }
                @if input.rows.is_empty() {
                    p { "No invitation on this page." }
                } @else {
                    p {
                        "Resend gives the contact a new link and stops the old one; the new "
                        "link and email block download once. An answered invitation needs no new link."
                    }
                    div class="scroll" {
                        table id="invitation-list" {
                            thead {
                                tr {
                                    th scope="col" { "Contact" }
                                    th scope="col" { "Email" }
                                    th scope="col" { "Account" }
                                    th scope="col" { "Matter" }
                                    th scope="col" { "Wave" }
                                    th scope="col" { "Sent" }
                                    th scope="col" { "State" }
                                    th scope="col" { "New link" }
                                }
                            }
                            tbody {
                                @for row in input.rows {
                                    tr {
                                        td { (row.name.as_deref().unwrap_or("–")) }
                                        td { (row.email) }
                                        td { (named(&row.stored.account, input.names.account(&row.stored.account))) }
                                        td {
                                            @match row.stored.matter.as_deref() {
                                                Some(matter) => (named(matter, input.names.matter(matter))),
                                                None => "–",
                                            }
                                        }
                                        td { (row.stored.wave.as_deref().unwrap_or("–")) }
                                        td { (super::shared::when(&row.stored.created_at)) }
                                        td class={ "state " (row.stored.state.as_str()) } { (state_words(row.stored.state)) }
                                        td {
                                            @if row.stored.state != InvitationState::Answered {
                                                form method="post" action="/dashboard/invitations/resend" {
                                                    input type="hidden" name="survey" value=(survey.id);
                                                    input type="hidden" name="invitation" value=(row.invitation_id);
                                                    input type="hidden" name="expires" value=(input.form.2);
                                                    button type="submit" class="secondary"
                                                        aria-label={ "Resend to " (row.email) } { "Resend" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                nav class="pager" aria-label="Pages of invitations" {
                    @if input.page > 1 {
                        a href=(page_href(&survey.id, input.page - 1)) rel="prev" { "Newer" }
                    }
                    " Page " (input.page) " "
                    @if input.has_next {
                        a href=(page_href(&survey.id, input.page + 1)) rel="next" { "Older" }
                    }
                }
            }
            (super::shared::audit_table("Who made and resent invitations", "No invitation has been made or resent yet.", input.audit))
        }
    };
    Html(page("Invitations · Rapport dashboard", body).into_string())
}
