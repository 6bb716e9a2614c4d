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

    /// Request for material: once per case, every missing item at once (一次性告知).
    pub fn request_info(
        &mut self,
        items: Vec<String>,
        due_days: Option<u32>,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::Submitted {
            return Err(wrong(self.status, "asked for material"));
        }
        if self.info_request.is_some() {
            return Err(Refusal::WrongState {
                status: self.status.to_string(),
                action: "asked for material a second time (material may be requested only once)",
            });
        }
        let mut errors = FieldErrors::new();
        let items: Vec<String> = items.into_iter().map(|i| i.trim().to_string()).collect();
        if items.is_empty() {
            errors.add("items", Reason::Items);
        }
        if items.len() > 30 {
            errors.add("items", Reason::AtMostItems { n: 30 });
        }
        for (i, item) in items.iter().enumerate() {
            if item.is_empty() || item.chars().count() > 1000 {
                errors.add(format!("items[{i}]"), Reason::Length { n: 1000 });
            }
        }
        if let Some(d) = due_days
            && !(1..=60).contains(&d)
        {
            errors.add("due_days", Reason::Between { a: 1, b: 60 });
        }
        errors.into_result()?;
        let days = due_days.unwrap_or(ctx.policy.supplement_days);
        let due = self.start_clock(Stage::Supplement, Unit::WorkingDays, days, ctx);
        self.info_request = Some(InfoRequest {
            items: items.clone(),
            due_at: due,
            requested_at: ctx.now,
            requested_by: ctx.actor.id.clone(),
            answered_at: None,
        });
        self.status = Status::NeedsInfo;
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::InfoRequested(ev::InfoRequested {
                items,
                due_at: due,
            }))
            .notify(Party::Complainant, NoticeKind::RequestForMaterial))
    }

    /// Whether the complainant sent a file since material was last
    /// requested.
    pub fn files_sent_since_request(&self) -> bool {
        let Some(asked) = self.info_request.as_ref().map(|r| r.requested_at) else {
            return false;
        };
        self.evidence
            .iter()
            .any(|e| e.uploaded_by.kind == ActorKind::Complainant && e.at >= asked)
    }

    /// Whether the complainant sent anything since material was last
    /// requested: a file, or a message (a mailed reply is both at once).
    fn material_sent_since_request(&self) -> bool {
        let Some(asked) = self.info_request.as_ref().map(|r| r.requested_at) else {
            return false;
        };
        self.files_sent_since_request()
            || self.messages.iter().any(|m| {
                m.audience == Audience::Complainant
                    && m.author.kind == ActorKind::Complainant
                    && m.at >= asked
            })
    }

    /// The complainant's material arrived: back to `submitted`, and the
    /// acceptance clock starts again. Ends the `needs_info` stage: with a
    /// message, or without one when files or messages were sent since the
    /// request (SPEC §11: uploading a file does not end the stage by
    /// itself).
    pub fn supplement(&mut self, message: Option<String>, ctx: &Ctx) -> Result<Effects, Refusal> {
        if self.status != Status::NeedsInfo {
            return Err(wrong(self.status, "supplemented"));
        }
        if self
            .deadlines
            .supplement_due_at
            .is_some_and(|due| ctx.now >= due)
        {
            return Err(wrong(self.status, "supplemented after its deadline"));
        }
        if message.is_none() && !self.material_sent_since_request() {
            // Without a file or message sent since the request, the person
            // must say what they are adding.
            let mut errors = FieldErrors::new();
            errors.add("message", Reason::DescribeMaterial);
            errors.into_result()?;
        }
        if let Some(m) = &message {
            let mut errors = FieldErrors::new();
            required_text(&mut errors, "message", m, 20_000);
            errors.into_result()?;
            if self.messages.len() >= MAX_MESSAGES {
                return Err(Refusal::Full(format!(
                    "the case has {MAX_MESSAGES} messages, as many as a case may have"
                )));
            }
        }
        let (unit, length) = staff_length(Stage::Acceptance, None, ctx.policy);
        let due = self.start_clock(Stage::Acceptance, unit, length, ctx);
        if let Some(req) = &mut self.info_request {
            req.answered_at = Some(ctx.now);
        }
        let mut effects = Effects::default();
        if let Some(body) = message {
            effects = self.push_message(
                Audience::Complainant,
                ActorKind::Complainant,
                "complainant",
                body,
                ctx,
            );
        }
        self.status = Status::Submitted;
        self.touch(ctx.now);
        Ok(effects.event(CaseEvent::Supplemented(ev::Supplemented {
            acceptance_due_at: due,
        })))
    }

    /// Refusal to accept: always with a reason and guidance.
    pub fn reject(&mut self, reason: &str, guidance: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        if !matches!(self.status, Status::Submitted | Status::NeedsInfo) {
            return Err(wrong(self.status, "rejected"));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        required_text(&mut errors, "guidance", guidance, 5000);
        errors.into_result()?;
        self.rejection = Some(Rejection {
            reason: reason.trim().into(),
            guidance: guidance.trim().into(),
            by: ctx.actor.id.clone(),
            at: ctx.now,
        });
        self.close(Closure::Rejected, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Rejected(ev::Rejected {
                reason: reason.trim().into(),
                guidance: guidance.trim().into(),
            }))
            .notify(Party::Complainant, NoticeKind::Refusal))
    }

    /// Acceptance classifies the case and routes it to a department.
    pub fn accept(
        &mut self,
        category: &str,
        department: &str,
        stage_days: StageDays,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::Submitted {
            return Err(wrong(self.status, "accepted"));
        }
        if self.record.respondent.is_none() {
            return Err(Refusal::invalid("respondent", Reason::RecordNoRespondent));
        }
        let (unit, length) = staff_length(Stage::Handling, stage_days.handling_days, ctx.policy);
        let reply_days = stage_days
            .respondent_reply_days
            .unwrap_or(ctx.policy.respondent_reply_days);
        self.stage_days = stage_days;
        let due = self.start_clock(Stage::Handling, unit, length, ctx);
        let reply = crate::reply::ReplyDeadline::start(ctx.now, reply_days, ctx.calendar);
        let reply_due = reply.due_at;
        self.respondent_reply = Some(reply);
        self.category = Some(category.into());
        self.department = Some(department.into());
        self.accepted_at = Some(ctx.now);
        self.status = Status::InProgress;
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Accepted(ev::Accepted {
                category: category.into(),
                department: department.into(),
                handling_due_at: due,
                respondent_reply_due_at: Some(reply_due),
            }))
            .notify(Party::Complainant, NoticeKind::Acceptance)
            .notify(Party::Respondent, NoticeKind::NewComplaint))
    }

    /// Assigns the responsible person: a handler of the case's department
    /// while it is handled, an eligible reviewer while it is under review.
    pub fn assign(&mut self, to: &StaffRef, ctx: &Ctx) -> Result<Effects, Refusal> {
        match self.status {
            Status::Submitted | Status::NeedsInfo | Status::InProgress => {
                let dept = self.department.as_deref();
                let in_dept = dept.is_some_and(|d| to.departments.iter().any(|x| x == d));
                if dept.is_some() && !(to.roles.contains(&Role::Handler) && in_dept) {
                    return Err(Refusal::invalid("handler", Reason::Handler));
                }
                if dept.is_none() && !to.roles.contains(&Role::Intake) {
                    return Err(Refusal::invalid("handler", Reason::AssignIntake));
                }
            }
            Status::UnderReview => self
                .check_reviewer(to)
                .map_err(|_| Refusal::invalid("handler", Reason::Reviewer))?,
            _ => return Err(wrong(self.status, "assigned")),
        }
        let previous = self.assignee.replace(to.username.clone());
        self.touch(ctx.now);
        Ok(Effects::default().event(CaseEvent::Assigned(ev::Assigned {
            handler: to.username.clone(),
            previous,
        })))
    }

    fn push_message(
        &mut self,
        audience: Audience,
        kind: ActorKind,
        name: &str,
        body: String,
        ctx: &Ctx,
    ) -> Effects {
        let id = new_id();
        self.messages.push(Message {
            id: id.clone(),
            audience,
            author: Author {
                kind,
                name: name.into(),
            },
            body: body.trim().to_string(),
            at: ctx.now,
            from_case: None,
            mail_id: None,
        });
        self.touch(ctx.now);
        let mut effects = Effects::default().event(CaseEvent::MessageAdded(ev::MessageAdded {
            message_id: id,
            audience,
            author: kind,
        }));
        // A message written by one party to another is a notice to that party.
        let to = match (audience, kind) {
            (Audience::Complainant, ActorKind::Staff) => Some(Party::Complainant),
            (Audience::Respondent, ActorKind::Staff) => Some(Party::Respondent),
            (_, ActorKind::Complainant | ActorKind::Respondent) => Some(Party::Staff),
            _ => None,
        };
        if let Some(party) = to {
            effects = effects.notify(party, NoticeKind::Message);
        }
        effects
    }

    /// A message on the case. Staff choose the audience; complainants and
    /// respondents always write in their own thread.
    pub fn add_message(
        &mut self,
        audience: Audience,
        author_kind: ActorKind,
        body: &str,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        self.open_for_change("messaged")?;
        if self.messages.len() >= MAX_MESSAGES {
            return Err(Refusal::Full(format!(
                "the case has {MAX_MESSAGES} messages, as many as a case may have"
            )));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "body", body, 20_000);
        errors.into_result()?;
        if audience == Audience::Respondent && self.record.respondent.is_none() {
            return Err(Refusal::invalid("audience", Reason::NoRespondent));
        }
        let mut effects = self.push_message(
            audience,
            author_kind,
            &ctx.actor.id.clone(),
            body.into(),
            ctx,
        );
        if author_kind == ActorKind::Respondent {
            effects.merge(self.record_respondent_reply(ctx));
        }
        Ok(effects)
    }

    /// A respondent message after acceptance is a reply: recorded with
    /// whether it came after the reply deadline (the first one meets it).
    fn record_respondent_reply(&mut self, ctx: &Ctx) -> Effects {
        let Some(message_id) = self.messages.last().map(|m| m.id.clone()) else {
            return Effects::default();
        };
        let Some(reply) = self.respondent_reply.as_mut() else {
            return Effects::default();
        };
        let first = reply.awaiting();
        let late = reply.record(&message_id, ctx.now);
        Effects::default().event(CaseEvent::RespondentReplied(ev::RespondentReplied {
            message_id,
            due_at: reply.due_at,
            late,
            first,
        }))
    }

    pub fn add_note(&mut self, kind: NoteKind, body: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        self.open_for_change("annotated")?;
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "body", body, 20_000);
        errors.into_result()?;
        let id = new_id();
        self.notes.push(Note {
            id: id.clone(),
            kind,
            body: body.trim().into(),
            author: ctx.actor.id.clone(),
            at: ctx.now,
        });
        self.touch(ctx.now);
        Ok(Effects::default().event(CaseEvent::NoteAdded(ev::NoteAdded { note_id: id, kind })))
    }

    pub fn add_evidence(&mut self, evidence: Evidence, ctx: &Ctx) -> Result<Effects, Refusal> {
        self.open_for_change("given evidence")?;
        if self.evidence.len() >= MAX_EVIDENCE {
            return Err(Refusal::Full(format!(
                "the case has {MAX_EVIDENCE} evidence files, as many as a case may have"
            )));
        }
        let event = CaseEvent::EvidenceAdded(ev::EvidenceAdded {
            evidence_id: evidence.id.clone(),
            sha256: evidence.sha256.clone(),
            size: evidence.size,
            content_type: evidence.content_type.clone(),
            filename: evidence.filename.clone(),
            by: evidence.uploaded_by.kind,
        });
        self.evidence.push(evidence);
        self.touch(ctx.now);
        Ok(Effects::default().event(event))
    }

    /// A new handling due date, with a reason and a progress notice: a
    /// date chosen by the handler, or a number of working days added.
    pub fn extend(&mut self, to: ExtendTo, reason: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        if self.status != Status::InProgress {
            return Err(wrong(self.status, "extended"));
        }
        if self.is_paused() {
            return Err(wrong(self.status, "extended while its clock is paused"));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        let previous = self.deadlines.handling_due_at;
        match to {
            ExtendTo::Date(due_at) => {
                if due_at <= ctx.now || previous.is_some_and(|p| due_at <= p) {
                    errors.add("due_at", Reason::LaterDue);
                }
                if due_at > ctx.now + chrono::Duration::days(366) {
                    errors.add("due_at", Reason::WithinYear);
                }
            }
            ExtendTo::WorkingDays(days) => {
                if !(1..=250).contains(&days) {
                    errors.add("days", Reason::Between { a: 1, b: 250 });
                }
            }
        }
        errors.into_result()?;
        let clock = self.staff_clock_mut("extended")?;
        match to {
            ExtendTo::Date(due_at) => {
                clock.extend_to(due_at, &ctx.policy.alerts, ctx.calendar, ctx.now)
            }
            ExtendTo::WorkingDays(days) => {
                clock.extend_by(days, &ctx.policy.alerts, ctx.calendar, ctx.now)
            }
        }
        let due_at = clock.due_at;
        self.mirror_due(Stage::Handling, due_at);
        self.extensions.push(Extension {
            due_at,
            previous_due_at: previous,
            reason: reason.trim().into(),
            by: ctx.actor.id.clone(),
            at: ctx.now,
        });
        self.touch(ctx.now);
        let days = match to {
            ExtendTo::WorkingDays(d) => Some(d),
            ExtendTo::Date(_) => None,
        };
        Ok(Effects::default()
            .event(CaseEvent::Extended(ev::Extended {
                due_at,
                previous_due_at: previous,
                working_days: days,
                reason: reason.trim().into(),
            }))
            .notify(Party::Complainant, NoticeKind::Progress))
    }

    /// Stops the clock of a staff deadline while the case waits for
    /// something outside the platform's hands; paused time does not count.
    pub fn pause(&mut self, reason: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        let status = self.status;
        let clock = self.staff_clock_mut("paused")?;
        if clock.paused.is_some() {
            return Err(wrong(status, "paused (its clock is already paused)"));
        }
        errors.into_result()?;
        clock.pause(Pause {
            since: ctx.now,
            reason: reason.trim().into(),
            by: ctx.actor.id.clone(),
        });
        let (stage, due) = (clock.stage, clock.due_at);
        if let Some(reply) = self.respondent_reply.as_mut()
            && self.status == Status::InProgress
        {
            reply.pause(ctx.now);
        }
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Paused(ev::Paused {
                stage,
                due_at: due,
                reason: reason.trim().into(),
            }))
            .notify(Party::Complainant, NoticeKind::Progress))
    }

    /// Restarts a paused clock; the working days the pause covered are
    /// added to the deadline.
    pub fn resume(&mut self, reason: Option<&str>, ctx: &Ctx) -> Result<Effects, Refusal> {
        if let Some(r) = reason {
            let mut errors = FieldErrors::new();
            required_text(&mut errors, "reason", r, 5000);
            errors.into_result()?;
        }
        let status = self.status;
        let clock = self.staff_clock_mut("resumed")?;
        let Some(since) = clock.paused.as_ref().map(|p| p.since) else {
            return Err(wrong(status, "resumed (its clock is not paused)"));
        };
        let previous = clock.due_at;
        let credit = clock.resume(&ctx.policy.alerts, ctx.calendar, ctx.now);
        let (stage, due) = (clock.stage, clock.due_at);
        self.mirror_due(stage, due);
        let reply_due = self.respondent_reply.as_mut().and_then(|r| {
            r.is_paused().then(|| {
                r.resume(ctx.now, ctx.calendar);
                r.due_at
            })
        });
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Resumed(ev::Resumed {
                stage,
                paused_at: since,
                working_days_added: credit,
                previous_due_at: previous,
                due_at: due,
                respondent_reply_due_at: reply_due,
                reason: reason.map(|r| r.trim().to_string()),
            }))
            .notify(Party::Complainant, NoticeKind::Progress))
    }

    /// The one rule of the appeal window (SPEC §4), for every channel: the
    /// result notice reached the complainant at `at` (the first e-mail,
    /// SMS, webhook or postal delivery of it that succeeded). When it is
    /// the first such delivery and the case still waits for an appeal,
    /// `appeal_due_at` becomes the end of the appeal period counted from
    /// `at`; it never moves earlier. Call it *after* the delivery is
    /// recorded as sent: the answer is `(previous, new)` when it moved.
    /// A later delivery, a bounce or a failure never moves it.
    pub fn result_reached(
        &mut self,
        at: DateTime<Utc>,
        ctx: &Ctx,
    ) -> Option<(Option<DateTime<Utc>>, DateTime<Utc>)> {
        if self.status != Status::Resolved
            || self.appeal.is_some()
            || self.clock.as_ref().is_none_or(|c| c.stage != Stage::Appeal)
        {
            return None;
        }
        let reached = self
            .deliveries
            .iter()
            .filter(|d| {
                d.notice == NoticeKind::Result
                    && d.party == Party::Complainant
                    && d.channel != DeliveryChannel::InApp
                    && d.sent_at.is_some()
                    && matches!(d.status, DeliveryStatus::Sent | DeliveryStatus::Bounced)
            })
            .count();
        if reached != 1 {
            return None;
        }
        let appeal_days = self
            .stage_days
            .appeal_days
            .unwrap_or(ctx.policy.appeal_days);
        let from = StageClock::start(
            Stage::Appeal,
            Unit::CalendarDays,
            appeal_days,
            at,
            ctx.calendar,
        );
        let current = self.deadlines.appeal_due_at;
        if current.is_some_and(|c| from.due_at <= c) {
            return None;
        }
        let due = from.due_at;
        self.clock = Some(from);
        self.mirror_due(Stage::Appeal, due);
        Some((current, due))
    }

    /// Staff record a notice they sent by post (SPEC §7): a delivery on
    /// channel `post`, already sent on `sent_at`, with the letter's
    /// `reference` (kept as the delivery's provider id). A posted result
    /// notice starts the appeal window like any other delivery that
    /// reached the person: when no e-mail, SMS, webhook or postal delivery
    /// of the result succeeded before, `appeal_due_at` becomes the end of
    /// the appeal period counted from `sent_at`; it never moves earlier.
    pub fn record_post(
        &mut self,
        notice: NoticeKind,
        sent_at: DateTime<Utc>,
        reference: &str,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        let mut errors = FieldErrors::new();
        if matches!(
            notice,
            NoticeKind::NewComplaint
                | NoticeKind::Reminder
                | NoticeKind::Escalation
                | NoticeKind::AppealReceived
        ) {
            errors.add("notice", Reason::NotComplainantNotice);
        }
        if sent_at > ctx.now {
            errors.add("sent_at", Reason::NotFuture);
        }
        if sent_at < self.created_at {
            errors.add("sent_at", Reason::BeforeFiled);
        }
        required_text(&mut errors, "reference", reference, 128);
        errors.into_result()?;
        if self.purged_at.is_some() {
            return Err(wrong(
                self.status,
                "given a posted notice (its file was purged)",
            ));
        }
        let mut delivery = Delivery::owed(
            new_id(),
            Party::Complainant,
            notice,
            DeliveryChannel::Post,
            "post".into(),
            ctx.now,
        );
        delivery.status = DeliveryStatus::Sent;
        delivery.sent_at = Some(sent_at);
        delivery.provider_id = Some(reference.trim().to_string());
        let id = delivery.id.clone();
        self.record_delivery(delivery);
        let appeal = if notice == NoticeKind::Result {
            self.result_reached(sent_at, ctx)
                .map(|(previous, due)| ev::AppealWindowMoved {
                    previous_appeal_due_at: previous,
                    appeal_due_at: due,
                })
        } else {
            None
        };
        self.touch(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::DeliveryRecorded(ev::DeliveryRecorded {
                delivery: id,
                notice,
                channel: DeliveryChannel::Post,
                sent_at,
                reference: reference.trim().into(),
                appeal,
            })),
        )
    }

    /// Intake gave the complainant a new access code, after checking who
    /// they are (SPEC §11 `reissue-code`). The code lives beside the case
    /// (like the rating, it may change on a sealed case): only the journal
    /// records that it changed, never the code.
    ///
    /// `sent_by`: the channel a code asked for with `POST /track/recover`
    /// goes by (the application queues that delivery); `None` when intake
    /// hands it over.
    pub fn reissue_code(
        &mut self,
        sent_by: Option<DeliveryChannel>,
        _ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.purged_at.is_some() {
            return Err(wrong(
                self.status,
                "given a new access code (its file was purged)",
            ));
        }
        Ok(
            Effects::default().event(CaseEvent::AccessCodeReissued(ev::AccessCodeReissued {
                sent_by,
            })),
        )
    }

    /// Re-derives the running deadline after the calendar changed; an
    /// event when it moved, nothing otherwise.
    pub fn recompute_deadline(&mut self, ctx: &Ctx) -> Option<Effects> {
        if self.is_sealed() {
            return None;
        }
        if self.status == Status::InProgress
            && let Some(reply) = self.respondent_reply.as_mut()
            && !reply.is_paused()
            && reply.awaiting()
        {
            reply.recompute(ctx.calendar);
        }
        let clock = self.clock.as_mut()?;
        let previous = clock.recompute(&ctx.policy.alerts, ctx.calendar, ctx.now)?;
        let (stage, due) = (clock.stage, clock.due_at);
        self.mirror_due(stage, due);
        if self.status == Status::NeedsInfo
            && let Some(req) = &mut self.info_request
        {
            req.due_at = due;
        }
        Some(
            Effects::default().event(CaseEvent::DeadlineRecomputed(ev::DeadlineRecomputed {
                stage,
                previous_due_at: previous,
                due_at: due,
                cause: ev::RecomputeCause::Calendar,
            })),
        )
    }

    /// The decision: outcome, basis, reply, and what follows from it.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &mut self,
        outcome: Outcome,
        basis: Vec<String>,
        reply: &str,
        remedies: Vec<Measure>,
        sanctions: Vec<Measure>,
        actions: Vec<ActionInput>,
        decider: &StaffRef,
        action_days: u32,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::InProgress {
            return Err(wrong(self.status, "decided"));
        }
        let mut errors = FieldErrors::new();
        basis_errors(&mut errors, &basis);
        required_text(&mut errors, "reply", reply, 20_000);
        measure_errors(&mut errors, &remedies, &sanctions, &actions, ctx);
        errors.into_result()?;
        let actions = corrective_actions(actions, &decider.username, action_days, ctx);
        let appeal_days = self
            .stage_days
            .appeal_days
            .unwrap_or(ctx.policy.appeal_days);
        let appeal_due = self.start_clock(Stage::Appeal, Unit::CalendarDays, appeal_days, ctx);
        let basis: Vec<String> = basis.into_iter().map(|b| b.trim().to_string()).collect();
        let decision = Decision {
            outcome,
            basis,
            reply: reply.trim().into(),
            remedies,
            sanctions,
            actions,
            decided_by: decider.username.clone(),
            decider_level: decider.level,
            department: self.department.clone(),
            decided_at: ctx.now,
        };
        let decided = CaseEvent::Decided(ev::Decided {
            outcome,
            basis: decision.basis.clone(),
            remedies: decision.remedies.clone(),
            sanctions: decision.sanctions.clone(),
            actions: decision.actions.clone(),
            appeal_due_at: appeal_due,
        });
        // The platform acts on a sanction (a webhook carries this event):
        // whom it is against, what it is, and on what grounds.
        let sanction = (!decision.sanctions.is_empty()).then(|| {
            CaseEvent::SanctionOrdered(ev::Sanction {
                respondent: self.record.respondent.clone(),
                sanctions: decision.sanctions.clone(),
                outcome: Some(outcome),
                basis: decision.basis.clone(),
                decided_by: decision.decided_by.clone(),
                decided_at: Some(decision.decided_at),
                appeal_due_at: Some(appeal_due),
                review: None,
            })
        });
        self.decision = Some(decision);
        self.status = Status::Resolved;
        self.touch(ctx.now);
        let mut effects = Effects::default()
            .event(decided)
            .notify(Party::Complainant, NoticeKind::Result)
            .notify(Party::Respondent, NoticeKind::Result);
        if let Some(sanction) = sanction {
            effects = effects.event(sanction);
        }
        Ok(effects)
    }

    /// Marks a corrective action done. Actions are tracked until done, even
    /// after the case has closed: like the satisfaction rating, their
    /// completion is recorded beside the sealed file.
    pub fn complete_action(
        &mut self,
        action_id: &str,
        note: &str,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        let Some(decision) = self.decision.as_mut() else {
            return Err(wrong(
                self.status,
                "given a completed action (it has no decision)",
            ));
        };
        let Some(action) = decision.actions.iter_mut().find(|a| a.id == action_id) else {
            return Err(Refusal::invalid(
                "action_id",
                Reason::NoSuch {
                    what: "corrective action on this case".into(),
                },
            ));
        };
        if action.done_at.is_some() {
            return Err(Refusal::WrongState {
                status: self.status.to_string(),
                action: "given a completed action again (it is already done)",
            });
        }
        let mut errors = FieldErrors::new();
        if note.chars().count() > 5000 {
            errors.add("note", Reason::AtMost { n: 5000 });
        }
        errors.into_result()?;
        action.done_at = Some(ctx.now);
        action.done_by = Some(ctx.actor.id.clone());
        action.done_note = Some(note.trim().to_string()).filter(|n| !n.is_empty());
        self.touch(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::ActionCompleted(ev::ActionCompleted {
                action_id: action_id.into(),
                note: note.trim().into(),
            })),
        )
    }

    /// Reassigns or re-dates an open corrective action (`PATCH
    /// /complaints/{id}/actions/{action_id}`); the event keeps the old and
    /// the new values. Re-dating drops the reminder keys of the old date,
    /// so that the owner is reminded of the new one. Whether the new owner
    /// may own it is the application's check (it knows the staff).
    pub fn update_action(
        &mut self,
        action_id: &str,
        owner: Option<&str>,
        due_at: Option<DateTime<Utc>>,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        let status = self.status;
        let Some(action) = self
            .decision
            .as_mut()
            .and_then(|d| d.actions.iter_mut().find(|a| a.id == action_id))
        else {
            return Err(Refusal::invalid(
                "action_id",
                Reason::NoSuch {
                    what: "corrective action on this case".into(),
                },
            ));
        };
        if action.done_at.is_some() {
            return Err(Refusal::WrongState {
                status: status.to_string(),
                action: "given a changed action (it is already done)",
            });
        }
        let mut errors = FieldErrors::new();
        if owner.is_none() && due_at.is_none() {
            errors.add("owner", Reason::OwnerOrDue);
        }
        if let Some(o) = owner
            && o.trim().is_empty()
        {
            errors.add("owner", Reason::Empty);
        }
        if due_at.is_some_and(|d| d <= ctx.now) {
            errors.add("due_at", Reason::InFuture);
        }
        errors.into_result()?;
        let (old_owner, old_due) = (action.owner.clone(), action.due_at);
        if let Some(o) = owner {
            action.owner = o.trim().to_string();
        }
        if let Some(d) = due_at {
            action.due_at = d;
            let keep = action.soon_key(ctx.calendar);
            action.reminders.retain(|k| *k == keep);
        }
        let event = CaseEvent::ActionUpdated(ev::ActionUpdated {
            action_id: action_id.into(),
            owner: ev::Change {
                old: old_owner,
                new: action.owner.clone(),
            },
            due_at: ev::Change {
                old: old_due,
                new: action.due_at,
            },
        });
        self.touch(ctx.now);
        Ok(Effects::default().event(event))
    }

    /// The reminders of open corrective actions that are due now, each
    /// once, to the action's owner.
    pub fn send_action_reminders(&mut self, ctx: &Ctx) -> Option<Effects> {
        if self.purged_at.is_some() {
            return None;
        }
        let decision = self.decision.as_mut()?;
        let mut effects = Effects::default();
        for action in decision.actions.iter_mut() {
            for r in action.take_reminders(ctx.calendar, ctx.now) {
                effects = effects
                    .event(CaseEvent::ActionReminderSent(ev::ActionReminderSent {
                        action_id: action.id.clone(),
                        key: r.key.clone(),
                        kind: if r.overdue_days.is_some() {
                            ev::ActionReminderKind::Overdue
                        } else {
                            ev::ActionReminderKind::DueSoon
                        },
                        working_days_overdue: r.overdue_days,
                        due_at: action.due_at,
                        owner: action.owner.clone(),
                    }))
                    .notify_user(NoticeKind::Reminder, &action.owner);
            }
        }
        (!effects.events.is_empty()).then_some(effects)
    }

    /// The next moment an open corrective action's owner is reminded.
    fn next_action_reminder_at(&self, calendar: &Calendar) -> Option<DateTime<Utc>> {
        if self.purged_at.is_some() {
            return None;
        }
        self.decision
            .as_ref()?
            .actions
            .iter()
            .filter_map(|a| a.next_reminder_at(calendar))
            .min()
    }

    /// One appeal, within the window after the result notice.
    pub fn appeal(&mut self, reason: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        if self.status != Status::Resolved {
            return Err(wrong(self.status, "appealed"));
        }
        if self.appeal.is_some() {
            return Err(wrong(self.status, "appealed a second time"));
        }
        if self
            .deadlines
            .appeal_due_at
            .is_some_and(|due| ctx.now >= due)
        {
            return Err(wrong(self.status, "appealed after the appeal window"));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 20_000);
        errors.into_result()?;
        let (unit, length) = staff_length(Stage::Review, self.stage_days.review_days, ctx.policy);
        let due = self.start_clock(Stage::Review, unit, length, ctx);
        self.appeal = Some(Appeal {
            reason: reason.trim().into(),
            at: ctx.now,
        });
        self.status = Status::UnderReview;
        self.assignee = None;
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Appealed(ev::Appealed {
                reason: reason.trim().into(),
                review_due_at: due,
            }))
            .notify(Party::Complainant, NoticeKind::AppealReceived))
    }

    /// Reviewer independence: never the decider, and either a higher level
    /// than the decider or a member of an independent department.
    pub fn check_reviewer(&self, reviewer: &StaffRef) -> Result<(), Refusal> {
        let Some(decision) = &self.decision else {
            return Err(wrong(self.status, "reviewed"));
        };
        if !reviewer.roles.contains(&Role::Reviewer) {
            return Err(Refusal::Forbidden(
                "only a reviewer may decide an appeal".into(),
            ));
        }
        if reviewer.username == decision.decided_by {
            return Err(Refusal::Forbidden(
                "the person who decided the case cannot review it".into(),
            ));
        }
        if !(reviewer.level > decision.decider_level || reviewer.independent) {
            return Err(Refusal::Forbidden(
                "the reviewer must have a higher level than the decider or belong to an independent department".into(),
            ));
        }
        Ok(())
    }

    /// The review decision (final). `upheld` keeps the decision's result;
    /// `modified` states the new `outcome` and may order remedies,
    /// sanctions and corrective actions as a decision does: its remedies
    /// and sanctions replace the decision's (a sanction no longer ordered
    /// is lifted, a new one ordered), its corrective actions join the
    /// decision's in the list that is followed up.
    #[allow(clippy::too_many_arguments)]
    pub fn review(
        &mut self,
        result: ReviewResult,
        basis: Vec<String>,
        reply: &str,
        modified: ReviewChange,
        reviewer: &StaffRef,
        action_days: u32,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::UnderReview {
            return Err(wrong(self.status, "reviewed"));
        }
        self.check_reviewer(reviewer)?;
        let ReviewChange {
            outcome,
            remedies,
            sanctions,
            actions,
        } = modified;
        let mut errors = FieldErrors::new();
        basis_errors(&mut errors, &basis);
        required_text(&mut errors, "reply", reply, 20_000);
        match result {
            ReviewResult::Modified if outcome.is_none() => {
                errors.add("outcome", Reason::ReviewOutcome);
            }
            ReviewResult::Upheld => {
                let given = [
                    ("outcome", outcome.is_some()),
                    ("remedies", !remedies.is_empty()),
                    ("sanctions", !sanctions.is_empty()),
                    ("actions", !actions.is_empty()),
                ];
                for (field, set) in given {
                    if set {
                        errors.add(field, Reason::ReviewUpheldOrders);
                    }
                }
            }
            ReviewResult::Modified => {}
        }
        measure_errors(&mut errors, &remedies, &sanctions, &actions, ctx);
        errors.into_result()?;
        let basis: Vec<String> = basis.into_iter().map(|b| b.trim().to_string()).collect();
        let actions = corrective_actions(actions, &reviewer.username, action_days, ctx);
        let decision = self.decision.as_mut().expect("checked by check_reviewer");
        decision.actions.extend(actions.iter().cloned());
        let before = decision.sanctions.clone();
        let (ordered, lifted): (Vec<Measure>, Vec<Measure>) = if result == ReviewResult::Modified {
            (
                sanctions
                    .iter()
                    .filter(|s| !before.contains(s))
                    .cloned()
                    .collect(),
                before
                    .iter()
                    .filter(|s| !sanctions.contains(s))
                    .cloned()
                    .collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let review = Review {
            result,
            basis: basis.clone(),
            reply: reply.trim().into(),
            outcome,
            remedies,
            sanctions,
            reviewed_by: reviewer.username.clone(),
            reviewed_at: ctx.now,
        };
        let reviewed = CaseEvent::Reviewed(ev::Reviewed {
            result,
            basis: basis.clone(),
            outcome,
            remedies: review.remedies.clone(),
            sanctions: review.sanctions.clone(),
            actions,
        });
        // The platform acts on sanctions (webhooks carry these events):
        // those the review orders anew, and those it drops.
        let sanction = |list: &[Measure]| ev::Sanction {
            respondent: self.record.respondent.clone(),
            sanctions: list.to_vec(),
            outcome,
            basis: basis.clone(),
            decided_by: reviewer.username.clone(),
            decided_at: Some(ctx.now),
            appeal_due_at: None,
            review: Some(true),
        };
        let ordered = (!ordered.is_empty()).then(|| sanction(&ordered));
        let lifted = (!lifted.is_empty()).then(|| sanction(&lifted));
        self.review = Some(review);
        self.close(Closure::Reviewed, ctx);
        let mut effects = Effects::default()
            .event(reviewed)
            .notify(Party::Complainant, NoticeKind::ReviewResult)
            .notify(Party::Respondent, NoticeKind::ReviewResult);
        if let Some(sanction) = ordered {
            effects = effects.event(CaseEvent::SanctionOrdered(sanction));
        }
        if let Some(sanction) = lifted {
            effects = effects.event(CaseEvent::SanctionLifted(sanction));
        }
        Ok(effects)
    }

    /// The remedies in force: a modified review's, else the decision's.
    pub fn final_remedies(&self) -> &[Measure] {
        match (&self.review, &self.decision) {
            (Some(r), _) if r.result == ReviewResult::Modified => &r.remedies,
            (_, Some(d)) => &d.remedies,
            _ => &[],
        }
    }

    /// The sanctions in force: a modified review's, else the decision's.
    pub fn final_sanctions(&self) -> &[Measure] {
        match (&self.review, &self.decision) {
            (Some(r), _) if r.result == ReviewResult::Modified => &r.sanctions,
            (_, Some(d)) => &d.sanctions,
            _ => &[],
        }
    }

    /// Withdrawal by the complainant, before a result.
    pub fn withdraw(&mut self, reason: Option<&str>, ctx: &Ctx) -> Result<Effects, Refusal> {
        if !self.status.is_before_result() {
            return Err(wrong(self.status, "withdrawn"));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 5000) {
            return Err(Refusal::invalid("reason", Reason::AtMost { n: 5000 }));
        }
        self.withdrawal_reason = reason.map(Into::into);
        self.close(Closure::Withdrawn, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Withdrawn(ev::Withdrawn {
                reason: reason.map(Into::into),
            }))
            .notify(Party::Complainant, NoticeKind::Withdrawn))
    }

    /// Satisfaction rating after a result, once; kept beside the sealed file.
    pub fn rate(
        &mut self,
        score: i64,
        comment: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.decision.is_none() && self.rejection.is_none() {
            return Err(wrong(self.status, "rated before a result"));
        }
        if self.feedback.is_some() {
            return Err(wrong(self.status, "rated a second time"));
        }
        let mut errors = FieldErrors::new();
        if !(1..=5).contains(&score) {
            errors.add("score", Reason::IntRange { a: 1, b: 5 });
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > 5000) {
            errors.add("comment", Reason::AtMost { n: 5000 });
        }
        errors.into_result()?;
        self.feedback = Some(Feedback {
            score: score as u8,
            comment: comment.map(Into::into),
            at: ctx.now,
        });
        Ok(Effects::default().event(CaseEvent::Feedback(ev::FeedbackGiven { score })))
    }

    /// Sets or releases a legal hold: a held case is kept past its
    /// retention period (SPEC §4) until the hold is released.
    pub fn set_legal_hold(&mut self, hold: bool, reason: &str) -> Result<Effects, Refusal> {
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        errors.into_result()?;
        if self.purged_at.is_some() {
            return Err(wrong(self.status, "held (its file was purged)"));
        }
        if self.legal_hold == hold {
            return Err(wrong(
                self.status,
                if hold {
                    "held (it is already held)"
                } else {
                    "released (it is not held)"
                },
            ));
        }
        self.legal_hold = hold;
        let payload = ev::LegalHold {
            reason: reason.trim().into(),
            retention_until: self.deadlines.retention_until,
        };
        Ok(Effects::default().event(if hold {
            CaseEvent::LegalHoldSet(payload)
        } else {
            CaseEvent::LegalHoldReleased(payload)
        }))
    }

    /// The retention period has ended without a legal hold: the file's
    /// content goes ([`Case::erase_file`] for [`Erasure::RetentionEnded`]).
    pub fn purge(&mut self, ctx: &Ctx) -> Result<(Effects, Vec<String>), Refusal> {
        self.erase_file(Erasure::RetentionEnded, ctx)
    }

    /// Erases a closed case's file: at the end of its retention period (the
    /// sweep, event `purged`) or earlier, when a supervisor grants the
    /// complainant's request (PIPL; event `erased`, with the reason and the
    /// actor). One path for both: the content goes (the complainant's data,
    /// the texts, the messages, the evidence); what remains is the skeleton
    /// that statistics need — number, channel, category, department,
    /// respondent, dates, statuses, outcome and cited basis. Refused (409)
    /// while the case is open, under a legal hold, or once erased; an early
    /// erasure needs a reason (422). Returns the evidence hashes the file
    /// held (the caller removes those no other case names).
    pub fn erase_file(
        &mut self,
        why: Erasure<'_>,
        ctx: &Ctx,
    ) -> Result<(Effects, Vec<String>), Refusal> {
        let due = self.deadlines.retention_until;
        let event = match why {
            Erasure::RetentionEnded => {
                if self.status != Status::Closed
                    || self.legal_hold
                    || self.purged_at.is_some()
                    || due.is_none_or(|d| ctx.now < d)
                {
                    return Err(wrong(self.status, "purged"));
                }
                None
            }
            Erasure::Requested { reason } => {
                if self.status != Status::Closed {
                    return Err(wrong(
                        self.status,
                        "erased (only a closed case's data can be erased)",
                    ));
                }
                if self.legal_hold {
                    return Err(wrong(self.status, "erased (it is under a legal hold)"));
                }
                if self.purged_at.is_some() {
                    return Err(wrong(self.status, "erased (its file was purged already)"));
                }
                let mut errors = FieldErrors::new();
                required_text(&mut errors, "reason", reason, 5000);
                errors.into_result()?;
                Some(reason.trim().to_string())
            }
        };
        let hashes: Vec<String> = self.evidence.iter().map(|e| e.sha256.clone()).collect();
        let removed = ev::Removed {
            messages: self.messages.len(),
            notes: self.notes.len(),
            evidence: self.evidence.len(),
        };
        let record = &mut self.record;
        record.complainant = crate::registration::Complainant {
            name: String::new(),
            user_id: None,
            email: None,
            phone: None,
            postal_address: None,
        };
        record.subject = String::new();
        record.description = String::new();
        record.demands = None;
        record.occurred_at = None;
        record.links.clear();
        record.order_numbers.clear();
        self.call_reference = None;
        self.messages.clear();
        self.notes.clear();
        self.evidence.clear();
        self.possible_duplicates.clear();
        self.withdrawal_reason = None;
        if let Some(r) = &mut self.info_request {
            r.items.clear();
        }
        if let Some(r) = &mut self.rejection {
            r.reason.clear();
            r.guidance.clear();
        }
        if let Some(d) = &mut self.decision {
            d.reply.clear();
        }
        if let Some(a) = &mut self.appeal {
            a.reason.clear();
        }
        if let Some(r) = &mut self.review {
            r.reply.clear();
        }
        if let Some(f) = &mut self.feedback {
            f.comment = None;
        }
        for e in &mut self.extensions {
            e.reason.clear();
        }
        for d in &mut self.deliveries {
            if d.party == Party::Complainant {
                d.recipient = String::new();
            }
        }
        self.purged_at = Some(ctx.now);
        let effects = match event {
            None => Effects::default().event(CaseEvent::Purged(ev::Purged {
                retention_until: due,
                removed,
            })),
            Some(reason) => Effects::default().event(CaseEvent::Erased(ev::Erased {
                reason: reason.clone(),
                by: ctx.actor.clone(),
                retention_until: due,
                removed,
            })),
        };
        Ok((effects, hashes))
    }

    /// Replaces the registration record before acceptance; the event keeps
    /// the fields that changed (contact data only as "changed").
    pub fn update_record(&mut self, record: Registration, ctx: &Ctx) -> Result<Effects, Refusal> {
        if !matches!(self.status, Status::Submitted | Status::NeedsInfo) {
            return Err(wrong(
                self.status,
                "edited (the record can be completed only before acceptance)",
            ));
        }
        let old = serde_json::to_value(&self.record).unwrap_or(Value::Null);
        let new = serde_json::to_value(&record).unwrap_or(Value::Null);
        let mut changed = serde_json::Map::new();
        if let (Value::Object(o), Value::Object(n)) = (&old, &new) {
            for k in o.keys().chain(n.keys()) {
                if o.get(k) != n.get(k) && !changed.contains_key(k) {
                    let previous = if k == "complainant" {
                        redact_contact(&self.record.complainant, &record.complainant)
                    } else {
                        o.get(k).cloned().unwrap_or(Value::Null)
                    };
                    changed.insert(k.clone(), previous);
                }
            }
        }
        if changed.is_empty() {
            return Ok(Effects::default());
        }
        self.record = record;
        self.touch(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::RecordUpdated(ev::RecordUpdated {
                previous: changed.clone(),
            })),
        )
    }

    // ---- the deadline jobs -------------------------------------------------

    /// The complainant's supplement deadline has passed.
    pub fn lapse(&mut self, ctx: &Ctx) -> Result<Effects, Refusal> {
        let due = self.deadlines.supplement_due_at;
        if self.status != Status::NeedsInfo || due.is_none_or(|d| ctx.now < d) {
            return Err(wrong(self.status, "lapsed"));
        }
        self.close(Closure::Lapsed, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Lapsed(ev::Lapsed {
                supplement_due_at: due,
            }))
            .notify(Party::Complainant, NoticeKind::Lapsed))
    }

    /// The appeal window has ended without an appeal.
    pub fn close_after_appeal_window(&mut self, ctx: &Ctx) -> Result<Effects, Refusal> {
        let due = self.deadlines.appeal_due_at;
        if self.status != Status::Resolved || due.is_none_or(|d| ctx.now < d) {
            return Err(wrong(self.status, "closed"));
        }
        self.close(Closure::Resolved, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Closed(ev::Closed { appeal_due_at: due }))
            .notify(Party::Complainant, NoticeKind::Closed))
    }

    /// Flags a missed staff deadline once per deadline.
    pub fn flag_overdue(&mut self, ctx: &Ctx) -> Result<Effects, Refusal> {
        let due = self.next_due_at();
        if !self.is_overdue(ctx.now) || self.overdue_flagged_for == due {
            return Err(wrong(self.status, "flagged overdue"));
        }
        self.overdue_flagged_for = due;
        self.note_missed(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::DeadlineMissed(ev::DeadlineMissed {
                status: self.status,
                due_at: due,
                assignee: self.assignee.clone(),
            })),
        )
    }

    /// Sends the reminders and escalations of the running clock that are
    /// due now, each once.
    pub fn send_alerts(&mut self, ctx: &Ctx) -> Option<Effects> {
        if !self.status.deadline_is_staff_duty() {
            return None;
        }
        let assignee = self.assignee.clone();
        let clock = self.clock.as_mut()?;
        let batch = clock.take_alerts(&ctx.policy.alerts, ctx.calendar, ctx.now);
        if batch.send.is_empty() && batch.superseded.is_empty() {
            return None;
        }
        let (stage, due) = (clock.stage, clock.due_at);
        let mut effects = Effects::default();
        for alert in batch.send {
            let to = alert.recipient();
            effects = match alert.kind {
                AlertKind::Share { percent } => effects
                    .event(CaseEvent::ReminderSent(ev::ReminderSent {
                        stage,
                        key: alert.key.clone(),
                        percent: Some(percent),
                        working_days_overdue: None,
                        due_at: due,
                        to,
                        assignee: assignee.clone(),
                    }))
                    .notify_staff(NoticeKind::Reminder, to),
                AlertKind::Overdue { working_days } => effects
                    .event(CaseEvent::ReminderSent(ev::ReminderSent {
                        stage,
                        key: alert.key.clone(),
                        percent: None,
                        working_days_overdue: Some(working_days),
                        due_at: due,
                        to,
                        assignee: assignee.clone(),
                    }))
                    .notify_staff(NoticeKind::Reminder, to),
                AlertKind::Escalation { step, to } => effects
                    .event(CaseEvent::Escalated(ev::Escalated {
                        stage,
                        key: alert.key.clone(),
                        step: step + 1,
                        due_at: due,
                        to,
                        assignee: assignee.clone(),
                    }))
                    .notify_staff(NoticeKind::Escalation, to),
            };
        }
        if effects.events.is_empty() {
            // Only superseded keys: recorded with the next event (they are
            // in the past, so they never trigger a sweep by themselves).
            return None;
        }
        Some(effects)
    }

    /// The next instant the sweep has something to do for this case.
    pub fn sweep_at(&self, policy: &DeadlinePolicy, calendar: &Calendar) -> Option<DateTime<Utc>> {
        [
            self.deadline_sweep_at(policy, calendar),
            self.next_delivery_at(),
            self.next_action_reminder_at(calendar),
            self.reply_sweep_at(calendar),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The respondent's reply deadline while the case is handled: its
    /// reminder, then its expiry.
    fn reply_sweep_at(&self, calendar: &Calendar) -> Option<DateTime<Utc>> {
        if self.status != Status::InProgress {
            return None;
        }
        self.respondent_reply.as_ref()?.next_at(calendar)
    }

    /// Whether a reply from the respondent is still expected: the case is
    /// handled and they have not replied yet.
    pub fn respondent_reply_expected(&self) -> bool {
        self.status == Status::InProgress
            && self.respondent_reply.as_ref().is_some_and(|r| r.awaiting())
    }

    /// The reminder one working day before the reply deadline, and the
    /// record of a deadline missed, each once.
    pub fn sweep_reply(&mut self, ctx: &Ctx) -> Option<Effects> {
        if self.status != Status::InProgress {
            return None;
        }
        let reply = self.respondent_reply.as_mut()?;
        let alert = reply.take_due(ctx.now, ctx.calendar)?;
        let due = reply.due_at;
        let respondent = self.record.respondent.as_ref().map(|r| r.key());
        Some(match alert {
            crate::reply::ReplyAlert::Reminder => Effects::default()
                .event(CaseEvent::RespondentReminderSent(ev::ReplyDue {
                    due_at: due,
                    respondent: respondent.clone(),
                }))
                .notify(Party::Respondent, NoticeKind::Reminder),
            crate::reply::ReplyAlert::Missed => {
                Effects::default().event(CaseEvent::RespondentReplyMissed(ev::ReplyDue {
                    due_at: due,
                    respondent: respondent.clone(),
                }))
            }
        })
    }

    /// [`Case::sweep_at`] for the deadlines alone.
    fn deadline_sweep_at(
        &self,
        policy: &DeadlinePolicy,
        calendar: &Calendar,
    ) -> Option<DateTime<Utc>> {
        if self.status == Status::Closed {
            return self
                .deadlines
                .retention_until
                .filter(|_| !self.legal_hold && self.purged_at.is_none());
        }
        let due = self.next_due_at()?;
        match self.status {
            Status::NeedsInfo | Status::Resolved => Some(due),
            Status::Closed => None,
            _ => {
                let flag = (self.overdue_flagged_for != Some(due)).then_some(due);
                let alert = self
                    .clock
                    .as_ref()
                    .and_then(|c| c.next_alert_at(&policy.alerts, calendar));
                match (flag, alert) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// Whatever the deadline sweep should do to this case now, if anything.
    /// (After a purge the caller removes the evidence files the case held.)
    pub fn sweep(&mut self, ctx: &Ctx) -> Option<Effects> {
        let mut effects = self.sweep_deadlines(ctx).unwrap_or_default();
        // Corrective actions are followed up whatever the case's status
        // (not once its file was purged).
        if let Some(reminders) = self.send_action_reminders(ctx) {
            effects.merge(reminders);
        }
        (!effects.events.is_empty()).then_some(effects)
    }

    fn sweep_deadlines(&mut self, ctx: &Ctx) -> Option<Effects> {
        match self.status {
            Status::Closed => self.purge(ctx).ok().map(|(effects, _)| effects),
            Status::NeedsInfo => self.lapse(ctx).ok(),
            Status::Resolved => self.close_after_appeal_window(ctx).ok(),
            _ => {
                let mut effects = self.flag_overdue(ctx).unwrap_or_default();
                if let Some(alerts) = self.send_alerts(ctx) {
                    effects.merge(alerts);
                }
                if let Some(reply) = self.sweep_reply(ctx) {
                    effects.merge(reply);
                }
                (!effects.events.is_empty()).then_some(effects)
            }
        }
    }

    // ---- links and merges --------------------------------------------------

    pub fn link(&mut self, other: &mut Case, ctx: &Ctx) -> Result<(Effects, Effects), Refusal> {
        self.open_for_change("linked")?;
        if other.id == self.id {
            return Err(Refusal::invalid("other", Reason::LinkSelf));
        }
        if self.links.contains(&other.id) {
            return Ok((Effects::default(), Effects::default()));
        }
        self.links.push(other.id);
        self.touch(ctx.now);
        let mine = Effects::default().event(CaseEvent::Linked(ev::Linked {
            other: other.id,
            tracking_no: other.tracking_no.clone(),
        }));
        let mut theirs = Effects::default();
        if !other.is_sealed() && !other.links.contains(&self.id) {
            other.links.push(self.id);
            other.touch(ctx.now);
            theirs = theirs.event(CaseEvent::Linked(ev::Linked {
                other: self.id,
                tracking_no: self.tracking_no.clone(),
            }));
        }
        Ok((mine, theirs))
    }

    /// Merges this duplicate into an open original: this case closes, its
    /// messages and evidence move over, both tracking numbers keep working.
    pub fn merge_into(
        &mut self,
        original: &mut Case,
        ctx: &Ctx,
    ) -> Result<(Effects, Effects), Refusal> {
        if !self.status.is_before_result() {
            return Err(wrong(self.status, "merged"));
        }
        if original.id == self.id {
            return Err(Refusal::invalid("into", Reason::MergeSelf));
        }
        if original.is_sealed() || original.merged_into.is_some() {
            return Err(Refusal::WrongState {
                status: original.status.to_string(),
                action: "merged into (the original must be open)",
            });
        }
        if !self.same_parties(original) {
            return Err(Refusal::invalid("into", Reason::MergeParties));
        }
        // The original keeps within the caps with what it receives.
        if original.messages.len() + self.messages.len() > MAX_MESSAGES
            || original.evidence.len() + self.evidence.len() > MAX_EVIDENCE
        {
            return Err(Refusal::Full(format!(
                "merged, the original would hold more than {MAX_MESSAGES} messages or \
                 {MAX_EVIDENCE} evidence files"
            )));
        }
        let from = self.id.to_string();
        for m in &self.messages {
            let mut m = m.clone();
            m.from_case = Some(from.clone());
            original.messages.push(m);
        }
        for e in &self.evidence {
            let mut e = e.clone();
            e.from_case = Some(from.clone());
            original.evidence.push(e);
        }
        original.merged_from.push(self.id);
        original.touch(ctx.now);
        self.merged_into = Some(original.id);
        self.close(Closure::Merged, ctx);
        let mine = Effects::default()
            .event(CaseEvent::Merged(ev::Merged {
                into: original.id,
                tracking_no: original.tracking_no.clone(),
            }))
            .notify(Party::Complainant, NoticeKind::Merged);
        let theirs = Effects::default().event(CaseEvent::MergedFrom(ev::MergedFrom {
            from: self.id,
            tracking_no: self.tracking_no.clone(),
            messages: self.messages.len(),
            evidence: self.evidence.len(),
        }));
        Ok((mine, theirs))
    }

    /// Same respondent, and the same complainant by user id, email or phone.
    pub fn same_parties(&self, other: &Case) -> bool {
        let (a, b) = (&self.record.complainant, &other.record.complainant);
        let same = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y));
        let respondent = |c: &Case| c.record.respondent.as_ref().map(|r| r.key());
        respondent(self) == respondent(other)
            && (same(&a.user_id, &b.user_id)
                || same(&a.email, &b.email)
                || same(&a.phone, &b.phone))
    }

    /// Records the delivery of a notice (the proof of notice).
    pub fn record_delivery(&mut self, delivery: Delivery) {
        self.deliveries.push(delivery);
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

/// The checks a decision's and a review's remedies, sanctions and
/// corrective actions share.
fn measure_errors(
    errors: &mut FieldErrors,
    remedies: &[Measure],
    sanctions: &[Measure],
    actions: &[ActionInput],
    ctx: &Ctx,
) {
    for (field, list) in [("remedies", remedies), ("sanctions", sanctions)] {
        for (i, m) in list.iter().enumerate() {
            if m.kind.trim().is_empty() || m.kind.chars().count() > 100 {
                errors.add(format!("{field}[{i}].kind"), Reason::Length { n: 100 });
            }
        }
    }
    for (i, a) in actions.iter().enumerate() {
        required_text(
            errors,
            &format!("actions[{i}].description"),
            &a.description,
            2000,
        );
        if a.due_at.is_some_and(|d| d <= ctx.now) {
            errors.add(format!("actions[{i}].due_at"), Reason::InFuture);
        }
    }
}

/// Corrective actions as ordered: owned by `owner` unless one is named,
/// due `action_days` working days from now unless a date is given.
fn corrective_actions(
    actions: Vec<ActionInput>,
    owner: &str,
    action_days: u32,
    ctx: &Ctx,
) -> Vec<CorrectiveAction> {
    let default_due = ctx.calendar.working_days_after(ctx.now, action_days);
    actions
        .into_iter()
        .map(|a| CorrectiveAction {
            id: new_id(),
            description: a.description.trim().into(),
            owner: a
                .owner
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| owner.to_string()),
            due_at: a.due_at.unwrap_or(default_due),
            done_at: None,
            done_by: None,
            done_note: None,
            reminders: Vec::new(),
        })
        .collect()
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

/// The complainant's previous values are personal data: the journal only
/// records which of them changed.
fn redact_contact(
    old: &crate::registration::Complainant,
    new: &crate::registration::Complainant,
) -> Value {
    let mark = |changed: bool| {
        if changed {
            json!("(changed)")
        } else {
            Value::Null
        }
    };
    json!({
        "name": mark(old.name != new.name),
        "user_id": mark(old.user_id != new.user_id),
        "email": mark(old.email != new.email),
        "phone": mark(old.phone != new.phone),
        "postal_address": mark(old.postal_address != new.postal_address),
    })
}
