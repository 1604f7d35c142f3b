//! Locations inside the repository and a small helper for running child processes.
//!
//! Every child process gets the project-local tool directory first on `PATH`, so the pinned
//! `wasm-bindgen-test-runner` wins over anything else installed on the machine. This module
//! only spawns processes; it must never decide *what* to run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The root of the repository (the directory holding the workspace `Cargo.toml`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` like cargo itself does.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => repo_root().join(dir),
        _ => repo_root().join("target"),
    }
}

/// Where `cargo install --root` puts project-local tools such as the wasm-bindgen CLI.
pub(crate) fn tools_root() -> PathBuf {
    repo_root().join("target").join("tools")
}

/// The `bin` directory of [`tools_root`].
pub(crate) fn tools_bin() -> PathBuf {
    tools_root().join("bin")
}

/// `PATH` for child processes: the project-local tools first, then the inherited `PATH`.
pub(crate) fn child_path() -> Result<OsString> {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let mut entries = vec![tools_bin()];
    entries.extend(std::env::split_paths(&inherited));
    std::env::join_paths(entries).context("PATH contains a directory with a `:` in its name")
}

/// The cargo that is running us, so nested builds use the same toolchain.
pub(crate) fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// A command that runs in the repository root with the project `PATH` and no stdin.
///
/// No stdin makes any tool that would wait for an answer fail at once instead of hanging
/// CI.
pub(crate) fn command(program: impl AsRef<std::ffi::OsStr>) -> Result<Command> {
    let mut command = Command::new(program);
    command
        .current_dir(repo_root())
        .env("PATH", child_path()?)
        .stdin(Stdio::null());
    Ok(command)
}

/// A `cargo` command, see [`command`].
pub(crate) fn cargo() -> Result<Command> {
    command(cargo_program())
}

/// A shell-like rendering of a command, for progress messages and errors.
pub(crate) fn describe(command: &Command) -> String {
    let mut text = String::new();
    for (key, value) in command.get_envs() {
        // PATH is the same for every child and would drown the interesting variables.
        if key == "PATH" {
            continue;
        }
        if let Some(value) = value {
            text.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    text.push_str(&command.get_program().to_string_lossy());
    for arg in command.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            text.push_str(&format!(" '{arg}'"));
        } else {
            text.push(' ');
            text.push_str(&arg);
        }
    }
    text
}

/// Prints the command, runs it with inherited stdout/stderr and fails unless it exits with 0.
pub(crate) fn execute(command: &mut Command) -> Result<()> {
    let description = describe(command);
    println!("$ {description}");
    let status = command
        .status()
        .with_context(|| format!("could not start `{description}` (is it installed?)"))?;
    if !status.success() {
        bail!("`{description}` failed with {status}");
    }
    Ok(())
}

/// Runs the command quietly and returns its stdout, or `None` if it cannot start or fails.
///
/// Used for probes such as `tool --version`, where failure just means "not installed".
pub(crate) fn probe(command: &mut Command) -> Option<String> {
    let output = command.stderr(Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
