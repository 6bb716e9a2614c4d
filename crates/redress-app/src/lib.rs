#![recursion_limit = "256"]
//! The use cases of redress. One place where "load the case → let the
//! domain decide → append the events → commit" happens; the web layer, the
//! CLI and the background jobs all call in here.

pub mod access;
pub mod actions;
pub mod admin;
pub mod archive;
pub mod calendar_admin;
pub mod calendar_feed;
pub mod canned;
pub mod case_export;
pub mod cases;
pub mod channels;
pub mod clock;
pub mod codes;
pub mod commands;
pub mod deadlines;
pub mod digest;
pub mod edges;
pub mod egress;
pub mod error;
pub mod evidence;
pub mod export;
pub mod files;
pub mod input;
pub mod insight;
pub mod jobs;
pub mod keys;
pub mod likely;
pub mod mail;
pub mod outbound;
pub mod privacy;
pub mod recover;
pub mod report;
pub mod rotate;
pub mod stored;
pub mod throttle;
pub mod thumbnail;
pub mod transparency;
pub mod views;
pub mod webhooks;
pub mod workspace;

use redress_domain::Reason;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use redress_domain::{
    Actor, ActorKind, Calendar, Case, Ctx, DeadlinePolicy, Delivery, DeliveryChannel, Effects,
    Party, Recipient, Refusal,
};
use redress_store::{CaseRow, CaseUpdate, NewEvent, Store, StoreError};
use uuid::Uuid;

pub use access::{CaseAccess, Principal, StaffUser};
pub use clock::Clock;
pub use edges::Edges;
pub use error::{AppError, AppResult};
pub use evidence::EvidenceStore;
pub use privacy::Vault;
pub use stored::Loaded;

/// A canned reply as the configuration gives it (`[[canned_replies]]`):
/// the seed of a new installation's stored canned replies (see
/// [`canned`]), written once at first start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CannedReplySeed {
    pub title: String,
    pub body: String,
    /// `zh-CN` or `en`, the language of the text; none: any.
    #[serde(default)]
    pub locale: Option<redress_domain::Locale>,
}

impl CannedReplySeed {
    /// The texts an installation starts with.
    pub fn defaults() -> Vec<Self> {
        [
            (
                "已收到，正在核实",
                "您好，您的投诉我们已收到，正在向相关方核实情况，有进展会及时告知您。",
            ),
            (
                "请补充订单截图",
                "您好，为便于核实，请补充订单详情页截图及与商家的沟通记录。",
            ),
            (
                "已联系商家",
                "您好，我们已联系商家并要求其在两个工作日内给出处理方案。",
            ),
            (
                "请商家说明情况",
                "请贵方于两个工作日内就该投诉说明情况，并提供相关证据。",
            ),
        ]
        .into_iter()
        .map(|(title, body)| Self {
            title: title.into(),
            body: body.into(),
            locale: Some(redress_domain::Locale::ZhCn),
        })
        .collect()
    }
}

