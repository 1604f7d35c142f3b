//! `cargo xtask test`: runs every test of the project, in a fixed order, and stops at the
//! first failure.
//!
//! Stages: set-up, the formatting and lint gate, native tests (with a throwaway PostgreSQL),
//! wasm tests in headless Chromium, then the widget bundle, the release server and the
//! end-to-end tests. This is
//! what CI runs (`.ci/run`), so it must work on a fresh clone without a terminal, and it
//! must never skip a stage silently.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::postgres::{self, TempPostgres};
use crate::process::{cargo, command, execute, probe, repo_root, target_dir};
use crate::setup::{self, CHROMEDRIVER, CHROMIUM, WASM_TARGET};
use crate::{demo, dist};

/// Progress through the stages: numbered headers and a timing summary at the end.
#[derive(Debug)]
struct Stages {
    total: usize,
    finished: Vec<(String, Duration)>,
}

impl Stages {
    fn run(&mut self, name: &str, stage: impl FnOnce() -> Result<()>) -> Result<()> {
        let number = self.finished.len() + 1;
        println!();
        println!("==================================================================");
        println!("== cargo xtask test: stage {number}/{}: {name}", self.total);
        println!("==================================================================");
        let started = Instant::now();
        stage().with_context(|| format!("stage {number}/{} ({name}) failed", self.total))?;
        self.finished.push((name.to_string(), started.elapsed()));
        Ok(())
    }

    fn print_summary(&self) {
        println!();
        println!("== cargo xtask test: all {} stages passed", self.total);
        for (name, duration) in &self.finished {
            println!("   {:>6.1} s  {name}", duration.as_secs_f64());
        }
    }
}

pub(crate) fn run() -> Result<()> {
    let mut stages = Stages {
        total: 5,
        finished: Vec::new(),
    };
    report_free_disk();

    stages.run(
        "set-up (Rust target, Debian packages, npm packages, wasm-bindgen CLI)",
        || setup::run(setup::Needs::EVERYTHING),
    )?;

    stages.run(
        "format and lint (cargo fmt --check; cargo clippy -D warnings, native and wasm32)",
        format_and_lint,
    )?;

    println!();
    println!("== starting a throwaway PostgreSQL for the server tests");
    let postgres = TempPostgres::start().context("could not start the throwaway PostgreSQL")?;
    postgres::check_connection(&postgres)?;
    let postgres_url = postgres.url();
    println!("== RAPPORT_TEST_POSTGRES_URL={postgres_url}");

    stages.run(
        "native tests (cargo test --workspace --exclude rapport-widget; the key-drivers reference in Python; the server suite again on PostgreSQL)",
        || native_tests(&postgres_url),
    )?;
    stages.run(
        "wasm tests in headless Chromium (rapport-scoring, rapport-widget)",
        wasm_tests,
    )?;
    stages.run("widget bundle, release server and end-to-end tests", || {
        end_to_end_tests(&postgres_url)
    })?;

    drop(postgres);
    stages.print_summary();
    Ok(())
}

/// What the whole gate writes on a fresh clone, measured: the target directory (host, wasm32
/// and release builds, the bundle) plus the throwaway PostgreSQL cluster and the end-to-end
/// tests' data directories.
const DISK_NEEDED_GIB: u64 = 8;

/// Says up front how much disk the run has, and warns when it is less than the gate needs, so
/// that a run that fills the disk half an hour in is explained at its first line.
fn report_free_disk() {
    let mut df = std::process::Command::new("df");
    df.arg("-Pk").arg(repo_root());
    let free_kib = probe(&mut df).and_then(|out| {
        let line = out.lines().nth(1)?.to_owned();
        line.split_whitespace().nth(3)?.parse::<u64>().ok()
    });
    match free_kib {
        Some(kib) => {
            let gib = kib as f64 / (1024.0 * 1024.0);
            println!(
                "== free disk beside the repository: {gib:.1} GiB (the whole gate writes about {DISK_NEEDED_GIB} GiB)"
            );
            if gib < DISK_NEEDED_GIB as f64 {
                println!(
                    "warning: less free disk than the gate needs; the build may stop with \"No space left on device\". Free some space (for example `cargo clean` in other checkouts) and run again."
                );
            }
        }
        None => println!("== free disk beside the repository: unknown (`df` did not answer)"),
    }
}

