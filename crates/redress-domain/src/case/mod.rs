//! A case and its transitions (SPEC §3).
//!
//! Every transition is a method that first checks state, person and fields,
//! and only then changes the case; a refusal leaves the case untouched. It
//! returns [`Effects`]: the journal events that describe the change and the
//! notices the parties are owed. The application layer persists both.

use crate::reason::Reason;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::calendar::Calendar;
use crate::deadline::{AlertKind, Pause, Recipient, Stage, StageClock, Unit};
use crate::error::{FieldErrors, Refusal};
use crate::events::{self as ev, CaseEvent};
use crate::policy::{DeadlinePolicy, StageDays};
use crate::registration::{Registration, RegistrationInput};
use crate::types::*;

// The transitions, by stage of the case (each an `impl Case` block).
mod handling;
mod intake;
mod links;
mod notice;
mod result;
mod retention;
mod sweep;

pub type CaseId = Uuid;

/// Messages one case may hold: enough for any real exchange, a bound on
/// what a flood of replies can grow (409 beyond).
pub const MAX_MESSAGES: usize = 500;
/// Evidence files one case may hold (409 beyond).
pub const MAX_EVIDENCE: usize = 100;

/// Who did something, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// Username, API key id, respondent key, tracking number or job name.
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Staff,
    Complainant,
    Respondent,
    Integration,
    System,
}

impl Actor {
    pub fn staff(username: &str) -> Self {
        Self {
            kind: ActorKind::Staff,
            id: username.into(),
        }
    }

    pub fn system(job: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: job.into(),
        }
    }
}

/// What the domain needs to know about a staff member for its own rules
/// (reviewer independence, assignment); roles and department scoping are
/// checked before a transition is attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRef {
    pub username: String,
    pub level: i32,
    pub departments: Vec<String>,
    /// Belongs to a department marked independent (`review: true`).
    pub independent: bool,
    pub roles: Vec<Role>,
}

/// Why a closed case's file is erased ([`Case::erase_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure<'a> {
    /// The retention period ended without a legal hold (the sweep).
    RetentionEnded,
    /// A supervisor granted the complainant's request to erase their data
    /// early (SPEC §9), for this reason.
    Requested { reason: &'a str },
}

/// Everything a transition may consult besides the case.
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a Calendar,
    pub policy: &'a DeadlinePolicy,
    pub actor: Actor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub party: Party,
    pub kind: NoticeKind,
    /// For staff notices: who exactly (resolved by the application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Recipient>,
    /// For staff notices to one named person (a corrective action's
    /// owner): their user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Notice {
    /// A staff alert whose recipients the application resolves (and who
    /// may also hear by e-mail).
    pub fn is_staff_alert(&self) -> bool {
        self.to.is_some() || self.user.is_some()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    pub events: Vec<CaseEvent>,
    pub notices: Vec<Notice>,
}

impl Effects {
    pub(crate) fn event(mut self, event: CaseEvent) -> Self {
        self.events.push(event);
        self
    }

    fn notify(mut self, party: Party, kind: NoticeKind) -> Self {
        self.notices.push(Notice {
            party,
            kind,
            to: None,
            user: None,
        });
        self
    }

    fn notify_user(mut self, kind: NoticeKind, username: &str) -> Self {
        self.notices.push(Notice {
            party: Party::Staff,
            kind,
            to: None,
            user: Some(username.to_string()),
        });
        self
    }

    fn notify_staff(mut self, kind: NoticeKind, to: Recipient) -> Self {
        self.notices.push(Notice {
            party: Party::Staff,
            kind,
            to: Some(to),
            user: None,
        });
        self
    }

