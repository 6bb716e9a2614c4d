//! The `json!` builders the typed views replaced, kept for the tests
//! only: each typed view must serialise to the same bytes as these.
#![allow(dead_code)]

use super::{Contact, mask_name};
use chrono::{DateTime, Utc};
use redress_domain::{Audience, Calendar, Case, Party, Status, mask_email, mask_phone};
use redress_store::{CaseSummary, JournalEntry};
use serde_json::{Value, json};

fn complainant(case: &Case, contact: Contact) -> Value {
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
    json!({"name": name, "user_id": user_id, "email": email, "phone": phone, "postal_address": postal_address})
}

/// `北京市朝阳区某某路 1 号` → `北京市朝阳区…`.
fn mask_address(address: &str) -> String {
    let head: String = address.chars().take(6).collect();
    format!("{head}…")
}

fn record(case: &Case, contact: Contact) -> Value {
    let r = &case.record;
    json!({
        "complainant": complainant(case, contact),
        "respondent": r.respondent,
        "subject": r.subject,
        "description": r.description,
        "demands": r.demands,
        "occurred_at": r.occurred_at,
        "links": r.links,
        "order_numbers": r.order_numbers,
    })
}

/// The case's deadlines, with `provisional: true` when the running one
/// reaches into a year without holiday data (named in
/// `provisional_deadlines`): counted on weekends alone, it may move once
/// the year's days are set (issue 19).
fn deadlines(case: &Case, calendar: &Calendar, now: DateTime<Utc>) -> Value {
    let mut v = serde_json::to_value(&case.deadlines).unwrap_or(Value::Null);
    let provisional: Vec<String> = case
        .clock
        .as_ref()
        .filter(|c| !case.is_sealed() && c.is_provisional(calendar, now))
        .and_then(|c| serde_json::to_value(c.stage).ok())
        .and_then(|stage| stage.as_str().map(|s| format!("{s}_due_at")))
        .into_iter()
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("provisional".into(), json!(!provisional.is_empty()));
        o.insert("provisional_deadlines".into(), json!(provisional));
    }
    v
}

/// The running clock: its stage, due instant, pause and the working time
/// left (frozen while paused; negative once overdue).
pub fn clock_view(case: &Case, calendar: &Calendar, now: DateTime<Utc>) -> Value {
    let Some(c) = case.clock.as_ref().filter(|_| !case.is_sealed()) else {
        return Value::Null;
    };
    json!({
        "stage": c.stage,
        "started_at": c.started_at,
        "unit": c.unit,
        "length": c.length,
        "extension_days": c.extension_days,
        "paused_days": c.paused_days,
        "paused_seconds": c.paused_seconds,
        "due_at": c.due_at,
        "paused": c.paused.is_some(),
        "paused_since": c.paused.as_ref().map(|p| p.since),
        "pause_reason": c.paused.as_ref().map(|p| p.reason.clone()),
        "remaining_working_days": c.remaining_working_days(calendar, now),
        "remaining_working_seconds": c.remaining_working_seconds(calendar, now),
        "overdue": c.stage.is_staff_duty() && c.paused.is_none() && c.due_at <= now,
        "provisional": c.is_provisional(calendar, now),
    })
}

/// The respondent's reply deadline (SPEC §4) and what came of it: whether
/// a reply is still expected, the first reply, the replies that came late,
/// a deadline missed. `null` for a case not accepted (or accepted before
/// the deadline existed).
pub fn respondent_reply_view(case: &Case) -> Value {
    let Some(r) = case.respondent_reply.as_ref() else {
        return Value::Null;
    };
    json!({
        "due_at": r.due_at,
        "days": r.days,
        "paused": r.is_paused(),
        "paused_days": r.paused_days,
        "expected": case.respondent_reply_expected(),
        "replied_at": r.first_reply().map(|x| x.at),
        "on_time": r.on_time(),
        "replies": r.replies.len(),
        "late_replies": r.late_replies(),
        "reminded_at": r.reminded_at,
        "missed": r.missed_at.is_some(),
        "missed_at": r.missed_at,
    })
}

pub fn event_json(e: &JournalEntry) -> Value {
    json!({
        "seq": e.seq,
        "kind": e.kind,
        "actor": e.actor,
        "at": e.at,
        "data": serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
    })
}

