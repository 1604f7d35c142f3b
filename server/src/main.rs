//! The `rapport` binary: parses the command line once and runs the subcommand.

use std::sync::Arc;

use anyhow::Context as _;
use rapport_server::access;
use rapport_server::api::app;
use rapport_server::auth::Role;
use rapport_server::config::{
    Cli, Command, EmailBlockFormat, EraseArgs, InviteArgs, KeyCommand, LabelsCommand, ReportArgs,
    ReportFormat, ServeArgs, SurveyCommand, TokenCommand, WebhookCommand,
};
use rapport_server::dashboard::{PublicUrl, SecureCookies};
use rapport_server::email_block::EmailBlock;
use rapport_server::export;
use rapport_server::identity::IdentityKey;
use rapport_server::invitation::{Language, Presentation, parse_lifetime};
use rapport_server::invitations::bulk::{self, BatchSettings, Contact, Fallbacks};
use rapport_server::metrics::Counters;
use rapport_server::rate_limit::{RateLimit, RateLimiter};
use rapport_server::score_file;
use rapport_server::state::AppState;
use rapport_server::store::{AddOutcome, Store, TokenKey};

/// A request allocates and frees many small strings and maps, on two threads at once;
/// mimalloc's per-thread free lists serve that with less contention than the system
/// allocator (see docs/BENCHMARKS.md, ingest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = match Cli::load_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(error) => match error.downcast::<clap::Error>() {
            Ok(clap_error) => clap_error.exit(),
            Err(error) => {
                eprintln!("error: {error:#}");
                return std::process::ExitCode::from(2);
            }
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Score(args) => score_file::run(&args).map(|text| print!("{text}")),
        Command::Serve(args) => runtime().and_then(|runtime| runtime.block_on(serve(args))),
        Command::Survey { command } => runtime().and_then(|runtime| runtime.block_on(survey(command))),
        Command::Labels { command } => runtime().and_then(|runtime| runtime.block_on(labels(command))),
        Command::Report(args) => runtime().and_then(|runtime| runtime.block_on(report(args))),
        Command::Invite(args) => runtime().and_then(|runtime| runtime.block_on(invite(args))),
        Command::Token { command } => runtime().and_then(|runtime| runtime.block_on(token(command))),
        Command::Webhook { command } => runtime().and_then(|runtime| runtime.block_on(webhook(command))),
        Command::DemoSeed(args) => runtime().and_then(|runtime| runtime.block_on(rapport_server::demo::run(&args))),
        Command::Erase(args) => runtime().and_then(|runtime| runtime.block_on(erase(args))),
        Command::Key { command: KeyCommand::Rotate { identity_key_file } } => IdentityKey::rotate_file(&identity_key_file).map(|keys| {
            println!("added a new current identity key; {} now holds {keys} keys. Restart every server to seal with it.", identity_key_file.display());
        }),
        Command::Key { command: KeyCommand::PortalSecret { survey, identity_key_file } } => IdentityKey::load(&identity_key_file)
            .map(|key| println!("{}", rapport_server::portal::portal_secret(&key, &survey))),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn survey(command: SurveyCommand) -> anyhow::Result<()> {
    match command {
        SurveyCommand::Add { file, database } => {
            let definition = score_file::load_definition(&file.to_string_lossy())?;
            if definition.allowed_origins.is_empty() {
                eprintln!(
                    "warning: survey {id} lists no allowed origin, so pages on other sites will not be able to send answers to it: browsers refuse until one is listed. Add the sites that embed it to allowed_origins, for example allowed_origins = [\"https://portal.example.com\"], or start the server with --allow-origin. Pages served by this server itself and invitation links work without it.",
                    id = definition.id
                );
            }
            let store = Store::open(&database.database_url).await?;
            let change = rapport_server::store::SurveyChange {
                actor: access::COMMAND_LINE,
                template: None,
            };
            match store.add_survey(&definition, change).await? {
                AddOutcome::Added { version } => {
                    println!("added survey {} version {version}", definition.id)
                }
                AddOutcome::Unchanged { version } => {
                    println!("survey {} is unchanged at version {version}", definition.id)
                }
            }
            store.close().await;
        }
        SurveyCommand::List { database } => {
            let store = Store::open(&database.database_url).await?;
            println!(
                "{:<32} {:>7} {:>9}  title",
                "survey", "version", "responses"
            );
            for survey in store.list_surveys().await? {
                println!(
                    "{:<32} {:>7} {:>9}  {}",
                    survey.id, survey.version, survey.responses, survey.title
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

async fn labels(command: LabelsCommand) -> anyhow::Result<()> {
    match command {
        LabelsCommand::Import { file, database } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            // The file is checked whole before the database is opened: a bad line stores
            // nothing.
            rapport_server::labels::parse_labels(&text).with_context(|| {
                format!("{} was not imported, nothing was stored", file.display())
            })?;
            let store = Store::open(&database.database_url).await?;
            let (accounts, matters) = rapport_server::labels::import(&store, &text).await?;
            store.close().await;
            println!("stored the display names of {accounts} account(s) and {matters} matter(s)");
        }
        LabelsCommand::List { database } => {
            let store = Store::open(&database.database_url).await?;
            let names = store.list_display_names().await?;
            store.close().await;
            print!("{}", rapport_server::labels::listing(&names));
        }
    }
    Ok(())
}

async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.database.database_url).await?;
    let Some(survey) = store.survey(&args.survey, args.version).await? else {
        anyhow::bail!(
            "no survey {:?}{} in the database",
            args.survey,
            args.version
                .map(|version| format!(" version {version}"))
                .unwrap_or_default()
        );
    };
    let request = export::ReportRequest {
        breakdowns: export::breakdowns(survey.definition(), args.by.iter().map(String::as_str))?,
        verified_only: false,
        filter: export::report_filter(
            args.from.as_deref(),
            args.to.as_deref(),
            args.account.as_deref(),
        )?,
        since_version: args.since_version,
    };
    let admin = rapport_server::auth::Caller {
        role: Role::Admin,
        accounts: Vec::new(),
    };
    let outcome = export::role_report(&store, &admin, &survey, request).await;
    store.close().await;
    let report = outcome?
        .report
        .context("the programme lead's report is never reduced to counts")?;
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportFormat::Csv => print!("{}", score_file::report_csv(&report)),
        ReportFormat::Table => print!("{}", score_file::table(&report)),
    }
    Ok(())
}

async fn erase(args: EraseArgs) -> anyhow::Result<()> {
    let identity_key = IdentityKey::load(&args.identity_key_file)?;
    let store = Store::open(&args.database.database_url).await?;
    let (responses, invitations) = store
        .erase_respondent(&identity_key.respondent_key(&args.email))
        .await?;
    store.close().await;
    println!(
        "erased the identity of {responses} response(s) and {invitations} invitation(s); their answers stay in the aggregates, linked to nobody"
    );
    Ok(())
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            role,
            accounts,
            label,
            database,
        } => {
            let label = label.unwrap_or_else(|| "made on the command line".to_owned());
            let store = Store::open(&database.database_url).await?;
            let issued = access::create_token(
                &store,
                access::NewToken {
                    role,
                    accounts,
                    label,
                },
                access::COMMAND_LINE,
            )
            .await;
            store.close().await;
            let issued = issued?;
            eprintln!(
                "created {} {} token (key {}); it is shown once, store it now:",
                if role == Role::Admin { "an" } else { "a" },
                role.as_str(),
                issued.key
            );
            println!("{}", issued.token);
        }
        TokenCommand::List { database } => {
            let store = Store::open(&database.database_url).await?;
            let tokens = access::list_tokens(&store).await;
            store.close().await;
            println!("key\trole\taccounts\tlabel\tcreated\tlast used");
            for token in tokens? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    token.key,
                    token.role.as_str(),
                    token.accounts.join(","),
                    token.label.unwrap_or_default(),
                    token.created_at,
                    token.last_used_at.as_deref().unwrap_or("never")
                );
            }
        }
        TokenCommand::Revoke { key, database } => {
            let key = TokenKey::parse(&key).ok_or_else(|| {
                anyhow::anyhow!(
                    "a token key is the twelve hex digits `rapport token list` shows, not {key:?}"
                )
            })?;
            let store = Store::open(&database.database_url).await?;
            let revoked = access::revoke_token(&store, &key, access::COMMAND_LINE).await;
            store.close().await;
            let role = revoked?;
            println!(
                "revoked the {} token {key}; its dashboard sessions are signed out",
                role.as_str()
            );
        }
    }
    Ok(())
}

