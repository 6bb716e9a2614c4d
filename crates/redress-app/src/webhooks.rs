//! Webhooks: the platform subscribes URLs to case events and receives each
//! one as a signed HTTP POST (SPEC §7), so that it can act on them — a
//! sanction in a decision above all.
//!
//! **The journal is the source.** Every case event is already a journal
//! entry, in one order. A subscription keeps a cursor into the journal; a
//! pass of the dispatcher claims the subscriptions that have work (a lease
//! on the row, so that instances sharing a database never deliver one
//! subscription twice at once), reads the journal after each one's cursor,
//! and turns every event it wants into a *call*: the exact JSON body,
//! stored with the cursor's move in one transaction, then sent. Calls of a
//! subscription go out one at a time in journal order; a call that fails
//! is retried with back-off (10 s, doubling, at most an hour apart) and
//! holds back the later ones, until it is answered with a 2xx or a day has
//! passed since its first attempt (then it is `failed` and the subscription
//! goes on). Every attempt is logged with its status code; a call can be
//! replayed by hand. Delivery is at least once: a receiver dedupes with
//! `Redress-Delivery`, the call's id, the same on every attempt.
//!
//! **Signature.** `Redress-Signature: t=<unix seconds>,v1=<hex>` where the
//! hex is HMAC-SHA256 keyed with the subscription's secret over
//! `"<t>.<body>"` (see docs/webhooks.md). The secret is shown once, when the
//! subscription is made, and stored sealed with the data key.

use redress_domain::Reason;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::stream::{self, StreamExt};
use hmac::{Hmac, Mac};
use redress_domain::events::{CASE_EVENTS, is_case_event};
use redress_domain::{Role, Scope};
use redress_store::{
    AttemptEffect, JournalEntry, NewEvent, StoreError, WebhookAttempt, WebhookCall,
    WebhookCallState, WebhookSubscription,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::access::Principal;
use crate::cases::paging;
use crate::edges::WebhookTransport;
use crate::error::{AppError, AppResult};
use crate::input::Body;
use crate::privacy::new_token;
use crate::{App, Vault};

/// The first wait after a failed attempt; each further failure doubles it.
pub const FIRST_RETRY: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);
/// How long a call is tried, from its first attempt, before it is `failed`.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Time to open a connection to a receiver.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a whole call: connection, request and the answer's head.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Subscriptions one pass of one instance claims at most.
const CLAIM_BATCH: usize = 100;
/// Subscriptions delivered at once within a pass.
const CONCURRENCY: usize = 8;
/// Journal entries read at a time.
const JOURNAL_BATCH: usize = 500;
/// The longest URL accepted.
const MAX_URL: usize = 2048;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Redress-Signature";
/// The header carrying the call's id, the same on every attempt.
pub const DELIVERY_HEADER: &str = "Redress-Delivery";
/// The header carrying the event kind.
pub const EVENT_HEADER: &str = "Redress-Event";

type HmacSha256 = Hmac<Sha256>;

/// The dispatcher's state in one instance: the transport calls go by
/// (`redress-channels`' HTTP client), the lock that keeps this instance's
/// passes one at a time, and a bell rung when events were appended here.
pub struct Webhooks {
    transport: std::sync::Arc<dyn WebhookTransport>,
    /// Calls may go to addresses that are not public (`egress`).
    allow_private: bool,
    pass: tokio::sync::Mutex<()>,
    bell: tokio::sync::Notify,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Webhooks(..)")
    }
}

impl Webhooks {
    /// The dispatcher, sending through `transport`; unless
    /// `allow_private`, a URL naming an address that is not public is
    /// refused before the transport sees it ([`crate::egress`]).
    pub fn new(transport: std::sync::Arc<dyn WebhookTransport>, allow_private: bool) -> Self {
        Self {
            transport,
            allow_private,
            pass: tokio::sync::Mutex::new(()),
            bell: tokio::sync::Notify::new(),
        }
    }

    /// Tells this instance's dispatcher that events were appended.
    pub fn ring(&self) {
        self.bell.notify_one();
    }

    /// Waits until [`Webhooks::ring`] is called (or was, since the last wait).
    pub async fn rung(&self) {
        self.bell.notified().await;
    }

