//! "People and access": the admin's list of API tokens, the form that makes one, and the
//! one-time view of a token just made.

use axum::response::Html;
use maud::{Markup, html};

use super::super::html::page;
use crate::auth::Role;
use crate::store::{AuditRow, StoredTokenListing};

/// What the access page shows besides the list.
#[derive(Debug, Default)]
pub(crate) struct AccessPage<'a> {
    /// The token just made, shown this once, with its holder's label.
    pub(crate) issued: Option<(&'a str, &'a str)>,
    /// The key of the token just revoked.
    pub(crate) revoked: Option<&'a str>,
    /// Why the form or a revocation was refused, and the form field it is about.
    pub(crate) error: Option<(&'a str, AccessField)>,
    /// The form as it was sent, to fill it in again after a refusal.
    pub(crate) form: Option<(&'a str, &'a str, &'a str)>,
}

/// The field of the new-token form a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccessField {
    /// The role.
    Role,
    /// The accounts.
    Accounts,
    /// The label.
    Label,
    /// No field: a revocation.
    Revoke,
}

/// What each role may do, in plain words.
fn role_words(role: Role) -> &'static str {
    match role {
        Role::Admin => "Programme lead: everything, including who answered and access",
        Role::Account => "Account team: results of their accounts, without confidential names",
        Role::Viewer => "Executive: overall results only",
    }
}

fn field_error(input: &AccessPage<'_>, field: AccessField) -> Option<Markup> {
    input
        .error
        .filter(|(_, about)| *about == field)
        .map(|(message, _)| {
            html! { p class="error" role="alert" id={ "error-" (field_id(field)) } { (message) } }
        })
}

fn field_id(field: AccessField) -> &'static str {
    match field {
        AccessField::Role => "role",
        AccessField::Accounts => "accounts",
        AccessField::Label => "label",
        AccessField::Revoke => "revoke",
    }
}

/// The access page.
pub(crate) fn access(
    tokens: &[StoredTokenListing],
    audit: &[AuditRow],
    input: &AccessPage<'_>,
) -> Html<String> {
    let (role, accounts, label) = input.form.unwrap_or(("viewer", "", ""));
    let body = html! {
        header class="top" {
            p class="brand" { "Rapport " span { "people and access" } }
            div class="actions" {
                a class="button" href="/dashboard" { "Back to the results" }
                form method="post" action="/dashboard/logout" {
                    button type="submit" class="secondary" { "Sign out" }
                }
            }
        }
        main class="dashboard access" {
            h1 { "People and access" }
            p {
                "Each person who reads the results signs in with a token of their own. A token is \
                 shown once, when it is made: give it to its holder, who signs in with it. \
                 Revoking a token signs its holder out at once."
            }
            @if let Some((token, holder)) = input.issued {
                section class="saved issued" role="status" aria-labelledby="issued-heading" {
                    h2 id="issued-heading" { "Token for " (holder) }
                    p { "Copy it now and hand it over: it will not be shown again." }
                    p { code id="issued-token" { (token) } }
                }
            }
            @if let Some(key) = input.revoked {
                p class="saved" role="status" { "Token " code { (key) } " revoked; its holder is signed out." }
            }
            @if let Some(error) = field_error(input, AccessField::Revoke) { (error) }
            section aria-labelledby="tokens-heading" {
                h2 id="tokens-heading" { "Tokens" }
                div class="scroll" tabindex="0" {
                    table {
                        thead {
                            tr {
                                th scope="col" { "Holder" }
                                th scope="col" { "Access" }
                                th scope="col" { "Accounts" }
                                th scope="col" { "Made" }
                                th scope="col" { "Last used" }
                                th scope="col" { "Key" }
                                th scope="col" { "Revoke" }
                            }
                        }
                        tbody {
                            @for token in tokens {
                                tr {
                                    td { (token.label.as_deref().unwrap_or("(no label)")) }
                                    td { (role_words(token.role)) }
                                    td { @if token.accounts.is_empty() { "All" } @else { (token.accounts.join(", ")) } }
                                    td { (super::shared::when(&token.created_at)) }
                                    td { (token.last_used_at.as_deref().map_or_else(|| "Never".to_owned(), super::shared::when)) }
                                    td { code { (token.key) } }
                                    td {
                                        form method="post" action="/dashboard/access/revoke" {
                                            input type="hidden" name="key" value=(token.key);
                                            button type="submit" class="secondary"
                                                aria-label={ "Revoke the token of " (token.label.as_deref().unwrap_or("(no label)")) } {
                                                "Revoke"
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="new-heading" {
                h2 id="new-heading" { "Give someone access" }
                form method="post" action="/dashboard/access/tokens" class="login-form" {
                    label for="label" { "Whose token is this?" }
                    input type="text" id="label" name="label" value=(label) required maxlength="200"
                        placeholder="Ana Ruiz, Northwind account team";
                    @if let Some(error) = field_error(input, AccessField::Label) { (error) }
                    label for="role" { "What may they see?" }
                    select id="role" name="role" {
                        @for (value, option) in [(Role::Viewer, "viewer"), (Role::Account, "account"), (Role::Admin, "admin")] {
                            option value=(option) selected[option == role] { (role_words(value)) }
                        }
                    }
                    @if let Some(error) = field_error(input, AccessField::Role) { (error) }
                    label for="accounts" { "Accounts (for an account team; separate them with commas)" }
                    input type="text" id="accounts" name="accounts" value=(accounts)
                        placeholder="northwind, contoso";
                    @if let Some(error) = field_error(input, AccessField::Accounts) { (error) }
                    button type="submit" { "Make the token" }
                }
            }
            (super::shared::audit_table("Changes to access", "No token has been made or revoked yet.", audit))
        }
    };
    Html(page("People and access · Rapport dashboard", body).into_string())
}

/// The whole audit log.
pub(crate) fn audit_log(entries: &[AuditRow]) -> Html<String> {
    let body = html! {
        header class="top" {
            p class="brand" { "Rapport " span { "audit log" } }
            div class="actions" {
                a class="button" href="/dashboard" { "Back to the results" }
                form method="post" action="/dashboard/logout" {
                    button type="submit" class="secondary" { "Sign out" }
                }
            }
        }
        main class="dashboard access" {
            h1 { "Audit log" }
            p { "Every change made to surveys, invitations, access and webhooks, newest first, with who made it: \"command line\" or the holder and role of the token signed in." }
            (super::shared::audit_table("Changes", "Nothing has been changed yet.", entries))
        }
    };
    Html(page("Audit log · Rapport dashboard", body).into_string())
}