    /// Adds another transition's events and notices after these.
    pub fn merge(&mut self, other: Effects) {
        self.events.extend(other.events);
        self.notices.extend(other.notices);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub supplement_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    pub review_due_at: Option<DateTime<Utc>>,
    pub retention_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoRequest {
    pub items: Vec<String>,
    pub due_at: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub reason: String,
    pub guidance: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub due_at: DateTime<Utc>,
    pub previous_due_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A remedy or a sanction: a kind (refund, warning, …) and free details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// The amount's currency (ISO 4217, `CNY` when an amount comes without
    /// one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// How long a sanction such as a suspension lasts, calendar days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_days: Option<u32>,
}

/// The kinds of remedy the console offers (the API also takes others).
pub const REMEDY_KINDS: &[&str] = &[
    "refund",
    "compensation",
    "replacement",
    "repair",
    "apology",
    "other",
];

/// The kinds of sanction the console offers (the API also takes others).
pub const SANCTION_KINDS: &[&str] = &[
    "warning",
    "listing_removal",
    "suspension",
    "termination",
    "other",
];

impl Measure {
    /// The measure as one line for people: what, the details, the amount
    /// (`refund: 全额退款 (199.00)`), as notices and pages show it.
    pub fn line(&self) -> String {
        let mut line = self.kind.clone();
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            line = format!("{line}: {d}");
        }
        if let Some(a) = self.amount {
            match self.currency.as_deref() {
                Some(c) => line = format!("{line} ({a:.2} {c})"),
                None => line = format!("{line} ({a:.2})"),
            }
        }
        line
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectiveAction {
    pub id: String,
    pub description: String,
    pub owner: String,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub done_note: Option<String>,
    /// Reminder keys already sent to the owner (or superseded):
    /// `soon:<due date>` for the one [`ACTION_REMINDER_DAYS`] working days
    /// before the due date, `overdue:<local date>` for each day's reminder
    /// once it has passed. Kept in the case, in the same versioned save as
    /// the events that announce them, so that a second sweep or a restart
    /// never sends one again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<String>,
}

/// Working days before a corrective action's due date its owner is
/// reminded (SPEC §3).
pub const ACTION_REMINDER_DAYS: u32 = 2;

/// A reminder about a corrective action that is due now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReminder {
    pub key: String,
    /// `None`: the due date is near; `Some(n)`: it passed `n` whole working
    /// days ago.
    pub overdue_days: Option<i64>,
}

impl CorrectiveAction {
    pub fn is_open(&self) -> bool {
        self.done_at.is_none()
    }

    /// Open and past its due date.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && now >= self.due_at
    }

    /// The local day the action is due on (a due instant at 24:00 belongs
    /// to the day it ends).
    fn due_day(&self, cal: &Calendar) -> chrono::NaiveDate {
        cal.local_date(self.due_at - chrono::Duration::seconds(1))
    }

    /// The key of the reminder before the due date; it names the due day,
    /// so that a re-dated action is reminded again of its new date.
    fn soon_key(&self, cal: &Calendar) -> String {
        format!("soon:{}", self.due_day(cal))
    }

    /// When the owner is reminded ahead: the start of the
    /// [`ACTION_REMINDER_DAYS`]th working day counted back from the due
    /// day (the due day itself counts when it is a working day), so that
    /// two working days remain.
    pub fn soon_at(&self, cal: &Calendar) -> DateTime<Utc> {
        let mut day = self.due_day(cal);
        let mut counted = 0;
        for _ in 0..60 {
            if cal.is_working_day(day) {
                counted += 1;
                if counted == ACTION_REMINDER_DAYS {
                    break;
                }
            }
            match day.pred_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        cal.start_of_local_day(day).min(self.due_at)
    }

    fn sent(&self, key: &str) -> bool {
        self.reminders.iter().any(|k| k == key)
    }

    /// The moment of today's overdue reminder at `now` (past the due
    /// date): the due instant on the day it passed, then the start of each
    /// later working day.
    fn overdue_moment(&self, cal: &Calendar, now: DateTime<Utc>) -> DateTime<Utc> {
        let first = cal.local_date(self.due_at);
        let mut day = cal.local_date(now);
        for _ in 0..60 {
            if day <= first {
                break;
            }
            if cal.is_working_day(day) {
                return cal.start_of_local_day(day);
            }
            match day.pred_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        self.due_at
    }

    /// The next reminder moment not yet sent (`None` once done). Derived
    /// from the keys sent, so that the sweep can be woken for it.
    pub fn next_reminder_at(&self, cal: &Calendar) -> Option<DateTime<Utc>> {
        if !self.is_open() {
            return None;
        }
        let last_overdue: Option<chrono::NaiveDate> = self
            .reminders
            .iter()
            .filter_map(|k| k.strip_prefix("overdue:")?.parse().ok())
            .max();
        let Some(last) = last_overdue else {
            if !self.sent(&self.soon_key(cal)) {
                return Some(self.soon_at(cal));
            }
            return Some(self.due_at);
        };
        // The start of the next working day after the last one reminded.
        let mut day = last;
        for _ in 0..60 {
            day = day.succ_opt()?;
            if cal.is_working_day(day) {
                break;
            }
        }
        Some(cal.start_of_local_day(day).max(self.due_at))
    }

    /// The reminders due at `now`, recorded as sent: the one before the
    /// due date (superseded, recorded unsent, once the date has passed),
    /// and once overdue today's (after a stop of several days only today's).
    pub fn take_reminders(&mut self, cal: &Calendar, now: DateTime<Utc>) -> Vec<ActionReminder> {
        let mut out = Vec::new();
        if !self.is_open() {
            return out;
        }
        let soon = self.soon_key(cal);
        if now < self.due_at {
            if now >= self.soon_at(cal) && !self.sent(&soon) {
                self.reminders.push(soon.clone());
                out.push(ActionReminder {
                    key: soon,
                    overdue_days: None,
                });
            }
            return out;
        }
        if !self.sent(&soon) {
            self.reminders.push(soon);
        }
        let moment = self.overdue_moment(cal, now);
        let key = format!("overdue:{}", cal.local_date(moment));
        if !self.sent(&key) {
            self.reminders.push(key.clone());
            out.push(ActionReminder {
                key,
                overdue_days: Some(cal.working_days_between(self.due_at, now).max(0)),
            });
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub basis: Vec<String>,
    pub reply: String,
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
    pub actions: Vec<CorrectiveAction>,
    pub decided_by: String,
    pub decider_level: i32,
    pub department: Option<String>,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub result: ReviewResult,
    pub basis: Vec<String>,
    pub reply: String,
    pub outcome: Option<Outcome>,
    /// A `modified` result's remedies and sanctions: they replace the
    /// decision's (the final result stands alone). Empty when upheld.
    #[serde(default)]
    pub remedies: Vec<Measure>,
    #[serde(default)]
    pub sanctions: Vec<Measure>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub kind: ActorKind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub audience: Audience,
    pub author: Author,
    pub body: String,
    pub at: DateTime<Utc>,
    /// Set when the message came over from a merged duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_case: Option<String>,
    /// The Message-ID of the e-mail it came in, so a mail delivered twice
    /// is added once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub kind: NoteKind,
    pub body: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// The uploader's file name: metadata only, never a path.
    pub filename: String,
    pub uploaded_by: Author,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_case: Option<String>,
    /// The parties a staff member shared the file with (SPEC §7); each
    /// party always sees its own uploads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<Party>,
    /// Whether a thumbnail was made at upload (pictures only), stored
    /// sealed beside the file and purged with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub thumbnail: bool,
}

impl Evidence {
    /// Whether `party` may open the file: their own upload, or one staff
    /// shared with them. Staff see every file of a case they see.
    pub fn visible_to(&self, party: Party) -> bool {
        let own = match party {
            Party::Complainant => self.uploaded_by.kind == ActorKind::Complainant,
            Party::Respondent => self.uploaded_by.kind == ActorKind::Respondent,
            Party::Staff => true,
        };
        own || self.shared_with.contains(&party)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub party: Party,
    pub notice: NoticeKind,
    pub channel: DeliveryChannel,
    pub status: DeliveryStatus,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Recipient as shown to staff (masked address, respondent key, …).
    pub recipient: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// Attempts made so far (deliveries that leave the system).
    #[serde(default)]
    pub attempts: u32,
    /// When a queued delivery is tried next, after a failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The provider's last refusal, for staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub score: u8,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub tracking_no: String,
    pub status: Status,
    pub closure: Option<Closure>,
    pub channel: Channel,
    pub locale: Locale,
    pub record: Registration,
    pub call_reference: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deadlines: Deadlines,
    /// The deadline that had passed when the overdue sweep last flagged the
    /// case; flagging is idempotent per deadline.
    pub overdue_flagged_for: Option<DateTime<Utc>>,
    /// The stages whose deadline in force passed before they ended
    /// (acceptance, supplement, handling, review), each once, in the order
    /// they were missed: the list filter `missed=` reads them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed: Vec<Stage>,
    /// The clock of the current stage: its basis, pause and alerts.
    #[serde(default)]
    pub clock: Option<StageClock>,
    /// The deadline lengths of the case's category, fixed at acceptance.
    #[serde(default)]
    pub stage_days: StageDays,
    pub info_request: Option<InfoRequest>,
    pub rejection: Option<Rejection>,
    pub extensions: Vec<Extension>,
    pub decision: Option<Decision>,
    pub appeal: Option<Appeal>,
    pub review: Option<Review>,
    pub withdrawal_reason: Option<String>,
    pub merged_into: Option<CaseId>,
    pub merged_from: Vec<CaseId>,
    pub links: Vec<CaseId>,
    /// Open cases of the same complainant against the same respondent at
    /// registration time.
    pub possible_duplicates: Vec<CaseId>,
    /// When registered, the complainant had an earlier case (open or
    /// closed) against the same respondent: the respondent scorecard's
    /// repeat complainants (docs/reports.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat_complainant: bool,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
    pub evidence: Vec<Evidence>,
    pub deliveries: Vec<Delivery>,
    /// Kept beside the sealed file, not in it.
    pub feedback: Option<Feedback>,
    #[serde(default)]
    pub accepted_at: Option<DateTime<Utc>>,
    /// The respondent's reply deadline after acceptance, with the replies
    /// and whether each came late (SPEC §4, §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_reply: Option<crate::reply::ReplyDeadline>,
    pub closed_at: Option<DateTime<Utc>>,
    pub legal_hold: bool,
    /// When the retention period ended and the file's content was purged.
    #[serde(default)]
    pub purged_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, bumped by the store on every save.
    pub version: i64,
}

fn new_id() -> String {
    Uuid::now_v7().to_string()
}

fn wrong(status: Status, action: &'static str) -> Refusal {
    Refusal::WrongState {
        status: status.to_string(),
        action,
    }
}

/// How a staff stage's deadline counts: the category's working days when
/// it sets them, else the installation's working hours when it counts this
/// stage in hours, else the installation's working days.
fn staff_length(stage: Stage, category_days: Option<u32>, policy: &DeadlinePolicy) -> (Unit, u32) {
    let (hours, days) = match stage {
        Stage::Acceptance => (policy.hours.acceptance, policy.acceptance_days),
        Stage::Handling => (policy.hours.handling, policy.handling_days),
        Stage::Review => (policy.hours.review, policy.review_days),
        Stage::Supplement => (None, policy.supplement_days),
        Stage::Appeal => (None, policy.appeal_days),
    };
    match (category_days, hours) {
        (Some(d), _) => (Unit::WorkingDays, d),
        (None, Some(h)) => (Unit::WorkingHours, h),
        (None, None) => (Unit::WorkingDays, days),
    }
}

/// Validates a required free-text field.
pub fn required_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    let t = value.trim();
    if t.is_empty() {
        errors.add(field, Reason::Required);
    } else if t.chars().count() > max {
        errors.add(field, Reason::AtMost { n: max });
    }
}

fn basis_errors(errors: &mut FieldErrors, basis: &[String]) {
    if basis.iter().all(|b| b.trim().is_empty()) {
        errors.add("basis", Reason::Basis);
    }
    for (i, b) in basis.iter().enumerate() {
        if b.trim().is_empty() || b.chars().count() > 1000 {
            errors.add(format!("basis[{i}]"), Reason::Length { n: 1000 });
        }
    }
}

impl Case {
    /// Registers a new complaint (SPEC §6).
    pub fn register(
        id: CaseId,
        tracking_no: String,
        input: RegistrationInput,
        channel: Channel,
        possible_duplicates: Vec<CaseId>,
        ctx: &Ctx,
    ) -> (Case, Effects) {
        let (unit, length) = staff_length(Stage::Acceptance, None, ctx.policy);
        let clock = StageClock::start(Stage::Acceptance, unit, length, ctx.now, ctx.calendar);
        let acceptance_due = clock.due_at;
        let case = Case {
            id,
            tracking_no,
            status: Status::Submitted,
            closure: None,
            channel,
            locale: input.locale,
            record: input.record,
            call_reference: input.call_reference,
            category: None,
            department: None,
            assignee: None,
            created_at: ctx.now,
            updated_at: ctx.now,
            deadlines: Deadlines {
                acceptance_due_at: Some(acceptance_due),
                ..Default::default()
            },
            overdue_flagged_for: None,
            missed: Vec::new(),
            clock: Some(clock),
            stage_days: StageDays::default(),
            info_request: None,
            rejection: None,
            extensions: vec![],
            decision: None,
            appeal: None,
            review: None,
            withdrawal_reason: None,
            merged_into: None,
            merged_from: vec![],
            links: vec![],
            possible_duplicates,
            repeat_complainant: false,
            messages: vec![],
            notes: vec![],
            evidence: vec![],
            deliveries: vec![],
            feedback: None,
            accepted_at: None,
            respondent_reply: None,
            closed_at: None,
            legal_hold: false,
            purged_at: None,
            version: 0,
        };
        let effects = Effects::default()
            .event(CaseEvent::Registered(ev::Registered {
                tracking_no: case.tracking_no.clone(),
                channel,
                locale: case.locale,
                subject: case.record.subject.clone(),
                respondent: case.record.respondent.clone(),
                call_reference: case.call_reference.clone(),
                acceptance_due_at: acceptance_due,
                possible_duplicates: case.possible_duplicates.clone(),
            }))
            .notify(Party::Complainant, NoticeKind::Acknowledgement);
        (case, effects)
    }

    pub fn is_sealed(&self) -> bool {
        self.status == Status::Closed
    }

    /// The deadline that currently runs, if any (none while paused).
    pub fn next_due_at(&self) -> Option<DateTime<Utc>> {
        if self.is_paused() {
            return None;
        }
        let d = &self.deadlines;
        match self.status {
            Status::Submitted => d.acceptance_due_at,
            Status::NeedsInfo => d.supplement_due_at,
            Status::InProgress => d.handling_due_at,
            Status::Resolved => d.appeal_due_at,
            Status::UnderReview => d.review_due_at,
            Status::Closed => None,
        }
    }

    /// A staff deadline has passed without the case moving.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.deadline_is_staff_duty() && self.next_due_at().is_some_and(|due| due <= now)
    }

    /// The outcome in force: a modified review's, else the decision's.
    pub fn outcome_in_force(&self) -> Option<Outcome> {
        self.review
            .as_ref()
            .filter(|r| r.result == ReviewResult::Modified)
            .and_then(|r| r.outcome)
            .or_else(|| self.decision.as_ref().map(|d| d.outcome))
    }

    /// Records the running clock's stage as missed when its deadline in
    /// force has passed at `now` (called when the stage ends, and when the
    /// sweep flags it overdue). The complainant's appeal window is not a
    /// deadline anyone misses.
    fn note_missed(&mut self, now: DateTime<Utc>) {
        let Some(clock) = &self.clock else { return };
        if clock.stage == Stage::Appeal || clock.paused.is_some() || now < clock.due_at {
            return;
        }
        if !self.missed.contains(&clock.stage) {
            self.missed.push(clock.stage);
        }
    }

    pub fn is_paused(&self) -> bool {
        self.clock.as_ref().is_some_and(|c| c.paused.is_some())
    }

    /// Starts the clock of a new stage and returns its due instant.
    fn start_clock(&mut self, stage: Stage, unit: Unit, days: u32, ctx: &Ctx) -> DateTime<Utc> {
        self.note_missed(ctx.now);
        let clock = StageClock::start(stage, unit, days, ctx.now, ctx.calendar);
        let due = clock.due_at;
        self.clock = Some(clock);
        self.mirror_due(stage, due);
        due
    }

    /// Keeps the per-stage `deadlines` map in step with the clock.
    fn mirror_due(&mut self, stage: Stage, due: DateTime<Utc>) {
        let d = &mut self.deadlines;
        let slot = match stage {
            Stage::Acceptance => &mut d.acceptance_due_at,
            Stage::Supplement => &mut d.supplement_due_at,
            Stage::Handling => &mut d.handling_due_at,
            Stage::Appeal => &mut d.appeal_due_at,
            Stage::Review => &mut d.review_due_at,
        };
        *slot = Some(due);
        self.overdue_flagged_for = None;
    }

    /// The clock of the current stage if staff owe something by it.
    fn staff_clock_mut(&mut self, action: &'static str) -> Result<&mut StageClock, Refusal> {
        let status = self.status;
        match self.clock.as_mut() {
            Some(c) if status.deadline_is_staff_duty() && c.stage.is_staff_duty() => Ok(c),
            _ => Err(wrong(status, action)),
        }
    }

    fn open_for_change(&self, action: &'static str) -> Result<(), Refusal> {
        if self.is_sealed() {
            Err(wrong(self.status, action))
        } else {
            Ok(())
        }
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
    }

    fn close(&mut self, closure: Closure, ctx: &Ctx) {
        self.note_missed(ctx.now);
        self.status = Status::Closed;
        self.closure = Some(closure);
        self.closed_at = Some(ctx.now);
        self.clock = None;
        self.deadlines.retention_until = Some(
            ctx.calendar
                .years_after(ctx.now, ctx.policy.retention_years),
        );
        self.touch(ctx.now);
    }
}

/// How an extension moves the handling deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendTo {
    /// To this instant.
    Date(DateTime<Utc>),
    /// By this many working days.
    WorkingDays(u32),
}

/// What a `modified` review orders instead of the decision (empty when
/// upheld).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewChange {
    pub outcome: Option<Outcome>,
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
    pub actions: Vec<ActionInput>,
}

/// A corrective action as ordered in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionInput {
    pub description: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
}