/// The whole case, for staff.
pub fn staff_view(
    case: &Case,
    events: &[JournalEntry],
    contact: Contact,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> Value {
    let d = &case.deadlines;
    json!({
        "id": case.id,
        "tracking_no": case.tracking_no,
        "status": case.status,
        "closure": case.closure,
        "channel": case.channel,
        "locale": case.locale,
        "category": case.category,
        "department": case.department,
        "assignee": case.assignee,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "accepted_at": case.accepted_at,
        "closed_at": case.closed_at,
        "subject": case.record.subject,
        "complainant": complainant(case, contact),
        "respondent": case.record.respondent,
        "record": record(case, contact),
        "call_reference": case.call_reference,
        "deadlines": deadlines(case, calendar, now),
        "acceptance_due_at": d.acceptance_due_at,
        "supplement_due_at": d.supplement_due_at,
        "handling_due_at": d.handling_due_at,
        "appeal_due_at": d.appeal_due_at,
        "review_due_at": d.review_due_at,
        "respondent_reply_due_at": case.respondent_reply.as_ref().map(|r| r.due_at),
        "respondent_reply": respondent_reply_view(case),
        "next_due_at": case.next_due_at(),
        "overdue": case.is_overdue(now),
        "paused": case.is_paused(),
        "clock": clock_view(case, calendar, now),
        "info_request": case.info_request,
        "rejection": case.rejection,
        "extensions": case.extensions,
        "decision": case.decision,
        "actions": case.decision.as_ref().map(|d| d.actions.iter().map(|a| action_view(a, now)).collect::<Vec<_>>()).unwrap_or_default(),
        "appeal": case.appeal,
        "review": case.review,
        "withdrawal_reason": case.withdrawal_reason,
        "merged_into": case.merged_into,
        "merged_from": case.merged_from,
        "linked_cases": case.links,
        "possible_duplicates": case.possible_duplicates,
        "duplicate": !case.possible_duplicates.is_empty(),
        "messages": case.messages,
        "notes": case.notes,
        "evidence": case.evidence,
        "deliveries": case.deliveries,
        "feedback": case.feedback,
        "sealed": case.is_sealed(),
        "legal_hold": case.legal_hold,
        "retention_until": case.deadlines.retention_until,
        "purged_at": case.purged_at,
        "version": case.version,
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
    })
}

/// A corrective action as staff see it: its fields, who completed it and
/// when, whether it is overdue, and the reminders sent.
pub fn action_view(a: &redress_domain::CorrectiveAction, now: DateTime<Utc>) -> Value {
    json!({
        "id": a.id,
        "description": a.description,
        "owner": a.owner,
        "due_at": a.due_at,
        "done": a.done_at.is_some(),
        "done_at": a.done_at,
        "done_by": a.done_by,
        "done_note": a.done_note,
        "overdue": a.is_overdue(now),
        "reminders": a.reminders,
    })
}

/// What the complainant may do now, for the tracking page.
pub fn complainant_actions(case: &Case, now: DateTime<Utc>) -> Value {
    let open = !case.is_sealed();
    json!({
        "supplement": case.status == Status::NeedsInfo,
        "message": open,
        "evidence": open,
        "appeal": case.status == Status::Resolved && case.appeal.is_none()
            && case.deadlines.appeal_due_at.is_none_or(|d| now < d),
        "withdraw": case.status.is_before_result(),
        "feedback": (case.decision.is_some() || case.rejection.is_some()) && case.feedback.is_none(),
    })
}

/// The complainant's own view (`GET /track/{tracking_no}`).
pub fn track_view(
    case: &Case,
    merged_into_tracking_no: Option<String>,
    outside_remedies: &str,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> Value {
    let decision = case.decision.as_ref().map(|d| {
        json!({
            "outcome": d.outcome, "basis": d.basis, "reply": d.reply,
            "remedies": d.remedies, "decided_at": d.decided_at,
        })
    });
    let review = case.review.as_ref().map(|r| {
        json!({
            "result": r.result, "basis": r.basis, "reply": r.reply, "outcome": r.outcome,
            "remedies": r.remedies,
            "reviewed_at": r.reviewed_at, "outside_remedies": outside_remedies,
        })
    });
    let messages: Vec<&redress_domain::Message> = case
        .messages
        .iter()
        .filter(|m| m.audience == Audience::Complainant)
        .collect();
    let evidence: Vec<&redress_domain::Evidence> = case
        .evidence
        .iter()
        .filter(|e| e.visible_to(Party::Complainant))
        .collect();
    // The complainant's proof of notice: what was sent, when and how; the
    // provider's refusals and the retry schedule are for staff.
    let deliveries: Vec<Value> = case
        .deliveries
        .iter()
        .filter(|d| d.party == Party::Complainant)
        .map(|d| {
            json!({
                "id": d.id, "party": d.party, "notice": d.notice, "channel": d.channel, "status": d.status,
                "created_at": d.created_at, "sent_at": d.sent_at, "recipient": d.recipient,
            })
        })
        .collect();
    json!({
        "id": case.id,
        "tracking_no": case.tracking_no,
        "status": case.status,
        "closure": case.closure,
        "channel": case.channel,
        "locale": case.locale,
        "category": case.category,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "subject": case.record.subject,
        "record": record(case, Contact::Clear),
        "deadlines": deadlines(case, calendar, now),
        "acceptance_due_at": case.deadlines.acceptance_due_at,
        "supplement_due_at": case.deadlines.supplement_due_at,
        "handling_due_at": case.deadlines.handling_due_at,
        "appeal_due_at": case.deadlines.appeal_due_at,
        "review_due_at": case.deadlines.review_due_at,
        "next_due_at": case.next_due_at(),
        "paused": case.is_paused(),
        "clock": clock_view(case, calendar, now),
        "info_request": case.info_request.as_ref().map(|r| json!({"items": r.items, "due_at": r.due_at, "answered_at": r.answered_at})),
        "rejection": case.rejection.as_ref().map(|r| json!({"reason": r.reason, "guidance": r.guidance, "at": r.at})),
        "extensions": case.extensions.iter().map(|e| json!({"due_at": e.due_at, "reason": e.reason, "at": e.at})).collect::<Vec<_>>(),
        "decision": decision,
        "appeal": case.appeal,
        "review": review,
        "withdrawal_reason": case.withdrawal_reason,
        "merged_into": merged_into_tracking_no,
        "messages": messages,
        "evidence": evidence,
        "deliveries": deliveries,
        "feedback": case.feedback,
        "actions": complainant_actions(case, now),
    })
}

/// The respondent's view: no complainant contact data in the clear, no
/// internal messages.
pub fn respondent_view(case: &Case) -> Value {
    let messages: Vec<&redress_domain::Message> = case
        .messages
        .iter()
        .filter(|m| m.audience == Audience::Respondent)
        .collect();
    let evidence: Vec<&redress_domain::Evidence> = case
        .evidence
        .iter()
        .filter(|e| e.visible_to(Party::Respondent))
        .collect();
    let decision = case.decision.as_ref().map(|d| {
        json!({"outcome": d.outcome, "basis": d.basis, "remedies": d.remedies,
               "sanctions": d.sanctions, "decided_at": d.decided_at})
    });
    let review = case.review.as_ref().map(|r| {
        json!({"result": r.result, "outcome": r.outcome, "basis": r.basis,
               "remedies": r.remedies, "sanctions": r.sanctions, "reviewed_at": r.reviewed_at})
    });
    json!({
        "id": case.id,
        "tracking_no": case.tracking_no,
        "status": case.status,
        "closure": case.closure,
        "category": case.category,
        "created_at": case.created_at,
        "subject": case.record.subject,
        "description": case.record.description,
        "demands": case.record.demands,
        "occurred_at": case.record.occurred_at,
        "order_numbers": case.record.order_numbers,
        "complainant": complainant(case, Contact::Respondent),
        "respondent": case.record.respondent,
        "handling_due_at": case.deadlines.handling_due_at,
        "respondent_reply_due_at": case.respondent_reply.as_ref().map(|r| r.due_at),
        "respondent_reply": respondent_reply_view(case),
        "messages": messages,
        "evidence": evidence,
        "decision": decision,
        "review": review,
    })
}

pub fn respondent_json(key: Option<&str>, name: Option<&str>) -> Value {
    match key.and_then(|k| k.split_once(':')) {
        Some((kind, id)) => json!({"kind": kind, "id": id, "name": name}),
        None => Value::Null,
    }
}

pub fn list_item(s: &CaseSummary, now: DateTime<Utc>, calendar: &Calendar) -> Value {
    json!({
        "id": s.id,
        "tracking_no": s.tracking_no,
        "status": s.status,
        "closure": s.closure,
        "channel": s.channel,
        "category": s.category,
        "department": s.department,
        "assignee": s.assignee,
        "subject": s.subject,
        "respondent": respondent_json(s.respondent_key.as_deref(), s.respondent_name.as_deref()),
        "created_at": s.created_at,
        "next_due_at": s.next_due_at,
        "remaining_working_days": s.next_due_at.map(|d| calendar.working_days_between(now, d)),
        "overdue": s.staff_due && s.next_due_at.is_some_and(|d| d <= now),
    })
}
