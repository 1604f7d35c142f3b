//! HTML building blocks of the dashboard: escaping, number formats, the page frame.
//!
//! Every piece of text that did not come from this crate's own string literals goes through
//! [`Esc`] (or [`esc`]) on its way into the page: answers, notes, names, account, matter and
//! wave labels, survey titles. The frame links one stylesheet and no script, so the pages run
//! under a CSP that forbids inline script and style.

use std::fmt::{self, Display, Write as _};

/// Text escaped for HTML element content and double-quoted attribute values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Esc<'a>(pub(crate) &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for character in self.0.chars() {
            match character {
                '&' => formatter.write_str("&amp;")?,
                '<' => formatter.write_str("&lt;")?,
                '>' => formatter.write_str("&gt;")?,
                '"' => formatter.write_str("&quot;")?,
                '\'' => formatter.write_str("&#39;")?,
                other => formatter.write_char(other)?,
            }
        }
        Ok(())
    }
}

/// `text` escaped for HTML, as an owned string.
pub(crate) fn esc(text: &str) -> String {
    Esc(text).to_string()
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

/// A p-value as people read it.
pub(crate) fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_owned()
    } else if p < 0.01 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
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
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/dashboard.css\">\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        Esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            esc("<img src=x onerror=\"a&b\">"),
            "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;"
        );
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(signed(41.6), "+42");
        assert_eq!(signed(-7.2), "\u{2212}7");
        assert_eq!(signed(0.2), "0");
        assert_eq!(p_value(0.0004), "p < 0.001");
        assert_eq!(p_value(0.0123), "p = 0.01");
        assert_eq!(p_value(0.0042), "p = 0.004");
        assert_eq!(p_value(0.31), "p = 0.31");
        assert_eq!(humanise("day-to-day"), "Day to day");
        assert_eq!(url_encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
    }
}
