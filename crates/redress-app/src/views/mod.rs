//! The shapes of a case for each kind of reader: staff (the whole case,
//! [`StaffCaseView`]), the complainant (their own view, SPEC
//! `GET /track/{no}`, [`TrackView`]), the respondent (contact data masked,
//! [`RespondentCaseView`]) and list items ([`CaseListItem`]).
//!
//! Each derives `Serialize` and `utoipa::ToSchema`: the API document's
//! schema is the type the server serialises. The fields of every struct
//! here are declared in alphabetical order: the order of the `json!`
//! objects they replaced, whose keys serde_json sorts, so that the answers
//! stay the same byte for byte (the tests compare them with the old
//! builders, kept in `old.rs`). A part built from a domain type is a view
//! of its own rather than the domain type, for the same reason: the domain
//! declares its fields in another order.

use chrono::{DateTime, Utc};
use redress_domain::{
    ActorKind, Audience, Calendar, Case, Channel, Closure, DeliveryChannel, DeliveryStatus, Locale,
    NoteKind, NoticeKind, Outcome, Party, RespondentKind, ReviewResult, Stage, Status, Unit,
    mask_email, mask_phone,
};
use redress_store::{CaseSummary, JournalEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::channels::ChannelName;
pub use crate::outbound::NoticeKindName;

mod report;
pub use report::*;

#[cfg(test)]
mod old;
#[cfg(test)]
mod old_report;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod tests;

/// How contact data is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    Clear,
    /// Email and phone masked (staff answers to actions, integrations).
    Masked,
    /// Every personal field masked (respondents).
    Respondent,
}

/// `张**`, `z***`: the first character and stars.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().clamp(2, 6))),
        None => String::new(),
    }
}

/// `北京市朝阳区某某路 1 号` → `北京市朝阳区…`.
fn mask_address(address: &str) -> String {
    let head: String = address.chars().take(6).collect();
    format!("{head}…")
}

// ---- the vocabularies the views name, for the API document ---------------

/// Where a case is (SPEC §3).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    Submitted,
    NeedsInfo,
    InProgress,
    Resolved,
    UnderReview,
    Closed,
}

/// How a closed case ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosureName {
    Rejected,
    Lapsed,
    Resolved,
    Reviewed,
    Withdrawn,
    Merged,
}

/// The result of a decision or of a modified review.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    Upheld,
    PartiallyUpheld,
    NotUpheld,
    Settled,
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudienceName {
    Internal,
    Complainant,
    Respondent,
}

/// What a note records.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteKindName {
    Investigation,
    Contact,
    Note,
}

/// A review's result.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewResultName {
    Upheld,
    Modified,
}

/// The language the case's notices and pages are in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum LocaleName {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// A stage of SPEC §4 that runs a clock.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    Acceptance,
    Supplement,
    Handling,
    Appeal,
    Review,
}

/// How a stage's length is counted.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitName {
    WorkingDays,
    CalendarDays,
    WorkingHours,
}

/// Who wrote a message or uploaded a file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKindName {
    Staff,
    Complainant,
    Respondent,
    Integration,
    System,
}

/// A party of a case.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyName {
    Complainant,
    Respondent,
    Staff,
}

/// How a notice is delivered.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChannelName {
    Email,
    Sms,
    Webhook,
    InApp,
    Post,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatusName {
    Queued,
    Sent,
    Failed,
    Bounced,
}

/// What a respondent is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RespondentKindName {
    User,
    Merchant,
    Content,
    Order,
    Platform,
}

// ---- the parts -------------------------------------------------------------

/// The complainant as a view shows them: staff answers to actions mask
/// the e-mail, the phone and the postal address (`GET /complaints/{id}`
/// and the complainant's own view show them in full).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplainantView {
    pub email: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub postal_address: Option<String>,
    pub user_id: Option<String>,
}

impl ComplainantView {
    fn new(case: &Case, contact: Contact) -> Self {
        let c = &case.record.complainant;
        let masked_contact = || {
            (
                c.email.as_deref().map(mask_email),
                c.phone.as_deref().map(mask_phone),
            )
        };
        let (name, user_id, (email, phone)) = match contact {
            Contact::Clear => (
                c.name.clone(),
                c.user_id.clone(),
                (c.email.clone(), c.phone.clone()),
            ),
            Contact::Masked => (c.name.clone(), c.user_id.clone(), masked_contact()),
            Contact::Respondent => (
                mask_name(&c.name),
                c.user_id.as_deref().map(mask_name),
                masked_contact(),
            ),
        };
        // The postal address: in full to whoever sees the contact in clear,
        // its first characters (the city) to masked views, never to the
        // respondent.
        let postal_address = match contact {
            Contact::Clear => c.postal_address.clone(),
            Contact::Masked => c.postal_address.as_deref().map(mask_address),
            Contact::Respondent => None,
        };
        Self {
            email,
            name,
            phone,
            postal_address,
            user_id,
        }
    }
}

