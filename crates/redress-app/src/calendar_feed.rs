//! The calendar feed subscription (issue 19): an iCalendar URL the
//! installation fetches once a day, in the layout public holiday feeds
//! use ([`crate::calendar_admin::days_from_ics`]).
//!
//! One instance fetches it at a time: the daily fetch is a due job the
//! sweep claims (`claim_calendar_feed`, a lease; `FOR UPDATE SKIP LOCKED`
//! on PostgreSQL), so the test clock's advance runs it too. A fetch is a
//! conditional GET (`If-None-Match`, `If-Modified-Since`) within a size
//! and a time limit, to addresses the webhook rules allow (SPEC §9,
//! [`crate::egress`]) at every redirect hop. The GET itself goes through
//! [`crate::edges::FeedFetcher`] (`redress-channels`' HTTP client).
//!
//! Precedence: a manual day (set or imported by an admin) wins over the
//! feed, the feed over the built-in data; a day the feed no longer lists
//! is removed when the feed had set it. Each change is journaled
//! (`calendar_feed_applied`) and re-derives the open deadlines it moves.
//! A failed fetch alerts admins with an address once a day
//! (`calendar_feed_alert_sent`).

use redress_domain::Reason;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use redress_domain::calendar::{DayException, DayKind, DaySource};
use redress_store::{CalendarFeed, NewEvent};
use serde_json::{Value, json};

use crate::App;
use crate::access::Principal;
use crate::calendar_admin::{IcsImport, days_from_ics};
use crate::edges::{FeedFetcher, FeedRequest};
use crate::error::{AppError, AppResult};

/// The largest feed read, in bytes.
pub const MAX_FEED_BYTES: usize = 2 * 1024 * 1024;
/// The time one fetch may take, redirects and body included.
pub const FEED_TIMEOUT: Duration = Duration::from_secs(30);
/// Time to open a connection to the feed's server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;
/// The next fetch after one that worked, and after one that failed.
const FETCH_EVERY: chrono::Duration = chrono::Duration::hours(24);
const RETRY_AFTER: chrono::Duration = chrono::Duration::hours(1);

/// Why a hop of a fetch (the URL itself, or where a redirect leads) is
/// not fetched: a scheme other than http(s), or, unless private addresses
/// are allowed, an IP address that is not public. (A name is checked on
/// the address it resolves to, by the client's resolver.)
pub fn hop_refused(url: &url::Url, allow_private: bool) -> Option<&'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some("refused: a redirect to something other than http:// or https://");
    }
    if allow_private {
        return None;
    }
    crate::egress::refused_literal(url.as_str())
}

/// What one GET of the feed gave.
enum Fetched {
    NotModified,
    Body {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// One conditional GET of the feed through `fetcher`: what it gave, or
/// why it gave nothing usable.
async fn fetch(
    fetcher: &dyn FeedFetcher,
    feed: &CalendarFeed,
    allow_private: bool,
) -> Result<Fetched, Reason> {
    let url = url::Url::parse(&feed.url).map_err(|_| Reason::HttpUrl)?;
    if let Some(refused) = hop_refused(&url, allow_private) {
        return Err(Reason::Unreachable {
            detail: refused.to_string(),
        });
    }
    let answer = fetcher
        .get(FeedRequest {
            url: url.as_str(),
            etag: feed.etag.as_deref(),
            last_modified: feed.last_modified.as_deref(),
            max_bytes: MAX_FEED_BYTES,
        })
        .await?;
    if answer.status == 304 {
        return Ok(Fetched::NotModified);
    }
    if !(200..300).contains(&answer.status) {
        return Err(Reason::FeedStatus {
            status: answer.status,
        });
    }
    let text = String::from_utf8(answer.body).map_err(|_| Reason::Utf8)?;
    Ok(Fetched::Body {
        text,
        etag: answer.etag,
        last_modified: answer.last_modified,
    })
}

/// The URL of a subscription: http(s), at most 2000 characters.
pub(crate) fn parse_feed_url(raw: &str) -> Result<String, Reason> {
    let raw = raw.trim();
    if raw.chars().count() > 2000 {
        return Err(Reason::AtMost { n: 2000 });
    }
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(u.to_string())
        }
        _ => Err(Reason::HttpUrl),
    }
}

