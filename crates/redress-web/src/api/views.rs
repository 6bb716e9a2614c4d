//! The shapes of the answers that carry a case, for the API document: the
//! whole case as staff see it (`GET /complaints/{id}` and every staff
//! action), the complainant's view (`GET /track/{tracking_no}` and every
//! complainant action), and what the admin's create calls answer. They
//! describe, field by field, the JSON that `redress_app::views` builds, so
//! that a client generated from the document gets typed models instead of
//! a free-form object (SPEC §11; `.ci/client-tour.sh` drives the README's
//! tour through such a client, and schemathesis checks every answer
//! against these shapes).
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schemas::{
    AudienceName, ChannelName, ClosureName, NoteKindName, NoticeKindName, OutcomeName,
    ReviewResultName, StatusName,
};

/// The language the case's notices and pages are in.
#[derive(Serialize, Deserialize, ToSchema)]
pub enum LocaleName {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// A stage of SPEC §4 that runs a clock.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    Acceptance,
    Supplement,
    Handling,
    Appeal,
    Review,
}

/// How a stage's length is counted.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitName {
    WorkingDays,
    CalendarDays,
    WorkingHours,
}

/// Who wrote a message or uploaded a file.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKindName {
    Staff,
    Complainant,
    Respondent,
    Integration,
    System,
}

/// A party of a case.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyName {
    Complainant,
    Respondent,
    Staff,
}

/// How a notice is delivered.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChannelName {
    Email,
    Sms,
    Webhook,
    InApp,
    Post,
}

/// Where a delivery stands.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatusName {
    Queued,
    Sent,
    Failed,
    Bounced,
}

/// What a respondent is.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RespondentKindName {
    User,
    Merchant,
    Content,
    Order,
    Platform,
}

/// The complainant as a view shows them: staff answers to actions mask
/// the e-mail, the phone and the postal address (`GET /complaints/{id}`
/// and the complainant's own view show them in full).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplainantView {
    pub name: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_address: Option<String>,
}

/// Whom the complaint is against.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RespondentView {
    pub kind: RespondentKindName,
    pub id: String,
    /// Absent when none was given.
    pub name: Option<String>,
}

/// The registration record (用户投诉登记表).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CaseRecord {
    pub complainant: ComplainantView,
    /// Null for a mailed complaint until an agent completes the record.
    pub respondent: Option<RespondentView>,
    pub subject: String,
    pub description: String,
    pub demands: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub links: Vec<String>,
    pub order_numbers: Vec<String>,
}

/// The case's deadlines; `provisional` when the running one reaches into
/// a year without holiday data (named in `provisional_deadlines`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CaseDeadlines {
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub supplement_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    pub review_due_at: Option<DateTime<Utc>>,
    pub retention_until: Option<DateTime<Utc>>,
    pub provisional: bool,
    /// The running deadline's field name (`handling_due_at`, …), if provisional.
    pub provisional_deadlines: Vec<String>,
}

/// The running clock: its stage, due instant, pause and the working time
/// left (frozen while paused; negative once overdue).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StageClockView {
    pub stage: StageName,
    pub started_at: DateTime<Utc>,
    pub unit: UnitName,
    /// The stage's length in `unit`s when it started.
    pub length: u32,
    pub extension_days: u32,
    pub paused_days: u32,
    pub paused_seconds: i64,
    pub due_at: DateTime<Utc>,
    pub paused: bool,
    pub paused_since: Option<DateTime<Utc>>,
    pub pause_reason: Option<String>,
    pub remaining_working_days: i64,
    pub remaining_working_seconds: i64,
    pub overdue: bool,
    pub provisional: bool,
}

/// The respondent's reply deadline after acceptance and what came of it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RespondentReplyView {
    pub due_at: DateTime<Utc>,
    /// Working days.
    pub days: u32,
    pub paused: bool,
    pub paused_days: u32,
    /// Whether a reply is still expected.
    pub expected: bool,
    pub replied_at: Option<DateTime<Utc>>,
    /// Whether the first reply came in time (null before one).
    pub on_time: Option<bool>,
    pub replies: u32,
    pub late_replies: u32,
    pub reminded_at: Option<DateTime<Utc>>,
    pub missed: bool,
    pub missed_at: Option<DateTime<Utc>>,
}