async fn webhook(command: WebhookCommand) -> anyhow::Result<()> {
    use rapport_server::webhooks::{self, EventKind, WebhookFormat, WebhookSpec, WebhookUrl};
    match command {
        WebhookCommand::Add {
            url,
            format,
            events,
            survey,
            label,
            database,
        } => {
            let url =
                WebhookUrl::new(&url).map_err(|problem| anyhow::anyhow!("--url: {problem}"))?;
            let events = if events.is_empty() {
                vec![
                    EventKind::ResponseReceived,
                    EventKind::CloseTheLoopTriggered,
                ]
            } else {
                events
                    .iter()
                    .map(|event| EventKind::parse(event))
                    .collect::<anyhow::Result<_>>()?
            };
            let store = Store::open(&database.database_url).await?;
            let added = webhooks::add_webhook(
                &store,
                WebhookSpec {
                    url,
                    format: WebhookFormat::parse(&format)?,
                    events,
                    survey_id: survey,
                    label,
                },
                access::COMMAND_LINE,
            )
            .await?;
            store.close().await;
            eprintln!(
                "added webhook {}; its signing secret is shown once, store it with the receiver:",
                added.id
            );
            println!("{}", added.id);
            println!("{}", added.secret);
        }
        WebhookCommand::List { database } => {
            let store = Store::open(&database.database_url).await?;
            let hooks = store.webhooks().await?;
            let deliveries = store.webhook_deliveries(20).await?;
            store.close().await;
            print!("{}", webhooks::listing(&hooks, &deliveries));
        }
        WebhookCommand::Remove { id, database } => {
            let store = Store::open(&database.database_url).await?;
            let removed = webhooks::remove_webhook(&store, &id, access::COMMAND_LINE).await?;
            store.close().await;
            anyhow::ensure!(removed, "no webhook {id:?}");
            println!("removed webhook {id} and its delivery log");
        }
    }
    Ok(())
}

