//! Case events as the journal and webhooks carry them: every event a
//! lifecycle writes reads back as itself, the bytes of a payload are
//! pinned, and the payload shapes of older versions still read.

use chrono::Duration;
use redress_domain::events::{self, CASE_EVENTS, CaseEvent, INTERNAL_EVENTS};
use redress_domain::testing::*;
use redress_domain::*;
use serde_json::json;

fn sanction(kind: &str) -> Measure {
    Measure {
        kind: kind.into(),
        description: Some("七天".into()),
        amount: None,
        currency: None,
        duration_days: Some(7),
    }
}

/// Events of one case from filing to a modified review, with material
/// asked for, a note, a message, an extension, a pause, a sanction ordered
/// and lifted, a rating and a legal hold.
fn a_lifecycle() -> Vec<CaseEvent> {
    let w = World::new();
    let mut out = Vec::new();
    let mut keep = |r: Result<Effects, Refusal>| out.extend(r.unwrap().events);
    let input = parse_registration(&registration("a@example.com"), w.now).unwrap();
    let (mut case, filed) = Case::register(
        uuid::Uuid::now_v7(),
        "RD1".into(),
        input,
        Channel::Web,
        vec![uuid::Uuid::now_v7()],
        &w.ctx(),
    );
    keep(Ok(filed));
    keep(case.request_info(vec!["订单截图".into()], None, &w.ctx()));
    keep(case.supplement(Some("截图已补".into()), &w.ctx()));
    keep(accept(&mut case, &w.ctx()));
    keep(case.assign(&handler(), &w.ctx()));
    keep(case.add_note(NoteKind::Investigation, "已联系商家", &w.ctx()));
    keep(case.add_message(
        Audience::Complainant,
        ActorKind::Staff,
        "正在处理",
        &w.ctx(),
    ));
    keep(case.extend(ExtendTo::WorkingDays(3), "等待物流记录", &w.ctx()));
    keep(case.pause("等待司法机关回复", &w.ctx()));
    let later = w.later(Duration::days(3));
    keep(case.resume(Some("已收到回复"), &later));
    keep(case.decide(
        Outcome::PartiallyUpheld,
        vec!["平台服务协议 5.2".into()],
        "部分支持。",
        vec![],
        vec![sanction("warning")],
        vec![],
        &handler(),
        15,
        &later,
    ));
    keep(case.appeal("处罚过轻", &later));
    keep(case.review(
        ReviewResult::Modified,
        vec!["平台服务协议 5.3".into()],
        "改为暂停。",
        ReviewChange {
            outcome: Some(Outcome::Upheld),
            remedies: vec![],
            sanctions: vec![sanction("suspension")],
            actions: vec![],
        },
        &reviewer("rev", 5),
        15,
        &later,
    ));
    keep(case.rate(4, Some("还行"), &later));
    keep(case.set_legal_hold(true, "诉讼保全"));
    keep(case.set_legal_hold(false, "诉讼结束"));
    out
}

#[test]
fn every_event_of_a_lifecycle_reads_back_as_itself() {
    let events = a_lifecycle();
    let kinds: Vec<&str> = events.iter().map(CaseEvent::kind).collect();
    for expected in [
        "registered",
        "info_requested",
        "supplemented",
        "accepted",
        "assigned",
        "note_added",
        "message_added",
        "extended",
        "paused",
        "resumed",
        "decided",
        "sanction_ordered",
        "appealed",
        "reviewed",
        "sanction_lifted",
        "feedback",
        "legal_hold_set",
        "legal_hold_released",
    ] {
        assert!(kinds.contains(&expected), "{expected} not in {kinds:?}");
    }
    for e in &events {
        assert!(
            CASE_EVENTS.contains(&e.kind()),
            "{} is written but not offered",
            e.kind()
        );
        let text = e.data().to_string();
        let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
        let back = CaseEvent::read(e.kind(), &stored).unwrap();
        assert_eq!(back.as_ref(), Some(e), "{} does not read back", e.kind());
    }
}