/// Settings the use cases need (the binary builds it from its config).
/// Retention periods of what is kept beside the cases (SPEC §8); the
/// hourly housekeeping deletes what is older ([`App::housekeeping_now`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Settled webhook calls and their attempts, after their creation.
    pub webhook_calls: chrono::Duration,
    /// Held mail, after receipt (unsettled) or settlement.
    pub held_mail: chrono::Duration,
    /// Idempotency records, after their creation.
    pub idempotency: chrono::Duration,
    /// Evidence files no case names, after they were written.
    pub orphan_evidence: chrono::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            webhook_calls: chrono::Duration::days(90),
            held_mail: chrono::Duration::days(180),
            idempotency: chrono::Duration::days(30),
            orphan_evidence: chrono::Duration::hours(24),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    pub policy: DeadlinePolicy,
    /// The canned replies a new installation starts with (seeded once;
    /// afterwards they live in the store).
    pub canned_replies: Vec<CannedReplySeed>,
    pub time_zone: Tz,
    /// The hours of a working day, when deadlines count working hours.
    pub working_hours: Option<redress_domain::calendar::WorkingHours>,
    /// Where complainants reach the server, for tracking links.
    pub public_url: String,
    /// Outside remedies named in the final review notice.
    pub outside_remedies_zh: String,
    pub outside_remedies_en: String,
    pub session_hours: i64,
    /// How long what is kept beside the cases stays (SPEC §8).
    pub retention: Retention,
    pub evidence_max_bytes: u64,
    /// How long a background job holds a claimed case before another
    /// instance may take it over (the holder is presumed dead).
    pub job_lease: std::time::Duration,
    /// The providers notices leave by (e-mail relay, SMS gateway).
    pub senders: outbound::Senders,
    /// The address notices are sent from (`Name <addr>` or `addr`): mail
    /// coming back from it is a loop and is dropped.
    pub mail_from: Option<String>,
    /// Failed passwords and access codes are answered with growing delays
    /// (off only for a fuzzing run; docs/security.md).
    pub throttle_guessing: bool,
    /// Country prefixes SMS go to (`+86`); a number without `+` is `+86`.
    pub sms_prefixes: Vec<String>,
    /// Notices sent per hour at most (0: no cap); the rest wait.
    pub outbound_per_hour: u64,
    /// Lets webhook subscriptions call loopback, private and link-local
    /// addresses (`egress`); off by default (SPEC §9).
    pub webhook_allow_private: bool,
    /// The spike alert rule (`GET /alerts`, docs/reports.md).
    pub alerts: insight::AlertRule,
    /// The report mailed to supervisors each week or month.
    pub report_schedule: digest::ReportSchedule,
}

impl AppConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            policy: DeadlinePolicy::default(),
            canned_replies: CannedReplySeed::defaults(),
            time_zone: chrono_tz::Asia::Shanghai,
            working_hours: None,
            public_url: "http://127.0.0.1:8080".into(),
            outside_remedies_zh: "如对复核结果仍有异议，您可以向消费者权益保护机构（如拨打12315）投诉，依法申请仲裁，或向人民法院提起诉讼。".into(),
            outside_remedies_en: "If you still disagree with the review result, you may complain to a consumer authority (such as 12315), apply for arbitration, or bring the matter to court.".into(),
            session_hours: 12,
            retention: Retention::default(),
            evidence_max_bytes: 20 * 1024 * 1024,
            job_lease: std::time::Duration::from_secs(60),
            senders: outbound::Senders::default(),
            mail_from: None,
            throttle_guessing: true,
            sms_prefixes: vec!["+86".into()],
            outbound_per_hour: 10_000,
            webhook_allow_private: false,
            alerts: insight::AlertRule::default(),
            report_schedule: digest::ReportSchedule::default(),
        }
    }

    /// The mailbox complaints are mailed to: `mail_from`'s address, else
    /// `complaints@` the host of the public URL.
    pub fn mailbox(&self) -> Option<String> {
        self.mail_from_address().or_else(|| {
            let host = self
                .public_url
                .split("://")
                .nth(1)?
                .split(['/', ':'])
                .next()?
                .trim()
                .to_string();
            (!host.is_empty()).then(|| format!("complaints@{host}"))
        })
    }

    /// The bare address of `mail_from`.
    pub fn mail_from_address(&self) -> Option<String> {
        let from = self.mail_from.as_deref()?.trim();
        let addr = match (from.rfind('<'), from.rfind('>')) {
            (Some(a), Some(b)) if a < b => &from[a + 1..b],
            _ => from,
        };
        Some(addr.trim().to_string()).filter(|a| a.contains('@'))
    }
}

/// The complainant's tracking page of `tracking_no` under `public_url`.
pub fn tracking_url(public_url: &str, tracking_no: &str) -> String {
    format!("{}/track/{tracking_no}", public_url.trim_end_matches('/'))
}