/// Whom the complaint is against.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentView {
    pub id: String,
    #[schema(value_type = RespondentKindName)]
    pub kind: RespondentKind,
    /// Absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl From<&redress_domain::Respondent> for RespondentView {
    fn from(r: &redress_domain::Respondent) -> Self {
        Self {
            id: r.id.clone(),
            kind: r.kind,
            name: r.name.clone(),
        }
    }
}

fn respondent(case: &Case) -> Option<RespondentView> {
    case.record.respondent.as_ref().map(RespondentView::from)
}

/// The registration record (用户投诉登记表).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseRecord {
    pub complainant: ComplainantView,
    pub demands: Option<String>,
    pub description: String,
    pub links: Vec<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub order_numbers: Vec<String>,
    /// Null for a mailed complaint until an agent completes the record.
    pub respondent: Option<RespondentView>,
    pub subject: String,
}

impl CaseRecord {
    fn new(case: &Case, contact: Contact) -> Self {
        let r = &case.record;
        Self {
            complainant: ComplainantView::new(case, contact),
            demands: r.demands.clone(),
            description: r.description.clone(),
            links: r.links.clone(),
            occurred_at: r.occurred_at,
            order_numbers: r.order_numbers.clone(),
            respondent: respondent(case),
            subject: r.subject.clone(),
        }
    }
}

/// The case's deadlines; `provisional` when the running one reaches into
/// a year without holiday data (named in `provisional_deadlines`): counted
/// on weekends alone, it may move once the year's days are set (issue 19).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDeadlines {
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub provisional: bool,
    /// The running deadline's field name (`handling_due_at`, …), if provisional.
    pub provisional_deadlines: Vec<String>,
    pub retention_until: Option<DateTime<Utc>>,
    pub review_due_at: Option<DateTime<Utc>>,
    pub supplement_due_at: Option<DateTime<Utc>>,
}

impl CaseDeadlines {
    fn new(case: &Case, calendar: &Calendar, now: DateTime<Utc>) -> Self {
        let d = &case.deadlines;
        let provisional_deadlines: Vec<String> = case
            .clock
            .as_ref()
            .filter(|c| !case.is_sealed() && c.is_provisional(calendar, now))
            .and_then(|c| serde_json::to_value(c.stage).ok())
            .and_then(|stage| stage.as_str().map(|s| format!("{s}_due_at")))
            .into_iter()
            .collect();
        Self {
            acceptance_due_at: d.acceptance_due_at,
            appeal_due_at: d.appeal_due_at,
            handling_due_at: d.handling_due_at,
            provisional: !provisional_deadlines.is_empty(),
            provisional_deadlines,
            retention_until: d.retention_until,
            review_due_at: d.review_due_at,
            supplement_due_at: d.supplement_due_at,
        }
    }
}

/// The running clock: its stage, due instant, pause and the working time
/// left (frozen while paused; negative once overdue).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageClockView {
    pub due_at: DateTime<Utc>,
    pub extension_days: u32,
    /// The stage's length in `unit`s when it started.
    pub length: u32,
    pub overdue: bool,
    pub pause_reason: Option<String>,
    pub paused: bool,
    pub paused_days: u32,
    pub paused_seconds: i64,
    pub paused_since: Option<DateTime<Utc>>,
    pub provisional: bool,
    pub remaining_working_days: i64,
    pub remaining_working_seconds: i64,
    #[schema(value_type = StageName)]
    pub stage: Stage,
    pub started_at: DateTime<Utc>,
    #[schema(value_type = UnitName)]
    pub unit: Unit,
}

/// The running clock of a case still open; `None` once it is closed.
pub fn clock_view(case: &Case, calendar: &Calendar, now: DateTime<Utc>) -> Option<StageClockView> {
    let c = case.clock.as_ref().filter(|_| !case.is_sealed())?;
    Some(StageClockView {
        due_at: c.due_at,
        extension_days: c.extension_days,
        length: c.length,
        overdue: c.stage.is_staff_duty() && c.paused.is_none() && c.due_at <= now,
        pause_reason: c.paused.as_ref().map(|p| p.reason.clone()),
        paused: c.paused.is_some(),
        paused_days: c.paused_days,
        paused_seconds: c.paused_seconds,
        paused_since: c.paused.as_ref().map(|p| p.since),
        provisional: c.is_provisional(calendar, now),
        remaining_working_days: c.remaining_working_days(calendar, now),
        remaining_working_seconds: c.remaining_working_seconds(calendar, now),
        stage: c.stage,
        started_at: c.started_at,
        unit: c.unit,
    })
}

/// The respondent's reply deadline (SPEC §4) and what came of it: whether
/// a reply is still expected, the first reply, the replies that came late,
/// a deadline missed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentReplyView {
    /// Working days.
    pub days: u32,
    pub due_at: DateTime<Utc>,
    /// Whether a reply is still expected.
    pub expected: bool,
    #[schema(value_type = u32)]
    pub late_replies: usize,
    pub missed: bool,
    pub missed_at: Option<DateTime<Utc>>,
    /// Whether the first reply came in time (null before one).
    pub on_time: Option<bool>,
    pub paused: bool,
    pub paused_days: u32,
    pub reminded_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    #[schema(value_type = u32)]
    pub replies: usize,
}

