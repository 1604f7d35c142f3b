//! Breakdowns by two fields at once (`by=returning:confidentiality`): a table with a row
//! per value of the first field and a column per value of the second, each cell its count
//! and NPS, then each row's differences in plain words.
//!
//! It shows what the report holds and nothing more: a hidden cell below the minimum size
//! reads "fewer than k", never its count, and a cell hidden as a complement shows its
//! count without scores. Accounts and matters read by their display names.
//!
//! A form at the top of the section picks the two fields (`rows` and `columns` in the
//! page's query), so nobody has to write `by=returning:confidentiality` by hand.

use maud::{Markup, html};
use rapport_scoring::SegmentField;
use rapport_scoring::definition::{Question, SurveyDefinition};
use rapport_scoring::report::{CrossComparison, CrossGroup, Crossing};
use rapport_scoring::stats::WelchTest;

use super::super::DashboardQuery;
use super::super::html::{chance, gap, humanise};
use super::segments::group_label;
use super::shared::{Fold, panel, scrolling_table};

/// The two-field breakdowns section: the form that chooses two fields, then a table for
/// each two-field breakdown the report holds.
pub(super) fn section(
    definition: &SurveyDefinition,
    crossings: &[Crossing],
    query: &DashboardQuery,
) -> Markup {
    // Open when a breakdown was asked for, so the reader sees what they chose.
    let fold = if crossings.is_empty() {
        Fold::Folded
    } else {
        Fold::Open
    };
    panel(
        "crossings",
        "Two fields at once",
        fold,
        html! {
            p class="lead" {
                "Compare groups made of two fields together, for example new or returning \
                 respondents by the confidentiality they chose. Each cell holds the \
                 respondents with one value of each field. Cells with fewer than "
                (definition.min_group_size) " responses, and the cells hidden with them so \
                 that none can be worked out from the totals, show no scores."
            }
            (chooser(definition, query))
            @for (idx, crossing) in crossings.iter().enumerate() {
                (crossing_table(definition, idx, crossing))
            }
        },
    )
}

/// A field's name in the chooser.
pub(super) fn field_words(definition: &SurveyDefinition, field: &SegmentField) -> String {
    match field {
        SegmentField::Account => "Account".to_owned(),
        SegmentField::Matter => "Matter".to_owned(),
        SegmentField::Wave => "Wave".to_owned(),
        SegmentField::Returning => "New or returning respondent".to_owned(),
        SegmentField::Confidentiality => "Confidentiality chosen".to_owned(),
        SegmentField::NpsCategory => "Promoter, passive or detractor".to_owned(),
        SegmentField::Question(id) => match definition.question(id.as_str()) {
            Some(Question::Role { .. }) => "Respondent's role".to_owned(),
            Some(question) => format!("Answer to “{}”", question.text().english()),
            None => humanise(id.as_str()),
        },
    }
}

/// The form choosing the rows and the columns, keeping the survey and version shown.
fn chooser(definition: &SurveyDefinition, query: &DashboardQuery) -> Markup {
    let fields = SegmentField::every(definition);
    let chosen = |which: Option<&String>, default: &str| {
        which
            .map(String::as_str)
            .filter(|name| fields.iter().any(|field| field.name() == *name))
            .unwrap_or(default)
            .to_owned()
    };
    let rows = chosen(query.rows.as_ref(), SegmentField::Returning.name());
    let columns = chosen(query.columns.as_ref(), SegmentField::Confidentiality.name());
    let select = |id: &str, label: &str, selected: &str| {
        html! {
            div class="field" {
                label for=(id) { (label) }
                select id=(id) name=(id) {
                    @for field in &fields {
                        option value=(field.name()) selected[field.name() == selected] {
                            (field_words(definition, field))
                        }
                    }
                }
            }
        }
    };
    html! {
        form method="get" action="/dashboard" class="picker crossing-chooser" {
            input type="hidden" name="survey" value=(definition.id.as_str());
            input type="hidden" name="version" value=(definition.version);
            @if let Some(since) = query.since_version {
                input type="hidden" name="since_version" value=(since);
            }
            (super::filters::kept_in_form(query))
            (select("rows", "Rows", &rows))
            (select("columns", "Columns", &columns))
            button type="submit" { "Compare" }
        }
        @if query.rows.is_some() && query.rows == query.columns {
            p class="error" role="alert" id="crossing-same-field" {
                "Choose two different fields: a field compared with itself shows nothing new."
            }
        }
    }
}

/// How a field's values read in a table and a sentence.
struct Field<'a> {
    definition: &'a SurveyDefinition,
    name: &'a str,
    field: Option<SegmentField>,
    /// Display names of the values, from the cells (accounts and matters only).
    names: Vec<(&'a str, &'a str)>,
}

impl<'a> Field<'a> {
    fn new(definition: &'a SurveyDefinition, name: &'a str) -> Self {
        Field {
            definition,
            name,
            field: SegmentField::parse(definition, name).ok(),
            names: Vec::new(),
        }
    }

    /// The field with the display names its cells carry on `side` (first or second).
    fn named(
        mut self,
        cells: &'a [CrossGroup],
        side: fn(&'a CrossGroup) -> (&'a str, Option<&'a str>),
    ) -> Self {
        for (value, name) in cells.iter().map(side) {
            if let Some(name) = name
                && !self.names.iter().any(|(known, _)| *known == value)
            {
                self.names.push((value, name));
            }
        }
        self
    }

    fn label(&self, value: &str) -> String {
        match self.names.iter().find(|(known, _)| *known == value) {
            Some((_, name)) => (*name).to_owned(),
            None => group_label(self.definition, self.field.as_ref(), value),
        }
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
        Field::new(definition, &crossing.first).named(&crossing.groups, |cell| {
            (cell.first.as_str(), cell.first_label.as_deref())
        }),
        Field::new(definition, &crossing.second).named(&crossing.groups, |cell| {
            (cell.second.as_str(), cell.second_label.as_deref())
        }),
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