    /// One POST of a call's payload; the status answered, or why none came.
    async fn send(
        &self,
        url: &str,
        secret: &str,
        call: &WebhookCall,
    ) -> (Option<i32>, Option<String>) {
        // The wall clock, not the test clock: receivers compare it with
        // their own to refuse old (replayed) requests.
        let t = Utc::now().timestamp();
        // A URL naming an IP address is connected to without resolving:
        // the resolver's check does not see it.
        if !self.allow_private
            && let Some(refused) = crate::egress::refused_literal(url)
        {
            return (None, Some(refused.to_string()));
        }
        let headers = [
            ("content-type", "application/json".to_string()),
            (EVENT_HEADER, call.event_kind.as_str().to_string()),
            (DELIVERY_HEADER, call.id.to_string()),
            (
                SIGNATURE_HEADER,
                signature(secret, t, call.payload.as_bytes()),
            ),
        ];
        match self
            .transport
            .post(url, &headers, call.payload.clone())
            .await
        {
            // The body is not read: the status is the answer.
            Ok(status) => (Some(i32::from(status)), None),
            Err(why) => (None, Some(why)),
        }
    }
}

/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &str, t: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a `Redress-Signature` header as a receiver should: a `v1` that
/// matches (in constant time) and a `t` within `tolerance` of `now`.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if now.abs_diff(t) > tolerance.as_secs() {
        return false;
    }
    let expected = mac(secret, t, body);
    sigs.iter()
        .any(|s| crate::privacy::constant_time_eq(s, &expected))
}

/// The wait after the `failures`-th failed attempt in a row.
pub fn backoff(failures: i32) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY)
}

/// What a failed attempt at `at` of a pending call first tried at `first`
/// does: another attempt after the back-off (the last one exactly a day
/// after the first), or, a day on, giving up.
pub fn after_failure(first: DateTime<Utc>, at: DateTime<Utc>, failures: i32) -> AttemptEffect {
    let give_up_at = first + delta(GIVE_UP_AFTER);
    if at >= give_up_at {
        AttemptEffect::GiveUp
    } else {
        AttemptEffect::RetryAt((at + delta(backoff(failures))).min(give_up_at))
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Whether a subscription to `events` wants this journal entry: a case
/// event of a kind it names (`*`: every case event kind).
pub fn wants(events: &[String], e: &JournalEntry) -> bool {
    e.case_id.is_some() && is_case_event(&e.kind) && events.iter().any(|k| k == "*" || *k == e.kind)
}

/// The body of a call: the event as the journal holds it, with the case's
/// tracking number. Nothing about the complainant beyond the event's data
/// (which never holds contact data), opened with the case's key.
pub fn payload(
    call_id: Uuid,
    e: &JournalEntry,
    tracking_no: Option<&str>,
    key: Option<&crate::privacy::CaseKey>,
) -> String {
    let data = crate::stored::open_event(key, &e.kind, &e.data);
    let data: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
    json!({
        "id": call_id,
        "event": e.kind,
        "seq": e.seq,
        "occurred_at": e.at,
        "case_id": e.case_id,
        "tracking_no": tracking_no,
        "actor": e.actor,
        "data": data,
    })
    .to_string()
}

/// A URL as logs and the journal show it: without its query, where a
/// receiver's token may sit.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(not a URL)".into(),
    }
}

/// Checks a subscription URL: http or https, a host, no user name or
/// password (they would show in logs), no fragment.
pub fn check_url(raw: &str) -> Result<String, Reason> {
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return Err(Reason::MayHaveAtMost { n: 2048 });
    }
    let url = url::Url::parse(raw).map_err(|_| Reason::HttpUrl)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Reason::HttpUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Reason::UrlUserinfo);
    }
    if url.fragment().is_some() {
        return Err(Reason::UrlFragment);
    }
    Ok(url.to_string())
}

/// Reads `events`: at least one, each a case event kind or `*`. Reported
/// by position (`events[2]`).
pub(crate) fn read_events(b: &mut Body<'_>, required: bool) -> Option<Vec<String>> {
    if !required && b.raw("events").is_none() {
        return None;
    }
    let raw = b.str_list("events", true);
    let mut out: Vec<String> = Vec::new();
    for (i, kind) in raw.iter().enumerate() {
        let kind = kind.trim();
        if kind != "*" && !is_case_event(kind) {
            b.errors.add(format!("events[{i}]"), Reason::WebhookKind);
        } else if !out.iter().any(|k| k == kind) {
            out.push(kind.to_string());
        }
    }
    if raw.is_empty() && !b.errors.0.contains_key("events") {
        b.errors.add("events", Reason::WebhookEvents);
    }
    Some(out)
}

/// What one pass of the dispatcher did.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryReport {
    /// Subscriptions worked on.
    pub subscriptions: u64,
    /// Requests made.
    pub attempts: u64,
    pub delivered: u64,
    /// Failed attempts that will be tried again.
    pub retrying: u64,
    /// Calls given up.
    pub failed: u64,
}

