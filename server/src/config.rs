//! Configuration: the `rapport` command line, with environment-variable fallbacks and an
//! optional TOML file (`--config`), parsed once into typed structs that are handed down.
//! Nothing else reads the environment or the file, so tests build these structs directly.
//!
//! A setting comes from, first to last: its flag, its environment variable, the file, the
//! built-in default. The file holds the same settings as the flags, under the keys of
//! [`FILE_KEYS`]; an unknown key or a bad value is an error naming the key and the file,
//! never ignored.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

/// The `rapport` command line.
#[derive(Debug, Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: relationship surveys with optional confidentiality"
)]
pub struct Cli {
    /// A TOML file of settings (see `docs/rapport.example.toml`); flags and environment
    /// variables take precedence over it.
    #[arg(long, env = "RAPPORT_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line `args` (the program name first), reading the environment and,
    /// when `--config` or `RAPPORT_CONFIG` names one, the TOML file.
    ///
    /// The file's settings become the defaults of the matching options, so a flag or an
    /// environment variable still wins. Errors of the command line itself are
    /// [`clap::Error`]s, so the caller can print them as clap does (`--help` is one).
    pub fn load_from<I, T>(args: I) -> anyhow::Result<Cli>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let matches = Cli::command().try_get_matches_from(&args)?;
        let Some(path) = matches.get_one::<PathBuf>("config") else {
            return Ok(Cli::from_arg_matches(&matches)?);
        };
        let file = ConfigFile::load(path)?;
        let matches =
            with_file_defaults(Cli::command(), &file.defaults()).try_get_matches_from(&args)?;
        Ok(Cli::from_arg_matches(&matches)?)
    }
}

/// The keys a configuration file may hold, each with the id of an option it sets (the
/// option's field name, which is also its flag without `--` and with `-` for `_`, except
/// that `public_url` sets `rapport invite --base-url` as well as `rapport serve
/// --public-url`). A key listed twice sets both options.
pub const FILE_KEYS: &[(&str, &str)] = &[
    ("listen", "listen"),
    ("database_url", "database_url"),
    ("www_dir", "www_dir"),
    ("widget_dir", "widget_dir"),
    ("allow_origins", "allow_origins"),
    ("rate_limit_burst", "rate_limit_burst"),
    ("rate_limit_per_minute", "rate_limit_per_minute"),
    ("trust_forwarded_for", "trust_forwarded_for"),
    ("identity_key_file", "identity_key_file"),
    ("public_url", "base_url"),
    ("public_url", "public_url"),
];

/// A configuration file, typed so that a bad value is refused when the file is read.
/// Every field is optional: a missing key leaves the option's own default.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--www-dir`.
    pub www_dir: Option<PathBuf>,
    /// `--widget-dir`.
    pub widget_dir: Option<PathBuf>,
    /// `--allow-origin`, all of them.
    pub allow_origins: Option<Vec<String>>,
    /// `--rate-limit-burst`.
    pub rate_limit_burst: Option<u32>,
    /// `--rate-limit-per-minute`.
    pub rate_limit_per_minute: Option<u32>,
    /// `--trust-forwarded-for`.
    pub trust_forwarded_for: Option<bool>,
    /// `--identity-key-file`.
    pub identity_key_file: Option<PathBuf>,
    /// `--base-url` of `rapport invite`.
    pub public_url: Option<String>,
}

impl ConfigFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &std::path::Path) -> anyhow::Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        ConfigFile::parse(&text)
            .with_context(|| format!("in the configuration file {}", path.display()))
    }

    /// Parses the text of a file; an error names the key at fault.
    pub fn parse(text: &str) -> anyhow::Result<ConfigFile> {
        let deserializer = toml::Deserializer::parse(text)?;
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let key = error.path().to_string();
            let cause = error.into_inner();
            let message = cause.message().to_owned();
            match cause.span() {
                Some(span) => {
                    let line = text[..span.start].matches('\n').count() + 1;
                    anyhow::anyhow!("key `{key}` (line {line}): {message}")
                }
                None => anyhow::anyhow!("key `{key}`: {message}"),
            }
        })
    }

    /// The file's settings as option defaults: (option id, values).
    fn defaults(&self) -> Vec<(&'static str, Vec<String>)> {
        let option_ids = |key: &'static str| {
            FILE_KEYS
                .iter()
                .filter(move |(file_key, _)| *file_key == key)
                .map(|(_, id)| *id)
        };
        let path = |path: &PathBuf| path.to_string_lossy().into_owned();
        let settings: [(&'static str, Option<Vec<String>>); 10] = [
            ("listen", self.listen.map(|listen| vec![listen.to_string()])),
            (
                "database_url",
                self.database_url.clone().map(|url| vec![url]),
            ),
            ("www_dir", self.www_dir.as_ref().map(|dir| vec![path(dir)])),
            (
                "widget_dir",
                self.widget_dir.as_ref().map(|dir| vec![path(dir)]),
            ),
            ("allow_origins", self.allow_origins.clone()),
            (
                "rate_limit_burst",
                self.rate_limit_burst.map(|burst| vec![burst.to_string()]),
            ),
            (
                "rate_limit_per_minute",
                self.rate_limit_per_minute
                    .map(|rate| vec![rate.to_string()]),
            ),
            (
                "trust_forwarded_for",
                self.trust_forwarded_for
                    .map(|trust| vec![trust.to_string()]),
            ),
            (
                "identity_key_file",
                self.identity_key_file.as_ref().map(|file| vec![path(file)]),
            ),
            ("public_url", self.public_url.clone().map(|url| vec![url])),
        ];
        settings
            .into_iter()
            .filter_map(|(key, values)| values.map(|values| (key, values)))
            .flat_map(|(key, values)| option_ids(key).map(move |id| (id, values.clone())))
            .collect()
    }
}

