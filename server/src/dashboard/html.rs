//! HTML building blocks of the dashboard: the page frame, number formats, URL encoding.
//!
//! The pages are written with maud's `html!`, which escapes every splice unless it is
//! wrapped in `PreEscaped`; this module never wraps text from data that way, so answers,
//! notes, names, account, matter and wave labels and survey titles reach the page escaped.
//! The frame links one stylesheet and no script, so the pages run under a CSP that forbids
//! inline script and style.

use std::fmt::Write as _;

use maud::{DOCTYPE, Markup, html};

/// What a table cell or card shows where a figure is missing: an en dash.
pub(crate) const MISSING: &str = "–";

/// `value` written by `write`, or [`MISSING`] without a value.
pub(crate) fn or_missing<T>(value: Option<T>, write: impl FnOnce(T) -> String) -> String {
    value.map_or_else(|| MISSING.to_owned(), write)
}

/// Percent-encodes `text` for a URL query value or path segment.
pub(crate) fn url_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// An NPS with its sign: `+42`, `0`, `−7` (a true minus sign).
pub(crate) fn signed(value: f64) -> String {
    let rounded = value.round();
    if rounded > 0.0 {
        format!("+{rounded:.0}")
    } else if rounded < 0.0 {
        format!("\u{2212}{:.0}", -rounded)
    } else {
        "0".to_owned()
    }
}

/// A mean with one decimal.
pub(crate) fn one_decimal(value: f64) -> String {
    format!("{value:.1}")
}

/// A share as a whole percentage.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A difference of two means in words, "1.2 lower" or "0.8 higher"; `None` when it is
/// too small to name (under 0.05), and the groups score about the same.
pub(crate) fn gap(difference: f64) -> Option<String> {
    (difference.abs() >= 0.05).then(|| {
        format!(
            "{} {}",
            one_decimal(difference.abs()),
            if difference < 0.0 { "lower" } else { "higher" }
        )
    })
}

/// A p-value as a managing partner reads it: how often chance alone would give a
/// difference this large, "less than 1 time in 1,000", "about 1 time in 40".
pub(crate) fn chance(p: f64) -> String {
    if p < 0.001 {
        "less than 1 time in 1,000".to_owned()
    } else if p >= 0.5 {
        "about every other time or more".to_owned()
    } else {
        let times = (1.0 / p).round();
        let times = if times >= 1000.0 {
            "1,000".to_owned()
        } else {
            format!("{times:.0}")
        };
        format!("about 1 time in {times}")
    }
}

/// `text` as a sentence on a page: a capital first letter and a full stop. Messages from
/// `scoring` and the services are written to follow a field's name, in lower case.
pub(crate) fn sentence(text: &str) -> String {
    let mut characters = text.chars();
    let mut sentence: String = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    };
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

/// An identifier shown as a label: `day-to-day` becomes `Day to day`.
pub(crate) fn humanise(id: &str) -> String {
    let spaced = id.replace(['-', '_'], " ");
    let mut characters = spaced.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// A whole page: the frame around `body`, with the dashboard stylesheet and no script.
pub(crate) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/dashboard.css";
            }
            body { (body) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        let text = "<script>alert('x')</script><img src=x onerror=\"a&b\">";
        let page = page(text, html! { p title=(text) { (text) } }).into_string();
        assert!(
            !page.contains("<script") && !page.contains("<img"),
            "{page}"
        );
        let escaped = "&lt;script&gt;alert('x')&lt;/script&gt;\
                       &lt;img src=x onerror=&quot;a&amp;b&quot;&gt;";
        assert_eq!(page.matches(escaped).count(), 3, "{page}");
    }

    #[test]
    fn the_frame_links_the_stylesheet_and_no_script() {
        let page = page("Title", html! {}).into_string();
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/dashboard.css\">"));
        assert!(!page.contains("<script") && !page.contains("style="));
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(signed(41.6), "+42");
        assert_eq!(signed(-7.2), "\u{2212}7");
        assert_eq!(signed(0.2), "0");
        assert_eq!(chance(0.0004), "less than 1 time in 1,000");
        assert_eq!(chance(0.0123), "about 1 time in 81");
        assert_eq!(chance(0.0042), "about 1 time in 238");
        assert_eq!(chance(0.31), "about 1 time in 3");
        assert_eq!(chance(0.7), "about every other time or more");
        assert_eq!(humanise("day-to-day"), "Day to day");
        assert_eq!(url_encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
        assert_eq!(or_missing(Some(4.0), one_decimal), "4.0");
        assert_eq!(or_missing(None, one_decimal), MISSING);
    }
}
