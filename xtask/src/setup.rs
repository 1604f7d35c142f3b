//! `cargo xtask setup`: installs whatever the other commands need and is missing.
//!
//! Each step first checks whether its tool is already there, so a second run takes well
//! under a second and prints only "ok" lines. Steps that install something say exactly what
//! they run. This module must never install anything that is already present, and never
//! fetch binaries from outside the package registries (crates.io, npm, Debian).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::postgres;
use crate::process::{cargo, command, execute, probe, repo_root, tools_bin, tools_root};

/// The wasm-bindgen version pinned in the workspace `Cargo.toml`. The library, the CLI and
/// the test runner must all be exactly this version.
pub(crate) const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// The Rust target the widget is compiled for.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian's Chromium, used by the wasm browser tests and the end-to-end tests.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's Firefox ESR, for the end-to-end smoke in Firefox.
pub(crate) const FIREFOX: &str = "/usr/bin/firefox-esr";
/// WebKitGTK's WebDriver, for the end-to-end smoke in WebKit.
pub(crate) const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
/// Runs WebKit under a virtual X display.
pub(crate) const XVFB_RUN: &str = "/usr/bin/xvfb-run";

/// Debian's chromedriver, used by `wasm-bindgen-test-runner`.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Which parts of the set-up a command needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Needs {
    wasm_target: bool,
    wasm_bindgen_cli: bool,
    system_packages: bool,
    npm_packages: bool,
    schemathesis: bool,
}

impl Needs {
    /// Everything, for `cargo xtask setup` and `cargo xtask test`.
    pub(crate) const EVERYTHING: Needs = Needs {
        wasm_target: true,
        wasm_bindgen_cli: true,
        system_packages: true,
        npm_packages: true,
        schemathesis: true,
    };

    /// What building the widget needs: the wasm target and npm's `wasm-opt`.
    pub(crate) const DIST: Needs = Needs {
        wasm_target: true,
        wasm_bindgen_cli: false,
        system_packages: false,
        npm_packages: true,
        schemathesis: false,
    };

    /// What the demo needs: the same as [`Needs::DIST`], no browsers and no PostgreSQL.
    pub(crate) const DEMO: Needs = Needs::DIST;
}

/// Installs whatever `needs` asks for and is missing.
pub(crate) fn run(needs: Needs) -> Result<()> {
    if needs.wasm_target {
        ensure_wasm_target().context("could not set up the wasm32 Rust target")?;
    }
    if needs.system_packages {
        ensure_system_packages().context("could not set up the Debian packages")?;
    }
    if needs.npm_packages {
        ensure_npm_packages().context("could not set up the npm packages")?;
    }
    if needs.wasm_bindgen_cli {
        ensure_wasm_bindgen_cli().context("could not set up the wasm-bindgen CLI")?;
    }
    if needs.schemathesis {
        crate::api_fuzz::install().context("could not set up schemathesis")?;
    }
    Ok(())
}

fn ensure_wasm_target() -> Result<()> {
    let installed = probe(command("rustup")?.args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|line| line.trim() == WASM_TARGET) => {
            println!("setup: ok: Rust target {WASM_TARGET}");
            Ok(())
        }
        Some(_) => {
            println!("setup: installing Rust target {WASM_TARGET}");
            execute(command("rustup")?.args(["target", "add", WASM_TARGET]))
        }
        None => bail!(
            "`rustup target list --installed` failed; install rustup, or add the \
             {WASM_TARGET} target to your Rust toolchain by other means"
        ),
    }
}

/// Returns true if the wasm-bindgen test runner on the project `PATH` is the pinned version.
fn wasm_bindgen_cli_is_pinned_version() -> Result<bool> {
    let runner = probe(command("wasm-bindgen-test-runner")?.arg("--version"));
    if let Some(version) = runner {
        return Ok(version.contains(WASM_BINDGEN_VERSION));
    }
    // Some runner versions have no `--version`; the CLI next to it is installed together
    // with it, so its version stands for both.
    let cli = probe(command("wasm-bindgen")?.arg("--version"));
    let runner_present =
        probe(command("sh")?.args(["-c", "command -v wasm-bindgen-test-runner"])).is_some();
    Ok(runner_present && cli.is_some_and(|version| version.contains(WASM_BINDGEN_VERSION)))
}

fn ensure_wasm_bindgen_cli() -> Result<()> {
    if wasm_bindgen_cli_is_pinned_version()? {
        println!("setup: ok: wasm-bindgen-test-runner {WASM_BINDGEN_VERSION}");
        return Ok(());
    }
    println!(
        "setup: installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} into {} \
         (builds from source, takes about 3 minutes)",
        tools_root().display()
    );
    // No `--locked`: one of the versions in the CLI's own lock file is no longer in the
    // crates.io index, so a locked install fails.
    execute(
        cargo()?
            .args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                WASM_BINDGEN_VERSION,
                "--root",
            ])
            .arg(tools_root()),
    )?;
    if !wasm_bindgen_cli_is_pinned_version()? {
        bail!(
            "installed wasm-bindgen-cli {WASM_BINDGEN_VERSION}, but {} still does not provide \
             wasm-bindgen-test-runner {WASM_BINDGEN_VERSION}",
            tools_bin().display()
        );
    }
    Ok(())
}

