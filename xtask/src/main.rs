//! Project automation: `cargo xtask demo`, `cargo xtask test`, `cargo xtask dist`,
//! `cargo xtask setup`, `cargo xtask fuzz`, `cargo xtask api-fuzz`, `cargo xtask bench-server`.
//!
//! Everything a contributor or CI needs goes through here, so that the two commands in the
//! README keep working on a fresh clone. This crate only orchestrates tools; it must never
//! contain product logic (that lives in `scoring`, `widget` and `server`).

mod api_fuzz;
mod bench_server;
mod demo;
mod dist;
mod fuzz;
mod layers;
mod postgres;
mod process;
mod reference;
mod setup;
mod test_all;
mod tidy;

use std::process::ExitCode;

use anyhow::{Result, bail};

const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  demo [-- <server args>]  Build the widget and run the Rapport server at http://127.0.0.1:8080/
  test                     Install what is missing, then run every test (native, wasm, end-to-end)
  dist                     Build the optimised widget into dist/widget/
  setup                    Install the tools the other commands need (idempotent)
  api-fuzz [EXAMPLES]      Fuzz the HTTP API from its OpenAPI document (needs the release server)
  fuzz [SECONDS [TARGET]]  Run each libFuzzer target SECONDS (default 600) and print the figures
  bench-server [ingest|report|replicas|soak|all] [-- <options>]
                           Server benchmarks on SQLite and a throwaway PostgreSQL (fsync on);
                           replicas on PostgreSQL only; all = ingest, report, replicas
  help                     Show this message
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Print the chain of causes ourselves: anyhow's default report adds a backtrace
            // whenever RUST_BACKTRACE is set, which buries the message that matters.
            eprintln!();
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("demo") => demo::run(&rest),
        Some("test") => {
            reject_extra_args("test", &rest)?;
            test_all::run()
        }
        Some("dist") => {
            reject_extra_args("dist", &rest)?;
            setup::run(setup::Needs::DIST)?;
            dist::run()
        }
        Some("fuzz") => fuzz::run(&rest),
        Some("api-fuzz") => {
            let examples = match rest.as_slice() {
                [] => 200,
                [examples] => examples
                    .parse()
                    .map_err(|_| anyhow::anyhow!("`{examples}` is not a number of examples"))?,
                _ => bail!("usage: cargo xtask api-fuzz [EXAMPLES]"),
            };
            api_fuzz::install()?;
            api_fuzz::run(examples)
        }
        Some("setup") => {
            reject_extra_args("setup", &rest)?;
            setup::run(setup::Needs::EVERYTHING)
        }
        Some("bench-server") => bench_server::run(&rest),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn reject_extra_args(command: &str, rest: &[String]) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        bail!("`cargo xtask {command}` takes no arguments, got {rest:?}\n\n{USAGE}")
    }
}
