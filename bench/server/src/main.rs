//! `rapport-bench`: the server's benchmarks, each beside its reference in the same run.
//!
//! - `rapport-bench ingest`: starts the release `rapport serve` on a fresh database, posts
//!   distinct valid responses over keep-alive HTTP/1.1 (closed loop for the most it takes,
//!   then open loop at a fixed rate for latency), checks that the database holds exactly the
//!   responses that got a 2xx, then measures the ceiling: the same rows written by raw
//!   inserts with the server's statements and durability into another fresh database, and
//!   the HTTP floor: the same requests to a server that answers them without doing anything.
//! - `rapport-bench report`: loads a fresh database with a million such responses, times the
//!   report over HTTP and from `rapport report`, and times DuckDB computing the same NPS and
//!   CRQ figures from the same rows; checks that both agree.
//! - `rapport-bench replicas`: starts several `rapport serve` processes on one PostgreSQL
//!   database, sends responses round-robin across them (some to two replicas at the same
//!   moment), beside one replica as the reference; checks that the database holds exactly
//!   the responses that got a 2xx, each once.
//! - `rapport-bench soak`: holds an open-loop load for minutes, sampling the server's
//!   memory, open files and latency every few seconds; fails on memory growth, on any
//!   error, and on a lost or doubled response.
//!
//! SQLite is the default; `--postgres URL` runs against new databases on that PostgreSQL
//! server instead (`cargo xtask bench-server` starts a throwaway one). This is a benchmark
//! driver: it asserts correctness (counts, agreement) but never a speed.

mod check;
mod cpu;
mod database;
mod floor;
mod http;
mod load;
mod replicas;
mod report;
mod responses;
mod soak;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::database::{Backend, InsertMethod};
use crate::load::{Pace, PhaseResult};
use crate::responses::{RowMaker, now};

#[derive(Debug, Parser)]
#[command(name = "rapport-bench", about = "Rapport server benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest throughput and latency beside the raw-insert ceiling.
    Ingest(IngestArgs),
    /// The report over many stored responses beside DuckDB.
    Report(report::ReportArgs),
    /// Several replicas on one PostgreSQL database, beside one replica.
    Replicas(replicas::ReplicasArgs),
    /// A fixed load held for minutes, with memory, open files and latency sampled.
    Soak(soak::SoakArgs),
    /// The HTTP floor that `ingest` measures beside the server: answers every post without
    /// doing anything with it (started by `ingest` itself).
    #[command(hide = true)]
    HttpFloor {
        /// Where to listen.
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
}

/// Where and against what to run.
#[derive(Debug, Clone, Args)]
struct Target {
    /// The `rapport` binary to benchmark (build it with `cargo build --release -p rapport-server`).
    #[arg(long, default_value = "target/release/rapport")]
    rapport: PathBuf,
    /// A PostgreSQL URL (`postgres://USER@HOST:PORT/DATABASE`) beside which fresh databases
    /// are created; SQLite files when absent.
    #[arg(long)]
    postgres: Option<String>,
    /// Directory for SQLite files, the identity key and exports.
    #[arg(long, default_value = "target/bench-server")]
    work_dir: PathBuf,
}

impl Target {
    fn backend(&self) -> Backend {
        match &self.postgres {
            Some(url) => Backend::Postgres(url.clone()),
            None => Backend::Sqlite(self.work_dir.clone()),
        }
    }
}

/// The phases of an ingest run: a closed-loop warm-up, the closed loop, then an open loop at
/// a fixed rate. Shared by `ingest` and `replicas`.
#[derive(Debug, Args)]
pub(crate) struct Phases {
    /// Concurrent senders, each with a keep-alive connection (to every replica).
    #[arg(long, default_value_t = 64)]
    pub(crate) connections: usize,
    /// Seconds of the closed loop, after the warm-up.
    #[arg(long, default_value_t = 10)]
    pub(crate) duration: u64,
    /// Seconds of closed-loop warm-up (counted in the check, not in the figures).
    #[arg(long, default_value_t = 2)]
    pub(crate) warmup: u64,
    /// Responses per second in the open loop (with replicas, a pair is one response sent twice).
    #[arg(long, default_value_t = 1000.0)]
    pub(crate) rate: f64,
    /// Seconds of the open loop.
    #[arg(long, default_value_t = 10)]
    pub(crate) rate_duration: u64,
}

