//! `rapport-bench soak`: a fixed load held for minutes, with the server's memory, open files
//! and latency sampled every few seconds.
//!
//! Starts the release `rapport serve` on a fresh database and sends an open-loop load at
//! `--rate` responses/s for `--duration` seconds (latency from each request's scheduled
//! time, as in `ingest`). Every `--sample` seconds it records what was sent and answered in
//! that interval, the interval's p50 and p99, the server process's resident memory (VmRSS)
//! and open file descriptors, and the load average. At the end the database must hold
//! exactly the acknowledged responses, and the verdict compares the median RSS (and open
//! files) of the first window after the warm-up with the last window: the run fails on
//! growth beyond `--max-growth` percent, on any error, or on a lost or doubled response.
//! If the server process ends during the run, the load stops, and what was measured is
//! printed with how the process ended (its exit code or signal) before the run fails.
//! The samples are also written as CSV and as a small SVG plot.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;

use crate::check::Reconciliation;
use crate::database;
use crate::http::Server;
use crate::load::{self, Indices, Live, Pace, Plan, quantile_ms};
use crate::{Target, load_average, machine};

/// `rapport-bench soak`.
#[derive(Debug, Args)]
pub(crate) struct SoakArgs {
    #[command(flatten)]
    target: Target,
    /// Responses per second, held for the whole run.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds the load is held.
    #[arg(long, default_value_t = 600)]
    duration: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 5)]
    sample: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of warm-up before the first window the verdict compares (caches and pools fill).
    #[arg(long, default_value_t = 60)]
    warmup: u64,
    /// Seconds of each compared window: the first after the warm-up, and the last.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// Growth, in percent, of the median RSS or open files from the first window to the last
    /// beyond which the run fails.
    #[arg(long, default_value_t = 10.0)]
    max_growth: f64,
    /// Seconds per row of the summary table.
    #[arg(long, default_value_t = 30)]
    summary_every: u64,
    /// Directory for `soak-<backend>.csv` and `soak-<backend>.svg` (default: the work dir).
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

/// One sampling interval.
#[derive(Debug)]
struct Sample {
    /// Since the load started, at the end of the interval.
    elapsed: Duration,
    sent: u64,
    success: u64,
    failed: u64,
    /// Latencies answered in the interval, microseconds, sorted.
    latencies_us: Vec<u64>,
    /// The server's resident memory, KiB.
    rss_kib: u64,
    /// The server's open file descriptors.
    fds: usize,
    /// The 1-minute load average.
    load1: f64,
}

impl Sample {
    fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    fn p50_ms(&self) -> f64 {
        quantile_ms(&self.latencies_us, 0.5)
    }

    fn p99_ms(&self) -> f64 {
        quantile_ms(&self.latencies_us, 0.99)
    }
}

/// A field of `/proc/PID/status` in kB, such as `VmRSS` or `VmHWM`.
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading the status of process {pid}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|value| value.trim().parse().ok())
        .with_context(|| format!("no {field} in the status of process {pid}"))
}

/// The number of open file descriptors of process `pid`.
fn open_files(pid: u32) -> anyhow::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("listing the files of process {pid}"))?
        .count())
}

fn load1() -> f64 {
    load_average()
        .split_whitespace()
        .next()
        .and_then(|first| first.parse().ok())
        .unwrap_or(f64::NAN)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|value| !value.is_nan());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// The least-squares slope of `points` (x, y).
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mean_x, mean_y) = (
        points.iter().map(|point| point.0).sum::<f64>() / n,
        points.iter().map(|point| point.1).sum::<f64>() / n,
    );
    let covariance: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    covariance / variance
}

fn sample_row(label: &str, sample: &Sample) -> String {
    format!(
        "| {label} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.1} MiB | {} | {:.2} |",
        sample.sent,
        sample.success,
        sample.failed,
        sample.p50_ms(),
        sample.p99_ms(),
        sample.rss_mib(),
        sample.fds,
        sample.load1
    )
}

const TABLE_HEADER: &str = "| elapsed | sent | 2xx | errors | p50 | p99 | server RSS | open files | load (1 min) |\n|---|---|---|---|---|---|---|---|---|";