/// What the feed changes: days to write, days to remove, and counts.
struct Plan {
    set: Vec<DayException>,
    remove: Vec<NaiveDate>,
    added: Vec<NaiveDate>,
    changed: Vec<NaiveDate>,
    kept_manual: usize,
}

/// Compares the feed's days with the calendar as stored: a manual day is
/// kept; a built-in day the feed repeats (same kind) stays built-in; any other
/// day the feed says is written as the feed's; a day the feed had set and
/// no longer lists is removed.
fn plan(
    feed_days: Vec<DayException>,
    current: &HashMap<NaiveDate, DayException>,
    sources: &HashMap<NaiveDate, DaySource>,
) -> Plan {
    let listed: BTreeSet<NaiveDate> = feed_days.iter().map(|d| d.date).collect();
    let mut p = Plan {
        set: vec![],
        remove: vec![],
        added: vec![],
        changed: vec![],
        kept_manual: 0,
    };
    for day in feed_days {
        match (sources.get(&day.date), current.get(&day.date)) {
            (Some(DaySource::Manual), _) => p.kept_manual += 1,
            // A built-in day the feed repeats (the same kind, whatever
            // its name) stays built-in, so that the feed dropping it later
            // (a feed of recent years only) removes nothing the notices
            // said.
            (Some(DaySource::Builtin), Some(now)) if now.kind == day.kind => {}
            // The feed's own day, unchanged.
            (Some(_), Some(now)) if now.kind == day.kind && now.name == day.name => {}
            (Some(_), _) => {
                p.changed.push(day.date);
                p.set.push(day);
            }
            (None, _) => {
                p.added.push(day.date);
                p.set.push(day);
            }
        }
    }
    p.remove = sources
        .iter()
        .filter(|(date, source)| **source == DaySource::Feed && !listed.contains(date))
        .map(|(date, _)| *date)
        .collect();
    p.remove.sort();
    p
}

/// What a fetch of the feed did (`POST /admin/calendar/feed/fetch`, and
/// stored as the subscription's `outcome`): `changed` or `unchanged`
/// with what the feed said and what it changed, `not_modified`, or
/// `failed` with why. The fields a status does not have are absent.
// The fields are declared in alphabetical order: the order of the JSON
// objects this replaces, whose keys serde_json sorts, so that the stored
// text and the answer stay the same. Deserialised leniently
// ([`FeedOutcome::from_stored`]): a missing optional field is absent,
// unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FeedOutcome {
    /// The dates the feed added to the calendar (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<Vec<NaiveDate>>,
    /// When the fetch started.
    pub at: DateTime<Utc>,
    /// The dates already in the calendar whose day the feed changed
    /// (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<NaiveDate>>,
    /// Why it failed, in English (`failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The holidays the feed lists (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holidays: Option<usize>,
    /// The days the feed lists that a manual day overrides (`changed`,
    /// `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_manual: Option<usize>,
    /// Why it failed, as a message key and its arguments (`failed`;
    /// absent from outcomes stored before reasons were typed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FeedReason>,
    /// The open deadlines re-derived (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recomputed: Option<u64>,
    /// The dates the feed had set and no longer lists, removed
    /// (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Vec<NaiveDate>>,
    /// The events of the feed it skipped: cancelled, without a start, or
    /// timed (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<usize>,
    pub status: FeedStatus,
    /// The working days the feed lists (`changed`, `unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdays: Option<usize>,
}

/// The outcome as stored (its JSON text), for logs.
impl std::fmt::Display for FeedOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

