//! Settings, in layers: built-in defaults, then `redress.toml` (or the file
//! named by `--config` / `REDRESS_CONFIG`), then `REDRESS_*` variables — a
//! variable wins over the file. Nested keys use `__`:
//! `REDRESS_POLICY__HANDLING_DAYS=10`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use redress_domain::DeadlinePolicy;
use serde::{Deserialize, Serialize};

/// Settings. `Debug` hides the secrets (keys, passwords, the database
/// URL's password).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub listen: String,
    /// Serves `/metrics` on this address only (`127.0.0.1:9090`), not on
    /// `listen`; unset: `/metrics` is on `listen`.
    pub metrics_listen: Option<String>,
    pub data_dir: PathBuf,
    /// Default: SQLite inside the data dir.
    pub database_url: Option<String>,
    /// 32 bytes, hex or base64. Default: a key file in the data dir.
    #[serde(skip_serializing)]
    pub data_key: Option<String>,
    /// The master key being retired while `redress keys rotate` runs
    /// (`REDRESS_DATA_KEY_PREVIOUS`); default: `data.key.previous` in the
    /// data dir, if there is one.
    #[serde(skip_serializing)]
    pub data_key_previous: Option<String>,
    /// Public intake per client address, requests per minute; 0 turns it off.
    pub public_rate_limit: u32,
    /// Requests per minute one complainant access code or respondent portal
    /// key may make on the tracking and portal calls and pages; 0 off.
    pub token_rate_limit: u32,
    /// Requests in progress at most; beyond, `503` with `Retry-After`
    /// (0: no limit).
    pub max_concurrent_requests: usize,
    /// Reverse proxies (addresses or networks, comma-separated) whose
    /// `X-Forwarded-For` names the client; empty: the TCP peer is the
    /// client (docs/security.md).
    pub trusted_proxies: String,
    pub public_url: Option<String>,
    /// The built-in SMTP receiver for mailed complaints (`127.0.0.1:2525`);
    /// off when unset.
    pub smtp_listen: Option<String>,
    /// The largest mail the receiver takes (advertised with SIZE).
    pub smtp_max_bytes: usize,
    /// Mails one sender may send per minute (0: no limit).
    pub smtp_per_sender_per_minute: u32,
    /// The receiver's name in its greeting. Default: the public URL's host.
    pub smtp_hostname: Option<String>,
    /// PEM certificate chain and key: with both, the receiver offers STARTTLS.
    pub smtp_tls_cert: Option<PathBuf>,
    pub smtp_tls_key: Option<PathBuf>,
    pub smtp_relay: Option<String>,
    /// The sender of e-mail notices. Default: `noreply@` the public URL's host.
    pub mail_from: Option<String>,
    /// SMS notices: `off` (default), `log` (the logging adapter: written to
    /// the log, not sent) or `http` (posted to `sms_endpoint`).
    pub sms: String,
    pub sms_endpoint: Option<String>,
    #[serde(skip_serializing)]
    pub sms_token: Option<String>,
    /// The country prefixes SMS go to, comma-separated (`+86,+852`); a
    /// number without `+` counts as `+86`. Others are refused: SMS to
    /// unverified numbers abroad is a toll-fraud target (docs/security.md).
    pub sms_prefixes: String,
    /// Notices (e-mail, SMS, notice webhook) sent per hour at most, over
    /// all channels (0: no cap). Beyond it they wait in the queue, never
    /// dropped, and supervisors are alerted once per hour.
    pub outbound_per_hour: u64,
    /// Notices to complainants the platform knows by user id are posted
    /// here, signed with `notice_webhook_secret` (`docs/webhooks.md`).
    pub notice_webhook: Option<String>,
    #[serde(skip_serializing)]
    pub notice_webhook_secret: Option<String>,
    /// Lets webhook subscriptions call loopback, private (RFC 1918, fc00::/7),
    /// link-local and other non-public addresses. Off by default (SPEC §9,
    /// docs/security.md). `1`, `true`, `yes` and `on` turn it on.
    #[serde(deserialize_with = "flag")]
    pub webhook_allow_private: bool,
    /// Failed passwords and access codes are answered with growing delays
    /// (docs/security.md). On by default; `0`/`false` turns it off, for a
    /// fuzzing run only (`.ci/schemathesis.sh`), never in production.
    #[serde(deserialize_with = "flag")]
    pub throttle_guessing: bool,
    #[serde(skip_serializing)]
    pub admin_password: Option<String>,
    pub time_zone: String,
    /// Working hours `HH:MM-HH:MM` (local time), for installations that
    /// count some deadlines in working hours (`policy.hours`) and show
    /// remaining time in them. Unset: whole working days.
    pub working_hours: Option<String>,
    /// How often the deadline sweep runs.
    pub sweep_interval_seconds: u64,
    /// How long a background job holds a claimed case; after that another
    /// instance may take it over.
    pub job_lease_seconds: u64,
    /// Days a settled webhook call (delivered or failed) and its attempts
    /// are kept in the call log (SPEC §8).
    pub webhook_call_retention_days: u32,
    /// Days held mail is kept: unsettled mail after it was received,
    /// attached or discarded mail after it was settled.
    pub held_mail_retention_days: u32,
    /// Days an `Idempotency-Key` record is kept (a retry after that files
    /// a new case).
    pub idempotency_retention_days: u32,
    /// Hours a file in the evidence store that no case names (an upload
    /// whose case was never saved) is kept before it is removed.
    pub orphan_evidence_hours: u32,
    pub evidence_max_bytes: u64,
    /// Evidence in an S3-compatible bucket: `s3://bucket` or
    /// `s3://bucket/prefix`. Default: `<data_dir>/evidence`.
    pub evidence_url: Option<String>,
    /// The S3 endpoint, for S3-compatible servers (`http://minio:9000`).
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    #[serde(skip_serializing)]
    pub s3_secret_access_key: Option<String>,
    /// Allows a plain-HTTP `s3_endpoint`.
    pub s3_allow_http: bool,
    /// `text` or `json`.
    pub log_format: String,
    pub policy: DeadlinePolicy,
    /// The spike alert rule (`spike_alerts.min_count`, `.sigmas`,
    /// `.min_sd`, `.baseline_days`; docs/reports.md).
    pub spike_alerts: redress_app::insight::AlertRule,
    /// The report mailed to supervisors (`scheduled_report.every`:
    /// `week`, `month` or `off`; `.hour`: the local hour it leaves).
    pub scheduled_report: redress_app::digest::ReportSchedule,
    /// The canned replies a new installation starts with
    /// (`[[canned_replies]] title, body, locale?`); read at first start
    /// only, then edited on the admin page.
    pub canned_replies: Vec<redress_app::CannedReplySeed>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            data_dir: "./redress-data".into(),
            database_url: None,
            data_key: None,
            data_key_previous: None,
            public_rate_limit: 60,
            token_rate_limit: 120,
            max_concurrent_requests: 512,
            trusted_proxies: String::new(),
            public_url: None,
            smtp_listen: None,
            smtp_max_bytes: 25 * 1024 * 1024,
            smtp_per_sender_per_minute: 30,
            smtp_hostname: None,
            smtp_tls_cert: None,
            smtp_tls_key: None,
            smtp_relay: None,
            mail_from: None,
            sms: "off".into(),
            sms_endpoint: None,
            sms_token: None,
            sms_prefixes: "+86".into(),
            outbound_per_hour: 10_000,
            notice_webhook: None,
            notice_webhook_secret: None,
            webhook_allow_private: false,
            throttle_guessing: true,
            admin_password: None,
            time_zone: "Asia/Shanghai".into(),
            working_hours: None,
            sweep_interval_seconds: 30,
            job_lease_seconds: 60,
            webhook_call_retention_days: 90,
            held_mail_retention_days: 180,
            idempotency_retention_days: 30,
            orphan_evidence_hours: 24,
            evidence_max_bytes: 20 * 1024 * 1024,
            evidence_url: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            log_format: "text".into(),
            policy: DeadlinePolicy::default(),
            spike_alerts: redress_app::insight::AlertRule::default(),
            scheduled_report: redress_app::digest::ReportSchedule::default(),
            canned_replies: redress_app::CannedReplySeed::defaults(),
        }
    }
}

