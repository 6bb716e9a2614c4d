//! Bulk copy (migrate-data) of the tables added after the first release:
//! held mail, notice templates and webhooks, exported in pages from one
//! store and imported into an empty one of the same backend.

use std::sync::Arc;
use std::time::Duration;

use redress_domain::Locale;
use redress_store::{
    AttemptEffect, HeldMail, HeldMailState, NoticeTemplateRow, Store, StoreError, WebhookAttempt,
    WebhookCall, WebhookCallState, WebhookSubscription,
};
use uuid::Uuid;

use crate::harness::{event, t};

const HOUR: Duration = Duration::from_secs(3600);

fn mail(key: &str, minutes: i64, tracking_no: Option<&str>, case: Option<Uuid>) -> HeldMail {
    HeldMail {
        id: Uuid::now_v7(),
        seq: 0,
        mail_key: key.into(),
        received_at: t(minutes),
        sender: format!("sealed-sender-{key}"),
        subject: format!("sealed-subject-{key}"),
        tracking_no: tracking_no.map(String::from),
        case_id: case,
        raw: format!("sealed-raw-{key}"),
        size: 1000 + minutes,
        state: HeldMailState::Held,
        settled_by: None,
        settled_at: None,
        attached_to: None,
    }
}

fn subscription(url: &str, active: bool) -> WebhookSubscription {
    WebhookSubscription {
        id: Uuid::now_v7(),
        url: url.into(),
        events: vec!["decided".into(), "closed".into()],
        secret: format!("sealed:v1:{url}"),
        active,
        cursor: 0,
        created_by: "staff:admin".into(),
        created_at: t(1),
        updated_at: t(2),
    }
}

fn call(sub: Uuid, seq: i64, next: Option<i64>) -> WebhookCall {
    WebhookCall {
        id: Uuid::now_v7(),
        subscription_id: sub,
        event_seq: seq,
        case_id: (seq % 2 == 0).then(Uuid::now_v7),
        event_kind: "decided".into(),
        state: WebhookCallState::Pending,
        attempts: 0,
        last_status: None,
        last_error: None,
        created_at: t(seq),
        first_attempt_at: None,
        last_attempt_at: None,
        next_attempt_at: next.map(t),
        payload: format!("{{\"seq\":{seq}}}"),
    }
}

fn attempt(call: Uuid, minute: i64, status: Option<i32>, replay: bool) -> WebhookAttempt {
    WebhookAttempt {
        call_id: call,
        n: 0,
        at: t(minute),
        status,
        error: status.is_none().then(|| "connection refused".to_string()),
        duration_ms: 10 + minute,
        replay,
    }
}

async fn all_held_mail(s: &dyn Store, page: usize) -> Vec<HeldMail> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = s.export_held_mail(after, page).await.unwrap();
        let Some(last) = batch.last() else { break };
        assert!(batch.len() <= page);
        after = last.seq;
        out.extend(batch);
    }
    out
}

async fn all_calls(s: &dyn Store, page: usize) -> Vec<WebhookCall> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let batch = s.export_webhook_calls(after, page).await.unwrap();
        let Some(last) = batch.last() else { break };
        assert!(batch.len() <= page);
        after = Some(last.id);
        out.extend(batch);
    }
    out
}

async fn all_attempts(s: &dyn Store, page: usize) -> Vec<WebhookAttempt> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let batch = s.export_webhook_attempts(after, page).await.unwrap();
        let Some(last) = batch.last() else { break };
        assert!(batch.len() <= page);
        after = Some((last.call_id, last.n));
        out.extend(batch);
    }
    out
}

