//! Wiring for the `redress` binary: configuration, the store chosen from
//! the database URL, the application and its background jobs. The tests
//! build their servers through the same functions.

pub mod backup;
pub mod config;
pub mod demo;
pub mod http;
pub mod migrate;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redress_app::{App, AppConfig, Clock, Vault};
use redress_store::Store;

pub use config::Config;

/// Creates the data directory, if it is not there, readable by its owner
/// only (0700 on Unix): it holds the database, the data key and evidence.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens the configured store (and brings its schema up to date).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    create_private_dir(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    open_database(config.database()?).await
}

/// Opens a store on `database` and brings its schema up to date.
pub async fn open_database(database: config::Database) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match database {
        config::Database::Sqlite(path) => {
            let store = tokio::task::spawn_blocking(move || {
                redress_sqlite::SqliteStore::open(&path)
                    .with_context(|| format!("opening SQLite at {}", path.display()))
            })
            .await??;
            Arc::new(store)
        }
        config::Database::Postgres(url) => {
            let store = tokio::task::spawn_blocking(move || {
                redress_postgres::PgStore::open(&url).context("opening PostgreSQL")
            })
            .await??;
            Arc::new(store)
        }
    })
}

/// Builds the application on a store.
pub async fn build_app(
    config: &Config,
    store: Arc<dyn Store>,
    test_clock: bool,
) -> anyhow::Result<Arc<App>> {
    let vault = Vault::load(
        config.data_key.as_deref(),
        config.data_key_previous.as_deref(),
        &config.data_dir,
    )?;
    let mut app_config = AppConfig::new(config.data_dir.clone());
    config.policy.validate().map_err(anyhow::Error::msg)?;
    app_config.policy = config.policy.clone();
    app_config.canned_replies = config.canned_replies.clone();
    app_config.time_zone = config
        .time_zone
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown time zone {}", config.time_zone))?;
    app_config.working_hours = config
        .working_hours
        .as_deref()
        .filter(|h| !h.trim().is_empty())
        .map(redress_domain::calendar::WorkingHours::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("working_hours: {e}"))?;
    app_config.public_url = config.public_url();
    app_config.evidence_max_bytes = config.evidence_max_bytes;
    app_config.job_lease = Duration::from_secs(config.job_lease_seconds.max(1));
    app_config.retention = redress_app::Retention {
        webhook_calls: chrono::Duration::days(config.webhook_call_retention_days.max(1).into()),
        held_mail: chrono::Duration::days(config.held_mail_retention_days.max(1).into()),
        idempotency: chrono::Duration::days(config.idempotency_retention_days.max(1).into()),
        orphan_evidence: chrono::Duration::hours(config.orphan_evidence_hours.max(1).into()),
    };
    app_config.senders = senders(config)?;
    app_config.mail_from = Some(mail_from(config));
    app_config.webhook_allow_private = config.webhook_allow_private;
    app_config.sms_prefixes = config
        .sms_prefixes
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    app_config.outbound_per_hour = config.outbound_per_hour;
    app_config.alerts = config.spike_alerts.checked().map_err(anyhow::Error::msg)?;
    app_config.report_schedule = config
        .scheduled_report
        .checked()
        .map_err(anyhow::Error::msg)?;
    app_config.throttle_guessing = config.throttle_guessing;
    if !config.throttle_guessing {
        tracing::warn!(
            "throttle_guessing is off: failed passwords and access codes are not slowed down (never in production)"
        );
    }
    let clock = if test_clock {
        Clock::test()
    } else {
        Clock::system()
    };
    let edges = redress_channels::edges(
        config.webhook_allow_private,
        &config.evidence_location(),
        &config.data_dir,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(App::new(store, vault, clock, app_config, edges).await?)
}

/// The HTTP layer's settings.
pub fn web_options(config: &Config) -> anyhow::Result<redress_web::WebOptions> {
    Ok(redress_web::WebOptions {
        public_rate_per_minute: config.public_rate_limit,
        token_rate_per_minute: config.token_rate_limit,
        trusted_proxies: redress_web::extract::parse_trusted_proxies(&config.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
        serve_metrics: config.metrics_listen().is_none(),
        max_concurrent_requests: config.max_concurrent_requests,
    })
}

/// The SMTP receiver's settings (STARTTLS when a certificate and key are
/// configured).
pub fn smtp_settings(config: &Config) -> anyhow::Result<redress_channels::smtp::SmtpSettings> {
    let tls = match (&config.smtp_tls_cert, &config.smtp_tls_key) {
        (Some(cert), Some(key)) => {
            Some(redress_channels::intake::tls_config(cert, key).map_err(anyhow::Error::msg)?)
        }
        (None, None) => None,
        _ => anyhow::bail!("smtp_tls_cert and smtp_tls_key go together"),
    };
    let hostname = config
        .smtp_hostname
        .clone()
        .or_else(|| public_host(config))
        .unwrap_or_else(|| "localhost".into());
    Ok(redress_channels::smtp::SmtpSettings {
        hostname,
        max_message_bytes: config.smtp_max_bytes.max(1024),
        per_sender_per_minute: config.smtp_per_sender_per_minute,
        tls,
        ..Default::default()
    })
}

/// The address notices are sent from: `mail_from`, or `noreply@` the
/// public host name.
pub fn mail_from(config: &Config) -> String {
    config.mail_from.clone().unwrap_or_else(|| {
        // A mail domain, not an IP address.
        let host = public_host(config)
            .filter(|h| h.contains('.') && !h.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .unwrap_or_else(|| "localhost".into());
        format!("noreply@{host}")
    })
}

/// The host name of the public URL (`complaints.example.com`).
fn public_host(config: &Config) -> Option<String> {
    let public = config.public_url();
    public
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
}

/// The providers notices leave by, from the settings.
pub fn senders(config: &Config) -> anyhow::Result<redress_app::outbound::Senders> {
    use redress_channels::{relay::SmtpRelay, sms};
    let mut senders = redress_app::outbound::Senders::default();
    if let Some(url) = config
        .smtp_relay
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        let from = mail_from(config);
        senders.email = Some(Arc::new(
            SmtpRelay::new(url, &from).map_err(anyhow::Error::msg)?,
        ));
    }
    senders.sms = match config.sms.as_str() {
        "off" | "" => None,
        "log" => Some(Arc::new(sms::LogSms)),
        "http" => {
            let endpoint = config
                .sms_endpoint
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("sms = \"http\" needs sms_endpoint"))?;
            Some(Arc::new(
                sms::HttpSms::new(endpoint, config.sms_token.clone())
                    .map_err(anyhow::Error::msg)?,
            ))
        }
        other => anyhow::bail!("sms: unknown provider {other:?} (off, log or http)"),
    };
    if let Some(url) = config
        .notice_webhook
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        let secret = config
            .notice_webhook_secret
            .clone()
            .ok_or_else(|| anyhow::anyhow!("notice_webhook needs notice_webhook_secret"))?;
        senders.webhook = Some(Arc::new(
            redress_channels::notice_hook::WebhookNotices::new(url, secret)
                .map_err(anyhow::Error::msg)?,
        ));
    }
    Ok(senders)
}