/// A switch as people write it in a variable: `1`/`0`, `true`/`false`,
/// `yes`/`no`, `on`/`off`.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Int(0) => Ok(false),
        Flag::Int(1) => Ok(true),
        Flag::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected on or off (1/0, true/false), found {other:?}"
            ))),
        },
        Flag::Int(n) => Err(serde::de::Error::custom(format!(
            "expected on or off (1/0, true/false), found {n}"
        ))),
    }
}

fn hidden(secret: &Option<String>) -> &'static str {
    if secret.is_some() { "<set>" } else { "<unset>" }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(crate::migrate::redact),
            )
            .field("data_key", &hidden(&self.data_key))
            .field("data_key_previous", &hidden(&self.data_key_previous))
            .field("public_rate_limit", &self.public_rate_limit)
            .field("token_rate_limit", &self.token_rate_limit)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("public_url", &self.public_url)
            .field("smtp_listen", &self.smtp_listen)
            .field("smtp_max_bytes", &self.smtp_max_bytes)
            .field(
                "smtp_per_sender_per_minute",
                &self.smtp_per_sender_per_minute,
            )
            .field("smtp_hostname", &self.smtp_hostname)
            .field("smtp_tls_cert", &self.smtp_tls_cert)
            .field("smtp_tls_key", &self.smtp_tls_key)
            .field(
                "smtp_relay",
                &self.smtp_relay.as_deref().map(crate::migrate::redact),
            )
            .field("mail_from", &self.mail_from)
            .field("sms", &self.sms)
            .field("sms_endpoint", &self.sms_endpoint)
            .field("sms_token", &hidden(&self.sms_token))
            .field("sms_prefixes", &self.sms_prefixes)
            .field("outbound_per_hour", &self.outbound_per_hour)
            .field(
                "notice_webhook",
                &self
                    .notice_webhook
                    .as_deref()
                    .map(redress_app::webhooks::shown_url),
            )
            .field(
                "notice_webhook_secret",
                &hidden(&self.notice_webhook_secret),
            )
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("throttle_guessing", &self.throttle_guessing)
            .field("admin_password", &hidden(&self.admin_password))
            .field("time_zone", &self.time_zone)
            .field("working_hours", &self.working_hours)
            .field("sweep_interval_seconds", &self.sweep_interval_seconds)
            .field("job_lease_seconds", &self.job_lease_seconds)
            .field(
                "webhook_call_retention_days",
                &self.webhook_call_retention_days,
            )
            .field("held_mail_retention_days", &self.held_mail_retention_days)
            .field(
                "idempotency_retention_days",
                &self.idempotency_retention_days,
            )
            .field("orphan_evidence_hours", &self.orphan_evidence_hours)
            .field("evidence_max_bytes", &self.evidence_max_bytes)
            .field("evidence_url", &self.evidence_url)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &hidden(&self.s3_secret_access_key))
            .field("s3_allow_http", &self.s3_allow_http)
            .field("log_format", &self.log_format)
            .field("policy", &self.policy)
            .field("spike_alerts", &self.spike_alerts)
            .finish()
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("REDRESS_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("redress.toml"));
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("REDRESS_").split("__").ignore(&["config"]))
            .extract()?;
        Ok(config)
    }

    /// The address of the metrics' own listener, when set.
    pub fn metrics_listen(&self) -> Option<&str> {
        self.metrics_listen
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// Whether evidence lives in a bucket rather than `<data_dir>/evidence`.
    pub fn evidence_on_object_store(&self) -> bool {
        self.evidence_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
    }

    /// Where evidence lives, as the application takes it.
    pub fn evidence_location(&self) -> redress_channels::evidence::EvidenceLocation {
        match self
            .evidence_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            None => redress_channels::evidence::EvidenceLocation::DataDir,
            Some(url) => redress_channels::evidence::EvidenceLocation::S3(
                redress_channels::evidence::S3Settings {
                    url: url.to_string(),
                    endpoint: self.s3_endpoint.clone(),
                    region: self.s3_region.clone(),
                    access_key_id: self.s3_access_key_id.clone(),
                    secret_access_key: self.s3_secret_access_key.clone(),
                    allow_http: self.s3_allow_http,
                },
            ),
        }
    }

    /// Which database: from the URL, or SQLite in the data dir by default.
    pub fn database(&self) -> anyhow::Result<Database> {
        database(self.database_url.as_deref(), &self.data_dir)
    }

    /// The SQLite file, when the database is SQLite.
    pub fn sqlite_path(&self) -> anyhow::Result<PathBuf> {
        match self.database()? {
            Database::Sqlite(path) => Ok(path),
            Database::Postgres(_) => anyhow::bail!("the database is PostgreSQL, not SQLite"),
        }
    }
}

