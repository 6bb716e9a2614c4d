//! `redress`: serve, migrate, user add, audit verify, archive export.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use redress::{Config, build_app, open_store, spawn_sweeper, spawn_webhooks};
use redress_domain::Role;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc: a registration allocates and frees
/// some thousands of small blocks across threads (docs/benchmarks.md,
/// "Intake CPU"). Built without transparent huge pages (`no_thp`): with
/// them, each of its regions that a report touched stayed resident in
/// 2 MiB pages, half of the server's memory after a few reports
/// (docs/benchmarks.md, "Server memory after insight queries"). Where the
/// kernel puts every process on huge pages (`always`, not the usual
/// `madvise`), `MIMALLOC_ALLOW_THP=0` in the environment turns them off
/// for the process (docs/operations.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "redress",
    version,
    about = "Complaint handling for online platforms"
)]
struct Cli {
    /// Settings file (default: ./redress.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the server (the default command).
    Serve {
        /// Lets an admin move the clock forward (POST /api/v1/test-clock/advance). Never in production.
        #[arg(long)]
        test_clock: bool,
        /// Starts the test clock at this instant (RFC 3339, e.g.
        /// 2026-10-31T09:00:00+08:00) instead of now.
        #[arg(long, value_name = "RFC3339", requires = "test_clock", value_parser = parse_instant)]
        test_clock_start: Option<chrono::DateTime<chrono::Utc>>,
        /// Fills sample cases in every state for a first look.
        #[arg(long)]
        demo: bool,
    },
    /// Creates or updates the database schema, then exits.
    Migrate,
    /// Staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit journal.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The data keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Reports (SPEC §10): the summary of a period as JSON, CSV or HTML; `report rebuild` recomputes the rollups.
    #[command(args_conflicts_with_subcommands = true)]
    Report {
        #[command(subcommand)]
        command: Option<ReportCommand>,
        /// First local day (YYYY-MM-DD); default 29 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last local day, included (YYYY-MM-DD); default today.
        #[arg(long)]
        to: Option<String>,
        /// Series interval: day, week or month (default by the period's length).
        #[arg(long)]
        interval: Option<String>,
        /// Only this department (code).
        #[arg(long)]
        department: Option<String>,
        /// Only this category (code).
        #[arg(long)]
        category: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Case archives.
    Archive {
        #[command(subcommand)]
        command: ArchiveCommand,
    },
    /// Copies a SQLite installation (database and local evidence) into DIR while it serves, then checks the copy.
    Backup {
        /// A new or empty directory; it receives redress.sqlite3 and evidence/.
        #[arg(long)]
        to: PathBuf,
    },
    /// Copies a whole installation into an empty database, e.g. from SQLite to PostgreSQL.
    MigrateData {
        /// The installation to copy: sqlite:///path/redress.sqlite3 or postgres://…
        #[arg(long)]
        from: String,
        /// An empty database to copy into: postgres://… or sqlite:///path
        #[arg(long)]
        to: String,
        /// Rows per read and per write transaction.
        #[arg(long, default_value_t = 2000)]
        batch_size: usize,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a staff user; the password comes from REDRESS_USER_PASSWORD or is generated and printed once.
    Add {
        username: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long = "department")]
        departments: Vec<String>,
        #[arg(long, default_value_t = 1)]
        level: i32,
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks the journal's hash chain; exits 1 when it is broken.
    Verify,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Seals everything again under REDRESS_DATA_KEY, opening what REDRESS_DATA_KEY_PREVIOUS sealed; online and resumable (docs/security.md).
    Rotate,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Recomputes the report rollups from every case (after restoring data by hand, or changing the time zone).
    Rebuild,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Json,
    Csv,
    Html,
}

#[derive(Subcommand)]
enum ArchiveCommand {
    /// Writes a case's archive ZIP.
    Export {
        /// Case id or tracking number.
        case: String,
        /// Output file (default: <tracking number>.zip).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_env("REDRESS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config.log_format);
    match cli.command.unwrap_or(Command::Serve {
        test_clock: false,
        test_clock_start: None,
        demo: false,
    }) {
        Command::Serve {
            test_clock,
            test_clock_start,
            demo,
        } => serve(config, test_clock, test_clock_start, demo).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!("schema up to date");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    roles,
                    departments,
                    level,
                    display_name,
                },
        } => {
            let store = open_store(&config).await?;
            let app = build_app(&config, store, false).await?;
            let mut parsed = vec![];
            for r in &roles {
                parsed.push(
                    r.parse::<Role>()
                        .map_err(|e| anyhow::anyhow!("--role {r}: {e}"))?,
                );
            }
            let (password, generated) = match std::env::var("REDRESS_USER_PASSWORD") {
                Ok(p) if p.len() >= 8 => (p, false),
                _ => (
                    redress_app::privacy::new_token("")
                        .chars()
                        .take(20)
                        .collect(),
                    true,
                ),
            };
            let user = app
                .new_user(
                    username.clone(),
                    display_name.unwrap_or_else(|| username.clone()),
                    password.clone(),
                    parsed,
                    departments,
                    level,
                )
                .await?;
            app.add_user(user, "system:cli")
                .await
                .map_err(|e| anyhow::anyhow!("adding the user: {e}"))?;
            println!("user {username} added");
            if generated {
                println!("one-time password (shown once): {password}");
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = open_store(&config).await?;
            let app = build_app(&config, store, false).await?;
            let report = app.verify_audit().await?;
            println!("{}", serde_json::to_string(&report)?);
            if !report.ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let store = open_store(&config).await?;
            let total = store.table_counts().await?.cases;
            let app = build_app(&config, store, false).await?;
            if !app.vault.has_previous() {
                eprintln!(
                    "no previous key (REDRESS_DATA_KEY_PREVIOUS or data.key.previous): \
                     everything is checked and whatever is not under the current key is reported"
                );
            }
            let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "cases [{bar:32}] {human_pos}/{human_len} {per_sec:>12} {elapsed_precise}",
                )?
                .progress_chars("=> "),
            );
            let report = app
                .rotate_keys(&|n| bar.inc(n))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            println!("{}", serde_json::to_string(&report)?);
            if !report.complete() {
                eprintln!(
                    "some values open with no key of the ring; the previous key is still needed for them"
                );
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Backup { to } => {
            if let redress::config::Database::Postgres(_) = config.database()? {
                eprintln!("{}", redress::backup::POSTGRES_ADVICE);
                std::process::exit(2);
            }
            let summary = redress::backup::run(&config, &to).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            if !summary.ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::MigrateData {
            from,
            to,
            batch_size,
        } => {
            let options = redress::migrate::Options {
                batch_size,
                ..Default::default()
            };
            redress::migrate::run(&config, &from, &to, &options).await
        }
        Command::Report {
            command,
            from,
            to,
            interval,
            department,
            category,
            format,
            out,
        } => {
            let store = open_store(&config).await?;
            let app = build_app(&config, store, false).await?;
            // A spinner on standard error once the work takes more than a second.
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::hidden(),
            );
            let shown = bar.clone();
            let spinner = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.set_message("working");
                shown.enable_steady_tick(Duration::from_millis(120));
            });
            let done = match command {
                Some(ReportCommand::Rebuild) => app
                    .rebuild_report_rollups()
                    .await
                    .map(|n| format!("{{\"cases\":{n}}}\n")),
                None => {
                    let params = redress_app::report::ReportParams {
                        from,
                        to,
                        interval,
                        department,
                        category,
                    };
                    match app.report_query(&params).await {
                        Ok((q, interval)) => {
                            app.summary_of(&q, interval).await.map(|v| match format {
                                ReportFormat::Json => {
                                    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
                                }
                                ReportFormat::Csv => redress_app::report::summary_csv(&v),
                                ReportFormat::Html => redress_app::report::summary_html(&v),
                            })
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            spinner.abort();
            bar.finish_and_clear();
            let text = done.map_err(|e| anyhow::anyhow!("{e}"))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Archive {
            command: ArchiveCommand::Export { case, output },
        } => {
            let store = open_store(&config).await?;
            let app = build_app(&config, store, false).await?;
            let id = match uuid::Uuid::parse_str(&case) {
                Ok(id) => id,
                Err(_) => {
                    app.load_by_tracking_no(&case)
                        .await
                        .context("no such case")?
                        .case
                        .id
                }
            };
            let archive = app
                .export_archive(id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let path = output.unwrap_or_else(|| PathBuf::from(&archive.filename));
            let len = archive.save(&path).await?;
            println!("wrote {} ({len} bytes)", path.display());
            Ok(())
        }
    }
}

/// An instant given on the command line.
fn parse_instant(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("not an RFC 3339 instant ({e}), e.g. 2026-10-31T09:00:00+08:00"))
}

async fn serve(
    config: Config,
    test_clock: bool,
    test_clock_start: Option<chrono::DateTime<chrono::Utc>>,
    demo: bool,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    if let redress::config::Database::Postgres(url) = config.database()? {
        let off =
            tokio::task::spawn_blocking(move || redress_postgres::PgStore::autovacuum_off(&url))
                .await?;
        if let Ok(true) = off {
            tracing::warn!(
                "PostgreSQL runs with autovacuum off: the counts of the case lists slow \
                 down as cases change until `VACUUM ANALYZE cases` runs (docs/operations.md)"
            );
        }
    }
    let app = build_app(&config, store, test_clock).await?;
    if let Some(at) = test_clock_start {
        app.clock.start_at(at);
    }
    let boot = app.bootstrap(config.admin_password.as_deref()).await?;
    if let Some(p) = &boot.generated_admin_password {
        println!("Created user `admin` with a one-time password (shown once, change it): {p}");
    }
    if demo {
        let n = redress::demo::fill(&app).await?;
        println!("demo: {n} sample cases filed");
    }
    if test_clock {
        tracing::warn!("test clock is ON: admins can move time forward");
    }
    let sweeper = spawn_sweeper(
        app.clone(),
        Duration::from_secs(config.sweep_interval_seconds.max(1)),
    );
    let webhooks = spawn_webhooks(app.clone(), Duration::from_secs(1));
    let router = redress_web::router(app.clone(), redress::web_options(&config)?);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // One signal stops both servers.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let smtp = match config
        .smtp_listen
        .as_deref()
        .filter(|l| !l.trim().is_empty())
    {
        None => None,
        Some(at) => {
            let settings = redress::smtp_settings(&config)?;
            let smtp_listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("listening for SMTP on {at}"))?;
            println!(
                "redress takes mailed complaints by SMTP on {}{}",
                smtp_listener.local_addr()?,
                if settings.tls.is_some() {
                    " (STARTTLS offered)"
                } else {
                    ""
                }
            );
            let server = redress_channels::smtp::SmtpServer::new(
                settings,
                Arc::new(redress_channels::intake::MailIntake::new(app.clone())),
            );
            let mut stopped = stopped.clone();
            Some(tokio::spawn(server.serve(smtp_listener, async move {
                let _ = stopped.wait_for(|s| *s).await;
            })))
        }
    };
    let metrics = match config.metrics_listen() {
        None => None,
        Some(at) => {
            let metrics_listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("listening for metrics on {at}"))?;
            println!(
                "redress serves /metrics on http://{}",
                metrics_listener.local_addr()?
            );
            let mut stopped = stopped.clone();
            Some(tokio::spawn(redress::http::serve(
                metrics_listener,
                redress_web::metrics::router(app.clone()),
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            )))
        }
    };
    println!(
        "redress is listening on http://{addr} (data in {})",
        config.data_dir.display()
    );
    redress::http::serve(listener, router, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await?;
    if let Some(smtp) = smtp {
        match smtp.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the SMTP receiver failed"),
            Err(e) => tracing::error!(error = %e, "the SMTP receiver panicked"),
            Ok(Ok(())) => {}
        }
    }
    if let Some(metrics) = metrics {
        match metrics.await {
            Ok(Err(e)) => tracing::error!(error = %e, "the metrics listener failed"),
            Err(e) => tracing::error!(error = %e, "the metrics listener panicked"),
            Ok(Ok(())) => {}
        }
    }
    sweeper.abort();
    webhooks.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
