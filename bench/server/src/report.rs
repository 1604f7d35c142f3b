//! `rapport-bench report`: the report over many stored responses, beside DuckDB.
//!
//! A fresh database is filled with generated responses, written as the server's ingest
//! writes them (the load itself is not timed). Then, in the same run:
//!
//! - the first `GET /api/v1/surveys/client-portal/report` after each of several starts of
//!   the release `rapport serve` (which reads every row), timed from the start of the
//!   process and from its first answer to `/healthz`; with `--baseline`, the same for an
//!   earlier `rapport` on the same database, for a before-and-after comparison;
//! - `GET /api/v1/surveys/client-portal/report` with an admin token, against the release
//!   `rapport serve` (each request timed by the client, on an open connection);
//! - `rapport report --survey client-portal --format json`, timed as a whole process;
//! - DuckDB (the Python package, installed into a virtual environment under the work
//!   directory) computing the same NPS and CRQ figures from the same rows, exported to CSV
//!   and loaded into an in-memory table first: only its query is timed.
//!
//! The figures of the three must agree, or the command fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;
use tokio::process::Command;

use crate::database::{self, Backend, InsertMethod};
use crate::http::{Connection, Server};
use crate::responses::{ELEMENTS, RowMaker, SURVEY_ID, now, response_body};
use crate::{Target, load_average, machine};

/// The DuckDB release the reference runs on.
const DUCKDB_VERSION: &str = "1.5.5";

/// `rapport-bench report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    target: Target,
    /// Responses stored before the report is timed.
    #[arg(long, default_value_t = 1_000_000)]
    responses: u64,
    /// Timed runs of each contender; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Breakdowns the timed HTTP reports ask for (`by`), comma-separated, e.g. `account,wave`.
    #[arg(long, default_value = "")]
    by: String,
    /// Skip DuckDB (its CSV export holds every response's answers in memory).
    #[arg(long)]
    no_duckdb: bool,
    /// Responses posted over HTTP before each of the last timed reports.
    #[arg(long, default_value_t = 100)]
    posted: u64,
    /// The Python used to create DuckDB's virtual environment.
    #[arg(long, default_value = "python3")]
    python: String,
    /// An earlier `rapport` binary whose cold reads (the first report after each start, and
    /// `rapport report`) are timed too, on the same database.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// The first report after each of several starts of `rapport serve`.
#[derive(Debug, Default)]
struct ColdStarts {
    /// From the start of the process to the report's last byte.
    from_start: Vec<Duration>,
    /// From the server's first answer to `/healthz` to the report's last byte.
    from_healthy: Vec<Duration>,
}

/// The admin's `GET …/report` on an open connection: how long it took, and the report.
async fn get_report(
    connection: &mut Connection,
    path: &str,
    authorization: &str,
) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let (status, body) = connection
        .send("GET", path, &[("authorization", authorization)], b"")
        .await?;
    let took = started.elapsed();
    anyhow::ensure!(
        status == 200,
        "GET {path} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok((
        took,
        serde_json::from_slice::<Value>(&body)?["report"].take(),
    ))
}

/// Whether a start finds a stored snapshot of the report columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Snapshot {
    /// None: deleted before each start, so the start reads every row, as the first start
    /// after the rows were loaded, an upgrade or an erasure does. The last start is left to
    /// store one, and waited for.
    Deleted,
    /// The one an earlier start stored.
    Stored,
    /// Whatever the database holds (an earlier build knows nothing of snapshots).
    Ignored,
}

