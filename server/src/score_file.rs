//! `rapport score`: the report of a JSONL file of wire-format responses.
//!
//! Every line is validated before anything is printed: one bad line fails the whole command
//! with its line number and field, so a partial report is never mistaken for a full one.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use rapport_scoring::aggregate::{Figures, MeanFigures};
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::disclosure::RowRelease;
use rapport_scoring::emerging::{
    Audience, EmergingOptions, EmergingTopics, TextFigures, TextRow, Verbatims, emerging_topics,
};
use rapport_scoring::stats::WelchTest;
use rapport_scoring::wire::ResponseV1;
use rapport_scoring::{Report, ReportOptions, ResponseRecord, build_report, template, validate};

use crate::config::{Format, ScoreArgs};

/// Loads a definition: a built-in template name, or a TOML/JSON file.
pub fn load_definition(name_or_path: &str) -> anyhow::Result<SurveyDefinition> {
    if let Some(definition) = template(name_or_path) {
        return Ok(definition);
    }
    let path = Path::new(name_or_path);
    if !path.exists() {
        bail!(
            "{name_or_path:?} is neither a built-in template (client-portal, post-negotiation, legal-contract-experience) nor a file"
        );
    }
    let source =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SurveyDefinition::parse(&source)
        .with_context(|| format!("loading survey definition {}", path.display()))
}

/// Reads, validates and reports on `args.file`, returning the text to print.
pub fn run(args: &ScoreArgs) -> anyhow::Result<String> {
    let source = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let mut definition = args.survey.as_deref().map(load_definition).transpose()?;
    let mut records = Vec::new();
    let mut text_rows = Vec::new();
    for (line_idx, line) in source.lines().enumerate() {
        let line_number = line_idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut deserializer = serde_json::Deserializer::from_str(line);
        let response: ResponseV1 =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                let field = error.path().to_string();
                anyhow::anyhow!(
                    "line {line_number}: {}{}",
                    if field.is_empty() || field == "." {
                        String::new()
                    } else {
                        format!("{field}: ")
                    },
                    error.into_inner()
                )
            })?;
        let definition = match &definition {
            Some(definition) => definition,
            None => definition.insert(
                template(response.survey_id.as_str())
                    .with_context(|| format!("line {line_number}: survey {} is not built in; pass its definition with --survey", response.survey_id))?,
            ),
        };
        let valid = validate(definition, &response).map_err(|errors| {
            let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("line {line_number}: {}", listed.join("; "))
        })?;
        let record = ResponseRecord::from_valid(&valid);
        text_rows.push(TextRow::from_answers(
            definition,
            &record.answers,
            record.confidentiality,
            record.context.wave.clone(),
            response.locale.clone(),
            RowRelease::Live,
        ));
        records.push(record);
    }
    let Some(definition) = definition else {
        bail!("{} holds no responses", args.file.display())
    };
    let mut options = ReportOptions::default();
    for name in &args.by {
        options.add_breakdown(&definition, name)?;
    }
    let report = build_report(&definition, &records, &options);
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => {
            // The file is the programme team's own: every answer, exact counts, no quotes.
            let emerging = emerging_topics(
                &definition,
                &text_rows,
                &EmergingOptions::new(
                    definition.min_group_size,
                    Audience::Programme,
                    Verbatims::None,
                ),
            );
            table(&report) + &emerging_table(&emerging)
        }
    })
}

fn mean_text(figures: Option<&MeanFigures>) -> String {
    match figures {
        Some(MeanFigures {
            mean,
            interval_95: Some(interval),
            ..
        }) => format!("{mean:.2} [{:.2}, {:.2}]", interval.low, interval.high),
        Some(MeanFigures { mean, .. }) => format!("{mean:.2}"),
        None => "-".to_owned(),
    }
}

fn figures_row(label: &str, n: u64, figures: Option<&Figures>) -> String {
    let Some(figures) = figures else {
        return format!(
            "{label:<28} {n:>7}  (suppressed: fewer respondents than the minimum group size)\n"
        );
    };
    let nps = figures.nps.as_ref().map_or("-".to_owned(), |nps| {
        format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            nps.nps, nps.interval_95.low, nps.interval_95.high
        )
    });
    let mean = figures
        .nps
        .as_ref()
        .map_or("-".to_owned(), |nps| format!("{:.2}", nps.mean));
    let share = figures
        .confidentiality
        .confidential_share
        .map_or("-".to_owned(), |share| format!("{:.0}%", share * 100.0));
    format!(
        "{label:<28} {n:>7}  {nps:<24} {mean:>6}  {:<22} {share:>6}\n",
        mean_text(figures.crq.as_ref())
    )
}

