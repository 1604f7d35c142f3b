//! The dashboard's charts, drawn as SVG by this small module.
//!
//! Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>`,
//! which states the numbers in words; the page puts a table of the same numbers beside it.
//! Colours are presentation attributes, not `style`, so the strict CSP allows them. Labels
//! from data are spliced into `html!`, which escapes them. This module only draws what it is
//! given: it never decides what a role may see.

use maud::{Markup, html};

use super::html::{one_decimal, signed};

/// Fill of promoters (9–10).
pub(crate) const PROMOTER: &str = "#1a7f37";
/// Fill of passives (7–8).
pub(crate) const PASSIVE: &str = "#8c959f";
/// Fill of detractors (0–6).
pub(crate) const DETRACTOR: &str = "#c62828";
/// Strength mentions.
const STRENGTH: &str = "#1a7f37";
/// Weakness mentions.
const WEAKNESS: &str = "#c62828";
/// Axis and grid lines.
const GRID: &str = "#d0d7de";
/// The zero line of an NPS axis, darker than the grid.
const ZERO_LINE: &str = "#8c959f";
/// Text inside charts.
const INK: &str = "#111827";
/// Dots, lines and whiskers of NPS values.
const NPS_MARK: &str = "#24549c";
/// Text that stands where a value is not shown.
const MUTED_INK: &str = "#52606d";
/// Fill of a pyramid level nobody rated.
const UNRATED: &str = "#eef1f4";

/// A coordinate or length as the charts write it: one decimal.
pub(crate) fn coordinate(value: f64) -> String {
    format!("{value:.1}")
}

/// An `<svg>` of `width` by `height` with its accessible name and description around
/// `content`.
fn chart(id: &str, width: u32, height: u32, title: &str, desc: &str, content: Markup) -> Markup {
    html! {
        svg class="chart" id=(id) viewBox={ "0 0 " (width) " " (height) } role="img"
            aria-labelledby={ (id) "-title " (id) "-desc" } preserveAspectRatio="xMidYMid meet" {
            title id={ (id) "-title" } { (title) }
            desc id={ (id) "-desc" } { (desc) }
            (content)
        }
    }
}

/// A chart as [`chart`] draws it, in a frame of its own that scrolls sideways when the
/// screen is narrower than the chart's smallest readable width (`.chart-frame .chart` in the
/// stylesheet), so that on a phone its text stays about 11 px or larger instead of shrinking
/// with the chart; the frame is a named region that takes the keyboard's focus, so it can be
/// scrolled without a mouse.
pub(crate) fn framed_chart(
    id: &str,
    width: u32,
    height: u32,
    title: &str,
    desc: &str,
    content: Markup,
) -> Markup {
    html! {
        div class="chart-frame" role="region" tabindex="0" aria-label=(title) {
            (chart(id, width, height, title, desc, content))
        }
    }
}

/// One segment of a stacked bar.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// What it counts.
    pub(crate) label: String,
    /// How many.
    pub(crate) count: u64,
    /// Its fill.
    pub(crate) fill: &'static str,
    /// The colour of its label, readable on the fill.
    pub(crate) ink: &'static str,
}