#[derive(Debug, Args)]
struct IngestArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    phases: Phases,
    /// Rows the ceiling writes.
    #[arg(long, default_value_t = 100_000)]
    ceiling_rows: u64,
    /// Tasks writing the ceiling's transactions (default: 1 on SQLite, which has one writer
    /// at a time; 4 on PostgreSQL, as many as the server's writers).
    #[arg(long)]
    ceiling_writers: Option<usize>,
    /// Rows per ceiling transaction: the server's largest group commit.
    #[arg(long, default_value_t = 256)]
    batch: usize,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .and_then(|runtime| {
            runtime.block_on(async {
                match cli.command {
                    Command::Ingest(args) => ingest(args).await,
                    Command::Report(args) => report::run(args).await,
                    Command::Replicas(args) => replicas::run(args).await,
                    Command::Soak(args) => soak::run(args).await,
                    Command::HttpFloor { listen } => floor::serve(listen).await,
                }
            })
        });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The machine and its load, printed beside every set of figures.
pub(crate) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} CPUs ({model}), load average {}", load_average())
}

/// The 1-, 5- and 15-minute load averages.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// CPU time of the server and of the load generator per request, and where the rest of the
/// machine's time went.
fn cpu_line(name: &str, usage: &cpu::Usage, requests: u64) -> String {
    format!(
        "{name}: server {:.1} µs, load generator {:.1} µs; machine idle {:.0}%, waiting on the disk {:.0}%, taken by the hypervisor {:.0}%",
        usage.micros_per(0, requests),
        usage.micros_per(1, requests),
        100.0 * usage.idle,
        100.0 * usage.iowait,
        100.0 * usage.steal
    )
}

fn phase_row(name: &str, result: &PhaseResult) -> String {
    format!(
        "| {name} | {:.0}/s | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} |",
        result.throughput(),
        result.quantile_ms(0.5),
        result.quantile_ms(0.99),
        result.max_ms(),
        result.success,
        result.failed
    )
}

async fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    let backend = args.target.backend();
    println!("ingest on {}: {}", backend.name(), machine());
    let url = backend.fresh("ingest").await?;
    let server = http::Server::start(&args.target.rapport, &url, &args.target.work_dir).await?;
    let indices = Arc::new(load::Indices::default());
    let warmup = load::run(
        server.address,
        Arc::clone(&indices),
        args.phases.connections,
        Duration::from_secs(args.phases.warmup),
        Pace::Closed,
    )
    .await?;
    let meter = cpu::Meter::start(&[
        server.pid().context("the server has exited")?,
        std::process::id(),
    ])?;
    let closed = load::run(
        server.address,
        Arc::clone(&indices),
        args.phases.connections,
        Duration::from_secs(args.phases.duration),
        Pace::Closed,
    )
    .await?;
    let closed_cpu = meter.finish()?;
    let open = load::run(
        server.address,
        Arc::clone(&indices),
        args.phases.connections,
        Duration::from_secs(args.phases.rate_duration),
        Pace::Open(args.phases.rate),
    )
    .await?;
    server.stop().await?;
    let load_after = load_average();

    // Every 2xx must be in the database exactly once, and nothing else.
    let acknowledged = warmup.success + closed.success + open.success;
    let pool = database::Pool::connect(&url, 1).await?;
    let stored = pool.count_responses().await?;
    pool.close().await;
    anyhow::ensure!(
        stored == acknowledged,
        "the database holds {stored} responses but {acknowledged} got a 2xx"
    );
    let created = warmup.created + closed.created + open.created;
    anyhow::ensure!(
        created == acknowledged,
        "{acknowledged} responses got a 2xx but only {created} a 201, though every response was new"
    );

    // The ceiling: the same rows, raw, into a fresh database.
    let writers = args.ceiling_writers.unwrap_or(match backend {
        Backend::Sqlite(_) => 1,
        Backend::Postgres(_) => 4,
    });
    let maker = RowMaker::new()?;
    let received_at = now();
    let rows = (0..args.ceiling_rows)
        .map(|index| maker.row(index, &received_at))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut ceilings = Vec::new();
    for &method in InsertMethod::for_backend(&backend) {
        let ceiling_url = backend
            .fresh(&format!("ceiling-{}", ceilings.len()))
            .await?;
        // On SQLite the ceiling's whole work is in this process; on PostgreSQL most of it
        // is in the database's processes, which this does not see.
        let meter = cpu::Meter::start(&[std::process::id()])?;
        let ceiling =
            database::raw_inserts(&ceiling_url, &rows, writers, args.batch, method).await?;
        let usage = meter.finish()?;
        ceilings.push((method, ceiling, usage));
    }
    let (best_method, best_ceiling, best_cpu) = ceilings
        .iter()
        .max_by(|a, b| a.1.rate().total_cmp(&b.1.rate()))
        .context("no ceiling was measured")?;
    let best = best_ceiling.rate();

    // The HTTP floor: the same requests over the same client to a server that does nothing
    // with them, so the figures show what HTTP alone costs on this machine.
    let floor_server =
        floor::FloorServer::start(&std::env::current_exe().context("finding this binary")?).await?;
    let floor_indices = Arc::new(load::Indices::default());
    load::run(
        floor_server.address,
        Arc::clone(&floor_indices),
        args.phases.connections,
        Duration::from_secs(args.phases.warmup),
        Pace::Closed,
    )
    .await?;
    let meter = cpu::Meter::start(&[
        floor_server
            .pid()
            .context("the HTTP floor server has exited")?,
        std::process::id(),
    ])?;
    let floor = load::run(
        floor_server.address,
        floor_indices,
        args.phases.connections,
        Duration::from_secs(args.phases.duration),
        Pace::Closed,
    )
    .await?;
    let floor_cpu = meter.finish()?;
    drop(floor_server);
    anyhow::ensure!(
        floor.failed == 0 && floor.created == floor.success,
        "the HTTP floor server refused {} requests",
        floor.failed
    );

    println!();
    println!(
        "| {} ({} connections) | throughput | p50 | p99 | max | 2xx | other |",
        backend.name(),
        args.phases.connections
    );
    println!("|---|---|---|---|---|---|---|");
    println!("{}", phase_row("closed loop (max throughput)", &closed));
    println!(
        "{}",
        phase_row(&format!("open loop at {:.0}/s", args.phases.rate), &open)
    );
    for (method, ceiling, _) in &ceilings {
        println!(
            "| ceiling: raw inserts {}, {} rows, {writers} writer(s), {} rows per commit | {:.0}/s | | | | | |",
            method.name(),
            ceiling.rows,
            args.batch,
            ceiling.rate()
        );
    }
    println!(
        "{}",
        phase_row(
            "HTTP floor: axum answering without validating or storing",
            &floor
        )
    );
    println!();
    println!(
        "server at {:.0}% of the ceiling (the faster raw insert)",
        100.0 * closed.throughput() / best
    );
    println!(
        "server at {:.0}% of the HTTP floor",
        100.0 * closed.throughput() / floor.throughput()
    );
    println!();
    println!(
        "{}",
        cpu_line(
            "CPU per response, closed loop",
            &closed_cpu,
            closed.success + closed.failed
        )
    );
    println!(
        "{}",
        cpu_line(
            "CPU per response, HTTP floor",
            &floor_cpu,
            floor.success + floor.failed
        )
    );
    if matches!(backend, Backend::Sqlite(_)) {
        let row_micros = best_cpu.micros_per(0, best_ceiling.rows as u64);
        println!(
            "CPU per row, ceiling ({}): {row_micros:.1} µs in one process",
            best_method.name()
        );
        // What half the ceiling would take, if every part kept its cost per response.
        let server = closed_cpu.micros_per(0, closed.success + closed.failed);
        let client = closed_cpu.micros_per(1, closed.success + closed.failed);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        println!(
            "at half the ceiling ({:.0}/s), the server ({server:.1} µs) and the load generator ({client:.1} µs) at these costs would need {:.2} of {cpus} CPUs",
            best / 2.0,
            best / 2.0 * (server + client) / 1e6
        );
    }
    println!(
        "checked: the database holds exactly the {stored} responses that got a 2xx (warm-up {}, closed {}, open {})",
        warmup.success, closed.success, open.success
    );
    println!(
        "load average after the HTTP phases: {load_after}; at the end: {}",
        load_average()
    );
    Ok(())
}