/// The reply deadline; `None` for a case not accepted (or accepted before
/// the deadline existed).
pub fn respondent_reply_view(case: &Case) -> Option<RespondentReplyView> {
    let r = case.respondent_reply.as_ref()?;
    Some(RespondentReplyView {
        days: r.days,
        due_at: r.due_at,
        expected: case.respondent_reply_expected(),
        late_replies: r.late_replies(),
        missed: r.missed_at.is_some(),
        missed_at: r.missed_at,
        on_time: r.on_time(),
        paused: r.is_paused(),
        paused_days: r.paused_days,
        reminded_at: r.reminded_at,
        replied_at: r.first_reply().map(|x| x.at),
        replies: r.replies.len(),
    })
}

/// An entry of the case's journal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseEvent {
    pub actor: String,
    pub at: DateTime<Utc>,
    /// What the event records; its fields depend on `kind`.
    pub data: Value,
    /// The event's kind (`registered`, `accepted`, `decided`, …).
    pub kind: String,
    pub seq: i64,
}

impl From<&JournalEntry> for CaseEvent {
    fn from(e: &JournalEntry) -> Self {
        Self {
            actor: e.actor.clone(),
            at: e.at,
            data: serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
            kind: e.kind.clone(),
            seq: e.seq,
        }
    }
}

/// The material intake asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InfoRequestView {
    pub answered_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub items: Vec<String>,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
}

impl From<&redress_domain::InfoRequest> for InfoRequestView {
    fn from(r: &redress_domain::InfoRequest) -> Self {
        Self {
            answered_at: r.answered_at,
            due_at: r.due_at,
            items: r.items.clone(),
            requested_at: r.requested_at,
            requested_by: r.requested_by.clone(),
        }
    }
}

/// Why intake refused the complaint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectionView {
    pub at: DateTime<Utc>,
    pub by: String,
    pub guidance: String,
    pub reason: String,
}

impl From<&redress_domain::Rejection> for RejectionView {
    fn from(r: &redress_domain::Rejection) -> Self {
        Self {
            at: r.at,
            by: r.by.clone(),
            guidance: r.guidance.clone(),
            reason: r.reason.clone(),
        }
    }
}

/// An extension of the handling deadline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtensionView {
    pub at: DateTime<Utc>,
    pub by: String,
    pub due_at: DateTime<Utc>,
    pub previous_due_at: Option<DateTime<Utc>>,
    pub reason: String,
}

impl From<&redress_domain::Extension> for ExtensionView {
    fn from(e: &redress_domain::Extension) -> Self {
        Self {
            at: e.at,
            by: e.by.clone(),
            due_at: e.due_at,
            previous_due_at: e.previous_due_at,
            reason: e.reason.clone(),
        }
    }
}

/// A remedy or a sanction: a kind (refund, warning, …) and its details,
/// each absent when not given.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Measure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// ISO 4217.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A sanction's length, calendar days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_days: Option<u32>,
    pub kind: String,
}

impl From<&redress_domain::Measure> for Measure {
    fn from(m: &redress_domain::Measure) -> Self {
        Self {
            amount: m.amount,
            currency: m.currency.clone(),
            description: m.description.clone(),
            duration_days: m.duration_days,
            kind: m.kind.clone(),
        }
    }
}

fn measures(list: &[redress_domain::Measure]) -> Vec<Measure> {
    list.iter().map(Measure::from).collect()
}

/// A corrective action as the decision records it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionAction {
    pub description: String,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub done_note: Option<String>,
    pub due_at: DateTime<Utc>,
    pub id: String,
    /// The owner's username.
    pub owner: String,
    /// Reminders already sent; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub reminders: Vec<String>,
}

impl From<&redress_domain::CorrectiveAction> for DecisionAction {
    fn from(a: &redress_domain::CorrectiveAction) -> Self {
        Self {
            description: a.description.clone(),
            done_at: a.done_at,
            done_by: a.done_by.clone(),
            done_note: a.done_note.clone(),
            due_at: a.due_at,
            id: a.id.clone(),
            owner: a.owner.clone(),
            reminders: a.reminders.clone(),
        }
    }
}

/// The handler's decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionView {
    pub actions: Vec<DecisionAction>,
    pub basis: Vec<String>,
    pub decided_at: DateTime<Utc>,
    pub decided_by: String,
    pub decider_level: i32,
    pub department: Option<String>,
    #[schema(value_type = OutcomeName)]
    pub outcome: Outcome,
    pub remedies: Vec<Measure>,
    pub reply: String,
    pub sanctions: Vec<Measure>,
}

impl From<&redress_domain::Decision> for DecisionView {
    fn from(d: &redress_domain::Decision) -> Self {
        Self {
            actions: d.actions.iter().map(DecisionAction::from).collect(),
            basis: d.basis.clone(),
            decided_at: d.decided_at,
            decided_by: d.decided_by.clone(),
            decider_level: d.decider_level,
            department: d.department.clone(),
            outcome: d.outcome,
            remedies: measures(&d.remedies),
            reply: d.reply.clone(),
            sanctions: measures(&d.sanctions),
        }
    }
}