pub struct App {
    pub store: Arc<dyn Store>,
    pub vault: Vault,
    pub clock: Clock,
    pub evidence: EvidenceStore,
    pub config: AppConfig,
    calendar: RwLock<Arc<Calendar>>,
    sweep_lock: tokio::sync::Mutex<()>,
    /// Uploads hold it shared until their case is saved; removing unused
    /// evidence holds it alone.
    evidence_gate: Arc<tokio::sync::RwLock<()>>,
    /// Who receives staff alerts, cached briefly (see [`App::directory`]).
    directory: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Directory>)>>,
    /// The webhook dispatcher's transport, pass lock and bell.
    pub webhooks: webhooks::Webhooks,
    /// Fetches the calendar feed (`calendar_feed`).
    feeds: Arc<dyn edges::FeedFetcher>,
    /// Resolves the hosts of URLs when they are set (`egress`).
    resolver: Arc<dyn edges::Resolver>,
    /// The notice templates (shipped, with the installation's overrides).
    notices: RwLock<Arc<outbound::Notices>>,
    /// Woken when a save queues a delivery, so that the sweep sends it now.
    pub wake: tokio::sync::Notify,
    /// Failed guesses of passwords and access codes (docs/security.md).
    pub(crate) guesses: Guesses,
    /// Notices sent in the current hour of the application's clock.
    pub(crate) sent_this_hour: std::sync::Mutex<outbound::HourlyCap>,
    /// When the housekeeping last ran, on the app's clock.
    housekept: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// When the spike alerts were last looked for, on the app's clock.
    alerts_checked: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// Where the next look for orphaned evidence files starts (a key of
    /// the evidence store); `None`: from the beginning.
    orphan_cursor: tokio::sync::Mutex<Option<String>>,
    /// The published channels as last read (for the reply addresses'
    /// mailbox, which is needed where nothing can wait on the database).
    channels_cache: RwLock<Option<channels::PublishedChannels>>,
}

/// The throttles of [`throttle::Backoff`] that guessing meets.
#[derive(Debug)]
pub(crate) struct Guesses {
    /// Failed logins per user name, from anywhere: short delays only, so
    /// that nobody can keep a user out by failing on their name.
    pub user: throttle::Backoff,
    /// Failed logins per client address.
    pub address: throttle::Backoff,
    /// Failed logins per user name and address.
    pub pair: throttle::Backoff,
    /// Wrong access codes per tracking number.
    pub code: throttle::Backoff,
    /// Requests for a lost code (`POST /track/recover`), per client
    /// address and per tracking number: every request counts.
    pub recover_address: throttle::Backoff,
    pub recover_case: throttle::Backoff,
}

impl Guesses {
    fn new() -> Self {
        use std::time::Duration;
        let policy = |free, base, cap| throttle::Policy {
            free,
            base: Duration::from_secs(base),
            cap: Duration::from_secs(cap),
            window: Duration::from_secs(15 * 60),
        };
        Self {
            user: throttle::Backoff::new(policy(10, 1, 30)),
            address: throttle::Backoff::new(policy(20, 2, 15 * 60)),
            pair: throttle::Backoff::new(policy(5, 2, 15 * 60)),
            // Ten wrong codes, then a delay that grows to 30 seconds: with
            // unguessable codes the count guards against guessing, and a
            // short cap keeps anyone who knows a tracking number from
            // locking its complainant out for long.
            code: throttle::Backoff::new(policy(10, 1, 30)),
            // A lost code is asked for once or twice; a flood of requests
            // would mail the complainant again and again.
            recover_address: throttle::Backoff::new(throttle::Policy {
                free: 10,
                base: Duration::from_secs(60),
                cap: Duration::from_secs(3600),
                window: Duration::from_secs(3600),
            }),
            recover_case: throttle::Backoff::new(throttle::Policy {
                free: 3,
                base: Duration::from_secs(600),
                cap: Duration::from_secs(6 * 3600),
                window: Duration::from_secs(6 * 3600),
            }),
        }
    }
}

