//! The dashboard's pages as HTML: the sign-in form and the results of one survey.
//!
//! The results page renders a [`RoleReport`] and a [`FollowUpList`] exactly as the API
//! returned them for the caller: a group the report shows counts only for is shown as counts
//! only, with the reason; a section the role has no right to (the CSV, the close-the-loop
//! list for a viewer) is not rendered at all. Every text from data goes through [`Esc`].

use std::fmt::Write as _;

use axum::response::Html;
use rapport_scoring::aggregate::{Figures, NpsFigures};
use rapport_scoring::close_loop::Reason;
use rapport_scoring::definition::{Question, SurveyDefinition};
use rapport_scoring::report::{ConfidentialityComparison, Segmentation, WaveComparison};
use rapport_scoring::stats::WelchTest;
use rapport_scoring::wire::ConfidentialityChoice;

use super::DashboardQuery;
use super::charts::{self, GroupRow, Part, PyramidLevel, TopicBar, TrendPoint};
use super::html::{Esc, esc, humanise, one_decimal, p_value, page, percent, signed, url_encode};
use crate::auth::{Caller, Role};
use crate::export::RoleReport;
use crate::follow_up::{AccountSummary, FollowUpList, FollowUpState};
use crate::store::{FollowUpStatus, SurveySummary};