/// A corrective action as staff follow it up: its fields, who completed
/// it and when, whether it is overdue, and the reminders sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CorrectiveActionView {
    pub description: String,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub done_note: Option<String>,
    pub due_at: DateTime<Utc>,
    pub id: String,
    pub overdue: bool,
    /// The owner's username.
    pub owner: String,
    pub reminders: Vec<String>,
}

impl CorrectiveActionView {
    pub fn new(a: &redress_domain::CorrectiveAction, now: DateTime<Utc>) -> Self {
        Self {
            description: a.description.clone(),
            done: a.done_at.is_some(),
            done_at: a.done_at,
            done_by: a.done_by.clone(),
            done_note: a.done_note.clone(),
            due_at: a.due_at,
            id: a.id.clone(),
            overdue: a.is_overdue(now),
            owner: a.owner.clone(),
            reminders: a.reminders.clone(),
        }
    }
}

/// The complainant's appeal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppealView {
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl From<&redress_domain::Appeal> for AppealView {
    fn from(a: &redress_domain::Appeal) -> Self {
        Self {
            at: a.at,
            reason: a.reason.clone(),
        }
    }
}

/// The reviewer's final result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub basis: Vec<String>,
    /// The new outcome of a `modified` result.
    #[schema(value_type = Option<OutcomeName>)]
    pub outcome: Option<Outcome>,
    /// A modified result's remedies and sanctions; empty when upheld.
    pub remedies: Vec<Measure>,
    pub reply: String,
    #[schema(value_type = ReviewResultName)]
    pub result: ReviewResult,
    pub reviewed_at: DateTime<Utc>,
    pub reviewed_by: String,
    pub sanctions: Vec<Measure>,
}

impl From<&redress_domain::Review> for ReviewView {
    fn from(r: &redress_domain::Review) -> Self {
        Self {
            basis: r.basis.clone(),
            outcome: r.outcome,
            remedies: measures(&r.remedies),
            reply: r.reply.clone(),
            result: r.result,
            reviewed_at: r.reviewed_at,
            reviewed_by: r.reviewed_by.clone(),
            sanctions: measures(&r.sanctions),
        }
    }
}

/// Who wrote a message or uploaded a file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorView {
    #[schema(value_type = ActorKindName)]
    pub kind: ActorKind,
    pub name: String,
}

impl From<&redress_domain::Author> for AuthorView {
    fn from(a: &redress_domain::Author) -> Self {
        Self {
            kind: a.kind,
            name: a.name.clone(),
        }
    }
}

/// A message on the case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub at: DateTime<Utc>,
    #[schema(value_type = AudienceName)]
    pub audience: Audience,
    pub author: AuthorView,
    pub body: String,
    /// The merged duplicate it came from; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_case: Option<String>,
    pub id: String,
    /// The Message-ID of the e-mail it came in; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_id: Option<String>,
}

impl From<&redress_domain::Message> for MessageView {
    fn from(m: &redress_domain::Message) -> Self {
        Self {
            at: m.at,
            audience: m.audience,
            author: AuthorView::from(&m.author),
            body: m.body.clone(),
            from_case: m.from_case.clone(),
            id: m.id.clone(),
            mail_id: m.mail_id.clone(),
        }
    }
}

/// An investigation record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteView {
    pub at: DateTime<Utc>,
    pub author: String,
    pub body: String,
    pub id: String,
    #[schema(value_type = NoteKindName)]
    pub kind: NoteKind,
}

impl From<&redress_domain::Note> for NoteView {
    fn from(n: &redress_domain::Note) -> Self {
        Self {
            at: n.at,
            author: n.author.clone(),
            body: n.body.clone(),
            id: n.id.clone(),
            kind: n.kind,
        }
    }
}

/// An evidence file's metadata (the file itself: its own call).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceView {
    pub at: DateTime<Utc>,
    pub content_type: String,
    /// The uploader's file name: metadata only, never a path.
    pub filename: String,
    /// The merged duplicate it came from; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_case: Option<String>,
    pub id: String,
    pub sha256: String,
    /// The parties staff shared the file with; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<PartyName>, required = false)]
    pub shared_with: Vec<Party>,
    pub size: u64,
    /// Present (true) when a thumbnail was made at upload.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub thumbnail: bool,
    pub uploaded_by: AuthorView,
}

impl From<&redress_domain::Evidence> for EvidenceView {
    fn from(e: &redress_domain::Evidence) -> Self {
        Self {
            at: e.at,
            content_type: e.content_type.clone(),
            filename: e.filename.clone(),
            from_case: e.from_case.clone(),
            id: e.id.clone(),
            sha256: e.sha256.clone(),
            shared_with: e.shared_with.clone(),
            size: e.size,
            thumbnail: e.thumbnail,
            uploaded_by: AuthorView::from(&e.uploaded_by),
        }
    }
}