/// Runs the whole soak.
pub(crate) async fn run(args: SoakArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.sample > 0 && args.summary_every > 0 && args.rate > 0.0,
        "--sample, --summary-every and --rate must be positive"
    );
    anyhow::ensure!(
        args.warmup + 2 * args.window <= args.duration,
        "--duration must leave room for the warm-up and two windows: {} + 2 × {} > {}",
        args.warmup,
        args.window,
        args.duration
    );
    let backend = args.target.backend();
    println!(
        "soak on {} at {:.0} responses/s for {} s: {}",
        backend.name(),
        args.rate,
        args.duration,
        machine()
    );
    let url = backend.fresh("soak").await?;
    let mut server = Server::start(&args.target.rapport, &url, &args.target.work_dir).await?;
    let pid = server.pid().context("the server has no process id")?;
    println!(
        "server started: RSS {:.1} MiB, {} open files",
        status_kib(pid, "VmRSS")? as f64 / 1024.0,
        open_files(pid)?
    );

    let live = Arc::new(Live::default());
    let plan = Plan {
        replicas: vec![server.address],
        connections: args.connections,
        duration: Duration::from_secs(args.duration),
        pace: Pace::Open(args.rate),
        pair_every: None,
        live: Some(Arc::clone(&live)),
    };
    let started = Instant::now();
    let load = tokio::spawn(load::drive(Arc::new(Indices::default()), plan));
    let take_sample = |elapsed: Duration| -> anyhow::Result<Sample> {
        let interval = live.take();
        let mut latencies_us = interval.latencies_us;
        latencies_us.sort_unstable();
        Ok(Sample {
            elapsed,
            sent: interval.sent,
            success: interval.success,
            failed: interval.failed,
            latencies_us,
            rss_kib: status_kib(pid, "VmRSS")?,
            fds: open_files(pid)?,
            load1: load1(),
        })
    };
    println!();
    println!("{TABLE_HEADER}");
    let mut samples = Vec::new();
    let mut died = None;
    for tick in 1.. {
        let at = Duration::from_secs(args.sample * tick);
        tokio::time::sleep_until((started + at).into()).await;
        if let Some(status) = server.exited()? {
            // The server is gone: stop sending, keep what was measured, and say how it ended.
            println!(
                "the server process ended between {} and {} s: {status}",
                at.as_secs() - args.sample,
                at.as_secs()
            );
            died = Some(status);
            live.stop();
            break;
        }
        let sample = take_sample(at)?;
        println!("{}", sample_row(&format!("{} s", at.as_secs()), &sample));
        samples.push(sample);
        if at.as_secs() >= args.duration {
            break;
        }
    }
    let result = load.await??;
    let mut peak_mib = f64::NAN;
    if died.is_none() {
        // Requests scheduled before the end and answered after it.
        let tail = take_sample(started.elapsed())?;
        if tail.sent + tail.success + tail.failed > 0 {
            println!(
                "{}",
                sample_row(
                    &format!("{:.1} s (tail)", tail.elapsed.as_secs_f64()),
                    &tail
                )
            );
            samples.push(tail);
        }
        peak_mib = status_kib(pid, "VmHWM")? as f64 / 1024.0;
        server.stop().await?;
    }

    let pool = database::Pool::connect(&url, 1).await?;
    let reconciliation =
        Reconciliation::of(&pool, &result.acknowledged, &result.created_indices).await?;
    pool.close().await;

    // One row per `summary_every` seconds, the tail folded into the last.
    let n_rows = args.duration.div_ceil(args.summary_every).max(1);
    println!();
    println!("summary, one row per {} s:", args.summary_every);
    println!();
    println!(
        "| elapsed | sent | 2xx | errors | p50 | p99 | server RSS at the end | open files (most) | load (1 min) at the end |\n|---|---|---|---|---|---|---|---|---|"
    );
    for row in 0..n_rows {
        let in_row: Vec<&Sample> = samples
            .iter()
            .filter(|sample| {
                (sample.elapsed.as_secs_f64() / args.summary_every as f64)
                    .ceil()
                    .clamp(1.0, n_rows as f64) as u64
                    == row + 1
            })
            .collect();
        let Some(last) = in_row.last() else { continue };
        let mut latencies_us: Vec<u64> = in_row
            .iter()
            .flat_map(|sample| sample.latencies_us.iter().copied())
            .collect();
        latencies_us.sort_unstable();
        // Counts summed, latencies merged; memory and load as at the row's end, open files at
        // their most (the last sample of a run sees the load generator's connections close).
        let merged = Sample {
            elapsed: last.elapsed,
            sent: in_row.iter().map(|sample| sample.sent).sum(),
            success: in_row.iter().map(|sample| sample.success).sum(),
            failed: in_row.iter().map(|sample| sample.failed).sum(),
            latencies_us,
            rss_kib: last.rss_kib,
            fds: in_row.iter().map(|sample| sample.fds).max().unwrap_or(0),
            load1: last.load1,
        };
        let end = ((row + 1) * args.summary_every).min(args.duration);
        println!(
            "{}",
            sample_row(&format!("{}–{end} s", row * args.summary_every), &merged)
        );
    }

    // The verdict: the first window after the warm-up against the last.
    let (warmup, window, duration) = (args.warmup as f64, args.window as f64, args.duration as f64);
    let in_window = |from: f64, to: f64| {
        samples.iter().filter(move |sample| {
            sample.elapsed.as_secs_f64() > from && sample.elapsed.as_secs_f64() <= to
        })
    };
    let first = in_window(warmup, warmup + window).collect::<Vec<_>>();
    let last = in_window(duration - window, f64::INFINITY).collect::<Vec<_>>();
    let (rss_first, rss_last) = (
        median(first.iter().map(|sample| sample.rss_mib()).collect()),
        median(last.iter().map(|sample| sample.rss_mib()).collect()),
    );
    let (fds_first, fds_last) = (
        median(first.iter().map(|sample| sample.fds as f64).collect()),
        median(last.iter().map(|sample| sample.fds as f64).collect()),
    );
    let (p99_first, p99_last) = (
        median(first.iter().map(|sample| sample.p99_ms()).collect()),
        median(last.iter().map(|sample| sample.p99_ms()).collect()),
    );
    let rss_growth = 100.0 * (rss_last / rss_first - 1.0);
    let fds_growth = 100.0 * (fds_last / fds_first - 1.0);
    let after_warmup: Vec<(f64, f64)> = in_window(warmup, f64::INFINITY)
        .map(|sample| (sample.elapsed.as_secs_f64() / 60.0, sample.rss_mib()))
        .collect();
    let rss_slope = slope(&after_warmup);
    // Settling shows as a slope early on that flattens; a leak keeps its slope to the end.
    let second_half: Vec<(f64, f64)> = in_window(duration / 2.0, f64::INFINITY)
        .map(|sample| (sample.elapsed.as_secs_f64() / 60.0, sample.rss_mib()))
        .collect();
    let rss_slope_late = slope(&second_half);
    let errors: u64 = samples.iter().map(|sample| sample.failed).sum();
    let worst_p99 = samples
        .iter()
        .map(Sample::p99_ms)
        .filter(|p99| !p99.is_nan())
        .fold(0.0, f64::max);
    let loads: Vec<f64> = samples.iter().map(|sample| sample.load1).collect();

    println!();
    println!(
        "whole run: {} sent, {} 2xx ({:.1}/s over {:.0} s), {} errors; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; worst interval p99 {worst_p99:.2} ms",
        result.success + result.failed,
        result.success,
        result.throughput(),
        result.elapsed.as_secs_f64(),
        result.failed,
        result.quantile_ms(0.5),
        result.quantile_ms(0.99),
        result.max_ms()
    );
    println!(
        "server memory: peak RSS (VmHWM) {peak_mib:.1} MiB; 1-minute load average during the run: median {:.2}, range {:.2}–{:.2}; at the end: {}",
        median(loads.clone()),
        loads.iter().copied().fold(f64::INFINITY, f64::min),
        loads.iter().copied().fold(0.0, f64::max),
        load_average()
    );
    println!(
        "database: {} acknowledged, {} stored, {} lost, {} stored without a 2xx, {} doubled",
        reconciliation.acknowledged,
        reconciliation.stored,
        reconciliation.lost.len(),
        reconciliation.unacknowledged.len(),
        reconciliation.doubled
    );
    let memory_steady = rss_growth <= args.max_growth;
    let files_steady = fds_growth <= args.max_growth;
    let passed = died.is_none()
        && memory_steady
        && files_steady
        && errors == 0
        && result.failed == 0
        && reconciliation.exact();
    println!(
        "verdict: {}: {}median RSS {rss_first:.1} MiB in {:.0}–{:.0} s, {rss_last:.1} MiB in the last {:.0} s ({rss_growth:+.1}%, limit {:+.0}%; slope {rss_slope:+.3} MiB/min \
         after the warm-up, {rss_slope_late:+.3} MiB/min over the second half); open files {fds_first:.0} → {fds_last:.0}; median interval p99 {p99_first:.2} → {p99_last:.2} ms; \
         {} errors; database {}",
        if passed { "PASS" } else { "FAIL" },
        died.map(|status| format!("the server died ({status}); "))
            .unwrap_or_default(),
        warmup,
        warmup + window,
        window,
        args.max_growth,
        result.failed,
        if reconciliation.exact() {
            "exact"
        } else {
            "NOT exact"
        }
    );

    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| args.target.work_dir.clone());
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let stem = format!("soak-{}", backend.name().to_lowercase());
    let csv_path = out_dir.join(format!("{stem}.csv"));
    std::fs::write(&csv_path, csv(&samples))
        .with_context(|| format!("writing {}", csv_path.display()))?;
    let svg_path = out_dir.join(format!("{stem}.svg"));
    let title = format!(
        "rapport serve on {}, {:.0} responses/s for {} s (samples every {} s)",
        backend.name(),
        args.rate,
        args.duration,
        args.sample
    );
    std::fs::write(&svg_path, plot(&samples, &title))
        .with_context(|| format!("writing {}", svg_path.display()))?;
    println!(
        "samples written to {} and {}",
        csv_path.display(),
        svg_path.display()
    );

    if let Some(status) = died {
        anyhow::bail!("the server process ended during the soak ({status}); see the samples above");
    }
    reconciliation.ensure_exact()?;
    anyhow::ensure!(
        errors == 0 && result.failed == 0,
        "{} requests got no 2xx",
        result.failed
    );
    anyhow::ensure!(
        memory_steady,
        "the server's median RSS grew by {rss_growth:.1}% from the first window after the warm-up to the last"
    );
    anyhow::ensure!(
        files_steady,
        "the server's open files grew by {fds_growth:.1}% from the first window after the warm-up to the last"
    );
    Ok(())
}

