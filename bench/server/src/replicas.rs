//! `rapport-bench replicas`: several `rapport serve` processes on one PostgreSQL database.
//!
//! Starts N replicas (each its own process and port, all with the same identity key, as a
//! deployment behind a load balancer runs them) on one fresh database and sends responses
//! round-robin across them: a warm-up, a closed loop for the most they take together, then
//! an open loop at a fixed rate for latency. Every k-th response is sent to two replicas at
//! the same moment, so both race to store the same id. Afterwards the database must hold
//! exactly the ids that got a 2xx, each once, each answered 201 once, and every pair must
//! have got one 201 and one `duplicate`.
//!
//! The same phases against one replica on its own fresh database run first, as the
//! reference. PostgreSQL only: SQLite is one process's file, not a shared database.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::check::Reconciliation;
use crate::database::{self, Backend};
use crate::http::Server;
use crate::load::{self, Indices, Pace, PhaseResult, Plan};
use crate::{Phases, Target, load_average, machine};

/// `rapport-bench replicas`.
#[derive(Debug, Args)]
pub(crate) struct ReplicasArgs {
    #[command(flatten)]
    target: Target,
    /// `rapport serve` processes on the one database.
    #[arg(long, default_value_t = 2)]
    replicas: usize,
    #[command(flatten)]
    phases: Phases,
    /// Every this many responses, one is sent to two replicas at the same moment (0: never).
    #[arg(long, default_value_t = 50)]
    pair_every: u64,
    /// Skip the reference run against one replica.
    #[arg(long)]
    no_reference: bool,
}

/// One run against `replicas` servers.
#[derive(Debug)]
struct Measured {
    replicas: usize,
    warmup: PhaseResult,
    closed: PhaseResult,
    open: PhaseResult,
    reconciliation: Reconciliation,
    load_after: String,
}

/// Starts `n_replicas` servers on a fresh database, drives the three phases, stops them and
/// reconciles the database with the answers.
async fn measure(
    args: &ReplicasArgs,
    backend: &Backend,
    n_replicas: usize,
) -> anyhow::Result<Measured> {
    let url = backend.fresh(&format!("replicas-{n_replicas}")).await?;
    // One after another, so the first creates the identity key file the others then read.
    let mut servers = Vec::new();
    for _ in 0..n_replicas {
        servers.push(Server::start(&args.target.rapport, &url, &args.target.work_dir).await?);
    }
    let replicas: Vec<_> = servers.iter().map(|server| server.address).collect();
    let indices = Arc::new(Indices::default());
    let pair_every = (args.pair_every > 0).then_some(args.pair_every);
    let plan = |seconds: u64, pace: Pace| Plan {
        replicas: replicas.clone(),
        connections: args.phases.connections,
        duration: Duration::from_secs(seconds),
        pace,
        pair_every,
        live: None,
    };
    let warmup = load::drive(Arc::clone(&indices), plan(args.phases.warmup, Pace::Closed)).await?;
    let closed = load::drive(
        Arc::clone(&indices),
        plan(args.phases.duration, Pace::Closed),
    )
    .await?;
    let open = load::drive(
        Arc::clone(&indices),
        plan(args.phases.rate_duration, Pace::Open(args.phases.rate)),
    )
    .await?;
    for server in servers {
        server.stop().await?;
    }
    let load_after = load_average();

    let mut acknowledged = Vec::new();
    let mut created = Vec::new();
    for phase in [&warmup, &closed, &open] {
        acknowledged.extend_from_slice(&phase.acknowledged);
        created.extend_from_slice(&phase.created_indices);
    }
    let pool = database::Pool::connect(&url, 1).await?;
    let reconciliation = Reconciliation::of(&pool, &acknowledged, &created).await?;
    pool.close().await;
    Ok(Measured {
        replicas: n_replicas,
        warmup,
        closed,
        open,
        reconciliation,
        load_after,
    })
}