/// The sign-in form, with an error message after a refused token.
pub(crate) fn login(error: Option<&str>) -> Html<String> {
    let error = error
        .map(|message| {
            format!(
                "<p class=\"error\" role=\"alert\" id=\"login-error\">{}</p>",
                Esc(message)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<main class=\"narrow login\">\n<p class=\"brand\">Rapport</p>\n<h1>Sign in to the results dashboard</h1>\n\
         <p>Use the API token you were given (<code>rapport token create</code> makes one). It is kept in a cookie for this \
         dashboard only, for eight hours or until you sign out.</p>\n{error}\
         <form method=\"post\" action=\"/dashboard/login\" class=\"login-form\">\n<label for=\"token\">API token</label>\n\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" spellcheck=\"false\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n</main>"
    );
    Html(page("Sign in · Rapport dashboard", &body))
}

/// What the results page is drawn from.
#[derive(Debug)]
pub(crate) struct DashboardPage<'a> {
    /// Who is looking.
    pub(crate) caller: &'a Caller,
    /// Every survey, for the picker.
    pub(crate) surveys: &'a [SurveySummary],
    /// The survey shown.
    pub(crate) definition: &'a SurveyDefinition,
    /// Its report, as the caller may see it.
    pub(crate) report: &'a RoleReport,
    /// Its close-the-loop list; `None` for a viewer.
    /// The close-the-loop list with the opened account in full, and every account's summary.
    pub(crate) follow_ups: Option<(&'a FollowUpList, &'a [AccountSummary])>,
    /// The page's query.
    pub(crate) query: &'a DashboardQuery,
}

/// The results page.
pub(crate) fn dashboard(input: &DashboardPage<'_>) -> String {
    let definition = input.definition;
    let title = definition.title.english();
    let mut body = String::new();
    header(&mut body, input);
    body.push_str("<main class=\"dashboard\">\n");
    let _ = writeln!(
        body,
        "<div class=\"title-row\"><h1>{}</h1><p class=\"meta\">Survey <code>{}</code>, version {} · {}</p></div>",
        Esc(title),
        Esc(definition.id.as_str()),
        definition.version,
        scope_text(input.caller)
    );
    if let Some(batch_size) = input.report.protected_batch_size {
        let _ = writeln!(
            body,
            "<p class=\"notice\" role=\"note\" id=\"publication\">Answers given in confidence are added to these figures in groups of at least {batch_size}, \
             and only whole groups are counted anywhere on this page, so that nobody can work out who said what. \
             Until a group is complete, up to {} such answers may not be included yet. \
             Answers from people who chose to be named appear as soon as they arrive.{}</p>",
            batch_size.saturating_sub(1),
            match input.report.published_at.as_deref().and_then(readable_time) {
                Some(when) => format!(" The last group was added on {when}."),
                None => " No group is complete yet.".to_owned(),
            }
        );
    }
    match &input.report.report {
        None => {
            let _ = writeln!(
                body,
                "<section class=\"panel\" id=\"summary\"><h2>Results</h2><p class=\"suppressed\">{} {} so far: fewer than {}, the smallest group whose scores \
                 are shown, so only the count is shown to protect confidentiality.</p></section>",
                input.report.n,
                if input.report.n == 1 {
                    "response"
                } else {
                    "responses"
                },
                definition.min_group_size
            );
        }
        Some(report) => {
            nav(&mut body, input.follow_ups.is_some());
            summary(&mut body, definition, &report.overall);
            distribution(&mut body, report.overall.nps.as_ref());
            pyramid(&mut body, definition, &report.overall);
            let segment = |field: &str| {
                report
                    .segments
                    .iter()
                    .find(|segmentation| segmentation.field == field)
            };
            trend(&mut body, segment("wave"), definition.min_group_size);
            segments(
                &mut body,
                definition,
                report
                    .segments
                    .iter()
                    .filter(|segmentation| segmentation.field != "wave"),
            );
            confidentiality(
                &mut body,
                definition,
                &report.overall,
                segment("returning"),
                report.confidentiality_comparison.as_ref(),
            );
            waves(&mut body, definition, &report.wave_comparisons);
            topics(&mut body, report);
        }
    }
    if let Some((list, summaries)) = input.follow_ups {
        follow_ups(&mut body, definition, list, summaries, input.query);
    }
    body.push_str("</main>\n");
    page(&format!("{title} · Rapport dashboard"), &body)
}

fn scope_text(caller: &Caller) -> String {
    match caller.role {
        Role::Admin => "signed in as programme lead (every response)".to_owned(),
        Role::Account => format!(
            "signed in as account manager for {}",
            esc(&caller.accounts.join(", "))
        ),
        Role::Viewer => "signed in as viewer (aggregates only)".to_owned(),
    }
}

fn header(body: &mut String, input: &DashboardPage<'_>) {
    let definition = input.definition;
    body.push_str("<header class=\"top\">\n<p class=\"brand\">Rapport <span>results</span></p>\n");
    body.push_str("<form method=\"get\" action=\"/dashboard\" class=\"picker\"><label for=\"survey\">Survey</label><select id=\"survey\" name=\"survey\">");
    for survey in input.surveys {
        let selected = if survey.id == definition.id.as_str() {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{}\"{selected}>{} ({} responses)</option>",
            Esc(&survey.id),
            Esc(&survey.title),
            survey.responses
        );
    }
    body.push_str("</select><button type=\"submit\">Show</button></form>\n<div class=\"actions\">");
    if input.caller.role != Role::Viewer {
        let _ = write!(
            body,
            "<a class=\"button\" id=\"csv-download\" href=\"/dashboard/surveys/{}/responses.csv?version={}\" download>Download CSV</a>",
            url_encode(definition.id.as_str()),
            definition.version
        );
    }
    body.push_str("<form method=\"post\" action=\"/dashboard/logout\"><button type=\"submit\" class=\"secondary\">Sign out</button></form></div>\n</header>\n");
}

fn nav(body: &mut String, with_follow_ups: bool) {
    body.push_str("<nav class=\"sections\" aria-label=\"Sections\"><ul>");
    let mut links = vec![
        ("summary", "Summary"),
        ("distribution", "0–10"),
        ("pyramid", "CRQ pyramid"),
        ("trend", "Trend"),
        ("segments", "Segments"),
        ("confidentiality", "Confidentiality"),
        ("waves", "Waves"),
        ("topics", "Topics"),
    ];
    if with_follow_ups {
        links.push(("follow-ups", "Close the loop"));
    }
    for (anchor, label) in links {
        let _ = write!(body, "<li><a href=\"#{anchor}\">{label}</a></li>");
    }
    body.push_str("</ul></nav>\n");
}

fn nps_interval(nps: &NpsFigures) -> (f64, f64, f64) {
    (nps.nps, nps.interval_95.low, nps.interval_95.high)
}

fn summary(body: &mut String, definition: &SurveyDefinition, overall: &Figures) {
    body.push_str("<section class=\"panel\" id=\"summary\" aria-labelledby=\"summary-heading\"><h2 id=\"summary-heading\">Summary</h2><div class=\"cards\">");
    match &overall.nps {
        Some(nps) => {
            let _ = write!(
                body,
                "<div class=\"card\" id=\"nps-card\"><h3>Net Promoter Score</h3><p class=\"big\" id=\"nps-value\">{}</p><p class=\"sub\">95% interval {} to {} · {} answers</p></div>\
                 <div class=\"card\"><h3>Average likelihood to recommend</h3><p class=\"big\">{}</p><p class=\"sub\">mean of the 0–10 answers (not the NPS)</p></div>",
                signed(nps.nps),
                signed(nps.interval_95.low),
                signed(nps.interval_95.high),
                nps.answered,
                one_decimal(nps.mean)
            );
        }
        None => body.push_str("<div class=\"card\"><h3>Net Promoter Score</h3><p class=\"big\">–</p><p class=\"sub\">nobody answered the 0–10 question</p></div>"),
    }
    if let Some(crq) = &overall.crq {
        let band = charts::band(crq.mean, &definition.thresholds);
        let _ = write!(
            body,
            "<div class=\"card\"><h3>Relationship quality (CRQ)</h3><p class=\"big\" id=\"crq-value\">{}</p><p class=\"sub\">of 7 · on average {} · {} rated</p></div>",
            one_decimal(crq.mean),
            band.name,
            crq.n
        );
    }
    let counts = &overall.confidentiality;
    let share = counts
        .confidential_share
        .map(|share| format!("{} chose confidentiality", percent(share)))
        .unwrap_or_else(|| "no confidentiality choice offered".to_owned());
    let _ = write!(
        body,
        "<div class=\"card\"><h3>Responses</h3><p class=\"big\" id=\"n-responses\">{}</p><p class=\"sub\">{share}</p></div></div>",
        overall.n
    );
    if let Some(nps) = &overall.nps {
        let parts = [
            Part {
                label: "Promoters (9–10)".into(),
                count: nps.promoters,
                fill: charts::PROMOTER,
                ink: "#ffffff",
            },
            Part {
                label: "Passives (7–8)".into(),
                count: nps.passives,
                fill: charts::PASSIVE,
                ink: "#111827",
            },
            Part {
                label: "Detractors (0–6)".into(),
                count: nps.detractors,
                fill: charts::DETRACTOR,
                ink: "#ffffff",
            },
        ];
        body.push_str("<h3 class=\"chart-heading\">Promoters, passives and detractors</h3>");
        body.push_str(&charts::stacked_bar(
            "nps-bar",
            "Promoters, passives and detractors",
            &parts,
        ));
        legend(body, &parts, nps.answered);
    }
    body.push_str("</section>\n");
}

/// A small colour square for a legend, drawn with the same fill as the chart.
fn swatch(fill: &str) -> String {
    format!(
        "<svg class=\"swatch\" viewBox=\"0 0 10 10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" rx=\"2\" fill=\"{fill}\"/></svg>"
    )
}

fn legend(body: &mut String, parts: &[Part], total: u64) {
    body.push_str("<ul class=\"legend\">");
    for part in parts {
        let share = if total == 0 {
            0.0
        } else {
            part.count as f64 / total as f64
        };
        let _ = write!(
            body,
            "<li>{}{}: {} ({})</li>",
            swatch(part.fill),
            Esc(&part.label),
            part.count,
            percent(share)
        );
    }
    body.push_str("</ul>");
}

fn distribution(body: &mut String, nps: Option<&NpsFigures>) {
    body.push_str("<section class=\"panel\" id=\"distribution\" aria-labelledby=\"distribution-heading\"><h2 id=\"distribution-heading\">Answers to “How likely are you to recommend us?”</h2>");
    match nps {
        Some(nps) => {
            body.push_str(&charts::distribution(
                "distribution-chart",
                &nps.distribution,
            ));
            body.push_str("<details><summary>Show as a table</summary><table><caption>Responses per answer</caption><thead><tr><th scope=\"col\">Answer</th><th scope=\"col\">Responses</th></tr></thead><tbody>");
            for (answer, count) in nps.distribution.iter().enumerate() {
                let _ = write!(
                    body,
                    "<tr><th scope=\"row\">{answer}</th><td>{count}</td></tr>"
                );
            }
            body.push_str("</tbody></table></details>");
        }
        None => body.push_str("<p>Nobody answered the 0–10 question.</p>"),
    }
    body.push_str("</section>\n");
}

/// An element's short name, from its id (`care` becomes `Care`).
fn element_label(id: &str) -> String {
    humanise(id)
}

fn pyramid(body: &mut String, definition: &SurveyDefinition, overall: &Figures) {
    if definition.levels.is_empty() {
        return;
    }
    body.push_str("<section class=\"panel\" id=\"pyramid\" aria-labelledby=\"pyramid-heading\"><h2 id=\"pyramid-heading\">Customer Relationship Quality</h2>");
    body.push_str("<p class=\"lead\">Each level is the mean of its elements on the 1–7 agreement scale, coloured by the relationship category that score falls in.</p><div class=\"pyramid-grid\"><div class=\"pyramid-figure\">");
    let levels: Vec<PyramidLevel> = definition
        .levels
        .iter()
        .map(|level| {
            let score = overall
                .levels
                .iter()
                .find(|figures| figures.id == level.id)
                .and_then(|figures| figures.figures.as_ref())
                .map(|figures| figures.mean);
            PyramidLevel {
                label: level.label.english().to_owned(),
                score,
                band: score.map(|score| charts::band(score, &definition.thresholds)),
            }
        })
        .collect();
    body.push_str(&charts::pyramid("pyramid-chart", &levels));
    let thresholds = &definition.thresholds;
    let _ = write!(
        body,
        "<ul class=\"legend bands\"><li><span class=\"band ambassador\"></span>Ambassador ≥ {}</li><li><span class=\"band ambivalent\"></span>Ambivalent ≥ {}</li>\
         <li><span class=\"band stalker\"></span>Stalker ≥ {}</li><li><span class=\"band opponent\"></span>Opponent below {}</li></ul></div>",
        thresholds.ambassador, thresholds.ambivalent, thresholds.stalker, thresholds.stalker
    );
    body.push_str("<table class=\"elements\"><caption>Level and element scores (mean of 1–7)</caption><thead><tr><th scope=\"col\">Level / element</th><th scope=\"col\">Mean</th><th scope=\"col\">95% interval</th><th scope=\"col\">Rated by</th></tr></thead><tbody>");
    for (level, drawn) in definition.levels.iter().zip(&levels).rev() {
        let level_figures = overall
            .levels
            .iter()
            .find(|figures| figures.id == level.id)
            .and_then(|figures| figures.figures.as_ref());
        let _ = write!(
            body,
            "<tr class=\"level-row\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            Esc(&drawn.label),
            drawn.score.map_or_else(|| "–".to_owned(), one_decimal),
            level_figures
                .and_then(|figures| figures.interval_95)
                .map_or_else(
                    || "–".to_owned(),
                    |interval| format!(
                        "{} to {}",
                        one_decimal(interval.low),
                        one_decimal(interval.high)
                    )
                ),
            level_figures.map_or(0, |figures| figures.n)
        );
        for item in overall
            .items
            .iter()
            .filter(|item| item.level.as_ref() == Some(&level.id))
        {
            let mean = item.figures.as_ref().map(|figures| figures.mean);
            let band_class = mean
                .map(|mean| charts::band(mean, thresholds).name.to_lowercase())
                .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><th scope=\"row\" class=\"element\"><span class=\"band {band_class}\"></span>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                Esc(&element_label(item.id.as_str())),
                mean.map_or_else(|| "–".to_owned(), one_decimal),
                item.figures
                    .as_ref()
                    .and_then(|figures| figures.interval_95)
                    .map_or_else(
                        || "–".to_owned(),
                        |interval| format!(
                            "{} to {}",
                            one_decimal(interval.low),
                            one_decimal(interval.high)
                        )
                    ),
                item.figures.as_ref().map_or(0, |figures| figures.n)
            );
        }
    }
    body.push_str("</tbody></table></div>");
    if let Some(categories) = &overall.categories {
        let parts = [
            Part {
                label: "Ambassadors".into(),
                count: categories.ambassador,
                fill: charts::band(7.0, thresholds).fill,
                ink: "#111827",
            },
            Part {
                label: "Ambivalent".into(),
                count: categories.ambivalent,
                fill: charts::band(thresholds.ambivalent, thresholds).fill,
                ink: "#111827",
            },
            Part {
                label: "Stalkers".into(),
                count: categories.stalker,
                fill: charts::band(thresholds.stalker, thresholds).fill,
                ink: "#111827",
            },
            Part {
                label: "Opponents".into(),
                count: categories.opponent,
                fill: charts::band(0.0, thresholds).fill,
                ink: "#111827",
            },
        ];
        let total = parts.iter().map(|part| part.count).sum();
        body.push_str("<h3 class=\"chart-heading\" id=\"categories\">Relationship categories</h3>");
        body.push_str(&charts::stacked_bar(
            "categories-bar",
            "Relationship categories",
            &parts,
        ));
        legend(body, &parts, total);
        body.push_str("<p class=\"note\">Stalkers and Opponents are the relationships that need an honest conversation.</p>");
    }
    body.push_str("</section>\n");
}

