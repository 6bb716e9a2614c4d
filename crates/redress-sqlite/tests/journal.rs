//! The journal across a reopen of the database file (SQLite only; the
//! journal's other tests run on every backend in `redress-conformance`).

mod common;

use common::event;
use redress_store::journal::Verifier;
use redress_store::prelude::*;
use redress_store::sql::Backend;

async fn verify(s: &redress_sqlite::SqliteStore) -> u64 {
    let mut v = Verifier::default();
    for e in &s.journal_after(0, 1000).await.unwrap() {
        v.feed(e);
    }
    v.finish(s.journal_head().await.unwrap());
    assert_eq!(v.problem, None);
    v.checked
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
async fn backup_copies_a_verifiable_snapshot() {
    let dir = common::TempDir::new();
    let s = redress_sqlite::SqliteStore::open(&dir.db()).unwrap();
    s.append_events(vec![event(None, "a"), event(None, "b")])
        .await
        .unwrap();
    let target = dir.db().with_file_name("copy.sqlite3");
    s.backup(&target).await.unwrap();
    assert!(
        s.backup(&target).await.is_err(),
        "an existing target is never overwritten"
    );
    s.append_events(vec![event(None, "after")]).await.unwrap();
    let other = dir.db().with_file_name("copy2.sqlite3");
    redress_sqlite::backup_file(&dir.db(), &other).unwrap();

    let copy = redress_sqlite::SqliteStore::open(&target).unwrap();
    assert_eq!(verify(&copy).await, 2, "the copy is the snapshot taken");
    let copy2 = redress_sqlite::SqliteStore::open(&other).unwrap();
    assert_eq!(verify(&copy2).await, 3);
}
