//! The admin's survey pages: the list with the form that makes a survey from a template,
//! the editor of a survey's texts and settings, and the preview of the real widget.

use axum::response::Html;
use maud::{Markup, html};
use rapport_scoring::definition::ConfidentialityMode;
use rapport_scoring::templates::TEMPLATE_NAMES;

use super::super::html::{humanise, page, sentence, url_encode};
use crate::store::{AuditRow, SurveySummary};
use crate::survey_editor::{EditError, TextField, pointer_of};

/// The top bar of the survey pages.
fn top(subtitle: &str) -> Markup {
    html! {
        header class="top" {
            p class="brand" { "Rapport " span { (subtitle) } }
            div class="actions" {
                a class="button" href="/dashboard" { "Back to the results" }
                a class="button secondary" href="/dashboard/surveys" { "Surveys" }
                form method="post" action="/dashboard/logout" {
                    button type="submit" class="secondary" { "Sign out" }
                }
            }
        }
    }
}

fn error_for(errors: &[EditError], field: &str) -> Option<Markup> {
    let messages: Vec<&str> = errors
        .iter()
        .filter(|error| error.field == field)
        .map(|error| error.message.as_str())
        .collect();
    (!messages.is_empty()).then(|| {
        html! {
            @for message in messages {
                p class="error" role="alert" { (sentence(message)) }
            }
        }
    })
}

/// What the list page shows besides the surveys.
#[derive(Debug, Default)]
pub(crate) struct SurveyListPage<'a> {
    /// Why the new-survey form was refused.
    pub(crate) errors: &'a [EditError],
    /// The form as sent: template and id.
    pub(crate) form: Option<(&'a str, &'a str)>,
}