/// The people staff alerts reach: department heads and supervisors.
#[derive(Debug, Default)]
pub struct Directory {
    heads: std::collections::HashMap<String, String>,
    /// Active supervisors and the departments they cover (none: all).
    supervisors: Vec<(String, Vec<String>)>,
    /// Active staff with an e-mail address: their alerts also go there.
    emails: std::collections::HashMap<String, String>,
}

impl Directory {
    /// The e-mail address of an active staff member, if they gave one.
    pub fn email(&self, username: &str) -> Option<&str> {
        self.emails.get(username).map(String::as_str)
    }

    /// The user names (or, when nobody fits, the pool) an alert about
    /// `case` goes to.
    pub fn recipients(&self, case: &Case, to: Recipient) -> Vec<String> {
        let department = case.department.as_deref();
        match to {
            Recipient::Responsible => {
                vec![
                    case.assignee
                        .clone()
                        .unwrap_or_else(|| match (case.status, department) {
                            (redress_domain::Status::Submitted, _) | (_, None) => {
                                "role:intake".into()
                            }
                            (redress_domain::Status::UnderReview, _) => "role:reviewer".into(),
                            (_, Some(d)) => format!("department:{d}"),
                        }),
                ]
            }
            Recipient::Head => match department.and_then(|d| self.heads.get(d)) {
                Some(head) => vec![head.clone()],
                // A ladder must reach someone: without a head, the supervisors.
                None => self.recipients(case, Recipient::Supervisors),
            },
            Recipient::Supervisors => {
                let names: Vec<String> = self
                    .supervisors
                    .iter()
                    .filter(|(_, deps)| {
                        deps.is_empty() || department.is_some_and(|d| deps.iter().any(|x| x == d))
                    })
                    .map(|(name, _)| name.clone())
                    .collect();
                if names.is_empty() {
                    vec!["role:supervisor".into()]
                } else {
                    names
                }
            }
        }
    }
}

/// How long a loaded [`Directory`] is used before it is read again (admin
/// changes made through this instance drop it at once).
const DIRECTORY_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// How many times a transition is retried when another writer changed the
/// case between read and write; after that the caller gets a 409.
const VERSION_RETRIES: usize = 3;

impl App {
    pub async fn new(
        store: Arc<dyn Store>,
        vault: Vault,
        clock: Clock,
        config: AppConfig,
        edges: Edges,
    ) -> AppResult<Arc<Self>> {
        let evidence = EvidenceStore::new(edges.evidence, config.evidence_max_bytes)
            .sealed_with(vault.clone());
        let webhooks = webhooks::Webhooks::new(edges.webhooks, config.webhook_allow_private);
        let app = Arc::new(Self {
            store,
            vault,
            clock,
            evidence,
            calendar: RwLock::new(Arc::new(Calendar::new(config.time_zone))),
            config,
            sweep_lock: tokio::sync::Mutex::new(()),
            evidence_gate: Arc::new(tokio::sync::RwLock::new(())),
            directory: tokio::sync::Mutex::new(None),
            webhooks,
            feeds: edges.feeds,
            resolver: edges.resolver,
            notices: RwLock::new(Arc::new(
                outbound::Notices::new(&[]).expect("shipped notice templates compile"),
            )),
            wake: tokio::sync::Notify::new(),
            guesses: Guesses::new(),
            housekept: std::sync::Mutex::new(None),
            alerts_checked: std::sync::Mutex::new(None),
            sent_this_hour: std::sync::Mutex::new(outbound::HourlyCap::default()),
            orphan_cursor: tokio::sync::Mutex::new(None),
            channels_cache: RwLock::new(None),
        });
        app.reload_calendar().await?;
        app.reload_notices().await?;
        app.published_channels().await?;
        Ok(app)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().expect("calendar lock").clone()
    }

    /// Re-reads the calendar exceptions from the store.
    pub async fn reload_calendar(&self) -> AppResult<()> {
        let days = self.store.list_calendar().await?;
        let cal = Calendar::with_exceptions(self.config.time_zone, days)
            .with_working_hours(self.config.working_hours);
        *self.calendar.write().expect("calendar lock") = Arc::new(cal);
        Ok(())
    }