/// The material intake asked for.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct InfoRequestView {
    pub items: Vec<String>,
    pub due_at: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Why intake refused the complaint.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RejectionView {
    pub reason: String,
    pub guidance: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// An extension of the handling deadline.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExtensionView {
    pub due_at: DateTime<Utc>,
    pub previous_due_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A remedy or a sanction: a kind (refund, warning, …) and its details,
/// each absent when not given.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Measure {
    pub kind: String,
    pub description: Option<String>,
    pub amount: Option<f64>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// A sanction's length, calendar days.
    pub duration_days: Option<u32>,
}

/// A corrective action as the decision records it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecisionAction {
    pub id: String,
    pub description: String,
    /// The owner's username.
    pub owner: String,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub done_note: Option<String>,
    /// Reminders already sent; absent when none.
    pub reminders: Option<Vec<String>>,
}

/// The handler's decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    pub outcome: OutcomeName,
    pub basis: Vec<String>,
    pub reply: String,
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
    pub actions: Vec<DecisionAction>,
    pub decided_by: String,
    pub decider_level: i32,
    pub department: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// A corrective action as staff follow it up.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CorrectiveActionView {
    pub id: String,
    pub description: String,
    /// The owner's username.
    pub owner: String,
    pub due_at: DateTime<Utc>,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub done_note: Option<String>,
    pub overdue: bool,
    pub reminders: Vec<String>,
}

/// The complainant's appeal.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AppealView {
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The reviewer's final result.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub result: ReviewResultName,
    pub basis: Vec<String>,
    pub reply: String,
    /// The new outcome of a `modified` result.
    pub outcome: Option<OutcomeName>,
    /// A modified result's remedies and sanctions; empty when upheld.
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

/// Who wrote a message or uploaded a file.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuthorView {
    pub kind: ActorKindName,
    pub name: String,
}

/// A message on the case.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub audience: AudienceName,
    pub author: AuthorView,
    pub body: String,
    pub at: DateTime<Utc>,
    /// The merged duplicate it came from; absent otherwise.
    pub from_case: Option<String>,
    /// The Message-ID of the e-mail it came in; absent otherwise.
    pub mail_id: Option<String>,
}

/// An investigation record.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub kind: NoteKindName,
    pub body: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

/// An evidence file's metadata (the file itself: its own call).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EvidenceView {
    pub id: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// The uploader's file name: metadata only, never a path.
    pub filename: String,
    pub uploaded_by: AuthorView,
    pub at: DateTime<Utc>,
    /// The merged duplicate it came from; absent otherwise.
    pub from_case: Option<String>,
    /// The parties staff shared the file with; absent when none.
    pub shared_with: Option<Vec<PartyName>>,
    /// Present (true) when a thumbnail was made at upload.
    pub thumbnail: Option<bool>,
}

/// A notice's delivery record.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub party: PartyName,
    pub notice: NoticeKindName,
    pub channel: DeliveryChannelName,
    pub status: DeliveryStatusName,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The recipient as shown to staff (masked address, respondent key, …).
    pub recipient: String,
    /// Absent when the provider gave none.
    pub provider_id: Option<String>,
    pub attempts: u32,
    /// Absent unless a queued delivery waits for another attempt.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The provider's last refusal; absent when none.
    pub last_error: Option<String>,
}

/// The complainant's rating of the handling.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FeedbackView {
    /// 1 (lowest) to 5 (highest).
    pub score: u8,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// An entry of the case's journal.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CaseEvent {
    pub seq: i64,
    /// The event's kind (`registered`, `accepted`, `decided`, …).
    pub kind: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// What the event records; its fields depend on `kind`.
    pub data: serde_json::Value,
}

