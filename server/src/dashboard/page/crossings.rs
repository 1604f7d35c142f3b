//! Breakdowns by two fields at once (`by=returning:confidentiality`): a table with a row
//! per value of the first field and a column per value of the second, each cell its count
//! and NPS, then each row's differences in plain words.
//!
//! It shows what the report holds and nothing more: a hidden cell below the minimum size
//! reads "fewer than k", never its count, and a cell hidden as a complement shows its
//! count without scores.

use maud::{Markup, html};
use rapport_scoring::SegmentField;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::report::{CrossComparison, CrossGroup, Crossing};
use rapport_scoring::stats::WelchTest;

use super::super::html::{chance, gap, humanise};
use super::segments::group_label;
use super::shared::{Fold, panel, scrolling_table};

/// The two-field breakdowns section; nothing when none was asked for.
pub(super) fn section(definition: &SurveyDefinition, crossings: &[Crossing]) -> Markup {
    if crossings.is_empty() {
        return html! {};
    }
    // Asked for by name, so shown open.
    panel(
        "crossings",
        "Two fields at once",
        Fold::Open,
        html! {
            p class="lead" {
                "Each cell holds the respondents with one value of each field. Cells with \
                 fewer than " (definition.min_group_size) " responses, and the cells hidden \
                 with them so that none can be worked out from the totals, show no scores."
            }
            @for (idx, crossing) in crossings.iter().enumerate() {
                (crossing_table(definition, idx, crossing))
            }
        },
    )
}

/// How a field's values read in a table and a sentence.
struct Field<'a> {
    definition: &'a SurveyDefinition,
    name: &'a str,
    field: Option<SegmentField>,
}

impl<'a> Field<'a> {
    fn new(definition: &'a SurveyDefinition, name: &'a str) -> Self {
        Field {
            definition,
            name,
            field: SegmentField::parse(definition, name).ok(),
        }
    }

    fn label(&self, value: &str) -> String {
        group_label(self.definition, self.field.as_ref(), value)
    }

    /// The respondents with `value`, as the subject of a sentence: "new respondents".
    fn respondents(&self, value: &str) -> String {
        match (&self.field, value) {
            (Some(SegmentField::Returning), "new" | "returning") => {
                format!("{value} respondents")
            }
            (Some(SegmentField::Confidentiality), "confidential") => {
                "those who kept their answers confidential".to_owned()
            }
            (Some(SegmentField::Confidentiality), "identified") => {
                "those who chose to be identified".to_owned()
            }
            (Some(SegmentField::Confidentiality), "anonymous") => {
                "those who answered anonymously".to_owned()
            }
            _ => format!(
                "respondents whose {} is {}",
                humanise(self.name).to_lowercase(),
                self.label(value)
            ),
        }
    }
}

/// One crossing, the `idx`-th on the page: its table and its findings.
fn crossing_table(definition: &SurveyDefinition, idx: usize, crossing: &Crossing) -> Markup {
    let (rows, columns) = (
        Field::new(definition, &crossing.first),
        Field::new(definition, &crossing.second),
    );
    let title = format!(
        "{} by {}",
        humanise(&crossing.first),
        humanise(&crossing.second).to_lowercase()
    );
    let mut row_values: Vec<&str> = Vec::new();
    let mut column_values: Vec<&str> = Vec::new();
    for cell in &crossing.groups {
        if !row_values.contains(&cell.first.as_str()) {
            row_values.push(&cell.first);
        }
        if !column_values.contains(&cell.second.as_str()) {
            column_values.push(&cell.second);
        }
    }
    column_values.sort_unstable();
    let headings: Vec<String> = std::iter::once(humanise(&crossing.first))
        .chain(column_values.iter().map(|value| columns.label(value)))
        .collect();
    let caption = format!("{title}: responses and NPS per cell");
    let cell_of = |first: &str, second: &str| {
        crossing
            .groups
            .iter()
            .find(|cell| cell.first == first && cell.second == second)
    };
    html! {
        div class="crossing" {
            h3 id={ "crossing-" (idx) } { (title) }
            (scrolling_table(None, &caption, &headings, html! {
                @for first in &row_values {
                    tr {
                        th scope="row" { (rows.label(first)) }
                        @for second in &column_values {
                            td { (cell_text(cell_of(first, second), definition.min_group_size)) }
                        }
                    }
                }
            }))
            @if !crossing.comparisons.is_empty() {
                ul class="findings" {
                    @for comparison in &crossing.comparisons {
                        @if let Some(test) = &comparison.nps_test {
                            li { (finding(&rows, &columns, comparison, "on the 0–10 question", test)) }
                        }
                        @if let Some(test) = &comparison.crq_test {
                            li { (finding(&rows, &columns, comparison, "on relationship quality (CRQ)", test)) }
                        }
                    }
                }
            }
        }
    }
}

/// A cell's words: its count and NPS, its count alone when hidden as a complement, or
/// "fewer than k" when it is below the minimum size.
fn cell_text(cell: Option<&CrossGroup>, min_group_size: u32) -> String {
    let Some(cell) = cell else {
        return "none".to_owned();
    };
    let responses = |n: u64| if n == 1 { "response" } else { "responses" };
    if cell.n < u64::from(min_group_size) {
        return format!("fewer than {min_group_size}");
    }
    if cell.suppressed {
        return format!("{} {}, scores hidden", cell.n, responses(cell.n));
    }
    match cell
        .figures
        .as_ref()
        .and_then(|figures| figures.nps.as_ref())
    {
        Some(nps) => format!("{} {}, NPS {:+.0}", cell.n, responses(cell.n), nps.nps),
        None => format!("{} {}", cell.n, responses(cell.n)),
    }
}

/// One comparison in plain words: "Among new respondents, those who kept their answers
/// confidential score 1.2 lower on the 0–10 question than those who chose to be
/// identified; chance alone would give a gap this large less than 1 time in 1,000."
fn finding(
    rows: &Field<'_>,
    columns: &Field<'_>,
    comparison: &CrossComparison,
    what: &str,
    test: &WelchTest,
) -> String {
    let (earlier, later) = (
        columns.respondents(&comparison.first),
        columns.respondents(&comparison.second),
    );
    let scored = match gap(test.difference) {
        None => format!("score about the same {what} as {later}"),
        Some(gap) => format!("score {gap} on average {what} than {later}"),
    };
    format!(
        "Among {}, {earlier} {scored}; chance alone would give a gap this large {}.",
        rows.respondents(&comparison.within),
        chance(test.p_value)
    )
}

#[cfg(test)]
mod tests {
    use rapport_scoring::template;

    use super::*;

    #[test]
    fn a_comparison_reads_as_a_sentence_without_statistics_jargon() {
        let definition = template("client-portal").unwrap();
        let (rows, columns) = (
            Field::new(&definition, "returning"),
            Field::new(&definition, "confidentiality"),
        );
        let comparison = CrossComparison {
            within: "new".to_owned(),
            first: "confidential".to_owned(),
            second: "identified".to_owned(),
            nps_test: None,
            crq_test: None,
        };
        let test = WelchTest {
            difference: -1.23,
            t: -4.1,
            df: 40.2,
            p_value: 0.0004,
        };
        assert_eq!(
            finding(&rows, &columns, &comparison, "on the 0–10 question", &test),
            "Among new respondents, those who kept their answers confidential score 1.2 lower \
             on average on the 0–10 question than those who chose to be identified; chance \
             alone would give a gap this large less than 1 time in 1,000."
        );
    }
}