/// The contacts to invite: the `--csv` file's, checked whole, or the one of `--contact`.
fn invitees(args: &InviteArgs) -> anyhow::Result<Vec<Contact>> {
    let Some(path) = &args.csv else {
        let contact = args.contact.clone().context("--contact is required")?;
        if let Some(problem) = bulk::email_problem(&contact) {
            anyhow::bail!("--contact {problem}");
        }
        return Ok(vec![Contact {
            email: contact,
            name: args.name.clone(),
            account: args.account.clone().context("--account is required")?,
            matter: args.matter.clone(),
            wave: args.wave.clone(),
            presentation: Presentation {
                locale: args
                    .locale
                    .as_deref()
                    .map(str::parse::<Language>)
                    .transpose()?,
                account_name: args.account_name.clone(),
                matter_name: args.matter_name.clone(),
            },
        }]);
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let fallbacks = Fallbacks {
        matter: args.matter.clone(),
        wave: args.wave.clone(),
        locale: args.locale.clone(),
        matter_name: args.matter_name.clone(),
    };
    bulk::parse_contacts(&text, &fallbacks).map_err(|refused| {
        let lines: Vec<String> = refused.problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "{} was refused and nothing was stored:\n{}",
            path.display(),
            lines.join("\n")
        )
    })
}