/// What became of a fetch.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FeedStatus {
    /// The feed's days changed the calendar.
    Changed,
    /// The feed was read and changed nothing.
    Unchanged,
    /// The server answered 304: nothing read.
    NotModified,
    Failed,
}

/// Why a fetch failed: the message key of the reason and its arguments,
/// for the console to say it in the reader's language.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FeedReason {
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    pub key: String,
}

/// What the days of a fetched feed did to the calendar.
struct Applied {
    holidays: usize,
    workdays: usize,
    skipped: usize,
    added: Vec<NaiveDate>,
    changed: Vec<NaiveDate>,
    removed: Vec<NaiveDate>,
    kept_manual: usize,
    recomputed: u64,
}

impl FeedOutcome {
    fn bare(at: DateTime<Utc>, status: FeedStatus) -> Self {
        Self {
            added: None,
            at,
            changed: None,
            error: None,
            holidays: None,
            kept_manual: None,
            reason: None,
            recomputed: None,
            removed: None,
            skipped: None,
            status,
            workdays: None,
        }
    }

    fn not_modified(at: DateTime<Utc>) -> Self {
        Self::bare(at, FeedStatus::NotModified)
    }

    fn failed(at: DateTime<Utc>, error: &Reason) -> Self {
        Self {
            error: Some(error.to_string()),
            reason: Some(FeedReason {
                args: error
                    .args()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                key: error.key().to_string(),
            }),
            ..Self::bare(at, FeedStatus::Failed)
        }
    }

    fn applied(at: DateTime<Utc>, a: Applied) -> Self {
        let status = if a.added.len() + a.changed.len() + a.removed.len() > 0 {
            FeedStatus::Changed
        } else {
            FeedStatus::Unchanged
        };
        Self {
            added: Some(a.added),
            changed: Some(a.changed),
            holidays: Some(a.holidays),
            kept_manual: Some(a.kept_manual),
            recomputed: Some(a.recomputed),
            removed: Some(a.removed),
            skipped: Some(a.skipped),
            workdays: Some(a.workdays),
            ..Self::bare(at, status)
        }
    }

    /// The outcome as stored with the subscription; `None` for a text
    /// that is not one.
    pub fn from_stored(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    pub fn failed_fetch(&self) -> bool {
        self.status == FeedStatus::Failed
    }
}

/// The calendar feed subscription as `GET`/`PUT /admin/calendar/feed`
/// answer it: without a subscription, only `url` (null) and `feed_days`.
// The fields are declared in alphabetical order: the order of the JSON
// object this replaces, whose keys serde_json sorts. A field that is
// absent without a subscription is an outer None.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarFeedView {
    /// The validator of the last full answer, sent back as `If-None-Match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub etag: Option<Option<String>>,
    /// How many days of the calendar the feed set.
    pub feed_days: usize,
    /// When it was last fetched; null before the first fetch.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub fetched_at: Option<Option<DateTime<Utc>>>,
    /// The validator of the last full answer, sent back as
    /// `If-Modified-Since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub last_modified: Option<Option<String>>,
    /// When the daily job fetches it next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_fetch_at: Option<DateTime<Utc>>,
    /// What the last fetch did (as `POST /admin/calendar/feed/fetch`
    /// answers it); null before the first fetch.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<FeedOutcome>)]
    pub outcome: Option<Option<FeedOutcome>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_at: Option<DateTime<Utc>>,
    /// Who subscribed (`staff:<username>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
    /// The feed's URL; null without a subscription.
    pub url: Option<String>,
}

impl App {
    /// `GET /admin/calendar/feed`: the subscription, its last fetch and
    /// its outcome; `{"url": null}` without one.
    pub async fn calendar_feed(&self, who: &Principal) -> AppResult<CalendarFeedView> {
        self.admin(who)?;
        let feed = self.store.get_calendar_feed().await?;
        let feed_days = self
            .store
            .calendar_sources()
            .await?
            .into_iter()
            .filter(|(_, s)| *s == DaySource::Feed)
            .count();
        Ok(match feed {
            None => CalendarFeedView {
                etag: None,
                feed_days,
                fetched_at: None,
                last_modified: None,
                next_fetch_at: None,
                outcome: None,
                set_at: None,
                set_by: None,
                url: None,
            },
            Some(f) => feed_view(&f, feed_days),
        })
    }