/// A single horizontal bar split into parts, each labelled with its share when wide enough.
pub(crate) fn stacked_bar(id: &str, title: &str, parts: &[Part]) -> Markup {
    let total: u64 = parts.iter().map(|part| part.count).sum();
    let desc = parts
        .iter()
        .map(|part| {
            format!(
                "{}: {} ({})",
                part.label,
                part.count,
                share_text(part.count, total)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let (width, height) = (600.0, 44.0);
    // Each drawn part with where it starts and how wide it is; empty parts take no room.
    let mut x = 0.0;
    let drawn: Vec<(f64, f64, &Part)> = parts
        .iter()
        .filter(|part| part.count != 0 && total != 0)
        .map(|part| {
            let part_width = width * part.count as f64 / total as f64;
            let start = x;
            x += part_width;
            (start, part_width, part)
        })
        .collect();
    let content = html! {
        @for (x, part_width, part) in drawn {
            rect x=(coordinate(x)) y="0" width=(coordinate(part_width)) height=(height)
                fill=(part.fill) {}
            // Room for “100%” at this size.
            @if part_width > 52.0 {
                text x=(coordinate(x + part_width / 2.0)) y="30" text-anchor="middle"
                    font-size="21" font-weight="600" fill=(part.ink) {
                    (share_text(part.count, total))
                }
            }
        }
    };
    chart(id, 600, 44, title, &desc, content)
}

fn share_text(count: u64, total: u64) -> String {
    if total == 0 {
        "0%".to_owned()
    } else {
        format!("{:.0}%", 100.0 * count as f64 / total as f64)
    }
}

/// The 0–10 distribution: eleven columns coloured by NPS category, counts on top.
pub(crate) fn distribution(id: &str, counts: &[u64; 11]) -> Markup {
    let desc = counts
        .iter()
        .enumerate()
        .map(|(answer, count)| format!("{answer}: {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (width, bottom, top) = (660.0, 206.0, 24.0);
    let slot = width / 11.0;
    let content = html! {
        line x1="0" y1=(bottom) x2=(width) y2=(bottom) stroke=(GRID) {}
        @for (answer, count) in counts.iter().enumerate() {
            @let fill = match answer {
                0..=6 => DETRACTOR,
                7 | 8 => PASSIVE,
                _ => PROMOTER,
            };
            @let bar_height = (bottom - top) * *count as f64 / max;
            @let x = slot * answer as f64 + 8.0;
            @let center = coordinate(x + (slot - 16.0) / 2.0);
            rect x=(coordinate(x)) y=(coordinate(bottom - bar_height))
                width=(coordinate(slot - 16.0)) height=(coordinate(bar_height)) rx="3"
                fill=(fill) {}
            text x=(center) y=(coordinate(bottom - bar_height - 6.0)) text-anchor="middle"
                font-size="15" fill=(INK) { (count) }
            text x=(center) y="228" text-anchor="middle" font-size="16" font-weight="600"
                fill=(INK) { (answer) }
        }
    };
    framed_chart(
        id,
        660,
        240,
        "Answers to the 0–10 recommendation question",
        &format!("Responses per answer, 0 to 10: {desc}."),
        content,
    )
}

/// A relationship category's colour band: the fill and the category name for a CRQ score.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Band {
    /// The category name.
    pub(crate) name: &'static str,
    /// Its fill; dark text reads on every one.
    pub(crate) fill: &'static str,
    /// Its class in the stylesheet.
    pub(crate) class: &'static str,
}

/// The bands, best first, with the survey's thresholds, named in plain words: strong,
/// lukewarm, strained and broken relationships (the CRQ model's Ambassador, Ambivalent,
/// Stalker and Opponent).
pub(crate) fn band(
    score: f64,
    thresholds: &rapport_scoring::definition::CategoryThresholds,
) -> Band {
    if score >= thresholds.ambassador {
        Band {
            name: "Strong",
            class: "ambassador",
            fill: "#57b26a",
        }
    } else if score >= thresholds.ambivalent {
        Band {
            name: "Lukewarm",
            class: "ambivalent",
            fill: "#f2c94c",
        }
    } else if score >= thresholds.stalker {
        Band {
            name: "Strained",
            class: "stalker",
            fill: "#f2994a",
        }
    } else {
        Band {
            name: "Broken",
            class: "opponent",
            fill: "#eb5757",
        }
    }
}

/// One level of the pyramid as drawn.
#[derive(Debug, Clone)]
pub(crate) struct PyramidLevel {
    /// The level's name.
    pub(crate) label: String,
    /// Its mean score, 1–7; `None` when nobody answered its elements.
    pub(crate) score: Option<f64>,
    /// Its colour band.
    pub(crate) band: Option<Band>,
}

/// The CRQ pyramid: one band per level, base at the bottom, each filled by its score's
/// relationship band and labelled with its name and score.
pub(crate) fn pyramid(id: &str, levels: &[PyramidLevel]) -> Markup {
    let desc = levels
        .iter()
        .map(|level| match (level.score, level.band) {
            (Some(score), Some(band)) => {
                format!("{} {} ({})", level.label, one_decimal(score), band.name)
            }
            _ => format!("{}: no answers", level.label),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let (width, height) = (420.0, 300.0);
    let n_levels = levels.len().max(1) as f64;
    let gap = 6.0;
    let band_height = (height - gap * (n_levels - 1.0)) / n_levels;
    // The outline is a triangle; level `idx` (0 = base) is the slice between two heights.
    let half_width_at = |y: f64| (width / 2.0) * (y / height);
    let center = width / 2.0;
    let content = html! {
        @for (idx, level) in levels.iter().enumerate() {
            @let y_bottom = height - idx as f64 * (band_height + gap);
            @let y_top = y_bottom - band_height;
            // The top slice keeps a flat top so its label fits.
            @let top_half = half_width_at(y_top).max(48.0);
            @let bottom_half = half_width_at(y_bottom);
            @let points = format!(
                "{:.1},{y_bottom:.1} {:.1},{y_bottom:.1} {:.1},{y_top:.1} {:.1},{y_top:.1}",
                center - bottom_half,
                center + bottom_half,
                center + top_half,
                center - top_half
            );
            @let middle = (y_top + y_bottom) / 2.0;
            polygon points=(points) fill=(level.band.map_or(UNRATED, |band| band.fill))
                stroke="#ffffff" stroke-width="3" {}
            text x=(center) y=(coordinate(middle - 6.0)) text-anchor="middle" font-size="15"
                fill=(INK) { (level.label) }
            text x=(center) y=(coordinate(middle + 18.0)) text-anchor="middle" font-size="22"
                font-weight="700" fill=(INK) {
                (level.score.map_or_else(|| "no answers".to_owned(), one_decimal))
            }
        }
    };
    framed_chart(
        id,
        420,
        300,
        "The relationship quality pyramid",
        &format!("Mean score of each level on the 1–7 scale, from the base up: {desc}."),
        content,
    )
}

/// An NPS and its 95% interval, as a chart marks it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NpsMark {
    /// The NPS.
    pub(crate) nps: f64,
    /// The low end of its 95% interval.
    pub(crate) low: f64,
    /// The high end of its 95% interval.
    pub(crate) high: f64,
}

/// One point of a trend.
#[derive(Debug, Clone)]
pub(crate) struct TrendPoint {
    /// The wave.
    pub(crate) label: String,
    /// NPS and its 95% interval; `None` when hidden or unanswered.
    pub(crate) nps: Option<NpsMark>,
}

/// NPS across waves: a line through the waves' NPS, with each interval as a whisker.
pub(crate) fn trend(id: &str, points: &[TrendPoint]) -> Markup {
    let desc = points
        .iter()
        .map(|point| match point.nps {
            Some(NpsMark { nps, low, high }) => format!(
                "{}: NPS {} (95% interval {} to {})",
                point.label,
                signed(nps),
                signed(low),
                signed(high)
            ),
            None => format!("{}: not shown", point.label),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let (width, left, right, top, bottom) = (640.0, 52.0, 24.0, 16.0, 220.0);
    // The axis spans the intervals shown, in steps of 20, and always holds zero, so a change
    // between waves is visible instead of flattened on a −100…+100 scale.
    let shown = points.iter().filter_map(|point| point.nps);
    let (low, high) = shown.fold((0.0_f64, 0.0_f64), |(low, high), mark| {
        (low.min(mark.low), high.max(mark.high))
    });
    let (axis_low, axis_high) = (
        ((low / 20.0).floor() * 20.0).max(-100.0),
        ((high / 20.0).ceil() * 20.0)
            .min(100.0)
            .max(((low / 20.0).floor() * 20.0).max(-100.0) + 20.0),
    );
    let y_of = |value: f64| bottom - (value - axis_low) / (axis_high - axis_low) * (bottom - top);
    let ticks: Vec<f64> = (0..=((axis_high - axis_low) / 20.0).round() as i32)
        .map(|step| axis_low + 20.0 * f64::from(step))
        .collect();
    let n_points = points.len().max(1) as f64;
    let x_of = |idx: usize| left + (width - left - right) * (idx as f64 + 0.5) / n_points;
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(idx, point)| {
            point
                .nps
                .map(|NpsMark { nps, .. }| format!("{:.1},{:.1}", x_of(idx), y_of(nps)))
        })
        .collect();
    let content = html! {
        @for tick in ticks {
            @let y = coordinate(y_of(tick));
            line x1=(left) y1=(y) x2=(coordinate(width - right)) y2=(y)
                stroke=(if tick == 0.0 { ZERO_LINE } else { GRID }) {}
            text x=(coordinate(left - 8.0)) y=(coordinate(y_of(tick) + 4.0)) text-anchor="end"
                font-size="13" fill=(INK) { (signed(tick)) }
        }
        @if line.len() > 1 {
            polyline points=(line.join(" ")) fill="none" stroke=(NPS_MARK) stroke-width="3" {}
        }
        @for (idx, point) in points.iter().enumerate() {
            @let x = coordinate(x_of(idx));
            text x=(x) y=(coordinate(bottom + 26.0)) text-anchor="middle" font-size="14"
                fill=(INK) { (point.label) }
            @if let Some(NpsMark { nps, low, high }) = point.nps {
                line x1=(x) y1=(coordinate(y_of(low))) x2=(x) y2=(coordinate(y_of(high)))
                    stroke=(NPS_MARK) stroke-width="2" {}
                circle cx=(x) cy=(coordinate(y_of(nps))) r="6" fill=(NPS_MARK) {}
                text x=(coordinate(x_of(idx) + 10.0)) y=(coordinate(y_of(nps) - 8.0))
                    font-size="15" font-weight="700" fill=(INK) { (signed(nps)) }
            }
        }
    };
    framed_chart(id, 640, 260, "NPS by wave", &format!("{desc}."), content)
}

/// One row of a comparison of groups.
#[derive(Debug, Clone)]
pub(crate) struct GroupRow {
    /// The group's name.
    pub(crate) label: String,
    /// NPS and its 95% interval; `None` when the group shows counts only.
    pub(crate) nps: Option<NpsMark>,
}

/// Groups side by side: each group's NPS as a dot with its interval, on one −100…+100 axis.
pub(crate) fn group_dots(id: &str, title: &str, rows: &[GroupRow]) -> Markup {
    let desc = rows
        .iter()
        .map(|row| match row.nps {
            Some(NpsMark { nps, low, high }) => format!(
                "{}: NPS {} ({} to {})",
                row.label,
                signed(nps),
                signed(low),
                signed(high)
            ),
            None => format!("{}: too few responses to show", row.label),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let row_height = 40.0;
    let (width, left, right, top) = (640.0, 190.0, 20.0, 26.0);
    let height = top + row_height * rows.len() as f64 + 8.0;
    let x_of = |value: f64| left + (value + 100.0) / 200.0 * (width - left - right);
    let content = html! {
        @for tick in [-100.0, -50.0, 0.0, 50.0, 100.0] {
            @let x = coordinate(x_of(tick));
            line x1=(x) y1=(top) x2=(x) y2=(coordinate(height - 4.0))
                stroke=(if tick == 0.0 { ZERO_LINE } else { GRID }) {}
            text x=(x) y="16" text-anchor="middle" font-size="13" fill=(INK) { (signed(tick)) }
        }
        @for (idx, row) in rows.iter().enumerate() {
            @let y = top + row_height * (idx as f64 + 0.5) + 4.0;
            @let label = if row.label.chars().count() > 24 {
                format!("{}…", row.label.chars().take(23).collect::<String>())
            } else {
                row.label.clone()
            };
            text x=(coordinate(left - 10.0)) y=(coordinate(y + 5.0)) text-anchor="end"
                font-size="14" fill=(INK) { (label) }
            @match row.nps {
                Some(NpsMark { nps, low, high }) => {
                    line x1=(coordinate(x_of(low))) y1=(coordinate(y)) x2=(coordinate(x_of(high)))
                        y2=(coordinate(y)) stroke=(NPS_MARK) stroke-width="3" {}
                    circle cx=(coordinate(x_of(nps))) cy=(coordinate(y)) r="7" fill=(NPS_MARK) {}
                    text x=(coordinate(x_of(nps))) y=(coordinate(y - 10.0)) text-anchor="middle"
                        font-size="13" font-weight="700" fill=(INK) { (signed(nps)) }
                }
                None => {
                    text x=(coordinate(x_of(-100.0) + 6.0)) y=(coordinate(y + 5.0))
                        font-size="13" fill=(MUTED_INK) { "too few responses to show" }
                }
            }
        }
    };
    framed_chart(
        id,
        640,
        height.ceil() as u32,
        title,
        &format!("{desc}."),
        content,
    )
}

/// One topic's shares.
#[derive(Debug, Clone)]
pub(crate) struct TopicBar {
    /// The topic.
    pub(crate) label: String,
    /// Share of respondents naming it as a strength.
    pub(crate) strength: f64,
    /// Share naming it as a weakness.
    pub(crate) weakness: f64,
}

/// Topic shares: for each topic, a strength bar and a weakness bar.
pub(crate) fn topics(id: &str, bars: &[TopicBar]) -> Markup {
    let desc = bars
        .iter()
        .map(|bar| {
            format!(
                "{}: strength {:.0}%, weakness {:.0}%",
                bar.label,
                bar.strength * 100.0,
                bar.weakness * 100.0
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let max = bars
        .iter()
        .flat_map(|bar| [bar.strength, bar.weakness])
        .fold(0.0_f64, f64::max)
        .max(0.01);
    let (width, left, right, row_height) = (640.0, 170.0, 60.0, 46.0);
    let height = row_height * bars.len() as f64 + 10.0;
    let content = html! {
        @for (idx, bar) in bars.iter().enumerate() {
            @let y = row_height * idx as f64 + 6.0;
            text x=(coordinate(left - 10.0)) y=(coordinate(y + 22.0)) text-anchor="end"
                font-size="14" fill=(INK) { (bar.label) }
            @let halves = [(0.0, bar.strength, STRENGTH), (18.0, bar.weakness, WEAKNESS)];
            @for (offset, share, fill) in halves {
                @let bar_width = (width - left - right) * share / max;
                rect x=(left) y=(coordinate(y + offset)) width=(coordinate(bar_width)) height="15"
                    rx="2" fill=(fill) {}
                text x=(coordinate(left + bar_width + 6.0)) y=(coordinate(y + offset + 12.0))
                    font-size="13" fill=(INK) { (format!("{:.0}%", share * 100.0)) }
            }
        }
    };
    framed_chart(
        id,
        640,
        height.ceil() as u32,
        "Topics named as greatest strength and greatest weakness",
        &format!("Share of respondents who mention each topic: {desc}."),
        content,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chart_is_named_and_described() {
        let charts = [
            stacked_bar(
                "a",
                "Bar",
                &[Part {
                    label: "Promoters".into(),
                    count: 3,
                    fill: PROMOTER,
                    ink: "#ffffff",
                }],
            ),
            distribution("b", &[1; 11]),
            pyramid(
                "c",
                &[PyramidLevel {
                    label: "Relationship".into(),
                    score: Some(5.0),
                    band: None,
                }],
            ),
            trend(
                "d",
                &[TrendPoint {
                    label: "2026-h1".into(),
                    nps: Some(NpsMark {
                        nps: 10.0,
                        low: -5.0,
                        high: 25.0,
                    }),
                }],
            ),
            group_dots(
                "e",
                "Groups",
                &[GroupRow {
                    label: "x".into(),
                    nps: None,
                }],
            ),
            topics(
                "f",
                &[TopicBar {
                    label: "Cost".into(),
                    strength: 0.1,
                    weakness: 0.3,
                }],
            ),
        ];
        for chart in charts.map(Markup::into_string) {
            assert!(
                chart.contains("role=\"img\"")
                    && chart.contains("<title id=")
                    && chart.contains("<desc id="),
                "{chart}"
            );
            assert!(
                !chart.contains("style="),
                "charts must not use style attributes under the CSP: {chart}"
            );
        }
    }

    /// The smallest `font-size` in a chart, in its units.
    fn smallest_text(chart: &str) -> f64 {
        chart
            .split("font-size=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse::<f64>().unwrap())
            .fold(f64::INFINITY, f64::min)
    }

    /// The stylesheet gives each framed chart a minimum width at which its smallest text is
    /// 11 px (`.chart-frame .chart`): 560 px for the wide charts, 308 px for the pyramid.
    /// A smaller text here would shrink below that on a phone.
    #[test]
    fn chart_text_is_no_smaller_than_the_stylesheet_expects() {
        let point = TrendPoint {
            label: "2026-h1".into(),
            nps: Some(NpsMark {
                nps: 10.0,
                low: -5.0,
                high: 25.0,
            }),
        };
        let row = GroupRow {
            label: "x".into(),
            nps: point.nps,
        };
        let bar = TopicBar {
            label: "Cost".into(),
            strength: 0.1,
            weakness: 0.3,
        };
        let wide = [
            (distribution("b", &[1; 11]), 660.0),
            (trend("d", &[point]), 640.0),
            (group_dots("e", "Groups", &[row]), 640.0),
            (topics("f", &[bar]), 640.0),
        ];
        for (chart, width) in wide.map(|(chart, width)| (chart.into_string(), width)) {
            assert!(chart.starts_with("<div class=\"chart-frame\""), "{chart}");
            assert!(
                smallest_text(&chart) * 560.0 / width >= 11.0,
                "text too small at 560 px: {chart}"
            );
        }
        let level = PyramidLevel {
            label: "Relationship".into(),
            score: None,
            band: None,
        };
        assert!(smallest_text(&pyramid("c", &[level]).into_string()) * 308.0 / 420.0 >= 11.0);
    }

    #[test]
    fn labels_from_data_are_escaped() {
        let chart = group_dots(
            "g",
            "Groups",
            &[GroupRow {
                label: "<img src=x onerror=alert(1)>".into(),
                nps: None,
            }],
        )
        .into_string();
        assert!(!chart.contains("<img"), "{chart}");
        assert!(chart.contains("&lt;img"), "{chart}");
    }
}