/// A notice's delivery record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub attempts: u32,
    #[schema(value_type = DeliveryChannelName)]
    pub channel: DeliveryChannel,
    pub created_at: DateTime<Utc>,
    pub id: String,
    /// The provider's last refusal; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Absent unless a queued delivery waits for another attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(value_type = NoticeKindName)]
    pub notice: NoticeKind,
    #[schema(value_type = PartyName)]
    pub party: Party,
    /// Absent when the provider gave none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// The recipient as shown to staff (masked address, respondent key, …).
    pub recipient: String,
    pub sent_at: Option<DateTime<Utc>>,
    #[schema(value_type = DeliveryStatusName)]
    pub status: DeliveryStatus,
}

impl From<&redress_domain::Delivery> for DeliveryView {
    fn from(d: &redress_domain::Delivery) -> Self {
        Self {
            attempts: d.attempts,
            channel: d.channel,
            created_at: d.created_at,
            id: d.id.clone(),
            last_error: d.last_error.clone(),
            next_attempt_at: d.next_attempt_at,
            notice: d.notice,
            party: d.party,
            provider_id: d.provider_id.clone(),
            recipient: d.recipient.clone(),
            sent_at: d.sent_at,
            status: d.status,
        }
    }
}

/// The complainant's rating of the handling.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackView {
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    /// 1 (lowest) to 5 (highest).
    pub score: u8,
}

impl From<&redress_domain::Feedback> for FeedbackView {
    fn from(f: &redress_domain::Feedback) -> Self {
        Self {
            at: f.at,
            comment: f.comment.clone(),
            score: f.score,
        }
    }
}

fn all<'a, T: 'a, V: From<&'a T>>(list: &'a [T]) -> Vec<V> {
    list.iter().map(V::from).collect()
}

// ---- staff -------------------------------------------------------------------

/// The whole case, as staff see it: record, status, closure, deadlines,
/// events, messages, deliveries, decision, review.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Case)]
pub struct StaffCaseView {
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The decision's corrective actions, as they are followed up.
    pub actions: Vec<CorrectiveActionView>,
    pub appeal: Option<AppealView>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    /// The responsible handler's username.
    pub assignee: Option<String>,
    pub call_reference: Option<String>,
    pub category: Option<String>,
    #[schema(value_type = ChannelName)]
    pub channel: Channel,
    /// The running clock; null once the case is closed.
    pub clock: Option<StageClockView>,
    pub closed_at: Option<DateTime<Utc>>,
    /// How a closed case ended; null while open.
    #[schema(value_type = Option<ClosureName>)]
    pub closure: Option<Closure>,
    pub complainant: ComplainantView,
    pub created_at: DateTime<Utc>,
    pub deadlines: CaseDeadlines,
    pub decision: Option<DecisionView>,
    pub deliveries: Vec<DeliveryView>,
    pub department: Option<String>,
    pub duplicate: bool,
    pub events: Vec<CaseEvent>,
    pub evidence: Vec<EvidenceView>,
    pub extensions: Vec<ExtensionView>,
    pub feedback: Option<FeedbackView>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub info_request: Option<InfoRequestView>,
    pub legal_hold: bool,
    pub linked_cases: Vec<Uuid>,
    #[schema(value_type = LocaleName)]
    pub locale: Locale,
    pub merged_from: Vec<Uuid>,
    pub merged_into: Option<Uuid>,
    pub messages: Vec<MessageView>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub notes: Vec<NoteView>,
    pub overdue: bool,
    pub paused: bool,
    pub possible_duplicates: Vec<Uuid>,
    pub purged_at: Option<DateTime<Utc>>,
    pub record: CaseRecord,
    pub rejection: Option<RejectionView>,
    pub respondent: Option<RespondentView>,
    pub respondent_reply: Option<RespondentReplyView>,
    pub respondent_reply_due_at: Option<DateTime<Utc>>,
    pub retention_until: Option<DateTime<Utc>>,
    pub review: Option<ReviewView>,
    pub review_due_at: Option<DateTime<Utc>>,
    pub sealed: bool,
    #[schema(value_type = StatusName)]
    pub status: Status,
    pub subject: String,
    pub supplement_due_at: Option<DateTime<Utc>>,
    pub tracking_no: String,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change.
    pub version: i64,
    pub withdrawal_reason: Option<String>,
}

