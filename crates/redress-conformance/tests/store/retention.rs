//! Retention of what is kept beside the cases (SPEC §8): settled webhook
//! calls with their attempts, held mail and idempotency records expire,
//! oldest first, in batches; what is younger, or still pending, stays.

use std::sync::Arc;

use redress_store::{
    AttemptEffect, HeldMail, HeldMailState, IdempotencyRecord, Store, WebhookAttempt, WebhookCall,
    WebhookCallState, WebhookSubscription,
};
use uuid::Uuid;

use crate::harness::{case, event, t};

const DAY: i64 = 24 * 60;

fn call(sub: Uuid, seq: i64, created: i64) -> WebhookCall {
    WebhookCall {
        id: Uuid::now_v7(),
        subscription_id: sub,
        event_seq: seq,
        case_id: Some(Uuid::now_v7()),
        event_kind: "decided".into(),
        state: WebhookCallState::Pending,
        attempts: 0,
        last_status: None,
        last_error: None,
        created_at: t(created),
        first_attempt_at: None,
        last_attempt_at: None,
        next_attempt_at: Some(t(created)),
        payload: format!("{{\"seq\":{seq}}}"),
    }
}

fn attempt(call: Uuid, minute: i64) -> WebhookAttempt {
    WebhookAttempt {
        call_id: call,
        n: 0,
        at: t(minute),
        status: Some(200),
        error: None,
        duration_ms: 5,
        replay: false,
    }
}

pub async fn settled_webhook_calls_expire_with_their_attempts(s: Arc<dyn Store>) {
    let sub = s
        .insert_webhook_subscription(
            WebhookSubscription {
                id: Uuid::now_v7(),
                url: "https://a.example/".into(),
                events: vec!["decided".into()],
                secret: "sealed:v1:abc".into(),
                active: true,
                cursor: 0,
                created_by: "staff:admin".into(),
                created_at: t(0),
                updated_at: t(0),
            },
            event(None, "webhook_created"),
        )
        .await
        .unwrap();
    // Three old delivered calls, an old pending one and a young delivered one.
    let mut old = Vec::new();
    for seq in 1..=3 {
        let c = call(sub.id, seq, seq);
        s.insert_webhook_call(c.clone()).await.unwrap();
        s.record_webhook_attempt(attempt(c.id, seq), AttemptEffect::Delivered)
            .await
            .unwrap();
        old.push(c.id);
    }
    let pending = call(sub.id, 4, 4);
    s.insert_webhook_call(pending.clone()).await.unwrap();
    let young = call(sub.id, 5, 10 * DAY);
    s.insert_webhook_call(young.clone()).await.unwrap();
    s.record_webhook_attempt(attempt(young.id, 10 * DAY), AttemptEffect::Delivered)
        .await
        .unwrap();

    // In batches: two, then one, then none.
    let before = t(DAY);
    assert_eq!(s.expire_webhook_calls(before, 2).await.unwrap(), 2);
    assert_eq!(s.expire_webhook_calls(before, 2).await.unwrap(), 1);
    assert_eq!(s.expire_webhook_calls(before, 2).await.unwrap(), 0);
    for id in &old {
        assert_eq!(s.get_webhook_call(*id).await.unwrap(), None);
    }
    assert!(s.webhook_attempts(old.clone()).await.unwrap().is_empty());
    assert!(s.get_webhook_call(pending.id).await.unwrap().is_some());
    assert!(s.get_webhook_call(young.id).await.unwrap().is_some());
    assert_eq!(s.webhook_attempts(vec![young.id]).await.unwrap().len(), 1);
    let counts = s.table_counts().await.unwrap();
    assert_eq!((counts.webhook_calls, counts.webhook_attempts), (2, 1));
}

fn mail(key: &str, minutes: i64) -> HeldMail {
    HeldMail {
        id: Uuid::now_v7(),
        seq: 0,
        mail_key: key.into(),
        received_at: t(minutes),
        sender: format!("sealed-sender-{key}"),
        subject: format!("sealed-subject-{key}"),
        tracking_no: None,
        case_id: None,
        raw: format!("sealed-raw-{key}"),
        size: 100,
        state: HeldMailState::Held,
        settled_by: None,
        settled_at: None,
        attached_to: None,
    }
}

pub async fn held_mail_expires_after_receipt_or_settlement(s: Arc<dyn Store>) {
    let old_held = s
        .hold_mail(mail("a", 0), event(None, "mail_held"))
        .await
        .unwrap();
    let young_held = s
        .hold_mail(mail("b", 10 * DAY), event(None, "mail_held"))
        .await
        .unwrap();
    // Received long ago, settled lately: kept until its settlement is old.
    let late_settled = s
        .hold_mail(mail("c", 1), event(None, "mail_held"))
        .await
        .unwrap();
    s.settle_held_mail(
        late_settled,
        HeldMailState::Discarded,
        "staff:alice".into(),
        t(10 * DAY),
        None,
        event(None, "mail_discarded"),
    )
    .await
    .unwrap();
    let early_settled = s
        .hold_mail(mail("d", 2), event(None, "mail_held"))
        .await
        .unwrap();
    s.settle_held_mail(
        early_settled,
        HeldMailState::Attached,
        "staff:alice".into(),
        t(3),
        Some(Uuid::now_v7()),
        event(None, "mail_attached"),
    )
    .await
    .unwrap();

    let before = t(DAY);
    assert_eq!(s.expire_held_mail(before, 1).await.unwrap(), 1);
    assert_eq!(s.expire_held_mail(before, 10).await.unwrap(), 1);
    assert_eq!(s.expire_held_mail(before, 10).await.unwrap(), 0);
    assert_eq!(s.get_held_mail(old_held).await.unwrap(), None);
    assert_eq!(s.get_held_mail(early_settled).await.unwrap(), None);
    assert!(s.get_held_mail(young_held).await.unwrap().is_some());
    assert!(s.get_held_mail(late_settled).await.unwrap().is_some());
    // Later, everything is old.
    assert_eq!(s.expire_held_mail(t(20 * DAY), 10).await.unwrap(), 2);
    assert_eq!(s.table_counts().await.unwrap().held_mail, 0);
}

pub async fn idempotency_records_expire(s: Arc<dyn Store>) {
    for (n, created) in [(1u32, 0i64), (2, 1), (3, 10 * DAY)] {
        let row = case(n);
        let record = IdempotencyRecord {
            key: format!("key-{n}"),
            request_hash: "h".into(),
            status: 201,
            body: "{}".into(),
            created_at: t(created),
        };
        s.insert_case(
            row.clone(),
            vec![event(Some(row.id), "registered")],
            Some(record),
        )
        .await
        .unwrap();
    }
    assert_eq!(s.expire_idempotency(t(DAY), 1).await.unwrap(), 1);
    assert_eq!(s.expire_idempotency(t(DAY), 1).await.unwrap(), 1);
    assert_eq!(s.expire_idempotency(t(DAY), 1).await.unwrap(), 0);
    assert_eq!(s.get_idempotency("key-1").await.unwrap(), None);
    assert_eq!(s.get_idempotency("key-2").await.unwrap(), None);
    assert!(s.get_idempotency("key-3").await.unwrap().is_some());
    // The cases themselves stay.
    assert_eq!(s.table_counts().await.unwrap().cases, 3);
}