    /// Department heads and supervisors, for staff alerts.
    pub async fn directory(&self) -> AppResult<Arc<Directory>> {
        let mut cached = self.directory.lock().await;
        if let Some((at, dir)) = cached.as_ref()
            && at.elapsed() < DIRECTORY_TTL
        {
            return Ok(dir.clone());
        }
        let heads = self
            .store
            .list_departments()
            .await?
            .into_iter()
            .filter_map(|d| Some((d.code, d.head?)))
            .collect();
        let users = self.store.list_users().await?;
        let supervisors = users
            .iter()
            .filter(|u| u.active && u.roles.contains(&redress_domain::Role::Supervisor))
            .map(|u| (u.username.clone(), u.departments.clone()))
            .collect();
        let emails = users
            .into_iter()
            .filter(|u| u.active)
            .filter_map(|u| Some((u.username, u.email?)))
            .collect();
        let dir = Arc::new(Directory {
            heads,
            supervisors,
            emails,
        });
        *cached = Some((std::time::Instant::now(), dir.clone()));
        Ok(dir)
    }

    /// The e-mail address of the account of `case`'s respondent, when
    /// the respondent has an account with one.
    pub async fn respondent_email(&self, case: &Case) -> AppResult<Option<String>> {
        let Some(r) = case.record.respondent.as_ref() else {
            return Ok(None);
        };
        Ok(self
            .store
            .get_respondent(r.kind, &r.id)
            .await?
            .and_then(|a| a.email))
    }

    /// Forgets the cached [`Directory`] (after users or departments change).
    pub async fn forget_directory(&self) {
        *self.directory.lock().await = None;
    }

    /// The stored row of a case, with the next instant the sweep must look
    /// at it.
    pub fn row(
        &self,
        case: &Case,
        access_token_hash: &str,
        pending_code: Option<&str>,
        seq: i64,
        sealing: Option<&stored::Sealing>,
    ) -> AppResult<CaseRow> {
        let calendar = self.calendar();
        let sweep_at = case.sweep_at(&self.config.policy, &calendar);
        let mut row = stored::to_row(
            case,
            access_token_hash,
            pending_code,
            seq,
            &self.vault,
            sealing,
            sweep_at,
        )?;
        // The rollups count each event on its local day in this zone.
        row.report.zone = Some(self.config.time_zone.name().to_string());
        Ok(row)
    }

    /// The row of a loaded case, after its transition.
    fn loaded_row(&self, l: &Loaded) -> AppResult<CaseRow> {
        self.row(
            &l.case,
            &l.access_token_hash,
            l.pending_code.as_deref(),
            l.seq,
            l.sealing.as_ref(),
        )
    }

    /// The address a complainant's reply goes to: the mailbox with the
    /// case's tracking number and reply token after a `+`
    /// (`complaints+rd261206-abcdef.0123456789abcdef@example.com`).
    pub fn reply_address(&self, tracking_no: &str) -> Option<String> {
        let mailbox = self.mailbox()?;
        let (local, domain) = mailbox.split_once('@')?;
        let local = local.split('+').next().unwrap_or(local);
        Some(format!(
            "{local}+{}.{}@{domain}",
            tracking_no.to_ascii_lowercase(),
            self.vault.reply_token(tracking_no)
        ))
    }

    /// The tracking number a recipient address's reply token vouches for.
    pub fn reply_token_case(&self, address: &str) -> Option<String> {
        let local = address.trim().trim_matches(['<', '>']).split('@').next()?;
        let (_, tag) = local.split_once('+')?;
        let (no, token) = tag.rsplit_once('.')?;
        let no = no.to_ascii_uppercase();
        self.vault.reply_token_matches(&no, token).then_some(no)
    }

    pub fn tracking_url(&self, tracking_no: &str) -> String {
        tracking_url(&self.config.public_url, tracking_no)
    }