fn hidden_text(n: u64, min_group_size: u32) -> String {
    format!(
        "{n} {}: fewer than {min_group_size}, so scores are hidden to protect confidentiality",
        if n == 1 { "response" } else { "responses" }
    )
}

fn trend(body: &mut String, waves: Option<&Segmentation>, min_group_size: u32) {
    body.push_str("<section class=\"panel\" id=\"trend\" aria-labelledby=\"trend-heading\"><h2 id=\"trend-heading\">Trend across waves</h2>");
    let Some(waves) = waves else {
        body.push_str("<p>No wave breakdown.</p></section>\n");
        return;
    };
    let points: Vec<TrendPoint> = waves
        .groups
        .iter()
        .map(|group| TrendPoint {
            label: group.value.clone(),
            nps: group
                .figures
                .as_ref()
                .and_then(|figures| figures.nps.as_ref())
                .map(nps_interval),
        })
        .collect();
    body.push_str(&charts::trend("trend-chart", &points));
    body.push_str("<table><caption>Results by wave</caption><thead><tr><th scope=\"col\">Wave</th><th scope=\"col\">Responses</th><th scope=\"col\">NPS (95% interval)</th><th scope=\"col\">Mean 0–10</th><th scope=\"col\">CRQ</th></tr></thead><tbody>");
    for group in &waves.groups {
        group_row(
            body,
            &group.value,
            group.n,
            group.figures.as_ref(),
            min_group_size,
            false,
        );
    }
    body.push_str("</tbody></table></section>\n");
}