impl DeliveryReport {
    fn count(&mut self, call: &WebhookCall) {
        self.attempts += 1;
        match call.state {
            WebhookCallState::Delivered => self.delivered += 1,
            WebhookCallState::Pending => self.retrying += 1,
            WebhookCallState::Failed => self.failed += 1,
        }
    }

    fn add(&mut self, other: DeliveryReport) {
        self.subscriptions += other.subscriptions;
        self.attempts += other.attempts;
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }
}

// The fields of these answers are declared in alphabetical order: the
// order of the JSON objects they replace, whose keys serde_json sorts.

/// Where a webhook call stands.
// The contract strings of [`WebhookCallState`], for the API document.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStateName {
    Pending,
    Delivered,
    Failed,
}

/// The call of a subscription that waits for a retry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingCall {
    /// Attempts made so far.
    pub attempts: i32,
    pub call_id: Uuid,
    /// The event's kind.
    pub event: String,
    /// The event's place in the journal.
    pub event_seq: i64,
    pub last_error: Option<String>,
    /// The last answer's HTTP status; null when there was none.
    pub last_status: Option<i32>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl PendingCall {
    fn of(c: &WebhookCall) -> Self {
        Self {
            attempts: c.attempts,
            call_id: c.id,
            event: c.event_kind.clone(),
            event_seq: c.event_seq,
            last_error: c.last_error.clone(),
            last_status: c.last_status,
            next_attempt_at: c.next_attempt_at,
        }
    }
}

/// A subscription as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    /// false: no calls are made; made active again, it catches up.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Who subscribed it (`staff:<username>` or `integration:<key name>`).
    pub created_by: String,
    /// The journal sequence number of the last event handled.
    pub cursor: i64,
    /// Case event kinds, or `*` for all.
    pub events: Vec<String>,
    pub id: Uuid,
    /// The call waiting for a retry, if any.
    pub pending: Option<PendingCall>,
    pub updated_at: DateTime<Utc>,
    pub url: String,
}

impl WebhookView {
    fn of(s: &WebhookSubscription, pending: Option<&WebhookCall>) -> Self {
        Self {
            active: s.active,
            created_at: s.created_at,
            created_by: s.created_by.clone(),
            cursor: s.cursor,
            events: s.events.clone(),
            id: s.id,
            pending: pending.map(PendingCall::of),
            updated_at: s.updated_at,
            url: s.url.clone(),
        }
    }
}

/// A new subscription (`POST /webhooks`): its fields, and the signing
/// secret, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub cursor: i64,
    pub events: Vec<String>,
    pub id: Uuid,
    /// Always null: nothing was called yet.
    pub pending: Option<PendingCall>,
    /// HMAC-SHA256 key of `Redress-Signature`; shown only in this answer.
    pub secret: String,
    pub updated_at: DateTime<Utc>,
    pub url: String,
}

/// `GET /webhooks`: every subscription.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// `GET /webhooks/events`: the case event kinds one may subscribe to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookEventKinds {
    pub events: Vec<String>,
}

/// One attempt of a call.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookAttemptView {
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    /// Why there was no answer (refused, timed out, …).
    pub error: Option<String>,
    /// 1 for the first attempt.
    pub n: i32,
    /// Sent by a replay rather than by the dispatcher.
    pub replay: bool,
    /// The answer's HTTP status; null when there was none.
    pub status: Option<i32>,
}

/// A call with its attempts, as the log shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookCallView {
    pub attempt_count: i32,
    pub attempts: Vec<WebhookAttemptView>,
    pub case_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// The event's kind.
    pub event: String,
    pub event_seq: i64,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The body sent (docs/webhooks.md).
    pub payload: Value,
    #[schema(value_type = CallStateName)]
    pub state: WebhookCallState,
    pub subscription_id: Uuid,
}

impl WebhookCallView {
    fn of(c: &WebhookCall, attempts: &[&WebhookAttempt]) -> Self {
        Self {
            attempt_count: c.attempts,
            attempts: attempts
                .iter()
                .map(|a| WebhookAttemptView {
                    at: a.at,
                    duration_ms: a.duration_ms,
                    error: a.error.clone(),
                    n: a.n,
                    replay: a.replay,
                    status: a.status,
                })
                .collect(),
            case_id: c.case_id,
            created_at: c.created_at,
            event: c.event_kind.clone(),
            event_seq: c.event_seq,
            first_attempt_at: c.first_attempt_at,
            id: c.id,
            last_attempt_at: c.last_attempt_at,
            last_error: c.last_error.clone(),
            last_status: c.last_status,
            next_attempt_at: c.next_attempt_at,
            payload: serde_json::from_str::<Value>(&c.payload).unwrap_or(Value::Null),
            state: c.state,
            subscription_id: c.subscription_id,
        }
    }
}