/// The list of surveys and the form that makes one from a template.
pub(crate) fn survey_list(
    surveys: &[SurveySummary],
    audit: &[AuditRow],
    input: &SurveyListPage<'_>,
) -> Html<String> {
    let (template, id) = input.form.unwrap_or(("client-portal", ""));
    let body = html! {
        (top("surveys"))
        main class="dashboard access" {
            h1 { "Surveys" }
            section aria-labelledby="list-heading" {
                h2 id="list-heading" { "Your surveys" }
                div class="scroll" tabindex="0" {
                    table {
                        thead { tr { th scope="col" { "Survey" } th scope="col" { "Title" } th scope="col" { "Version" } th scope="col" { "Responses" } th scope="col" { "Edit" } } }
                        tbody {
                            @for survey in surveys {
                                tr {
                                    td { code { (survey.id) } }
                                    td { (survey.title) }
                                    td { (survey.version) }
                                    td { (survey.responses) }
                                    td { a href={ "/dashboard/surveys/" (url_encode(&survey.id)) "/edit" } { "Edit " (survey.id) } }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="new-heading" {
                h2 id="new-heading" { "Start a survey from a template" }
                @if let Some(error) = error_for(input.errors, ".") { (error) }
                form method="post" action="/dashboard/surveys" class="login-form" {
                    label for="template" { "Template" }
                    select id="template" name="template" {
                        @for name in TEMPLATE_NAMES {
                            option value=(name) selected[name == template] { (humanise(name)) }
                        }
                    }
                    @if let Some(error) = error_for(input.errors, "template") { (error) }
                    label for="id" { "Survey id (lower-case letters, digits and dashes; it appears in links and reports)" }
                    input type="text" id="id" name="id" value=(id) required placeholder="client-portal-2027";
                    @if let Some(error) = error_for(input.errors, "id") { (error) }
                    button type="submit" { "Make the survey" }
                }
            }
            (super::shared::audit_table("Changes to surveys", "No survey has been made or changed here yet.", audit))
        }
    };
    Html(page("Surveys · Rapport dashboard", body).into_string())
}

/// What the editor is drawn from.
#[derive(Debug)]
pub(crate) struct EditorPage<'a> {
    /// The survey's id and the version the form edits.
    pub(crate) id: &'a str,
    pub(crate) version: u32,
    /// Every text, with the wording to show (the form's, after a refusal).
    pub(crate) texts: &'a [TextField],
    /// The languages, English first.
    pub(crate) locales: &'a [String],
    /// The settings to show.
    pub(crate) confidentiality: &'a str,
    pub(crate) min_group_size: &'a str,
    pub(crate) allowed_origins: &'a str,
    /// Each topic's pointer, id and keywords (comma-separated).
    pub(crate) topics: &'a [(String, String, String)],
    /// Whether the survey accepts only answers a portal signs or an invitation brings.
    pub(crate) require_signed_context: bool,
    /// The code that signs the portal's context, when the survey requires it.
    pub(crate) signing: Option<&'a str>,
    /// The new topic's name and keywords as typed, when a form is shown again.
    pub(crate) new_topic: (&'a str, &'a str),
    /// Why the last save was refused.
    pub(crate) errors: &'a [EditError],
    /// What the last save did: the version stored, and whether anything changed.
    pub(crate) saved: Option<(u32, bool)>,
    /// The embed snippet for this survey.
    pub(crate) snippet: &'a str,
}

fn mode_words(mode: ConfidentialityMode) -> (&'static str, &'static str) {
    match mode {
        ConfidentialityMode::Optional => (
            "optional",
            "Optional: each respondent chooses to be named or kept confidential (recommended)",
        ),
        ConfidentialityMode::Confidential => (
            "confidential",
            "Confidential: identity is kept, never shown to the team rated",
        ),
        ConfidentialityMode::Anonymous => (
            "anonymous",
            "Anonymous: nothing that identifies anyone is asked or kept",
        ),
    }
}

/// The editor of a survey's texts and settings, with the preview and the snippet.
pub(crate) fn editor(input: &EditorPage<'_>) -> Html<String> {
    let errors = input.errors;
    let text_error = |pointer: &str| {
        errors
            .iter()
            .filter(|error| {
                let at = if error.field.starts_with("text|") {
                    error.field.split('|').nth(1).unwrap_or_default().to_owned()
                } else {
                    pointer_of(&error.field)
                };
                at == pointer || at.starts_with(&format!("{pointer}/"))
            })
            .map(|error| sentence(&error.message))
            .collect::<Vec<_>>()
    };
    let placed: Vec<&EditError> = errors
        .iter()
        .filter(|error| {
            let pointer = if error.field.starts_with("text|") {
                error.field.split('|').nth(1).unwrap_or_default().to_owned()
            } else {
                pointer_of(&error.field)
            };
            input.texts.iter().any(|text| {
                pointer == text.pointer || pointer.starts_with(&format!("{}/", text.pointer))
            }) || ["/confidentiality", "/min_group_size", "/allowed_origins"]
                .iter()
                .any(|field| pointer.starts_with(field))
                || error.field.starts_with("new_topic_")
        })
        .collect();
    let unplaced: Vec<&EditError> = errors
        .iter()
        .filter(|error| !placed.contains(error))
        .collect();
    let setting_error = |field: &str| {
        errors
            .iter()
            .filter(|error| pointer_of(&error.field).starts_with(&format!("/{field}")))
            .map(|error| sentence(&error.message))
            .collect::<Vec<_>>()
    };
    let untranslated: usize = input
        .texts
        .iter()
        .map(|text| {
            input
                .locales
                .iter()
                .filter(|locale| text.texts.get(*locale).is_none_or(String::is_empty))
                .count()
        })
        .sum();
    let id = url_encode(input.id);
    let body = html! {
        (top("survey editor"))
        main class="dashboard editor" {
            h1 { "Edit " code { (input.id) } }
            p {
                "You are editing version " (input.version) ". Saving stores a new version; answers \
                 already given stay with the version they answered."
            }
            @if let Some((version, changed)) = input.saved {
                @if changed {
                    p class="saved" role="status" { "Saved as version " (version) "." }
                } @else {
                    p class="saved" role="status" { "Nothing had changed, so version " (version) " stays the latest." }
                }
            }
            @if !errors.is_empty() {
                div class="error" role="alert" id="editor-errors" {
                    p { "Nothing was saved. Please correct what is marked below." }
                    @for error in &unplaced {
                        p { (sentence(&error.message)) }
                    }
                }
            }
            form method="post" action={ "/dashboard/surveys/" (id) "/edit" } class="editor-form" {
                section aria-labelledby="settings-heading" {
                    h2 id="settings-heading" { "Settings" }
                    label for="confidentiality" { "Confidentiality" }
                    select id="confidentiality" name="confidentiality" {
                        @for mode in [ConfidentialityMode::Optional, ConfidentialityMode::Confidential, ConfidentialityMode::Anonymous] {
                            @let (value, words) = mode_words(mode);
                            option value=(value) selected[value == input.confidentiality] { (words) }
                        }
                    }
                    @for message in setting_error("confidentiality") { p class="error" role="alert" { (message) } }
                    label for="min_group_size" { "Smallest group shown (results of fewer respondents stay hidden)" }
                    input type="number" id="min_group_size" name="min_group_size" min="1" value=(input.min_group_size);
                    @for message in setting_error("min_group_size") { p class="error" role="alert" { (message) } }
                    label for="allowed_origins" { "Sites that may embed the survey (one per line, such as https://portal.example.com)" }
                    textarea id="allowed_origins" name="allowed_origins" rows="3" { (input.allowed_origins) }
                    @for message in setting_error("allowed_origins") { p class="error" role="alert" { (message) } }
                    label for="require_signed_context" { "Who may answer" }
                    select id="require_signed_context" name="require_signed_context" {
                        option value="no" selected[!input.require_signed_context] { "Anyone who opens a page that embeds it" }
                        option value="yes" selected[input.require_signed_context] { "Only clients your portal signs in, or who follow an invitation link" }
                    }
                }
                section aria-labelledby="texts-heading" {
                    h2 id="texts-heading" { "Texts" }
                    @if untranslated > 0 {
                        p class="notice" { (untranslated) " texts are not translated yet: they are marked below. Respondents in that language see the English wording." }
                    }
                    div class="scroll" tabindex="0" {
                        table class="texts" {
                            thead {
                                tr {
                                    th scope="col" { "Text" }
                                    @for locale in input.locales { th scope="col" lang=(locale) { (locale) } }
                                }
                            }
                            tbody {
                                @for text in input.texts {
                                    @let messages = text_error(&text.pointer);
                                    tr {
                                        th scope="row" {
                                            (text.label)
                                            @for message in &messages { p class="error" role="alert" { (message) } }
                                        }
                                        @for locale in input.locales {
                                            @let wording = text.texts.get(locale).map(String::as_str).unwrap_or_default();
                                            @let name = format!("text|{}|{}", text.pointer, locale);
                                            td class=[wording.is_empty().then_some("untranslated")] {
                                                textarea name=(name) lang=(locale) rows="2"
                                                    aria-label={ (text.label) " (" (locale) ")" } { (wording) }
                                                @if wording.is_empty() { span class="mark" { "Not translated" } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="topics-heading" {
                    h2 id="topics-heading" { "Topics" }
                    p { "Words that put a written answer under a topic, separated by commas. A word matches every word that starts with it: " code { "respons" } " matches “responsive”." }
                    @for (pointer, topic, keywords) in input.topics {
                        @let field = format!("keywords|{pointer}");
                        @let remove = format!("remove_topic|{}", pointer.trim_end_matches("/keywords"));
                        label for=(field) { (humanise(topic)) }
                        input type="text" id=(field) name=(field) value=(keywords);
                        label class="inline" for=(remove) {
                            input type="checkbox" id=(remove) name=(remove);
                            " Remove the topic " (humanise(topic)) " from the new version"
                        }
                    }
                    fieldset {
                        legend { "Add a topic" }
                        label for="new_topic_name" { "Name, such as Billing" }
                        input type="text" id="new_topic_name" name="new_topic_name" value=(input.new_topic.0) maxlength="80";
                        @if let Some(error) = error_for(errors, "new_topic_name") { (error) }
                        label for="new_topic_keywords" { "Words, separated by commas, such as invoice, bill, fee" }
                        input type="text" id="new_topic_keywords" name="new_topic_keywords" value=(input.new_topic.1);
                        @if let Some(error) = error_for(errors, "new_topic_keywords") { (error) }
                    }
                }
                button type="submit" { "Save as a new version" }
            }
            section aria-labelledby="preview-heading" {
                h2 id="preview-heading" { "Preview" }
                p { "The survey as respondents see it, in each language. Answers given in the preview are not stored." }
                nav aria-label="Preview languages" {
                    @for locale in input.locales {
                        a class="button secondary" target="preview"
                            href={ "/dashboard/surveys/" (id) "/preview?version=" (input.version) "&locale=" (url_encode(locale)) } { "Preview in " (locale) }
                        " "
                    }
                }
                iframe name="preview" title="Preview of the survey" class="preview"
                    src={ "/dashboard/surveys/" (id) "/preview?version=" (input.version) "&locale=" (input.locales.first().map_or("en", String::as_str)) } {}
            }
            section aria-labelledby="snippet-heading" {
                h2 id="snippet-heading" { "Embed it" }
                p { "Paste this into the page of your client portal where the survey should appear:" }
                pre class="snippet" tabindex="0" aria-label="Embed snippet" { code id="snippet" { (input.snippet) } }
                @if let Some(signing) = input.signing {
                    h3 { "Sign on your portal's server" }
                    p {
                        "This survey accepts only answers your portal vouches for. Your portal's server signs who is "
                        "signed in with the survey's portal secret, which "
                        code { "rapport key portal-secret --survey " (input.id) }
                        " prints; keep it on the server like a password, never in a page. In Node or in Python:"
                    }
                    pre class="snippet" tabindex="0" aria-label="Signing code" { code id="signing" { (signing) } }
                }
            }
        }
    };
    Html(page("Edit survey · Rapport dashboard", body).into_string())
}

/// The page the preview frame shows: the real widget with this version's definition
/// inline, sending to an address that stores nothing.
pub(crate) fn preview(definition_json: &str, locale: &str, survey: &str) -> Html<String> {
    let markup = html! {
        (maud::DOCTYPE)
        html lang=(locale) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Preview" }
                link rel="stylesheet" href="/dashboard.css";
                script type="module" src="/widget/rapport.js" {}
            }
            body class="preview-page" {
                p class="notice" { "Preview: answers given here are not stored." }
                rapport-survey survey=(survey) locale=(locale) endpoint="/dashboard/preview/responses"
                    definition=(definition_json) {}
            }
        }
    };
    Html(markup.into_string())
}
