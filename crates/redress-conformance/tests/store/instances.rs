//! Several instances on one PostgreSQL database: two `PgStore`s opened on
//! the same schema share claims, the journal, versions and unique values.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use redress_postgres::PgStore;
use redress_store::{
    CaseFilter, CaseUpdate, IdempotencyRecord, InsertOutcome, Store, StoreError, Visibility,
};
use uuid::Uuid;

use crate::harness::{case, event, runtime, t, verify};

const HOUR: Duration = Duration::from_secs(3600);

/// Inserts `rows` through `s`, all at once.
async fn insert_all(s: &Arc<dyn Store>, rows: Vec<redress_store::CaseRow>) {
    let tasks: Vec<_> = rows
        .into_iter()
        .map(|r| {
            let s = Arc::clone(s);
            tokio::spawn(async move { s.insert_case(r, vec![], None).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

pub async fn concurrent_claims_are_disjoint(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let mut due = HashSet::new();
    let rows: Vec<_> = (0..320u32)
        .map(|n| {
            let mut r = case(n);
            if n < 300 {
                r.sweep_at = Some(t(i64::from(n % 50)));
                due.insert(r.id);
            } else {
                r.sweep_at = Some(t(10_000));
            }
            r
        })
        .collect();
    insert_all(&a, rows).await;

    // Eight claimers per instance, each claiming until nothing is left.
    let claimers: Vec<_> = (0..16)
        .map(|i| {
            let s = Arc::clone(if i % 2 == 0 { &a } else { &b });
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = s.claim_due(t(1_000), HOUR, 7).await.unwrap();
                    if got.is_empty() {
                        return (i % 2, mine);
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    let mut by_instance = [Vec::new(), Vec::new()];
    for c in claimers {
        let (which, ids) = c.await.unwrap();
        by_instance[which].extend(ids);
    }
    let all: Vec<Uuid> = by_instance.concat();
    let unique: HashSet<Uuid> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "a case was claimed twice");
    assert_eq!(unique, due, "every due case claimed, nothing else");
    assert!(
        by_instance.iter().all(|ids| !ids.is_empty()),
        "both instances claimed some: {} and {}",
        by_instance[0].len(),
        by_instance[1].len()
    );
    assert!(a.claim_due(t(1_000), HOUR, 100).await.unwrap().is_empty());
    assert!(b.claim_due(t(1_000), HOUR, 100).await.unwrap().is_empty());
}

pub async fn concurrent_writes_make_one_chain(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..200u32)
        .map(|n| {
            let s = Arc::clone(if n % 2 == 0 { &a } else { &b });
            tokio::spawn(async move {
                let row = case(n);
                let ev = vec![
                    event(Some(row.id), "submitted"),
                    event(Some(row.id), "routed"),
                ];
                s.insert_case(row, ev, None).await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        match task.await.unwrap().unwrap() {
            InsertOutcome::Inserted { seq } => seqs.push(seq),
            other => panic!("{other:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    // Both instances read the same chain, and its head is its last event.
    assert_eq!(verify(&*a).await, 400);
    assert_eq!(verify(&*b).await, 400);
    let last = a.journal_after(399, 10).await.unwrap();
    assert_eq!(last.len(), 1);
    let head = Some((last[0].seq, last[0].hash.clone()));
    assert_eq!(a.journal_head().await.unwrap(), head);
    assert_eq!(b.journal_head().await.unwrap(), head);
    // Every case has its two events, in order.
    let page = b
        .list_cases(&Visibility::All, &CaseFilter::default(), 500, None)
        .await
        .unwrap();
    assert_eq!(page.total, 200);
    for item in page.items.iter().take(20) {
        let kinds: Vec<_> = a
            .events_for_case(item.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["submitted", "routed"]);
    }
}

pub async fn one_version_wins_across_instances(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let rows: Vec<_> = (0..20u32).map(case).collect();
    insert_all(&a, rows.clone()).await;
    let races: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let (a, b) = (Arc::clone(&a), Arc::clone(&b));
            tokio::spawn(async move {
                let save = |s: Arc<dyn Store>, who: &'static str| {
                    let mut r = row.clone();
                    r.subject = who.into();
                    let ev = event(Some(r.id), who);
                    async move {
                        s.update_cases(
                            vec![CaseUpdate {
                                row: r,
                                expected_version: 1,
                            }],
                            vec![ev],
                        )
                        .await
                    }
                };
                let (ra, rb) = tokio::join!(save(a.clone(), "a"), save(b, "b"));
                (row.id, ra, rb, a)
            })
        })
        .collect();
    for race in races {
        let (id, ra, rb, s) = race.await.unwrap();
        let winner = match (ra, rb) {
            (Ok(()), Err(StoreError::VersionConflict)) => "a",
            (Err(StoreError::VersionConflict), Ok(())) => "b",
            other => panic!("expected one winner and one conflict: {other:?}"),
        };
        let stored = s.get_case(id).await.unwrap().unwrap();
        assert_eq!((stored.subject.as_str(), stored.version), (winner, 2));
        let kinds: Vec<_> = s
            .events_for_case(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, [winner], "only the winner's event");
    }
    assert_eq!(verify(&*b).await, 20);
}

pub async fn one_tracking_number_across_instances(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let races: Vec<_> = (0..20u32)
        .map(|n| {
            let (a, b) = (Arc::clone(&a), Arc::clone(&b));
            tokio::spawn(async move {
                let insert = |s: Arc<dyn Store>, who: &str| {
                    let row = case(n);
                    let id = row.id;
                    let ev = vec![event(Some(row.id), "submitted")];
                    let idem = IdempotencyRecord {
                        key: format!("{who}:{n}"),
                        request_hash: "h".into(),
                        status: 201,
                        body: "{}".into(),
                        created_at: t(0),
                    };
                    async move { (id, s.insert_case(row, ev, Some(idem)).await) }
                };
                let ((ida, ra), (idb, rb)) =
                    tokio::join!(insert(a.clone(), "a"), insert(b.clone(), "b"));
                (n, (ida, ra), (idb, rb), a)
            })
        })
        .collect();
    for race in races {
        let (n, (ida, ra), (idb, rb), s) = race.await.unwrap();
        let (winner, loser, lost_key) = match (ra, rb) {
            (Ok(InsertOutcome::Inserted { .. }), Err(StoreError::Duplicate("tracking_no"))) => {
                (ida, idb, format!("b:{n}"))
            }
            (Err(StoreError::Duplicate("tracking_no")), Ok(InsertOutcome::Inserted { .. })) => {
                (idb, ida, format!("a:{n}"))
            }
            other => panic!("expected one insert and one duplicate: {other:?}"),
        };
        let stored = s
            .get_case_by_tracking_no(&format!("TS{n:08}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.id, winner);
        assert_eq!(s.get_case(loser).await.unwrap(), None);
        assert!(s.events_for_case(loser).await.unwrap().is_empty());
        assert_eq!(s.get_idempotency(&lost_key).await.unwrap(), None);
    }
    assert_eq!(verify(&*a).await, 20);
}

pub async fn one_idempotency_key_across_instances(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    // A client re-sends a registration to another instance while the
    // first is still working on it: one case, and the first answer twice.
    let races: Vec<_> = (0..20u32)
        .map(|n| {
            let (a, b) = (Arc::clone(&a), Arc::clone(&b));
            tokio::spawn(async move {
                let insert = |s: Arc<dyn Store>, m: u32| {
                    let idem = IdempotencyRecord {
                        key: format!("apikey:1:{n}"),
                        request_hash: "h".into(),
                        status: 201,
                        body: format!("{{\"tracking_no\":\"TS{m:08}\"}}"),
                        created_at: t(0),
                    };
                    async move {
                        // As the application does: a taken tracking number
                        // (also how a deadlock between the two inserts is
                        // reported) is retried with a fresh one.
                        let mut attempt = 0;
                        loop {
                            let row = case(m + 10_000 * attempt);
                            let id = row.id;
                            let ev = vec![event(Some(row.id), "submitted")];
                            let out = s.insert_case(row, ev, Some(idem.clone())).await;
                            match out {
                                Err(StoreError::Duplicate("tracking_no")) if attempt < 3 => {
                                    attempt += 1;
                                }
                                out => break (id, idem, out),
                            }
                        }
                    }
                };
                let (ra, rb) = tokio::join!(insert(a.clone(), n), insert(b, 1000 + n));
                (ra, rb, a)
            })
        })
        .collect();
    for race in races {
        let ((ida, idem_a, ra), (idb, idem_b, rb), s) = race.await.unwrap();
        let (winner, loser, first) = match (ra.unwrap(), rb.unwrap()) {
            (InsertOutcome::Inserted { .. }, InsertOutcome::Replayed(first)) => {
                assert_eq!(first, idem_a);
                (ida, idb, idem_a)
            }
            (InsertOutcome::Replayed(first), InsertOutcome::Inserted { .. }) => {
                assert_eq!(first, idem_b);
                (idb, ida, idem_b)
            }
            other => panic!("expected one insert and one replay: {other:?}"),
        };
        assert!(s.get_case(winner).await.unwrap().is_some());
        assert_eq!(s.get_case(loser).await.unwrap(), None);
        assert!(s.events_for_case(loser).await.unwrap().is_empty());
        assert_eq!(s.get_idempotency(&first.key).await.unwrap(), Some(first));
    }
    let page = b
        .list_cases(&Visibility::All, &CaseFilter::default(), 100, None)
        .await
        .unwrap();
    assert_eq!(page.total, 20);
    assert_eq!(verify(&*a).await, 20);
}

/// Four instances starting at once on an empty schema: one migrates, the
/// others wait for it and find the schema done.
pub fn instances_migrate_a_fresh_schema_at_once(url: &str) {
    const N: usize = 4;
    let barrier = Barrier::new(N);
    let opened: Vec<Result<PgStore, StoreError>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..N)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    PgStore::open(url)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let stores: Vec<Arc<dyn Store>> = opened
        .into_iter()
        .map(|r| Arc::new(r.expect("every instance opens")) as Arc<dyn Store>)
        .collect();
    let rt = runtime();
    rt.block_on(async {
        for (n, s) in (0u32..).zip(&stores) {
            s.migrate().await.unwrap();
            let row = case(n);
            s.insert_case(row.clone(), vec![event(Some(row.id), "submitted")], None)
                .await
                .unwrap();
        }
        for s in &stores {
            let page = s
                .list_cases(&Visibility::All, &CaseFilter::default(), 10, None)
                .await
                .unwrap();
            assert_eq!(page.total, N as i64);
            assert_eq!(verify(&**s).await, N as u64);
        }
    });
    drop(rt);
    drop(stores);
}

/// Instances starting together seed the canned replies once.
pub async fn canned_replies_are_seeded_once_across_instances(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let seed = |s: Arc<dyn Store>| async move {
        let replies: Vec<_> = ["一", "二", "三"]
            .iter()
            .map(|title| redress_store::CannedReply {
                id: Uuid::now_v7(),
                title: (*title).into(),
                body: format!("{title}的内容"),
                locale: None,
                created_at: t(0),
                updated_at: t(0),
            })
            .collect();
        let events = replies
            .iter()
            .map(|_| event(None, "canned_reply_created"))
            .collect();
        s.seed_canned_replies(replies, events).await.unwrap()
    };
    let (x, y) = tokio::join!(seed(Arc::clone(&a)), seed(Arc::clone(&b)));
    assert!(x != y, "exactly one instance seeds: {x} {y}");
    assert_eq!(a.list_canned_replies().await.unwrap().len(), 3);
    assert_eq!(verify(a.as_ref()).await, 3);
}