/// Reloads the calendar and runs the deadline sweep every `every` until
/// the process ends. Its writes are background work: requests go first
/// ([`redress_store::priority`]).
pub fn spawn_sweeper(app: Arc<App>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(redress_store::priority::background(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut templates_read = std::time::Instant::now();
        let mut calendar_read: Option<std::time::Instant> = None;
        loop {
            // A save that queued a notice wakes the sweep at once.
            tokio::select! {
                _ = tick.tick() => {}
                _ = app.wake.notified() => {}
            }
            // Another instance may have edited the calendar or the notice
            // templates. This instance's own edits apply at once; others'
            // within a tick, not at every wake (a busy intake wakes the
            // sweep for each acknowledgement).
            if calendar_read.is_none_or(|t| t.elapsed() >= every) {
                calendar_read = Some(std::time::Instant::now());
                if let Err(e) = app.reload_calendar().await {
                    tracing::error!(error = %e, "reloading the calendar failed");
                }
            }
            // Templates compile in a millisecond or so: not at every wake.
            if templates_read.elapsed() >= Duration::from_secs(30) {
                templates_read = std::time::Instant::now();
                if let Err(e) = app.reload_notices().await {
                    tracing::error!(error = %e, "reloading the notice templates failed");
                }
            }
            if let Err(e) = app.sweep().await {
                tracing::error!(error = %e, "deadline sweep failed");
            }
        }
    }))
}

/// Runs the webhook dispatcher (`App::deliver_webhooks`) every `every`,
/// and soon after this instance appended case events, until the process
/// ends. Other instances' events are picked up by the next tick. Like the
/// sweep, background work.
pub fn spawn_webhooks(app: Arc<App>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(redress_store::priority::background(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = app.webhooks.rung() => {
                    // Let a burst of events gather into one pass.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            if let Err(e) = app.deliver_webhooks().await {
                tracing::error!(error = %e, "webhook delivery failed");
            }
        }
    }))
}