async fn invite(args: InviteArgs) -> anyhow::Result<()> {
    let lifetime = parse_lifetime(&args.expires)?;
    let people = invitees(&args)?;
    let identity_key = IdentityKey::load_or_create(&args.identity_key_file)?;
    let store = Store::open(&args.database.database_url).await?;
    let Some(survey) = store.survey(&args.survey, None).await? else {
        anyhow::bail!(
            "no survey {:?} in the database; add it with `rapport survey add`",
            args.survey
        );
    };
    let definition = survey.definition();
    let has_scale = EmailBlock::new(definition, "", &Presentation::default()).is_some();
    if args.email_block.is_some() && !has_scale {
        anyhow::bail!(
            "survey {:?} asks no 0–10 question, so there is no scale to put in the email; send the bare link",
            args.survey
        );
    }
    if args.csv.is_some() && !has_scale {
        eprintln!(
            "survey {:?} asks no 0–10 question: the email_html and email_text columns stay empty",
            args.survey
        );
    }
    let settings = BatchSettings {
        survey: definition,
        firm: args.firm.clone(),
        lifetime_seconds: lifetime,
        base_url: &args.base_url,
    };
    let issued = bulk::make_invitations(
        &store,
        &identity_key,
        &settings,
        people,
        Some(access::COMMAND_LINE),
    )
    .await?;
    store.close().await;
    for link in issued {
        match (&args.csv, args.email_block, link.block.as_ref()) {
            (Some(_), _, _) => println!("{}", link.csv_line()),
            (None, Some(EmailBlockFormat::Html), Some(block)) => println!("{}", block.html),
            (None, Some(EmailBlockFormat::Text), Some(block)) => print!("{}", block.text),
            (None, _, _) => println!("{}", link.link),
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let identity_key = IdentityKey::load_or_create(&args.identity_key_file)?;
    let store = Store::open(&args.database.database_url).await?;
    let state = AppState {
        store: store.clone(),
        identity_key,
        www_dir: args.www_dir.clone(),
        widget_dir: args.widget_dir.clone(),
        allowed_origins: args.allow_origins.clone(),
        counters: Arc::new(Counters::default()),
        rate_limiter: Arc::new(RateLimiter::new(RateLimit {
            burst: args.rate_limit_burst,
            per_minute: args.rate_limit_per_minute,
        })),
        trust_forwarded_for: args.trust_forwarded_for,
    };
    // In the background: responses stored before report entries existed get theirs (reports
    // read those rows' answers until then), then the report columns of the surveys with the
    // most responses are read, so that the first dashboard after a start is not the one that
    // reads every row. Nothing waits for either.
    let background = store.clone();
    tokio::spawn(async move {
        match background
            .fill_report_entries(|filled| {
                tracing::info!(filled, "filling in report entries of earlier responses")
            })
            .await
        {
            Ok(0) => {}
            Ok(filled) => tracing::info!(filled, "report entries of earlier responses filled in"),
            Err(error) => tracing::warn!(
                "filling in report entries stopped ({error:#}); reports read those responses' answers instead"
            ),
        }
        let started = std::time::Instant::now();
        match background.read_report_columns().await {
            Ok(read) if read.responses == 0 => {}
            Ok(read) => tracing::info!(
                responses = read.responses,
                from_snapshots = read.from_snapshots,
                seconds = started.elapsed().as_secs_f64(),
                "report columns read"
            ),
            Err(error) => tracing::warn!(
                "reading report columns at start stopped ({error:#}); the first report reads them instead"
            ),
        }
    });
    // Every replica runs a webhook dispatcher; the database decides which one sends what.
    let dispatcher = rapport_server::webhooks::Dispatcher::new(
        store.clone(),
        rapport_server::webhooks::DeliverySettings::default(),
    )?;
    let dispatcher = tokio::spawn(dispatcher.run());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "rapport is serving; open http://{}/", listener.local_addr()?);
    let mut router = app(state).layer(axum::Extension(SecureCookies(args.behind_https())));
    if let Some(public_url) = &args.public_url {
        let public_url = public_url.trim().trim_end_matches('/').to_owned();
        router = router.layer(axum::Extension(PublicUrl(public_url)));
    }
    // Header, body and idle time limits cut a client that sends slowly or not at all.
    rapport_server::connection::serve(
        listener,
        router,
        args.connection_limits(),
        shutdown_signal(),
    )
    .await;
    // A delivery cut short here is claimed again when its lease runs out.
    dispatcher.abort();
    store.close().await;
    tracing::info!("stopped after finishing in-flight requests");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