/// Held mail (held and settled), a notice template, and subscriptions
/// with their calls and attempts, exported in pages of two and imported
/// into an empty store: every field arrives as it was, subscription
/// cursors included, without journal events and without the claims; mail
/// held afterwards continues the imported `seq`.
pub async fn held_mail_templates_and_webhooks_copy_verbatim(
    source: Arc<dyn Store>,
    target: Arc<dyn Store>,
) {
    let s = &*source;
    // Held mail in every state.
    let case = Uuid::now_v7();
    let held = mail("k-held", 1, Some("RD250301-AAAAAA"), Some(case));
    let attached = mail("k-attached", 2, Some("RD250301-BBBBBB"), None);
    let discarded = mail("k-discarded", 3, None, None);
    for m in [&held, &attached, &discarded] {
        s.hold_mail(m.clone(), event(None, "mail_held"))
            .await
            .unwrap();
    }
    assert!(
        s.settle_held_mail(
            attached.id,
            HeldMailState::Attached,
            "staff:bob".into(),
            t(10),
            Some(case),
            event(Some(case), "held_mail_attached"),
        )
        .await
        .unwrap()
    );
    assert!(
        s.settle_held_mail(
            discarded.id,
            HeldMailState::Discarded,
            "staff:eve".into(),
            t(11),
            None,
            event(None, "held_mail_discarded"),
        )
        .await
        .unwrap()
    );

    // A notice template in each language.
    let templates = [Locale::ZhCn, Locale::En].map(|locale| NoticeTemplateRow {
        kind: "result".into(),
        locale,
        subject: format!("{{{{ tracking_no }}}} {locale:?}"),
        body: "处理结果：{{ result }}\nline two".into(),
        sms: "{{ tracking_no }}".into(),
        updated_at: t(20),
        updated_by: "staff:admin".into(),
    });
    for tpl in &templates {
        s.put_notice_template(tpl.clone(), event(None, "notice_template_saved"))
            .await
            .unwrap();
    }

    // Two subscriptions, one inactive; calls in every state with attempts.
    let a = s
        .insert_webhook_subscription(
            subscription("https://a.example/hook", true),
            event(None, "webhook_subscribed"),
        )
        .await
        .unwrap();
    let b = s
        .insert_webhook_subscription(
            subscription("https://b.example/hook", false),
            event(None, "webhook_subscribed"),
        )
        .await
        .unwrap();
    let delivered = call(a.id, 101, Some(0));
    let failed = call(a.id, 102, Some(0));
    let pending = call(a.id, 104, Some(30));
    let other = call(b.id, 103, None);
    for c in [&delivered, &failed, &pending, &other] {
        s.insert_webhook_call(c.clone()).await.unwrap();
    }
    let effects = [
        (delivered.id, 21, Some(500), AttemptEffect::RetryAt(t(25))),
        (delivered.id, 25, Some(200), AttemptEffect::Delivered),
        (failed.id, 22, None, AttemptEffect::RetryAt(t(26))),
        (failed.id, 26, Some(503), AttemptEffect::GiveUp),
        (pending.id, 23, Some(502), AttemptEffect::RetryAt(t(30))),
    ];
    for (id, minute, status, effect) in effects {
        s.record_webhook_attempt(attempt(id, minute, status, false), effect)
            .await
            .unwrap();
    }
    // A replay of the failed call: an attempt that changes nothing.
    s.record_webhook_attempt(attempt(failed.id, 40, Some(500), true), AttemptEffect::Keep)
        .await
        .unwrap();
    // A cursor beyond the calls (events it did not want), and a live claim.
    s.advance_webhook_cursor(a.id, 110).await.unwrap();
    let claimed = s
        .claim_webhook_subscriptions(t(60), HOUR, 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|x| x.id).collect::<Vec<_>>(), [a.id]);

    // Export, in pages of two.
    let mails = all_held_mail(s, 2).await;
    let tpls = s.list_notice_templates().await.unwrap();
    let subs = s.list_webhook_subscriptions().await.unwrap();
    let calls = all_calls(s, 2).await;
    let attempts = all_attempts(s, 2).await;
    assert_eq!(mails.len(), 3);
    assert_eq!(
        mails.iter().map(|m| m.state).collect::<Vec<_>>(),
        [
            HeldMailState::Held,
            HeldMailState::Attached,
            HeldMailState::Discarded
        ]
    );
    for m in &mails {
        // Whole rows, the raw message included.
        assert_eq!(s.get_held_mail(m.id).await.unwrap().as_ref(), Some(m));
    }
    assert_eq!(tpls.len(), 2);
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].cursor, 110);
    assert_eq!(calls.len(), 4);
    assert!(calls.windows(2).all(|w| w[0].id < w[1].id), "by id");
    assert_eq!(attempts.len(), 6);
    assert!(
        attempts
            .windows(2)
            .all(|w| (w[0].call_id, w[0].n) < (w[1].call_id, w[1].n)),
        "by call and n"
    );
    for c in &calls {
        assert_eq!(s.get_webhook_call(c.id).await.unwrap().as_ref(), Some(c));
    }

    // Import into the empty target, batch by batch.
    assert!(target.is_empty().await.unwrap());
    target.import_notice_templates(tpls.clone()).await.unwrap();
    for page in mails.chunks(2) {
        target.import_held_mail(page.to_vec()).await.unwrap();
    }
    target
        .import_webhook_subscriptions(subs.clone())
        .await
        .unwrap();
    for page in calls.chunks(3) {
        target.import_webhook_calls(page.to_vec()).await.unwrap();
    }
    for page in attempts.chunks(4) {
        target.import_webhook_attempts(page.to_vec()).await.unwrap();
    }
    assert!(!target.is_empty().await.unwrap());

    // Every field, as it was.
    let ts = &*target;
    assert_eq!(all_held_mail(ts, 100).await, mails);
    for m in &mails {
        assert_eq!(ts.get_held_mail(m.id).await.unwrap().as_ref(), Some(m));
    }
    assert_eq!(ts.list_notice_templates().await.unwrap(), tpls);
    assert_eq!(ts.list_webhook_subscriptions().await.unwrap(), subs);
    for sub in &subs {
        assert_eq!(
            ts.get_webhook_subscription(sub.id).await.unwrap().as_ref(),
            Some(sub)
        );
    }
    assert_eq!(all_calls(ts, 100).await, calls);
    assert_eq!(all_attempts(ts, 100).await, attempts);
    let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
    assert_eq!(
        ts.webhook_attempts(ids.clone()).await.unwrap(),
        s.webhook_attempts(ids).await.unwrap()
    );
    assert_eq!(
        ts.pending_webhook_call(a.id).await.unwrap().map(|c| c.id),
        Some(pending.id)
    );
    let (from, to) = (
        s.table_counts().await.unwrap(),
        ts.table_counts().await.unwrap(),
    );
    assert_eq!(
        (
            to.held_mail,
            to.notice_templates,
            to.webhook_subscriptions,
            to.webhook_calls,
            to.webhook_attempts
        ),
        (3, 2, 2, 4, 6)
    );
    assert_eq!(
        (
            from.held_mail,
            from.notice_templates,
            from.webhook_subscriptions,
            from.webhook_calls,
            from.webhook_attempts
        ),
        (3, 2, 2, 4, 6)
    );
    // Imports journal nothing.
    assert_eq!(ts.journal_head().await.unwrap(), None);
    assert_eq!(to.events, 0);

    // The claim stayed behind: the source's subscription is held there, the
    // target's is free (its pending call is due).
    assert!(
        s.claim_webhook_subscriptions(t(60), HOUR, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let free = ts
        .claim_webhook_subscriptions(t(60), HOUR, 10)
        .await
        .unwrap();
    assert_eq!(free.iter().map(|x| x.id).collect::<Vec<_>>(), [a.id]);
    assert_eq!(free[0].cursor, 110);

    // Mail held after the copy comes after the copied.
    let max = mails.iter().map(|m| m.seq).max().unwrap();
    let later = mail("k-later", 50, None, None);
    ts.hold_mail(later.clone(), event(None, "mail_held"))
        .await
        .unwrap();
    let got = ts.get_held_mail(later.id).await.unwrap().unwrap();
    assert!(got.seq > max, "seq {} after {max}", got.seq);
    let listed = ts.list_held_mail(None, 1, None).await.unwrap();
    assert_eq!(listed.items[0].id, later.id, "newest first");

    // One transaction per import: a batch with an unknown subscription (or
    // call) writes nothing, and a row imported twice is refused.
    let stray = call(Uuid::now_v7(), 200, None);
    let err = ts
        .import_webhook_calls(vec![call(a.id, 201, None), stray])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("webhook")), "{err:?}");
    let stray = WebhookAttempt {
        n: 1,
        ..attempt(Uuid::now_v7(), 1, Some(200), false)
    };
    let err = ts.import_webhook_attempts(vec![stray]).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Missing("webhook call")),
        "{err:?}"
    );
    let err = ts
        .import_held_mail(vec![mails[0].clone()])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    let after = ts.table_counts().await.unwrap();
    assert_eq!(
        (after.webhook_calls, after.webhook_attempts, after.held_mail),
        (4, 6, 4)
    );
}