/// One table row of a group: its scores, or its count and why there is nothing more.
fn group_row(
    body: &mut String,
    label: &str,
    n: u64,
    figures: Option<&Figures>,
    min_group_size: u32,
    with_share: bool,
) {
    let _ = write!(
        body,
        "<tr><th scope=\"row\">{}</th><td>{n}</td>",
        Esc(label)
    );
    match figures {
        Some(figures) => {
            let nps = figures.nps.as_ref();
            let _ = write!(
                body,
                "<td>{}</td><td>{}</td><td>{}</td>",
                nps.map_or_else(
                    || "–".to_owned(),
                    |nps| format!(
                        "{} ({} to {})",
                        signed(nps.nps),
                        signed(nps.interval_95.low),
                        signed(nps.interval_95.high)
                    )
                ),
                nps.map_or_else(|| "–".to_owned(), |nps| one_decimal(nps.mean)),
                figures
                    .crq
                    .as_ref()
                    .map_or_else(|| "–".to_owned(), |crq| one_decimal(crq.mean))
            );
            if with_share {
                let _ = write!(
                    body,
                    "<td>{}</td>",
                    figures
                        .confidentiality
                        .confidential_share
                        .map_or_else(|| "–".to_owned(), percent)
                );
            }
        }
        None => {
            let _ = write!(
                body,
                "<td colspan=\"{}\" class=\"suppressed\">{}</td>",
                if with_share { 4 } else { 3 },
                hidden_text(n, min_group_size)
            );
        }
    }
    body.push_str("</tr>");
}

fn segment_title(definition: &SurveyDefinition, field: &str) -> String {
    match field {
        "account" => "By account".to_owned(),
        "matter" => "By matter".to_owned(),
        "returning" => "New and returning respondents".to_owned(),
        "confidentiality" => "By confidentiality choice".to_owned(),
        "nps-category" => "By NPS category".to_owned(),
        other => match definition.question(other) {
            Some(Question::Role { .. }) => "By respondent role".to_owned(),
            Some(question) => format!("By “{}”", question.text().english()),
            None => format!("By {}", humanise(other)),
        },
    }
}