/// A database named by a URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// The URL, as libpq would take it.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&crate::migrate::redact(url))
                .finish(),
        }
    }
}

/// Reads a database URL: `sqlite://<path>`, `postgres://…`; none means
/// SQLite in `data_dir`.
pub fn database(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Database> {
    match url.filter(|u| !u.is_empty()) {
        None => Ok(Database::Sqlite(data_dir.join("redress.sqlite3"))),
        Some(url) => {
            if let Some(rest) = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                Ok(Database::Sqlite(PathBuf::from(
                    rest.split('?').next().unwrap_or(rest),
                )))
            } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Ok(Database::Postgres(url.to_string()))
            } else {
                anyhow::bail!("REDRESS_DATABASE_URL must start with sqlite:// or postgres://")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its error by value
    fn a_variable_wins_over_the_file_which_wins_over_the_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "redress.toml",
                "listen = \"127.0.0.1:9000\"\npublic_rate_limit = 5\n[policy]\nhandling_days = 20\n",
            )?;
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:9000");
            assert_eq!(c.public_rate_limit, 5);
            assert_eq!(c.policy.handling_days, 20);
            assert_eq!(c.policy.appeal_days, 15, "unset keys keep their defaults");
            assert_eq!(c.data_dir, PathBuf::from("./redress-data"));

            assert!(
                !c.webhook_allow_private,
                "private webhook targets are refused by default"
            );

            jail.set_env("REDRESS_LISTEN", "127.0.0.1:9001");
            jail.set_env("REDRESS_WEBHOOK_ALLOW_PRIVATE", "1");
            jail.set_env("REDRESS_POLICY__HANDLING_DAYS", "7");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:9001");
            assert_eq!(c.policy.handling_days, 7);
            assert_eq!(c.public_url(), "http://127.0.0.1:9001");
            assert!(c.webhook_allow_private, "REDRESS_WEBHOOK_ALLOW_PRIVATE=1");
            assert!(c.throttle_guessing, "guessing is throttled by default");
            jail.set_env("REDRESS_THROTTLE_GUESSING", "0");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert!(!c.throttle_guessing, "REDRESS_THROTTLE_GUESSING=0");
            jail.set_env("REDRESS_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                crate::web_options(&c)
                    .map_err(|e| e.to_string())?
                    .trusted_proxies
                    .len(),
                2
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its error by value
    fn reminders_escalation_and_working_hours_are_configured_in_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "redress.toml",
                "working_hours = \"08:30-17:30\"\n\
                 [policy]\ndue_soon_days = 2\n\
                 [policy.hours]\nacceptance = 4\n\
                 [policy.alerts]\nreminder_percents = [25, 75]\nrepeat_overdue = false\n\
                 [[policy.alerts.escalation]]\nafter_working_days = 1\nto = \"supervisors\"\n",
            )?;
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.working_hours.as_deref(), Some("08:30-17:30"));
            assert_eq!(c.policy.due_soon_days, 2);
            assert_eq!(c.policy.hours.acceptance, Some(4));
            assert_eq!(c.policy.alerts.reminder_percents, vec![25, 75]);
            assert!(!c.policy.alerts.repeat_overdue);
            assert_eq!(
                c.policy.alerts.escalation,
                vec![redress_domain::EscalationStep {
                    after_working_days: 1,
                    to: redress_domain::Level::Supervisors
                }]
            );
            assert_eq!(
                c.policy.alerts.acceptance_escalation,
                redress_domain::AlertPolicy::default().acceptance_escalation,
                "unset keys keep their defaults"
            );
            jail.set_env("REDRESS_POLICY__ALERTS__REPEAT_OVERDUE", "true");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert!(c.policy.alerts.repeat_overdue);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its error by value
    fn evidence_goes_to_a_bucket_when_evidence_url_is_set() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert!(matches!(
                c.evidence_location(),
                redress_channels::evidence::EvidenceLocation::DataDir
            ));
            jail.set_env("REDRESS_EVIDENCE_URL", "s3://bucket/prefix");
            jail.set_env("REDRESS_S3_ENDPOINT", "http://127.0.0.1:9000");
            jail.set_env("REDRESS_S3_ACCESS_KEY_ID", "id");
            jail.set_env("REDRESS_S3_SECRET_ACCESS_KEY", "secret");
            jail.set_env("REDRESS_S3_ALLOW_HTTP", "true");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            let redress_channels::evidence::EvidenceLocation::S3(s3) = c.evidence_location() else {
                panic!("evidence_url names a bucket");
            };
            assert_eq!(s3.url, "s3://bucket/prefix");
            assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
            assert_eq!(s3.secret_access_key.as_deref(), Some("secret"));
            assert!(s3.allow_http);
            assert!(
                !format!("{s3:?}").contains("secret\""),
                "the secret is not shown"
            );
            Ok(())
        });
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let c = Config {
            database_url: Some("postgres://u:db-pass-1@db/redress".into()),
            data_key: Some("ab".repeat(32)),
            admin_password: Some("admin-pass-1".into()),
            s3_secret_access_key: Some("s3-secret-1".into()),
            ..Config::default()
        };
        let shown = format!("{c:?} {:?}", c.database().unwrap());
        for secret in ["db-pass-1", &"ab".repeat(32), "admin-pass-1", "s3-secret-1"] {
            assert!(!shown.contains(secret), "{secret} shown: {shown}");
        }
        assert!(shown.contains("postgres://u:***@db/redress"), "{shown}");
    }

    #[test]
    fn database_urls() {
        let mut c = Config::default();
        assert_eq!(
            c.sqlite_path().unwrap(),
            PathBuf::from("./redress-data/redress.sqlite3")
        );
        c.database_url = Some("sqlite:///var/lib/redress/db.sqlite3".into());
        assert_eq!(
            c.sqlite_path().unwrap(),
            PathBuf::from("/var/lib/redress/db.sqlite3")
        );
        c.database_url = Some("postgres://u@db.example/redress".into());
        assert_eq!(
            c.database().unwrap(),
            Database::Postgres("postgres://u@db.example/redress".into())
        );
        assert!(c.sqlite_path().is_err());
        c.database_url = Some("mysql://x".into());
        assert!(c.database().is_err());
    }
}
