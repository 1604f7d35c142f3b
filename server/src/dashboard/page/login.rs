//! The sign-in form.

use axum::response::Html;
use maud::html;

use super::super::html::page;

/// The sign-in form, with an error message after a refused token.
pub(crate) fn login(error: Option<&str>) -> Html<String> {
    let body = html! {
        main class="narrow login" {
            p class="brand" { "Rapport" }
            h1 { "Sign in to the results dashboard" }
            p {
                "Use the API token you were given (" code { "rapport token create" }
                " makes one). It is kept in a cookie for this dashboard only, for eight hours or \
                 until you sign out."
            }
            @if let Some(message) = error {
                p class="error" role="alert" id="login-error" { (message) }
            }
            form method="post" action="/dashboard/login" class="login-form" {
                label for="token" { "API token" }
                input type="password" id="token" name="token" autocomplete="off" spellcheck="false"
                    required;
                button type="submit" { "Sign in" }
            }
        }
    };
    Html(page("Sign in · Rapport dashboard", body).into_string())
}
