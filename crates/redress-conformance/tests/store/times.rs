//! Times are kept to the microsecond, truncated: what is read back is what
//! the journal hashed. (PostgreSQL would round a bound nanosecond value;
//! `PgStore` truncates on purpose, as SQLite's text format does.)

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use redress_domain::Role;
use redress_store::{
    CaseFilter, CaseUpdate, IdempotencyRecord, InsertOutcome, Session, Store, User, Visibility,
};
use uuid::Uuid;

use crate::harness::{case, event, t, verify};

/// `t(0)` plus `ns` nanoseconds.
fn at(ns: i64) -> DateTime<Utc> {
    t(0) + Duration::nanoseconds(ns)
}

/// Truncated to the microsecond.
fn us(d: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(d.timestamp_micros()).unwrap()
}

pub async fn nanoseconds_are_truncated_to_microseconds(s: Arc<dyn Store>) {
    let mut row = case(1);
    // Before 2000, PostgreSQL's epoch, the driver alone would round toward
    // it (.123457): `PgStore` truncates first.
    row.created_at = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap()
        + Duration::nanoseconds(123_456_789);
    row.updated_at = at(999_999_999); // rounding would cross into the next second
    row.next_due_at = Some(at(60_000_000_500)); // rounding would give …000001
    row.sweep_at = Some(at(120_000_000_999));
    let mut events = vec![
        event(Some(row.id), "submitted"),
        event(Some(row.id), "noted"),
    ];
    events[0].at = at(1_000_000_999);
    events[1].at = row.created_at + Duration::nanoseconds(1_500);
    let idem = IdempotencyRecord {
        key: "k1".into(),
        request_hash: "h".into(),
        status: 201,
        body: "{}".into(),
        created_at: at(2_999_999_999),
    };
    let out = s
        .insert_case(row.clone(), events.clone(), Some(idem.clone()))
        .await
        .unwrap();
    let InsertOutcome::Inserted { seq } = out else {
        panic!("not inserted: {out:?}")
    };

    let mut want = row.clone();
    want.seq = seq;
    want.created_at = us(row.created_at);
    want.updated_at = us(row.updated_at);
    want.next_due_at = row.next_due_at.map(us);
    want.sweep_at = row.sweep_at.map(us);
    assert_ne!(want.created_at, row.created_at, "sub-microsecond times");
    assert_eq!(s.get_case(row.id).await.unwrap(), Some(want.clone()));
    let page = s
        .list_cases(&Visibility::All, &CaseFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(page.items[0].created_at, want.created_at);
    assert_eq!(page.items[0].next_due_at, want.next_due_at);
    assert_eq!(
        s.get_idempotency("k1").await.unwrap().unwrap().created_at,
        us(idem.created_at)
    );

    // The sweep compares stored instants: due at exactly that microsecond,
    // not one before.
    let sweep = want.sweep_at.unwrap();
    let before = sweep - Duration::microseconds(1);
    assert!(s.due_for_sweep(before, 10).await.unwrap().is_empty());
    assert_eq!(s.due_for_sweep(sweep, 10).await.unwrap(), vec![row.id]);
    assert_eq!(
        s.claim_due(sweep, std::time::Duration::from_secs(60), 10)
            .await
            .unwrap(),
        vec![row.id]
    );

    // Events: read back truncated, and the chain (hashed at microseconds)
    // verifies.
    let got = s.events_for_case(row.id).await.unwrap();
    assert_eq!(
        got.iter().map(|e| e.at).collect::<Vec<_>>(),
        events.iter().map(|e| us(e.at)).collect::<Vec<_>>()
    );
    assert_eq!(verify(&*s).await, 2);

    // Updates too.
    let mut changed = want.clone();
    changed.updated_at = at(5_999_999_999);
    changed.sweep_at = Some(at(7_000_000_001));
    let mut ev = event(Some(row.id), "changed");
    ev.at = at(5_999_999_999);
    s.update_cases(
        vec![CaseUpdate {
            row: changed.clone(),
            expected_version: 1,
        }],
        vec![ev],
    )
    .await
    .unwrap();
    let stored = s.get_case(row.id).await.unwrap().unwrap();
    assert_eq!(stored.updated_at, us(changed.updated_at));
    assert_eq!(stored.sweep_at, changed.sweep_at.map(us));
    assert_eq!(stored.version, 2);
    assert_eq!(verify(&*s).await, 3);

    // People and sessions.
    let u = User {
        must_change_password: false,
        id: Uuid::now_v7(),
        username: "alice".into(),
        display_name: "Alice".into(),
        password_hash: "$argon2id$...".into(),
        roles: vec![Role::Handler],
        departments: vec![],
        level: 1,
        active: true,
        created_at: at(8_000_000_999),
        email: None,
    };
    s.insert_user(u.clone(), event(None, "user_created"))
        .await
        .unwrap();
    assert_eq!(
        s.get_user(u.id).await.unwrap().unwrap().created_at,
        us(u.created_at)
    );
    let sess = Session {
        token_hash: "th".into(),
        user_id: u.id,
        created_at: at(9_000_000_999),
        expires_at: at(9_999_999_999),
    };
    s.insert_session(sess.clone()).await.unwrap();
    let got = s.get_session("th").await.unwrap().unwrap();
    assert_eq!(
        (got.created_at, got.expires_at),
        (us(sess.created_at), us(sess.expires_at))
    );
    assert_eq!(verify(&*s).await, 4);
}