/// The report as CSV: one row for all responses, then one per breakdown group, then one
/// per cell of each two-field breakdown (field `first:second`, value `a:b`). Suppressed
/// groups and cells carry their count only.
pub fn report_csv(report: &Report) -> String {
    let mut out = String::from(
        "field,value,n,suppressed,nps,nps_low_95,nps_high_95,mean_0_10,crq,confidential_share\n",
    );
    let number = |value: Option<f64>| value.map(|value| format!("{value:.4}")).unwrap_or_default();
    let mut row = |field: &str, value: &str, n: u64, figures: Option<&Figures>| {
        let nps = figures.and_then(|figures| figures.nps.as_ref());
        let cells = [
            crate::export::csv_cell(field),
            crate::export::csv_cell(value),
            n.to_string(),
            figures.is_none().to_string(),
            number(nps.map(|nps| nps.nps)),
            number(nps.map(|nps| nps.interval_95.low)),
            number(nps.map(|nps| nps.interval_95.high)),
            number(nps.map(|nps| nps.mean)),
            number(
                figures
                    .and_then(|figures| figures.crq.as_ref())
                    .map(|crq| crq.mean),
            ),
            number(figures.and_then(|figures| figures.confidentiality.confidential_share)),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    };
    row("all", "all", report.overall.n, Some(&report.overall));
    for segmentation in &report.segments {
        for group in &segmentation.groups {
            row(
                &segmentation.field,
                &group.value,
                group.n,
                group.figures.as_ref(),
            );
        }
    }
    for crossing in &report.crossings {
        let field = format!("{}:{}", crossing.first, crossing.second);
        for cell in &crossing.groups {
            let value = format!("{}:{}", cell.first, cell.second);
            row(&field, &value, cell.n, cell.figures.as_ref());
        }
    }
    out
}

/// A Welch test of the 0–10 answer on a line of the table.
fn test_line(test: Option<&WelchTest>) -> String {
    match test {
        Some(test) => format!(
            "  0-10 mean difference {:+.2} (Welch t = {:.2}, df = {:.1}, p = {:.3})\n",
            test.difference, test.t, test.df, test.p_value
        ),
        None => "  (not enough spread to test)\n".to_owned(),
    }
}

/// The report as a table for people.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Survey {} version {} (groups under {} show counts only)\n",
        report.survey_id, report.survey_version, report.min_group_size
    );
    if report.versions.len() > 1 {
        let _ = writeln!(out, "Counting versions, question by question:");
        for span in &report.versions {
            let not_asked = if span.not_asked.is_empty() {
                String::new()
            } else {
                let ids: Vec<&str> = span.not_asked.iter().map(|id| id.as_str()).collect();
                format!(", did not ask {}", ids.join(", "))
            };
            let _ = writeln!(
                out,
                "  version {}: {} responses{not_asked}",
                span.version, span.n
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{:<28} {:>7}  {:<24} {:>6}  {:<22} {:>6}",
        "group", "n", "NPS [95%]", "mean", "CRQ [95%]", "conf."
    );
    out.push_str(&figures_row(
        "all responses",
        report.overall.n,
        Some(&report.overall),
    ));
    for segmentation in &report.segments {
        let _ = writeln!(out, "\nby {}", segmentation.field);
        for group in &segmentation.groups {
            let name = match &group.label {
                Some(label) => format!("  {label} ({})", group.value),
                None => format!("  {}", group.value),
            };
            out.push_str(&figures_row(&name, group.n, group.figures.as_ref()));
        }
    }
    for crossing in &report.crossings {
        let _ = writeln!(out, "\nby {} and {}", crossing.first, crossing.second);
        for cell in &crossing.groups {
            let name = format!("  {} / {}", cell.first, cell.second);
            out.push_str(&figures_row(&name, cell.n, cell.figures.as_ref()));
        }
        for comparison in &crossing.comparisons {
            let _ = writeln!(
                out,
                "  within {}: {} vs {}",
                comparison.within, comparison.first, comparison.second
            );
            out.push_str(&test_line(comparison.nps_test.as_ref()));
        }
    }
    if let Some(levels) = Some(&report.overall.levels).filter(|levels| !levels.is_empty()) {
        let _ = writeln!(out, "\nCRQ levels (base first)");
        for level in levels {
            // `as_str`, because the id types' `Display` ignores width and would break the column.
            let _ = writeln!(
                out,
                "  {:<26} {}",
                level.id.as_str(),
                mean_text(level.figures.as_ref())
            );
        }
    }
    if let Some(categories) = &report.overall.categories {
        let _ = writeln!(
            out,
            "\nrelationships: {} ambassador, {} ambivalent, {} stalker, {} opponent",
            categories.ambassador, categories.ambivalent, categories.stalker, categories.opponent
        );
    }
    if let Some(comparison) = &report.confidentiality_comparison {
        let _ = writeln!(
            out,
            "\nconfidential vs identified: n = {} vs {}",
            comparison.confidential.n, comparison.identified.n
        );
        if comparison.suppressed {
            out.push_str("  (suppressed: a group is below the minimum size)\n");
        } else {
            out.push_str(&test_line(comparison.nps_test.as_ref()));
        }
    }
    for comparison in &report.wave_comparisons {
        let _ = writeln!(
            out,
            "\nwave {} -> {}",
            comparison.first_wave, comparison.second_wave
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>11} {:>11} {:>9} {:>9} {:>10}",
            "first choice", "respondents", "completion", "mean 1st", "mean 2nd", "CRQ change"
        );
        for group in &comparison.groups {
            let number =
                |value: Option<f64>| value.map_or("-".to_owned(), |value| format!("{value:.2}"));
            let _ = writeln!(
                out,
                "  {:<14} {:>11} {:>10.0}% {:>9} {:>9} {:>10}",
                group.choice.as_str(),
                group.respondents,
                group.completion_rate * 100.0,
                number(group.nps_mean_first),
                number(group.nps_mean_second),
                number(group.crq_change)
            );
        }
    }
    out.push_str(&drivers_table(report));
    out
}