    /// `PUT /admin/calendar/feed {url}`: subscribes (replacing any
    /// subscription); the daily job fetches it at its next run.
    pub async fn set_calendar_feed(
        &self,
        who: &Principal,
        cmd: &crate::commands::SetCalendarFeedCommand,
    ) -> AppResult<CalendarFeedView> {
        self.admin(who)?;
        // The URL is the body's only field: this check's answer is never
        // one to join with the command's.
        let url = cmd.url.clone();
        if !self.config.webhook_allow_private
            && let Err(m) = crate::egress::check_target(self.resolver.as_ref(), &url).await
        {
            return Err(AppError::invalid("url", m));
        }
        let now = self.now();
        let feed = CalendarFeed {
            url: url.clone(),
            etag: None,
            last_modified: None,
            fetched_at: None,
            outcome: None,
            next_fetch_at: now,
            set_by: format!("staff:{}", who.actor_id()),
            set_at: now,
        };
        let event = self.admin_event(who, "calendar_feed_set", json!({"url": url}));
        self.store
            .set_calendar_feed(Some(feed.clone()), event)
            .await?;
        Ok(feed_view(&feed, 0))
    }

    /// `DELETE /admin/calendar/feed`: unsubscribes. The days the feed set
    /// stay (a new subscription takes them over).
    pub async fn remove_calendar_feed(&self, who: &Principal) -> AppResult<()> {
        self.admin(who)?;
        let Some(feed) = self.store.get_calendar_feed().await? else {
            return Err(AppError::NotFound);
        };
        let event = self.admin_event(who, "calendar_feed_removed", json!({"url": feed.url}));
        self.store.set_calendar_feed(None, event).await?;
        Ok(())
    }

    /// `POST /admin/calendar/feed/fetch`: fetches now, whatever the
    /// schedule; the outcome (what changed). 404 without a subscription,
    /// 409 while another instance is fetching it.
    pub async fn fetch_calendar_feed_now(&self, who: &Principal) -> AppResult<FeedOutcome> {
        self.admin(who)?;
        let Some(before) = self.store.get_calendar_feed().await? else {
            return Err(AppError::NotFound);
        };
        if let Some(feed) = self
            .store
            .claim_calendar_feed(self.now(), self.config.job_lease, true)
            .await?
        {
            return Ok(self.run_calendar_feed(feed).await);
        }
        // Another fetch holds the claim (the daily job, which also takes a
        // subscription that was just made): its outcome is what the admin
        // asked for, so wait for it to be recorded rather than refuse.
        let waited = tokio::time::Instant::now();
        while waited.elapsed() < FEED_TIMEOUT + CONNECT_TIMEOUT {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let Some(now) = self.store.get_calendar_feed().await? else {
                return Err(AppError::NotFound);
            };
            if (now.fetched_at, &now.outcome) != (before.fetched_at, &before.outcome)
                && let Some(outcome) = now.outcome.as_deref()
            {
                return serde_json::from_str(outcome)
                    .map_err(|e| AppError::Internal(format!("a stored feed outcome: {e}")));
            }
        }
        Err(AppError::Conflict(
            "the feed is being fetched right now; try again in a moment".into(),
        ))
    }