/// The whole case, for staff.
pub fn staff_view(
    case: &Case,
    events: &[JournalEntry],
    contact: Contact,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> StaffCaseView {
    let d = &case.deadlines;
    StaffCaseView {
        acceptance_due_at: d.acceptance_due_at,
        accepted_at: case.accepted_at,
        actions: case
            .decision
            .as_ref()
            .map(|d| {
                d.actions
                    .iter()
                    .map(|a| CorrectiveActionView::new(a, now))
                    .collect()
            })
            .unwrap_or_default(),
        appeal: case.appeal.as_ref().map(AppealView::from),
        appeal_due_at: d.appeal_due_at,
        assignee: case.assignee.clone(),
        call_reference: case.call_reference.clone(),
        category: case.category.clone(),
        channel: case.channel,
        closed_at: case.closed_at,
        closure: case.closure,
        clock: clock_view(case, calendar, now),
        complainant: ComplainantView::new(case, contact),
        created_at: case.created_at,
        deadlines: CaseDeadlines::new(case, calendar, now),
        decision: case.decision.as_ref().map(DecisionView::from),
        deliveries: all(&case.deliveries),
        department: case.department.clone(),
        duplicate: !case.possible_duplicates.is_empty(),
        events: all(events),
        evidence: all(&case.evidence),
        extensions: all(&case.extensions),
        feedback: case.feedback.as_ref().map(FeedbackView::from),
        handling_due_at: d.handling_due_at,
        id: case.id,
        info_request: case.info_request.as_ref().map(InfoRequestView::from),
        legal_hold: case.legal_hold,
        linked_cases: case.links.clone(),
        locale: case.locale,
        merged_from: case.merged_from.clone(),
        merged_into: case.merged_into,
        messages: all(&case.messages),
        next_due_at: case.next_due_at(),
        notes: all(&case.notes),
        overdue: case.is_overdue(now),
        paused: case.is_paused(),
        possible_duplicates: case.possible_duplicates.clone(),
        purged_at: case.purged_at,
        record: CaseRecord::new(case, contact),
        rejection: case.rejection.as_ref().map(RejectionView::from),
        respondent: respondent(case),
        respondent_reply: respondent_reply_view(case),
        respondent_reply_due_at: case.respondent_reply.as_ref().map(|r| r.due_at),
        retention_until: d.retention_until,
        review: case.review.as_ref().map(ReviewView::from),
        review_due_at: d.review_due_at,
        sealed: case.is_sealed(),
        status: case.status,
        subject: case.record.subject.clone(),
        supplement_due_at: d.supplement_due_at,
        tracking_no: case.tracking_no.clone(),
        updated_at: case.updated_at,
        version: case.version,
        withdrawal_reason: case.withdrawal_reason.clone(),
    }
}

// ---- the complainant ---------------------------------------------------------

/// What the complainant may do now, for the tracking page.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ComplainantActions {
    pub appeal: bool,
    pub evidence: bool,
    pub feedback: bool,
    pub message: bool,
    pub supplement: bool,
    pub withdraw: bool,
}

/// What the complainant may do now.
pub fn complainant_actions(case: &Case, now: DateTime<Utc>) -> ComplainantActions {
    let open = !case.is_sealed();
    ComplainantActions {
        appeal: case.status == Status::Resolved
            && case.appeal.is_none()
            && case.deadlines.appeal_due_at.is_none_or(|d| now < d),
        evidence: open,
        feedback: (case.decision.is_some() || case.rejection.is_some()) && case.feedback.is_none(),
        message: open,
        supplement: case.status == Status::NeedsInfo,
        withdraw: case.status.is_before_result(),
    }
}

/// The material asked of the complainant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedInfoRequest {
    pub answered_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub items: Vec<String>,
}

/// Why the complaint was refused, and where to turn.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedRejection {
    pub at: DateTime<Utc>,
    pub guidance: String,
    pub reason: String,
}

/// An extension of the handling deadline, as the complainant sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedExtension {
    pub at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub reason: String,
}

/// The decision, as the complainant sees it (no sanctions).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedDecision {
    pub basis: Vec<String>,
    pub decided_at: DateTime<Utc>,
    #[schema(value_type = OutcomeName)]
    pub outcome: Outcome,
    pub remedies: Vec<Measure>,
    pub reply: String,
}

/// The final result of the appeal, with the remedies outside the platform.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedReview {
    pub basis: Vec<String>,
    #[schema(value_type = Option<OutcomeName>)]
    pub outcome: Option<Outcome>,
    /// Where to turn next (regulators, courts), in the case's language.
    pub outside_remedies: String,
    pub remedies: Vec<Measure>,
    pub reply: String,
    #[schema(value_type = ReviewResultName)]
    pub result: ReviewResult,
    pub reviewed_at: DateTime<Utc>,
}

/// A notice sent to the complainant: what, when and how (the provider's
/// refusals and the retry schedule are for staff).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedDelivery {
    #[schema(value_type = DeliveryChannelName)]
    pub channel: DeliveryChannel,
    pub created_at: DateTime<Utc>,
    pub id: String,
    #[schema(value_type = NoticeKindName)]
    pub notice: NoticeKind,
    #[schema(value_type = PartyName)]
    pub party: Party,
    pub recipient: String,
    pub sent_at: Option<DateTime<Utc>>,
    #[schema(value_type = DeliveryStatusName)]
    pub status: DeliveryStatus,
}

