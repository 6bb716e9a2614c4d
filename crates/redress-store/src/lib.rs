//! What the application needs from a database: one trait per concern
//! ([`CaseStore`], [`CaseReadStore`], [`SuggestStore`], [`DeadlineStore`],
//! [`ReportStore`], [`JournalStore`], [`PeopleStore`], [`SettingsStore`],
//! [`TemplateStore`], [`MailStore`], [`WebhookStore`], [`UpkeepStore`],
//! [`CopyStore`]) and [`Store`], their sum.
//!
//! A backend (SQLite, PostgreSQL) implements [`CaseStore`] and
//! [`UpkeepStore`] itself, and lends its connections to the others, which
//! are written once over [`sql::Backend`]; the application
//! holds an `Arc<dyn Store>` chosen at start-up from the database URL. The
//! store persists and finds; it never decides. Rows carry the case document
//! sealed by the application (opaque bytes here) and the report facts
//! packed ([`pack`]), plus the columns that queues, filters and reports
//! need.

pub mod filter;
pub mod group;
pub mod journal;
pub mod mail;
pub mod pack;
pub mod priority;
pub mod rollup;
pub mod rows;
pub mod sql;
pub mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use redress_domain::calendar::{DayException, DaySource};
use redress_domain::{Channel, Closure, Locale, Role, Scope, Status};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use journal::{JournalEntry, NewEvent};

/// A backend's migrations, `(version, name, sql)`, from the files
/// `migrations/{version}_{name}.sql` beside the invoking file's folder
/// (`include_str!` resolves from where the macro is invoked): the list
/// names each file once, so an entry and its file cannot disagree.
#[macro_export]
macro_rules! migrations {
    ($($version:literal $name:ident,)*) => {
        &[$((
            $version,
            stringify!($name),
            include_str!(concat!(
                "../migrations/", stringify!($version), "_", stringify!($name), ".sql"
            )),
        )),*]
    };
}

/// Every store trait, for code that calls a backend by its own type.
pub mod prelude {
    pub use crate::{
        CaseReadStore, CaseStore, CopyStore, DeadlineStore, JournalStore, MailStore, PeopleStore,
        ReportStore, SettingsStore, Store, SuggestStore, TemplateStore, UpkeepStore, WebhookStore,
    };
}
pub use mail::{HeldMail, HeldMailState};
pub use webhooks::{
    AttemptEffect, WebhookAttempt, WebhookCall, WebhookCallState, WebhookSubscription,
};

/// The calendar feed subscription (at most one per installation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFeed {
    pub url: String,
    /// The validators of the last full answer, sent back as
    /// `If-None-Match` / `If-Modified-Since`.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
    /// The last fetch's outcome, a JSON object.
    pub outcome: Option<String>,
    /// When the daily job fetches it next (the app's clock).
    pub next_fetch_at: DateTime<Utc>,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// The cause of a [`StoreError`], kept whole (the driver's error, with its