/// The wording of a group value: a role's label rather than its id.
fn group_label(definition: &SurveyDefinition, field: &str, value: &str) -> String {
    if value == "(none)" {
        return "Not given".to_owned();
    }
    if field == "returning" {
        return humanise(value);
    }
    match definition.question(field) {
        Some(Question::Role { options, .. } | Question::Choice { options, .. }) => value
            .split('+')
            .map(|part| {
                options
                    .iter()
                    .find(|option| option.id.as_str() == part)
                    .map_or_else(
                        || part.to_owned(),
                        |option| option.label.english().to_owned(),
                    )
            })
            .collect::<Vec<_>>()
            .join(" + "),
        _ => value.to_owned(),
    }
}

fn segments<'a>(
    body: &mut String,
    definition: &SurveyDefinition,
    segmentations: impl Iterator<Item = &'a Segmentation>,
) {
    body.push_str("<section class=\"panel\" id=\"segments\" aria-labelledby=\"segments-heading\"><h2 id=\"segments-heading\">Segments</h2>");
    let _ = write!(
        body,
        "<p class=\"lead\">Groups with fewer than {} responses show their count only.</p>",
        definition.min_group_size
    );
    for (idx, segmentation) in segmentations.enumerate() {
        let title = segment_title(definition, &segmentation.field);
        let _ = write!(
            body,
            "<div class=\"segment\"><h3 id=\"segment-{idx}\">{}</h3>",
            Esc(&title)
        );
        // A chart of a few groups helps; a chart of a hundred accounts does not.
        if segmentation.groups.len() <= 12 {
            let rows: Vec<GroupRow> = segmentation
                .groups
                .iter()
                .map(|group| GroupRow {
                    label: group_label(definition, &segmentation.field, &group.value),
                    nps: group
                        .figures
                        .as_ref()
                        .and_then(|figures| figures.nps.as_ref())
                        .map(nps_interval),
                })
                .collect();
            body.push_str(&charts::group_dots(
                &format!("segment-chart-{idx}"),
                &format!("NPS {}", title.to_lowercase()),
                &rows,
            ));
        }
        let _ = write!(
            body,
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{0}: scores per group\"><table><caption>{0}: scores per group</caption><thead><tr><th scope=\"col\">Group</th><th scope=\"col\">Responses</th><th scope=\"col\">NPS (95% interval)</th>\
             <th scope=\"col\">Mean 0–10</th><th scope=\"col\">CRQ</th><th scope=\"col\">Chose confidentiality</th></tr></thead><tbody>",
            Esc(&title)
        );
        for group in &segmentation.groups {
            group_row(
                body,
                &group_label(definition, &segmentation.field, &group.value),
                group.n,
                group.figures.as_ref(),
                definition.min_group_size,
                true,
            );
        }
        body.push_str("</tbody></table></div></div>");
    }
    body.push_str("</section>\n");
}

/// A Welch test in plain words, such as “confidential respondents score 0.8 lower; this
/// difference is unlikely to be chance, p = 0.01”.
fn test_sentence(
    what: &str,
    test: &WelchTest,
    confidential_mean: Option<f64>,
    identified_mean: Option<f64>,
) -> String {
    let means = match (confidential_mean, identified_mean) {
        (Some(confidential), Some(identified)) => format!(
            " (mean {} against {})",
            one_decimal(confidential),
            one_decimal(identified)
        ),
        _ => String::new(),
    };
    let direction = if test.difference.abs() < 0.05 {
        format!("Confidential respondents score about the same as identified ones on {what}{means}")
    } else {
        format!(
            "Confidential respondents score {} {} than identified ones on {what}{means}",
            one_decimal(test.difference.abs()),
            if test.difference < 0.0 {
                "lower"
            } else {
                "higher"
            }
        )
    };
    let verdict = if test.p_value < 0.05 {
        "this difference is unlikely to be chance"
    } else {
        "a difference this size could well be chance"
    };
    format!("{direction}; {verdict}, {}.", p_value(test.p_value))
}

