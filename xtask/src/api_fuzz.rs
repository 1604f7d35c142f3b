//! API fuzzing: schemathesis (from PyPI) generates requests from the server's own OpenAPI
//! document and checks every answer: no 5xx, every status, content type, header and body
//! as documented. Runs in `cargo xtask test` (a fixed seed, so a run can be repeated) and
//! alone as `cargo xtask api-fuzz [EXAMPLES]` for longer runs.
//!
//! Not checked: that every schema-valid request is accepted. The schema cannot say that an
//! invitation token must be signed or that a response must answer a survey's required
//! questions, so a 422 for such a request is correct.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::postgres::free_port;
use crate::process::{command, execute, probe, repo_root, target_dir, tools_root};

/// The schemathesis release these checks were written against.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The checks that make "no 5xx and no answer that breaks its own schema".
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance";

fn venv() -> PathBuf {
    tools_root().join("schemathesis")
}

fn schemathesis() -> PathBuf {
    venv().join("bin").join("schemathesis")
}

/// Installs schemathesis into a virtual environment under the project's tool directory.
pub(crate) fn install() -> Result<()> {
    let installed = probe(command(schemathesis())?.arg("--version"))
        .is_some_and(|version| version.contains(SCHEMATHESIS_VERSION));
    if installed {
        println!("setup: ok: schemathesis {SCHEMATHESIS_VERSION}");
        return Ok(());
    }
    make_venv(&venv(), "schemathesis")?;
    execute(command(venv().join("bin").join("pip"))?.args([
        "install",
        "--quiet",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))
    .context("installing schemathesis from PyPI")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs schemathesis against a fresh release server with `examples` examples per
/// operation, as an admin (the role that reaches every operation).
pub(crate) fn run(examples: u32) -> Result<()> {
    let binary = target_dir().join("release").join("rapport");
    if !binary.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p rapport-server`",
            binary.display()
        );
    }
    let dir = target_dir().join("api-fuzz");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let database = format!("sqlite://{}", dir.join("api-fuzz.db").display());
    let port = free_port()?;
    let server = Server(
        command(&binary)?
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &database])
            .arg("--identity-key-file")
            .arg(dir.join("identity.key"))
            .arg("--www-dir")
            .arg(repo_root().join("www"))
            .arg("--widget-dir")
            .arg(&dir)
            // The rate limit would answer most generated posts with 429 and hide the rest.
            .args(["--rate-limit-burst", "1000000", "--rate-limit-per-minute", "100000000"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("server.log"))?)
            .spawn()
            .context("starting the release server")?,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!(
                "the server did not start; see {}",
                dir.join("server.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = probe(command(&binary)?.args([
        "token",
        "create",
        "--role",
        "admin",
        "--database-url",
        &database,
    ]))
    .context("creating an admin token")?;
    let outcome = execute(
        command(schemathesis())?
            .args([
                "run",
                &format!("http://127.0.0.1:{port}/api/v1/openapi.json"),
            ])
            .args(["--checks", CHECKS])
            .args(["--max-examples", &examples.to_string()])
            .args(["--seed", "20261123"])
            .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
            .env("SCHEMATHESIS_HOOKS", "")
            .env("NO_COLOR", "1"),
    );
    drop(server);
    outcome.with_context(|| {
        format!(
            "schemathesis found answers that break the OpenAPI document; the server log is {}",
            dir.join("server.log").display()
        )
    })
}

/// Makes a Python virtual environment in `dir` for `what`, installing Debian's
/// `python3-venv` first when `python3` cannot make one.
pub(crate) fn make_venv(dir: &std::path::Path, what: &str) -> Result<()> {
    if execute(command("python3")?.args(["-m", "venv"]).arg(dir)).is_err() {
        println!(
            "setup: python3 cannot make a virtual environment; installing Debian's python3-venv"
        );
        execute(command("apt-get")?.args(["install", "-y", "python3-venv"])).with_context(|| {
            format!("{what} needs Python 3 with venv: install the Debian packages python3 and python3-venv")
        })?;
        execute(command("python3")?.args(["-m", "venv"]).arg(dir))?;
    }
    Ok(())
}