/// The complainant's view of their case (`GET /track/{tracking_no}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TrackedCase)]
pub struct TrackView {
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub actions: ComplainantActions,
    pub appeal: Option<AppealView>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    pub category: Option<String>,
    #[schema(value_type = ChannelName)]
    pub channel: Channel,
    pub clock: Option<StageClockView>,
    #[schema(value_type = Option<ClosureName>)]
    pub closure: Option<Closure>,
    pub created_at: DateTime<Utc>,
    pub deadlines: CaseDeadlines,
    pub decision: Option<TrackedDecision>,
    pub deliveries: Vec<TrackedDelivery>,
    /// The complainant's own files and those staff shared with them.
    pub evidence: Vec<EvidenceView>,
    pub extensions: Vec<TrackedExtension>,
    pub feedback: Option<FeedbackView>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub info_request: Option<TrackedInfoRequest>,
    #[schema(value_type = LocaleName)]
    pub locale: Locale,
    /// The tracking number of the case this one was merged into.
    pub merged_into: Option<String>,
    /// The messages for the complainant.
    pub messages: Vec<MessageView>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub record: CaseRecord,
    pub rejection: Option<TrackedRejection>,
    pub review: Option<TrackedReview>,
    pub review_due_at: Option<DateTime<Utc>>,
    #[schema(value_type = StatusName)]
    pub status: Status,
    pub subject: String,
    pub supplement_due_at: Option<DateTime<Utc>>,
    pub tracking_no: String,
    pub updated_at: DateTime<Utc>,
    pub withdrawal_reason: Option<String>,
}

/// The complainant's own view (`GET /track/{tracking_no}`).
pub fn track_view(
    case: &Case,
    merged_into_tracking_no: Option<String>,
    outside_remedies: &str,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> TrackView {
    let d = &case.deadlines;
    TrackView {
        acceptance_due_at: d.acceptance_due_at,
        actions: complainant_actions(case, now),
        appeal: case.appeal.as_ref().map(AppealView::from),
        appeal_due_at: d.appeal_due_at,
        category: case.category.clone(),
        channel: case.channel,
        closure: case.closure,
        clock: clock_view(case, calendar, now),
        created_at: case.created_at,
        deadlines: CaseDeadlines::new(case, calendar, now),
        decision: case.decision.as_ref().map(|d| TrackedDecision {
            basis: d.basis.clone(),
            decided_at: d.decided_at,
            outcome: d.outcome,
            remedies: measures(&d.remedies),
            reply: d.reply.clone(),
        }),
        deliveries: case
            .deliveries
            .iter()
            .filter(|d| d.party == Party::Complainant)
            .map(|d| TrackedDelivery {
                channel: d.channel,
                created_at: d.created_at,
                id: d.id.clone(),
                notice: d.notice,
                party: d.party,
                recipient: d.recipient.clone(),
                sent_at: d.sent_at,
                status: d.status,
            })
            .collect(),
        evidence: case
            .evidence
            .iter()
            .filter(|e| e.visible_to(Party::Complainant))
            .map(EvidenceView::from)
            .collect(),
        extensions: case
            .extensions
            .iter()
            .map(|e| TrackedExtension {
                at: e.at,
                due_at: e.due_at,
                reason: e.reason.clone(),
            })
            .collect(),
        feedback: case.feedback.as_ref().map(FeedbackView::from),
        handling_due_at: d.handling_due_at,
        id: case.id,
        info_request: case.info_request.as_ref().map(|r| TrackedInfoRequest {
            answered_at: r.answered_at,
            due_at: r.due_at,
            items: r.items.clone(),
        }),
        locale: case.locale,
        merged_into: merged_into_tracking_no,
        messages: case
            .messages
            .iter()
            .filter(|m| m.audience == Audience::Complainant)
            .map(MessageView::from)
            .collect(),
        next_due_at: case.next_due_at(),
        paused: case.is_paused(),
        record: CaseRecord::new(case, Contact::Clear),
        rejection: case.rejection.as_ref().map(|r| TrackedRejection {
            at: r.at,
            guidance: r.guidance.clone(),
            reason: r.reason.clone(),
        }),
        review: case.review.as_ref().map(|r| TrackedReview {
            basis: r.basis.clone(),
            outcome: r.outcome,
            outside_remedies: outside_remedies.to_string(),
            remedies: measures(&r.remedies),
            reply: r.reply.clone(),
            result: r.result,
            reviewed_at: r.reviewed_at,
        }),
        review_due_at: d.review_due_at,
        status: case.status,
        subject: case.record.subject.clone(),
        supplement_due_at: d.supplement_due_at,
        tracking_no: case.tracking_no.clone(),
        updated_at: case.updated_at,
        withdrawal_reason: case.withdrawal_reason.clone(),
    }
}

// ---- the respondent ------------------------------------------------------------

/// The decision, as the respondent sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentDecision {
    pub basis: Vec<String>,
    pub decided_at: DateTime<Utc>,
    #[schema(value_type = OutcomeName)]
    pub outcome: Outcome,
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
}

/// The final result of an appeal, as the respondent sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentReview {
    pub basis: Vec<String>,
    #[schema(value_type = Option<OutcomeName>)]
    pub outcome: Option<Outcome>,
    pub remedies: Vec<Measure>,
    #[schema(value_type = ReviewResultName)]
    pub result: ReviewResult,
    pub reviewed_at: DateTime<Utc>,
    pub sanctions: Vec<Measure>,
}