fn confidentiality(
    body: &mut String,
    definition: &SurveyDefinition,
    overall: &Figures,
    returning: Option<&Segmentation>,
    comparison: Option<&ConfidentialityComparison>,
) {
    body.push_str("<section class=\"panel\" id=\"confidentiality\" aria-labelledby=\"confidentiality-heading\"><h2 id=\"confidentiality-heading\">Confidential and identified respondents</h2>");
    let counts = &overall.confidentiality;
    match counts.confidential_share {
        Some(share) => {
            let _ = write!(
                body,
                "<p class=\"lead\"><strong>{}</strong> of respondents offered the choice kept confidentiality ({} of {}).</p>",
                percent(share),
                counts.confidential,
                counts.confidential + counts.identified
            );
        }
        None => body.push_str(
            "<p class=\"lead\">Nobody in this view was offered the choice of confidentiality.</p>",
        ),
    }
    if let Some(returning) = returning {
        let shares: Vec<String> = returning
            .groups
            .iter()
            .filter(|group| group.value != "(none)")
            .map(|group| {
                match group
                    .figures
                    .as_ref()
                    .and_then(|figures| figures.confidentiality.confidential_share)
                {
                    Some(share) => {
                        format!("{} of {} respondents kept it", percent(share), group.value)
                    }
                    None => format!(
                        "{} respondents: {}",
                        group.value,
                        hidden_text(group.n, definition.min_group_size)
                    ),
                }
            })
            .collect();
        if !shares.is_empty() {
            let _ = write!(body, "<p>{}.</p>", Esc(&capitalise(&shares.join("; "))));
        }
    }
    match comparison {
        Some(comparison) if comparison.suppressed => {
            let _ = write!(
                body,
                "<p class=\"suppressed\">{} confidential and {} identified respondents: one group has fewer than {}, so their scores are not compared.</p>",
                comparison.confidential.n, comparison.identified.n, definition.min_group_size
            );
        }
        Some(comparison) => {
            body.push_str("<div class=\"comparison\"><table><caption>Scores by confidentiality choice</caption><thead><tr><th scope=\"col\">Group</th><th scope=\"col\">Respondents</th><th scope=\"col\">Mean 0–10</th><th scope=\"col\">Mean CRQ</th></tr></thead><tbody>");
            for (label, group) in [("Kept confidentiality", &comparison.confidential), ("Waived it (identified)", &comparison.identified)] {
                let _ = write!(
                    body,
                    "<tr><th scope=\"row\">{label}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                    group.n,
                    group.nps_mean.map_or_else(|| "–".to_owned(), one_decimal),
                    group.crq_mean.map_or_else(|| "–".to_owned(), one_decimal)
                );
            }
            body.push_str("</tbody></table><ul class=\"findings\">");
            if let Some(test) = &comparison.nps_test {
                let _ = write!(body, "<li id=\"nps-test\">{}</li>", test_sentence("the 0–10 question", test, comparison.confidential.nps_mean, comparison.identified.nps_mean));
            }
            if let Some(test) = &comparison.crq_test {
                let _ = write!(body, "<li id=\"crq-test\">{}</li>", test_sentence("relationship quality (CRQ)", test, comparison.confidential.crq_mean, comparison.identified.crq_mean));
            }
            body.push_str("</ul><p class=\"note\">Welch’s t-test, two-sided. Unhappy clients who keep confidentiality tend to score lower, or stop answering.</p></div>");
        }
        None => body.push_str("<p>No comparison: nobody in this view chose between confidentiality and being identified.</p>"),
    }
    body.push_str("</section>\n");
}

fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

fn waves(body: &mut String, definition: &SurveyDefinition, comparisons: &[WaveComparison]) {
    body.push_str("<section class=\"panel\" id=\"waves\" aria-labelledby=\"waves-heading\"><h2 id=\"waves-heading\">From one wave to the next</h2>");
    if comparisons.is_empty() {
        body.push_str("<p>No respondent answered two consecutive waves yet.</p></section>\n");
        return;
    }
    body.push_str("<p class=\"lead\">What the respondents of one wave did in the next, by the choice they made in the first.</p>");
    for comparison in comparisons {
        let (first, second) = (esc(&comparison.first_wave), esc(&comparison.second_wave));
        let _ = write!(
            body,
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"{first} to {second}\"><table class=\"wave-table\"><caption>{first} to {second}</caption><thead><tr><th scope=\"col\">Group in {first}</th><th scope=\"col\">Completion in {second}</th>\
             <th scope=\"col\">Mean 0–10 in {first}</th><th scope=\"col\">Mean 0–10 in {second}</th><th scope=\"col\">CRQ change</th></tr></thead><tbody>"
        );
        for group in &comparison.groups {
            let label = match group.choice {
                ConfidentialityChoice::Confidential => "Chose confidentiality",
                ConfidentialityChoice::Identified => "Waived it",
                ConfidentialityChoice::Anonymous => "Anonymous",
            };
            if group.suppressed {
                let _ = write!(
                    body,
                    "<tr><th scope=\"row\">{label}</th><td colspan=\"4\" class=\"suppressed\">{} respondents, {} answered again: fewer than {}, so scores are hidden</td></tr>",
                    group.respondents, group.completed, definition.min_group_size
                );
                continue;
            }
            let mean = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), one_decimal);
            let change = group.crq_change.map_or_else(
                || "–".to_owned(),
                |change| {
                    format!(
                        "{}{:.2}",
                        if change >= 0.0 { "+" } else { "\u{2212}" },
                        change.abs()
                    )
                },
            );
            let _ = write!(
                body,
                "<tr><th scope=\"row\">{label}</th><td>{} ({} of {})</td><td>{}</td><td>{}</td><td>{change}</td></tr>",
                percent(group.completion_rate),
                group.completed,
                group.respondents,
                mean(group.nps_mean_first),
                mean(group.nps_mean_second)
            );
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</section>\n");
}

fn topics(body: &mut String, report: &rapport_scoring::Report) {
    body.push_str("<section class=\"panel\" id=\"topics\" aria-labelledby=\"topics-heading\"><h2 id=\"topics-heading\">What respondents mention</h2>");
    if report.topics.is_empty() {
        body.push_str("<p>This survey defines no topics.</p></section>\n");
        return;
    }
    body.push_str("<p class=\"lead\">Share of respondents whose answer to “greatest strength” or “greatest weakness” mentions each topic.</p>");
    let bars: Vec<TopicBar> = report
        .topics
        .iter()
        .map(|topic| TopicBar {
            label: topic.label.clone(),
            strength: topic.strength_share,
            weakness: topic.weakness_share,
        })
        .collect();
    body.push_str(&charts::topics("topics-chart", &bars));
    let _ = write!(
        body,
        "<ul class=\"legend\"><li>{}Greatest strength</li><li>{}Greatest weakness</li></ul>",
        swatch(charts::PROMOTER),
        swatch(charts::DETRACTOR)
    );
    body.push_str("<details><summary>Show as a table</summary><table><caption>Topic mentions</caption><thead><tr><th scope=\"col\">Topic</th><th scope=\"col\">As strength</th><th scope=\"col\">As weakness</th></tr></thead><tbody>");
    for topic in &report.topics {
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{}</th><td>{} ({})</td><td>{} ({})</td></tr>",
            Esc(&topic.label),
            percent(topic.strength_share),
            topic.strength_mentions,
            percent(topic.weakness_share),
            topic.weakness_mentions
        );
    }
    body.push_str("</tbody></table></details></section>\n");
}