/// `GET /webhooks/{id}/calls`: the log, newest event first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookCallList {
    pub items: Vec<WebhookCallView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// The cursor a list answers for its last item's `seq`, in the encoding
/// of every list (the one [`paging`] reads).
fn next_cursor(next: Option<i64>) -> Option<String> {
    next.map(crate::cases::encode_cursor)
}

fn parse_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

fn open_secret(vault: &Vault, s: &WebhookSubscription) -> AppResult<String> {
    vault.open_for(&secret_aad(s.id), &s.secret).ok_or_else(|| {
        AppError::Internal(format!(
            "the secret of webhook {} does not open with this data key",
            s.id
        ))
    })
}

impl App {
    /// Who may manage webhooks: supervisors, and integrations whose key
    /// has the `webhooks` scope (which only supervisors create). Webhooks
    /// carry case content, so an admin alone may not (SPEC §2). Answers
    /// the journal's name for them.
    fn webhook_manager(&self, who: &Principal) -> AppResult<String> {
        match who {
            Principal::Staff(s) => {
                s.require(Role::Supervisor)?;
                Ok(format!("staff:{}", s.user.username))
            }
            Principal::Integration(k) if who.has_scope(Scope::Webhooks) => {
                Ok(format!("integration:{}", k.name))
            }
            Principal::Anonymous => Err(AppError::Unauthorized),
            _ => Err(AppError::Forbidden(
                "this needs a supervisor or an API key with the webhooks scope".into(),
            )),
        }
    }

    /// Where a subscription may send (SPEC §9): unless
    /// `webhook_allow_private`, a URL whose host does not resolve, or
    /// resolves to an address that is not public, is refused.
    async fn check_webhook_target(&self, url: &str) -> Result<(), Reason> {
        if self.config.webhook_allow_private {
            return Ok(());
        }
        crate::egress::check_target(self.resolver.as_ref(), url).await
    }

    /// `GET /webhooks/events`: the event kinds one may subscribe to.
    pub fn webhook_event_kinds(&self, who: &Principal) -> AppResult<WebhookEventKinds> {
        self.webhook_manager(who)?;
        Ok(WebhookEventKinds {
            events: CASE_EVENTS.iter().map(|k| k.to_string()).collect(),
        })
    }

    /// `POST /webhooks {url, events[]}`: a new subscription, owed the case
    /// events appended from now on. The answer holds the signing secret,
    /// shown this once.
    pub async fn create_webhook(
        &self,
        who: &Principal,
        cmd: crate::commands::Parsed<crate::commands::CreateWebhookCommand>,
    ) -> AppResult<CreatedWebhook> {
        let actor = self.webhook_manager(who)?;
        // The URL's address is checked with the body's fields, in one
        // answer.
        let (crate::commands::CreateWebhookCommand { url, events }, mut errors) = cmd.split();
        if let Some(u) = &url
            && let Err(m) = self.check_webhook_target(u).await
        {
            errors.add("url", m);
        }
        crate::commands::refuse_any(errors)?;
        let url = url.expect("checked");
        let secret = new_token("rdw_");
        let now = self.now();
        let id = Uuid::now_v7();
        let s = WebhookSubscription {
            id,
            url,
            events,
            secret: self.vault.seal_for(&secret_aad(id), &secret),
            active: true,
            cursor: 0,
            created_by: actor.clone(),
            created_at: now,
            updated_at: now,
        };
        let event = NewEvent {
            case_id: None,
            kind: "webhook_subscribed".into(),
            actor,
            at: now,
            data: json!({"id": s.id, "url": shown_url(&s.url), "events": s.events}).to_string(),
        };
        let stored = self.store.insert_webhook_subscription(s, event).await?;
        tracing::info!(webhook = %stored.id, url = %shown_url(&stored.url), "webhook subscribed");
        Ok(CreatedWebhook {
            active: stored.active,
            created_at: stored.created_at,
            created_by: stored.created_by,
            cursor: stored.cursor,
            events: stored.events,
            id: stored.id,
            pending: None,
            secret,
            updated_at: stored.updated_at,
            url: stored.url,
        })
    }

    /// `GET /webhooks`: every subscription, each with its call waiting
    /// for a retry, if any.
    pub async fn list_webhooks(&self, who: &Principal) -> AppResult<WebhookList> {
        self.webhook_manager(who)?;
        let subs = self.store.list_webhook_subscriptions().await?;
        let mut items = Vec::with_capacity(subs.len());
        for s in &subs {
            let pending = self.store.pending_webhook_call(s.id).await?;
            items.push(WebhookView::of(s, pending.as_ref()));
        }
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        Ok(WebhookList {
            items,
            next_cursor: None,
            total,
        })
    }

