//! Whether an open-text answer mentions a topic: a case-insensitive match of a keyword at
//! the start of a word.
//!
//! Report entries record, at ingest, which topics each strength and weakness text mentions,
//! and reports count those bits; both need the one definition of a mention that lives here.
//! This module depends on nothing else in the crate.

/// Whether `text` mentions any keyword: a case-insensitive match at the start of a word, so
/// the stem `respons` matches "Responsive" but `cost` does not match "accost".
pub fn mentions(text: &str, keywords: &[String]) -> bool {
    let keywords: Vec<String> = keywords
        .iter()
        .map(|keyword| keyword.trim().to_lowercase())
        .collect();
    mentions_lowered(&text.to_lowercase(), &keywords)
}

/// [`mentions`] for a text and keywords already lowercased (and the keywords trimmed), so
/// that a report lowercases each text and keyword once, not once per topic and record.
///
/// A keyword may only start where the text starts or right after a character that is not
/// alphanumeric, so only those places are tried, each against every keyword. The server
/// runs this on every response it takes; searching the whole text once per keyword cost
/// more than the rest of the entry.
pub(crate) fn mentions_lowered(lowered: &str, lowered_keywords: &[String]) -> bool {
    let word_starts = std::iter::once(0).chain(
        lowered
            .char_indices()
            .filter(|(_, c)| !c.is_alphanumeric())
            .map(|(at, c)| at + c.len_utf8()),
    );
    word_starts.into_iter().any(|at| {
        lowered_keywords
            .iter()
            .any(|keyword| lowered[at..].starts_with(keyword.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition of a mention, searched the slow way: every occurrence of the keyword,
    /// kept when nothing alphanumeric comes right before it.
    fn mentions_by_search(lowered: &str, keywords: &[String]) -> bool {
        keywords.iter().any(|keyword| {
            lowered.match_indices(keyword.as_str()).any(|(at, _)| {
                lowered[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|before| !before.is_alphanumeric())
            })
        })
    }

    #[test]
    fn a_mention_starts_a_word_and_is_found_as_a_search_finds_it() {
        let keywords = |words: &[&str]| {
            words
                .iter()
                .map(|word| word.to_string())
                .collect::<Vec<_>>()
        };
        assert!(mentions("Very Responsive team", &keywords(&["respons"])));
        assert!(!mentions("They accost us", &keywords(&["cost"])));
        assert!(mentions("cost-effective", &keywords(&["cost"])));
        assert!(mentions("(cost) and more", &keywords(&["cost"])));
        assert!(!mentions("", &keywords(&["cost"])));
        // Against the search, over texts built from pieces that put keywords inside words,
        // after punctuation and non-ASCII letters, at the ends, and twice.
        let pieces = [
            "cost", "ac", " ", "é", "-", "coûts", "Ü", "costly", "ß", ".", "respons", "x", "",
            "日本", "\u{301}",
        ];
        let keyword_sets = [
            keywords(&["cost"]),
            keywords(&["coût", "ssp"]),
            keywords(&["-x", "é"]),
            keywords(&["本", " respons"]),
            keywords(&[""]),
        ];
        let mut checked = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = format!("{a}{b}{c}{b}").to_lowercase();
                    for set in &keyword_sets {
                        assert_eq!(
                            mentions_lowered(&text, set),
                            mentions_by_search(&text, set),
                            "{text:?} {set:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, pieces.len().pow(3) * keyword_sets.len());
    }
}