/// code), shared so that a group commit can answer every job with it.
pub type Source = std::sync::Arc<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Someone else changed the case since it was read.
    #[error("the case changed concurrently")]
    VersionConflict,
    /// A unique value is taken (`what` names it: `tracking_no`, `username`, `code`, …).
    #[error("{0} is already taken")]
    Duplicate(&'static str),
    /// A referenced row does not exist (`what` names it).
    #[error("{0} does not exist")]
    Missing(&'static str),
    /// The database broke a deadlock by failing this transaction
    /// (PostgreSQL SQLSTATE 40P01).
    #[error("deadlock detected: {0}")]
    Deadlock(#[source] Source),
    /// The database could not order this transaction with a concurrent one
    /// (PostgreSQL SQLSTATE 40001; SQLite `BUSY`/`LOCKED`: another
    /// connection held the lock past the busy timeout). Safe to retry.
    #[error("could not serialize access: {0}")]
    Serialization(#[source] Source),
    /// Any other failure of the database or of a stored value.
    #[error("database error: {0}")]
    Backend(#[source] Source),
}

/// A failure described by a message alone (a stored value that does not
/// parse, a stopped writer thread).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Message(pub String);

impl StoreError {
    /// A [`StoreError::Backend`] with a message and no other cause.
    pub fn other(message: impl Into<String>) -> StoreError {
        StoreError::Backend(std::sync::Arc::new(Message(message.into())))
    }

    /// A [`StoreError::Backend`] caused by `e`.
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(std::sync::Arc::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A case as stored: indexed columns plus the sealed document.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    pub id: Uuid,
    /// Assigned by the store on insert; the order of lists and cursors.
    pub seq: i64,
    pub tracking_no: String,
    pub status: Status,
    pub closure: Option<Closure>,
    pub channel: Channel,
    pub category: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    /// `kind:id` of the respondent, when known.
    pub respondent_key: Option<String>,
    pub respondent_name: Option<String>,
    /// Keyed hash of the complainant's identity, for duplicate look-ups.
    pub complainant_key: Option<String>,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The deadline that currently runs.
    pub next_due_at: Option<DateTime<Utc>>,
    /// The running deadline is staff's duty (submitted, in_progress, under_review):
    /// missing it makes the case overdue.
    pub staff_due: bool,
    /// The deadline sweep has something to do at `next_due_at` (lapse,
    /// closure, or flagging an overdue case not yet flagged).
    pub sweep_at: Option<DateTime<Utc>>,
    /// Who decided, with level: reviewers may see the appeals they may decide.
    pub decided_by: Option<String>,
    pub decider_level: Option<i32>,
    /// The search tokens, space-separated, each once, in byte order
    /// (`redress_domain::text::stored_tokens`). PostgreSQL keeps them as a
    /// `tsvector` (migration 0028), which reads back in that order: tokens
    /// written in another order, or twice, read back sorted and once there.
    pub search_tokens: String,
    pub report: ReportFacts,
    pub version: i64,
    /// The whole case, sealed by the application with the case's key
    /// (opaque bytes to the store: `redress_app::stored` says what is in
    /// them; rows written before issue 18 hold JSON text).
    pub doc: Vec<u8>,
    /// The case's corrective actions, kept in the `corrective_actions`
    /// table in the same transaction as the row (`GET /actions` reads
    /// them without opening documents). Actions are never removed from a
    /// case, so an empty list leaves the table as it is.
    pub actions: Vec<ActionRow>,
}

/// A corrective action as indexed beside its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    pub case_id: Uuid,
    pub action_id: String,
    pub tracking_no: String,
    pub department: Option<String>,
    pub description: String,
    pub owner: String,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

/// Which corrective actions `GET /actions` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionState {
    /// Not done (overdue or not).
    Open,
    /// Not done, and due before this instant.
    OverdueAt(DateTime<Utc>),
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionFilter {
    pub state: ActionState,
    pub owner: Option<String>,
    pub department: Option<String>,
    pub limit: usize,
}

/// Timestamps the reports need without opening documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportFacts {
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub appealed: bool,
    pub review_changed: bool,
    pub feedback_score: Option<i32>,
    /// The respondent's reply deadline: met (`true`), missed or answered
    /// late (`false`), still running or none (`None`); for the scorecard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_reply_on_time: Option<bool>,
    /// Respondent replies that came after the reply deadline.
    #[serde(default)]
    pub respondent_late_replies: u32,
    /// The respondent's reply deadline in force, and the first reply's
    /// instant: the day the scorecard counts the deadline on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_reply_due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_replied_at: Option<DateTime<Utc>>,
    /// The complainant had an earlier case against the same respondent
    /// when this one was registered (the scorecard's repeat complainants).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat_complainant: bool,
    /// The installation's time zone when the facts were written (IANA
    /// name): the rollups count each event on its local day in it. `None`
    /// in facts written before the rollups (docs/reports.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The decision's outcome (`upheld`, `partially_upheld`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appealed_at: Option<DateTime<Utc>>,
    /// The review's result (`upheld`, `modified`) and when it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_at: Option<DateTime<Utc>>,
    /// The stages counted for deadline compliance (acceptance, supplement,
    /// handling, review), as docs/reports.md defines them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<rollup::StageFact>,
    /// The outcome in force (a modified review's, else the decision's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_in_force: Option<redress_domain::Outcome>,
    /// The stages whose deadline was missed (`redress_domain::Case::missed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed: Vec<redress_domain::Stage>,
}

impl ReportFacts {
    /// The facts as the `report` column holds them: packed
    /// ([`pack::Dict::Report`]).
    pub fn packed(&self) -> StoreResult<Vec<u8>> {
        pack::pack_json(pack::Dict::Report, self)
    }

    /// Facts from the `report` column: packed, or JSON text written before
    /// migration 0025.
    pub fn unpacked(stored: &[u8]) -> StoreResult<ReportFacts> {
        pack::unpack_json(pack::Dict::Report, stored)
    }

    /// The `outcome` column: the outcome in force, for the list filter
    /// `outcome` (the facts themselves are packed).
    pub fn outcome_column(&self) -> Option<&'static str> {
        self.outcome_in_force.map(|o| o.as_str())
    }

    /// The `missed` column: the stages whose deadline was missed, each
    /// between commas (`,acceptance,handling,`), for the list filter
    /// `missed` (`missed LIKE '%,acceptance,%'`); none when none was.
    pub fn missed_column(&self) -> Option<String> {
        (!self.missed.is_empty()).then(|| {
            let names: Vec<&str> = self.missed.iter().map(|s| filter::stage_name(*s)).collect();
            format!(",{},", names.join(","))
        })
    }
}

/// A case list item: the columns, without the document.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSummary {
    pub id: Uuid,
    pub seq: i64,
    pub tracking_no: String,
    pub status: Status,
    pub closure: Option<Closure>,
    pub channel: Channel,
    pub category: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub respondent_key: Option<String>,
    pub respondent_name: Option<String>,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub staff_due: bool,
}

/// Who may see which cases, already resolved by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Cases of these departments, plus (for reviewers) the appeals the
    /// person may decide.
    Departments {
        departments: Vec<String>,
        reviewer: Option<ReviewerScope>,
    },
    Respondent {
        respondent_key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewerScope {
    pub username: String,
    pub level: i32,
    pub independent: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub status: Option<Status>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub respondent_key: Option<String>,
    /// Only cases whose respondent's name contains this text (ASCII
    /// letters in either case). The application also puts the text's
    /// search tokens in `query`, so that the index finds the candidates.
    pub respondent_name: Option<String>,
    pub assignee: Option<String>,
    /// Only cases that came in on this channel.
    pub channel: Option<redress_domain::Channel>,
    /// Only cases closed this way.
    pub closure: Option<redress_domain::Closure>,
    /// Only cases whose outcome in force is this one.
    pub outcome: Option<redress_domain::Outcome>,
    /// Only cases that missed the deadline of this stage; `Some(None)`:
    /// of any stage.
    pub missed: Option<Option<redress_domain::Stage>>,
    /// Only cases filed at or after this instant.
    pub filed_from: Option<DateTime<Utc>>,
    /// Only cases filed before this instant.
    pub filed_before: Option<DateTime<Utc>>,
    /// `Some(now)`: only cases whose staff deadline passed before `now`.
    pub overdue_at: Option<DateTime<Utc>>,
    /// `Some((now, soon))`: only cases whose staff deadline falls after
    /// `now` and at or before `soon`.
    pub due_between: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Query tokens; all must be present.
    pub query: Vec<String>,
    /// Sort by next deadline, soonest first (cases without one last), then
    /// by filing order; instead of newest first.
    pub by_due: bool,
    /// With `by_due`: the page starts after this (next deadline, seq).
    pub due_after: Option<(Option<DateTime<Utc>>, i64)>,
    /// Count at most this many matches (`Some(0)`: do not count; the
    /// page's total is then 0). `None`: the exact total.
    pub count_cap: Option<i64>,
}

/// What near-duplicate search reads of a case: its columns and its
/// search tokens, without the document.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseText {
    pub id: Uuid,
    pub tracking_no: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub respondent_key: Option<String>,
    pub respondent_name: Option<String>,
    /// Space-separated search tokens (see `redress_domain::text`).
    pub search_tokens: String,
}

/// One token of a case being learnt by the category model: the token, and
/// its keyed hash (under which the model counts the cases it was seen in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearntToken {
    pub token: String,
    pub hash: String,
}

/// A complainant's cases against one respondent ([`CaseReadStore::cases_between`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Between {
    /// The open ones (any status but `closed`), oldest first.
    pub open: Vec<Uuid>,
    /// Whether there is any case between the two, open or closed.
    pub any: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// The sort key of the last item, when more may follow.
    pub next: Option<i64>,
}