#[test]
fn a_payload_s_bytes_are_its_fields_in_alphabetical_order() {
    let at = "2026-11-02T02:00:00Z".parse().unwrap();
    let e = CaseEvent::Accepted(events::Accepted {
        category: "refunds-returns".into(),
        department: "customer-service".into(),
        handling_due_at: at,
        respondent_reply_due_at: Some(at),
    });
    assert_eq!(
        e.data().to_string(),
        r#"{"category":"refunds-returns","department":"customer-service","handling_due_at":"2026-11-02T02:00:00Z","respondent_reply_due_at":"2026-11-02T02:00:00Z"}"#
    );
    // A reminder names either its share or its overdue days, never both.
    let reminder = CaseEvent::ReminderSent(events::ReminderSent {
        stage: Stage::Handling,
        key: "reminder:50".into(),
        percent: Some(50),
        working_days_overdue: None,
        due_at: at,
        to: Recipient::Responsible,
        assignee: None,
    });
    assert_eq!(
        reminder.data().to_string(),
        r#"{"assignee":null,"due_at":"2026-11-02T02:00:00Z","key":"reminder:50","percent":50,"stage":"handling","to":"responsible"}"#
    );
    // A post delivery of the result moves the appeal window; others do not
    // name it.
    let post = |appeal| {
        CaseEvent::DeliveryRecorded(events::DeliveryRecorded {
            delivery: "d1".into(),
            notice: NoticeKind::Acceptance,
            channel: DeliveryChannel::Post,
            sent_at: at,
            reference: "EMS1".into(),
            appeal,
        })
        .data()
        .to_string()
    };
    assert_eq!(
        post(None),
        r#"{"channel":"post","delivery":"d1","notice":"acceptance","reference":"EMS1","sent_at":"2026-11-02T02:00:00Z"}"#
    );
    assert_eq!(
        post(Some(events::AppealWindowMoved {
            previous_appeal_due_at: None,
            appeal_due_at: at,
        })),
        r#"{"appeal_due_at":"2026-11-02T02:00:00Z","channel":"post","delivery":"d1","notice":"acceptance","previous_appeal_due_at":null,"reference":"EMS1","sent_at":"2026-11-02T02:00:00Z"}"#
    );
}

#[test]
fn payloads_of_older_versions_still_read() {
    // Before respondents had a reply deadline.
    let Some(CaseEvent::Accepted(a)) = CaseEvent::read(
        "accepted",
        &json!({"category": "c", "department": "d", "handling_due_at": "2026-11-30T10:00:00Z"}),
    )
    .unwrap() else {
        panic!("not an acceptance")
    };
    assert_eq!(a.respondent_reply_due_at, None);
    // Before a modified review could order measures.
    let Some(CaseEvent::Reviewed(r)) = CaseEvent::read(
        "reviewed",
        &json!({"result": "upheld", "basis": ["b"], "outcome": null}),
    )
    .unwrap() else {
        panic!("not a review")
    };
    assert!(r.remedies.is_empty() && r.sanctions.is_empty() && r.actions.is_empty());
    // Before a recovered code named its channel, and before a sanction
    // event carried the sanction.
    assert!(matches!(
        CaseEvent::read("access_code_reissued", &json!({})).unwrap(),
        Some(CaseEvent::AccessCodeReissued(events::AccessCodeReissued {
            sent_by: None
        }))
    ));
    assert!(matches!(
        CaseEvent::read("sanction_ordered", &json!({})).unwrap(),
        Some(CaseEvent::SanctionOrdered(events::Sanction {
            decided_at: None,
            ..
        }))
    ));
    // Before an extension said how many working days it added.
    let Some(CaseEvent::Extended(x)) = CaseEvent::read(
        "extended",
        &json!({"due_at": "2026-11-30T10:00:00Z", "previous_due_at": null, "reason": "r"}),
    )
    .unwrap() else {
        panic!("not an extension")
    };
    assert_eq!(x.working_days, None);
}

#[test]
fn a_kind_that_is_not_a_case_event_reads_as_none_and_a_bad_payload_as_an_error() {
    assert_eq!(
        CaseEvent::read("personal_data_viewed", &json!({})).unwrap(),
        None
    );
    assert!(CaseEvent::read("accepted", &json!({"category": 3})).is_err());
    assert!(INTERNAL_EVENTS.contains(&"delivery_sent"));
    assert!(!CASE_EVENTS.contains(&"delivery_sent"));
}