/// The samples as CSV, one row per interval.
fn csv(samples: &[Sample]) -> String {
    let mut text =
        String::from("elapsed_s,sent,ok_2xx,errors,p50_ms,p99_ms,rss_kib,open_files,load_1min\n");
    for sample in samples {
        let _ = writeln!(
            text,
            "{:.1},{},{},{},{:.3},{:.3},{},{},{:.2}",
            sample.elapsed.as_secs_f64(),
            sample.sent,
            sample.success,
            sample.failed,
            sample.p50_ms(),
            sample.p99_ms(),
            sample.rss_kib,
            sample.fds,
            sample.load1
        );
    }
    text
}

/// The smallest of 1, 2 or 5 × 10ⁿ at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 || value.is_nan() {
        return 1.0;
    }
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * power)
}

/// Two stacked line charts over time: the server's RSS and each interval's p99.
fn plot(samples: &[Sample], title: &str) -> String {
    const WIDTH: f64 = 640.0;
    const PANEL: f64 = 140.0;
    const LEFT: f64 = 52.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 44.0;
    const GAP: f64 = 52.0;
    let height = TOP + 2.0 * PANEL + GAP + 30.0;
    let x_max = samples
        .last()
        .map_or(1.0, |sample| sample.elapsed.as_secs_f64())
        .max(1.0);
    let x = |seconds: f64| LEFT + (WIDTH - LEFT - RIGHT) * seconds / x_max;
    let tick = nice_ceiling(x_max / 10.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="16" font-size="12">{title}</text>"#
    );
    // Each panel: its label, its colour, and its points (seconds, value).
    type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);
    let series: [Series<'_>; 2] = [
        (
            "server RSS (MiB)",
            "#1f77b4",
            samples
                .iter()
                .map(|sample| (sample.elapsed.as_secs_f64(), sample.rss_mib()))
                .collect(),
        ),
        (
            "p99 latency of each interval (ms)",
            "#d62728",
            samples
                .iter()
                .map(|sample| (sample.elapsed.as_secs_f64(), sample.p99_ms()))
                .filter(|point| !point.1.is_nan())
                .collect(),
        ),
    ];
    for (panel, (label, colour, points)) in series.iter().enumerate() {
        let top = TOP + panel as f64 * (PANEL + GAP);
        let bottom = top + PANEL;
        let y_max = nice_ceiling(points.iter().map(|point| point.1).fold(0.0, f64::max) * 1.1);
        let y = |value: f64| bottom - PANEL * value / y_max;
        let _ = writeln!(svg, r#"<text x="{LEFT}" y="{}">{label}</text>"#, top - 6.0);
        let _ = writeln!(
            svg,
            r##"<path d="M{LEFT} {top}V{bottom}H{}" fill="none" stroke="#444"/>"##,
            WIDTH - RIGHT
        );
        for fraction in [0.0, 0.5, 1.0] {
            let value = y_max * fraction;
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{:.1}" text-anchor="end">{value}</text>"##,
                LEFT - 4.0,
                y(value) + 4.0
            );
            if fraction > 0.0 {
                let _ = writeln!(
                    svg,
                    r##"<path d="M{LEFT} {:.1}H{}" stroke="#ddd"/>"##,
                    y(value),
                    WIDTH - RIGHT
                );
            }
        }
        let mut seconds = 0.0;
        while seconds <= x_max {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{}" text-anchor="middle">{seconds} s</text>"##,
                x(seconds),
                bottom + 14.0
            );
            seconds += tick;
        }
        let polyline: Vec<String> = points
            .iter()
            .map(|(seconds, value)| format!("{:.1},{:.1}", x(*seconds), y(*value)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
            polyline.join(" ")
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_series_has_no_slope_and_a_rising_one_has_its_own() {
        assert_eq!(slope(&[(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)]), 0.0);
        assert!((slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn medians_and_nice_ceilings() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![f64::NAN]).is_nan());
        assert_eq!(nice_ceiling(37.0), 50.0);
        assert_eq!(nice_ceiling(0.8), 1.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
    }
}