/// The key drivers, most important first; nothing when the report has none.
fn drivers_table(report: &Report) -> String {
    let mut out = String::new();
    let Some(drivers) = &report.drivers else {
        return out;
    };
    let _ = writeln!(
        out,
        "
key drivers of the 0-10 answer: R\u{b2} {:.3} over {} complete answers",
        drivers.r_squared, drivers.complete_cases
    );
    let _ = writeln!(
        out,
        "  {:<24} {:>6} {:>7}  {:<22} {:<22} {:>5} {:>6}",
        "item", "share", "weight", "coefficient [95%]", "r [95%]", "mean", "n"
    );
    let mut items: Vec<_> = drivers.items.iter().collect();
    items.sort_by(|first, second| second.share.total_cmp(&first.share));
    for item in items {
        let _ = writeln!(
            out,
            "  {:<24} {:>5.0}% {:>7.3}  {:<22} {:<22} {:>5.2} {:>6}",
            item.id.as_str(),
            item.share * 100.0,
            item.relative_weight,
            format!(
                "{:+.2} [{:+.2}, {:+.2}]",
                item.coefficient, item.coefficient_interval.low, item.coefficient_interval.high
            ),
            format!(
                "{:+.2} [{:+.2}, {:+.2}]",
                item.correlation.r, item.correlation.interval.low, item.correlation.interval.high
            ),
            item.mean_rating,
            item.n_rated
        );
    }
    out
}

/// The emerging topics of a file as text: per wave, the share of texts no topic catches and
/// the words newly frequent since the wave before, with their z-score.
pub fn emerging_table(emerging: &EmergingTopics) -> String {
    let mut out = String::new();
    for wave in &emerging.waves {
        let Some(respondents) = wave.respondents else {
            continue;
        };
        let _ = writeln!(
            out,
            "\nemerging topics, wave {} ({} respondents{})",
            wave.wave,
            respondents,
            wave.previous_wave
                .as_deref()
                .map(|previous| format!(", against {previous}"))
                .unwrap_or_default()
        );
        for (kind, figures) in [
            ("strengths", &wave.strengths),
            ("weaknesses", &wave.weaknesses),
        ] {
            let Some(figures) = figures else { continue };
            out.push_str(&emerging_kind(kind, figures));
        }
    }
    out
}

fn emerging_kind(kind: &str, figures: &TextFigures) -> String {
    let mut out = String::new();
    let count = |value: Option<u64>| value.map_or("-".to_owned(), |value| value.to_string());
    if figures.texts == Some(0) {
        let _ = writeln!(out, "  {kind}: none written");
        return out;
    }
    let _ = writeln!(
        out,
        "  {kind}: {} texts, {} match no topic{}",
        count(figures.texts),
        count(figures.unmatched),
        figures
            .unmatched_share
            .map(|share| format!(" ({:.0}%)", share * 100.0))
            .unwrap_or_default()
    );
    for term in &figures.emerging {
        let _ = writeln!(
            out,
            "    {:<24} {:>4} respondents {:>4.0}% (was {:.0}%)  z {:.2}  promoters {} passives {} detractors {}",
            term.term,
            term.respondents,
            term.share * 100.0,
            term.previous_share.unwrap_or_default() * 100.0,
            term.z,
            count(term.promoters),
            count(term.passives),
            count(term.detractors)
        );
    }
    out
}