fn phase_row(name: &str, replicas: usize, result: &PhaseResult) -> String {
    format!(
        "| {name} | {replicas} | {:.0}/s | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} |",
        result.throughput(),
        result.quantile_ms(0.5),
        result.quantile_ms(0.99),
        result.max_ms(),
        result.success,
        result.failed
    )
}

/// Runs the whole replicas benchmark.
pub(crate) async fn run(args: ReplicasArgs) -> anyhow::Result<()> {
    let backend = args.target.backend();
    anyhow::ensure!(
        matches!(backend, Backend::Postgres(_)),
        "replicas share one PostgreSQL database: pass --postgres URL (an SQLite file belongs to one server process)"
    );
    anyhow::ensure!(args.replicas >= 1, "--replicas must be at least 1");
    println!("replicas on {}: {}", backend.name(), machine());
    let mut counts = vec![args.replicas];
    if args.replicas > 1 && !args.no_reference {
        counts.insert(0, 1);
    }
    let mut runs = Vec::new();
    for n_replicas in counts {
        let measured = measure(&args, &backend, n_replicas).await?;
        eprintln!(
            "{n_replicas} replica(s) done; load average {}",
            measured.load_after
        );
        runs.push(measured);
    }

    println!();
    println!(
        "| {} ({} connections) | replicas | throughput | p50 | p99 | max | 2xx | other |",
        backend.name(),
        args.phases.connections
    );
    println!("|---|---|---|---|---|---|---|---|");
    for run in &runs {
        println!(
            "{}",
            phase_row("closed loop (max throughput)", run.replicas, &run.closed)
        );
    }
    for run in &runs {
        println!(
            "{}",
            phase_row(
                &format!("open loop at {:.0}/s", args.phases.rate),
                run.replicas,
                &run.open
            )
        );
    }
    println!();
    println!(
        "| replicas | acknowledged | stored | lost | stored without a 2xx | doubled | 201 twice | pairs | one 201 + one duplicate |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for run in &runs {
        let check = &run.reconciliation;
        let (pairs, split) = [&run.warmup, &run.closed, &run.open]
            .iter()
            .fold((0, 0), |(pairs, split), phase| {
                (pairs + phase.pairs, split + phase.pairs_split)
            });
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {pairs} | {split} |",
            run.replicas,
            check.acknowledged,
            check.stored,
            check.lost.len(),
            check.unacknowledged.len(),
            check.doubled,
            check.created_twice.len()
        );
    }
    println!();
    for run in &runs {
        let split = |phase: &PhaseResult| {
            phase
                .per_replica
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        };
        println!(
            "{} replica(s): 2xx per replica, closed loop {}, open loop {}; load average after: {}",
            run.replicas,
            split(&run.closed),
            split(&run.open),
            run.load_after
        );
    }
    println!("load average at the end: {}", load_average());

    // Failures, after the figures so that they are on record either way.
    for run in &runs {
        run.reconciliation
            .ensure_exact()
            .map_err(|error| error.context(format!("{} replica(s)", run.replicas)))?;
        let phases = [&run.warmup, &run.closed, &run.open];
        let failed: u64 = phases.iter().map(|phase| phase.failed).sum();
        anyhow::ensure!(
            failed == 0,
            "{} replica(s): {failed} requests got no 2xx",
            run.replicas
        );
        let (pairs, split): (u64, u64) = phases.iter().fold((0, 0), |(pairs, split), phase| {
            (pairs + phase.pairs, split + phase.pairs_split)
        });
        anyhow::ensure!(
            split == pairs,
            "{} replica(s): {} of {pairs} pairs were not answered with one 201 and one duplicate",
            run.replicas,
            pairs - split
        );
    }
    println!(
        "checked: each database holds exactly the responses that got a 2xx, each once and each answered 201 once; every pair got one 201 and one duplicate"
    );
    Ok(())
}