    /// The daily job: fetches the feed when it is due and this instance
    /// claims it. The outcome when it ran.
    pub async fn calendar_feed_job(&self) -> AppResult<Option<FeedOutcome>> {
        // A read first: the sweep runs often, and the claim is a write.
        let now = self.now();
        if self
            .store
            .get_calendar_feed()
            .await?
            .is_none_or(|f| f.next_fetch_at > now)
        {
            return Ok(None);
        }
        let Some(feed) = self
            .store
            .claim_calendar_feed(now, self.config.job_lease, false)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.run_calendar_feed(feed).await))
    }

    /// One fetch of a claimed subscription: applies what changed, records
    /// the outcome and ends the claim; a failure alerts admins (once a
    /// day).
    async fn run_calendar_feed(&self, mut feed: CalendarFeed) -> FeedOutcome {
        let started = self.now();
        let allow_private = self.config.webhook_allow_private;
        let result = match fetch(self.feeds.as_ref(), &feed, allow_private).await {
            Ok(Fetched::NotModified) => Ok(FeedOutcome::not_modified(started)),
            Ok(Fetched::Body {
                text,
                etag,
                last_modified,
            }) => match self.apply_feed_text(&feed.url, &text).await {
                Ok(applied) => {
                    feed.etag = etag;
                    feed.last_modified = last_modified;
                    Ok(FeedOutcome::applied(started, applied))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let outcome = match result {
            Ok(o) => o,
            Err(error) => {
                tracing::warn!(%error, "the calendar feed could not be fetched");
                metrics::counter!("redress_calendar_feed_failures_total").increment(1);
                FeedOutcome::failed(started, &error)
            }
        };
        let failed = outcome.failed_fetch();
        feed.fetched_at = Some(started);
        feed.outcome = Some(outcome.to_string());
        feed.next_fetch_at = started + if failed { RETRY_AFTER } else { FETCH_EVERY };
        if let Err(e) = self.store.finish_calendar_feed(feed.clone()).await {
            tracing::error!(error = %e, "the calendar feed's fetch was not recorded");
        }
        if failed && let Err(e) = self.alert_admins_of_feed(&feed.url, &outcome).await {
            tracing::warn!(error = %e, "the calendar feed alert could not be sent");
        }
        outcome
    }

    /// Applies the days of a fetched feed (precedence: manual, feed,
    /// built-in); the outcome, or why the feed is unusable.
    async fn apply_feed_text(&self, url: &str, text: &str) -> Result<Applied, Reason> {
        let IcsImport { days, skipped } = days_from_ics(text, self.config.time_zone)?;
        let count = |k: DayKind| days.iter().filter(|d| d.kind == k).count();
        let (holidays, workdays) = (count(DayKind::Holiday), count(DayKind::Workday));
        let internal = |e: AppError| Reason::Unreachable {
            detail: e.to_string(),
        };
        let sources: HashMap<NaiveDate, DaySource> = self
            .store
            .calendar_sources()
            .await
            .map_err(|e| internal(e.into()))?
            .into_iter()
            .collect();
        let current: HashMap<NaiveDate, DayException> = self
            .store
            .list_calendar()
            .await
            .map_err(|e| internal(e.into()))?
            .into_iter()
            .map(|d| (d.date, d))
            .collect();
        let p = plan(days, &current, &sources);
        let mut recomputed = 0;
        let changes = p.set.len() + p.remove.len();
        if changes > 0 {
            let from = p
                .set
                .iter()
                .map(|d| d.date)
                .chain(p.remove.iter().copied())
                .min();
            let event = NewEvent {
                case_id: None,
                kind: "calendar_feed_applied".into(),
                actor: "system:calendar-feed".into(),
                at: self.now(),
                data: json!({
                    "url": url,
                    "added": p.added,
                    "changed": p.changed,
                    "removed": p.remove,
                })
                .to_string(),
            };
            self.store
                .apply_calendar_feed(p.set.clone(), p.remove.clone(), event)
                .await
                .map_err(|e| internal(e.into()))?;
            self.reload_calendar().await.map_err(internal)?;
            if let Some(from) = from {
                recomputed = self.recompute_deadlines(from).await.map_err(internal)?;
            }
        }
        Ok(Applied {
            holidays,
            workdays,
            skipped: skipped.len(),
            added: p.added,
            changed: p.changed,
            removed: p.remove,
            kept_manual: p.kept_manual,
            recomputed,
        })
    }

    /// A failed fetch tells admins with an address, at most once a
    /// (local) day: a journal event `calendar_feed_alert_sent` with the
    /// date keeps it so across restarts and instances. True when sent.
    pub async fn alert_admins_of_feed(&self, url: &str, outcome: &FeedOutcome) -> AppResult<bool> {
        let today = self.calendar().local_date(self.now()).to_string();
        let last = self
            .store
            .list_global_events(vec!["calendar_feed_alert_sent".into()], 1)
            .await?;
        if last.first().is_some_and(|e| {
            serde_json::from_str::<Value>(&e.data)
                .ok()
                .is_some_and(|d| d["date"] == today)
        }) {
            return Ok(false);
        }
        let admins = self.staff_emails(redress_domain::Role::Admin).await?;
        if admins.is_empty() {
            return Ok(false);
        }
        let error = outcome.error.as_deref().unwrap_or("unknown").to_string();
        self.store
            .append_events(vec![NewEvent {
                case_id: None,
                kind: "calendar_feed_alert_sent".into(),
                actor: "system:calendar-feed".into(),
                at: self.now(),
                data: json!({"date": today, "error": error}).to_string(),
            }])
            .await?;
        self.send_security_mail(
            admins,
            "【提醒】日历订阅获取失败 / The calendar feed could not be fetched".to_string(),
            format!(
                "日历订阅 {url} 获取失败：{error}\n日历保持上次获取的内容；系统每小时重试，本提醒每天最多发送一次。\
                 请在“系统管理”页查看订阅状态。\n\n\
                 The calendar feed {url} could not be fetched: {error}\nThe calendar keeps what the last \
                 fetch gave; it is tried again every hour, and this alert comes at most once a day. \
                 See the feed on the administration page.\n"
            ),
        );
        Ok(true)
    }
}

/// A subscription as the API shows it.
fn feed_view(f: &CalendarFeed, feed_days: usize) -> CalendarFeedView {
    let outcome = f.outcome.as_deref().and_then(FeedOutcome::from_stored);
    CalendarFeedView {
        etag: Some(f.etag.clone()),
        feed_days,
        fetched_at: Some(f.fetched_at),
        last_modified: Some(f.last_modified.clone()),
        next_fetch_at: Some(f.next_fetch_at),
        outcome: Some(outcome),
        set_at: Some(f.set_at),
        set_by: Some(f.set_by.clone()),
        url: Some(f.url.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn every_hop_keeps_to_public_http_addresses() {
        for refused in [
            "http://127.0.0.1:8080/feed.ics",
            "http://10.1.2.3/feed.ics",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/feed.ics",
            "http://[::ffff:192.168.0.1]/x",
        ] {
            assert!(hop_refused(&url(refused), false).is_some(), "{refused}");
            assert!(hop_refused(&url(refused), true).is_none(), "{refused}");
        }
        for scheme in ["file:///etc/passwd", "ftp://example.com/feed.ics"] {
            assert!(hop_refused(&url(scheme), true).is_some(), "{scheme}");
        }
        assert!(hop_refused(&url("https://8.8.8.8/feed.ics"), false).is_none());
        assert!(hop_refused(&url("https://calendars.example.com/cn.ics"), false).is_none());
    }

    use crate::edges::FeedResponse;

    /// A fetcher that answers one canned response and records the
    /// request's validators.
    struct Canned(
        FeedResponse,
        std::sync::Mutex<Vec<(String, Option<String>)>>,
    );

    #[async_trait::async_trait]
    impl FeedFetcher for Canned {
        async fn get(&self, r: FeedRequest<'_>) -> Result<FeedResponse, Reason> {
            assert_eq!(r.max_bytes, MAX_FEED_BYTES);
            self.1
                .lock()
                .unwrap()
                .push((r.url.to_string(), r.etag.map(str::to_string)));
            Ok(self.0.clone())
        }
    }

    fn canned(status: u16, body: &[u8]) -> Canned {
        Canned(
            FeedResponse {
                status,
                etag: Some("\"v2\"".into()),
                last_modified: None,
                body: body.to_vec(),
            },
            std::sync::Mutex::default(),
        )
    }

    fn subscription(url: &str) -> CalendarFeed {
        CalendarFeed {
            url: url.into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
            fetched_at: None,
            outcome: None,
            next_fetch_at: Utc::now(),
            set_by: "staff:admin".into(),
            set_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn answers_are_judged_by_the_app() {
        let feed = subscription("https://calendars.example.com/cn.ics");
        let f = canned(304, b"");
        assert!(matches!(
            fetch(&f, &feed, false).await,
            Ok(Fetched::NotModified)
        ));
        assert_eq!(
            f.1.lock().unwrap()[0],
            (feed.url.clone(), Some("\"v1\"".to_string()))
        );
        assert_eq!(
            fetch(&canned(503, b""), &feed, false).await.err(),
            Some(Reason::FeedStatus { status: 503 })
        );
        assert_eq!(
            fetch(&canned(200, b"\xff\xfe"), &feed, false).await.err(),
            Some(Reason::Utf8)
        );
        match fetch(&canned(200, b"BEGIN:VCALENDAR"), &feed, false).await {
            Ok(Fetched::Body { text, etag, .. }) => {
                assert_eq!(text, "BEGIN:VCALENDAR");
                assert_eq!(etag.as_deref(), Some("\"v2\""));
            }
            _ => panic!("a 200 is a body"),
        }
    }

    #[tokio::test]
    async fn a_private_literal_address_is_refused_before_the_fetch() {
        let f = canned(200, b"BEGIN:VCALENDAR");
        let feed = subscription("http://10.0.0.1/feed.ics");
        assert!(matches!(
            fetch(&f, &feed, false).await,
            Err(Reason::Unreachable { .. })
        ));
        assert!(f.1.lock().unwrap().is_empty());
        assert!(fetch(&f, &feed, true).await.is_ok());
    }

    #[test]
    fn feed_urls_are_http() {
        assert!(parse_feed_url("https://example.com/a.ics").is_ok());
        assert!(parse_feed_url("webcal://example.com/a.ics").is_err());
        assert!(parse_feed_url("example.com").is_err());
        assert!(parse_feed_url(&format!("https://e.com/{}", "a".repeat(2001))).is_err());
    }

    fn day(date: &str, kind: DayKind, name: &str) -> DayException {
        DayException {
            date: date.parse().unwrap(),
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn manual_days_win_and_dropped_feed_days_go() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let current: HashMap<NaiveDate, DayException> = [
            day("2027-01-01", DayKind::Holiday, "元旦"),
            day("2027-02-06", DayKind::Workday, "manual"),
            day("2027-03-01", DayKind::Holiday, "old feed"),
            day("2027-04-01", DayKind::Holiday, "gone"),
        ]
        .into_iter()
        .map(|x| (x.date, x))
        .collect();
        let sources: HashMap<NaiveDate, DaySource> = [
            (d("2027-01-01"), DaySource::Builtin),
            (d("2027-02-06"), DaySource::Manual),
            (d("2027-03-01"), DaySource::Feed),
            (d("2027-04-01"), DaySource::Feed),
        ]
        .into_iter()
        .collect();
        let p = plan(
            vec![
                day("2027-01-01", DayKind::Holiday, "元旦"),
                day("2027-02-06", DayKind::Holiday, "feed says rest"),
                day("2027-03-01", DayKind::Workday, "new feed"),
                day("2027-05-01", DayKind::Holiday, "劳动节"),
            ],
            &current,
            &sources,
        );
        assert_eq!(p.kept_manual, 1);
        assert_eq!(p.changed, vec![d("2027-03-01")]);
        assert_eq!(p.added, vec![d("2027-05-01")]);
        assert_eq!(p.remove, vec![d("2027-04-01")]);
        assert_eq!(p.set.len(), 2, "the built-in day it repeats is left alone");
    }

    /// Each shape of the outcome is the `json!` object it replaced, byte
    /// for byte (stored as text, answered by the API).
    #[test]
    fn outcomes_are_the_old_json() {
        let at: DateTime<Utc> = "2027-01-02T03:04:05Z".parse().unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let same = |new: &FeedOutcome, mut old: Value| {
            old["at"] = json!(at);
            let text = serde_json::to_string(new).unwrap();
            assert_eq!(text, old.to_string());
            assert_eq!(FeedOutcome::from_stored(&text).as_ref(), Some(new));
        };
        same(
            &FeedOutcome::not_modified(at),
            json!({"status": "not_modified"}),
        );
        for error in [
            Reason::FeedStatus { status: 503 },
            Reason::Unreachable {
                detail: "timed out".into(),
            },
            Reason::HttpUrl,
        ] {
            same(
                &FeedOutcome::failed(at, &error),
                json!({
                    "status": "failed",
                    "error": error.to_string(),
                    "reason": {"key": error.key(), "args": error.args().into_iter().collect::<HashMap<_, _>>()},
                }),
            );
        }
        for (added, changed, removed, recomputed) in [
            (vec![], vec![], vec![], 0),
            (vec![d("2027-05-01")], vec![], vec![], 3),
            (
                vec![],
                vec![d("2027-03-01")],
                vec![d("2027-04-01"), d("2027-04-02")],
                0,
            ),
        ] {
            let changes = added.len() + changed.len() + removed.len();
            let old = json!({
                "status": if changes > 0 { "changed" } else { "unchanged" },
                "holidays": 12,
                "workdays": 3,
                "skipped": 1,
                "added": added,
                "changed": changed,
                "removed": removed,
                "kept_manual": 2,
                "recomputed": recomputed,
            });
            let applied = Applied {
                holidays: 12,
                workdays: 3,
                skipped: 1,
                added,
                changed,
                removed,
                kept_manual: 2,
                recomputed,
            };
            same(&FeedOutcome::applied(at, applied), old);
        }
    }

    /// Outcomes stored by earlier versions still read: a failure without
    /// its reason, fields this version does not know; a text that is not
    /// an outcome reads as none.
    #[test]
    fn older_stored_outcomes_still_read() {
        let old = FeedOutcome::from_stored(
            r#"{"at":"2026-06-01T00:00:00Z","error":"the feed answered HTTP 404","status":"failed"}"#,
        )
        .unwrap();
        assert!(old.failed_fetch());
        assert_eq!(old.error.as_deref(), Some("the feed answered HTTP 404"));
        assert_eq!(old.reason, None);
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"at":"2026-06-01T00:00:00Z","error":"the feed answered HTTP 404","status":"failed"}"#
        );
        let reason = FeedOutcome::from_stored(
            r#"{"at":"2026-06-01T00:00:00Z","error":"x","reason":{"key":"reason-utf8"},"status":"failed","extra":1}"#,
        )
        .unwrap();
        assert_eq!(reason.reason.unwrap().args.len(), 0);
        let unchanged = FeedOutcome::from_stored(
            r#"{"added":[],"at":"2026-06-01T00:00:00Z","changed":[],"holidays":30,"kept_manual":0,"recomputed":0,"removed":[],"skipped":0,"status":"unchanged","workdays":8}"#,
        )
        .unwrap();
        assert_eq!(unchanged.status, FeedStatus::Unchanged);
        assert_eq!(unchanged.holidays, Some(30));
        assert_eq!(FeedOutcome::from_stored("not json"), None);
        assert_eq!(FeedOutcome::from_stored("{}"), None);
    }
}