fn status_label(status: FollowUpStatus) -> &'static str {
    match status {
        FollowUpStatus::Open => "Open",
        FollowUpStatus::InProgress => "In progress",
        FollowUpStatus::Done => "Done",
    }
}

fn reason_text(reason: &Reason, nps: Option<u8>) -> String {
    match reason {
        Reason::Detractor => nps.map_or_else(
            || "Detractor".to_owned(),
            |answer| format!("Detractor (answered {answer})"),
        ),
        Reason::Relationship { category } => humanise(category.as_str()),
        Reason::LowElement { element, rating } => format!(
            "Low {} ({rating} of 7)",
            element_label(element.as_str()).to_lowercase()
        ),
    }
}

/// The status form of one item or flag.
fn status_form(
    body: &mut String,
    survey: &str,
    form_id: &str,
    hidden: &[(&str, &str)],
    state: &FollowUpState,
) {
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/dashboard/surveys/{}/follow-ups\" class=\"follow-up-form\">",
        url_encode(survey)
    );
    for (name, value) in hidden {
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            Esc(value)
        );
    }
    let _ = write!(
        body,
        "<label for=\"{form_id}-status\">Follow-up</label><select id=\"{form_id}-status\" name=\"status\">"
    );
    for status in [
        FollowUpStatus::Open,
        FollowUpStatus::InProgress,
        FollowUpStatus::Done,
    ] {
        let selected = if status == state.status {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{}\"{selected}>{}</option>",
            status.as_str(),
            status_label(status)
        );
    }
    let _ = write!(
        body,
        "</select><label for=\"{form_id}-note\">Note</label><input type=\"text\" id=\"{form_id}-note\" name=\"note\" maxlength=\"2000\" value=\"{}\"><button type=\"submit\">Save</button></form>",
        Esc(state.note.as_deref().unwrap_or_default())
    );
}

/// How many of an account's close-the-loop items one page shows.
const ITEMS_PER_PAGE: usize = 20;

