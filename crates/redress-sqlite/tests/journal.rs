mod common;

use std::sync::Arc;

use common::{event, store};
use redress_store::journal::Verifier;
use redress_store::{Department, Store, StoreError};

async fn verify(s: &redress_sqlite::SqliteStore) -> u64 {
    let mut v = Verifier::default();
    let mut after = 0;
    loop {
        let batch = s.journal_after(after, 37).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for e in &batch {
            v.feed(e);
        }
        after = batch.last().unwrap().seq;
    }
    v.finish(s.journal_head().await.unwrap());
    assert_eq!(v.problem, None);
    v.checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_appends_make_one_chain() {
    let (s, _dir) = store();
    assert_eq!(s.journal_head().await.unwrap(), None);
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let mut e = event(None, "login");
                e.data = format!("{{\"i\":{i}}}");
                s.append_events(vec![e]).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let entries = s.journal_after(0, 1000).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    assert_eq!(verify(&s).await, 100);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn failed_jobs_in_a_batch_do_not_break_the_chain() {
    let (s, _dir) = store();
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let e = vec![event(None, "x"), event(None, "y")];
                match i % 3 {
                    0 => s.append_events_then_fail(e).await.map(|_| false),
                    1 => {
                        // Every other department insert is a duplicate.
                        let d = Department {
                            code: format!("d{}", i / 6),
                            name: "D".into(),
                            review: false,
                            head: None,
                        };
                        s.insert_department(d, e.into_iter().next().unwrap())
                            .await
                            .map(|_| true)
                    }
                    _ => s.append_events(e).await.map(|_| true),
                }
            })
        })
        .collect();
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Backend(m)) if m.contains("on purpose") => failed += 1,
            Err(StoreError::Duplicate("code")) => failed += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok + failed, 120);
    assert_eq!(failed, 40 + 20);
    // 40 appends of two events, 20 departments of one.
    assert_eq!(verify(&s).await, 40 * 2 + 20);
    assert_eq!(s.list_departments().await.unwrap().len(), 20);
    // The chain goes on after a restart, from the stored head.
    drop(s);
}

#[tokio::test(flavor = "multi_thread")]
async fn chain_survives_reopen() {
    let dir = common::TempDir::new();
    {
        let s = redress_sqlite::SqliteStore::open(&dir.db()).unwrap();
        s.append_events(vec![event(None, "a"), event(None, "b")])
            .await
            .unwrap();
        let _ = s.append_events_then_fail(vec![event(None, "lost")]).await;
    }
    let s = redress_sqlite::SqliteStore::open(&dir.db()).unwrap();
    s.migrate().await.unwrap();
    s.append_events(vec![event(None, "c")]).await.unwrap();
    assert_eq!(verify(&s).await, 3);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_for_case_in_order() {
    let (s, _dir) = store();
    let a = uuid::Uuid::now_v7();
    let b = uuid::Uuid::now_v7();
    s.append_events(vec![
        event(Some(a), "1"),
        event(Some(b), "2"),
        event(Some(a), "3"),
    ])
    .await
    .unwrap();
    let got = s.events_for_case(a).await.unwrap();
    assert_eq!(
        got.iter()
            .map(|e| (e.seq, e.kind.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "1"), (3, "3")]
    );
    assert_eq!(got[0].case_id, Some(a));
    assert_eq!(s.journal_after(1, 1).await.unwrap()[0].seq, 2);
}
