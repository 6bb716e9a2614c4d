//! The events a case's transitions append to the journal, as one enum with
//! a typed payload per kind ([`CaseEvent`]).
//!
//! The journal and the webhooks keep an event as its kind (`"accepted"`)
//! and its payload as JSON text. [`CaseEvent::data`] gives that JSON: a
//! payload struct's fields come out as an object whose keys are in
//! alphabetical order (serde_json's map), which is exactly what the
//! `json!` literals the transitions wrote before this module gave, so
//! stored events, their hashes and webhook bodies are unchanged.
//! [`CaseEvent::read`] reads a stored event back; payloads written by
//! older versions (a field missing) still read, a missing optional field
//! as `None`.
//!
//! Which kinds the platform may subscribe to with a webhook is part of the
//! list ([`CASE_EVENTS`]): the delivery bookkeeping (`delivery_sent`, …)
//! is not offered.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Actor, ActorKind, Audience, CaseId, Channel, CorrectiveAction, DeliveryChannel, Locale,
    Measure, NoteKind, NoticeKind, Outcome, Party, Recipient, Respondent, ReviewResult, Stage,
    Status,
};

type At = DateTime<Utc>;

/// Declares [`CaseEvent`], its kinds and the list of kinds offered to
/// webhooks, from one table, so that the three cannot drift apart.
macro_rules! case_events {
    (
        offered { $( $(#[$om:meta])* $ov:ident($op:ty) = $on:literal, )* }
        internal { $( $(#[$im:meta])* $iv:ident($ip:ty) = $in:literal, )* }
    ) => {
        /// An event a case's transition appends, with its payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum CaseEvent {
            $( $(#[$om])* $ov($op), )*
            $( $(#[$im])* $iv($ip), )*
        }

        /// Every case event kind one may subscribe to with a webhook, in
        /// lifecycle order. Kinds the application adds about staff work on
        /// a case (`personal_data_viewed`, `evidence_viewed`,
        /// `archive_exported`), the complainant's download of their own
        /// data (`data_exported`) and the delivery bookkeeping are not
        /// offered.
        pub const CASE_EVENTS: &[&str] = &[ $( $on, )* ];

        /// The kinds of delivery bookkeeping: journalled, not offered.
        pub const INTERNAL_EVENTS: &[&str] = &[ $( $in, )* ];

        impl CaseEvent {
            /// The kind as the journal names it.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Self::$ov(_) => $on, )*
                    $( Self::$iv(_) => $in, )*
                }
            }

            /// The payload as the journal and webhooks carry it.
            pub fn data(&self) -> Value {
                let v = match self {
                    $( Self::$ov(p) => serde_json::to_value(p), )*
                    $( Self::$iv(p) => serde_json::to_value(p), )*
                };
                v.expect("an event payload is plain data")
            }

            /// A stored event read back: `None` for a kind that is not a
            /// case event, an error for a payload that does not fit.
            pub fn read(kind: &str, data: &Value) -> Result<Option<Self>, serde_json::Error> {
                Ok(Some(match kind {
                    $( $on => Self::$ov(<$op>::deserialize(data)?), )*
                    $( $in => Self::$iv(<$ip>::deserialize(data)?), )*
                    _ => return Ok(None),
                }))
            }
        }
    };
}

case_events! {
    offered {
        // filing and the front door
        Registered(Registered) = "registered",
        RecordUpdated(RecordUpdated) = "record_updated",
        InfoRequested(InfoRequested) = "info_requested",
        Supplemented(Supplemented) = "supplemented",
        Rejected(Rejected) = "rejected",
        Accepted(Accepted) = "accepted",
        Assigned(Assigned) = "assigned",
        AccessCodeReissued(AccessCodeReissued) = "access_code_reissued",
        DeliveryRecorded(DeliveryRecorded) = "delivery_recorded",
        // the file
        MessageAdded(MessageAdded) = "message_added",
        NoteAdded(NoteAdded) = "note_added",
        EvidenceAdded(EvidenceAdded) = "evidence_added",
        Linked(Linked) = "linked",
        Merged(Merged) = "merged",
        MergedFrom(MergedFrom) = "merged_from",
        // deadlines
        Extended(Extended) = "extended",
        Paused(Paused) = "paused",
        Resumed(Resumed) = "resumed",
        DeadlineRecomputed(DeadlineRecomputed) = "deadline_recomputed",
        DeadlineMissed(DeadlineMissed) = "deadline_missed",
        ReminderSent(ReminderSent) = "reminder_sent",
        Escalated(Escalated) = "escalated",
        // the respondent's reply deadline
        RespondentReplied(RespondentReplied) = "respondent_replied",
        RespondentReminderSent(ReplyDue) = "respondent_reminder_sent",
        RespondentReplyMissed(ReplyDue) = "respondent_reply_missed",
        // the result
        Decided(Decided) = "decided",
        SanctionOrdered(Sanction) = "sanction_ordered",
        SanctionLifted(Sanction) = "sanction_lifted",
        ActionCompleted(ActionCompleted) = "action_completed",
        ActionUpdated(ActionUpdated) = "action_updated",
        ActionReminderSent(ActionReminderSent) = "action_reminder_sent",
        Appealed(Appealed) = "appealed",
        Reviewed(Reviewed) = "reviewed",
        // the end
        Withdrawn(Withdrawn) = "withdrawn",
        Lapsed(Lapsed) = "lapsed",
        Closed(Closed) = "closed",
        Feedback(FeedbackGiven) = "feedback",
        LegalHoldSet(LegalHold) = "legal_hold_set",
        LegalHoldReleased(LegalHold) = "legal_hold_released",
        Purged(Purged) = "purged",
        Erased(Erased) = "erased",
    }
    internal {
        DeliveryDeferred(DeliveryDeferred) = "delivery_deferred",
        DeliverySent(DeliverySent) = "delivery_sent",
        DeliveryRetry(DeliveryRetry) = "delivery_retry",
        DeliveryFailed(DeliveryFailed) = "delivery_failed",
        DeliveryBounced(DeliveryBounced) = "delivery_bounced",
    }
}

/// Whether `kind` is a case event kind one may subscribe to.
pub fn is_case_event(kind: &str) -> bool {
    CASE_EVENTS.contains(&kind)
}

// ---- filing and the front door ---------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub tracking_no: String,
    pub channel: Channel,
    pub locale: Locale,
    pub subject: String,
    pub respondent: Option<Respondent>,
    pub call_reference: Option<String>,
    pub acceptance_due_at: At,
    #[serde(default)]
    pub possible_duplicates: Vec<CaseId>,
}

/// The record's fields that changed, each with its value before (contact
/// details redacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordUpdated {
    pub previous: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoRequested {
    pub items: Vec<String>,
    pub due_at: At,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supplemented {
    pub acceptance_due_at: At,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub reason: String,
    pub guidance: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    pub category: String,
    pub department: String,
    pub handling_due_at: At,
    /// `None` in cases accepted before respondents had a reply deadline.
    #[serde(default)]
    pub respondent_reply_due_at: Option<At>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assigned {
    pub handler: String,
    pub previous: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessCodeReissued {
    /// The channel the new code goes by; `None` when intake handed it over.
    pub sent_by: Option<DeliveryChannel>,
}

/// A result notice that reached the complainant moved the appeal window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppealWindowMoved {
    pub previous_appeal_due_at: Option<At>,
    pub appeal_due_at: At,
}

/// A notice sent by post, recorded by staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecorded {
    pub delivery: String,
    pub notice: NoticeKind,
    pub channel: DeliveryChannel,
    pub sent_at: At,
    pub reference: String,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<AppealWindowMoved>,
}

// ---- the file --------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageAdded {
    pub message_id: String,
    pub audience: Audience,
    pub author: ActorKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub note_id: String,
    pub kind: NoteKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceAdded {
    pub evidence_id: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub filename: String,
    pub by: ActorKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Linked {
    pub other: CaseId,
    pub tracking_no: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub into: CaseId,
    pub tracking_no: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedFrom {
    pub from: CaseId,
    pub tracking_no: String,
    /// How many messages and evidence files came over.
    pub messages: usize,
    pub evidence: usize,
}

// ---- deadlines ---------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extended {
    pub due_at: At,
    pub previous_due_at: Option<At>,
    /// `None` when the handler chose a date.
    pub working_days: Option<u32>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paused {
    pub stage: Stage,
    pub due_at: At,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub stage: Stage,
    pub paused_at: At,
    pub working_days_added: u32,
    pub previous_due_at: At,
    pub due_at: At,
    pub respondent_reply_due_at: Option<At>,
    pub reason: Option<String>,
}

/// Why a deadline was derived again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecomputeCause {
    /// The working-day calendar changed.
    Calendar,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineRecomputed {
    pub stage: Stage,
    pub previous_due_at: At,
    pub due_at: At,
    pub cause: RecomputeCause,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineMissed {
    pub status: Status,
    pub due_at: Option<At>,
    pub assignee: Option<String>,
}

/// A reminder of a running staff deadline: a share of it used up
/// (`percent`), or working days past it (`working_days_overdue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderSent {
    pub stage: Stage,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_days_overdue: Option<u32>,
    pub due_at: At,
    pub to: Recipient,
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalated {
    pub stage: Stage,
    pub key: String,
    /// The escalation step, counted from 1.
    pub step: usize,
    pub due_at: At,
    pub to: Recipient,
    pub assignee: Option<String>,
}

// ---- the respondent's reply deadline -------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RespondentReplied {
    pub message_id: String,
    pub due_at: At,
    pub late: bool,
    /// The first reply (the one that meets the deadline or misses it).
    pub first: bool,
}

/// A reply deadline's reminder or its miss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyDue {
    pub due_at: At,
    /// The respondent's key.
    pub respondent: Option<String>,
}

// ---- the result ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub outcome: Outcome,
    pub basis: Vec<String>,
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
    pub actions: Vec<CorrectiveAction>,
    pub appeal_due_at: At,
}

/// Sanctions the platform is to act on (a decision's or a review's new
/// ones), or to lift (those a review dropped): whom they are against,
/// what they are, and on what grounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sanction {
    pub respondent: Option<Respondent>,
    #[serde(default)]
    pub sanctions: Vec<Measure>,
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub basis: Vec<String>,
    #[serde(default)]
    pub decided_by: String,
    /// `None` only in the empty payloads of the first days (before
    /// 2026-11-29 a sanction event carried nothing).
    pub decided_at: Option<At>,
    /// A decision's: when its appeal window ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal_due_at: Option<At>,
    /// A review's: always `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionCompleted {
    pub action_id: String,
    pub note: String,
}

/// A value before and after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    pub old: T,
    pub new: T,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionUpdated {
    pub action_id: String,
    pub owner: Change<String>,
    pub due_at: Change<At>,
}

/// Which reminder of a corrective action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReminderKind {
    DueSoon,
    Overdue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReminderSent {
    pub action_id: String,
    pub key: String,
    pub kind: ActionReminderKind,
    pub working_days_overdue: Option<i64>,
    pub due_at: At,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appealed {
    pub reason: String,
    pub review_due_at: At,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reviewed {
    pub result: ReviewResult,
    pub basis: Vec<String>,
    pub outcome: Option<Outcome>,
    /// Empty in reviews recorded before a modified review could order
    /// remedies, sanctions and actions.
    #[serde(default)]
    pub remedies: Vec<Measure>,
    #[serde(default)]
    pub sanctions: Vec<Measure>,
    #[serde(default)]
    pub actions: Vec<CorrectiveAction>,
}

// ---- the end -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withdrawn {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lapsed {
    pub supplement_due_at: Option<At>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    pub appeal_due_at: Option<At>,
}

/// The satisfaction rating (the comment stays out of the journal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackGiven {
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalHold {
    pub reason: String,
    pub retention_until: Option<At>,
}

/// How much of the file an erasure removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub messages: usize,
    pub notes: usize,
    pub evidence: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purged {
    pub retention_until: Option<At>,
    pub removed: Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Erased {
    pub reason: String,
    pub by: Actor,
    pub retention_until: Option<At>,
    pub removed: Removed,
}

// ---- delivery bookkeeping ------------------------------------------------------

/// The delivery an attempt was about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    pub channel: DeliveryChannel,
    pub notice: NoticeKind,
    pub party: Party,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryDeferred {
    pub delivery_id: String,
    pub channel: DeliveryChannel,
    pub notice: NoticeKind,
    pub party: Party,
    pub until: At,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverySent {
    #[serde(flatten)]
    pub attempt: DeliveryAttempt,
    pub provider_id: String,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<AppealWindowMoved>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRetry {
    #[serde(flatten)]
    pub attempt: DeliveryAttempt,
    pub next_attempt_at: At,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryFailed {
    #[serde(flatten)]
    pub attempt: DeliveryAttempt,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryBounced {
    pub delivery_id: String,
    pub channel: DeliveryChannel,
    pub notice: NoticeKind,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offered_list_is_the_lifecycle_without_bookkeeping() {
        assert!(is_case_event("legal_hold_set") && is_case_event("legal_hold_released"));
        assert!(!is_case_event("personal_data_viewed") && !is_case_event("*"));
        assert!(!is_case_event("delivery_sent"));
        let mut all: Vec<&str> = CASE_EVENTS.iter().chain(INTERNAL_EVENTS).copied().collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a kind is listed twice");
    }
}
