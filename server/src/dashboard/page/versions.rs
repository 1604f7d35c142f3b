//! What the figures count when a survey has several versions: which versions, how many
//! answers each gave, and which questions an earlier version did not ask; with a link to
//! count the version shown alone, or every version that asks the same 0–10 question again.
//!
//! The counting itself is `rapport_scoring::report::span_versions`, through
//! `export::role_report`: this module only says what came back.

use maud::{Markup, html};
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::report::VersionSpan;

use super::super::html::url_encode;
use super::shared::element_label;

/// Which versions the page's figures were asked to count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionScope {
    /// The earliest version counted.
    pub(crate) since: u32,
    /// The earliest version that could be counted: every later one asks the same 0–10
    /// question.
    pub(crate) earliest: u32,
}

/// "versions 1 to 3", "versions 2 and 3", "version 3".
fn range_words(first: u32, last: u32) -> String {
    match last - first {
        0 => format!("version {last}"),
        1 => format!("versions {first} and {last}"),
        _ => format!("versions {first} to {last}"),
    }
}

/// "A, B and C".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The sentence saying which versions the figures count, for the dashboard and the
/// summary; nothing for a survey whose earlier versions cannot be counted with it. `spans`
/// is the report's, `None` when it shows counts only; `link` leads to the same results
/// without a choice of versions.
pub(crate) fn note(
    definition: &SurveyDefinition,
    spans: Option<&[VersionSpan]>,
    scope: VersionScope,
    link: &str,
) -> Markup {
    let version = definition.version;
    if scope.earliest == version {
        return html! {};
    }
    let alone = format!("{link}&since_version={version}");
    let together = format!("{link}&since_version={}", scope.earliest);
    let spans = spans.unwrap_or_default();
    html! {
        div class="versions" id="versions" {
            @if scope.since == version {
                p {
                    "These figures count version " (version) " alone. "
                    a id="versions-together" href=(together) {
                        "Count " (range_words(scope.earliest, version)) " together"
                    }
                }
            } @else {
                p {
                    "These figures count " (range_words(scope.since, version))
                    " of the survey together, question by question"
                    @if spans.len() > 1 {
                        ": "
                        (listed(&spans.iter().map(|span| {
                            let answers = if span.n == 1 { "answer" } else { "answers" };
                            format!("{} {answers} to version {}", span.n, span.version)
                        }).collect::<Vec<_>>()))
                        "."
                        @for span in spans.iter().filter(|span| !span.not_asked.is_empty()) {
                            @let names: Vec<String> = span.not_asked.iter().map(|id| format!("“{}”", element_label(id.as_str()))).collect();
                            " Version " (span.version) " did not ask " (listed(&names))
                            ", so " (if names.len() == 1 { "its figures count" } else { "their figures count" })
                            " the other versions only."
                        }
                    } @else if let [only] = spans {
                        "; only version " (only.version) " has answers among them."
                    } @else {
                        "."
                    }
                    " "
                    a id="versions-alone" href=(alone) { "Show version " (version) " alone" }
                }
            }
        }
    }
}

/// The start of a link to the results of `definition` (survey and version), for [`note`].
pub(crate) fn results_link(definition: &SurveyDefinition, path: &str) -> String {
    format!(
        "{path}?survey={}&version={}",
        url_encode(definition.id.as_str()),
        definition.version
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists_read_as_words() {
        assert_eq!(range_words(3, 3), "version 3");
        assert_eq!(range_words(2, 3), "versions 2 and 3");
        assert_eq!(range_words(1, 3), "versions 1 to 3");
        assert_eq!(listed(&["a".to_owned()]), "a");
        assert_eq!(
            listed(&["a".to_owned(), "b".to_owned(), "c".to_owned()]),
            "a, b and c"
        );
    }
}
