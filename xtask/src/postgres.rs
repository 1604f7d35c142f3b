//! A throwaway PostgreSQL cluster for tests, listening on loopback only.
//!
//! [`TempPostgres::start`] runs `initdb` in a fresh temporary directory, starts the server
//! on a free port with trust authentication and creates the database `rapport_test`.
//! Dropping the value stops the server and deletes the directory. It must never touch a
//! cluster it did not create (such as Debian's `15/main`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::process::{command, execute, probe};

/// The database created in every throwaway cluster.
pub(crate) const DATABASE: &str = "rapport_test";

/// The superuser name of every throwaway cluster (set with `initdb -U`).
const SUPERUSER: &str = "postgres";

/// Finds the directory holding `initdb` and `pg_ctl`, preferring the newest Debian
/// installation under `/usr/lib/postgresql/<version>/bin`, then `pg_config --bindir`.
pub(crate) fn find_bin_dir() -> Option<PathBuf> {
    let mut debian_versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    debian_versions.sort();
    if let Some((_, bin)) = debian_versions.pop() {
        return Some(bin);
    }
    let bin = PathBuf::from(probe(Command::new("pg_config").arg("--bindir"))?.trim());
    bin.join("initdb").exists().then_some(bin)
}

/// A running throwaway cluster; stopped and deleted on drop.
#[derive(Debug)]
pub(crate) struct TempPostgres {
    bin_dir: PathBuf,
    dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    /// The OS user the server runs as, when it differs from ours (we are root).
    run_as: Option<String>,
    /// Whether commits are flushed to disk.
    fsync: bool,
}

impl TempPostgres {
    /// Starts a new cluster with `fsync` off, which tests do not need. Takes a few seconds.
    pub(crate) fn start() -> Result<TempPostgres> {
        TempPostgres::start_with(false)
    }

    /// Starts a new cluster with `fsync` on, as a production server runs, for benchmarks
    /// whose figures must include making each commit durable.
    pub(crate) fn start_durable() -> Result<TempPostgres> {
        TempPostgres::start_with(true)
    }

    fn start_with(fsync: bool) -> Result<TempPostgres> {
        let bin_dir = find_bin_dir().context(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; run `cargo xtask setup` \
             or install the Debian package `postgresql`",
        )?;
        // PostgreSQL refuses to run as root, so as root we run it as the `postgres` user.
        let is_root = probe(command("id")?.arg("-u")).is_some_and(|uid| uid.trim() == "0");
        let run_as = is_root.then(|| SUPERUSER.to_string());

        let unique = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("rapport-pg-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut postgres = TempPostgres {
            bin_dir,
            data_dir: dir.join("data"),
            dir,
            port: 0,
            run_as,
            fsync,
        };
        // From here on, dropping `postgres` removes the directory if anything fails.
        postgres.make_dir_accessible()?;
        postgres.init()?;
        postgres.start_server()?;
        postgres.create_database()?;
        Ok(postgres)
    }

    /// `postgres://postgres@127.0.0.1:PORT/rapport_test`.
    pub(crate) fn url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    fn make_dir_accessible(&self) -> Result<()> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        let uid = probe(command("id")?.args(["-u", user]))
            .with_context(|| format!("there is no `{user}` user to run PostgreSQL as"))?;
        let gid = probe(command("id")?.args(["-g", user]))
            .with_context(|| format!("cannot find the group of the `{user}` user"))?;
        let uid: u32 = uid
            .trim()
            .parse()
            .context("`id -u` printed something other than a number")?;
        let gid: u32 = gid
            .trim()
            .parse()
            .context("`id -g` printed something other than a number")?;
        std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid))
            .with_context(|| format!("cannot give {} to user `{user}`", self.dir.display()))?;
        Ok(())
    }

    /// A command for one of the PostgreSQL programs, run as the server's OS user.
    fn pg_command(&self, program: &str) -> Result<Command> {
        let program = self.bin_dir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = command("runuser")?;
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => command(program)?,
        };
        // The repository may not be readable by the `postgres` user.
        command.current_dir(&self.dir);
        Ok(command)
    }

    fn init(&self) -> Result<()> {
        execute(
            self.pg_command("initdb")?
                .arg("--pgdata")
                .arg(&self.data_dir)
                .args(["--username", SUPERUSER, "--auth", "trust"])
                .args(["--encoding", "UTF8", "--locale", "C", "--no-sync"])
                .stdout(std::process::Stdio::null()),
        )
        .context("initdb failed")
    }

    fn start_server(&mut self) -> Result<()> {
        // A port that is free now may be taken before the server binds it, so try a few.
        let mut last_error = None;
        for _attempt in 0..3 {
            self.port = free_port()?;
            let options = format!(
                "-k {} -p {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync={}",
                self.dir.display(),
                self.port,
                if self.fsync { "on" } else { "off" }
            );
            let started = execute(
                self.pg_command("pg_ctl")?
                    .arg("--pgdata")
                    .arg(&self.data_dir)
                    .arg("--log")
                    .arg(self.log_path())
                    .args(["--wait", "--timeout", "60", "-o", &options, "start"])
                    // Only "waiting for server to start.... done"; failures go to stderr
                    // and to the log, which the error below includes.
                    .stdout(std::process::Stdio::null()),
            );
            match started {
                Ok(()) => return Ok(()),
                Err(error) => last_error = Some(error),
            }
        }
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        Err(last_error.expect("at least one attempt was made"))
            .with_context(|| format!("PostgreSQL did not start; its log says:\n{log}"))
    }

    fn create_database(&self) -> Result<()> {
        execute(
            self.pg_command("createdb")?
                .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
                .args(["--username", SUPERUSER, DATABASE]),
        )
        .context("could not create the test database")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    fn stop(&self) -> Result<()> {
        if !self.data_dir.join("postmaster.pid").exists() {
            return Ok(());
        }
        execute(
            self.pg_command("pg_ctl")?
                .arg("--pgdata")
                .arg(&self.data_dir)
                .args(["--mode", "immediate", "--wait", "stop"])
                .stdout(std::process::Stdio::null()),
        )
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("warning: could not stop the throwaway PostgreSQL: {error:#}");
        }
        if let Err(error) = remove_dir(&self.dir) {
            eprintln!(
                "warning: could not remove {}: {error:#}",
                self.dir.display()
            );
        }
    }
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener
        .local_addr()
        .context("cannot read the bound port")?
        .port())
}

/// Fails with a readable message unless the cluster answers a query through its URL.
pub(crate) fn check_connection(postgres: &TempPostgres) -> Result<()> {
    let output = postgres
        .pg_command("psql")?
        .args([
            &postgres.url(),
            "--no-psqlrc",
            "--tuples-only",
            "--command",
            "select 40 + 2",
        ])
        .output()
        .context("could not run psql")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || stdout.trim() != "42" {
        bail!(
            "psql against {} did not answer 42: {}{}",
            postgres.url(),
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throwaway_cluster_accepts_queries_and_is_removed_on_drop() {
        let postgres = TempPostgres::start().expect("throwaway PostgreSQL should start");
        let url = postgres.url();
        assert!(
            url.starts_with("postgres://postgres@127.0.0.1:"),
            "unexpected url {url}"
        );
        assert!(url.ends_with("/rapport_test"), "unexpected url {url}");
        check_connection(&postgres).unwrap();
        let dir = postgres.dir.clone();
        drop(postgres);
        assert!(!dir.exists(), "{} should be removed on drop", dir.display());
    }
}