/// Starts `rapport` on `url` `starts` times, each time timing the first report, and returns
/// the times with the last server still running and a connection to it.
async fn cold_starts(
    rapport: &Path,
    url: &str,
    work_dir: &Path,
    (path, authorization): (&str, &str),
    starts: usize,
    snapshot: Snapshot,
) -> anyhow::Result<(ColdStarts, Server, Connection)> {
    let mut times = ColdStarts::default();
    let mut running: Option<(Server, Connection)> = None;
    for _ in 0..starts {
        if let Some((server, _)) = running.take() {
            server.stop().await?;
        }
        match snapshot {
            Snapshot::Deleted => database::delete_report_snapshots(url).await?,
            Snapshot::Stored => anyhow::ensure!(
                database::report_snapshots(url).await? > 0,
                "no report snapshot is stored"
            ),
            Snapshot::Ignored => {}
        }
        let started = Instant::now();
        let server = Server::start(rapport, url, work_dir).await?;
        let healthy = Instant::now();
        let mut connection = Connection::open(server.address).await?;
        get_report(&mut connection, path, authorization).await?;
        times.from_start.push(started.elapsed());
        times.from_healthy.push(healthy.elapsed());
        running = Some((server, connection));
    }
    if snapshot == Snapshot::Deleted {
        // The last server stores a snapshot in the background after its first report.
        let waiting = Instant::now();
        while database::report_snapshots(url).await? == 0 {
            anyhow::ensure!(
                waiting.elapsed() < Duration::from_secs(120),
                "no report snapshot stored two minutes after the first report"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (server, connection) = running.context("no starts")?;
    Ok((times, server, connection))
}

/// `rapport report --format json` on `url`, `repeats` times: the times and the last report.
async fn cli_reports(
    rapport: &Path,
    url: &str,
    repeats: usize,
) -> anyhow::Result<(Vec<Duration>, Value)> {
    let mut times = Vec::new();
    let mut report = Value::Null;
    for _ in 0..repeats {
        let started = Instant::now();
        let output = Command::new(rapport)
            .args([
                "report",
                "--survey",
                SURVEY_ID,
                "--format",
                "json",
                "--database-url",
                url,
            ])
            .output()
            .await?;
        times.push(started.elapsed());
        anyhow::ensure!(
            output.status.success(),
            "{} report failed: {}",
            rapport.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        report = serde_json::from_slice(&output.stdout)?;
    }
    Ok((times, report))
}

/// NPS and CRQ figures, as both sides compute them.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    n: u64,
    promoters: u64,
    detractors: u64,
    nps: f64,
    nps_mean: f64,
    levels: [f64; 3],
    crq_mean: f64,
}

impl Figures {
    /// The figures of a `scoring` report (`Report` as JSON).
    fn of_report(report: &Value) -> anyhow::Result<Self> {
        let overall = &report["overall"];
        let number = |value: &Value| {
            value
                .as_f64()
                .with_context(|| format!("expected a number, got {value}"))
        };
        let level = |id: &str| {
            let level = overall["levels"]
                .as_array()
                .and_then(|levels| levels.iter().find(|level| level["id"] == id))
                .with_context(|| format!("no level {id}"))?;
            number(&level["figures"]["mean"])
        };
        Ok(Figures {
            n: overall["n"].as_u64().context("n")?,
            promoters: overall["nps"]["promoters"].as_u64().context("promoters")?,
            detractors: overall["nps"]["detractors"]
                .as_u64()
                .context("detractors")?,
            nps: number(&overall["nps"]["nps"])?,
            nps_mean: number(&overall["nps"]["mean"])?,
            levels: [
                level("relationship")?,
                level("uniqueness")?,
                level("service")?,
            ],
            crq_mean: number(&overall["crq"]["mean"])?,
        })
    }

    /// The figures DuckDB printed.
    fn of_duckdb(figures: &Value) -> anyhow::Result<Self> {
        let number = |name: &str| {
            figures[name]
                .as_f64()
                .with_context(|| format!("DuckDB printed no {name}"))
        };
        Ok(Figures {
            n: figures["n"].as_u64().context("n")?,
            promoters: figures["promoters"].as_u64().context("promoters")?,
            detractors: figures["detractors"].as_u64().context("detractors")?,
            nps: number("nps")?,
            nps_mean: number("nps_mean")?,
            levels: [
                number("relationship")?,
                number("uniqueness")?,
                number("service")?,
            ],
            crq_mean: number("crq_mean")?,
        })
    }

    /// Equal counts, and means equal up to floating-point summation order.
    fn agrees_with(&self, other: &Figures) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
        self.n == other.n
            && self.promoters == other.promoters
            && self.detractors == other.detractors
            && close(self.nps, other.nps)
            && close(self.nps_mean, other.nps_mean)
            && self
                .levels
                .iter()
                .zip(other.levels)
                .all(|(a, b)| close(*a, b))
            && close(self.crq_mean, other.crq_mean)
    }
}

/// The NPS and CRQ figures a plain SQL query computes from the stored `nps` and `crq`
/// columns, overall and per account, in one statement (PostgreSQL only).
const PLAIN_SQL: &str = "SELECT account, COUNT(*), COUNT(*) FILTER (WHERE nps >= 9), COUNT(*) FILTER (WHERE nps <= 6), COUNT(nps), AVG(nps)::float8, AVG(crq) \
     FROM responses WHERE survey_id = $1 AND survey_version = 1 GROUP BY GROUPING SETS ((), (account))";

/// What [`PLAIN_SQL`] gives for the whole survey, and the count per account.
#[derive(Debug)]
struct SqlFigures {
    n: u64,
    promoters: u64,
    detractors: u64,
    nps: f64,
    nps_mean: f64,
    crq_mean: f64,
    per_account: std::collections::BTreeMap<String, u64>,
}

type SqlRow = (Option<String>, i64, i64, i64, i64, Option<f64>, Option<f64>);

/// Runs [`PLAIN_SQL`] `repeats` times and returns the times and the figures.
async fn plain_sql(url: &str, repeats: usize) -> anyhow::Result<(Vec<Duration>, SqlFigures)> {
    let pool = sqlx::PgPool::connect(url).await?;
    let mut times = Vec::new();
    let mut rows: Vec<SqlRow> = Vec::new();
    for _ in 0..repeats {
        let started = Instant::now();
        rows = sqlx::query_as(PLAIN_SQL)
            .bind(SURVEY_ID)
            .fetch_all(&pool)
            .await?;
        times.push(started.elapsed());
    }
    pool.close().await;
    // The grand total is the row whose account is NULL and whose count is the largest (an
    // account group of NULL, if any, is smaller).
    let total = rows
        .iter()
        .filter(|row| row.0.is_none())
        .max_by_key(|row| row.1)
        .context("no total row")?;
    let (_, n, promoters, detractors, answered, nps_mean, crq_mean) = total.clone();
    let count = |value: i64| u64::try_from(value).context("negative count");
    Ok((
        times,
        SqlFigures {
            n: count(n)?,
            promoters: count(promoters)?,
            detractors: count(detractors)?,
            nps: 100.0 * (promoters - detractors) as f64 / answered as f64,
            nps_mean: nps_mean.context("no 0-10 answers")?,
            crq_mean: crq_mean.context("no CRQ")?,
            per_account: rows
                .iter()
                .filter_map(|row| Some((row.0.clone()?, count(row.1).ok()?)))
                .collect(),
        },
    ))
}

/// Whether the report and the plain SQL agree: counts, NPS and the means (up to summation
/// order), and every account group's size.
fn sql_agrees(report: &Value, ours: &Figures, sql: &SqlFigures) -> anyhow::Result<bool> {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    let overall = ours.n == sql.n
        && ours.promoters == sql.promoters
        && ours.detractors == sql.detractors
        && close(ours.nps, sql.nps)
        && close(ours.nps_mean, sql.nps_mean)
        && close(ours.crq_mean, sql.crq_mean);
    let by_account = report["segments"].as_array().and_then(|segments| {
        segments
            .iter()
            .find(|segment| segment["field"] == "account")
    });
    let groups_agree = match by_account {
        None => true,
        Some(segment) => {
            let groups = segment["groups"].as_array().context("no account groups")?;
            groups.len() == sql.per_account.len()
                && groups.iter().all(|group| {
                    group["value"]
                        .as_str()
                        .and_then(|account| sql.per_account.get(account))
                        == group["n"].as_u64().as_ref()
                })
        }
    };
    Ok(overall && groups_agree)
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// Fills `url` with `responses` generated responses in large transactions; not timed.
async fn fill(url: &str, backend: &Backend, responses: u64) -> anyhow::Result<()> {
    const CHUNK: u64 = 10_000;
    let writers = match backend {
        Backend::Sqlite(_) => 1,
        Backend::Postgres(_) => 4,
    };
    let pool = database::Pool::connect(url, writers).await?;
    let maker = std::sync::Arc::new(RowMaker::new()?);
    let received_at = now();
    // PostgreSQL takes bulk rows fastest by COPY; SQLite has none.
    let copy = matches!(backend, Backend::Postgres(_));
    let mut pending = tokio::task::JoinSet::new();
    let mut start = 0;
    while start < responses {
        let end = (start + CHUNK).min(responses);
        let (maker, received_at) = (std::sync::Arc::clone(&maker), received_at.clone());
        let rows = tokio::task::spawn_blocking(move || {
            (start..end)
                .map(|index| maker.row(index, &received_at))
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .await??;
        if pending.len() >= writers as usize {
            pending.join_next().await.context("a writer vanished")???;
        }
        let pool = pool.clone();
        pending.spawn(async move {
            if copy {
                pool.copy_rows(&rows).await
            } else {
                pool.insert_batch(&rows, InsertMethod::MultiRow).await
            }
        });
        start = end;
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    let stored = pool.count_responses().await?;
    pool.close().await;
    anyhow::ensure!(
        stored == responses,
        "filled {stored} responses, expected {responses}"
    );
    if let Backend::Postgres(_) = backend {
        // As autovacuum leaves a table some time after a bulk load: with its visibility map
        // set, so that a read of an index covering it visits no table rows. Without this,
        // whichever contender runs before autovacuum happens to finish reads the table
        // too, and the comparison measures autovacuum's timing.
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::query("VACUUM (ANALYZE) responses")
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    Ok(())
}

/// Writes the 0–10 answer and the seven element ratings of every stored response to a CSV
/// file for DuckDB.
async fn export_csv(url: &str, path: &Path) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let pool = database::Pool::connect(url, 1).await?;
    let rows = pool.answers().await?;
    pool.close().await;
    let mut csv = String::with_capacity(rows.len() * 24);
    csv.push_str("nps");
    for element in ELEMENTS {
        write!(csv, ",{element}")?;
    }
    csv.push('\n');
    for (answers, _confidentiality) in rows {
        let answers: Value = serde_json::from_str(&answers)?;
        if let Some(nps) = answers["nps"].as_u64() {
            write!(csv, "{nps}")?;
        }
        for element in ELEMENTS {
            csv.push(',');
            if let Some(rating) = answers["ratings"][element].as_u64() {
                write!(csv, "{rating}")?;
            }
        }
        csv.push('\n');
    }
    std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The file of a `sqlite://FILE[?options]` URL; `None` for any other database.
fn sqlite_file(url: &str) -> Option<&str> {
    let file = url.strip_prefix("sqlite://")?;
    Some(file.split_once('?').map_or(file, |(file, _)| file))
}

/// A Python virtual environment holding DuckDB and its SQLite extension, created on first
/// use.
async fn duckdb_python(python: &str, work_dir: &Path) -> anyhow::Result<PathBuf> {
    let venv = work_dir.join("duckdb-venv");
    let venv_python = venv.join("bin").join("python");
    let installed = Command::new(&venv_python)
        .args([
            "-c",
            "import duckdb, duckdb_extension_sqlite, sys; sys.exit(duckdb.__version__ != sys.argv[1])",
            DUCKDB_VERSION,
        ])
        .status()
        .await;
    if !installed.is_ok_and(|status| status.success()) {
        eprintln!("installing DuckDB {DUCKDB_VERSION} into {}", venv.display());
        let status = Command::new(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .await
            .with_context(|| format!("running {python} -m venv"))?;
        anyhow::ensure!(status.success(), "{python} -m venv failed");
        let status = Command::new(&venv_python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                &format!("duckdb=={DUCKDB_VERSION}"),
                // DuckDB's SQLite extension, for its read of Rapport's own database file.
                &format!("duckdb-extension-sqlite=={DUCKDB_VERSION}"),
            ])
            .status()
            .await?;
        anyhow::ensure!(
            status.success(),
            "pip install duckdb=={DUCKDB_VERSION} failed"
        );
    }
    Ok(venv_python)
}

/// Runs the whole report benchmark.
pub(crate) async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let backend = target.backend();
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    std::fs::create_dir_all(&target.work_dir)?;
    let python = if args.no_duckdb {
        None
    } else {
        Some(duckdb_python(&args.python, &target.work_dir).await?)
    };
    println!("report on {}: {}", backend.name(), machine());

    let url = backend.fresh("report").await?;
    let filling = Instant::now();
    fill(&url, &backend, args.responses).await?;
    eprintln!(
        "stored {} responses in {:.1} s",
        args.responses,
        filling.elapsed().as_secs_f64()
    );

    // The admin token, as an operator creates it.
    let output = Command::new(&target.rapport)
        .args(["token", "create", "--role", "admin", "--database-url", &url])
        .stderr(Stdio::null())
        .output()
        .await?;
    anyhow::ensure!(output.status.success(), "rapport token create failed");
    let token = String::from_utf8(output.stdout)?.trim().to_owned();

    // Over HTTP. The first report after a start reads every row (the server starts reading
    // them in the background as soon as it has opened the database); later ones read only
    // what was committed since the one before: nothing, or the responses posted in between.
    let authorization = format!("Bearer {token}");
    let path = if args.by.is_empty() {
        format!("/api/v1/surveys/{SURVEY_ID}/report")
    } else {
        format!("/api/v1/surveys/{SURVEY_ID}/report?by={}", args.by)
    };
    let (cold, server, _) = cold_starts(
        &target.rapport,
        &url,
        &target.work_dir,
        (&path, &authorization),
        args.repeats,
        Snapshot::Deleted,
    )
    .await?;
    server.stop().await?;
    let (from_snapshot, server, mut connection) = cold_starts(
        &target.rapport,
        &url,
        &target.work_dir,
        (&path, &authorization),
        args.repeats,
        Snapshot::Stored,
    )
    .await?;
    let mut http_times = Vec::new();
    for _ in 0..args.repeats {
        http_times.push(get_report(&mut connection, &path, &authorization).await?.0);
    }
    let responses_path = format!("/api/v1/surveys/{SURVEY_ID}/responses");
    let mut after_post_times = Vec::new();
    let mut http_report = Value::Null;
    let mut posted = 0;
    for _ in 0..args.repeats {
        for _ in 0..args.posted {
            let body = response_body(args.responses + posted);
            let (status, answer) = connection
                .send(
                    "POST",
                    &responses_path,
                    &[("content-type", "application/json")],
                    body.as_bytes(),
                )
                .await?;
            anyhow::ensure!(
                status == 201,
                "POST {responses_path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
            posted += 1;
        }
        let (took, report) = get_report(&mut connection, &path, &authorization).await?;
        after_post_times.push(took);
        http_report = report;
    }
    server.stop().await?;

    // From the command line.
    let (cli_times, cli_report) = cli_reports(&target.rapport, &url, args.repeats).await?;

    // The same cold reads by the baseline, on the same rows, giving the same report.
    let baseline = match &args.baseline {
        None => None,
        Some(baseline) => {
            let (cold, server, mut connection) = cold_starts(
                baseline,
                &url,
                &target.work_dir,
                (&path, &authorization),
                args.repeats,
                Snapshot::Ignored,
            )
            .await?;
            let (_, report) = get_report(&mut connection, &path, &authorization).await?;
            server.stop().await?;
            let (cli_times, baseline_cli_report) =
                cli_reports(baseline, &url, args.repeats).await?;
            // Counts and means, not the whole report: the two builds may word or lay out
            // other parts of it differently.
            anyhow::ensure!(
                Figures::of_report(&report)? == Figures::of_report(&http_report)?
                    && Figures::of_report(&baseline_cli_report)?
                        == Figures::of_report(&cli_report)?,
                "the baseline's reports differ from this build's"
            );
            Some((cold, cli_times))
        }
    };

    let (ours_http, ours_cli) = (
        Figures::of_report(&http_report)?,
        Figures::of_report(&cli_report)?,
    );
    anyhow::ensure!(
        ours_http == ours_cli,
        "the HTTP report and rapport report differ: {ours_http:?} vs {ours_cli:?}"
    );

    // DuckDB, on the same rows.
    let duckdb = match &python {
        None => None,
        Some(python) => {
            let csv = target.work_dir.join("report-responses.csv");
            export_csv(&url, &csv).await?;
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("duckdb_report.py");
            let mut command = Command::new(python);
            command.arg(&script).arg(&csv).arg(args.repeats.to_string());
            if let Some(file) = sqlite_file(&url) {
                command.arg(file);
            }
            let output = command.output().await?;
            anyhow::ensure!(
                output.status.success(),
                "the DuckDB query failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let duckdb: Value = serde_json::from_slice(&output.stdout)?;
            let times: Vec<Duration> = duckdb["seconds"]
                .as_array()
                .context("DuckDB printed no times")?
                .iter()
                .filter_map(Value::as_f64)
                .map(Duration::from_secs_f64)
                .collect();
            let theirs = Figures::of_duckdb(&duckdb["figures"])?;
            anyhow::ensure!(
                ours_http.agrees_with(&theirs),
                "Rapport and DuckDB disagree: {ours_http:?} vs {theirs:?}"
            );
            let from_file = if duckdb["sqlite"].is_null() {
                None
            } else {
                let theirs = Figures::of_duckdb(&duckdb["sqlite"]["figures"])?;
                anyhow::ensure!(
                    ours_http.agrees_with(&theirs),
                    "Rapport and DuckDB reading the SQLite file disagree: {ours_http:?} vs {theirs:?}"
                );
                Some(
                    duckdb["sqlite"]["seconds"]
                        .as_array()
                        .context("DuckDB printed no times for the SQLite file")?
                        .iter()
                        .filter_map(Value::as_f64)
                        .map(Duration::from_secs_f64)
                        .collect::<Vec<_>>(),
                )
            };
            Some((
                duckdb["version"].as_str().unwrap_or("?").to_owned(),
                times,
                from_file,
            ))
        }
    };
    // Plain SQL in PostgreSQL itself, on the stored `nps` and `crq` columns.
    let sql = match &backend {
        Backend::Postgres(_) => {
            let (times, figures) = plain_sql(&url, args.repeats).await?;
            anyhow::ensure!(
                sql_agrees(&http_report, &ours_http, &figures)?,
                "Rapport and plain SQL disagree: {ours_http:?} vs {figures:?}"
            );
            Some(times)
        }
        Backend::Sqlite(_) => None,
    };

    println!();
    println!(
        "| {} report over {} responses | median of {} | fastest |",
        backend.name(),
        args.responses,
        args.repeats
    );
    println!("|---|---|---|");
    let cold_rows = |label: &str, cold: &ColdStarts| -> anyhow::Result<()> {
        println!(
            "| `GET …/report` (admin, HTTP), the first after a start of {label}; from the start of the process | {} | {} |",
            milliseconds(median(&cold.from_start)),
            milliseconds(*cold.from_start.iter().min().context("no runs")?)
        );
        println!(
            "| the same, from the server's first answer to `/healthz` | {} | {} |",
            milliseconds(median(&cold.from_healthy)),
            milliseconds(*cold.from_healthy.iter().min().context("no runs")?)
        );
        Ok(())
    };
    cold_rows("this build with no stored snapshot: reads every row", &cold)?;
    cold_rows(
        "this build with the snapshot an earlier start stored: reads it and the rows since",
        &from_snapshot,
    )?;
    if let Some((cold, cli_times)) = &baseline {
        cold_rows("the baseline", cold)?;
        println!(
            "| `rapport report --format json` (whole process), the baseline | {} | {} |",
            milliseconds(median(cli_times)),
            milliseconds(*cli_times.iter().min().context("no runs")?)
        );
    }
    println!(
        "| `GET …/report`, nothing new since the one before | {} | {} |",
        milliseconds(median(&http_times)),
        milliseconds(*http_times.iter().min().context("no runs")?)
    );
    println!(
        "| `GET …/report` after {} responses posted over HTTP | {} | {} |",
        args.posted,
        milliseconds(median(&after_post_times)),
        milliseconds(*after_post_times.iter().min().context("no runs")?)
    );
    println!(
        "| `rapport report --format json` (whole process) | {} | {} |",
        milliseconds(median(&cli_times)),
        milliseconds(*cli_times.iter().min().context("no runs")?)
    );
    if let Some((version, times, from_file)) = &duckdb {
        println!(
            "| DuckDB {version} (query only, table in memory) | {} | {} |",
            milliseconds(median(times)),
            milliseconds(*times.iter().min().context("no runs")?)
        );
        if let Some(times) = from_file {
            println!(
                "| DuckDB {version} reading this SQLite file itself (attach, answers from their JSON, query) | {} | {} |",
                milliseconds(median(times)),
                milliseconds(*times.iter().min().context("no runs")?)
            );
        }
    }
    if let Some(times) = &sql {
        println!(
            "| plain SQL in PostgreSQL: NPS and CRQ from the `nps` and `crq` columns, overall and per account | {} | {} |",
            milliseconds(median(times)),
            milliseconds(*times.iter().min().context("no runs")?)
        );
    }
    println!();
    if !args.by.is_empty() {
        println!("the HTTP reports are broken down by {}", args.by);
    }
    println!(
        "all give: n {}, promoters {}, detractors {}, NPS {:.4}, mean 0–10 {:.6}, levels {:.6} / {:.6} / {:.6}, CRQ {:.6}",
        ours_http.n,
        ours_http.promoters,
        ours_http.detractors,
        ours_http.nps,
        ours_http.nps_mean,
        ours_http.levels[0],
        ours_http.levels[1],
        ours_http.levels[2],
        ours_http.crq_mean
    );
    println!("load average at the end: {}", load_average());
    Ok(())
}