/// Makes `defaults` the default values of the options with those ids, in `command` and
/// every subcommand.
fn with_file_defaults(
    mut command: clap::Command,
    defaults: &[(&'static str, Vec<String>)],
) -> clap::Command {
    for (id, values) in defaults {
        if command.get_arguments().any(|arg| arg.get_id() == *id) {
            command = command.mut_arg(*id, |arg| arg.default_values(values.clone()));
        }
    }
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|subcommand| subcommand.get_name().to_owned())
        .collect();
    for name in subcommands {
        command =
            command.mut_subcommand(name, |subcommand| with_file_defaults(subcommand, defaults));
    }
    command
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the API, the widget bundle and the pages.
    Serve(ServeArgs),
    /// Print the report of a JSONL file of wire-format responses.
    Score(ScoreArgs),
    /// Print the report of a survey's stored responses, as the programme lead sees it: with
    /// the label rules set on the dashboard, narrowed to a date range or an account.
    Report(ReportArgs),
    /// Create signed invitation links for thank-you emails and portals.
    Invite(InviteArgs),
    /// Manage API tokens for the people who read results.
    Token {
        /// What to do with tokens.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage webhooks: signed posts about new identified responses (docs/WEBHOOKS.md).
    Webhook {
        /// What to do with webhooks.
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Manage survey definitions in the database.
    Survey {
        /// What to do with surveys.
        #[command(subcommand)]
        command: SurveyCommand,
    },
    /// Manage the display names of accounts and matters: what the dashboard, the CSV export
    /// and reports show beside their ids.
    Labels {
        /// What to do with display names.
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// Erase a respondent on request (GDPR): their identity, everywhere; their answers stay
    /// in the aggregates, linked to nobody.
    Erase(EraseArgs),
    /// Manage the identity key file.
    Key {
        /// What to do with the keys.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Store a generated demo programme (when its survey has no responses yet) and print an
    /// API token per role for the dashboard.
    DemoSeed(DemoSeedArgs),
}

/// `rapport erase`.
#[derive(Debug, Clone, Args)]
pub struct EraseArgs {
    /// The respondent's email, as they gave it or as they were invited.
    #[arg(long)]
    pub email: String,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The identity key file (the pseudonym that finds their responses comes from it).
    #[arg(long, env = "RAPPORT_IDENTITY_KEY_FILE", default_value = "rapport.key")]
    pub identity_key_file: PathBuf,
}

/// Identity-key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Append a fresh current key to the key file. Older keys stay in the file, so what
    /// they sealed stays readable; restart every server to use the new key.
    Rotate {
        /// The identity key file.
        #[arg(long, env = "RAPPORT_IDENTITY_KEY_FILE", default_value = "rapport.key")]
        identity_key_file: PathBuf,
    },
    /// Print the portal secret of a survey: what a client portal's backend signs the
    /// context it embeds the survey in with (see docs/EMBEDDING.md). Keep it on the
    /// portal's server, never in a page.
    PortalSecret {
        /// The survey.
        #[arg(long)]
        survey: String,
        /// The identity key file.
        #[arg(long, env = "RAPPORT_IDENTITY_KEY_FILE", default_value = "rapport.key")]
        identity_key_file: PathBuf,
    },
}

/// `rapport demo-seed`.
#[derive(Debug, Clone, Args)]
pub struct DemoSeedArgs {
    /// About how many responses to generate, when the demo survey has none yet.
    #[arg(long, default_value_t = 600)]
    pub responses: usize,
    /// Seed of the generator: the same seed gives the same programme.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The identity key file that seals the generated identities.
    #[arg(long, env = "RAPPORT_IDENTITY_KEY_FILE", default_value = "rapport.key")]
    pub identity_key_file: PathBuf,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Survey subcommands.
#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Add a survey definition (TOML or JSON) as a new version.
    Add {
        /// The definition file.
        file: PathBuf,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the surveys and their latest versions.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Webhook subcommands.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook and print its id and signing secret; the secret is shown once.
    Add {
        /// Where events are posted: `https://…` (or `http://…` on a private network).
        #[arg(long)]
        url: String,
        /// `json` (the event, signed) or `slack` (a Slack incoming webhook's `{"text": …}`).
        #[arg(long, default_value = "json", value_parser = ["json", "slack"])]
        format: String,
        /// An event to post; repeat for both. Default: both.
        #[arg(long = "event", value_parser = ["response.received", "close_the_loop.triggered"])]
        events: Vec<String>,
        /// Only this survey's responses (default: every survey).
        #[arg(long)]
        survey: Option<String>,
        /// A note saying what it is for.
        #[arg(long)]
        label: Option<String>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the webhooks, with their latest deliveries.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Remove a webhook and its delivery log.
    Remove {
        /// The webhook's id, as `add` and `list` print it.
        id: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Display-name subcommands.
#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Store the display names of accounts and matters from a CSV file, all or none.
    ///
    /// The file has the header `kind,id,name` and one name a line: `account,northwind,Northwind Traders` or `matter,msa-2026,"MSA, 2026"` (quote a
    /// name with a comma). A name replaces the one its id had. The whole file is stored, or
    /// nothing: a bad line refuses it, naming the line and what is wrong.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print every stored display name as such a CSV file.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is stored.
    Create {
        /// `admin` (everything, identity included), `account` (their accounts) or `viewer`
        /// (aggregates only).
        #[arg(long, value_enum)]
        role: crate::auth::Role,
        /// An account the token may see; repeat for several. Required for `account`.
        #[arg(long = "account")]
        accounts: Vec<String>,
        /// A note saying whose token this is (default: "made on the command line").
        #[arg(long)]
        label: Option<String>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List every token: its key, role, accounts, label, when it was made and last used.
    /// Tokens themselves are never shown again.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a token by the key `rapport token list` shows, and sign out every dashboard
    /// session it opened. The last admin token cannot be revoked.
    Revoke {
        /// The token's key: twelve hex digits.
        key: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DATABASE`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://rapport.db")]
    pub database_url: String,
}

/// `rapport serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RAPPORT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Directory of the pages served at `/`.
    #[arg(long, env = "RAPPORT_WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,
    /// Directory of the widget bundle served at `/widget/`.
    #[arg(long, env = "RAPPORT_WIDGET_DIR", default_value = "dist/widget")]
    pub widget_dir: PathBuf,
    /// An origin (such as `https://portal.example.com`) whose pages may post responses
    /// from the browser; repeat for several. Same-origin pages need none.
    #[arg(
        long = "allow-origin",
        env = "RAPPORT_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,
    /// Responses one client address may post at once.
    #[arg(long, env = "RAPPORT_RATE_LIMIT_BURST", default_value_t = 60)]
    pub rate_limit_burst: u32,
    /// Responses per minute one client address may sustain.
    #[arg(long, env = "RAPPORT_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Take the client address from the first `X-Forwarded-For` entry. Set it only behind a
    /// load balancer that sets that header, or clients could pick their own address.
    #[arg(long, env = "RAPPORT_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// File holding the identity keys, 64 hex characters a line, oldest first (see `rapport
    /// key rotate`). It is created, readable only by its owner, when missing. Keep it out of
    /// the database's backups.
    #[arg(long, env = "RAPPORT_IDENTITY_KEY_FILE", default_value = "rapport.key")]
    pub identity_key_file: PathBuf,
    /// The address people reach this server at, such as `https://feedback.example.com`.
    /// When it starts with `https://`, the server is behind HTTPS (its own proxy or load
    /// balancer ends TLS) and the dashboard's session cookie is marked `Secure`.
    #[arg(long, env = "RAPPORT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a client may take to send a request's line and headers; also how long an
    /// idle keep-alive connection stays open.
    #[arg(long, env = "RAPPORT_HEADER_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout_seconds: u64,
    /// Seconds a client may take to send a request's whole body, counted from its headers.
    #[arg(long, env = "RAPPORT_BODY_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub body_timeout_seconds: u64,
}

impl ServeArgs {
    /// Whether the server is reached over HTTPS, as its public address says.
    pub fn behind_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// The connection time limits.
    pub fn connection_limits(&self) -> crate::connection::ConnectionLimits {
        crate::connection::ConnectionLimits {
            header: std::time::Duration::from_secs(self.header_timeout_seconds),
            body: std::time::Duration::from_secs(self.body_timeout_seconds),
        }
    }
}

/// `rapport invite`.
#[derive(Debug, Clone, Args)]
pub struct InviteArgs {
    /// The survey to invite to.
    #[arg(long)]
    pub survey: String,
    /// The contact's email (one invitation).
    #[arg(long, required_unless_present = "csv")]
    pub contact: Option<String>,
    /// The contact's name, used in the greeting.
    #[arg(long)]
    pub name: Option<String>,
    /// The client account.
    #[arg(long, required_unless_present = "csv")]
    pub account: Option<String>,
    /// The matter or contract.
    #[arg(long)]
    pub matter: Option<String>,
    /// The survey wave.
    #[arg(long)]
    pub wave: Option<String>,
    /// The firm's name shown on the landing page.
    #[arg(long)]
    pub firm: Option<String>,
    /// The language of the landing page and the survey: en, fr, de, nl or es. Without it,
    /// the page follows the client's browser.
    #[arg(long)]
    pub locale: Option<String>,
    /// The account's name as the client knows it: the landing page may show it, and it
    /// becomes the account's display name on the dashboard, in the CSV export and in
    /// reports (the latest invitation's name wins; ids stay ids).
    #[arg(long)]
    pub account_name: Option<String>,
    /// The matter's name as the client knows it: shown on the landing page instead of the
    /// matter's id, and the matter's display name everywhere results are shown.
    #[arg(long)]
    pub matter_name: Option<String>,
    /// How long the link works: `30d`, `12h`, `90m`.
    #[arg(long, default_value = "30d")]
    pub expires: String,
    /// Invite everyone in a CSV file with a header row naming `contact`, `account` and
    /// optionally `name`, `matter`, `wave`, `locale`, `account_name`, `matter_name`; prints
    /// `contact,link,email_html,email_text` lines, the last two being the survey block for
    /// the email (quoted; empty when the survey asks no 0–10 question).
    #[arg(long, conflicts_with_all = ["contact", "account", "account_name", "email_block"])]
    pub csv: Option<PathBuf>,
    /// Print, instead of the bare link, the survey block to paste into the thank-you email:
    /// `html` (the 0–10 scale as eleven links, tables and inline styles only) or `text` (its
    /// plain-text alternative), in the invitation's language.
    #[arg(long, value_enum)]
    pub email_block: Option<EmailBlockFormat>,
    /// The server's public address, the start of every link.
    #[arg(
        long,
        env = "RAPPORT_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub base_url: String,
    /// The identity key file (the invitation signing key is derived from it).
    #[arg(long, env = "RAPPORT_IDENTITY_KEY_FILE", default_value = "rapport.key")]
    pub identity_key_file: PathBuf,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Which form of the email's survey block `rapport invite --email-block` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmailBlockFormat {
    /// HTML to paste into the email.
    Html,
    /// The plain-text alternative.
    Text,
}

/// Output format of `rapport report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Pretty JSON.
    Json,
    /// One CSV row per group: the whole survey, then each breakdown group.
    Csv,
    /// A table for people.
    Table,
}

/// `rapport report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The survey.
    #[arg(long)]
    pub survey: String,
    /// The survey version; the latest by default.
    #[arg(long)]
    pub version: Option<u32>,
    /// Count every version from this one up to `--version` in one report (each must ask
    /// the same 0–10 question), carried into `--version` question by question.
    #[arg(long)]
    pub since_version: Option<u32>,
    /// Break the report down by this field, or by two at once as in
    /// `returning:confidentiality`; repeatable.
    #[arg(long = "by")]
    pub by: Vec<String>,
    /// Only answers received on or after this day (UTC), written `YYYY-MM-DD`.
    #[arg(long)]
    pub from: Option<String>,
    /// Only answers received on or before this day (UTC), written `YYYY-MM-DD`.
    #[arg(long)]
    pub to: Option<String>,
    /// Only this account's answers (after the label rules' merges).
    #[arg(long)]
    pub account: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Pretty JSON.
    Json,
    /// A table for people.
    Table,
}

/// `rapport score`.
#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    /// JSONL file of wire-format v1 responses, one per line.
    pub file: PathBuf,
    /// Survey definition: a built-in template name or a TOML/JSON file. Defaults to the
    /// built-in template named by the first response's `survey_id`.
    #[arg(long)]
    pub survey: Option<String>,
    /// Break the report down by this field (account, matter, wave, returning,
    /// confidentiality, nps-category, or a role or choice question id), or by two at once
    /// as in `returning:confidentiality` (or `returning×confidentiality`); repeatable.
    #[arg(long = "by")]
    pub by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
}