/// A page of a search ranked by relevance ([`CaseReadStore::ranked_cases`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The page, best first, each with its score.
    pub items: Vec<(i64, CaseSummary)>,
    /// How many matches were ranked.
    pub total: i64,
    /// More matches than were ranked exist (only the newest were).
    pub over: bool,
    /// More ranked matches follow this page.
    pub more: bool,
}

/// Staff deadlines of one (department, assignee) pair: passed, and coming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub overdue: i64,
    pub due_soon: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseUpdate {
    pub row: CaseRow,
    pub expected_version: i64,
}

/// A stored answer to a `POST` carrying an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The caller's scope and key, e.g. `apikey:<id>:<key>`.
    pub key: String,
    /// SHA-256 of the request body: a reused key with another body is refused.
    pub request_hash: String,
    pub status: u16,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted {
        seq: i64,
    },
    /// The idempotency key was seen before: the first answer.
    Replayed(IdempotencyRecord),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// The English name, shown on the pages in English mode when set.
    #[serde(default)]
    pub name_en: Option<String>,
    /// An independent department: its reviewers may review any decision.
    pub review: bool,
    pub head: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub department: String,
    pub handling_days: Option<u32>,
    /// The appeal window for this category's cases, calendar days.
    #[serde(default)]
    pub appeal_days: Option<u32>,
    /// The review time for this category's cases, working days.
    #[serde(default)]
    pub review_days: Option<u32>,
    /// The respondent's reply after acceptance, working days.
    #[serde(default)]
    pub respondent_reply_days: Option<u32>,
}

