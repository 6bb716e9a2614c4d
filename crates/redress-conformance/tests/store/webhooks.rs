//! Webhook subscriptions, their claims, calls and attempts.

use std::sync::Arc;
use std::time::Duration;

use redress_store::{
    AttemptEffect, Store, StoreError, WebhookAttempt, WebhookCall, WebhookCallState,
    WebhookSubscription,
};
use uuid::Uuid;

use crate::harness::{event, t};

const HOUR: Duration = Duration::from_secs(3600);

fn subscription(url: &str) -> WebhookSubscription {
    WebhookSubscription {
        id: Uuid::now_v7(),
        url: url.into(),
        events: vec!["decided".into(), "sanction_ordered".into()],
        secret: "sealed:v1:abc".into(),
        active: true,
        cursor: 0,
        created_by: "staff:admin".into(),
        created_at: t(0),
        updated_at: t(0),
    }
}

fn call(sub: Uuid, seq: i64, next: i64) -> WebhookCall {
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
        created_at: t(0),
        first_attempt_at: None,
        last_attempt_at: None,
        next_attempt_at: Some(t(next)),
        payload: format!("{{\"seq\":{seq}}}"),
    }
}

fn attempt(call: Uuid, minute: i64, status: Option<i32>) -> WebhookAttempt {
    WebhookAttempt {
        call_id: call,
        n: 0,
        at: t(minute),
        status,
        error: status.is_none().then(|| "timed out".to_string()),
        duration_ms: 12,
        replay: false,
    }
}

async fn append(s: &dyn Store, n: usize) {
    let events = (0..n)
        .map(|_| event(Some(Uuid::now_v7()), "accepted"))
        .collect();
    s.append_events(events).await.unwrap();
}

pub async fn subscriptions_start_at_the_journal_head(s: Arc<dyn Store>) {
    append(&*s, 3).await;
    let made = s
        .insert_webhook_subscription(subscription("https://a.example/hook"), event(None, "x"))
        .await
        .unwrap();
    // Owed the events after the head as the write found it (its own
    // journal event is no case event: it does not matter to it).
    assert_eq!(made.cursor, 3);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 4);
    assert_eq!(
        s.get_webhook_subscription(made.id).await.unwrap(),
        Some(made.clone())
    );
    let other = s
        .insert_webhook_subscription(subscription("http://b.example/"), event(None, "x"))
        .await
        .unwrap();
    assert_eq!(other.cursor, 4);
    assert_eq!(
        s.list_webhook_subscriptions().await.unwrap(),
        vec![made.clone(), other.clone()]
    );

    let changed = WebhookSubscription {
        url: "https://a.example/v2".into(),
        events: vec!["*".into()],
        active: false,
        updated_at: t(5),
        // Neither the cursor nor the secret change this way.
        cursor: 99,
        secret: "other".into(),
        ..made.clone()
    };
    s.update_webhook_subscription(changed, event(None, "y"))
        .await
        .unwrap();
    let read = s.get_webhook_subscription(made.id).await.unwrap().unwrap();
    assert_eq!(read.url, "https://a.example/v2");
    assert_eq!(read.events, vec!["*".to_string()]);
    assert!(!read.active);
    assert_eq!(read.updated_at, t(5));
    assert_eq!((read.cursor, read.secret.as_str()), (3, "sealed:v1:abc"));

    let absent = subscription("https://c.example/");
    let err = s
        .update_webhook_subscription(absent.clone(), event(None, "y"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("webhook")), "{err:?}");
    assert_eq!(s.get_webhook_subscription(absent.id).await.unwrap(), None);
}

