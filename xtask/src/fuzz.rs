//! `cargo xtask fuzz [SECONDS [TARGET]]`: runs every libFuzzer target in `fuzz/` (or only
//! TARGET) for SECONDS each (600 by default) and prints executions and crashes per target, the figures recorded in
//! `docs/RELIABILITY.md`.
//!
//! It installs what it needs: the nightly toolchain (sanitizers need it) and `cargo-fuzz`
//! into the project's tool directory. Each run starts from the seed corpus in
//! `fuzz/corpus/<target>/` and grows a working copy under `target/fuzz-corpus/`, so the
//! committed seeds stay small. A crash is kept by libFuzzer under `fuzz/artifacts/` and
//! fails the command.

use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, bail};

use crate::process::{command, execute, repo_root, target_dir, tools_bin, tools_root};

/// The targets, as named in `fuzz/Cargo.toml`.
const TARGETS: [&str; 3] = ["wire", "definition", "invitation"];

fn install() -> Result<()> {
    let has_nightly = command("rustup")?
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_nightly {
        execute(command("rustup")?.args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))
        .context("installing the nightly toolchain (libFuzzer's sanitizers need it)")?;
    }
    if !tools_bin().join("cargo-fuzz").exists() {
        execute(
            command(crate::process::cargo_program())?
                .args(["install", "cargo-fuzz", "--locked", "--root"])
                .arg(tools_root()),
        )
        .context("installing cargo-fuzz")?;
    }
    Ok(())
}

/// How many inputs libFuzzer ran: its final `stat::number_of_executed_runs`, or the
/// `Done N runs in S second(s)` line it prints when the time is up.
fn executions(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|line| {
        let line = line.trim();
        if let Some(count) = line.strip_prefix("stat::number_of_executed_runs:") {
            return count.trim().parse().ok();
        }
        line.strip_prefix("Done ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

pub(crate) fn run(rest: &[String]) -> Result<()> {
    let (seconds, only) = match rest {
        [] => (600, None),
        [seconds] => (
            seconds
                .parse::<u64>()
                .with_context(|| format!("`{seconds}` is not a number of seconds"))?,
            None,
        ),
        [seconds, target] if TARGETS.contains(&target.as_str()) => (
            seconds
                .parse::<u64>()
                .with_context(|| format!("`{seconds}` is not a number of seconds"))?,
            Some(target.as_str()),
        ),
        _ => bail!("usage: cargo xtask fuzz [SECONDS [TARGET]], TARGET one of {TARGETS:?}"),
    };
    install()?;
    let root = repo_root();
    let mut summary = Vec::new();
    for target in TARGETS
        .into_iter()
        .filter(|target| only.is_none_or(|only| only == *target))
    {
        let working = target_dir().join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&working)?;
        let seeds = root.join("fuzz").join("corpus").join(target);
        println!(
            "== fuzzing `{target}` for {seconds} s (seeds in {})",
            seeds.strip_prefix(&root).unwrap_or(&seeds).display()
        );
        let output = command(tools_bin().join("cargo-fuzz"))?
            .current_dir(root.join("fuzz"))
            .env("RUSTUP_TOOLCHAIN", "nightly")
            .args(["run", "-O", target])
            .arg(&working)
            .arg(&seeds)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
                "-max_len=65536",
            ])
            .stdout(Stdio::inherit())
            .output()
            .with_context(|| format!("running the fuzz target `{target}`"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let crashed = !output.status.success();
        if crashed {
            eprintln!("{log}");
        } else {
            // libFuzzer's closing lines: the totals this run reached.
            for line in log
                .lines()
                .filter(|line| line.starts_with("stat::") || line.starts_with("Done "))
            {
                eprintln!("{line}");
            }
        }
        summary.push((target, executions(&log), crashed));
    }
    println!();
    println!("target       seconds   executions   crashes");
    for (target, runs, crashed) in &summary {
        let runs = runs.map_or_else(|| "?".to_owned(), |runs| runs.to_string());
        println!(
            "{target:<12} {seconds:>7}   {runs:>10}   {:>7}",
            usize::from(*crashed)
        );
    }
    if summary.iter().any(|(_, _, crashed)| *crashed) {
        bail!(
            "a fuzz target crashed; the input is under {}",
            Path::new("fuzz/artifacts").display()
        );
    }
    Ok(())
}