impl Category {
    /// The deadline lengths this category sets (SPEC §4).
    pub fn stage_days(&self) -> redress_domain::StageDays {
        redress_domain::StageDays {
            handling_days: self.handling_days,
            appeal_days: self.appeal_days,
            review_days: self.review_days,
            respondent_reply_days: self.respondent_reply_days,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// argon2 PHC string.
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub departments: Vec<String>,
    pub level: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Where the deadline engine's reminders and escalations also go by
    /// e-mail (besides in-app), when set.
    pub email: Option<String>,
    /// Set when an admin reset the password: the user must choose a new
    /// one before doing anything else.
    #[serde(default)]
    pub must_change_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RespondentAccount {
    pub id: Uuid,
    pub kind: redress_domain::RespondentKind,
    pub external_id: String,
    pub name: String,
    pub email: Option<String>,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    /// The portal key was revoked and no new one issued.
    #[serde(default)]
    pub key_revoked: bool,
    #[serde(default)]
    pub key_expires_at: Option<DateTime<Utc>>,
}

impl RespondentAccount {
    pub fn respondent_key(&self) -> String {
        format!("{}:{}", self.kind, self.external_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key still opens anything at `now`.
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && self.expires_at.is_none_or(|e| e > now)
    }
}

impl RespondentAccount {
    /// Whether the portal key still opens anything at `now`.
    pub fn key_usable(&self, now: DateTime<Utc>) -> bool {
        !self.key_revoked && self.key_expires_at.is_none_or(|e| e > now)
    }
}

/// A ready-made message text that staff may start a message from
/// (SPEC §7). Every staff member may read them; admins edit them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReply {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    /// The language the text is written in; `None` when it fits any.
    pub locale: Option<Locale>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An installation's own wording of one notice kind in one language
/// (SPEC §7), replacing the shipped template. Kind and locale are the
/// domain's names (`result`, `zh-CN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeTemplateRow {
    pub kind: String,
    pub locale: Locale,
    pub subject: String,
    pub body: String,
    pub sms: String,
    pub updated_at: DateTime<Utc>,
    /// `kind:id` of the admin who saved it.
    pub updated_by: String,
}

/// What the reports read of one case: channel, category, status, closure,
/// respondent key and the report timestamps.
pub type ReportRow = (
    Channel,
    Option<String>,
    Status,
    Option<Closure>,
    Option<String>,
    ReportFacts,
);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    pub by_status: Vec<(Status, i64)>,
}

/// Saving cases (with their idempotency records and the corrective
/// actions' rows): each backend's own, tuned to its engine.
#[async_trait]
pub trait CaseStore: Send + Sync + 'static {
    /// Inserts a new case with its first events, atomically with the
    /// idempotency record when one is given. When `idempotency.key` was
    /// stored before, nothing is written and the first answer comes back.
    /// A taken tracking number is `Duplicate("tracking_no")`.
    async fn insert_case(
        &self,
        row: CaseRow,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<InsertOutcome>;
    /// Saves one or more changed cases and their events in one transaction;
    /// `VersionConflict` (and nothing written) if any version moved.
    async fn update_cases(
        &self,
        updates: Vec<CaseUpdate>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()>;
    /// Replaces the indexed actions of one case (the upgrade's backfill of
    /// cases decided before the table existed).
    async fn put_actions(&self, case_id: Uuid, actions: Vec<ActionRow>) -> StoreResult<()>;
}

/// Reading cases: one by id or tracking number, the case list, the cases
/// between a complainant and a respondent, corrective actions across
/// cases, and idempotency records.
#[async_trait]
pub trait CaseReadStore: Send + Sync + 'static {
    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>>;
    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>>;
    /// Newest first (by `seq` descending), or by next deadline when
    /// `filter.by_due` (soonest first, cases without one last, oldest
    /// first; `filter.due_after` is then the cursor); `after` is the
    /// previous page's `next`. `total` counts every matching case.
    async fn list_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<CaseSummary>>;
    /// The cases filed in `[from, before)` (a bound `None` is open) as
    /// whole rows (documents included; `search_tokens` left empty: the
    /// export never reads them), newest filing first (`created_at`,
    /// then `seq`, both descending), at most `limit`, after the cursor
    /// `after` (the previous page's last `(created_at, seq)`): the case
    /// export's walk, one statement a page reading `cases_created_at` in
    /// order however wide the period. A page shorter than `limit` is the
    /// last.
    async fn filed_case_rows(
        &self,
        from: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
        limit: usize,
        after: Option<(DateTime<Utc>, i64)>,
    ) -> StoreResult<Vec<CaseRow>>;
    /// A search's page best match first: the newest `cap` cases the
    /// filter and the visibility admit, ranked by `relevance` of their
    /// subjects (newest first among equals), read in one snapshot; `after`
    /// is the previous page's last `(score, seq)`.
    async fn ranked_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        relevance: &redress_domain::text::Relevance,
        cap: usize,
        limit: usize,
        after: Option<(i64, i64)>,
    ) -> StoreResult<Ranked>;
    /// A complainant's cases against a respondent, by their keys: the open
    /// ones and whether there is any, open or closed (one read: intake
    /// asks both for every registration).
    async fn cases_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<Between>;
    /// Corrective actions across the cases `visibility` admits (by the
    /// department recorded with each action), open ones by due date, done
    /// ones latest first; at most `filter.limit`.
    async fn list_actions(
        &self,
        visibility: &Visibility,
        filter: &ActionFilter,
    ) -> StoreResult<Vec<ActionRow>>;
    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>>;
}

/// What suggestions learn from: near-duplicate candidates and the
/// category model's counts.
#[async_trait]
pub trait SuggestStore: Send + Sync + 'static {
    /// Near-duplicate candidates: for each filter, the cases it and
    /// `visibility` admit (the case list's rules), newest filed first, at
    /// most `limit` per filter; each case once.
    async fn case_texts(
        &self,
        visibility: &Visibility,
        filters: Vec<CaseFilter>,
        limit: usize,
    ) -> StoreResult<Vec<CaseText>>;
    /// Learns one accepted case of `category` (`redress_domain::suggest`),
    /// in one transaction: the category's case count goes up by one; each
    /// token's count of cases (kept by hash) goes up by one, and a token
    /// whose count reaches `min_cases` or more is counted against the
    /// category (the vocabulary grows by the tokens reaching exactly
    /// `min_cases`). The tokens are distinct.
    async fn learn_category(
        &self,
        category: String,
        tokens: Vec<LearntToken>,
        min_cases: i64,
    ) -> StoreResult<()>;
    /// The category model as it bears on a text of these tokens: every
    /// category, the vocabulary, and the counts of these tokens.
    async fn category_model(
        &self,
        tokens: Vec<String>,
    ) -> StoreResult<redress_domain::suggest::ModelView>;
}

/// Deadlines: the staff's queues, the sweep's claims, and the cases an
/// edit of the calendar may move.
#[async_trait]
pub trait DeadlineStore: Send + Sync + 'static {
    /// Open cases whose running deadline falls at or after `from`, in
    /// `seq` order after `after_seq`: the cases an edit of the calendar
    /// may move.
    async fn cases_due_from(
        &self,
        from: DateTime<Utc>,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, Uuid)>>;
    /// Staff deadlines passed at `now`, and due after `now` up to `soon`,
    /// counted per (department, assignee); pairs with neither are left out.
    async fn deadline_queues(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<Vec<QueueCount>>;
    /// Cases whose `sweep_at` is at or before `now`, oldest first.
    async fn due_for_sweep(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Uuid>>;
    /// Claims up to `limit` cases whose `sweep_at` is at or before `now`
    /// and that no live claim holds, for `lease` of the database's wall
    /// clock; oldest first. Instances sharing a database claim disjoint
    /// cases. A claim ends when the case is next saved, or when its lease
    /// runs out because its holder died: then the case is claimed again.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
    ) -> StoreResult<Vec<Uuid>>;
}