/// A Debian package and the file whose presence shows it is installed.
struct SystemPackage {
    package: &'static str,
    is_installed: fn() -> bool,
}

const SYSTEM_PACKAGES: &[SystemPackage] = &[
    SystemPackage {
        package: "chromium",
        is_installed: || Path::new(CHROMIUM).exists(),
    },
    SystemPackage {
        package: "chromium-driver",
        is_installed: || Path::new(CHROMEDRIVER).exists(),
    },
    SystemPackage {
        package: "postgresql",
        is_installed: || postgres::find_bin_dir().is_some(),
    },
    // The end-to-end smoke in the other two engines clients use: Firefox over WebDriver
    // BiDi, and WebKit (Safari's engine) over WebDriver under a virtual display.
    SystemPackage {
        package: "firefox-esr",
        is_installed: || Path::new(FIREFOX).exists(),
    },
    SystemPackage {
        package: "webkit2gtk-driver",
        is_installed: || Path::new(WEBKIT_DRIVER).exists(),
    },
    SystemPackage {
        package: "xvfb",
        is_installed: || Path::new(XVFB_RUN).exists(),
    },
];

fn ensure_system_packages() -> Result<()> {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|package| !(package.is_installed)())
        .map(|package| package.package)
        .collect();
    if missing.is_empty() {
        let names: Vec<&str> = SYSTEM_PACKAGES
            .iter()
            .map(|package| package.package)
            .collect();
        println!("setup: ok: Debian packages {}", names.join(", "));
        return Ok(());
    }
    let install_line = format!("apt-get update && apt-get install -y {}", missing.join(" "));
    let is_root = probe(command("id")?.arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let has_apt = probe(command("sh")?.args(["-c", "command -v apt-get"])).is_some();
    if !is_root || !has_apt {
        bail!(
            "missing system packages: {}. Install them as root (on Debian: `{install_line}`), \
             then run this command again",
            missing.join(", ")
        );
    }
    println!("setup: installing Debian packages: {}", missing.join(" "));
    execute(
        command("apt-get")?
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    execute(
        command("apt-get")?
            .args(["install", "-y"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    for package in SYSTEM_PACKAGES {
        if !(package.is_installed)() {
            bail!(
                "`{install_line}` succeeded, but package {} is still missing",
                package.package
            );
        }
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
}

/// The npm tool that `cargo xtask dist` runs on the widget's wasm.
pub(crate) fn wasm_opt() -> PathBuf {
    repo_root()
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt")
}

fn ensure_npm_packages() -> Result<()> {
    let root = repo_root();
    let lock = root.join("package-lock.json");
    // npm writes this hidden lock file at the end of every install, so its age tells
    // whether node_modules matches package-lock.json.
    let installed = root.join("node_modules").join(".package-lock.json");
    let lock_modified =
        modified(&lock).with_context(|| format!("cannot read {}", lock.display()))?;
    let up_to_date = modified(&installed).is_some_and(|installed| installed >= lock_modified)
        && wasm_opt().exists();
    if up_to_date {
        println!("setup: ok: npm packages (node_modules is newer than package-lock.json)");
        return Ok(());
    }
    if probe(command("npm")?.arg("--version")).is_none() {
        bail!(
            "npm is not installed; install Node.js 20 with npm (on Debian: `apt-get install -y nodejs npm`)"
        );
    }
    println!("setup: installing npm packages from package-lock.json");
    execute(command("npm")?.args(["ci", "--no-audit", "--no-fund"]))?;
    if !wasm_opt().exists() {
        bail!(
            "`npm ci` succeeded, but {} is missing",
            wasm_opt().display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI that setup installs must match the library the workspace pins, or the test
    /// runner rejects the wasm files ("schema version mismatch").
    #[test]
    fn wasm_bindgen_version_matches_workspace_pins() {
        let manifest_path = repo_root().join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path).unwrap();
        for crate_name in ["wasm-bindgen", "wasm-bindgen-cli-support"] {
            let expected = format!("{crate_name} = \"={WASM_BINDGEN_VERSION}\"");
            assert!(
                manifest.lines().any(|line| line.trim() == expected),
                "{}: expected the line `{expected}` in [workspace.dependencies]",
                manifest_path.display()
            );
        }
    }

    #[test]
    fn child_path_puts_project_tools_first() {
        let path = crate::process::child_path().unwrap();
        let first = std::env::split_paths(&path).next().unwrap();
        assert_eq!(first, tools_bin());
    }
}