    fn ctx<'a>(&'a self, calendar: &'a Calendar, actor: Actor) -> Ctx<'a> {
        Ctx {
            now: self.now(),
            calendar,
            policy: &self.config.policy,
            actor,
        }
    }

    pub async fn load(&self, id: Uuid) -> AppResult<Loaded> {
        let row = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
        stored::from_row(&row, &self.vault)
    }

    pub async fn load_by_tracking_no(&self, tracking_no: &str) -> AppResult<Loaded> {
        let row = self
            .store
            .get_case_by_tracking_no(tracking_no)
            .await?
            .ok_or(AppError::NotFound)?;
        stored::from_row(&row, &self.vault)
    }

    /// Turns domain events into journal entries, their payloads sealed
    /// with the case's key (`key`). The events of a purge or an erasure
    /// are written in the clear: the key goes with them.
    fn journal(
        &self,
        case_id: Option<Uuid>,
        key: Option<&stored::CaseKeyRef<'_>>,
        actor: &Actor,
        at: DateTime<Utc>,
        effects: &Effects,
    ) -> Vec<NewEvent> {
        effects
            .events
            .iter()
            .map(|e| {
                let data = e.data().to_string();
                let data = match key {
                    Some(k) if !k.purged => stored::seal_event(k.key, e.kind(), &data),
                    _ => data,
                };
                NewEvent {
                    case_id,
                    kind: e.kind().to_string(),
                    actor: actor_string(actor),
                    at,
                    data,
                }
            })
            .collect()
    }

    /// Records a delivery for every notice a transition owes (in-app for now;
    /// the delivery record is the proof of notice). Staff alerts name their
    /// recipients through `dir`: one delivery per person.
    fn deliver(
        &self,
        case: &mut Case,
        effects: &Effects,
        at: DateTime<Utc>,
        dir: Option<&Directory>,
        respondent_email: Option<&str>,
    ) {
        for notice in &effects.notices {
            let recipients = match (&notice.user, notice.to, dir) {
                (Some(user), _, _) => vec![user.clone()],
                (None, Some(to), Some(dir)) => dir.recipients(case, to),
                _ => vec![party_recipient(case, notice.party)],
            };
            for recipient in recipients {
                // A staff member with an address hears by e-mail as well.
                let by_mail = notice.is_staff_alert()
                    && self.config.senders.email.is_some()
                    && dir.is_some_and(|d| d.email(&recipient).is_some());
                if by_mail {
                    case.record_delivery(Delivery::owed(
                        Uuid::now_v7().to_string(),
                        notice.party,
                        notice.kind,
                        DeliveryChannel::Email,
                        recipient.clone(),
                        at,
                    ));
                }
                case.record_delivery(Delivery::owed(
                    Uuid::now_v7().to_string(),
                    notice.party,
                    notice.kind,
                    DeliveryChannel::InApp,
                    recipient,
                    at,
                ));
            }
            // The complainant also hears on every contact they left (an
            // address, a phone number, their user id on the platform) that
            // the installation has a provider for.
            if notice.party == Party::Complainant {
                let c = &case.record.complainant;
                let outside = [
                    (
                        DeliveryChannel::Email,
                        c.email.as_deref().map(redress_domain::mask_email),
                    ),
                    (
                        DeliveryChannel::Sms,
                        c.phone.as_deref().map(redress_domain::mask_phone),
                    ),
                    // The platform shows it to its user in its own app.
                    (
                        DeliveryChannel::Webhook,
                        c.user_id.as_deref().map(|u| format!("user {u}")),
                    ),
                ];
                for (channel, recipient) in outside {
                    let (Some(recipient), Some(_)) =
                        (recipient, self.config.senders.for_channel(channel))
                    else {
                        continue;
                    };
                    case.record_delivery(Delivery::owed(
                        Uuid::now_v7().to_string(),
                        notice.party,
                        notice.kind,
                        channel,
                        recipient,
                        at,
                    ));
                }
            }
            // The respondent also hears by e-mail at their account's
            // address (SPEC §7), when the account has one.
            if notice.party == Party::Respondent
                && let Some(email) = respondent_email
                && self.config.senders.email.is_some()
            {
                case.record_delivery(Delivery::owed(
                    Uuid::now_v7().to_string(),
                    notice.party,
                    notice.kind,
                    DeliveryChannel::Email,
                    redress_domain::mask_email(email),
                    at,
                ));
            }
        }
    }