    pub async fn get_webhook(&self, who: &Principal, id: &str) -> AppResult<WebhookView> {
        self.webhook_manager(who)?;
        let s = self
            .store
            .get_webhook_subscription(parse_id(id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        let pending = self.store.pending_webhook_call(s.id).await?;
        Ok(WebhookView::of(&s, pending.as_ref()))
    }

    /// `PATCH /webhooks/{id} {url?, events?, active?}`. A subscription made
    /// active again catches up from where it stopped.
    pub async fn update_webhook(
        &self,
        who: &Principal,
        id: &str,
        cmd: crate::commands::Parsed<crate::commands::UpdateWebhookCommand>,
    ) -> AppResult<WebhookView> {
        let actor = self.webhook_manager(who)?;
        cmd.object()?;
        let mut s = self
            .store
            .get_webhook_subscription(parse_id(id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        // The body's refusals are answered once the subscription is found
        // (a missing one is a 404 whatever the body says), with a new URL's
        // address check, in one answer.
        let (cmd, mut errors) = cmd.split();
        if let Some(u) = cmd.url {
            match self.check_webhook_target(&u).await {
                Ok(()) => s.url = u,
                Err(m) => errors.add("url", m),
            }
        }
        if let Some(events) = cmd.events {
            s.events = events;
        }
        if let Some(active) = cmd.active {
            s.active = active;
        }
        crate::commands::refuse_any(errors)?;
        self.save_webhook(s, actor).await
    }

    /// `DELETE /webhooks/{id}`: deactivates the subscription (its log stays).
    pub async fn deactivate_webhook(&self, who: &Principal, id: &str) -> AppResult<WebhookView> {
        let cmd = crate::commands::UpdateWebhookCommand {
            active: Some(false),
            ..Default::default()
        };
        self.update_webhook(who, id, crate::commands::Parsed::ok(cmd))
            .await
    }

    async fn save_webhook(
        &self,
        mut s: WebhookSubscription,
        actor: String,
    ) -> AppResult<WebhookView> {
        s.updated_at = self.now();
        let event = NewEvent {
            case_id: None,
            kind: "webhook_changed".into(),
            actor,
            at: s.updated_at,
            data: json!({"id": s.id, "url": shown_url(&s.url), "events": s.events,
                         "active": s.active})
            .to_string(),
        };
        self.store
            .update_webhook_subscription(s.clone(), event)
            .await
            .map_err(|e| match e {
                StoreError::Missing(_) => AppError::NotFound,
                e => e.into(),
            })?;
        self.webhooks.ring();
        let pending = self.store.pending_webhook_call(s.id).await?;
        Ok(WebhookView::of(&s, pending.as_ref()))
    }

    /// `GET /webhooks/{id}/calls?state=&limit=&cursor=`: the log, newest
    /// event first, each call with its attempts and status codes.
    pub async fn webhook_calls(
        &self,
        who: &Principal,
        id: &str,
        state: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> AppResult<WebhookCallList> {
        self.webhook_manager(who)?;
        let (limit, after) = paging(limit, cursor)?;
        let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                s.parse::<WebhookCallState>()
                    .map_err(|m| AppError::invalid("state", m))?,
            ),
        };
        let s = self
            .store
            .get_webhook_subscription(parse_id(id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        let page = self
            .store
            .list_webhook_calls(s.id, state, limit, after)
            .await?;
        let attempts = self
            .store
            .webhook_attempts(page.items.iter().map(|c| c.id).collect())
            .await?;
        let items = page
            .items
            .iter()
            .map(|c| {
                let mine: Vec<&WebhookAttempt> =
                    attempts.iter().filter(|a| a.call_id == c.id).collect();
                WebhookCallView::of(c, &mine)
            })
            .collect();
        Ok(WebhookCallList {
            items,
            next_cursor: next_cursor(page.next),
            total: page.total,
        })
    }

    /// `POST /webhooks/calls/{call_id}/replay`: sends the call's stored
    /// payload again now (same `Redress-Delivery`, a fresh signature) and
    /// logs the attempt. A 2xx makes the call `delivered`; a failure
    /// leaves it as it was. With `within`, a call of another subscription
    /// is not found.
    pub async fn replay_webhook_call(
        &self,
        who: &Principal,
        call_id: &str,
        within: Option<&str>,
    ) -> AppResult<WebhookCallView> {
        let actor = self.webhook_manager(who)?;
        let call = self
            .store
            .get_webhook_call(parse_id(call_id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(sub) = within
            && parse_id(sub)? != call.subscription_id
        {
            return Err(AppError::NotFound);
        }
        let s = self
            .store
            .get_webhook_subscription(call.subscription_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let secret = open_secret(&self.vault, &s)?;
        self.store
            .append_events(vec![NewEvent {
                case_id: None,
                kind: "webhook_replayed".into(),
                actor,
                at: self.now(),
                data: json!({"call_id": call.id, "subscription_id": s.id,
                             "event_seq": call.event_seq})
                .to_string(),
            }])
            .await?;
        let after = self.attempt(&s, &secret, &call, true).await?;
        let attempts = self.store.webhook_attempts(vec![after.id]).await?;
        Ok(WebhookCallView::of(
            &after,
            &attempts.iter().collect::<Vec<_>>(),
        ))
    }

    /// One pass of the dispatcher: claims the subscriptions with work,
    /// sends what is due (a pending call whose time has come, then the
    /// events after the cursor, in journal order) and releases them. Runs
    /// every second in `redress serve`, and before the test clock's
    /// advance answers.
    pub async fn deliver_webhooks(&self) -> AppResult<DeliveryReport> {
        let _pass = self.webhooks.pass.lock().await;
        // A read first: an installation without active subscriptions
        // writes nothing.
        let subs = self.store.list_webhook_subscriptions().await?;
        if !subs.iter().any(|s| s.active) {
            return Ok(DeliveryReport::default());
        }
        let lease = self.config.job_lease;
        let claimed = self
            .store
            .claim_webhook_subscriptions(self.now(), lease, CLAIM_BATCH)
            .await?;
        let started = Instant::now();
        // Stop starting calls at half the lease: a call may take
        // CALL_TIMEOUT more, and the claim must outlast the pass.
        let budget = (lease / 2).max(Duration::from_secs(1));
        let outcomes: Vec<(Uuid, AppResult<DeliveryReport>)> = stream::iter(claimed)
            .map(|s| async move {
                let id = s.id;
                let outcome = self.run_subscription(s, started, budget).await;
                if let Err(e) = self.store.release_webhook_subscription(id).await {
                    tracing::error!(webhook = %id, error = %e, "releasing a webhook claim failed");
                }
                (id, outcome)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut report = DeliveryReport::default();
        for (id, outcome) in outcomes {
            report.subscriptions += 1;
            match outcome {
                Ok(r) => report.add(r),
                // One broken subscription must not stop the others.
                Err(e) => {
                    tracing::error!(webhook = %id, error = %e, "webhook delivery stopped");
                    metrics::counter!("redress_webhook_errors_total").increment(1);
                }
            }
        }
        Ok(report)
    }

    /// Delivers one claimed subscription's due work.
    async fn run_subscription(
        &self,
        s: WebhookSubscription,
        started: Instant,
        budget: Duration,
    ) -> AppResult<DeliveryReport> {
        let mut report = DeliveryReport::default();
        // Claimed at the start of the pass, this subscription waited for
        // others: past the budget its lease may run out under a call, so
        // it is left for the next pass.
        if started.elapsed() >= budget {
            return Ok(report);
        }
        let secret = open_secret(&self.vault, &s)?;
        // The call at the head of the line first: while it is pending,
        // nothing after it is sent.
        if let Some(call) = self.store.pending_webhook_call(s.id).await? {
            if call.next_attempt_at.is_some_and(|t| t > self.now()) {
                return Ok(report);
            }
            let after = self.attempt(&s, &secret, &call, false).await?;
            report.count(&after);
            if after.state == WebhookCallState::Pending {
                return Ok(report);
            }
        }
        let mut cursor = s.cursor;
        // Each case's tracking number and key, read once a round.
        let mut cases: HashMap<Uuid, Option<(String, Option<crate::privacy::CaseKey>)>> =
            HashMap::new();
        while started.elapsed() < budget {
            let batch = self.store.journal_after(cursor, JOURNAL_BATCH).await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            for e in batch.iter().filter(|e| wants(&s.events, e)) {
                let case_id = e.case_id.expect("wanted events have a case");
                if let std::collections::hash_map::Entry::Vacant(slot) = cases.entry(case_id) {
                    let row = self.store.get_case(case_id).await?;
                    slot.insert(row.map(|r| {
                        let key = crate::stored::row_key(&r, &self.vault);
                        (r.tracking_no, key)
                    }));
                }
                let (tracking_no, key) = match &cases[&case_id] {
                    Some((no, key)) => (Some(no.as_str()), key.as_ref()),
                    None => (None, None),
                };
                let id = Uuid::now_v7();
                let now = self.now();
                let call = WebhookCall {
                    id,
                    subscription_id: s.id,
                    event_seq: e.seq,
                    case_id: Some(case_id),
                    event_kind: e.kind.clone(),
                    state: WebhookCallState::Pending,
                    attempts: 0,
                    last_status: None,
                    last_error: None,
                    created_at: now,
                    first_attempt_at: None,
                    last_attempt_at: None,
                    next_attempt_at: Some(now),
                    payload: payload(id, e, tracking_no, key),
                };
                match self.store.insert_webhook_call(call.clone()).await {
                    Ok(()) => {}
                    // Another instance got here first (its claim ran out
                    // under it): it owns the rest of this round.
                    Err(StoreError::Duplicate(_)) => return Ok(report),
                    Err(e) => return Err(e.into()),
                }
                cursor = e.seq;
                let after = self.attempt(&s, &secret, &call, false).await?;
                report.count(&after);
                if after.state == WebhookCallState::Pending || started.elapsed() >= budget {
                    return Ok(report);
                }
            }
            if last > cursor {
                self.store.advance_webhook_cursor(s.id, last).await?;
                cursor = last;
            }
        }
        Ok(report)
    }

    /// Sends a call once and records the attempt; the call as it now is.
    async fn attempt(
        &self,
        s: &WebhookSubscription,
        secret: &str,
        call: &WebhookCall,
        replay: bool,
    ) -> AppResult<WebhookCall> {
        let at = self.now();
        let clock = Instant::now();
        let (status, error) = self.webhooks.send(&s.url, secret, call).await;
        let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        let delivered = status.is_some_and(|c| (200..300).contains(&c));
        let effect = if delivered {
            AttemptEffect::Delivered
        } else if replay {
            AttemptEffect::Keep
        } else {
            after_failure(call.first_attempt_at.unwrap_or(at), at, call.attempts + 1)
        };
        let attempt = WebhookAttempt {
            call_id: call.id,
            n: call.attempts + 1,
            at,
            status,
            error: error.clone(),
            duration_ms,
            replay,
        };
        let after = self.store.record_webhook_attempt(attempt, effect).await?;
        let outcome = match (delivered, after.state) {
            (true, _) => "delivered",
            (false, WebhookCallState::Failed) if !replay => "given_up",
            _ => "failed",
        };
        metrics::counter!("redress_webhook_attempts_total", "outcome" => outcome).increment(1);
        if delivered {
            tracing::debug!(webhook = %s.id, call = %call.id, event = %call.event_kind, status, "webhook delivered");
        } else {
            tracing::warn!(
                webhook = %s.id, call = %call.id, event = %call.event_kind,
                url = %shown_url(&s.url), status, error = error.as_deref().unwrap_or(""),
                attempt = after.attempts, state = %after.state, replay,
                "webhook call failed"
            );
        }
        Ok(after)
    }
}

/// Where a subscription's sealed secret belongs.
pub(crate) fn secret_aad(id: Uuid) -> String {
    format!("webhook:{id}:secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + s, 0).unwrap()
    }

    #[test]
    fn back_off_doubles_from_ten_seconds_to_an_hour() {
        let waits: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(1000), MAX_RETRY);
        assert_eq!(backoff(0), FIRST_RETRY);
    }

    #[test]
    fn a_call_is_tried_for_a_day_then_given_up() {
        let first = at(0);
        assert_eq!(
            after_failure(first, at(0), 1),
            AttemptEffect::RetryAt(at(10))
        );
        assert_eq!(
            after_failure(first, at(30), 3),
            AttemptEffect::RetryAt(at(70))
        );
        // The last attempt falls exactly a day after the first.
        let day = 86_400;
        assert_eq!(
            after_failure(first, at(day - 600), 30),
            AttemptEffect::RetryAt(at(day))
        );
        assert_eq!(after_failure(first, at(day), 31), AttemptEffect::GiveUp);
        assert_eq!(after_failure(first, at(day + 5), 2), AttemptEffect::GiveUp);
    }

    #[test]
    fn signatures_verify_with_the_secret_within_the_tolerance() {
        let body = br#"{"event":"decided"}"#;
        let header = signature("rdw_secret", 1_750_000_000, body);
        assert!(header.starts_with("t=1750000000,v1="));
        let five = Duration::from_secs(300);
        assert!(verify_signature(
            "rdw_secret",
            &header,
            body,
            1_750_000_100,
            five
        ));
        assert!(!verify_signature(
            "rdw_other",
            &header,
            body,
            1_750_000_100,
            five
        ));
        assert!(!verify_signature(
            "rdw_secret",
            &header,
            b"{}",
            1_750_000_100,
            five
        ));
        assert!(!verify_signature(
            "rdw_secret",
            &header,
            body,
            1_750_000_400,
            five
        ));
        assert!(!verify_signature(
            "rdw_secret",
            "v1=00",
            body,
            1_750_000_000,
            five
        ));
        // The documented recipe: HMAC-SHA256 over "<t>.<body>".
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"rdw_secret").unwrap();
        mac.update(b"1750000000.{\"event\":\"decided\"}");
        let hex = hex::encode(mac.finalize().into_bytes());
        assert_eq!(header, format!("t=1750000000,v1={hex}"));
    }

    #[test]
    fn urls_are_http_or_https_without_credentials() {
        assert_eq!(
            check_url(" https://hooks.example.com/redress?x=1 ").unwrap(),
            "https://hooks.example.com/redress?x=1"
        );
        assert!(check_url("http://10.0.0.5:8080/in").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "not a url",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            shown_url("https://hooks.example.com/in?token=secret"),
            "https://hooks.example.com/in"
        );
    }

    #[test]
    fn subscriptions_want_case_events_of_their_kinds() {
        let e = |kind: &str, case: bool| JournalEntry {
            seq: 1,
            case_id: case.then(Uuid::now_v7),
            kind: kind.into(),
            actor: "staff:a".into(),
            at: at(0),
            data: "{}".into(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let some = vec!["decided".to_string(), "sanction_ordered".to_string()];
        let all = vec!["*".to_string()];
        assert!(wants(&some, &e("decided", true)));
        assert!(!wants(&some, &e("accepted", true)));
        assert!(wants(&all, &e("accepted", true)));
        // Not a case event, or not one offered: never.
        assert!(!wants(&all, &e("user_created", false)));
        assert!(!wants(&all, &e("personal_data_viewed", true)));
    }

    /// A call as a transport was given it: URL, headers, body.
    type Sent = (String, Vec<(&'static str, String)>, String);

    /// A transport that records what it was asked to send.
    #[derive(Default)]
    struct Recorder {
        sent: std::sync::Mutex<Vec<Sent>>,
    }

    #[async_trait::async_trait]
    impl WebhookTransport for Recorder {
        async fn post(
            &self,
            url: &str,
            headers: &[(&'static str, String)],
            body: String,
        ) -> Result<u16, String> {
            self.sent
                .lock()
                .unwrap()
                .push((url.to_string(), headers.to_vec(), body));
            Ok(204)
        }
    }

    fn call() -> WebhookCall {
        WebhookCall {
            id: Uuid::now_v7(),
            subscription_id: Uuid::now_v7(),
            event_seq: 7,
            case_id: Some(Uuid::now_v7()),
            event_kind: "decided".into(),
            state: WebhookCallState::Pending,
            attempts: 0,
            last_status: None,
            last_error: None,
            created_at: at(0),
            first_attempt_at: None,
            last_attempt_at: None,
            next_attempt_at: Some(at(0)),
            payload: r#"{"event":"decided"}"#.into(),
        }
    }

    #[tokio::test]
    async fn a_call_is_signed_and_handed_to_the_transport() {
        let recorder = std::sync::Arc::new(Recorder::default());
        let hooks = Webhooks::new(recorder.clone(), false);
        let c = call();
        let answer = hooks
            .send("https://hooks.example.com/in", "s3cret-s3cret-s3cret", &c)
            .await;
        assert_eq!(answer, (Some(204), None));
        let sent = recorder.sent.lock().unwrap();
        let (url, headers, body) = &sent[0];
        assert_eq!(url, "https://hooks.example.com/in");
        assert_eq!(body, &c.payload);
        let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "content-type",
                EVENT_HEADER,
                DELIVERY_HEADER,
                SIGNATURE_HEADER
            ]
        );
        assert_eq!(headers[0].1, "application/json");
        assert_eq!(headers[1].1, "decided");
        assert_eq!(headers[2].1, c.id.to_string());
        assert!(verify_signature(
            "s3cret-s3cret-s3cret",
            &headers[3].1,
            body.as_bytes(),
            Utc::now().timestamp(),
            Duration::from_secs(60),
        ));
    }

    #[tokio::test]
    async fn a_literal_private_address_never_reaches_the_transport() {
        let recorder = std::sync::Arc::new(Recorder::default());
        let refusing = Webhooks::new(recorder.clone(), false);
        let answer = refusing.send("http://127.0.0.1:9/in", "s", &call()).await;
        assert_eq!(answer, (None, Some(crate::egress::REFUSED.to_string())));
        assert!(recorder.sent.lock().unwrap().is_empty());
        let allowing = Webhooks::new(recorder.clone(), true);
        let answer = allowing.send("http://127.0.0.1:9/in", "s", &call()).await;
        assert_eq!(answer, (Some(204), None));
        assert_eq!(recorder.sent.lock().unwrap().len(), 1);
    }
}