fn follow_ups(
    body: &mut String,
    definition: &SurveyDefinition,
    list: &FollowUpList,
    summaries: &[AccountSummary],
    query: &DashboardQuery,
) {
    let survey = definition.id.as_str();
    body.push_str("<section class=\"panel\" id=\"follow-ups\" aria-labelledby=\"follow-ups-heading\"><h2 id=\"follow-ups-heading\">Close the loop</h2>");
    if query.saved.is_some() {
        body.push_str("<p class=\"saved\" role=\"status\">Follow-up saved.</p>");
    }
    if summaries.is_empty() {
        body.push_str("<p>No response needs a conversation.</p></section>\n");
        return;
    }
    body.push_str(
        "<p class=\"lead\">Responses that need a conversation: detractors, Stalkers, Opponents and low element ratings. Confidential feedback only flags its \
         account; who said what is never shown.</p>",
    );
    let account_name =
        |account: &Option<String>| account.clone().unwrap_or_else(|| "(no account)".to_owned());
    // The list holds the opened account in full: the one asked for, or the first.
    let selected = list.accounts.first();
    body.push_str("<table class=\"accounts\"><caption>Accounts to talk to</caption><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Identified responses</th><th scope=\"col\">Confidential feedback</th><th scope=\"col\">Open</th><th scope=\"col\">In progress</th><th scope=\"col\">Done</th></tr></thead><tbody>");
    for account in summaries {
        let name = account_name(&account.account);
        let [open, in_progress, done] = account.by_status;
        let link = match &account.account {
            Some(value) => format!(
                "<a href=\"/dashboard?survey={}&amp;account={}#follow-ups\">{}</a>",
                url_encode(survey),
                url_encode(value),
                Esc(&name)
            ),
            None => esc(&name),
        };
        let current = if selected.is_some_and(|selected| selected.account == account.account) {
            " aria-current=\"true\" class=\"current\""
        } else {
            ""
        };
        let flags = if account.flagged_waves.is_empty() {
            "–".to_owned()
        } else {
            format!(
                "flagged in {}",
                esc(&account
                    .flagged_waves
                    .iter()
                    .map(|wave| wave.clone().unwrap_or_else(|| "no wave".to_owned()))
                    .collect::<Vec<_>>()
                    .join(", "))
            )
        };
        let _ = write!(
            body,
            "<tr{current}><th scope=\"row\">{link}</th><td>{}</td><td>{flags}</td><td>{open}</td><td>{in_progress}</td><td>{done}</td></tr>",
            account.items
        );
    }
    body.push_str("</tbody></table>");
    let Some(account) = selected else {
        body.push_str("</section>\n");
        return;
    };
    let name = account_name(&account.account);
    let account_value = account.account.clone().unwrap_or_default();
    let _ = write!(body, "<h3 id=\"follow-up-account\">{}</h3>", Esc(&name));
    for (idx, flag) in account.confidential_feedback.iter().enumerate() {
        let wave = flag.wave.clone().unwrap_or_default();
        let _ = write!(
            body,
            "<article class=\"item flag\"><h4>Confidential feedback{} needs a conversation</h4><p>Respondents who kept confidentiality gave feedback that needs a conversation with \
             this account. Who they are and what they said is not shown.</p>",
            if wave.is_empty() {
                String::new()
            } else {
                format!(" in {}", esc(&wave))
            }
        );
        status_form(
            body,
            survey,
            &format!("flag-{idx}"),
            &[
                ("subject", "flag"),
                ("account", &account_value),
                ("wave", &wave),
            ],
            &flag.follow_up,
        );
        body.push_str("</article>");
    }
    // The items newest first, a page at a time: an account with hundreds of them would
    // otherwise make a page of hundreds of forms, slow to draw and to read.
    let newest_first: Vec<_> = account.items.iter().rev().collect();
    let pages = newest_first.len().div_ceil(ITEMS_PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let first = (page - 1) * ITEMS_PER_PAGE;
    let shown = &newest_first
        [first.min(newest_first.len())..(first + ITEMS_PER_PAGE).min(newest_first.len())];
    let page_text = page.to_string();
    let page_link = |page: usize| {
        format!(
            "/dashboard?survey={}&amp;account={}{}#follow-up-account",
            url_encode(survey),
            url_encode(&account_value),
            if page > 1 {
                format!("&amp;page={page}")
            } else {
                String::new()
            }
        )
    };
    let pager = |body: &mut String| {
        if pages == 1 {
            return;
        }
        let _ = write!(
            body,
            "<nav class=\"pager\" aria-label=\"Pages of {}'s responses\"><p>Responses {}–{} of {}, newest first</p>",
            Esc(&name),
            first + 1,
            first + shown.len(),
            account.items.len()
        );
        if page > 1 {
            let _ = write!(
                body,
                "<a rel=\"prev\" href=\"{}\">Previous</a>",
                page_link(page - 1)
            );
        }
        if page < pages {
            let _ = write!(
                body,
                "<a rel=\"next\" href=\"{}\">Next</a>",
                page_link(page + 1)
            );
        }
        body.push_str("</nav>");
    };
    pager(body);
    for (idx, item) in (first..).zip(shown) {
        let identity = item.respondent.clone().unwrap_or_default();
        let respondent = identity
            .name
            .clone()
            .unwrap_or_else(|| "Identified respondent".to_owned());
        let context: Vec<String> = [
            identity.email,
            identity.organisation,
            item.wave.clone(),
            item.matter.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = write!(
            body,
            "<article class=\"item\"><h4>{}</h4><p class=\"meta\">{}</p><ul class=\"reasons\">",
            Esc(&respondent),
            Esc(&context.join(" · "))
        );
        for reason in &item.reasons {
            let _ = write!(body, "<li>{}</li>", Esc(&reason_text(reason, item.nps)));
        }
        body.push_str("</ul><dl class=\"said\">");
        if let Some(nps) = item.nps {
            let _ = write!(
                body,
                "<div><dt>Likelihood to recommend</dt><dd>{nps} of 10</dd></div>"
            );
        }
        if let Some(crq) = item.crq {
            let _ = write!(body, "<div><dt>CRQ</dt><dd>{}</dd></div>", one_decimal(crq));
        }
        if let Some(strength) = &item.strength {
            let _ = write!(
                body,
                "<div><dt>Greatest strength</dt><dd>{}</dd></div>",
                Esc(strength)
            );
        }
        if let Some(weakness) = &item.weakness {
            let _ = write!(
                body,
                "<div><dt>Greatest weakness</dt><dd>{}</dd></div>",
                Esc(weakness)
            );
        }
        body.push_str("</dl>");
        status_form(
            body,
            survey,
            &format!("item-{idx}"),
            &[
                ("response_id", &item.response_id),
                ("account", &account_value),
                ("page", &page_text),
            ],
            &item.follow_up,
        );
        body.push_str("</article>");
    }
    pager(body);
    body.push_str("</section>\n");
}

/// A stored RFC 3339 time (`2026-11-23T09:30:00.123Z`) as a person reads it:
/// "23 November 2026 at 09:30 UTC". `None` for anything else.
fn readable_time(stored: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (date, time) = stored.split_once('T')?;
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let month = MONTHS.get(month.parse::<usize>().ok()?.checked_sub(1)?)?;
    let day: u32 = day.parse().ok()?;
    let hours_minutes = time.get(..5)?;
    Some(format!("{day} {month} {year} at {hours_minutes} UTC"))
}

#[cfg(test)]
mod readable_time_tests {
    use super::readable_time;

    #[test]
    fn stored_times_read_as_words_and_anything_else_as_nothing() {
        assert_eq!(
            readable_time("2026-11-23T09:30:00.123Z").as_deref(),
            Some("23 November 2026 at 09:30 UTC")
        );
        assert_eq!(readable_time("2026-13-23T09:30:00Z"), None);
        assert_eq!(readable_time("yesterday"), None);
    }
}
