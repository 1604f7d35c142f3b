//! `cargo xtask demo`: builds the widget and the server, seeds a demo programme when the
//! database has no responses yet (`rapport demo-seed`, which also prints a fresh API token
//! per role for the dashboard), then runs the server in the foreground with the demo pages
//! from `www/` and the widget from `dist/widget/`.
//!
//! Arguments after `--` go to `rapport serve` unchanged; one that names a flag the demo
//! sets by default (for example `--listen`) replaces that default. This module must never
//! install browsers or PostgreSQL: the demo runs on SQLite.

use anyhow::{Context, Result};

use crate::process::{cargo, command, describe, execute, repo_root, target_dir};
use crate::{dist, setup};

/// The flags the demo passes to `rapport serve` unless the user gives them.
fn default_serve_args() -> Vec<(&'static str, String)> {
    vec![
        ("--listen", "127.0.0.1:8080".to_string()),
        ("--database-url", "sqlite://rapport.db".to_string()),
        ("--www-dir", "www".to_string()),
        ("--widget-dir", "dist/widget".to_string()),
    ]
}

/// Returns the value the user gave for `flag` (as `--flag value` or `--flag=value`).
fn user_value<'a>(user_args: &'a [String], flag: &str) -> Option<&'a str> {
    let prefix = format!("{flag}=");
    user_args.iter().enumerate().find_map(|(index, arg)| {
        if arg == flag {
            Some(user_args.get(index + 1).map_or("", String::as_str))
        } else {
            arg.strip_prefix(&prefix)
        }
    })
}

/// The full argument list for `rapport`: `serve`, the defaults the user did not override,
/// then the user's arguments.
fn serve_args(user_args: &[String]) -> Vec<String> {
    let mut args = vec!["serve".to_string()];
    for (flag, value) in default_serve_args() {
        if user_value(user_args, flag).is_none() {
            args.push(flag.to_string());
            args.push(value);
        }
    }
    args.extend(user_args.iter().cloned());
    args
}

/// The `rapport demo-seed` arguments that match the server's: the same database and, when
/// the user named one, the same identity key file.
fn seed_args(serve_args: &[String]) -> Vec<String> {
    let mut args = vec!["demo-seed".to_string()];
    for flag in ["--database-url", "--identity-key-file"] {
        if let Some(value) = user_value(serve_args, flag) {
            args.push(flag.to_string());
            args.push(value.to_string());
        }
    }
    args
}

/// The address to open in a browser for a `--listen` value.
fn browser_url(listen: &str) -> String {
    let reachable = listen
        .strip_prefix("0.0.0.0:")
        .or_else(|| listen.strip_prefix("[::]:"))
        .map_or_else(|| listen.to_string(), |port| format!("127.0.0.1:{port}"));
    format!("http://{reachable}/")
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    // `cargo xtask demo -- --listen ...` arrives as `["--", "--listen", ...]`.
    let user_args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };

    setup::run(setup::Needs::DEMO)?;
    dist::run()?;
    run_release_build()?;

    let binary = target_dir().join("release").join("rapport");
    let serve_args = serve_args(user_args);
    let listen = user_value(&serve_args, "--listen").unwrap_or("127.0.0.1:8080");
    execute(
        command(&binary)?
            .args(seed_args(&serve_args))
            .current_dir(repo_root()),
    )
    .context("could not seed the demo programme")?;
    let mut server = command(&binary)?;
    server
        .args(&serve_args)
        .current_dir(repo_root())
        .stdin(std::process::Stdio::inherit());

    println!();
    println!(
        "demo: open {} in a browser (Ctrl-C stops the server)",
        browser_url(listen)
    );
    println!(
        "demo: results dashboard at {}dashboard; sign in with a token printed above",
        browser_url(listen)
    );
    println!("$ {}", describe(&server));
    // Replace this process with the server, so Ctrl-C and exit codes behave as if the user
    // had started it directly.
    use std::os::unix::process::CommandExt;
    let error = server.exec();
    Err(error).with_context(|| format!("could not start {}", binary.display()))
}

pub(crate) fn run_release_build() -> Result<()> {
    execute(cargo()?.args(["build", "--release", "--package", "rapport-server"]))
        .context("could not build the server")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn without_user_args_the_demo_serves_on_localhost_8080() {
        assert_eq!(
            serve_args(&[]),
            strings(&[
                "serve",
                "--listen",
                "127.0.0.1:8080",
                "--database-url",
                "sqlite://rapport.db",
                "--www-dir",
                "www",
                "--widget-dir",
                "dist/widget",
            ])
        );
    }

    #[test]
    fn user_flags_replace_defaults_in_both_spellings() {
        let args = serve_args(&strings(&[
            "--listen",
            "0.0.0.0:9000",
            "--database-url=sqlite://x.db",
            "--verbose",
        ]));
        assert_eq!(
            args,
            strings(&[
                "serve",
                "--www-dir",
                "www",
                "--widget-dir",
                "dist/widget",
                "--listen",
                "0.0.0.0:9000",
                "--database-url=sqlite://x.db",
                "--verbose",
            ])
        );
        assert_eq!(user_value(&args, "--listen"), Some("0.0.0.0:9000"));
    }

    #[test]
    fn the_seed_uses_the_servers_database_and_key() {
        let args = serve_args(&strings(&["--identity-key-file", "demo.key"]));
        assert_eq!(
            seed_args(&args),
            strings(&[
                "demo-seed",
                "--database-url",
                "sqlite://rapport.db",
                "--identity-key-file",
                "demo.key",
            ])
        );
    }

    #[test]
    fn wildcard_listen_addresses_are_opened_on_loopback() {
        assert_eq!(browser_url("127.0.0.1:8080"), "http://127.0.0.1:8080/");
        assert_eq!(browser_url("0.0.0.0:9000"), "http://127.0.0.1:9000/");
        assert_eq!(browser_url("[::]:9000"), "http://127.0.0.1:9000/");
    }
}