pub async fn claims_take_subscriptions_with_work(s: Arc<dyn Store>) {
    let a = s
        .insert_webhook_subscription(subscription("https://a.example/"), event(None, "x"))
        .await
        .unwrap();
    // Its own event is at the head, after its cursor: work (nothing to
    // send, but the cursor moves over it).
    let claimed = s.claim_webhook_subscriptions(t(0), HOUR, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id]);
    assert!(
        s.claim_webhook_subscriptions(t(0), HOUR, 10)
            .await
            .unwrap()
            .is_empty(),
        "claimed twice"
    );
    s.release_webhook_subscription(a.id).await.unwrap();
    let head = s.journal_head().await.unwrap().unwrap().0;
    s.advance_webhook_cursor(a.id, head).await.unwrap();
    // The cursor never moves back.
    s.advance_webhook_cursor(a.id, 0).await.unwrap();
    let read = s.get_webhook_subscription(a.id).await.unwrap().unwrap();
    assert_eq!(read.cursor, head);
    assert!(
        s.claim_webhook_subscriptions(t(0), HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // New events: work again.
    append(&*s, 2).await;
    assert_eq!(
        s.claim_webhook_subscriptions(t(0), HOUR, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    s.release_webhook_subscription(a.id).await.unwrap();

    // A pending call holds the subscription back until it is due, events
    // after the cursor or not.
    let pending = call(a.id, head + 1, 10);
    s.insert_webhook_call(pending.clone()).await.unwrap();
    assert!(
        s.claim_webhook_subscriptions(t(9), HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = s
        .claim_webhook_subscriptions(t(10), HOUR, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].cursor, head + 1);
    s.release_webhook_subscription(a.id).await.unwrap();

    // An inactive subscription is never claimed.
    let inactive = WebhookSubscription {
        active: false,
        ..read
    };
    s.update_webhook_subscription(inactive, event(None, "y"))
        .await
        .unwrap();
    assert!(
        s.claim_webhook_subscriptions(t(100), HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_claim_holds_until_its_lease_runs_out(s: Arc<dyn Store>) {
    s.insert_webhook_subscription(subscription("https://a.example/"), event(None, "x"))
        .await
        .unwrap();
    // The lease runs on the database's wall clock: this test sleeps.
    let lease = Duration::from_millis(300);
    assert_eq!(
        s.claim_webhook_subscriptions(t(0), lease, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.claim_webhook_subscriptions(t(0), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(lease + Duration::from_millis(150)).await;
    assert_eq!(
        s.claim_webhook_subscriptions(t(0), HOUR, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn calls_record_attempts_and_their_effects(s: Arc<dyn Store>) {
    let a = s
        .insert_webhook_subscription(subscription("https://a.example/"), event(None, "x"))
        .await
        .unwrap();
    let first = call(a.id, 7, 0);
    s.insert_webhook_call(first.clone()).await.unwrap();
    // The call moved the cursor to its event.
    let read = s.get_webhook_subscription(a.id).await.unwrap().unwrap();
    assert_eq!(read.cursor, 7);
    // One call per subscription and event.
    let err = s.insert_webhook_call(call(a.id, 7, 0)).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("call")), "{err:?}");
    let later = call(a.id, 9, 0);
    s.insert_webhook_call(later.clone()).await.unwrap();
    assert_eq!(
        s.get_webhook_call(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        s.pending_webhook_call(a.id).await.unwrap().map(|c| c.id),
        Some(first.id)
    );

    // A failure: retried later.
    let c = s
        .record_webhook_attempt(
            attempt(first.id, 1, Some(500)),
            AttemptEffect::RetryAt(t(2)),
        )
        .await
        .unwrap();
    assert_eq!(c.state, WebhookCallState::Pending);
    assert_eq!((c.attempts, c.last_status), (1, Some(500)));
    assert_eq!(c.first_attempt_at, Some(t(1)));
    assert_eq!(c.last_attempt_at, Some(t(1)));
    assert_eq!(c.next_attempt_at, Some(t(2)));
    // No answer at all: the error is kept.
    let c = s
        .record_webhook_attempt(attempt(first.id, 2, None), AttemptEffect::RetryAt(t(4)))
        .await
        .unwrap();
    assert_eq!((c.attempts, c.last_status), (2, None));
    assert_eq!(c.last_error.as_deref(), Some("timed out"));
    assert_eq!(c.first_attempt_at, Some(t(1)));
    assert_eq!(c.next_attempt_at, Some(t(4)));
    // Given up.
    let c = s
        .record_webhook_attempt(attempt(first.id, 4, Some(503)), AttemptEffect::GiveUp)
        .await
        .unwrap();
    assert_eq!(c.state, WebhookCallState::Failed);
    assert_eq!(c.next_attempt_at, None);
    assert_eq!(
        s.pending_webhook_call(a.id).await.unwrap().map(|c| c.id),
        Some(later.id)
    );
    // A failed replay changes nothing but the log; a retry no longer
    // applies to a call that is not pending.
    let c = s
        .record_webhook_attempt(attempt(first.id, 5, Some(500)), AttemptEffect::Keep)
        .await
        .unwrap();
    assert_eq!((c.state, c.attempts), (WebhookCallState::Failed, 4));
    let c = s
        .record_webhook_attempt(
            attempt(first.id, 6, Some(500)),
            AttemptEffect::RetryAt(t(9)),
        )
        .await
        .unwrap();
    assert_eq!(
        (c.state, c.next_attempt_at),
        (WebhookCallState::Failed, None)
    );
    // A success delivers, whatever the call was.
    let mut replay = attempt(first.id, 7, Some(204));
    replay.replay = true;
    let c = s
        .record_webhook_attempt(replay, AttemptEffect::Delivered)
        .await
        .unwrap();
    assert_eq!((c.state, c.attempts), (WebhookCallState::Delivered, 6));
    assert_eq!(c.first_attempt_at, Some(t(1)));
    let c = s
        .record_webhook_attempt(attempt(first.id, 8, Some(500)), AttemptEffect::GiveUp)
        .await
        .unwrap();
    assert_eq!(c.state, WebhookCallState::Delivered);

    let log = s.webhook_attempts(vec![later.id, first.id]).await.unwrap();
    assert_eq!(
        log.iter().map(|a| (a.n, a.status)).collect::<Vec<_>>(),
        vec![
            (1, Some(500)),
            (2, None),
            (3, Some(503)),
            (4, Some(500)),
            (5, Some(500)),
            (6, Some(204)),
            (7, Some(500)),
        ]
    );
    assert!(log.iter().all(|a| a.call_id == first.id));
    assert_eq!(
        log.iter().map(|a| a.replay).collect::<Vec<_>>(),
        [false, false, false, false, false, true, false]
    );
    assert_eq!(log[1].error.as_deref(), Some("timed out"));
    assert_eq!((log[0].at, log[0].duration_ms), (t(1), 12));

    let err = s
        .record_webhook_attempt(
            attempt(Uuid::now_v7(), 1, Some(200)),
            AttemptEffect::Delivered,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Missing("webhook call")),
        "{err:?}"
    );
}

pub async fn the_call_log_pages_newest_first(s: Arc<dyn Store>) {
    let a = s
        .insert_webhook_subscription(subscription("https://a.example/"), event(None, "x"))
        .await
        .unwrap();
    let b = s
        .insert_webhook_subscription(subscription("https://b.example/"), event(None, "x"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for seq in 1..=5 {
        let c = call(a.id, seq * 10, 0);
        ids.push(c.id);
        s.insert_webhook_call(c).await.unwrap();
    }
    s.insert_webhook_call(call(b.id, 10, 0)).await.unwrap();
    for id in [ids[0], ids[2]] {
        s.record_webhook_attempt(attempt(id, 1, Some(200)), AttemptEffect::Delivered)
            .await
            .unwrap();
    }
    let page = s.list_webhook_calls(a.id, None, 2, None).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.items.iter().map(|c| c.event_seq).collect::<Vec<_>>(),
        [50, 40]
    );
    assert_eq!(page.next, Some(40));
    let page = s
        .list_webhook_calls(a.id, None, 2, page.next)
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|c| c.event_seq).collect::<Vec<_>>(),
        [30, 20]
    );
    let page = s
        .list_webhook_calls(a.id, None, 2, page.next)
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|c| c.event_seq).collect::<Vec<_>>(),
        [10]
    );
    assert_eq!(page.next, None);
    let delivered = s
        .list_webhook_calls(a.id, Some(WebhookCallState::Delivered), 10, None)
        .await
        .unwrap();
    assert_eq!(delivered.total, 2);
    assert_eq!(
        delivered.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ids[2], ids[0]]
    );
    let none = s
        .list_webhook_calls(a.id, Some(WebhookCallState::Failed), 10, None)
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len(), none.next), (0, 0, None));
}

/// Two instances claiming at once take disjoint subscriptions, and
/// between them all that have work.
pub async fn webhook_claims_are_disjoint(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let mut all = Vec::new();
    for n in 0..20 {
        let s = a
            .insert_webhook_subscription(
                subscription(&format!("https://{n}.example/")),
                event(None, "x"),
            )
            .await
            .unwrap();
        all.push(s.id);
    }
    append(&*a, 1).await;
    let (x, y) = tokio::join!(
        a.claim_webhook_subscriptions(t(0), HOUR, 20),
        b.claim_webhook_subscriptions(t(0), HOUR, 20)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    let mut got: Vec<Uuid> = x.iter().chain(&y).map(|s| s.id).collect();
    got.sort();
    let before = got.len();
    got.dedup();
    assert_eq!(before, got.len(), "a subscription was claimed twice");
    all.sort();
    assert_eq!(got, all);
}
