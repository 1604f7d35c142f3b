//! `cargo xtask bench-server [ingest|report|replicas|soak|all] [-- <rapport-bench options>]`:
//! the server benchmarks on SQLite and on a throwaway PostgreSQL, from a fresh clone.
//!
//! Builds the release `rapport` and `rapport-bench`, runs the chosen benchmark against
//! SQLite files under `target/bench-server/`, then starts a throwaway PostgreSQL cluster
//! with `fsync` on (unlike the test cluster, since durability is part of what is measured)
//! and runs it again there. `replicas` runs on PostgreSQL only (replicas share one
//! database; an SQLite file belongs to one process). `all` is ingest, report and replicas;
//! `soak` holds a load for ten minutes per backend by default, so it runs only when named.
//! The measuring itself lives in `bench/server`; this module only orchestrates.

use anyhow::{Result, bail};

use crate::postgres::TempPostgres;
use crate::process::{cargo, command, execute, target_dir};

pub(crate) fn run(args: &[String]) -> Result<()> {
    let (which, forwarded) = match args.split_first() {
        Some((which, rest)) if !which.starts_with('-') => (which.as_str(), rest),
        _ => ("all", args),
    };
    let forwarded: Vec<&String> = forwarded.iter().skip_while(|arg| *arg == "--").collect();
    let benchmarks: &[&str] = match which {
        "ingest" => &["ingest"],
        "report" => &["report"],
        "replicas" => &["replicas"],
        "soak" => &["soak"],
        "all" => &["ingest", "report", "replicas"],
        other => bail!("unknown benchmark `{other}`: use ingest, report, replicas, soak or all"),
    };
    execute(cargo()?.args([
        "build",
        "--release",
        "-p",
        "rapport-server",
        "-p",
        "rapport-bench",
    ]))?;
    let release = target_dir().join("release");
    let bench = |benchmark: &str| -> Result<std::process::Command> {
        let mut command = command(release.join("rapport-bench"))?;
        command
            .arg(benchmark)
            .arg("--rapport")
            .arg(release.join("rapport"))
            .arg("--work-dir")
            .arg(target_dir().join("bench-server"))
            .args(&forwarded);
        Ok(command)
    };
    // A failed check on one backend does not skip the other: a soak that finds memory
    // growth on SQLite still has something to say about PostgreSQL. The failures are
    // reported together at the end.
    let mut failed = Vec::new();
    for benchmark in benchmarks {
        if *benchmark != "replicas"
            && let Err(error) = execute(&mut bench(benchmark)?)
        {
            eprintln!("{benchmark} on SQLite failed: {error:#}");
            failed.push(format!("{benchmark} on SQLite"));
        }
        let postgres = TempPostgres::start_durable()?;
        if let Err(error) = execute(bench(benchmark)?.arg("--postgres").arg(postgres.url())) {
            eprintln!("{benchmark} on PostgreSQL failed: {error:#}");
            failed.push(format!("{benchmark} on PostgreSQL"));
        }
    }
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}