/// The whole case, as staff see it: record, status, closure, deadlines,
/// events, messages, deliveries, decision, review.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Case {
    pub id: Uuid,
    pub tracking_no: String,
    pub status: StatusName,
    /// How a closed case ended; null while open.
    pub closure: Option<ClosureName>,
    pub channel: ChannelName,
    pub locale: LocaleName,
    pub category: Option<String>,
    pub department: Option<String>,
    /// The responsible handler's username.
    pub assignee: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub subject: String,
    pub complainant: ComplainantView,
    pub respondent: Option<RespondentView>,
    pub record: CaseRecord,
    pub call_reference: Option<String>,
    pub deadlines: CaseDeadlines,
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub supplement_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    pub review_due_at: Option<DateTime<Utc>>,
    pub respondent_reply_due_at: Option<DateTime<Utc>>,
    pub respondent_reply: Option<RespondentReplyView>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub paused: bool,
    /// The running clock; null once the case is closed.
    pub clock: Option<StageClockView>,
    pub info_request: Option<InfoRequestView>,
    pub rejection: Option<RejectionView>,
    pub extensions: Vec<ExtensionView>,
    pub decision: Option<DecisionView>,
    /// The decision's corrective actions, as they are followed up.
    pub actions: Vec<CorrectiveActionView>,
    pub appeal: Option<AppealView>,
    pub review: Option<ReviewView>,
    pub withdrawal_reason: Option<String>,
    pub merged_into: Option<Uuid>,
    pub merged_from: Vec<Uuid>,
    pub linked_cases: Vec<Uuid>,
    pub possible_duplicates: Vec<Uuid>,
    pub duplicate: bool,
    pub messages: Vec<MessageView>,
    pub notes: Vec<NoteView>,
    pub evidence: Vec<EvidenceView>,
    pub deliveries: Vec<DeliveryView>,
    pub feedback: Option<FeedbackView>,
    pub sealed: bool,
    pub legal_hold: bool,
    pub retention_until: Option<DateTime<Utc>>,
    pub purged_at: Option<DateTime<Utc>>,
    /// Bumped on every change.
    pub version: i64,
    pub events: Vec<CaseEvent>,
}

/// The material asked of the complainant.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedInfoRequest {
    pub items: Vec<String>,
    pub due_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Why the complaint was refused, and where to turn.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedRejection {
    pub reason: String,
    pub guidance: String,
    pub at: DateTime<Utc>,
}

/// An extension of the handling deadline, as the complainant sees it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedExtension {
    pub due_at: DateTime<Utc>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The decision, as the complainant sees it (no sanctions).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedDecision {
    pub outcome: OutcomeName,
    pub basis: Vec<String>,
    pub reply: String,
    pub remedies: Vec<Measure>,
    pub decided_at: DateTime<Utc>,
}

/// The final result of the appeal, with the remedies outside the platform.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedReview {
    pub result: ReviewResultName,
    pub basis: Vec<String>,
    pub reply: String,
    pub outcome: Option<OutcomeName>,
    pub remedies: Vec<Measure>,
    pub reviewed_at: DateTime<Utc>,
    /// Where to turn next (regulators, courts), in the case's language.
    pub outside_remedies: String,
}

/// A notice sent to the complainant: what, when and how.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedDelivery {
    pub id: String,
    pub party: PartyName,
    pub notice: NoticeKindName,
    pub channel: DeliveryChannelName,
    pub status: DeliveryStatusName,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub recipient: String,
}

/// What the complainant may do now.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplainantActions {
    pub supplement: bool,
    pub message: bool,
    pub evidence: bool,
    pub appeal: bool,
    pub withdraw: bool,
    pub feedback: bool,
}

/// The complainant's view of their case.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackedCase {
    pub id: Uuid,
    pub tracking_no: String,
    pub status: StatusName,
    pub closure: Option<ClosureName>,
    pub channel: ChannelName,
    pub locale: LocaleName,
    pub category: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub subject: String,
    pub record: CaseRecord,
    pub deadlines: CaseDeadlines,
    pub acceptance_due_at: Option<DateTime<Utc>>,
    pub supplement_due_at: Option<DateTime<Utc>>,
    pub handling_due_at: Option<DateTime<Utc>>,
    pub appeal_due_at: Option<DateTime<Utc>>,
    pub review_due_at: Option<DateTime<Utc>>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub clock: Option<StageClockView>,
    pub info_request: Option<TrackedInfoRequest>,
    pub rejection: Option<TrackedRejection>,
    pub extensions: Vec<TrackedExtension>,
    pub decision: Option<TrackedDecision>,
    pub appeal: Option<AppealView>,
    pub review: Option<TrackedReview>,
    pub withdrawal_reason: Option<String>,
    /// The tracking number of the case this one was merged into.
    pub merged_into: Option<String>,
    /// The messages for the complainant.
    pub messages: Vec<MessageView>,
    /// The complainant's own files and those staff shared with them.
    pub evidence: Vec<EvidenceView>,
    pub deliveries: Vec<TrackedDelivery>,
    pub feedback: Option<FeedbackView>,
    pub actions: ComplainantActions,
}

/// A category and its routing, as created or changed.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategoryItem {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The department its cases go to.
    pub department: String,
    /// Handling time, working days (null: the installation's default).
    pub handling_days: Option<u32>,
    /// Appeal window, calendar days.
    pub appeal_days: Option<u32>,
    /// Review time, working days.
    pub review_days: Option<u32>,
    /// The respondent's reply after acceptance, working days.
    pub respondent_reply_days: Option<u32>,
}
