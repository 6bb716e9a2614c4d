//! Each typed view serialises to the same bytes as the `json!` builder it
//! replaced (`old.rs`), for a fresh submission and for a case with every
//! part filled in: decision, appeal, review, messages of each audience,
//! files, deliveries, feedback.

use super::*;
use chrono::Duration;
use redress_domain::testing::World;
use serde_json::json;

fn same<T: Serialize>(new: &T, old: Value) {
    let new = serde_json::to_string(new).unwrap();
    let old = serde_json::to_string(&old).unwrap();
    assert_eq!(new, old);
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// A case that went the whole way, with every optional part present.
fn full(w: &World) -> Case {
    let mut case = w.appealed();
    let at = w.now + Duration::hours(3);
    case.record.complainant.phone = Some("13800138000".into());
    case.record.complainant.user_id = Some("u-42".into());
    case.record.complainant.postal_address = Some("北京市朝阳区某某路 1 号".into());
    case.record.demands = Some("退款".into());
    case.record.occurred_at = Some(w.now - Duration::days(2));
    case.record.links = vec!["https://shop.example/o/1".into()];
    case.record.order_numbers = vec!["O-1".into(), "O-2".into()];
    case.call_reference = Some("CALL-7".into());
    case.assignee = Some("handler1".into());
    case.info_request = Some(parse(json!({
        "items": ["发票"], "due_at": at, "requested_at": w.now,
        "requested_by": "agent", "answered_at": at,
    })));
    case.extensions = parse(json!([{
        "due_at": at, "previous_due_at": w.now, "reason": "复杂", "by": "handler1", "at": w.now,
    }]));
    let decision = case.decision.as_mut().unwrap();
    decision.remedies = parse(json!([
        {"kind": "refund", "description": "全额退款", "amount": 199.5, "currency": "CNY"},
        {"kind": "apology"},
    ]));
    decision.sanctions = parse(json!([{"kind": "suspension", "duration_days": 7}]));
    decision.department = Some("customer-service".into());
    decision.actions = parse(json!([
        {"id": "a1", "description": "下架", "owner": "ops", "due_at": w.now - Duration::days(1),
         "done_at": null, "done_by": null, "done_note": null, "reminders": ["soon:2026-11-01"]},
        {"id": "a2", "description": "培训", "owner": "hr", "due_at": at,
         "done_at": w.now, "done_by": "hr", "done_note": "完成"},
    ]));
    case.review = Some(parse(json!({
        "result": "modified", "basis": ["规则 3"], "reply": "改为部分支持", "outcome": "partially_upheld",
        "remedies": [{"kind": "refund", "amount": 50.0}], "sanctions": [{"kind": "warning"}],
        "reviewed_by": "reviewer2", "reviewed_at": at,
    })));
    case.messages = parse(json!([
        {"id": "m1", "audience": "complainant", "author": {"kind": "staff", "name": "agent"},
         "body": "您好", "at": w.now},
        {"id": "m2", "audience": "respondent", "author": {"kind": "respondent", "name": "m-1"},
         "body": "已处理", "at": at, "from_case": "RD0", "mail_id": "<x@y>"},
        {"id": "m3", "audience": "internal", "author": {"kind": "staff", "name": "agent"},
         "body": "内部", "at": at},
    ]));
    case.notes = parse(json!([
        {"id": "n1", "kind": "investigation", "body": "查了", "author": "handler1", "at": w.now},
    ]));
    case.evidence = parse(json!([
        {"id": "e1", "sha256": "ab", "size": 10, "content_type": "image/png", "filename": "a.png",
         "uploaded_by": {"kind": "complainant", "name": "RD1"}, "at": w.now, "thumbnail": true},
        {"id": "e2", "sha256": "cd", "size": 20, "content_type": "application/pdf", "filename": "b.pdf",
         "uploaded_by": {"kind": "staff", "name": "agent"}, "at": at,
         "shared_with": ["complainant", "respondent"], "from_case": "RD0"},
        {"id": "e3", "sha256": "ef", "size": 30, "content_type": "text/plain", "filename": "c.txt",
         "uploaded_by": {"kind": "respondent", "name": "m-1"}, "at": at},
    ]));
    case.deliveries = parse(json!([
        {"id": "d1", "party": "complainant", "notice": "acknowledgement", "channel": "email",
         "status": "sent", "created_at": w.now, "sent_at": w.now, "recipient": "a***@example.com",
         "provider_id": "p-1", "attempts": 1},
        {"id": "d2", "party": "respondent", "notice": "result", "channel": "webhook",
         "status": "queued", "created_at": at, "sent_at": null, "recipient": "merchant:m-1",
         "attempts": 2, "next_attempt_at": at, "last_error": "503"},
    ]));
    case.feedback = Some(parse(json!({"score": 4, "comment": "还行", "at": at})));
    case.respondent_reply = Some(parse(json!({
        "started_at": w.now, "days": 3, "paused_days": 1, "due_at": at,
        "replies": [{"message_id": "m2", "at": at, "late": true}],
        "reminded_at": w.now, "missed_at": at,
    })));
    case.merged_from = vec![Uuid::nil()];
    case.links = vec![Uuid::max()];
    case.possible_duplicates = vec![Uuid::nil()];
    case.withdrawal_reason = Some("不需要了".into());
    case
}

fn events() -> Vec<JournalEntry> {
    vec![
        JournalEntry {
            seq: 1,
            case_id: None,
            kind: "registered".into(),
            actor: "staff:agent".into(),
            at: "2026-11-02T02:00:00Z".parse().unwrap(),
            data: r#"{"z": 1, "a": [true, null], "m": {"y": "x", "b": 2.5}}"#.into(),
            prev_hash: String::new(),
            hash: String::new(),
        },
        JournalEntry {
            seq: 2,
            case_id: None,
            kind: "accepted".into(),
            actor: "staff:agent".into(),
            at: "2026-11-02T03:00:00Z".parse().unwrap(),
            data: "not json".into(),
            prev_hash: String::new(),
            hash: String::new(),
        },
    ]
}

fn cases(w: &World) -> Vec<Case> {
    let mut paused = w.accepted();
    paused
        .pause("等待商家", &w.later(Duration::hours(1)))
        .unwrap();
    let mut closed = full(w);
    closed.status = Status::Closed;
    closed.closure = Some(Closure::Reviewed);
    closed.closed_at = Some(w.now + Duration::days(30));
    closed.legal_hold = true;
    closed.merged_into = Some(Uuid::nil());
    let mut masked_less = w.registered();
    masked_less.record.respondent = None;
    vec![
        w.registered(),
        w.decided(),
        paused,
        full(w),
        closed,
        masked_less,
    ]
}

#[test]
fn the_staff_view_is_the_old_json() {
    let w = World::new();
    let events = events();
    for case in cases(&w) {
        for contact in [Contact::Clear, Contact::Masked, Contact::Respondent] {
            for now in [w.now, w.now + Duration::days(60)] {
                same(
                    &staff_view(&case, &events, contact, now, &w.calendar),
                    old::staff_view(&case, &events, contact, now, &w.calendar),
                );
                same(
                    &staff_view(&case, &[], contact, now, &w.calendar),
                    old::staff_view(&case, &[], contact, now, &w.calendar),
                );
            }
        }
    }
}

#[test]
fn the_track_view_is_the_old_json() {
    let w = World::new();
    for case in cases(&w) {
        for merged in [None, Some("RD9".to_string())] {
            for now in [w.now, w.now + Duration::days(60)] {
                same(
                    &track_view(&case, merged.clone(), "12315", now, &w.calendar),
                    old::track_view(&case, merged.clone(), "12315", now, &w.calendar),
                );
            }
        }
    }
}

#[test]
fn the_respondent_view_is_the_old_json() {
    let w = World::new();
    for case in cases(&w) {
        same(&respondent_view(&case), old::respondent_view(&case));
    }
}

#[test]
fn the_list_item_is_the_old_json() {
    let w = World::new();
    let summary = CaseSummary {
        id: Uuid::nil(),
        seq: 7,
        tracking_no: "RD1".into(),
        status: Status::InProgress,
        closure: None,
        channel: Channel::Web,
        category: Some("refunds-returns".into()),
        department: Some("customer-service".into()),
        assignee: Some("handler1".into()),
        respondent_key: Some("merchant:m-1".into()),
        respondent_name: Some("店".into()),
        subject: "退款".into(),
        created_at: w.now,
        next_due_at: Some(w.now + Duration::days(3)),
        staff_due: true,
    };
    let closed = CaseSummary {
        status: Status::Closed,
        closure: Some(Closure::Merged),
        category: None,
        department: None,
        assignee: None,
        respondent_key: Some("no-colon".into()),
        respondent_name: None,
        next_due_at: None,
        staff_due: false,
        ..summary.clone()
    };
    let unnamed = CaseSummary {
        respondent_name: None,
        ..summary.clone()
    };
    for s in [summary, closed, unnamed] {
        for now in [w.now, w.now + Duration::days(10)] {
            same(
                &list_item(&s, now, &w.calendar),
                old::list_item(&s, now, &w.calendar),
            );
        }
    }
}

#[test]
fn the_parts_are_the_old_json() {
    let w = World::new();
    for case in cases(&w) {
        for now in [w.now, w.now + Duration::days(60)] {
            same(
                &clock_view(&case, &w.calendar, now),
                old::clock_view(&case, &w.calendar, now),
            );
            same(
                &complainant_actions(&case, now),
                old::complainant_actions(&case, now),
            );
        }
        same(
            &respondent_reply_view(&case),
            old::respondent_reply_view(&case),
        );
    }
}
