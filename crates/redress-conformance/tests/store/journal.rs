//! The journal: one hash chain, whatever runs concurrently or fails.

use std::sync::Arc;

use redress_store::{Department, Store, StoreError};

use crate::harness::{Db, event, verify};

pub async fn concurrent_appends_make_one_chain(s: Arc<dyn Store>) {
    assert_eq!(s.journal_head().await.unwrap(), None);
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
    assert_eq!(verify(&*s).await, 100);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 100);
}

pub async fn failed_jobs_in_a_batch_do_not_break_the_chain(db: Db) {
    let s = db.store();
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let (db, s) = (db.clone(), Arc::clone(&s));
            tokio::spawn(async move {
                let e = vec![event(None, "x"), event(None, "y")];
                match i % 3 {
                    0 => db.append_events_then_fail(e).await.map(|_| false),
                    1 => {
                        // Every other department insert is a duplicate.
                        let d = Department {
                            code: format!("d{}", i / 6),
                            name: "D".into(),
                            name_en: None,
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
            Err(StoreError::Backend(m)) if m.to_string().contains("on purpose") => failed += 1,
            Err(StoreError::Duplicate("code")) => failed += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok + failed, 120);
    assert_eq!(failed, 40 + 20);
    // 40 appends of two events, 20 departments of one.
    assert_eq!(verify(&*s).await, 40 * 2 + 20);
    assert_eq!(s.list_departments().await.unwrap().len(), 20);
    // The next append goes on from the head the failures left alone.
    s.append_events(vec![event(None, "after")]).await.unwrap();
    assert_eq!(verify(&*s).await, 40 * 2 + 20 + 1);
}

pub async fn events_for_case_in_order(s: Arc<dyn Store>) {
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