    /// Load → check and transition (`f`) → save, retried on a concurrent
    /// change. `f` sees the freshly loaded case every time.
    #[tracing::instrument(level = "info", skip_all, fields(case = %id, actor = %actor_string(&actor)))]
    pub async fn mutate<F>(&self, id: Uuid, actor: Actor, f: F) -> AppResult<Loaded>
    where
        F: FnMut(&mut Case, &Ctx) -> AppResult<Effects>,
    {
        self.mutate_with_code(id, actor, None, f).await
    }

    /// [`App::mutate`], storing `new_code`'s hash as the case's
    /// access-code hash in the same save when given (a re-issued code: the
    /// old one stops working at the same instant), with the sealed code for
    /// a notice that is to carry it.
    pub async fn mutate_with_code<F>(
        &self,
        id: Uuid,
        actor: Actor,
        new_code: Option<(&str, Option<&str>)>,
        mut f: F,
    ) -> AppResult<Loaded>
    where
        F: FnMut(&mut Case, &Ctx) -> AppResult<Effects>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut loaded = self.load(id).await?;
            let calendar = self.calendar();
            let ctx = self.ctx(&calendar, actor.clone());
            let effects = f(&mut loaded.case, &ctx)?;
            if effects.events.is_empty() {
                return Ok(loaded);
            }
            let dir = if effects.notices.iter().any(|n| n.is_staff_alert()) {
                Some(self.directory().await?)
            } else {
                None
            };
            let respondent_email = if self.config.senders.email.is_some()
                && effects.notices.iter().any(|n| n.party == Party::Respondent)
            {
                self.respondent_email(&loaded.case).await?
            } else {
                None
            };
            self.deliver(
                &mut loaded.case,
                &effects,
                ctx.now,
                dir.as_deref(),
                respondent_email.as_deref(),
            );
            let events = self.journal(
                Some(id),
                stored::CaseKeyRef::of(&loaded).as_ref(),
                &actor,
                ctx.now,
                &effects,
            );
            if let Some((hash, sealed)) = new_code {
                loaded.access_token_hash = hash.to_string();
                loaded.pending_code = sealed.map(str::to_string);
            }
            let row = self.loaded_row(&loaded)?;
            let expected = loaded.case.version;
            match self
                .store
                .update_cases(
                    vec![CaseUpdate {
                        row,
                        expected_version: expected,
                    }],
                    events,
                )
                .await
            {
                Ok(()) => {
                    loaded.case.version = expected + 1;
                    metrics_transition(&effects);
                    self.webhooks.ring();
                    self.wake_if_pending(&loaded.case);
                    return Ok(loaded);
                }
                Err(StoreError::VersionConflict) if attempt < VERSION_RETRIES => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Like [`App::mutate`] for a transition that changes two cases at once
    /// (merge, link); both are saved in one transaction.
    pub async fn mutate_pair<F>(&self, a: Uuid, b: Uuid, actor: Actor, f: F) -> AppResult<Loaded>
    where
        F: Fn(&mut Case, &mut Case, &Ctx) -> AppResult<(Effects, Effects)>,
    {
        if a == b {
            return Err(AppError::Invalid(redress_domain::FieldErrors::single(
                "other",
                Reason::OtherCase,
            )));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut first = self.load(a).await?;
            let mut second = match self.load(b).await {
                Ok(l) => l,
                Err(AppError::NotFound) => {
                    return Err(AppError::invalid(
                        "other",
                        Reason::NoSuch {
                            what: "case".into(),
                        },
                    ));
                }
                Err(e) => return Err(e),
            };
            let calendar = self.calendar();
            let ctx = self.ctx(&calendar, actor.clone());
            let (ea, eb) = f(&mut first.case, &mut second.case, &ctx)?;
            self.deliver(&mut first.case, &ea, ctx.now, None, None);
            self.deliver(&mut second.case, &eb, ctx.now, None, None);
            let mut events = self.journal(
                Some(a),
                stored::CaseKeyRef::of(&first).as_ref(),
                &actor,
                ctx.now,
                &ea,
            );
            events.extend(self.journal(
                Some(b),
                stored::CaseKeyRef::of(&second).as_ref(),
                &actor,
                ctx.now,
                &eb,
            ));
            let mut updates = Vec::new();
            for (l, e) in [(&first, &ea), (&second, &eb)] {
                if !e.events.is_empty() {
                    updates.push(CaseUpdate {
                        row: self.loaded_row(l)?,
                        expected_version: l.case.version,
                    });
                }
            }
            if updates.is_empty() {
                return Ok(first);
            }
            match self.store.update_cases(updates, events).await {
                Ok(()) => {
                    first.case.version += 1;
                    self.webhooks.ring();
                    self.wake_if_pending(&first.case);
                    self.wake_if_pending(&second.case);
                    return Ok(first);
                }
                Err(StoreError::VersionConflict) if attempt < VERSION_RETRIES => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Appends events that belong to no case transition (views of personal
    /// data, admin changes, logins).
    pub async fn log_event(
        &self,
        case_id: Option<Uuid>,
        actor: &Actor,
        kind: &str,
        data: serde_json::Value,
    ) -> AppResult<()> {
        let event = NewEvent {
            case_id,
            kind: kind.into(),
            actor: actor_string(actor),
            at: self.now(),
            data: data.to_string(),
        };
        Ok(self.store.append_events(vec![event]).await?)
    }

    pub fn admin_event(&self, actor: &Principal, kind: &str, data: serde_json::Value) -> NewEvent {
        NewEvent {
            case_id: None,
            kind: kind.into(),
            actor: format!("staff:{}", actor.actor_id()),
            at: self.now(),
            data: data.to_string(),
        }
    }
}

/// Who a notice to `party` goes to, as shown to staff (masked contact,
/// respondent key, the responsible person or pool).
fn party_recipient(case: &Case, party: Party) -> String {
    match party {
        Party::Complainant => {
            let c = &case.record.complainant;
            c.email
                .as_deref()
                .map(redress_domain::mask_email)
                .or_else(|| c.phone.as_deref().map(redress_domain::mask_phone))
                .unwrap_or_else(|| {
                    format!(
                        "user:{}",
                        c.user_id
                            .as_deref()
                            .map(views::mask_name)
                            .unwrap_or_default()
                    )
                })
        }
        Party::Respondent => case
            .record
            .respondent
            .as_ref()
            .map(|r| r.key())
            .unwrap_or_default(),
        Party::Staff => case
            .assignee
            .clone()
            .or_else(|| case.department.clone().map(|d| format!("department:{d}")))
            .unwrap_or_else(|| "intake".into()),
    }
}

pub fn actor_string(actor: &Actor) -> String {
    let kind = match actor.kind {
        ActorKind::Staff => "staff",
        ActorKind::Complainant => "complainant",
        ActorKind::Respondent => "respondent",
        ActorKind::Integration => "integration",
        ActorKind::System => "system",
    };
    format!("{kind}:{}", actor.id)
}

fn metrics_transition(effects: &Effects) {
    for e in &effects.events {
        tracing::info!(event = e.kind(), "case event");
        metrics::counter!("redress_case_events_total", "kind" => e.kind()).increment(1);
    }
}

/// Domain refusals become application errors.
pub fn refuse<T>(r: Result<T, Refusal>) -> AppResult<T> {
    r.map_err(AppError::from)
}