/// The gate that keeps the tree in the house style: rustfmt over the workspace and the fuzz
/// workspace beside it, then clippy with warnings as errors over every target, on the host
/// and on wasm32 (the crates that build for the browser).
fn format_and_lint() -> Result<()> {
    execute(cargo()?.args(["fmt", "--all", "--check"]))
        .context("the tree is not formatted: run `cargo fmt --all` and commit the result")?;
    let fuzz_manifest = repo_root().join("fuzz").join("Cargo.toml");
    execute(
        cargo()?
            .args(["fmt", "--check", "--manifest-path"])
            .arg(&fuzz_manifest),
    )
    .context("fuzz/ is not formatted: run `cargo fmt` in fuzz/ and commit the result")?;
    execute(cargo()?.args([
        "clippy",
        "--workspace",
        "--exclude",
        "rapport-widget",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
    .context("clippy found warnings on the host")?;
    execute(cargo()?.args([
        "clippy",
        "--package",
        "rapport-scoring",
        "--package",
        "rapport-widget",
        // Benchmarks run on the host only: criterion does not build for wasm32.
        "--lib",
        "--tests",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))
    .context("clippy found warnings on wasm32")
}

fn native_tests(postgres_url: &str) -> Result<()> {
    execute(
        cargo()?
            .args(["test", "--workspace", "--exclude", "rapport-widget"])
            .env("RAPPORT_TEST_POSTGRES_URL", postgres_url),
    )?;
    // The committed reference figures of key drivers must still be what SciPy,
    // statsmodels and NumPy compute, so scoring's comparison with them stays live.
    println!();
    crate::reference::check()?;
    // The server's suite once more, every test on a fresh PostgreSQL database instead of a
    // SQLite file: both backends must pass the same tests.
    println!();
    println!("== the server suite again, on PostgreSQL (RAPPORT_TEST_BACKEND=postgres)");
    execute(
        cargo()?
            .args(["test", "--package", "rapport-server", "--test", "it"])
            .env("RAPPORT_TEST_BACKEND", "postgres")
            .env("RAPPORT_TEST_POSTGRES_URL", postgres_url),
    )
}

fn wasm_tests() -> Result<()> {
    let mut command = cargo()?;
    command
        .args([
            "test",
            "--package",
            "rapport-scoring",
            "--package",
            "rapport-widget",
        ])
        .args(["--target", WASM_TARGET])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", CHROMEDRIVER);
    // A loaded 2-core CI machine can be slower than the runner's 20 s default per test.
    if std::env::var_os("WASM_BINDGEN_TEST_TIMEOUT").is_none() {
        command.env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    }
    execute(&mut command)
}

/// Every `*.test.mjs` file under `dir`, sorted, so the order is the same on every machine.
fn e2e_test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)
            .with_context(|| format!("cannot list {}", current.display()))?
        {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default();
            if path.is_dir() && name != "node_modules" {
                pending.push(path);
            } else if name.ends_with(".test.mjs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn end_to_end_tests(postgres_url: &str) -> Result<()> {
    dist::run()?;
    demo::run_release_build()?;
    println!();
    println!("== API fuzzing: schemathesis against the server's own OpenAPI document");
    crate::api_fuzz::run(25)?;

    let root = repo_root();
    let e2e_dir = root.join("tests").join("e2e");
    let files = e2e_test_files(&e2e_dir)?;
    if files.is_empty() {
        println!();
        println!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        println!("!! NO END-TO-END TESTS: tests/e2e/ has no *.test.mjs files.");
        println!("!! The widget bundle and the release server were built, but");
        println!("!! nothing exercised them in a browser.");
        println!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        return Ok(());
    }
    let relative_files = files
        .iter()
        .map(|file| file.strip_prefix(&root).unwrap_or(file));
    execute(
        command("node")?
            .args(["--test", "--test-reporter=spec"])
            // A test that leaves a server or browser open would otherwise keep node alive
            // until CI's own time limit; a stuck test fails after five minutes instead.
            .args(["--test-force-exit", "--test-timeout=300000"])
            .args(relative_files)
            .env("RAPPORT_BIN", target_dir().join("release").join("rapport"))
            .env("RAPPORT_WIDGET_DIR", dist::out_dir())
            .env("RAPPORT_WWW_DIR", root.join("www"))
            .env("CHROMIUM", CHROMIUM)
            .env("RAPPORT_TEST_POSTGRES_URL", postgres_url),
    )
    .context("end-to-end tests failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e2e_test_files_finds_only_test_modules_sorted() {
        let dir = std::env::temp_dir().join(format!("rapport-xtask-e2e-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::create_dir_all(dir.join("node_modules")).unwrap();
        for file in [
            "b.test.mjs",
            "a.test.mjs",
            "helpers.mjs",
            "nested/c.test.mjs",
            "node_modules/d.test.mjs",
        ] {
            std::fs::write(dir.join(file), "").unwrap();
        }
        let files = e2e_test_files(&dir).unwrap();
        let missing = e2e_test_files(&dir.join("absent")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|file| file.strip_prefix(&dir).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("a.test.mjs"),
                PathBuf::from("b.test.mjs"),
                PathBuf::from("nested/c.test.mjs")
            ]
        );
        assert!(missing.is_empty());
    }
}