/// A case as its respondent sees it: no complainant contact data in the
/// clear, no internal messages, only the files it may open.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentCaseView {
    pub category: Option<String>,
    #[schema(value_type = Option<ClosureName>)]
    pub closure: Option<Closure>,
    pub complainant: ComplainantView,
    pub created_at: DateTime<Utc>,
    pub decision: Option<RespondentDecision>,
    pub demands: Option<String>,
    pub description: String,
    pub evidence: Vec<EvidenceView>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub messages: Vec<MessageView>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub order_numbers: Vec<String>,
    pub respondent: Option<RespondentView>,
    pub respondent_reply: Option<RespondentReplyView>,
    pub respondent_reply_due_at: Option<DateTime<Utc>>,
    pub review: Option<RespondentReview>,
    #[schema(value_type = StatusName)]
    pub status: Status,
    pub subject: String,
    pub tracking_no: String,
}

/// The respondent's view: no complainant contact data in the clear, no
/// internal messages.
pub fn respondent_view(case: &Case) -> RespondentCaseView {
    RespondentCaseView {
        category: case.category.clone(),
        closure: case.closure,
        complainant: ComplainantView::new(case, Contact::Respondent),
        created_at: case.created_at,
        decision: case.decision.as_ref().map(|d| RespondentDecision {
            basis: d.basis.clone(),
            decided_at: d.decided_at,
            outcome: d.outcome,
            remedies: measures(&d.remedies),
            sanctions: measures(&d.sanctions),
        }),
        demands: case.record.demands.clone(),
        description: case.record.description.clone(),
        evidence: case
            .evidence
            .iter()
            .filter(|e| e.visible_to(Party::Respondent))
            .map(EvidenceView::from)
            .collect(),
        handling_due_at: case.deadlines.handling_due_at,
        id: case.id,
        messages: case
            .messages
            .iter()
            .filter(|m| m.audience == Audience::Respondent)
            .map(MessageView::from)
            .collect(),
        occurred_at: case.record.occurred_at,
        order_numbers: case.record.order_numbers.clone(),
        respondent: respondent(case),
        respondent_reply: respondent_reply_view(case),
        respondent_reply_due_at: case.respondent_reply.as_ref().map(|r| r.due_at),
        review: case.review.as_ref().map(|r| RespondentReview {
            basis: r.basis.clone(),
            outcome: r.outcome,
            remedies: measures(&r.remedies),
            result: r.result,
            reviewed_at: r.reviewed_at,
            sanctions: measures(&r.sanctions),
        }),
        status: case.status,
        subject: case.record.subject.clone(),
        tracking_no: case.tracking_no.clone(),
    }
}

/// `GET /respondent/complaints`: a page of the respondent's cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentCaseList {
    pub items: Vec<RespondentCaseView>,
    /// Where the next page starts; null on the last.
    pub next_cursor: Option<String>,
    pub total: i64,
}

// ---- lists ---------------------------------------------------------------------

/// Whom a listed complaint is against (`kind:id` split, with the name).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedRespondent {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
}

/// The respondent of a list item: `None` without a `kind:id` key.
pub fn respondent_json(key: Option<&str>, name: Option<&str>) -> Option<ListedRespondent> {
    let (kind, id) = key?.split_once(':')?;
    Some(ListedRespondent {
        id: id.to_string(),
        kind: kind.to_string(),
        name: name.map(str::to_string),
    })
}

/// A case in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseListItem {
    /// The responsible handler's username.
    pub assignee: Option<String>,
    pub category: Option<String>,
    #[schema(value_type = ChannelName)]
    pub channel: Channel,
    #[schema(value_type = Option<ClosureName>)]
    pub closure: Option<Closure>,
    pub created_at: DateTime<Utc>,
    pub department: Option<String>,
    pub id: Uuid,
    pub next_due_at: Option<DateTime<Utc>>,
    /// Past its staff deadline.
    pub overdue: bool,
    pub remaining_working_days: Option<i64>,
    pub respondent: Option<ListedRespondent>,
    #[schema(value_type = StatusName)]
    pub status: Status,
    pub subject: String,
    pub tracking_no: String,
}

pub fn list_item(s: &CaseSummary, now: DateTime<Utc>, calendar: &Calendar) -> CaseListItem {
    CaseListItem {
        assignee: s.assignee.clone(),
        category: s.category.clone(),
        channel: s.channel,
        closure: s.closure,
        created_at: s.created_at,
        department: s.department.clone(),
        id: s.id,
        next_due_at: s.next_due_at,
        overdue: s.staff_due && s.next_due_at.is_some_and(|d| d <= now),
        remaining_working_days: s.next_due_at.map(|d| calendar.working_days_between(now, d)),
        respondent: respondent_json(s.respondent_key.as_deref(), s.respondent_name.as_deref()),
        status: s.status,
        subject: s.subject.clone(),
        tracking_no: s.tracking_no.clone(),
    }
}

/// `GET /complaints`: a page of cases. A search counts exactly up to a cap
/// and says whether the total is exact (`eq`) or a floor (`gte`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseListItem>,
    /// Where the next page starts; null on the last.
    pub next_cursor: Option<String>,
    pub total: i64,
    /// Searches only: `eq` when `total` is exact, `gte` when capped.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<TotalRelation>)]
    pub total_relation: Option<&'static str>,
}

/// Whether a search's total is exact or a floor.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TotalRelation {
    Eq,
    Gte,
}