/// Reports: the rollup counters and the rows they are built from, and the
/// records that an alert or a mailing went out once.
#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// Recomputes the rollup table from every case row, in one
    /// transaction (`redress report rebuild`); `zone` for facts written
    /// before zones were recorded. The number of cases read.
    async fn rebuild_report_rollups(&self, zone: redress_domain::calendar::Tz) -> StoreResult<u64>;
    async fn count_by_status(&self) -> StoreResult<Vec<(Status, i64)>>;
    /// Report facts of the cases created in `[from, to)`.
    async fn report_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ReportRow>>;
    /// The summed counters of the rollup table (`report_days`) that the
    /// query asks for.
    async fn report_rollup(
        &self,
        query: &rollup::RollupQuery,
    ) -> StoreResult<Vec<rollup::RollupSum>>;
    /// The respondents with the most cases filed in the query's days:
    /// `(respondent key, count)`, most first, at most `limit`.
    async fn report_top_respondents(
        &self,
        query: &rollup::RollupQuery,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>>;
    /// Per-day counts of cases filed per subject (spike alerts), each
    /// at least `query.min`; unordered.
    async fn report_daily(
        &self,
        query: &rollup::DailyQuery,
    ) -> StoreResult<Vec<rollup::DailyCount>>;
    /// Records that the alert on `subject` (`respondent:merchant:x`,
    /// `category:refunds`) for `day` was sent: `true` the first time,
    /// `false` when it already was (by this instance or another).
    async fn claim_alert(
        &self,
        kind: rollup::Subject,
        subject: &str,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Records that the mailing `kind` (`report:week`, `report:month`) for
    /// the period starting on `period` was sent: `true` the first time,
    /// `false` when it already was (by this instance or another). Kept
    /// beside the spike alerts' records (`alerts_sent`).
    async fn claim_mailing(
        &self,
        kind: &str,
        period: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// The journal: its events, its head, and events that concern no case.
#[async_trait]
pub trait JournalStore: Send + Sync + 'static {
    async fn events_for_case(&self, case_id: Uuid) -> StoreResult<Vec<JournalEntry>>;
    /// Events with `seq > after`, in order, at most `limit`.
    async fn journal_after(&self, after: i64, limit: usize) -> StoreResult<Vec<JournalEntry>>;
    /// The head of the chain as last written: `(seq, hash)`.
    async fn journal_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// The newest events that belong to no case, of the given kinds,
    /// newest first.
    async fn list_global_events(
        &self,
        kinds: Vec<String>,
        limit: usize,
    ) -> StoreResult<Vec<JournalEntry>>;
    /// Appends events that concern no case (user created, login, …).
    async fn append_events(&self, events: Vec<NewEvent>) -> StoreResult<()>;
}

/// Departments, staff users and their sessions, respondents, API keys.
#[async_trait]
pub trait PeopleStore: Send + Sync + 'static {
    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()>;
    async fn list_departments(&self) -> StoreResult<Vec<Department>>;
    /// Changes a department's names, review flag and head (by code);
    /// `Missing("department")` when there is none.
    async fn update_department(&self, d: Department, event: NewEvent) -> StoreResult<()>;
    async fn insert_user(&self, u: User, event: NewEvent) -> StoreResult<()>;
    /// Replaces a user's display name, password hash, roles, departments,
    /// level and whether active (by id); `Missing("user")` when absent.
    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()>;
    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn count_users(&self) -> StoreResult<i64>;
    async fn insert_session(&self, s: Session) -> StoreResult<()>;
    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Ends every session of a user but `keep` (a token hash); the count
    /// ended.
    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64>;
    /// Removes sessions that expired before `now`; the count removed.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()>;
    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>>;
    /// The account of the respondent `kind:external_id`, if there is one.
    async fn get_respondent(
        &self,
        kind: redress_domain::RespondentKind,
        external_id: &str,
    ) -> StoreResult<Option<RespondentAccount>>;
    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()>;
    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    /// Marks a key revoked; `false` when there is no such key.
    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool>;
    /// Gives a respondent a new portal key (`Some(hash)`, with its expiry)
    /// or revokes theirs (`None`); `false` when there is no such account.
    async fn set_respondent_key(
        &self,
        id: Uuid,
        key_hash: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        event: NewEvent,
    ) -> StoreResult<bool>;
}

/// Categories, the working-day calendar and its feed, installation settings.
#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()>;
    async fn list_categories(&self) -> StoreResult<Vec<Category>>;
    /// Replaces a category's names, department and deadline lengths (by
    /// code); `Missing("category")` when absent, `Missing("department")`
    /// for an unknown department.
    async fn update_category(&self, c: Category, event: NewEvent) -> StoreResult<()>;
    async fn list_calendar(&self) -> StoreResult<Vec<DayException>>;
    async fn upsert_calendar(
        &self,
        days: Vec<DayException>,
        event: Option<NewEvent>,
    ) -> StoreResult<()>;
    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<()>;
    /// Every calendar day's date and source. `upsert_calendar` writes
    /// `manual` days when it journals an event, `builtin` ones (the
    /// first start's seed) when it does not.
    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>>;
    /// What the feed says, in one transaction with its event: `days` are
    /// written as the feed's, except over a manual day; the days in
    /// `remove` are deleted when the feed had set them.
    async fn apply_calendar_feed(
        &self,
        days: Vec<DayException>,
        remove: Vec<NaiveDate>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// The JSON value an admin stored under `key`, if any.
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` (JSON) under `key`, replacing any, with the admin
    /// event, in one transaction.
    async fn put_setting(
        &self,
        key: &str,
        value: String,
        set_by: String,
        set_at: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()>;
    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>>;
    /// Subscribes (`Some`, replacing any subscription and its state) or
    /// unsubscribes (`None`), with the event, in one transaction.
    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// Claims the subscription for `lease` of the database's wall clock
    /// when it is due at `now` (any time when `force`) and no live claim
    /// holds it; instances sharing a database never both hold it. The
    /// subscription as stored, or `None`.
    async fn claim_calendar_feed(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        force: bool,
    ) -> StoreResult<Option<CalendarFeed>>;
    /// Records a fetch (validators, time, outcome, next fetch) and ends
    /// the claim; nothing when the subscription's URL is no longer
    /// `feed.url` (it was changed or removed meanwhile).
    async fn finish_calendar_feed(&self, feed: CalendarFeed) -> StoreResult<()>;
}

/// Canned replies and notice templates.
#[async_trait]
pub trait TemplateStore: Send + Sync + 'static {
    /// Every canned reply, oldest first (by `created_at`, then `id`).
    async fn list_canned_replies(&self) -> StoreResult<Vec<CannedReply>>;
    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>>;
    /// `Duplicate("id")` when the id is taken.
    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()>;
    /// Replaces title, body, locale and `updated_at` (by id);
    /// `Missing("canned_reply")` when absent.
    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()>;
    /// `Missing("canned_reply")` when absent.
    async fn delete_canned_reply(&self, id: Uuid, event: NewEvent) -> StoreResult<()>;
    /// The first start's canned replies: written with their events, in
    /// one transaction, only when none were ever seeded or imported and
    /// there are none; either way the store remembers that the seed ran,
    /// so replies an admin deleted do not come back at the next start.
    /// True when written. Instances starting together seed once.
    async fn seed_canned_replies(
        &self,
        replies: Vec<CannedReply>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool>;
    /// Notice templates as they are (`updated_at`, `updated_by`), without
    /// events; `Duplicate("template")` when a `(kind, locale)` is taken.
    async fn import_notice_templates(&self, templates: Vec<NoticeTemplateRow>) -> StoreResult<()>;
    /// Every saved template, by kind then locale.
    async fn list_notice_templates(&self) -> StoreResult<Vec<NoticeTemplateRow>>;
    /// Saves (inserts or replaces) the template of `(kind, locale)`.
    async fn put_notice_template(&self, t: NoticeTemplateRow, event: NewEvent) -> StoreResult<()>;
    /// Removes the template of `(kind, locale)` (the shipped one applies
    /// again); false when there was none (and nothing is written).
    async fn delete_notice_template(
        &self,
        kind: &str,
        locale: Locale,
        event: NewEvent,
    ) -> StoreResult<bool>;
}

/// Mail held for a person to look at.
#[async_trait]
pub trait MailStore: Send + Sync + 'static {
    /// Held mails in every state with `seq > after`, by `seq`, at most
    /// `limit`, each whole (`raw` included).
    async fn export_held_mail(&self, after: i64, limit: usize) -> StoreResult<Vec<HeldMail>>;
    /// Writes held mails as they are, `seq`, state and settlement included,
    /// in one transaction, without events; later holds get a `seq` above
    /// every imported one.
    async fn import_held_mail(&self, mails: Vec<HeldMail>) -> StoreResult<()>;
    /// Holds a mail with its journal event, unless a mail with the same
    /// `mail_key` is held already (then nothing is written). The id of the
    /// held mail with that key either way.
    async fn hold_mail(&self, m: HeldMail, event: NewEvent) -> StoreResult<Uuid>;
    /// Held mails in `state` (every state when `None`), newest first by
    /// `seq`; `raw` is left empty. `total` counts every match.
    async fn list_held_mail(
        &self,
        state: Option<HeldMailState>,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<HeldMail>>;
    /// One held mail with its raw message.
    async fn get_held_mail(&self, id: Uuid) -> StoreResult<Option<HeldMail>>;
    /// Settles a mail that is still `held` as `attached` (to `attached_to`)
    /// or `discarded`, with `event`; false (and nothing written) when it is
    /// not held (any more).
    async fn settle_held_mail(
        &self,
        id: Uuid,
        state: HeldMailState,
        by: String,
        at: DateTime<Utc>,
        attached_to: Option<Uuid>,
        event: NewEvent,
    ) -> StoreResult<bool>;
    /// Deletes held mail: unsettled (`held`) mail received before `before`,
    /// and settled (`attached`, `discarded`) mail settled before `before`.
    async fn expire_held_mail(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64>;
}

/// Webhook subscriptions, their calls and the attempts of each call.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Subscriptions as they are (`cursor` and sealed secret included),
    /// without events; none is claimed afterwards (claims do not move).
    async fn import_webhook_subscriptions(
        &self,
        subscriptions: Vec<WebhookSubscription>,
    ) -> StoreResult<()>;
    /// Calls of every subscription with `id > after` (all when `None`), by
    /// id, at most `limit`.
    async fn export_webhook_calls(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookCall>>;
    /// Writes calls as they are, in one transaction; subscription cursors
    /// stay as imported. `Missing("webhook")` for an unknown subscription.
    async fn import_webhook_calls(&self, calls: Vec<WebhookCall>) -> StoreResult<()>;
    /// Attempts with `(call_id, n)` after `after` (all when `None`), by
    /// call then `n`, at most `limit`.
    async fn export_webhook_attempts(
        &self,
        after: Option<(Uuid, i32)>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookAttempt>>;
    /// Writes attempts as they are (their own `n`), in one transaction; the
    /// calls' counts stay as imported. `Missing("webhook call")` for an
    /// unknown call.
    async fn import_webhook_attempts(&self, attempts: Vec<WebhookAttempt>) -> StoreResult<()>;
    /// Stores a new subscription with its journal event. Its `cursor` is set
    /// to the journal head as this write finds it, so that it is owed the
    /// events appended afterwards; the subscription is returned as stored.
    async fn insert_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<WebhookSubscription>;
    /// Every subscription, oldest first.
    async fn list_webhook_subscriptions(&self) -> StoreResult<Vec<WebhookSubscription>>;
    async fn get_webhook_subscription(&self, id: Uuid) -> StoreResult<Option<WebhookSubscription>>;
    /// Replaces a subscription's `url`, `events`, `active` and `updated_at`
    /// (by id; cursor, secret and claim stay); `Missing("webhook")` when absent.
    async fn update_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<()>;
    /// Claims up to `limit` active subscriptions that have work at `now` —
    /// a pending call due at or before `now`, or, without a pending call,
    /// journal events after their cursor — and that no live claim holds,
    /// for `lease` of the database's wall clock. Instances sharing a
    /// database claim disjoint subscriptions. Returned as stored.
    async fn claim_webhook_subscriptions(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: usize,
    ) -> StoreResult<Vec<WebhookSubscription>>;
    /// Ends a claim.
    async fn release_webhook_subscription(&self, id: Uuid) -> StoreResult<()>;
    /// Moves a subscription's cursor forward to `seq` (never back).
    async fn advance_webhook_cursor(&self, id: Uuid, seq: i64) -> StoreResult<()>;
    /// Inserts a call and moves its subscription's cursor forward to the
    /// call's event, in one transaction. `Duplicate("call")` (and nothing
    /// written) when the subscription has a call for that event already.
    async fn insert_webhook_call(&self, call: WebhookCall) -> StoreResult<()>;
    /// A subscription's pending call with the lowest event `seq`.
    async fn pending_webhook_call(&self, subscription_id: Uuid)
    -> StoreResult<Option<WebhookCall>>;
    async fn get_webhook_call(&self, id: Uuid) -> StoreResult<Option<WebhookCall>>;
    /// A subscription's calls, newest event first, in `state` when given;
    /// `after` is the previous page's `next` (an event `seq`). `total`
    /// counts every matching call.
    async fn list_webhook_calls(
        &self,
        subscription_id: Uuid,
        state: Option<WebhookCallState>,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<WebhookCall>>;
    /// The attempts of these calls, by call (in the order given) and `n`.
    async fn webhook_attempts(&self, call_ids: Vec<Uuid>) -> StoreResult<Vec<WebhookAttempt>>;
    /// Records an attempt — its `n` is the call's attempt count plus one,
    /// whatever `attempt.n` says — and applies `effect` to the call
    /// (`RetryAt` and `GiveUp` only to a call still pending); answers the
    /// call as it now is, `Missing("webhook call")` when absent.
    async fn record_webhook_attempt(
        &self,
        attempt: WebhookAttempt,
        effect: AttemptEffect,
    ) -> StoreResult<WebhookCall>;
    /// Deletes settled webhook calls (`delivered`, `failed`) created before
    /// `before`, with their attempts. Pending calls are kept until settled.
    async fn expire_webhook_calls(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64>;
}

/// The bulk copy between installations (`redress migrate-data`): whole
/// tables read in pages and written back as they are, `seq`, versions and
/// hashes included, without events.
#[async_trait]
pub trait CopyStore: Send + Sync + 'static {
    /// True when the store holds nothing an installation made: no cases,
    /// events, users, departments, categories, respondents, API keys,
    /// canned replies, notice templates, idempotency records, held mail or
    /// webhook subscriptions, calls or attempts. (Calendar days do not
    /// count: they are seeded without an event, and `import_calendar`
    /// replaces them.)
    async fn is_empty(&self) -> StoreResult<bool> {
        let n = self.table_counts().await?;
        Ok(n.tables()
            .iter()
            .all(|(table, rows)| *rows == 0 || *table == "calendar_days"))
    }
    /// Rows per table, to compare two installations.
    async fn table_counts(&self) -> StoreResult<TableCounts>;
    /// Full case rows with `seq > after`, by `seq`, at most `limit`.
    async fn export_cases(&self, after: i64, limit: usize) -> StoreResult<Vec<CaseRow>>;
    /// Idempotency records with `key > after` (all when `None`), by key, at
    /// most `limit`.
    async fn export_idempotency(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<Vec<IdempotencyRecord>>;
    async fn export_respondents(&self) -> StoreResult<Vec<RespondentAccount>>;
    async fn export_api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// Writes case rows as they are, `seq` and `version` included, in one
    /// transaction; later inserts get a `seq` above every imported one.
    async fn import_cases(&self, rows: Vec<CaseRow>) -> StoreResult<()>;
    /// Writes journal entries verbatim (`seq`, `prev_hash`, `hash`) in one
    /// transaction and moves the journal head to the last of them, so that
    /// later appends extend the imported chain.
    async fn import_events(&self, entries: Vec<JournalEntry>) -> StoreResult<()>;
    async fn import_idempotency(&self, records: Vec<IdempotencyRecord>) -> StoreResult<()>;
    /// Departments and categories, without events (they come with the journal).
    async fn import_departments(
        &self,
        departments: Vec<Department>,
        categories: Vec<Category>,
    ) -> StoreResult<()>;
    /// Users as they are (password hashes included), without events.
    async fn import_users(&self, users: Vec<User>) -> StoreResult<()>;
    async fn import_respondents(&self, respondents: Vec<RespondentAccount>) -> StoreResult<()>;
    async fn import_api_keys(&self, keys: Vec<ApiKey>) -> StoreResult<()>;
    /// Canned replies as they are, without events; marks the seed of
    /// [`Store::seed_canned_replies`] as done (also for an empty list).
    async fn import_canned_replies(&self, replies: Vec<CannedReply>) -> StoreResult<()>;
    /// Replaces every calendar day with `days`.
    async fn import_calendar(&self, days: Vec<DayException>) -> StoreResult<()>;
}

/// Schema migrations, retention, purges and key rotation.
#[async_trait]
pub trait UpkeepStore: Send + Sync + 'static {
    /// Creates the schema or brings it up to date.
    async fn migrate(&self) -> StoreResult<()>;
    /// Deletes idempotency records created before `before`.
    async fn expire_idempotency(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64>;
    /// Scrubs what other tables kept of the case: the payloads of its
    /// webhook calls become `{"erased":true}`, and held mail that names it
    /// or was attached to it is deleted. Returns the rows touched.
    async fn forget_case(&self, case_id: Uuid) -> StoreResult<u64>;
    /// The rewrite of the journal in progress, if one is.
    async fn journal_splice(&self) -> StoreResult<Option<journal::JournalSplice>>;
    /// One step of a rewrite of the journal's payloads (re-sealing events
    /// written in the clear): the events after `after` get the payloads of
    /// `data` (consecutive seqs from `after + 1`; `None`: unchanged) and
    /// new hashes, in one transaction. Without a rewrite in progress one
    /// starts at `after`; with one, `after` must be its splice
    /// (`VersionConflict` otherwise). When the step reaches the head, the
    /// head moves to the new chain and a `journal_resealed` event (at
    /// `at`) records both heads.
    async fn rewrite_journal(
        &self,
        after: i64,
        data: Vec<(i64, Option<String>)>,
        at: DateTime<Utc>,
    ) -> StoreResult<journal::RewriteOutcome>;
    /// Writes a value sealed again under the current master key
    /// (`redress keys rotate`). These values never change once written,
    /// so the write needs no version check.
    async fn reseal(&self, value: Resealed) -> StoreResult<()>;
    /// Gives the space freed by purges back, so that erased bytes do not
    /// linger in files: on SQLite a truncating WAL checkpoint (freed pages
    /// are zeroed as they go, `secure_delete`), on PostgreSQL a `VACUUM` of
    /// the tables a purge touches.
    async fn compact_after_purge(&self) -> StoreResult<()>;
}

/// Everything the application needs from a database: the sum of the
/// focused traits, implemented by every type that implements them all, so
/// `Arc<dyn Store>` offers every method.
pub trait Store:
    CaseStore
    + CaseReadStore
    + SuggestStore
    + DeadlineStore
    + ReportStore
    + JournalStore
    + PeopleStore
    + SettingsStore
    + TemplateStore
    + MailStore
    + WebhookStore
    + UpkeepStore
    + CopyStore
{
}

impl<
    T: CaseStore
        + CaseReadStore
        + SuggestStore
        + DeadlineStore
        + ReportStore
        + JournalStore
        + PeopleStore
        + SettingsStore
        + TemplateStore
        + MailStore
        + WebhookStore
        + UpkeepStore
        + CopyStore,
> Store for T
{
}

/// A value sealed by the master key, sealed again (key rotation).
#[derive(Debug, Clone, PartialEq)]
pub enum Resealed {
    HeldMail {
        id: Uuid,
        sender: String,
        subject: String,
        raw: String,
    },
    Idempotency {
        key: String,
        body: String,
    },
    WebhookSecret {
        id: Uuid,
        secret: String,
    },
}

/// Rows per table of an installation (sessions and claims left out: they
/// do not move).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    pub cases: i64,
    pub events: i64,
    pub idempotency_keys: i64,
    pub departments: i64,
    pub categories: i64,
    pub users: i64,
    pub respondents: i64,
    pub api_keys: i64,
    pub calendar_days: i64,
    pub canned_replies: i64,
    pub held_mail: i64,
    pub notice_templates: i64,
    pub webhook_subscriptions: i64,
    pub webhook_calls: i64,
    pub webhook_attempts: i64,
}

impl TableCounts {
    /// `(table, rows)` in copy order (a table after those it refers to).
    pub fn tables(&self) -> [(&'static str, i64); 15] {
        [
            ("departments", self.departments),
            ("categories", self.categories),
            ("users", self.users),
            ("respondents", self.respondents),
            ("api_keys", self.api_keys),
            ("canned_replies", self.canned_replies),
            ("notice_templates", self.notice_templates),
            ("calendar_days", self.calendar_days),
            ("idempotency_keys", self.idempotency_keys),
            ("cases", self.cases),
            ("events", self.events),
            ("held_mail", self.held_mail),
            ("webhook_subscriptions", self.webhook_subscriptions),
            ("webhook_calls", self.webhook_calls),
            ("webhook_attempts", self.webhook_attempts),
        ]
    }
}

/// The SQL of [`Store::table_counts`], the same on every backend: one row
/// of counts in the order of [`TableCounts`]' fields.
pub const TABLE_COUNTS_SQL: &str = "SELECT (SELECT count(*) FROM cases), \
     (SELECT count(*) FROM events), (SELECT count(*) FROM idempotency_keys), \
     (SELECT count(*) FROM departments), (SELECT count(*) FROM categories), \
     (SELECT count(*) FROM users), (SELECT count(*) FROM respondents), \
     (SELECT count(*) FROM api_keys), (SELECT count(*) FROM calendar_days), \
     (SELECT count(*) FROM canned_replies), (SELECT count(*) FROM held_mail), \
     (SELECT count(*) FROM notice_templates), (SELECT count(*) FROM webhook_subscriptions), \
     (SELECT count(*) FROM webhook_calls), (SELECT count(*) FROM webhook_attempts)";
